// The service worker: the app installs on a phone and starts fast, pages already opened can be read
// offline, and scans made offline are kept on the phone and sent when it is back online.
//
// - Static assets: from the cache first (the cache's name changes with this file).
// - Pages: always from the network while online (stock must never show stale); a copy of each page
//   opened is kept, and shown only when the network cannot be reached, with a banner that says it
//   is a saved copy and from when. A page sent with Cache-Control: no-store is never kept; signing
//   out forgets the copies.
// - Scan actions (a POST carrying X-Client-Id, the id the page made when the scan was captured):
//   when the server cannot be reached the scan is stored in IndexedDB and answered 202 with
//   X-Offline-Queued: 1 and a flash the scanner shows as "queued". Stored scans are sent again in
//   order, one at a time, with their own X-Client-Id (the server applies an id once), when the page
//   says it is back online, when Background Sync fires, when this worker starts and after any
//   request that reached the server. A new scan waits behind the stored ones, so order holds.
//   Each outcome is posted to the pages: applied, already saved, or a conflict in the server's
//   words (kept until the picker dismisses it).
"use strict";

const VERSION = "v2";
const STATIC_CACHE = "wms-static-" + VERSION;
const PAGES_CACHE = "wms-pages-" + VERSION;
// Precached at install. /sw.js is served by app/web/pwa.py, which puts in the URLs the pages use
// (each with its ?v= version, so the install reads them from the browser's cache instead of
// downloading them a second time) and names STATIC_CACHE after them: a deploy that changes an asset
// is a new cache, and the old one is deleted when this worker activates.
const ASSETS = [
  "/static/app.css",
  "/static/app.js",
  "/static/offline.js",
  "/static/scanner.js",
  "/static/scanner.css",
  "/static/vendor/htmx-2.0.11.min.js",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
];
const PAGES_KEPT = 60; // copies of pages kept for reading offline (the oldest go first)
const SERVER_ERROR_TRIES = 3; // a stored scan the server fails on (5xx) this often becomes a conflict

const DB_NAME = "wms-offline";
const DB_VERSION = 1;
const QUEUE = "queue"; // {seq, clientId, url, method, headers, entries | body, contentType, summary, savedAt, tries}
const CONFLICTS = "conflicts"; // {seq, clientId, url, summary, status, message, savedAt, at}

// Scans that only check (the receive and pack pages add what the server answers to the receipt or
// the box on the page): kept offline, they would be missing from it when it is confirmed. They go
// to the network untouched, so offline they fail as "no connection" and are scanned again.
const CHECKS_ONLY = [/^\/receiving\/po\/.+\/scan$/, /^\/packing\/.+\/scan$/];

const OFFLINE_FLASH = '<div class="flash flash-info" data-testid="flash-offline">Saved on this phone: it is sent ' +
  "when you are back online</div>";

// ---- IndexedDB ----------------------------------------------------------------------------------

let opened = null; // one connection, kept while the worker runs
function openDb() {
  if (opened) return opened;
  opened = new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(QUEUE)) db.createObjectStore(QUEUE, { keyPath: "seq", autoIncrement: true });
      if (!db.objectStoreNames.contains(CONFLICTS)) db.createObjectStore(CONFLICTS, { keyPath: "seq", autoIncrement: true });
    };
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => { db.close(); opened = null; };
      db.onclose = () => { opened = null; };
      resolve(db);
    };
    request.onerror = () => { opened = null; reject(request.error); };
  });
  return opened;
}

function inStore(name, mode, work) {
  return openDb().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(name, mode);
    const store = tx.objectStore(name);
    let result;
    Promise.resolve(work(store)).then((value) => { result = value; });
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  }));
}

