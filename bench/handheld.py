"""Handheld budgets (issue 10, item 5): what each handheld page costs a phone, how fast a scan shows
its answer, and how long a first load takes on a slow 4G line. Figures printed, nothing asserted.

    .venv/bin/python bench/handheld.py                       # every page, 3 runs
    .venv/bin/python bench/handheld.py --floors              # with ../shared/bench/floors.sh before and after
    .venv/bin/python bench/handheld.py --pages home,move --runs 1 --scans 20

The stack: the WMS under gunicorn (sync workers, Redis off, as bench/inbound.py runs it; an access log
of each request's bytes) on a SQLite file made by the migrations and filled with the demo data
(app/demo.py: one warehouse, 300 products with EAN-13s, stock, open purchase orders), plus, through
the use cases, a receipt waiting to be put away, an open stocktake, a replenishment task, and WMS
orders arriving as Starshipit's webhook brings them (a pick job with its tote scanned, an order
picked in full waiting to be packed). Debian's Chromium through Playwright, as the browser tests
drive it (tests/browser/conftest.py), a 390 x 844 phone with touch; signed in as the demo picker
(the sign-in is a request of the context's own, so that no page has been loaded before the one
measured).

1. Transfer per page (budgets 60 KB cold, 15 KB warm). Cold: a fresh context (empty HTTP cache, no
   service worker), the page opened and left until the network is idle. Warm: the same context, the
   page opened again. Two counts per visit: `browser`, the sum of Chrome's encodedDataLength
   (Network.loadingFinished, over CDP: bytes received for each response, headers included; a
   response from the HTTP cache or the service worker's cache costs 0); `server`, the bodies
   gunicorn sent in the visit's window (access log %(B)s: everything the phone fetched, the service
   worker's own fetches included, which the page's CDP session does not see). The budget is judged
   on the larger of the two.
2. Scan to visible feedback, a burst of `--scans` scans on the move page and the count page, typed as
   a keyboard-wedge scanner types them (characters `--char-ms` apart, then Enter; no pause between
   scans). Each scan is timed in the page from its Enter keydown (event.timeStamp) to its entry in
   the page's feedback area reaching its final state: the scanner's contract `ol[data-testid=
   scan-log] li` with data-state ok / error / queued, one entry per scan; on pages without it yet,
   the older per-page logs (#move-log / #count-log, one entry per move or count, shown once its
   answer came), timed from the Enter of the scan that completed it. Which one was used is printed.
   Target: p95 < 100 ms on localhost.
3. First load on slow 4G: a fresh context (empty cache) throttled with Chrome DevTools' "Slow 4G"
   preset, set through CDP Network.emulateNetworkConditions: 562.5 ms latency, 180,000 B/s down
   (1.6 Mbit/s x 0.9), 84,375 B/s up (750 kbit/s x 0.9), the figures of DevTools' NetworkManager
   `Slow4GConditions` (called "Fast 3G" before May 2024). The home page and the move page, each
   timed to its load event (navigation timing loadEventEnd) and to its first contentful paint.
   Target: under 2 s.

`--floors` runs ../shared/bench/floors.sh just before and just after (bench/common.py): the machine
is shared, and a figure is reported beside the floors of its window. The output ends with a table
and one JSON line of every figure.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import floors, percentiles, settle, start_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # as tests/browser/conftest.py
PHONE = {"width": 390, "height": 844}
PICKER, PICKER_PASSWORD = "picker", "picker-demo-1"  # app/demo.py DEMO_USERS
COLD_BUDGET, WARM_BUDGET = 60 * 1024, 15 * 1024
SCAN_TARGET_MS, SLOW_TARGET_MS = 100.0, 2000.0
# Chrome DevTools' "Slow 4G" preset (front_end/core/sdk/NetworkManager.ts, Slow4GConditions).
SLOW_4G = {"offline": False, "latency": 562.5, "downloadThroughput": 180_000, "uploadThroughput": 84_375}
ACCESS = "%(m)s %(U)s %(s)s %(D)s %(B)s"  # method, path, status, microseconds, body bytes sent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGES = ("home", "move", "receive", "putaway", "count", "replenish", "pick", "pack", "stock", "products", "locations")
TOTES = ("TOTE-01", "TOTE-02")


# -- the data ------------------------------------------------------------------------------------


def build(url: str) -> tuple[dict, list[str]]:
    """Demo data plus one of each thing a handheld page shows. Returns (facts, notes): the facts the
    pages need (URLs, codes to scan), and a note for each part that could not be made (the page
    that needed it is then skipped, the others still measured)."""
    from app import create_app, db, demo

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-handheld", "REDIS_URL": None,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    facts: dict = {"urls": {"home": "/", "move": "/moves/", "stock": "/inventory/", "products": "/products/",
                            "locations": "/locations/"}}
    notes: list[str] = []
    with app.app_context():
        for line in demo.seed():
            pass

        def step(name, function):
            try:
                function()
            except Exception as error:  # noqa: BLE001 - a part missing skips its page, not the bench
                notes.append(f"{name}: not set up ({type(error).__name__}: {str(error)[:160]})")
                traceback.print_exc(limit=3, file=sys.stderr)

        step("move", lambda: _move_facts(facts))
        step("receive", lambda: _receive_facts(facts))
        step("count", lambda: _count_facts(facts))
        step("replenish", lambda: _replenish_facts(facts))
        step("pick/pack", lambda: _outbound_facts(facts))
        db.engine().dispose()
    return facts, notes


def _rows(sql: str, **params) -> list:
    from sqlalchemy import text

    from app import db

    with db.reading() as session:
        return list(session.execute(text(sql), params))


def _move_facts(facts: dict) -> None:
    """Two storage locations and a product in one of them: the burst moves 1 unit back and forth."""
    from app import db
    from app.inventory import adjust_stock

    sku, barcode, home = _rows(
        "SELECT p.sku, b.barcode, l.code FROM stock_level s JOIN product p ON p.id = s.product_id "
        "JOIN product_barcode b ON b.product_id = p.id JOIN location l ON l.id = s.location_id "
        "WHERE l.type = 'storage' AND s.on_hand >= 12 ORDER BY p.id LIMIT 1")[0]
    other = _rows("SELECT code FROM location WHERE type = 'storage' AND code <> :home ORDER BY code DESC LIMIT 1",
                  home=home)[0][0]
    db.atomic(adjust_stock, sku=sku, location=other, quantity=50, reason="found", reference="BENCH")
    facts["move"] = {"sku": sku, "barcode": barcode, "a": home, "b": other}


def _receive_facts(facts: dict) -> None:
    """The receive page of an open PO; a receipt of another PO waiting to be put away."""
    from app import db
    from app.inbound.receiving import receive

    orders = [row[0] for row in _rows("SELECT po_number FROM purchase_order WHERE status = 'open' ORDER BY po_number")]
    facts["urls"]["receive"] = f"/receiving/po/{orders[0]}"
    dock = _rows("SELECT code FROM location WHERE type = 'receiving' ORDER BY code LIMIT 1")[0][0]
    lines = _rows("SELECT p.sku FROM purchase_order_line l JOIN purchase_order o ON o.id = l.purchase_order_id "
                  "JOIN product p ON p.id = l.product_id WHERE o.po_number = :po ORDER BY l.id LIMIT 3", po=orders[-1])
    db.atomic(receive, po_number=orders[-1], location=dock, lines=[(sku, 2) for (sku,) in lines])
    facts["urls"]["putaway"] = "/putaway/"


def _count_facts(facts: dict) -> None:
    """An open blind stocktake of two stocked storage locations; the count page of the first, and the
    barcodes of what is there (the burst counts them)."""
    from app import db
    from app.stocktakes import open_stocktake

    places = [row[0] for row in _rows(
        "SELECT DISTINCT l.code FROM stock_level s JOIN location l ON l.id = s.location_id "
        "WHERE l.type = 'storage' AND s.on_hand > 0 ORDER BY l.code DESC LIMIT 2")]
    db.atomic(open_stocktake, locations=places)
    row = _rows("SELECT sl.id FROM stocktake_location sl JOIN location l ON l.id = sl.location_id WHERE l.code = :c "
                "ORDER BY sl.id DESC LIMIT 1", c=places[0])[0][0]
    barcodes = [code for (code,) in _rows(
        "SELECT b.barcode FROM stock_level s JOIN location l ON l.id = s.location_id "
        "JOIN product_barcode b ON b.product_id = s.product_id WHERE l.code = :c AND s.on_hand > 0", c=places[0])]
    facts["urls"]["count"] = f"/count/{row}"
    facts["count"] = {"barcodes": barcodes}


def _replenish_facts(facts: dict) -> None:
    """A pick face's minimum raised over what it holds: an open task (checked at once, no Redis)."""
    from app import replenishment

    sku, face, on_hand = _rows(
        "SELECT p.sku, l.code, s.on_hand FROM stock_level s JOIN product p ON p.id = s.product_id "
        "JOIN location l ON l.id = s.location_id WHERE l.type = 'pick' AND s.on_hand > 0 ORDER BY l.code LIMIT 1")[0]
    replenishment.save_rule(sku=sku, location=face, min=on_hand + 10, max=on_hand + 30)
    rows = _rows("SELECT id FROM replenishment_task WHERE status = 'open' ORDER BY id LIMIT 1")
    if not rows:
        raise RuntimeError("no open replenishment task after raising a minimum")
    facts["urls"]["replenish"] = f"/replenishment/tasks/{rows[0][0]}"


