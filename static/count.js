// The count page: built, like the move page (scan.js), for a handheld scanner that types fast and
// ends each scan with Enter.
//
// - Enter after a product scan queues it and clears the field for the next scan at once; queued
//   scans are sent one at a time, in order, and never dropped. Each answer (the counter's own count
//   so far, never what the ledger expects) shows in #flash and the log, and the product's line in
//   the list is put in place from the answer.
// - Enter in the quantity box goes to the product box: type 12, scan the box, and 12 are counted;
//   the quantity goes back to 1 after each scan.
// - The Count button posts the form as a page (it works without JavaScript too).
(function () {
  "use strict";
  var form = document.querySelector("form[data-count-form]");
  if (!form) return;

  var product = form.elements.product;
  var quantity = form.elements.quantity;
  var flash = document.getElementById("flash");
  var log = document.getElementById("count-log");
  var lines = document.getElementById("count-lines");
  var status = document.getElementById("scan-status");
  var queue = [];
  var sending = false;

  function buzz(ok) {
    if (navigator.vibrate) {
      try { navigator.vibrate(ok ? 60 : [120, 60, 120]); } catch (e) { /* not allowed: fine */ }
    }
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function showStatus() {
    if (status) status.textContent = queue.length ? "Sending " + queue.length + " scan" + (queue.length > 1 ? "s" : "") + "…" : "";
  }

  function placeLine(answer) {
    var template = answer.querySelector("template[data-count-line]");
    if (!template || !lines) return;
    var fresh = template.content.firstElementChild;
    if (!fresh) return;
    var sku = fresh.getAttribute("data-sku");
    Array.prototype.forEach.call(lines.children, function (item) {
      if (item.getAttribute("data-sku") === sku) item.remove();
    });
    lines.insertBefore(document.importNode(fresh, true), lines.firstChild);
    var none = document.getElementById("count-none");
    if (none) none.remove();
  }

  function record(html, ok) {
    var answer = document.createElement("div");
    answer.innerHTML = html;
    placeLine(answer);
    var template = answer.querySelector("template");
    if (template) template.remove();
    if (flash) flash.innerHTML = answer.innerHTML;
    if (log) {
      var item = document.createElement("li");
      item.className = ok ? "ok" : "error";
      item.innerHTML = answer.innerHTML;
      log.insertBefore(item, log.firstChild);
    }
    buzz(ok);
  }

  function send() {
    if (sending || !queue.length) { showStatus(); return; }
    sending = true;
    showStatus();
    var scan = queue[0];
    fetch(form.action, {
      method: "POST",
      body: scan.data,
      credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRFToken": scan.data.get("csrf_token") || "" },
    })
      .then(function (response) {
        return response.text().then(function (html) { record(html, response.ok); });
      })
      .catch(function () {
        record('<div class="flash flash-error" data-testid="flash-error">No connection: the scan of ' +
          escapeHtml(scan.summary) + " was not counted. Scan it again.</div>", false);
      })
      .then(function () {
        queue.shift();
        sending = false;
        send();
      });
  }

  function queueScan() {
    if (!product.value.trim()) {
      buzz(false);
      product.focus();
      return;
    }
    var data = new FormData(form);
    queue.push({ data: data, summary: data.get("quantity") + " × " + data.get("product") });
    product.value = "";
    quantity.value = "1";
    product.focus();
    send();
  }

  form.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
    event.preventDefault();
    if (event.target === quantity) {
      product.focus();
      product.select();
      return;
    }
    if (event.target === product && product.value.trim()) queueScan();
  });

  form.setAttribute("data-ready", "");  // scans are queued from now on (a phone test waits for this)

  // Big +/- buttons: change the quantity without taking focus from the scan field.
  Array.prototype.forEach.call(form.querySelectorAll("[data-step]"), function (button) {
    button.addEventListener("mousedown", function (event) { event.preventDefault(); });
    button.addEventListener("click", function () {
      var value = parseInt(quantity.value, 10);
      if (isNaN(value)) value = 1;
      quantity.value = Math.max(1, value + parseInt(button.getAttribute("data-step"), 10));
    });
  });
})();