function asPromise(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const store = {
  all: (name) => inStore(name, "readonly", (s) => asPromise(s.getAll())),
  count: (name) => inStore(name, "readonly", (s) => asPromise(s.count())),
  add: (name, value) => inStore(name, "readwrite", (s) => asPromise(s.add(value))),
  put: (name, value) => inStore(name, "readwrite", (s) => asPromise(s.put(value))),
  remove: (name, key) => inStore(name, "readwrite", (s) => asPromise(s.delete(key))),
  first: (name) => inStore(name, "readonly", (s) => asPromise(s.openCursor()).then((cursor) => (cursor ? cursor.value : null))),
};

// ---- telling the pages ----------------------------------------------------------------------------

async function tell(message) {
  const [queued, conflicts] = await Promise.all([store.count(QUEUE), store.count(CONFLICTS)]);
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const page of pages) page.postMessage({ source: "wms-offline", queued, conflicts, ...message });
}

// ---- one thing at a time: stored scans and new scans go out in the order they were made ---------

let chain = Promise.resolve();
function serial(work) {
  const run = chain.then(work, work);
  chain = run.catch(() => {});
  return run;
}

// ---- a scan action: sent, or kept on the phone --------------------------------------------------

function headerPairs(headers) {
  const pairs = [];
  headers.forEach((value, name) => {
    if (name.toLowerCase() !== "content-type" && name.toLowerCase() !== "content-length") pairs.push([name, value]);
  });
  return pairs;
}

async function stored(request) {
  // The form's fields as text (a FormData cannot be stored), so that a replay can carry a fresh
  // CSRF token in the form itself (Flask-WTF reads the form's token before the header's).
  const entry = {
    clientId: request.headers.get("X-Client-Id"), url: request.url, method: request.method,
    headers: headerPairs(request.headers), savedAt: Date.now(), tries: 0,
  };
  const contentType = request.headers.get("Content-Type") || "";
  if (/multipart\/form-data|application\/x-www-form-urlencoded/i.test(contentType)) {
    const form = await request.formData();
    entry.entries = [];
    form.forEach((value, name) => { entry.entries.push([name, typeof value === "string" ? value : ""]); });
    entry.summary = entry.entries.filter(([name]) => name !== "csrf_token" && name !== "csrf-token")
      .map(([, value]) => value).filter((value) => value !== "").join(" · ").slice(0, 120);
  } else {
    entry.body = await request.text();
    entry.contentType = contentType;
    entry.summary = "";
  }
  entry.summary = (entry.summary ? entry.summary + " " : "") + "(" + new URL(entry.url).pathname + ")";
  return entry;
}

async function keep(entry) {
  await store.add(QUEUE, entry);
  if (self.registration.sync) self.registration.sync.register("wms-replay").catch(() => {});
  await tell({ type: "queued", clientId: entry.clientId, summary: entry.summary });
}

function queuedAnswer() {
  return new Response(OFFLINE_FLASH, {
    status: 202,
    headers: { "Content-Type": "text/html; charset=utf-8", "X-Offline-Queued": "1", "Cache-Control": "no-store" },
  });
}

async function sendOrKeep(request) {
  const copy = request.clone();
  return serial(async () => {
    let waiting = 0;
    try {
      waiting = await store.count(QUEUE);
      if (waiting > 0) {
        await drainNow();
        waiting = await store.count(QUEUE);
      }
    } catch (noStorage) { // IndexedDB unusable here (a private window): scans go straight out, as without us
      waiting = 0;
    }
    if (waiting > 0) { // still offline (or signed out): kept behind the others, so order holds
      await keep(await stored(copy));
      return queuedAnswer();
    }
    try {
      return await fetch(request);
    } catch (unreachable) {
      try {
        await keep(await stored(copy));
      } catch (noStorage) {
        return Response.error(); // the page says "no connection", as without a service worker
      }
      return queuedAnswer();
    }
  });
}

// ---- sending the stored scans again ----------------------------------------------------------------

