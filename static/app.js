// Shared behaviour for every page: the service worker, clearing stale messages, the menu, the
// browser's time zone.
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

  // The browser's time zone: kept in a cookie, so that pages of a warehouse whose zone no manager
  // has set yet show this device's local time (app/web/site.py); offered on the warehouses page.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  if (!/^[A-Za-z0-9_\/+-]{1,64}$/.test(zone)) zone = "";  // an IANA name needs no escaping in a cookie
  if (zone && ("; " + document.cookie + ";").indexOf("; tz=" + zone + ";") === -1) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
  }
  function offerZone(root) {
    if (!zone) return;
    (root || document).querySelectorAll("input[data-browser-time-zone]").forEach(function (input) {
      if (input.value) return;
      input.value = zone;
      var hint = input.parentElement && input.parentElement.querySelector("[data-time-zone-hint]");
      if (hint) hint.textContent = "Not set yet: this is your browser's zone. Save it to show times in " + zone + " time.";
    });
  }

  // The menu (a <details> in the header): open as a side bar on a wide screen; on a phone it closes
  // on Escape (focus back on its button), on a tap outside it, and when a link in it is followed.
  var wide = window.matchMedia ? window.matchMedia("(min-width: 1024px)") : null;
  function menus() { return document.querySelectorAll("details[data-menu]"); }
  function fitMenu() {
    menus().forEach(function (menu) {
      if (wide && wide.matches) menu.open = true;
      else if (menu.dataset.wasWide) menu.open = false;
      menu.dataset.wasWide = wide && wide.matches ? "1" : "";
    });
  }
  if (wide) {
    if (wide.addEventListener) wide.addEventListener("change", fitMenu);
    else if (wide.addListener) wide.addListener(fitMenu);
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || (wide && wide.matches)) return;
    menus().forEach(function (menu) {
      if (!menu.open) return;
      menu.open = false;
      var button = menu.querySelector("summary");
      if (button) button.focus();
    });
  });
  document.addEventListener("click", function (event) {
    if (wide && wide.matches) return;
    menus().forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
  });

  function ready() { fitMenu(); offerZone(document); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  document.addEventListener("htmx:afterSwap", function (event) { offerZone(event.target); });
})();