def _outbound_facts(facts: dict) -> None:
    """A routing rule sending orders to the WMS; two orders of 3 lines arriving as the webhook
    brings them (stored in the inbox, applied, allocated in-process); a pick job for the first with
    its tote scanned (the pick page), the second picked in full (the pack page)."""
    from app import db
    from app.orders import inbox, processing
    from app.outbound import labels, picking, routing
    from app.warehouses import create_location, get_warehouse
    from app.webhooks import read_webhook

    def floor(session):
        site = get_warehouse(session)
        for code in TOTES:
            create_location(session, warehouse=site, code=code, type="tote", zone="TOTES")
        labels.add_size(session, name="Carton 30", length_cm="30", width_cm="20", height_cm="15",
                        default_weight_kg="0.3")

    db.atomic(floor)
    db.atomic(routing.replace_rules, [{"name": "Bench: all to the WMS", "match": {}, "outcome": "WMS"}])
    stocked = [sku for (sku,) in _rows(
        "SELECT p.sku FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id "
        "WHERE l.type = 'pick' AND s.on_hand >= 4 ORDER BY l.pick_sequence LIMIT 6")]
    numbers = ("SO-BENCH-1", "SO-BENCH-2")
    for n, number in enumerate(numbers):
        items = [{"sku": sku, "quantity": 1} for sku in stocked[n * 3:n * 3 + 3]]
        order = {"order_id": 9000 + n, "order_number": number, "status": "Unshipped", "items": items}
        raw = json.dumps({"event": "order_created", "event_id": f"evt-bench-{number}",
                          "occurred_at": "2026-12-02T04:30:00Z", "order": order}).encode()
        incoming, _body = read_webhook(raw)
        event_id = db.atomic(inbox.store, incoming, raw.decode())
        processing.process(event_id)
    jobs = []
    for number, tote in zip(numbers, TOTES):
        job = db.atomic(picking.create_pick_job, [number], "single", [tote])
        db.atomic(picking.confirm_tote, job["id"], tote)
        jobs.append(job["id"])
    facts["urls"]["pick"] = f"/picking/{jobs[0]}"
    for stop in _rows("SELECT l.code, p.sku, s.quantity FROM pick_stop s JOIN location l ON l.id = s.location_id "
                      "JOIN product p ON p.id = s.product_id WHERE s.job_id = :job ORDER BY s.id", job=jobs[1]):
        code, sku, quantity = stop
        db.atomic(picking.record_pick, jobs[1], location=code, sku=sku, quantity=quantity, tote=TOTES[1])
    facts["urls"]["pack"] = f"/packing/{numbers[1]}"