function replayRequest(entry, token) {
  const headers = new Headers(entry.headers);
  let body;
  if (entry.entries) {
    const form = new URLSearchParams();
    for (const [name, value] of entry.entries) form.append(name, name === "csrf_token" && token ? token : value);
    body = form;
    headers.set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8");
  } else {
    body = entry.body;
    if (entry.contentType) headers.set("Content-Type", entry.contentType);
  }
  if (token) headers.set("X-CSRFToken", token);
  headers.set("X-Offline-Replay", "1");
  return new Request(entry.url, { method: entry.method, headers, body, credentials: "same-origin", redirect: "follow" });
}

function signedOut(response) {
  if (response.status === 401) return true;
  return response.redirected && new URL(response.url).pathname.replace(/\/$/, "") === "/login";
}

async function freshToken() {
  // This session's token from the server; else from an open page (its <body hx-headers>).
  try {
    const response = await fetch("/offline/csrf-token", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok && !response.redirected) return (await response.json()).csrf_token;
  } catch (unreachable) { /* try the pages */ }
  const pages = await self.clients.matchAll({ type: "window" });
  for (const page of pages) {
    const token = await new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve(event.data && event.data.csrfToken);
      page.postMessage({ source: "wms-offline", type: "csrf-token?" }, [channel.port2]);
      setTimeout(() => resolve(null), 3000);
    });
    if (token) return token;
  }
  return null;
}

function words(html) {
  // The server's words from its answer (a flash or a page), as text.
  const text = String(html).replace(/<(script|style|template)[\s\S]*?<\/\1>/gi, " ")
    .replace(/<details[\s\S]*?<\/details>/gi, " ").replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&#39;|&#x27;/g, "'").replace(/&quot;|&#34;/g, '"').replace(/\s+/g, " ").trim();
  return text.slice(0, 400);
}

async function replayOne(entry, session) {
  // -> {kind: "offline" | "signed-out" | "applied" | "already" | "conflict" | "server-error", status, message}
  // `session` keeps this session's CSRF token once asked for, for the rest of the queue.
  let response;
  try {
    response = await fetch(replayRequest(entry, session.token));
    if (response.status === 400) { // perhaps the stored CSRF token is another session's: once more with this one's
      const token = await freshToken();
      if (token && token !== session.token) {
        session.token = token;
        response = await fetch(replayRequest(entry, token));
      }
    }
  } catch (unreachable) {
    return { kind: "offline" };
  }
  if (signedOut(response)) return { kind: "signed-out", status: response.status };
  const message = words(await response.text());
  if (response.headers.get("X-Already-Applied") === "1") return { kind: "already", status: response.status, message };
  if (response.ok) return { kind: "applied", status: response.status, message };
  if (response.status >= 500) return { kind: "server-error", status: response.status, message };
  return { kind: "conflict", status: response.status, message };
}

async function drainNow() {
  // Not through serial(): callers hold the chain already.
  const session = { token: null };
  for (;;) {
    const entry = await store.first(QUEUE);
    if (!entry) break;
    const outcome = await replayOne(entry, session);
    if (outcome.kind === "offline") return;
    if (outcome.kind === "signed-out") {
      await tell({ type: "signed-out" });
      return;
    }
    if (outcome.kind === "server-error" && entry.tries + 1 < SERVER_ERROR_TRIES) {
      entry.tries += 1;
      await store.put(QUEUE, entry);
      await tell({ type: "server-error", clientId: entry.clientId, summary: entry.summary, message: outcome.message });
      return; // tried again later: the id makes a second try safe
    }
    if (outcome.kind === "conflict" || outcome.kind === "server-error") {
      await store.add(CONFLICTS, {
        clientId: entry.clientId, url: entry.url, summary: entry.summary, status: outcome.status,
        message: outcome.message, savedAt: entry.savedAt, at: Date.now(),
      });
    }
    await store.remove(QUEUE, entry.seq);
    await tell({
      type: "replayed", result: outcome.kind === "server-error" ? "conflict" : outcome.kind,
      clientId: entry.clientId, summary: entry.summary, status: outcome.status, message: outcome.message,
    });
  }
  await tell({ type: "drained" });
}

