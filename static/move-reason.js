// The move page asks why when stock goes into quarantine (there it is on hand, never available).
//
// The page lists what a scan of each quarantine location of the warehouse reads (data-quarantine:
// codes and barcodes in lower case), so the question comes at once, with no round trip: when the
// to-location typed or scanned is one of them, the reason field (<template id="reason-field">) is
// put in the form; the scanner's Enter and Confirm wait until a reason is chosen; the field leaves
// with the move. Loaded after scan.js, which queues the move: this runs first on the to-location's
// Enter and on submit (capture), and after it once the form is cleared.
(function () {
  "use strict";
  var form = document.querySelector("form[data-scan-form][data-quarantine]");
  var template = document.getElementById("reason-field");
  if (!form || !template) return;

  var quarantine = [];
  try { quarantine = JSON.parse(form.getAttribute("data-quarantine")) || []; } catch (e) { quarantine = []; }
  var to = form.elements.to_location;
  var confirmButton = form.querySelector("button[type=submit]");

  function intoQuarantine() { return quarantine.indexOf(to.value.trim().toLowerCase()) !== -1; }
  function field() { return form.querySelector("[data-reason-field]"); }

  function show() {
    if (!field()) form.insertBefore(template.content.cloneNode(true), confirmButton);
    return form.elements.reason;
  }

  function hide() {
    var label = field();
    if (label) label.parentNode.removeChild(label);
  }

  function sync() { if (intoQuarantine()) show(); else hide(); }

  // A move into quarantine without a reason waits: the reason field is shown and focused.
  function waitForReason(event) {
    if (!intoQuarantine()) return;
    var reason = show();
    if (reason.value) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    to.dispatchEvent(new Event("change", { bubbles: true })); // scan.js checks the scan (its hint)
    reason.setAttribute("aria-invalid", "true");
    reason.focus();
    if (navigator.vibrate) {
      try { navigator.vibrate([120, 60, 120]); } catch (e) { /* not allowed: fine */ }
    }
  }

  to.addEventListener("input", sync);
  to.addEventListener("change", sync);
  to.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && to.value.trim()) waitForReason(event);
  });
  form.addEventListener("submit", waitForReason, true);

  form.addEventListener("change", function (event) {
    if (event.target.name === "reason" && event.target.value) {
      event.target.removeAttribute("aria-invalid");
      confirmButton.focus();
    }
  });

  // scan.js has queued the move (with its reason) and cleared the scans: the question goes too.
  function afterMove() { if (!to.value.trim()) hide(); }
  form.addEventListener("keydown", afterMove);
  form.addEventListener("submit", afterMove);
})();
