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
  // A server error is shown too: the server's own words when it sent them for #flash, else a sentence.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status < 500) return;
    if (xhr.getResponseHeader("HX-Retarget") === "#flash") {
      event.detail.shouldSwap = true;
      return;
    }
    var flash = document.getElementById("flash");
    if (flash) flash.innerHTML = '<div class="flash flash-error" data-testid="flash-error">The server could not answer (HTTP ' +
      xhr.status + '). Check whether your change was saved before you try again.</div>';
  });
})();