function drain() {
  return serial(() => drainNow().catch(() => {}));
}

// ---- pages: network first, a saved copy offline ----------------------------------------------------

function clock(time) {
  const at = new Date(time);
  return String(at.getHours()).padStart(2, "0") + ":" + String(at.getMinutes()).padStart(2, "0");
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

async function keepPage(request, response) {
  const body = await response.blob();
  const headers = new Headers(response.headers);
  headers.set("X-Saved-At", String(Date.now()));
  const cache = await caches.open(PAGES_CACHE);
  await cache.put(request.url, new Response(body, { status: 200, headers }));
  const keys = await cache.keys();
  for (const old of keys.slice(0, Math.max(0, keys.length - PAGES_KEPT))) await cache.delete(old);
}

async function savedCopy(request) {
  const cache = await caches.open(PAGES_CACHE);
  const hit = await cache.match(request.url, { ignoreVary: true });
  if (!hit) {
    const page = '<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
      '<title>Offline · Starshipit WMS</title><link rel="stylesheet" href="/static/app.css"><main class="page">' +
      '<div class="flash flash-warn" data-testid="offline-no-copy">Offline: this page was not opened on this phone before, ' +
      "so there is no saved copy of it. Scans are kept and sent when you are back online.</div>" +
      '<p><a href="/">Home</a></p></main></html>';
    return new Response(page, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8", "X-Offline-Copy": "none" } });
  }
  const savedAt = Number(hit.headers.get("X-Saved-At")) || Date.now();
  const banner = '<div class="flash flash-warn" data-testid="offline-copy" role="status">Offline: saved copy from ' +
    escapeHtml(clock(savedAt)) + ". Stock may have changed since; scans are kept and sent when you are back online.</div>";
  let html = await hit.text();
  if (/<main[^>]*>/i.test(html)) html = html.replace(/<main[^>]*>/i, (tag) => tag + banner);
  else html = html.replace(/<body[^>]*>/i, (tag) => tag + banner);
  return new Response(html, {
    status: 200, headers: { "Content-Type": "text/html; charset=utf-8", "X-Offline-Copy": String(savedAt), "Cache-Control": "no-store" },
  });
}

async function page(event) {
  const request = event.request;
  let response;
  try {
    response = await fetch(request);
  } catch (unreachable) {
    return savedCopy(request);
  }
  const type = response.headers.get("Content-Type") || "";
  const toSignIn = response.redirected && new URL(response.url).pathname.replace(/\/$/, "") === "/login";
  const private_ = /no-store/i.test(response.headers.get("Cache-Control") || ""); // (a token shown once...)
  if (response.status === 200 && type.startsWith("text/html") && !toSignIn && !private_) {
    event.waitUntil(keepPage(request, response.clone()).catch(() => {}));
  }
  event.waitUntil(store.count(QUEUE).then((n) => (n > 0 ? drain() : null)).catch(() => {})); // back online
  return response;
}

async function asset(request) {
  const hit = await caches.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    caches.open(STATIC_CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

// ---- events -----------------------------------------------------------------------------------------

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then((cache) => Promise.all(ASSETS.map((url) => cache.add(url).catch(() => {}))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== STATIC_CACHE && key !== PAGES_CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
      .then(() => drain())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST") {
    if (request.headers.has("X-Client-Id") && !CHECKS_ONLY.some((pattern) => pattern.test(url.pathname))) {
      event.respondWith(sendOrKeep(request));
    } else if (url.pathname === "/logout") {
      event.waitUntil(caches.delete(PAGES_CACHE)); // the next person on this phone reads none of it
    }
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(asset(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(event));
  }
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.source !== "wms-offline") return;
  if (data.type === "online" || data.type === "replay") event.waitUntil(drain());
  if (data.type === "status") event.waitUntil(tell({ type: "status" }));
});

self.addEventListener("sync", (event) => {
  if (event.tag === "wms-replay") event.waitUntil(drain());
});