# -- the browser -----------------------------------------------------------------------------------


class Phone:
    """A fresh browser context the size of a phone, signed in as the picker without loading a page."""

    def __init__(self, browser, base: str, throttle: dict | None = None, service_worker: bool = True):
        self.base = base
        self.context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2,
                                           service_workers="allow" if service_worker else "block")
        self.context.set_default_timeout(30_000)
        self.context.set_default_navigation_timeout(60_000)
        login = self.context.request.get(f"{base}/login")
        token = CSRF.search(login.text())
        answer = self.context.request.post(f"{base}/login", form={
            "username": PICKER, "password": PICKER_PASSWORD, "csrf_token": token.group(1) if token else ""},
            max_redirects=0)
        if answer.status != 302:
            raise SystemExit(f"sign-in as {PICKER} failed: {answer.status} {answer.text()[:300]}")
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        if throttle:
            self.cdp.send("Network.emulateNetworkConditions", throttle)
        self.responses: dict[str, dict] = {}
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.requestServedFromCache", self._from_cache)
        self.cdp.on("Network.loadingFinished", self._finished)

    def _response(self, event):
        response = event["response"]
        entry = self.responses.setdefault(event["requestId"], {})
        entry.update(url=response["url"], status=response["status"],
                     cached=entry.get("cached") or response.get("fromDiskCache") or response.get("fromPrefetchCache"),
                     sw=response.get("fromServiceWorker", False),
                     encoding={k.lower(): v for k, v in (response.get("headers") or {}).items()}.get(
                         "content-encoding", ""))

    def _from_cache(self, event):
        self.responses.setdefault(event["requestId"], {})["cached"] = True

    def _finished(self, event):
        self.responses.setdefault(event["requestId"], {})["bytes"] = event.get("encodedDataLength", 0)

    def visit(self, url: str) -> dict:
        """Open the page and wait for the network to be idle: what came over the network. From a blank
        page: opening the URL the tab already shows would be a reload, which revalidates the cache."""
        self.page.goto("about:blank")
        self.responses = {}
        self.page.goto(self.base + url, wait_until="load")
        try:
            self.page.wait_for_load_state("networkidle", timeout=10_000)
        except Exception:  # noqa: BLE001 - a page that keeps polling: count what came until then
            pass
        status = next((r.get("status") for r in self.responses.values()
                       if r.get("url", "").split("#")[0] == self.base + url), None)
        network = [r for r in self.responses.values() if not r.get("cached") and not r.get("sw")]
        return {"browser": sum(r.get("bytes", 0) for r in network), "requests": len(network),
                "from_cache": sum(1 for r in self.responses.values() if r.get("cached") or r.get("sw")),
                "status": status, "page_encoding": next((r.get("encoding") for r in self.responses.values()
                                                         if r.get("url") == self.base + url), "")}

    def close(self):
        self.context.close()


