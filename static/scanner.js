// One scan behaviour for every scan page (move, receive, put away, count, replenish, pick, pack), built
// for a handheld whose keyboard-wedge scanner types each code fast and ends it with Enter (or Tab), and
// for a phone's camera. The page includes templates/partials/scanner.html once (the log, the flash, the
// hold); its forms say what they want with attributes:
//
//   form[data-scanner="<name>"]   a scan form: Enter in its last field (or its button) captures it
//     hx-post                     where each capture is posted; data-action-from="<selector>" instead
//                                 reads it (data-scan-action) from that element when it is sent
//     hx-include                  read when each capture is sent (a tally the answers before it made)
//     data-scan-all               every input.scan must hold a scan before it is captured
//     data-flash="<selector>"     the answer's message is also shown there
//     data-context="<selector>"   the element that says where the picker is (data-scan-context): when
//                                 it changes, the data-keep fields are cleared for the next place;
//                                 when it is gone, the form is hidden (nothing left to scan)
//     data-ask="<field>" data-ask-values='[...]' data-ask-template="<selector>": a question (a select)
//                                 put in the form while <field> holds one of those scans; the capture
//                                 waits until it is answered
//   input data-next="<name>"      Enter moves focus there at once, in the same keystroke
//   input data-check="<kind>"     a tiny GET to the form's (or data-action-from's) data-check-url, or
//   input data-check-url="<url>"  to the field's own: what the scan names; late answers are ignored
//   input data-keep / data-reset="<value>" / data-first: after a capture, kept / reset to / focused
//   [data-step="±1" data-for]     big +/- buttons that never take the focus from the scan field
//   form[data-after-queue]        (Confirm) waits until every capture before it has been answered
//
// Captures are queued and sent one at a time, in order, never dropped, each with the header
// X-Client-Id (a UUID made when the scan was captured, the same on any resend), through htmx (so
// out-of-band parts, HX-Trigger and HX-Redirect of an answer apply). Each gets a line in the log the
// moment it is captured (data-state pending), then ok, error, or queued (the service worker saved it
// offline: X-Offline-Queued: 1).
(function () {
  "use strict";
  var root = document.querySelector("[data-scanner-root]");
  if (!root) return;

  // A scanner types faster than this between characters; a person does not. 30 ms unless the
  // scanner's root says otherwise (data-burst-ms: a slower Bluetooth wedge, or a test harness whose
  // keystrokes a loaded machine spaces out), read at each key so that it can be set at any time.
  function burstMs() { return Number(root.getAttribute("data-burst-ms")) || 30; }
  var KEEP = 10; // scans the log shows
  var ACK = (root.getAttribute("data-ack-code") || "ACK").toUpperCase();
  var LONGEST_CODE = Number(root.getAttribute("data-longest-code")) || 128; // app.bounds.BARCODE_MAX
  var log = root.querySelector("[data-testid=scan-log]");
  var sink = root.querySelector("[data-scan-sink]");
  var flashBand = root.querySelector("[data-testid=scan-flash]");
  var hold = root.querySelector("[data-testid=scan-hold]");
  var holdMessage = root.querySelector("[data-hold-message]");
  var ackButton = root.querySelector("[data-testid=scan-ack]");

  var queue = [];
  var sending = null; // the capture being sent
  var deferred = null; // a data-after-queue form waiting for the queue
  var held = null; // the refusal waiting for the picker's acknowledgement
  var generation = 0; // bumped at each capture: late checks for cleared fields are ignored
  var lastKey = 0; // when the last character was typed (bursts: < burstMs() apart)
  var burst = 0; // characters typed in the current burst
  var typedInto = null; // the field the last character went into

  function typing() { // a code is being typed into the focused field right now
    var field = document.activeElement;
    return Date.now() - lastKey < burstMs() && field === typedInto && !!field.value;
  }

  // ---- small things ------------------------------------------------------------------------

  function uuid() {
    if (window.crypto && crypto.randomUUID) {
      try { return crypto.randomUUID(); } catch (e) { /* not a secure context: below */ }
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function scanForm(element) { return element && element.closest ? element.closest("form[data-scanner]") : null; }
  function isField(el) { return el && el.tagName === "INPUT" && el.type !== "hidden" && el.type !== "submit"; }
  function short(code) { return code.length > 40 ? code.slice(0, 39) + "…" : code; }

  function byName(form, name) {
    return (form && form.elements[name]) || document.getElementById(name) || document.querySelector('[name="' + name + '"]');
  }

  function focusField(field) {
    if (!field || field.disabled) return;
    field.focus();
    if (field.select) field.select();
  }

  function firstField(form) {
    return form.querySelector("[data-first]") || form.querySelector("input.scan") || form.querySelector("input:not([type=hidden])");
  }

  // The element a form reads its action and check URL from (replenish: the task card), else the form.
  function context(form, attribute) {
    var from = form.getAttribute("data-action-from");
    var source = from ? document.querySelector(from) : null;
    if (source && source.hasAttribute(attribute)) return source.getAttribute(attribute);
    return from && attribute === "data-scan-action" ? null : form.getAttribute(attribute);
  }

  // ---- feedback: a tone, a buzz, a flash -----------------------------------------------------

  var audio = null;

  function unlockAudio() { // browsers start sound only after a gesture: a key or a tap is one
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      if (!audio) audio = new Context();
      if (audio.state === "suspended") audio.resume();
    } catch (e) { audio = null; }
  }

  function tone(kind) {
    if (!audio) unlockAudio();
    if (!audio) return;
    // [frequency Hz, start s, length s]: one short high beep; a low double buzz nobody mistakes for it
    var notes = kind === "error" ? [[220, 0, 0.18], [165, 0.24, 0.3]] : kind === "queued" ? [[660, 0, 0.07], [660, 0.1, 0.07]] : [[1320, 0, 0.09]];
    try {
      notes.forEach(function (note) {
        var oscillator = audio.createOscillator();
        var gain = audio.createGain();
        oscillator.type = kind === "error" ? "square" : "sine";
        oscillator.frequency.value = note[0];
        gain.gain.value = kind === "error" ? 0.25 : 0.18;
        oscillator.connect(gain);
        gain.connect(audio.destination);
        var at = audio.currentTime + note[1];
        oscillator.start(at);
        oscillator.stop(at + note[2]);
      });
    } catch (e) { /* no sound on this device: the flash and the buzz still say it */ }
  }

  function buzz(kind) {
    if (!navigator.vibrate) return;
    try { navigator.vibrate(kind === "error" ? [120, 60, 120] : 60); } catch (e) { /* not allowed: fine */ }
  }

  function flash(kind) {
    if (!flashBand) return;
    flashBand.setAttribute("data-state", kind);
    flashBand.classList.remove("on");
    void flashBand.offsetWidth; // restart the animation
    flashBand.classList.add("on");
  }

  function feedback(kind) {
    tone(kind);
    buzz(kind);
    flash(kind);
  }

  // ---- the log: the last KEEP scans, newest first ---------------------------------------------

  function setState(item, state) {
    item.setAttribute("data-state", state);
    item.classList.remove("pending", "ok", "error", "queued");
    item.classList.add(state);
  }

  function logLine(text) {
    var item = document.createElement("li");
    setState(item, "pending");
    item.textContent = text;
    if (log) {
      log.insertBefore(item, log.firstChild);
      while (log.children.length > KEEP) log.removeChild(log.lastElementChild);
    }
    return item;
  }

  function showStatus() {
    var waiting = queue.length;
    Array.prototype.forEach.call(document.querySelectorAll("[data-queue-status]"), function (status) {
      status.textContent = waiting ? "Sending " + waiting + " scan" + (waiting > 1 ? "s" : "") + "…" : "";
    });
  }

  // ---- the hold: after a refusal, nothing more is applied until the picker says OK --------------
  // Scans captured after a refusal (the ones queued behind it, and any made before the picker
  // acknowledges it) are NOT sent, and are not kept to be sent after the OK either: they were made
  // without the picker knowing about the error (a burst runs on past a wrong pick) and may rest on
  // it, so they are shown as held (red, "not applied: scan it again") and the picker scans them again
  // knowingly. Nothing is dropped silently, and no wrong pick is scanned past.

  function holdBack(entry, why) {
    setState(entry.item, "error");
    entry.item.setAttribute("data-held", "");
    entry.item.textContent = entry.summary + " — not applied (" + why + "): scan it again after OK";
  }

  function startHold(message) {
    var first = !held;
    held = { message: message };
    if (holdMessage) holdMessage.textContent = message;
    if (hold) hold.hidden = false;
    queue.splice(0).forEach(function (entry) { holdBack(entry, "scanned after an error"); });
    if (deferred) {
      deferred = null;
      if (holdMessage) holdMessage.textContent = message + " (Confirm was not sent.)";
    }
    showStatus();
    if (first && ackButton) ackButton.setAttribute("data-since", String(Date.now()));
  }

  function acknowledge() {
    if (!held) return;
    held = null;
    if (hold) hold.hidden = true;
    // A fresh start: what was half scanned when the refusal came is cleared (kept fields stay).
    var form = document.querySelector("form[data-scanner]:not([hidden])");
    if (form) resetForm(form);
  }

  // ---- checks: what a scan names, under its field -------------------------------------------

  function setHint(field, text, kind) {
    var hint = document.getElementById(field.id + "-hint");
    if (!hint) return;
    hint.textContent = text;
    hint.className = "scan-hint" + (kind ? " scan-hint-" + kind : "");
    if (kind === "error") field.setAttribute("aria-invalid", "true"); else field.removeAttribute("aria-invalid");
  }

  function check(field) {
    var form = field.form;
    var code = field.value.trim();
    var url = field.getAttribute("data-check-url");
    var kind = field.getAttribute("data-check");
    if (!url && kind && form) {
      var base = context(form, "data-check-url");
      url = base ? base + (base.indexOf("?") < 0 ? "?" : "&") + "kind=" + encodeURIComponent(kind) : null;
    }
    if (!url || !code || field._checked === code) return;
    field._checked = code;
    var ticket = (field._ticket = (field._ticket || 0) + 1);
    var asked = generation;
    if (code.length > LONGEST_CODE) { // no code or barcode is this long: say so without asking
      setHint(field, "That scan is " + code.length + " characters long: too long for a code or barcode", "error");
      feedback("error");
      return;
    }
    setHint(field, "Checking " + short(code) + "…", "pending");
    fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "code=" + encodeURIComponent(code), {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (field._ticket !== ticket || asked !== generation || !field.isConnected) return; // a newer scan took its place
        if (result.ok) {
          setHint(field, result.body.label, "ok");
          // A GS1 label's count (AI 30 or 37) is the quantity: the form's quantity field takes it.
          var quantity = form && form.elements.quantity;
          if (result.body.quantity != null && quantity && quantity !== document.activeElement) quantity.value = result.body.quantity;
        } else {
          setHint(field, (result.body.error && result.body.error.message) || "not found", "error");
          feedback("error");
        }
      })
      .catch(function () {
        if (field._ticket === ticket && asked === generation) setHint(field, "", "");
      });
  }

  // ---- a question some scans need (the move page: why into quarantine) ------------------------

  function asking(form) {
    var watched = form.getAttribute("data-ask");
    if (!watched) return false;
    var values = form._askValues;
    if (!values) {
      try { values = form._askValues = JSON.parse(form.getAttribute("data-ask-values")) || []; } catch (e) { values = form._askValues = []; }
    }
    var field = form.elements[watched];
    return !!field && values.indexOf(field.value.trim().toLowerCase()) !== -1;
  }

  function syncQuestion(form) {
    if (!form.getAttribute("data-ask")) return null;
    var shown = form.querySelector("[data-asked]");
    if (asking(form)) {
      if (!shown) {
        var template = document.querySelector(form.getAttribute("data-ask-template"));
        if (!template) return null;
        var button = form.querySelector("button[type=submit]");
        form.insertBefore(template.content.cloneNode(true), button);
        shown = form.querySelector("[data-asked]");
      }
      return shown ? shown.querySelector("select, input") : null;
    }
    if (shown) shown.parentNode.removeChild(shown);
    return null;
  }

  // The capture waits for an answer to the question: it is shown and focused, and nothing is queued.
  function waitsForAnswer(form) {
    var question = syncQuestion(form);
    if (!question || question.value) return false;
    var watched = form.elements[form.getAttribute("data-ask")];
    if (watched) check(watched);
    question.setAttribute("aria-invalid", "true");
    question.focus();
    buzz("error");
    return true;
  }

  // ---- capture, queue, send ------------------------------------------------------------------

  function missing(form) {
    if (!form.hasAttribute("data-scan-all")) return null;
    var scans = form.querySelectorAll("input.scan");
    for (var i = 0; i < scans.length; i++) if (!scans[i].value.trim()) return scans[i];
    return null;
  }

  function resetForm(form) {
    generation += 1;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.hasAttribute("data-keep") || el.type === "submit" || el.type === "button") return;
      var from = el.getAttribute("data-reset-from"); // the card's default (replenish: the task's quantity)
      el.value = (from ? context(form, from) : el.getAttribute("data-reset")) || "";
      el._resetValue = el.value;
      el._checked = null;
      el.removeAttribute("aria-invalid");
      setHint(el, "", "");
    });
    syncQuestion(form);
    focusField(firstField(form));
  }

  function capture(form) {
    var empty = missing(form);
    if (empty) {
      setHint(empty, "Scan this first", "error");
      buzz("error");
      focusField(empty);
      return;
    }
    if (waitsForAnswer(form)) return;
    var values = {};
    var parts = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "button") return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      values[el.name] = el.value;
      if (el.type !== "hidden" && el.value.trim()) parts.push(el.value.trim());
    });
    var entry = { id: uuid(), form: form, values: values, summary: parts.join(" · ") || "a blank scan" };
    entry.item = logLine(entry.summary + " …");
    entry.item.setAttribute("data-client-id", entry.id);
    resetForm(form);
    if (held) {
      holdBack(entry, "an error waits for OK");
      feedback("error");
      return;
    }
    queue.push(entry);
    send();
  }

  function send() {
    if (sending) return;
    showStatus();
    if (!queue.length) {
      if (deferred && !held) {
        var form = deferred;
        deferred = null;
        form._released = true;
        form.requestSubmit();
      }
      return;
    }
    var entry = (sending = queue.shift());
    var form = entry.form;
    var url = context(form, "data-scan-action") || form.getAttribute("hx-post") || form.action;
    if (!window.htmx || !url) {
      answered(entry, { status: 0, message: "Nothing to send this to: reload the page." });
      return;
    }
    entry.status = 0;
    window.htmx.ajax("POST", url, {
      source: form, values: entry.values, target: sink, swap: "innerHTML",
      headers: { "X-Client-Id": entry.id },
    }).then(function () {
      answered(entry, {});
    }, function () {
      answered(entry, { status: 0 });
    });
  }

  // htmx tells which answer this is (its status, the service worker's X-Offline-Queued) before the
  // promise above settles.
  document.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig || {};
    var id = config.headers && config.headers["X-Client-Id"];
    if (!sending || id !== sending.id) return;
    var xhr = event.detail.xhr;
    sending.status = xhr ? xhr.status : 0;
    sending.offline = !!(xhr && xhr.getResponseHeader("X-Offline-Queued") === "1");
  });

  function place(template) {
    // <template data-place-into="#list" data-place-key="data-sku" data-place-remove="#none">: its
    // element replaces the list's element with the same key, at the top.
    var list = document.querySelector(template.getAttribute("data-place-into"));
    var fresh = template.content.firstElementChild;
    if (!list || !fresh) return;
    var key = template.getAttribute("data-place-key");
    Array.prototype.slice.call(list.children).forEach(function (item) {
      if (key && item.getAttribute(key) === fresh.getAttribute(key)) item.remove();
    });
    list.insertBefore(document.importNode(fresh, true), list.firstChild);
    var gone = template.getAttribute("data-place-remove");
    if (gone) Array.prototype.forEach.call(document.querySelectorAll(gone), function (el) { el.remove(); });
  }

  function answered(entry, info) {
    var status = info.status != null ? info.status : entry.status;
    var state = entry.offline ? "queued" : status >= 200 && status < 300 ? "ok" : "error";
    Array.prototype.forEach.call(sink.querySelectorAll("template[data-place-into]"), function (template) {
      if (state === "ok") place(template);
      template.remove();
    });
    var line = sink.firstElementChild;
    if (!line || line.tagName !== "LI") {
      line = document.createElement("li");
      while (sink.firstChild) line.appendChild(sink.firstChild);
    }
    sink.innerHTML = "";
    if (!line.textContent.trim()) {
      line.textContent = entry.summary + " — " + (info.message || (status ? "the server could not answer (HTTP " + status +
        "): check whether it was saved before you scan it again" : "no connection: not saved. Scan it again."));
    }
    setState(line, state);
    line.setAttribute("data-client-id", entry.id);
    if (entry.item.isConnected) entry.item.parentNode.replaceChild(line, entry.item);
    entry.item = line;
    var target = entry.form.getAttribute("data-flash");
    var messages = line.querySelector(".flash");
    var shown = target && document.querySelector(target);
    if (shown) {
      shown.innerHTML = "";
      if (messages) shown.appendChild(messages.cloneNode(true));
    }
    sending = null;
    if (state === "error") {
      feedback("error");
      startHold((messages || line).textContent.trim().replace(/\s+/g, " "));
    } else {
      feedback(state);
    }
    followContext();
    send();
  }

  // ---- where the picker is (the pick page's stop) --------------------------------------------

  function followContext() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-scanner][data-context]"), function (form) {
      var card = document.querySelector(form.getAttribute("data-context"));
      if (!card) { form.hidden = true; return; }
      form.hidden = false;
      var now = card.getAttribute("data-scan-context");
      if (form._context === undefined) { form._context = now; return; }
      if (now === form._context) return;
      // Never while a scan is being typed, nor with scans made ahead still to send: they keep their
      // fields and the focus. Looked at again once the typing stops.
      if (typing() || queue.length) { setTimeout(followContext, burstMs()); return; }
      form._context = now;
      var keep = form.querySelectorAll("[data-keep]");
      if (keep.length && document.activeElement === keep[0]) return; // a field being typed in is never touched
      Array.prototype.forEach.call(keep, function (field) { if (field !== document.activeElement) field.value = ""; });
      if (keep.length) keep[0].focus();
    });
    Array.prototype.forEach.call(document.querySelectorAll("form[data-scanner][data-action-from]"), function (form) {
      form.hidden = !context(form, "data-scan-action");
      // A default the picker has not touched follows the card (the next task's quantity).
      Array.prototype.forEach.call(form.querySelectorAll("[data-reset-from]"), function (field) {
        if (field === document.activeElement || field._resetValue === undefined || field.value !== field._resetValue) return;
        field.value = field._resetValue = context(form, field.getAttribute("data-reset-from")) || "";
      });
    });
  }

  document.addEventListener("htmx:afterSettle", followContext);
  document.addEventListener("htmx:oobAfterSwap", followContext);

  // ---- keys: Enter (or a scanner's Tab) ends a scan ------------------------------------------

  function scanEnded(field) {
    var form = scanForm(field);
    var code = field.value.trim();
    if (!code) return; // an empty Enter does nothing: wait for the scan
    if (code.toUpperCase() === ACK) { // the on-screen acknowledge code
      field.value = "";
      acknowledge();
      return;
    }
    if (held && form) { // every scan while an error waits for OK is held back, field by field
      var entry = { summary: code, item: logLine(code) };
      holdBack(entry, "an error waits for OK");
      field.value = "";
      feedback("error");
      return;
    }
    if (form && field.name === form.getAttribute("data-ask") && waitsForAnswer(form)) return;
    var next = field.getAttribute("data-next");
    if (next) {
      check(field); // what the scan names shows under it while the next scans go on
      focusField(byName(form, next));
    } else if (form) {
      capture(form); // the capture's answer says it all: no check of the last scan
    } else {
      check(field);
    }
  }

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    var now = Date.now();
    if (event.key && event.key.length === 1) { // a character: part of a burst when it follows fast
      burst = now - lastKey < burstMs() ? burst + 1 : 1;
      lastKey = now;
      typedInto = field;
      return;
    }
    if (event.key !== "Enter" && event.key !== "Tab") return;
    unlockAudio();
    if (!isField(field)) return;
    var form = scanForm(field);
    var wedgeTab = event.key === "Tab" && burst >= 2 && now - lastKey < burstMs(); // a scanner's Tab suffix
    if (event.key === "Tab" && !wedgeTab) return; // a person's Tab moves on as usual
    burst = 0;
    var inScanForm = form && form.contains(field);
    if (!inScanForm && !field.getAttribute("data-next")) {
      if (field.value.trim().toUpperCase() === ACK && held) { event.preventDefault(); field.value = ""; acknowledge(); }
      return;
    }
    event.preventDefault();
    scanEnded(field);
  }, true);

  document.addEventListener("pointerdown", unlockAudio, true);

  // Submitting a scan form (its button) captures it; a data-after-queue form waits for the queue.
  // Capturing on the document runs before htmx's own listener on the form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-scanner")) {
      event.preventDefault();
      event.stopPropagation();
      if (held) { flash("error"); buzz("error"); return; }
      capture(form);
    } else if (form.hasAttribute("data-after-queue") && !form._released) {
      if (held) {
        event.preventDefault();
        event.stopPropagation();
        flash("error");
        return;
      }
      if (queue.length || sending) {
        event.preventDefault();
        event.stopPropagation();
        deferred = form;
        showStatus();
      }
    } else {
      form._released = false;
    }
  }, true);

  // Typing by hand and tapping elsewhere still checks the scan, and asks the question when due.
  document.addEventListener("change", function (event) {
    var el = event.target;
    var form = scanForm(el);
    if (!form) return;
    if (el.getAttribute && (el.getAttribute("data-check") || el.getAttribute("data-check-url"))) check(el);
    if (el.name === form.getAttribute("data-ask")) syncQuestion(form);
    if (el.closest("[data-asked]") && el.value) {
      el.removeAttribute("aria-invalid");
      var button = form.querySelector("button[type=submit]");
      if (button) button.focus();
    }
  });

  document.addEventListener("input", function (event) {
    var form = scanForm(event.target);
    if (form && event.target.name === form.getAttribute("data-ask")) syncQuestion(form);
  });

  // Big +/- buttons: change a quantity without taking focus from the scan field.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("[data-step]")) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-step]");
    if (!button) return;
    var field = byName(scanForm(button), button.getAttribute("data-for") || "quantity");
    var value = parseInt(field.value, 10);
    if (isNaN(value)) value = 1;
    field.value = Math.max(1, value + parseInt(button.getAttribute("data-step"), 10));
  });

  if (ackButton) ackButton.addEventListener("click", acknowledge);

  // The ACK code as a Code 128 barcode, drawn from its bar and space widths (data-bars) with a quiet
  // zone of 10 modules each side.
  Array.prototype.forEach.call(root.querySelectorAll("svg[data-bars]"), function (svg) {
    var widths = svg.getAttribute("data-bars");
    var x = 10;
    var bars = "";
    for (var i = 0; i < widths.length; i++) {
      var w = Number(widths[i]);
      if (i % 2 === 0) bars += '<rect x="' + x + '" width="' + w + '" height="48"/>';
      x += w;
    }
    svg.setAttribute("viewBox", "0 0 " + (x + 10) + " 48");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("shape-rendering", "crispEdges");
    svg.innerHTML = '<rect width="' + (x + 10) + '" height="48" fill="#fff"/><g fill="#000">' + bars + "</g>";
  });

  // ---- the camera: BarcodeDetector, or the vendored polyfill (ZXing in WebAssembly) -------------

  var camera = root.querySelector("[data-camera]");
  var FORMATS = ["code_128", "ean_13", "upc_a", "qr_code"]; // GS1-128 is Code 128 with FNC1

  function loadDetector() {
    if (window.BarcodeDetector && window.BarcodeDetector.getSupportedFormats) {
      return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        var usable = FORMATS.filter(function (f) { return formats.indexOf(f) !== -1; });
        if (usable.length) return new window.BarcodeDetector({ formats: usable });
        return polyfill();
      });
    }
    return polyfill();
  }

  function polyfill() { // loaded only now: the page's cold load stays small
    return new Promise(function (resolve, reject) {
      if (window.BarcodeDetectionAPI) { resolve(); return; }
      var script = document.createElement("script");
      script.src = camera.getAttribute("data-detector-src");
      script.onload = resolve;
      script.onerror = function () { reject(new Error("the barcode reader could not be loaded")); };
      document.head.appendChild(script);
    }).then(function () {
      var api = window.BarcodeDetectionAPI;
      var wasm = camera.getAttribute("data-detector-wasm");
      api.prepareZXingModule({
        overrides: { locateFile: function (path, prefix) { return path.slice(-5) === ".wasm" ? wasm : prefix + path; } },
      });
      return new api.BarcodeDetector({ formats: FORMATS });
    });
  }

  var lastField = null; // the scan field the picker was in: the camera's scans go there
  document.addEventListener("focusin", function (event) {
    if (isField(event.target) && scanForm(event.target)) lastField = event.target;
  });

  function cameraField() {
    var active = document.activeElement;
    if (isField(active) && scanForm(active)) return active;
    if (lastField && lastField.isConnected && !lastField.closest("form[hidden]")) return lastField;
    var form = document.querySelector("form[data-scanner]:not([hidden])");
    return form ? firstField(form) : null;
  }

  function startCamera() {
    var panel = camera.querySelector("[data-camera-panel]");
    var video = camera.querySelector("video");
    var said = camera.querySelector("[data-camera-status]");
    var stream = null;
    var last = { code: "", at: 0 };
    var running = true;
    panel.hidden = false;
    said.textContent = "Starting the camera…";
    function stop() {
      running = false;
      panel.hidden = true;
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    }
    camera.querySelector("[data-camera-close]").onclick = stop;
    Promise.all([
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
      loadDetector(),
    ]).then(function (found) {
      stream = found[0];
      var detector = found[1];
      if (!running) { stop(); return; }
      video.srcObject = stream;
      video.play();
      said.textContent = "Point the camera at a barcode";
      (function look() {
        if (!running) return;
        detector.detect(video).then(function (codes) {
          var now = Date.now();
          var code = codes.length ? codes[0].rawValue : "";
          if (code && (code !== last.code || now - last.at > 1500)) { // the same label held still: once
            last = { code: code, at: now };
            var into = cameraField();
            if (into) {
              into.value = code;
              scanEnded(into);
            }
          }
          setTimeout(look, 120);
        }, function () { setTimeout(look, 250); });
      })();
    }).catch(function (error) {
      said.textContent = "No camera: " + (error && error.message ? error.message : "it could not be opened") +
        ". Type or scan the code instead.";
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    });
  }

  if (camera && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    camera.hidden = false;
    camera.querySelector("[data-camera-open]").addEventListener("click", startCamera);
  }

  // ---- ready -------------------------------------------------------------------------------

  followContext();
  Array.prototype.forEach.call(document.querySelectorAll("form[data-scanner]"), function (form) {
    form.noValidate = true; // the server refuses a blank scan in words; htmx must not stop a capture
    syncQuestion(form);
    form.setAttribute("data-ready", ""); // scans are queued from now on (tests wait for this)
  });
  window.scanner = {
    acknowledge: acknowledge,
    detector: loadDetector, // the camera's reader (tests decode a drawn barcode with it)
    get held() { return !!held; },
    get waiting() { return queue.length + (sending ? 1 : 0); },
  };
})();
