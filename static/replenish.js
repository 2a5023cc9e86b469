// A replenishment task's scan form: built, like the move page (scan.js), for a handheld scanner that
// types fast and ends each scan with Enter.
//
// - Enter moves focus to the next field at once, in the same keystroke, so a burst of scans lands in
//   the right fields; Enter in the last field confirms (htmx posts the form; the server answers with
//   the task card: the error under its field with the scans kept, or the task done and what is next).
// - Each scan is checked by a tiny request in the background (is it this task's product and pick
//   face?); a pending check never blocks typing, and a late answer for an old scan is ignored.
// The handlers sit on the document, so they serve the form htmx swaps in after each answer.
(function () {
  "use strict";

  function formOf(element) { return element && element.closest ? element.closest("form[data-task-form]") : null; }

  function buzz(ok) {
    if (navigator.vibrate) {
      try { navigator.vibrate(ok ? 60 : [120, 60, 120]); } catch (e) { /* not allowed: fine */ }
    }
  }

  function setHint(field, text, kind) {
    var hint = document.getElementById(field.id + "-hint");
    if (!hint) return;
    hint.textContent = text;
    hint.className = "scan-hint" + (kind ? " scan-hint-" + kind : "");
  }

  function check(form, field) {
    var kind = field.getAttribute("data-check");
    var url = form.getAttribute("data-check-url");
    var code = field.value.trim();
    var longest = Number(form.getAttribute("data-longest-code")) || 128;
    if (!kind || !url || !code || field._checked === code) return;
    field._checked = code;
    var ticket = (field._ticket = (field._ticket || 0) + 1);
    if (code.length > longest) {
      setHint(field, "That scan is " + code.length + " characters long: too long for a code or barcode", "error");
      buzz(false);
      return;
    }
    setHint(field, "Checking " + (code.length > 40 ? code.slice(0, 39) + "…" : code) + "…", "pending");
    fetch(url + "?kind=" + encodeURIComponent(kind) + "&code=" + encodeURIComponent(code), {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (field._ticket !== ticket || !field.isConnected) return;
        if (result.ok) setHint(field, result.body.label, "ok");
        else {
          setHint(field, (result.body.error && result.body.error.message) || "not found", "error");
          buzz(false);
        }
      })
      .catch(function () { if (field._ticket === ticket) setHint(field, "", ""); });
  }

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    var form = formOf(field);
    if (!form || event.key !== "Enter" || field.tagName !== "INPUT") return;
    event.preventDefault();
    if (!field.value.trim()) return; // an empty Enter does nothing: wait for the scan
    check(form, field);
    var name = field.getAttribute("data-next");
    var next = name ? form.elements[name] : null;
    if (next) {
      next.focus();
      if (next.select) next.select();
    } else {
      form.requestSubmit();
    }
  });

  document.addEventListener("change", function (event) {
    var form = formOf(event.target);
    if (form && event.target.getAttribute("data-check")) check(form, event.target);
  });

  // After an answer, the field the server marked (the one at fault, else the first) takes the focus.
  document.addEventListener("htmx:afterSwap", function () {
    var wanted = document.querySelector("form[data-task-form] [autofocus]");
    if (wanted) {
      wanted.focus();
      if (wanted.select) wanted.select();
    }
  });
})();