def served_bytes(access: Path, start: int, end: int) -> tuple[int, int]:
    """(body bytes, requests) gunicorn sent in the access log's bytes [start, end)."""
    total = count = 0
    with access.open("rb") as log:
        log.seek(start)
        for line in log.read(end - start).decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 5 and parts[4].isdigit():
                total += int(parts[4])
                count += 1
    return total, count


def transfer(browser, base: str, access: Path, url: str, service_worker: bool = True) -> dict:
    phone = Phone(browser, base, service_worker=service_worker)
    try:
        figures = {}
        for visit in ("cold", "warm") if service_worker else ("cold",):
            start = settle(access, 0.2)
            seen = phone.visit(url)
            time.sleep(0.3)  # the service worker's own fetches after the load
            end = settle(access, 0.3)
            body, requests = served_bytes(access, start, end)
            figures[visit] = {**seen, "server": body, "server_requests": requests,
                              "bytes": max(seen["browser"], body)}
        return figures
    finally:
        phone.close()


# -- scan to feedback --------------------------------------------------------------------------------

INSTRUMENT = """(selector) => {
  // The scanner contract: each capture's <li data-client-id> appears in the log (pending) in the keydown
  // of the Enter that captured it; its answer replaces it with a line of the same id in its final state.
  // A capture pushed out of the log (it keeps the last 10) before its answer came shows that answer
  // only in the full-width flash: the flash's data-state is set once per answer, answers come in
  // capture order, so the k-th flash is the k-th capture's. An older page's log (no client ids): the
  // k-th new entry is the k-th answer.
  const log = document.querySelector(selector);
  const contract = selector.includes("scan-log");
  const bench = window.__bench = {enters: [], captures: {}, order: [], flashes: [], items: []};
  const old = new Set(log.querySelectorAll(":scope > li"));  // drawn by the server: not ours
  // On the window, capturing: before any listener of the page's own (scanner.js listens on the document).
  window.addEventListener("keydown", (event) => {
    if (event.key === "Enter") bench.enters.push(event.timeStamp);
  }, true);
  const final = (state) => ["ok", "error", "queued"].includes(state);
  const look = () => {
    const now = performance.now();
    for (const li of Array.from(log.querySelectorAll(":scope > li")).reverse()) {  // oldest first
      if (old.has(li)) continue;
      if (contract) {
        const id = li.getAttribute("data-client-id");
        if (!id) continue;
        let capture = bench.captures[id];
        if (!capture) {
          capture = bench.captures[id] = {added: now, enters: bench.enters.length, final: null, state: null};
          bench.order.push(id);
        }
        const state = li.getAttribute("data-state");
        if (capture.final === null && final(state)) { capture.final = now; capture.state = state; }
      } else if (!li.__bench) {
        li.__bench = true;
        bench.items.push({final: now, state: /\\berror\\b/.test(li.className) ? "error" : "ok"});
      }
    }
  };
  new MutationObserver(look).observe(log, {childList: true, subtree: true, attributes: true,
                                           attributeFilter: ["data-state", "class"]});
  const band = document.querySelector("[data-testid=scan-flash]");
  if (band) new MutationObserver((records) => {
    for (const record of records) bench.flashes.push({at: performance.now(), state: band.getAttribute("data-state")});
  }).observe(band, {attributes: true, attributeFilter: ["data-state"]});
}"""


