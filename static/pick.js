// The pick page (templates/picking/job.html), beside scan-queue.js: when the walk moves on to a
// stop at another location, the location and tote kept from the last stop are cleared and the
// location field takes the focus, so the picker's next scan (the new location's label) lands
// there. A field the picker is typing in is never touched. When the walk is done, the pick form
// goes away.
(function () {
  "use strict";
  var before = null;

  function stopCard() { return document.querySelector("[data-testid=current-stop]"); }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "stop") {
      var card = stopCard();
      before = card ? card.getAttribute("data-location") : null;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "stop") return;
    var card = stopCard();
    var form = document.getElementById("pick-form");
    if (!form) return;
    if (!card) { form.hidden = true; return; }
    var place = document.getElementById("location");
    var tote = document.getElementById("pick-tote");
    var now = card.getAttribute("data-location");
    if (!place || now === before || document.activeElement === place) return;
    place.value = "";
    if (tote && document.activeElement !== tote) tote.value = "";
    place.focus();
  });
})();
