// Shared behaviour for every page: the service worker, and clearing stale messages.
(function () {
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }
  // A network failure during an htmx request must be visible, not silent.
  document.addEventListener("htmx:sendError", function () {
    var flash = document.getElementById("flash");
    if (flash) flash.innerHTML = '<div class="flash flash-error" data-testid="flash-error">No connection: nothing was saved. Try again.</div>';
  });
})();
