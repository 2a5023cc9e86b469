// The offline queue in the header (templates/partials/offline_status.html), talking to the service
// worker (static/sw.js): how many scans wait on this phone, the conflicts the server reported when
// they were sent (each with the server's words and a dismiss), and "back online: send them now".
//
// The scans and conflicts live in IndexedDB (database wms-offline, stores queue and conflicts),
// written by the service worker; this page reads them, and deletes a conflict the picker dismisses.
// Each outcome of a stored scan is also dispatched on the document as the event
// "wms:offline-result" ({clientId, result: applied | already | conflict, message}), for a scan
// page's log to mark its queued line.
(function () {
  "use strict";
  var DB_NAME = "wms-offline";
  var DB_VERSION = 1;
  var root = document.getElementById("offline-panel");
  if (!root || !("indexedDB" in window)) return;

  var queueButton = document.querySelector("[data-testid=offline-queue]");
  var conflictButton = document.querySelector("[data-testid=offline-conflicts-button]");
  var queueList = root.querySelector("[data-testid=offline-queue-list]");
  var conflictList = root.querySelector("[data-testid=offline-conflicts]");
  var conflictBlock = root.querySelector("[data-offline-conflicts-block]");
  var state = root.querySelector("[data-offline-state]");
  var template = document.getElementById("offline-conflict-item");
  var lastNews = "";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("queue")) db.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
        if (!db.objectStoreNames.contains("conflicts")) db.createObjectStore("conflicts", { keyPath: "seq", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(storeName, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var request = work(tx.objectStore(storeName));
        var result;
        if (request) request.onsuccess = function () { result = request.result; };
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function all(storeName) { return run(storeName, "readonly", function (s) { return s.getAll(); }); }

  function clock(time) {
    var at = new Date(time);
    return String(at.getHours()).padStart(2, "0") + ":" + String(at.getMinutes()).padStart(2, "0");
  }

  function plural(n, one, many) { return n === 1 ? one : many; }

  // (hidden alone is not enough: a stylesheet's display for buttons wins over it)
  function show(element, visible) {
    element.hidden = !visible;
    element.style.display = visible ? "" : "none";
  }

  function render() {
    return Promise.all([all("queue"), all("conflicts")]).then(function (found) {
      var queued = found[0] || [];
      var conflicts = found[1] || [];
      show(queueButton, queued.length > 0);
      queueButton.querySelector("[data-offline-count]").textContent = queued.length;
      queueButton.querySelector("[data-offline-noun]").textContent = plural(queued.length, "scan saved offline", "scans saved offline");
      queueButton.setAttribute("aria-label", queued.length + " " + plural(queued.length, "scan", "scans") +
        " saved on this phone, to be sent when back online");
      show(conflictButton, conflicts.length > 0);
      conflictButton.querySelector("[data-conflict-count]").textContent = conflicts.length;
      conflictButton.querySelector("[data-conflict-noun]").textContent = plural(conflicts.length, "conflict", "conflicts");

      queueList.textContent = "";
      queued.forEach(function (entry) {
        var item = document.createElement("li");
        item.setAttribute("data-testid", "offline-queued");
        item.textContent = clock(entry.savedAt) + " · " + (entry.summary || entry.url);
        queueList.appendChild(item);
      });
      show(conflictBlock, conflicts.length > 0);
      conflictList.textContent = "";
      conflicts.forEach(function (conflict) {
        var item = template.content.firstElementChild.cloneNode(true);
        item.setAttribute("data-client-id", conflict.clientId || "");
        item.querySelector("[data-conflict-message]").textContent = conflict.message || ("Refused (HTTP " + conflict.status + ")");
        item.querySelector("[data-conflict-summary]").textContent = "Scanned " + clock(conflict.savedAt) + " offline: " + conflict.summary;
        item.querySelector("[data-conflict-dismiss]").addEventListener("click", function () { dismiss(conflict.seq); });
        conflictList.appendChild(item);
      });
      var words = queued.length ? queued.length + " " + plural(queued.length, "scan waits", "scans wait") +
        " on this phone" + (navigator.onLine ? ": sending…" : ": sent when you are back online.") : "Nothing waits to be sent.";
      state.textContent = lastNews ? words + " " + lastNews : words;
      if (!queued.length && !conflicts.length && !root.hidden) close();
    }).catch(function () { /* IndexedDB unavailable (private mode): nothing to show */ });
  }

  function dismiss(seq) {
    run("conflicts", "readwrite", function (s) { return s.delete(seq); }).then(render);
  }

  var opener = null;

  function open(from) {
    opener = from || null;
    show(root, true);
    [queueButton, conflictButton].forEach(function (b) { b.setAttribute("aria-expanded", "true"); });
    var focus = root.querySelector("button");
    if (focus) focus.focus();
  }

  function close() {
    var wasOpen = !root.hidden;
    show(root, false);
    [queueButton, conflictButton].forEach(function (b) { b.setAttribute("aria-expanded", "false"); });
    if (wasOpen && opener && !opener.hidden) opener.focus(); // focus back where the picker was
    opener = null;
  }

  function tellWorker(type) {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) registration.active.postMessage({ source: "wms-offline", type: type });
    });
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return null; }
  }

  [queueButton, conflictButton].forEach(function (button) {
    button.addEventListener("click", function () { if (root.hidden) open(button); else close(); });
  });
  root.querySelector("[data-offline-close]").addEventListener("click", close);
  root.querySelector("[data-offline-send]").addEventListener("click", function () { tellWorker("replay"); });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape" && !root.hidden) close(); });

  window.addEventListener("online", function () { tellWorker("online"); render(); });
  window.addEventListener("offline", render);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data.source !== "wms-offline") return;
      if (data.type === "csrf-token?" && event.ports && event.ports[0]) {
        event.ports[0].postMessage({ csrfToken: csrfToken() });
        return;
      }
      if (data.type === "replayed") {
        lastNews = data.result === "conflict" ? "A saved scan was refused: see Conflicts." : "";
        document.dispatchEvent(new CustomEvent("wms:offline-result", {
          detail: { clientId: data.clientId, result: data.result, status: data.status, message: data.message },
        }));
      } else if (data.type === "signed-out") {
        lastNews = "Sign in again to send them.";
      } else if (data.type === "server-error") {
        lastNews = "The server could not take one just now; it is tried again.";
      } else if (data.type === "drained") {
        lastNews = "";
      }
      render();
    });
  }

  render().then(function () {
    if (navigator.onLine && !queueButton.hidden) tellWorker("replay");
  });
})();
