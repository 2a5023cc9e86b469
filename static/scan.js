// Scanning forms (move stock): built for a handheld scanner that types fast and ends each scan with Enter.
//
// - Enter moves focus to the next field at once, in the same keystroke, so a fast burst of scans
//   lands in the right fields; no round trip sits between two scans.
// - Each scan is checked by a tiny request in the background (the location's code, the product's
//   name); a pending check never blocks typing, and a late answer for an old scan is ignored.
// - Confirming queues the move and clears the form for the next one at once; queued moves are sent
//   one at a time, in order, and never dropped. Every answer shows in #flash and in the log.
(function () {
  "use strict";
  var form = document.querySelector("form[data-scan-form]");
  if (!form) return;

  var checkUrl = form.getAttribute("data-check-url");
  var LONGEST_CODE = Number(form.getAttribute("data-longest-code")) || 128; // app.bounds.BARCODE_MAX
  var flash = document.getElementById("flash");
  var log = document.getElementById("move-log");
  var status = document.getElementById("scan-status");
  var first = form.querySelector("input.scan");
  var queue = [];
  var sending = false;
  var generation = 0; // bumped when the form is cleared, so late checks for old scans are ignored

  function csrfToken() {
    var field = form.querySelector("input[name=csrf_token]");
    if (field) return field.value;
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function buzz(ok) {
    if (navigator.vibrate) {
      try { navigator.vibrate(ok ? 60 : [120, 60, 120]); } catch (e) { /* not allowed: fine */ }
    }
  }

  function hintFor(field) { return document.getElementById(field.id + "-hint"); }

  function setHint(field, text, kind) {
    var hint = hintFor(field);
    if (!hint) return;
    hint.textContent = text;
    hint.className = "scan-hint" + (kind ? " scan-hint-" + kind : "");
    if (kind === "error") field.setAttribute("aria-invalid", "true"); else field.removeAttribute("aria-invalid");
  }

  function check(field) {
    var kind = field.getAttribute("data-check");
    var code = field.value.trim();
    if (!kind || !checkUrl || !code || field._checked === code) return;
    field._checked = code;
    var ticket = (field._ticket = (field._ticket || 0) + 1);
    var asked = generation;
    if (code.length > LONGEST_CODE) {  // no code or barcode is this long: say so without asking
      setHint(field, "That scan is " + code.length + " characters long: too long for a code or barcode", "error");
      buzz(false);
      return;
    }
    setHint(field, "Checking " + (code.length > 40 ? code.slice(0, 39) + "…" : code) + "…", "pending");
    fetch(checkUrl + "?kind=" + encodeURIComponent(kind) + "&code=" + encodeURIComponent(code), {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (field._ticket !== ticket || asked !== generation) return; // a newer scan took its place
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

  function nextField(field) {
    var name = field.getAttribute("data-next");
    return name ? form.elements[name] : null;
  }

  function focusField(field) {
    field.focus();
    if (field.select) field.select();
  }

  function missing() {
    var scans = form.querySelectorAll("input.scan");
    for (var i = 0; i < scans.length; i++) {
      if (!scans[i].value.trim()) return scans[i];
    }
    return null;
  }

  function showStatus() {
    if (!status) return;
    status.textContent = queue.length ? "Sending " + queue.length + " move" + (queue.length > 1 ? "s" : "") + "…" : "";
  }

  function record(html, ok) {
    if (flash) flash.innerHTML = html;
    if (log) {
      var item = document.createElement("li");
      item.className = ok ? "ok" : "error";
      item.innerHTML = html;
      log.insertBefore(item, log.firstChild);
    }
    buzz(ok);
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function send() {
    if (sending || !queue.length) { showStatus(); return; }
    sending = true;
    showStatus();
    var move = queue[0];
    fetch(form.action, {
      method: "POST",
      body: move.data,
      credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRFToken": csrfToken() },
    })
      .then(function (response) {
        return response.text().then(function (html) { record(html, response.ok); });
      })
      .catch(function () {
        record('<div class="flash flash-error" data-testid="flash-error">No connection: the move of ' +
          escapeHtml(move.summary) + " was not saved. Scan it again.</div>", false);
      })
      .then(function () {
        queue.shift();
        sending = false;
        send();
      });
  }

  function clearForm() {
    generation += 1;
    var scans = form.querySelectorAll("input.scan");
    for (var i = 0; i < scans.length; i++) {
      if (scans[i].name === "quantity") scans[i].value = "1";
      else scans[i].value = "";
      setHint(scans[i], "", "");
      scans[i]._checked = null;
    }
    first.focus();
  }

  function confirmMove() {
    var empty = missing();
    if (empty) {
      setHint(empty, "Scan this first", "error");
      buzz(false);
      focusField(empty);
      return;
    }
    var data = new FormData(form);
    var summary = data.get("quantity") + " × " + data.get("product") + " " + data.get("from_location") + " → " + data.get("to_location");
    queue.push({ data: data, summary: summary });
    clearForm();
    send();
  }

  form.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
    event.preventDefault();
    var field = event.target;
    if (!field.value.trim()) return; // an empty Enter does nothing: wait for the scan
    check(field);
    var next = nextField(field);
    if (next) focusField(next);
    else confirmMove();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    confirmMove();
  });

  // Typing by hand and tapping elsewhere still checks the scan.
  form.addEventListener("change", function (event) {
    if (event.target.getAttribute && event.target.getAttribute("data-check")) check(event.target);
  });

  // Big +/- buttons: change the quantity without taking focus from the scan field.
  var quantity = form.elements.quantity;
  Array.prototype.forEach.call(form.querySelectorAll("[data-step]"), function (button) {
    button.addEventListener("mousedown", function (event) { event.preventDefault(); });
    button.addEventListener("click", function () {
      var value = parseInt(quantity.value, 10);
      if (isNaN(value)) value = 1;
      quantity.value = Math.max(1, value + parseInt(button.getAttribute("data-step"), 10));
    });
  });
})();
