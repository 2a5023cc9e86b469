// The pick page (templates/picking/job.html), beside scan-queue.js: when the walk moves on to a
// stop at another location, the location and tote kept from the last stop are cleared and the
// location field takes the focus, so the picker's next scan (the new location's label) lands
// there. A field the picker is typing in is never touched. When the walk is done, the pick form
// goes away. The stop comes in two ways: out of band in a pick's answer (htmx:oob*Swap), or
// refreshed by its own request after a short (htmx:*Swap); both are handled alike.
(function () {
  "use strict";
  var before = null;

  function stopCard() { return document.querySelector("[data-testid=current-stop]"); }
  function isStop(event) { return event.detail && event.detail.target && event.detail.target.id === "stop"; }

  function beforeSwap(event) {
    if (!isStop(event)) return;
    var card = stopCard();
    before = card ? card.getAttribute("data-location") : null;
  }

  function afterSwap(event) {
    if (!isStop(event)) return;
    var card = stopCard();
    var form = document.getElementById("pick-form");
    if (!form) return;
    if (!card) { form.hidden = true; return; }
    var place = document.getElementById("location");
    var tote = document.getElementById("pick-tote");
    var now = card.getAttribute("data-location");
    if (!place || now === before || document.activeElement === place) return;
    before = now; // an out-of-band swap reports once per element it put in: act once
    place.value = "";
    if (tote && document.activeElement !== tote) tote.value = "";
    place.focus();
  }

  document.addEventListener("htmx:beforeSwap", beforeSwap);
  document.addEventListener("htmx:oobBeforeSwap", beforeSwap);
  document.addEventListener("htmx:afterSwap", afterSwap);
  document.addEventListener("htmx:oobAfterSwap", afterSwap);
})();