def scan_recipe(page_name: str, facts: dict, scans: int) -> tuple[list[str], str]:
    """The codes to scan, in order, and the page's first field."""
    if page_name == "move":
        m = facts["move"]
        codes: list[str] = []
        n = 0
        while len(codes) < scans:
            here, there = (m["a"], m["b"]) if n % 2 == 0 else (m["b"], m["a"])
            codes += [here, m["barcode"], there]
            n += 1
        return codes, "#from_location"  # whole moves: 20 scans asked make 7 moves (21 scans)
    barcodes = facts["count"]["barcodes"]
    return [barcodes[i % len(barcodes)] for i in range(scans)], "#product"


def posts_served(access: Path, start: int, end: int) -> list[float]:
    """Milliseconds in the worker of each POST in the access log's bytes [start, end)."""
    with access.open("rb") as log:
        log.seek(start)
        return [int(parts[3]) / 1000 for parts in (line.split() for line in log.read(end - start).decode().splitlines())
                if len(parts) == 5 and parts[0] == "POST"]


def scan_burst(browser, base: str, access: Path, url: str, page_name: str, facts: dict, scans: int,
               char_ms: float) -> dict:
    phone = Phone(browser, base)
    try:
        page = phone.page
        page.goto(base + url, wait_until="load")
        page.wait_for_load_state("networkidle")
        if page.query_selector("ol[data-testid=scan-log]"):
            mode, selector = "scan-log (ol[data-testid=scan-log] li[data-state])", "ol[data-testid=scan-log]"
        else:
            fallback = {"move": "#move-log", "count": "#count-log"}[page_name]
            mode, selector = f"fallback {fallback} (no scan-log on the page yet)", fallback
        codes, first = scan_recipe(page_name, facts, scans)
        # The contract's entry appears when its scan is captured, in that Enter's keydown: it is timed from
        # the last Enter before it appeared (see INSTRUMENT). An older log's entry appears only with the
        # answer: it is timed from the Enter of the scan that completed its move (every 3rd) or count.
        contract = "scan-log" in selector
        per_item = 3 if page_name == "move" else 1  # scans per capture (from, product, to) on the move page
        expected = len(codes) // per_item
        page.evaluate(INSTRUMENT, selector)
        start = settle(access, 0.2)
        field = page.query_selector(first) or page.query_selector("input.scan")
        if field:
            field.focus()
        for code in codes:
            page.keyboard.type(code, delay=char_ms)
            page.keyboard.press("Enter")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = page.evaluate("""() => { const b = window.__bench;
                return Math.max(b.items.length, b.flashes.length,
                                b.order.filter(id => b.captures[id].final !== null).length); }""")
            if done >= expected:
                break
            time.sleep(0.1)
        time.sleep(0.2)
        bench = page.evaluate("""() => { const b = window.__bench;
            return {enters: b.enters, items: b.items, flashes: b.flashes, captures: b.order.map(id => b.captures[id])}; }""")
        enters = bench["enters"]
        samples, states, by_flash = [], {}, 0
        if contract:
            for k, capture in enumerate(bench["captures"]):
                at, state = capture["final"], capture["state"]
                if at is None and k < len(bench["flashes"]):  # pushed out of the log: its flash
                    at, state = bench["flashes"][k]["at"], bench["flashes"][k]["state"]
                    by_flash += 1
                if at is None or not 0 < capture["enters"] <= len(enters):
                    continue
                samples.append(at - enters[capture["enters"] - 1])
                states[state] = states.get(state, 0) + 1
            seen = len(bench["captures"])
        else:
            for k, item in enumerate(bench["items"][:expected]):
                enter_index = k * per_item + per_item - 1
                if enter_index < len(enters):
                    samples.append(item["final"] - enters[enter_index])
                    states[item["state"]] = states.get(item["state"], 0) + 1
            seen = len(bench["items"])
        result = {"mode": mode, "scans": len(codes), "captures": expected, "seen": seen,
                  "timed": len(samples), "timed_by_flash": by_flash, "states": states}
        if samples:
            median, p95 = percentiles(samples)
            result.update(median_ms=round(median, 1), p95_ms=round(p95, 1), max_ms=round(max(samples), 1))
        served = posts_served(access, start, settle(access, 0.3))
        if served:
            median, p95 = percentiles(served)
            result.update(server_posts=len(served), server_median_ms=round(median, 1), server_p95_ms=round(p95, 1))
        return result
    finally:
        phone.close()


