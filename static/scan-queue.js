// Scan pages of the inbound work (receive, put away): the move page's patterns (static/scan.js)
// for forms that htmx sends.
//
// - Enter in a field with data-next moves focus to that field at once, in the same keystroke, so
//   a scanner's fast burst lands in the right fields; no round trip sits between two scans.
// - Fields with data-check ask the form's data-check-url what a scan names (a tiny GET); a late
//   answer for an old scan is ignored.
// - A form marked data-scan-queue is sent by this script: its values are taken the moment it is
//   submitted (Enter in its last field, or its button), the fields are cleared for the next scan
//   at once (each to its data-reset value; data-keep fields stay), and the submissions are sent
//   one at a time, in order, never dropped, through htmx (hx-post, hx-target, hx-swap and
//   hx-include of the form apply, read when each is sent).
// - A form marked data-after-queue (Confirm) waits until the queue is empty before it is sent.
(function () {
  "use strict";
  var queue = [];
  var sending = false;
  var deferred = null; // a data-after-queue form waiting for the queue
  var generation = 0;
  var LONGEST_CODE = 128;

  function buzz(ok) {
    if (navigator.vibrate) {
      try { navigator.vibrate(ok ? 60 : [120, 60, 120]); } catch (e) { /* not allowed: fine */ }
    }
  }

  function byName(name) { return document.getElementById(name) || document.querySelector('[name="' + name + '"]'); }

  function setHint(field, text, kind) {
    var hint = document.getElementById(field.id + "-hint");
    if (!hint) return;
    hint.textContent = text;
    hint.className = "scan-hint" + (kind ? " scan-hint-" + kind : "");
    if (kind === "error") field.setAttribute("aria-invalid", "true"); else field.removeAttribute("aria-invalid");
  }

  function check(field) {
    var url = field.getAttribute("data-check-url");
    var code = field.value.trim();
    if (!url || !code || field._checked === code) return;
    field._checked = code;
    var ticket = (field._ticket = (field._ticket || 0) + 1);
    var asked = generation;
    if (code.length > LONGEST_CODE) {
      setHint(field, "That scan is " + code.length + " characters long: too long for a code or barcode", "error");
      buzz(false);
      return;
    }
    setHint(field, "Checking " + (code.length > 40 ? code.slice(0, 39) + "…" : code) + "…", "pending");
    fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "code=" + encodeURIComponent(code), {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (field._ticket !== ticket || asked !== generation) return;
        if (result.ok) {
          setHint(field, result.body.label, "ok");
        } else {
          setHint(field, (result.body.error && result.body.error.message) || "not found", "error");
          buzz(false);
        }
      })
      .catch(function () {
        if (field._ticket === ticket && asked === generation) setHint(field, "", "");
      });
  }

  function focusField(field) {
    if (!field) return;
    field.focus();
    if (field.select) field.select();
  }

  function showStatus() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-queue-status]"), function (status) {
      status.textContent = queue.length ? "Sending " + queue.length + " scan" + (queue.length > 1 ? "s" : "") + "…" : "";
    });
  }

  function send() {
    if (sending) return;
    if (!queue.length) {
      showStatus();
      if (deferred) {
        var form = deferred;
        deferred = null;
        form._released = true;
        form.requestSubmit();
      }
      return;
    }
    sending = true;
    showStatus();
    var item = queue[0];
    var done = function () {
      queue.shift();
      sending = false;
      send();
    };
    window.htmx.ajax("POST", item.form.getAttribute("hx-post"), { source: item.form, values: item.values })
      .then(done, function () {
        var log = document.querySelector(item.form.getAttribute("hx-target") || "#flash");
        if (log) {
          var line = document.createElement("li");
          line.className = "error";
          line.innerHTML = '<div class="flash flash-error" data-testid="flash-error"></div>';
          line.firstChild.textContent = "No connection: " + item.summary + " was not saved. Scan it again.";
          log.insertBefore(line, log.firstChild);
        }
        buzz(false);
        done();
      });
  }

  function queueForm(form) {
    var values = {};
    var parts = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "button") return;
      values[el.name] = el.value;
      if (el.type !== "hidden" && el.value.trim()) parts.push(el.value.trim());
    });
    queue.push({ form: form, values: values, summary: parts.join(" ") || "a blank scan" });
    generation += 1;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.hasAttribute("data-keep") || el.type === "submit") return;
      el.value = el.getAttribute("data-reset") || "";
      el._checked = null;
      setHint(el, "", "");
    });
    focusField(form.querySelector("[data-first]") || form.querySelector("input.scan"));
    send();
  }

  // Answers swapped in by htmx: a good one buzzes once, a refusal twice. A refusal is a 4xx that
  // htmx swaps in like any answer (base.html's responseHandling), so its status says which.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-scan-queue]");
    var xhr = event.detail.xhr;
    if (form && xhr) buzz(xhr.status >= 200 && xhr.status < 400);
  });

  // Submitting a queued form (its button, or Enter in its last field) queues it instead; a
  // data-after-queue form waits for the queue. Capturing on the document runs before htmx's own
  // listener on the form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-scan-queue")) {
      event.preventDefault();
      event.stopPropagation();
      queueForm(form);
    } else if (form.hasAttribute("data-after-queue") && (queue.length || sending) && !form._released) {
      event.preventDefault();
      event.stopPropagation();
      deferred = form;
      showStatus();
    } else {
      form._released = false;
    }
  }, true);

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || field.tagName !== "INPUT") return;
    var next = field.getAttribute("data-next");
    var form = field.form;
    var queued = form && form.hasAttribute("data-scan-queue") && form.contains(field);
    if (!next && !queued) return;
    event.preventDefault();
    if (!field.value.trim()) return; // an empty Enter does nothing: wait for the scan
    check(field);
    if (next) focusField(byName(next));
    else queueForm(form);
  });

  // Typing by hand and tapping elsewhere still checks the scan.
  document.addEventListener("change", function (event) {
    if (event.target.getAttribute && event.target.getAttribute("data-check-url")) check(event.target);
  });

  // Big +/- buttons: change a quantity without taking focus from the scan field.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("[data-step]")) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-step]");
    if (!button) return;
    var field = byName(button.getAttribute("data-for") || "quantity");
    var value = parseInt(field.value, 10);
    if (isNaN(value)) value = 1;
    field.value = Math.max(1, value + parseInt(button.getAttribute("data-step"), 10));
  });
})();