# -- slow 4G ---------------------------------------------------------------------------------------

TIMING = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return {load: nav ? nav.loadEventEnd : null, fcp: paint ? paint.startTime : null,
          bytes: nav ? nav.transferSize : null};
}"""


def slow_load(browser, base: str, url: str) -> dict:
    phone = Phone(browser, base, throttle=SLOW_4G)
    try:
        seen = phone.visit(url)
        timing = phone.page.evaluate(TIMING)
        return {"load_ms": round(timing["load"], 0) if timing["load"] else None,
                "fcp_ms": round(timing["fcp"], 0) if timing["fcp"] else None, "bytes": seen["browser"]}
    finally:
        phone.close()


# -- the run ---------------------------------------------------------------------------------------


def kb(value: float) -> str:
    return f"{value / 1024:.1f}"


def run(options) -> tuple[list[str], dict]:
    from playwright.sync_api import sync_playwright

    from app.migrate import upgrade
    from bench.webhooks import machine_busy

    lines: list[str] = []
    result: dict = {"pages": {}, "scans": {}, "slow_4g": {}, "notes": []}
    before = floors() if options.floors else None
    logs = Path(tempfile.mkdtemp(prefix="wms-bench-handheld-"))
    url = f"sqlite:///{logs / 'wms.sqlite3'}"
    server = None
    failed = True
    try:
        upgrade(url)
        started = time.monotonic()
        facts, notes = build(url)
        result["notes"] = notes
        lines.append(f"set-up: demo data + receipt, stocktake, replenishment task, 2 WMS orders "
                     f"({time.monotonic() - started:.0f} s)" + ("; " + "; ".join(notes) if notes else ""))
        print(lines[-1], flush=True)
        # --no-sendfile: gunicorn's %(B)s counts a file sent with sendfile(2) as 0 bytes.
        server, access = start_server(url, logs, options.web_workers, access_format=ACCESS,
                                      extra_args=("--no-sendfile",))
        base = server.url
        busy0 = machine_busy()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                for name in options.pages:
                    page_url = facts["urls"].get(name)
                    if page_url is None:
                        result["pages"][name] = {"skipped": "not set up"}
                        continue
                    runs = [transfer(browser, base, access, page_url) for _ in range(options.runs)]
                    figure = {visit: {key: int(statistics.median(r[visit][key] for r in runs))
                                      for key in ("bytes", "browser", "server", "requests", "from_cache")}
                              for visit in ("cold", "warm")}
                    # The same cold load with the service worker blocked: what the page itself costs,
                    # without the worker's install fetching its asset list a second time.
                    no_sw = [transfer(browser, base, access, page_url, service_worker=False)["cold"]
                             for _ in range(options.runs)]
                    figure["cold_without_sw"] = int(statistics.median(r["bytes"] for r in no_sw))
                    figure["status"] = runs[-1]["cold"]["status"]
                    figure["page_encoding"] = runs[-1]["cold"]["page_encoding"]
                    result["pages"][name] = {"url": page_url, **figure}
                    print(f"  {name:10} {page_url:28} cold {kb(figure['cold']['bytes'])} KB "
                          f"(browser {kb(figure['cold']['browser'])}, server {kb(figure['cold']['server'])}, "
                          f"{figure['cold']['requests']} requests), warm {kb(figure['warm']['bytes'])} KB "
                          f"({figure['warm']['requests']} requests, {figure['warm']['from_cache']} from cache); "
                          f"cold with the service worker blocked {kb(figure['cold_without_sw'])} KB; "
                          f"status {figure['status']}, page {figure['page_encoding'] or 'not compressed'}", flush=True)
                for name in ("move", "count"):
                    if name not in options.scan_pages or name not in facts or name not in facts["urls"]:
                        continue
                    bursts = [scan_burst(browser, base, access, facts["urls"][name], name, facts, options.scans,
                                         options.char_ms) for _ in range(options.runs)]
                    result["scans"][name] = bursts
                    for burst in bursts:
                        print(f"  scan burst on {name}: {burst}", flush=True)
                for name in ("home", "move"):
                    loads = [slow_load(browser, base, facts["urls"][name]) for _ in range(options.runs)]
                    result["slow_4g"][name] = loads
                    print(f"  slow 4G first load of {name}: {loads}", flush=True)
            finally:
                browser.close()
        busy1 = machine_busy()
        result["machine_busy"] = round((busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]), 2)
        failed = False
    finally:
        if server is not None:
            server.stop()
        if failed or options.keep_logs:
            print(f"logs kept in {logs}", flush=True)
        else:
            shutil.rmtree(logs, ignore_errors=True)
    after = floors() if options.floors else None
    if before and after:
        result["floors"] = {"before": {k: before[k] for k in ("http", "sql", "load")},
                            "after": {k: after[k] for k in ("http", "sql", "load")}}
    lines += table(result, options)
    return lines, result


def table(result: dict, options) -> list[str]:
    out = ["", "| Page | URL | Cold KB (budget 60) | Warm KB (budget 15) | Cold KB, service worker blocked | "
               "Cold requests | Page encoding |",
           "|---|---|---|---|---|---|---|"]
    for name, figure in result["pages"].items():
        if "skipped" in figure:
            out.append(f"| {name} | | skipped: {figure['skipped']} | | | | |")
            continue
        cold, warm = figure["cold"]["bytes"], figure["warm"]["bytes"]
        out.append(f"| {name} | {figure['url']} | {kb(cold)} {'met' if cold <= COLD_BUDGET else '**missed**'} | "
                   f"{kb(warm)} {'met' if warm <= WARM_BUDGET else '**missed**'} | {kb(figure['cold_without_sw'])} | "
                   f"{figure['cold']['requests']} | "
                   f"{figure['page_encoding'] or 'none'} |")
    for name, bursts in result["scans"].items():
        p95s = [b["p95_ms"] for b in bursts if "p95_ms" in b]
        medians = [b["median_ms"] for b in bursts if "median_ms" in b]
        met = sum(1 for p in p95s if p < SCAN_TARGET_MS)
        verdict = (("met" if met == len(p95s) else f"**missed** in {len(p95s) - met} of {len(p95s)} runs")
                   if p95s else "not timed")
        server = "server (POSTs in the burst, access log): " + "; ".join(
            f"{b['server_median_ms']:.0f} / {b['server_p95_ms']:.0f} ms" for b in bursts if "server_median_ms" in b)
        out.append(f"| scan to feedback, {name}, {options.scans}-scan burst x {len(bursts)} | {bursts[0]['mode']} | "
                   f"median {', '.join(f'{m:.0f}' for m in medians)} ms | p95 {', '.join(f'{p:.0f}' for p in p95s)} ms "
                   f"(target < 100: {verdict}) | {server} | | |")
    for name, loads in result["slow_4g"].items():
        load = [x["load_ms"] for x in loads if x["load_ms"]]
        fcp = [x["fcp_ms"] for x in loads if x["fcp_ms"]]
        met = sum(1 for v in load if v < SLOW_TARGET_MS)
        verdict = ("met" if met == len(load) else f"**missed** in {len(load) - met} of {len(load)} runs") if load else "not timed"
        out.append(f"| slow 4G first load, {name} | load event {', '.join(f'{v:.0f}' for v in load)} ms "
                   f"(target < 2000: {verdict}) | first contentful paint {', '.join(f'{v:.0f}' for v in fcp)} ms | | | | |")
    if "floors" in result:
        f = result["floors"]
        out.append(f"| floors before / after | http {f['before']['http']:,.0f} / {f['after']['http']:,.0f} req/s; "
                   f"sql {f['before']['sql']:,.0f} / {f['after']['sql']:,.0f} tps; load {f['before']['load']} / "
                   f"{f['after']['load']} | | | | | |")
    out.append(f"| machine busy during the run | {result.get('machine_busy', 0) * 100:.0f}% of 2 cores | | | | | |")
    out.append("")
    out.append("JSON " + json.dumps(result, separators=(",", ":")))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=lambda s: [p.strip() for p in s.split(",") if p.strip()], default=list(PAGES),
                        help=f"pages to measure, from {','.join(PAGES)} (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="repeats of each measure (default 3)")
    parser.add_argument("--scans", type=int, default=20, help="scans in a burst (default 20)")
    parser.add_argument("--scan-pages", type=lambda s: [p.strip() for p in s.split(",")], default=["move", "count"],
                        help="pages the burst runs on (move, count)")
    parser.add_argument("--char-ms", type=float, default=5, help="ms between a scan's characters (default 5)")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn sync workers (default 3)")
    parser.add_argument("--floors", action="store_true", help="run ../shared/bench/floors.sh before and after")
    parser.add_argument("--keep-logs", action="store_true", help="keep gunicorn's logs and the database")
    options = parser.parse_args(argv)
    unknown = [p for p in options.pages if p not in PAGES]
    if unknown:
        parser.error(f"unknown page(s) {', '.join(unknown)}; pages are {', '.join(PAGES)}")
    lines, _result = run(options)
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
