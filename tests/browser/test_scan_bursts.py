"""The scanner (static/scanner.js) on every scan page, as a keyboard-wedge handheld drives it on a
server slower than the scans: 50 scans typed at 10 ms a character into the move, receive, put away,
count, replenish, pick and pack pages while every POST waits WMS_SCAN_DELAY_MS: each scan is applied
once and in order (the database says so; each was posted once, in the order scanned, with its own
X-Client-Id). After a refusal the next scans are held, not applied, until the picker acknowledges
it; the tones, the buzz, the flash and the log of the last 10 scans.

One slowed server for the whole file (its data for each page apart: codes prefixed by the page)."""
from __future__ import annotations

import json
import re
import shutil
from urllib.parse import parse_qs

import pytest
from sqlalchemy import text as sql

from app import db, replenishment
from app.catalog import create_product
from app.inbound import putaway
from app.inbound.purchase_orders import create_purchase_order
from app.inventory import adjust_stock, stock_summary
from app.orders import inbox
from app.orders.payloads import read_webhook
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import PHONE, sign_in_page
from tests.browser.test_inbound_on_a_phone import artifacts
from tests.conftest import _seed_basics, make_app
from tests.support.focus import assert_focus_on
from tests.support.processes import start_wms

DELAY_MS = 150  # every POST waits this long: the scans outrun the answers
SCANS = 50
TYPING_MS = 10  # a wedge scanner's pace, well under the 30 ms that tells a burst from a person
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SETTLED = "() => window.scanner && window.scanner.waiting === 0 && !document.querySelector('[data-testid=scan-log] li[data-state=pending]')"


@pytest.fixture(scope="module")
def slow_wms(sqlite_template, tmp_path_factory):
    """The WMS under gunicorn with WMS_SCAN_DELAY_MS, on a SQLite database of this file's own."""
    folder = tmp_path_factory.mktemp("scan-bursts")
    path = folder / "wms.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = make_app(url)
    with app.app_context():
        _seed_basics()
    server = start_wms(url, folder, workers=3, WMS_SCAN_DELAY_MS=str(DELAY_MS))
    try:
        yield server, app
    finally:
        server.stop()
        app.extensions["wms.engine"].dispose()


def burst(page, scans: list[str]) -> None:
    """What a wedge scanner types: each scan's characters 10 ms apart, each scan ending in Enter."""
    page.keyboard.type("".join(f"{scan}\n" for scan in scans), delay=TYPING_MS)


def watch_posts(page, path: str) -> list[tuple[dict, str, str]]:
    """Every POST the page makes to a path matching `path`: (its form values, its X-Client-Id, its URL)."""
    seen: list[tuple[dict, str, str]] = []

    def record(request):
        if request.method == "POST" and re.search(path, request.url):
            values = {k: v[0] for k, v in parse_qs(request.post_data or "", keep_blank_values=True).items()}
            seen.append((values, request.headers.get("x-client-id", ""), request.url))

    page.on("request", record)
    return seen


def settle(page) -> None:
    page.wait_for_function(SETTLED, timeout=180_000)


def assert_posted_once_in_order(seen, field: str, expected: list[str]) -> None:
    assert [values[field] for values, _id, _url in seen] == expected
    ids = [client_id for _values, client_id, _url in seen]
    assert len(set(ids)) == len(ids) and all(UUID4.match(client_id) for client_id in ids), ids[:3]


def movements(app, sku: str, kind: str) -> list[tuple[str, str, int]]:
    with app.app_context(), db.reading() as session:
        rows = session.execute(sql(
            "SELECT f.code, t.code, m.quantity FROM movement m JOIN product p ON p.id = m.product_id "
            "JOIN location f ON f.id = m.from_location_id JOIN location t ON t.id = m.to_location_id "
            "WHERE p.sku = :sku AND m.type = :kind ORDER BY m.id"), {"sku": sku, "kind": kind})
        return [tuple(row) for row in rows]


def on_hand(app, sku: str) -> dict:
    with app.app_context(), db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, sku)["locations"]}


def build(app, making) -> None:
    with app.app_context():
        db.atomic(making)


def arrive(app, number: str, sku: str, quantity: int, order_id: int) -> None:
    """A web-shop order as Starshipit's webhook brings it (routed to the WMS, allocated at once)."""
    from app.orders import processing

    order = {"order_id": order_id, "order_number": number, "reference": f"burst {number}", "status": "Unshipped",
             "items": [{"sku": sku, "quantity": quantity}]}
    raw = json.dumps({"event": "order_created", "event_id": f"evt-{number}", "occurred_at": "2026-12-02T04:30:00Z",
                      "order": order}).encode()
    with app.app_context():
        incoming, _body = read_webhook(raw)
        event_id = db.atomic(inbox.store, incoming, raw.decode())
        assert processing.process(event_id) == "processed", number


def outbound_order(app, prefix: str, order_id: int, picked: bool):
    """A WMS order of 50 × <prefix>-SKU at <prefix>-01 in a single pick job with its tote scanned
    (picked in full when `picked`). The job's id."""
    from app.outbound import picking, routing

    sku, place, tote, number = f"{prefix}-SKU", f"{prefix}-01", f"{prefix}-T1", f"BURST-{prefix}"

    def making(session):
        site = get_warehouse(session)
        create_product(session, sku=sku, name=f"{prefix} burst widget", barcodes=[f"94{order_id:011d}"], weight=1)
        create_location(session, warehouse=site, code=place, type="pick", zone=prefix, pick_sequence=1)
        create_location(session, warehouse=site, code=tote, type="tote", zone="TOTES")
        adjust_stock(session, sku=sku, location=place, quantity=60, reason="found")

    build(app, making)
    with app.app_context():
        db.atomic(routing.replace_rules, [{"name": "Bursts", "match": {"reference_prefix": "burst"}, "outcome": "WMS"}])
    arrive(app, number, sku, SCANS, order_id)
    with app.app_context():
        job = db.atomic(picking.create_pick_job, [number], "single", [tote])
        db.atomic(picking.confirm_tote, job["id"], tote)
        if picked:
            db.atomic(picking.record_pick, job["id"], location=place, sku=sku, quantity=SCANS, tote=tote)
    return job["id"]


# ---- one burst per page ----------------------------------------------------------------------


def move_page(app, server, page):
    def making(session):
        site = get_warehouse(session)
        create_product(session, sku="MV-SKU", name="Moved widget")
        for code in ("MV-A", "MV-B", "MV-C"):
            create_location(session, warehouse=site, code=code, type="storage", zone="MV")
        adjust_stock(session, sku="MV-SKU", location="MV-A", quantity=SCANS, reason="found")

    build(app, making)
    to = ["MV-C" if n % 3 == 0 else "MV-B" for n in range(SCANS)]
    seen = watch_posts(page, r"/moves/$")
    page.goto(f"{server.url}/moves/")
    page.locator("form[data-scanner][data-ready]").wait_for()
    burst(page, [code for place in to for code in ("MV-A", "MV-SKU", place)])
    settle(page)
    assert_posted_once_in_order(seen, "to_location", to)
    assert movements(app, "MV-SKU", "transfer") == [("MV-A", place, 1) for place in to]


def receive_page(app, server, page):
    def making(session):
        site = get_warehouse(session)
        create_product(session, sku="RC-A", name="Received widget", barcodes=["9500000000017"])
        create_product(session, sku="RC-B", name="Received gadget")
        create_location(session, warehouse=site, code="RC-DOCK", type="receiving", zone="RC")
        create_purchase_order(session, po_number="PO-BURST", supplier="Acme", lines=[("RC-A", 60), ("RC-B", 60)])

    build(app, making)
    scans = ["RC-B" if n % 4 == 0 else "9500000000017" for n in range(SCANS)]
    seen = watch_posts(page, r"/receiving/po/PO-BURST/scan$")
    page.goto(f"{server.url}/receiving/po/PO-BURST")
    page.locator("form[data-scanner][data-ready]").wait_for()
    assert page.input_value("[data-testid=receiving-location]") == "RC-DOCK"
    burst(page, scans)
    settle(page)
    page.get_by_test_id("confirm-receipt").tap()
    page.get_by_test_id("receipt-done").wait_for(timeout=60_000)
    assert_posted_once_in_order(seen, "product", scans)
    # Each scan's answer redrew the receipt the next one was sent with: the tally grew one by one.
    assert [values.get("line") for values, _id, _url in seen[:2]] == [None, "RC-B:1"]
    assert on_hand(app, "RC-A") == {"RC-DOCK": scans.count("9500000000017")}
    assert on_hand(app, "RC-B") == {"RC-DOCK": scans.count("RC-B")}


def putaway_page(app, server, page):
    def making(session):
        site = get_warehouse(session)
        product = create_product(session, sku="PA-SKU", name="Put widget")
        dock = create_location(session, warehouse=site, code="PA-DOCK", type="storage", zone="PA")
        for code in ("PA-01", "PA-02"):
            create_location(session, warehouse=site, code=code, type="storage", zone="PA")
        adjust_stock(session, sku="PA-SKU", location="PA-DOCK", quantity=SCANS, reason="found")
        for _ in range(SCANS):
            putaway.create_task(session, warehouse_id=site.id, product_id=product.id, quantity=1, from_location=dock,
                                reference="burst")

    build(app, making)
    to = ["PA-02" if n % 3 == 0 else "PA-01" for n in range(SCANS)]
    seen = watch_posts(page, r"/putaway/$")
    page.goto(f"{server.url}/putaway/")
    page.locator("form[data-scanner][data-ready]").wait_for()
    burst(page, [code for place in to for code in ("PA-DOCK", "PA-SKU", place)])
    settle(page)
    assert_posted_once_in_order(seen, "location", to)
    assert movements(app, "PA-SKU", "putaway") == [("PA-DOCK", place, 1) for place in to]


def count_page(app, server, page):
    from app.stocktakes import describe, open_stocktake

    def making(session):
        site = get_warehouse(session)
        create_product(session, sku="CT-A", name="Counted widget", barcodes=["9600000000016"])
        create_product(session, sku="CT-B", name="Counted gadget")
        create_location(session, warehouse=site, code="CT-01", type="storage", zone="CT")

    build(app, making)
    with app.app_context():
        stocktake_id = db.atomic(open_stocktake, locations=["CT-01"])["id"]
    scans = ["CT-B" if n % 5 == 0 else "9600000000016" for n in range(SCANS)]
    seen = watch_posts(page, r"/count/\d+$")
    page.goto(f"{server.url}/count/")
    page.get_by_test_id("count-scan-location").fill("ct-01")
    page.keyboard.press("Enter")
    page.locator("form[data-scanner][data-ready]").wait_for()
    burst(page, scans)
    settle(page)
    assert_posted_once_in_order(seen, "product", scans)
    with app.app_context(), db.reading() as session:
        counted = {line["sku"]: line["counted"] for line in describe(session, stocktake_id)["lines"]}
    assert counted == {"CT-A": scans.count("9600000000016"), "CT-B": scans.count("CT-B")}


def replenish_page(app, server, page):
    def making(session):
        site = get_warehouse(session)
        create_product(session, sku="RP-SKU", name="Refilled widget")
        create_location(session, warehouse=site, code="RP-P", type="pick", zone="RP")
        create_location(session, warehouse=site, code="RP-S", type="storage", zone="RP")
        adjust_stock(session, sku="RP-SKU", location="RP-S", quantity=60, reason="found")

    build(app, making)
    with app.app_context():
        replenishment.save_rule(sku="RP-SKU", location="RP-P", min=5, max=SCANS)  # empty: a task of 50
        with db.reading() as session:
            site = get_warehouse(session)
            [task] = [t for t in replenishment.list_tasks(session, site.id) if t["sku"] == "RP-SKU"]
    assert task["quantity"] == SCANS
    seen = watch_posts(page, r"/replenishment/tasks/\d+/complete$")
    page.goto(f"{server.url}/replenishment/tasks/{task['id']}")
    page.locator("form[data-scanner][data-ready]").wait_for()
    # One unit a time: each leaves the rest as a new task, which the next scans fill.
    burst(page, ["RP-S", "RP-SKU", "1", "RP-P"] * SCANS)
    settle(page)
    assert_posted_once_in_order(seen, "quantity", ["1"] * SCANS)
    tasks = [int(re.search(r"/tasks/(\d+)/", url).group(1)) for _values, _id, url in seen]
    assert tasks[0] == task["id"] and len(set(tasks)) == SCANS and tasks == sorted(tasks)  # each the rest of the one before
    assert movements(app, "RP-SKU", "replenishment") == [("RP-S", "RP-P", 1)] * SCANS
    assert on_hand(app, "RP-SKU") == {"RP-P": SCANS, "RP-S": 60 - SCANS}


def pick_page(app, server, page):
    job_id = outbound_order(app, "PK", 7101, picked=False)
    seen = watch_posts(page, rf"/picking/{job_id}/pick$")
    page.goto(f"{server.url}/picking/{job_id}")
    page.locator("form[data-scanner][data-ready]").wait_for()
    assert_focus_on(page, "location")
    # The first pick: location, product, tote; then each unit's barcode and Enter on the tote kept.
    burst(page, ["PK-01", "PK-SKU", "PK-T1"] + ["PK-SKU", ""] * (SCANS - 1))
    settle(page)
    page.get_by_test_id("job-finished").wait_for()
    assert_posted_once_in_order(seen, "sku", ["PK-SKU"] * SCANS)
    assert movements(app, "PK-SKU", "pick") == [("PK-01", "PK-T1", 1)] * SCANS


def pack_page(app, server, page):
    outbound_order(app, "PC", 7102, picked=True)
    seen = watch_posts(page, r"/packing/BURST-PC/scan$")
    page.goto(f"{server.url}/packing/BURST-PC")
    page.locator("form[data-scanner][data-ready]").wait_for()
    burst(page, [f"94{7102:011d}"] * SCANS)
    settle(page)
    assert_posted_once_in_order(seen, "product", [f"94{7102:011d}"] * SCANS)
    # The box is kept in the page and sent with each scan: every scan counted once, the last with 49 before it.
    assert seen[-1][0].get("line") == f"PC-SKU:{SCANS - 1}"
    assert page.locator("[data-testid=box-row][data-sku=PC-SKU]").get_attribute("data-units") == str(SCANS)
    assert movements(app, "PC-SKU", "pick") == [("PC-01", "PC-T1", SCANS)]  # packing moves nothing


PAGES = {"move": move_page, "receive": receive_page, "putaway": putaway_page, "count": count_page,
         "replenish": replenish_page, "pick": pick_page, "pack": pack_page}


@pytest.mark.parametrize("name", list(PAGES))
def test_a_burst_of_50_scans_on_a_slow_server_is_applied_once_each_in_order(slow_wms, phone, name):
    server, app = slow_wms
    sign_in_page(phone, server.url, "picker")
    PAGES[name](app, server, phone)
    log = phone.get_by_test_id("scan-log")
    assert log.locator("li").count() == 10  # the last 10 scans
    assert log.locator("li[data-state=error]").count() == 0
    assert phone.get_by_test_id("scan-hold").is_hidden()


# ---- the hold after a refusal --------------------------------------------------------------


def test_after_a_refusal_the_next_scans_are_held_until_the_picker_says_ok(slow_wms, phone):
    server, app = slow_wms

    def making(session):
        site = get_warehouse(session)
        create_product(session, sku="HD-SKU", name="Held widget")
        for code in ("HD-A", "HD-B"):
            create_location(session, warehouse=site, code=code, type="storage", zone="HD")
        adjust_stock(session, sku="HD-SKU", location="HD-A", quantity=10, reason="found")

    build(app, making)
    sign_in_page(phone, server.url, "picker")
    phone.goto(f"{server.url}/moves/")
    phone.locator("form[data-scanner][data-ready]").wait_for()
    # A move to a place that does not exist, and two good moves scanned straight after it.
    burst(phone, ["HD-A", "HD-SKU", "NOWHERE", "HD-A", "HD-SKU", "HD-B", "HD-A", "HD-SKU", "HD-B"])
    hold = phone.get_by_test_id("scan-hold")
    hold.wait_for()
    settle(phone)
    log = phone.get_by_test_id("scan-log")
    # What came after it (whole moves queued behind it, or the scans of one typed after its answer,
    # each on its own) is not applied, and said so.
    held = log.locator("li[data-held]").count()
    assert held >= 2
    assert all("not applied" in text for text in log.locator("li[data-held]").all_inner_texts())
    assert log.locator("li[data-state=error]:not([data-held])").count() == 1
    assert movements(app, "HD-SKU", "transfer") == []
    # The refused scan's red line is on the screen of a 390 x 844 phone, without scrolling.
    box = hold.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"] and box["width"] >= PHONE["width"] - 1
    assert "NOWHERE" in hold.inner_text()
    assert phone.get_by_test_id("scan-ack").is_visible()
    phone.screenshot(path=str(artifacts() / "scan-hold-on-a-phone.png"))  # the screen as the picker sees it

    # A scan while it waits is held too; the on-screen ACK code (scanned) says OK.
    burst(phone, ["HD-A"])
    assert log.locator("li[data-held]").count() == min(held + 1, 9)
    burst(phone, ["ACK"])
    hold.wait_for(state="hidden")
    assert_focus_on(phone, "from_location")
    burst(phone, ["HD-A", "HD-SKU", "HD-B"])
    settle(phone)
    assert movements(app, "HD-SKU", "transfer") == [("HD-A", "HD-B", 1)]

    # Or a tap on OK.
    burst(phone, ["HD-A", "HD-SKU", "HD-A"])  # the same place: refused
    hold.wait_for()
    phone.get_by_test_id("scan-ack").tap()
    hold.wait_for(state="hidden")
    burst(phone, ["HD-A", "HD-SKU", "HD-B"])
    settle(phone)
    assert movements(app, "HD-SKU", "transfer") == [("HD-A", "HD-B", 1)] * 2


# ---- feedback: tones, buzz, flash, the log of 10 -------------------------------------------

RECORD_FEEDBACK = """
window.__tones = []; window.__buzzes = [];
navigator.vibrate = (pattern) => { window.__buzzes.push(pattern); return true; };
const Real = window.AudioContext;
window.AudioContext = class extends Real {
  createOscillator() {
    const oscillator = super.createOscillator();
    const start = oscillator.start.bind(oscillator);
    oscillator.start = (...args) => { window.__tones.push([oscillator.type, oscillator.frequency.value]); return start(...args); };
    return oscillator;
  }
};
"""


def test_each_scan_is_heard_felt_and_seen_and_the_log_keeps_the_last_ten(slow_wms, phone):
    server, app = slow_wms

    def making(session):
        site = get_warehouse(session)
        create_product(session, sku="FB-SKU", name="Felt widget", barcodes=["9700000000015"])
        create_location(session, warehouse=site, code="FB-01", type="storage", zone="FB")

    build(app, making)
    from app.stocktakes import open_stocktake

    with app.app_context():
        db.atomic(open_stocktake, locations=["FB-01"])
    phone.add_init_script(RECORD_FEEDBACK)
    sign_in_page(phone, server.url, "picker")
    phone.goto(f"{server.url}/count/")
    phone.get_by_test_id("count-scan-location").fill("fb-01")
    phone.keyboard.press("Enter")
    phone.locator("form[data-scanner][data-ready]").wait_for()

    burst(phone, ["9700000000015"])
    log = phone.get_by_test_id("scan-log")
    first = log.locator("li").first
    assert first.get_attribute("data-state") == "pending"  # a line the moment the scan is captured
    settle(phone)
    assert first.get_attribute("data-state") == "ok"
    assert phone.evaluate("window.__tones") == [["sine", 1320]]
    assert phone.evaluate("window.__buzzes") == [60]
    assert phone.get_by_test_id("scan-flash").get_attribute("data-state") == "ok"

    burst(phone, ["9700000000015"] * 11)
    settle(phone)
    items = log.locator("li")
    assert items.count() == 10 and log.locator("li[data-state=ok]").count() == 10
    assert "12 counted at FB-01" in items.first.inner_text()  # newest first
    assert "3 counted at FB-01" in items.last.inner_text()

    phone.evaluate("window.__tones = []; window.__buzzes = []")
    burst(phone, ["NOT-A-BARCODE"])
    phone.get_by_test_id("scan-hold").wait_for()
    assert log.locator("li").first.get_attribute("data-state") == "error"
    assert phone.evaluate("window.__tones") == [["square", 220], ["square", 165]]
    assert phone.evaluate("window.__buzzes") == [[120, 60, 120]]
    assert phone.get_by_test_id("scan-flash").get_attribute("data-state") == "error"
    assert log.locator("li").count() == 10


# ---- the camera's reader: the vendored polyfill, loaded only when asked for ------------------

DECODE_DRAWN_ACK = """async () => {
  const widths = document.querySelector('svg[data-bars]').getAttribute('data-bars');
  const scale = 4, quiet = 12;
  const total = [...widths].reduce((sum, w) => sum + Number(w), 0);
  const canvas = document.createElement('canvas');
  canvas.width = (total + 2 * quiet) * scale; canvas.height = 120;
  const ink = canvas.getContext('2d');
  ink.fillStyle = '#fff'; ink.fillRect(0, 0, canvas.width, canvas.height); ink.fillStyle = '#000';
  let x = quiet;
  [...widths].forEach((w, i) => { if (i % 2 === 0) ink.fillRect(x * scale, 10, Number(w) * scale, 100); x += Number(w); });
  const detector = await window.scanner.detector();
  const found = await detector.detect(canvas);
  return found.map((code) => [code.format, code.rawValue]);
}"""


def test_the_camera_reads_barcodes_with_the_vendored_reader_fetched_only_when_asked(slow_wms, phone):
    server, _app = slow_wms
    fetched: list[str] = []
    phone.on("request", lambda request: fetched.append(request.url))
    sign_in_page(phone, server.url, "picker")
    phone.goto(f"{server.url}/moves/")
    phone.locator("form[data-scanner][data-ready]").wait_for()
    assert not [url for url in fetched if "barcode-detector" in url]  # the cold load stays small
    assert phone.get_by_test_id("scan-camera").is_visible()

    assert phone.evaluate(DECODE_DRAWN_ACK) == [["code_128", "ACK"]]
    reader = [url for url in fetched if "barcode-detector" in url]
    assert any(url.startswith(f"{server.url}/static/vendor/barcode-detector/ponyfill.js") for url in reader)
    assert any(url.startswith(f"{server.url}/static/vendor/barcode-detector/zxing_reader.wasm") for url in reader)
    assert all(url.startswith(server.url) for url in fetched)  # no CDN

    # No camera here (headless): said in words, and the typed scans go on.
    phone.get_by_test_id("scan-camera").tap()
    phone.locator("[data-camera-status]").filter(has_text="No camera").wait_for()
    phone.get_by_label("1 · From location").focus()
    assert_focus_on(phone, "from_location")


def tabbed(page, *scans: str) -> None:
    """A scanner set to end each scan with Tab: the characters at full speed, then Tab at once.
    A real scanner sends the Tab a few ms after the last character; here each key is its own call
    to the browser, and on a loaded machine (CI runs three test processes on two cores) more than
    the scanner's 30 ms passed between them once, so the Tab read as a person's. The page is told
    to allow 300 ms (data-burst-ms on the scanner's root), still far from a person's pace."""
    page.evaluate("document.querySelector('[data-scanner-root]').setAttribute('data-burst-ms', '300')")
    for scan in scans:
        page.keyboard.type(scan, delay=0)
        page.keyboard.press("Tab")


def test_a_scanner_that_ends_each_scan_with_tab_is_read_as_it_is_with_enter(slow_wms, phone):
    """Some wedge scanners end a scan with Tab: typed as fast as a scanner types, it ends the scan
    (the focus goes where Enter sends it, never past the form); a burst of two moves is applied."""
    server, app = slow_wms

    def making(session):
        site = get_warehouse(session)
        create_product(session, sku="TB-SKU", name="Tabbed widget")
        for code in ("TB-A", "TB-B"):
            create_location(session, warehouse=site, code=code, type="storage", zone="TB")
        adjust_stock(session, sku="TB-SKU", location="TB-A", quantity=5, reason="found")

    build(app, making)
    sign_in_page(phone, server.url, "picker")
    phone.goto(f"{server.url}/moves/")
    phone.locator("form[data-scanner][data-ready]").wait_for()
    tabbed(phone, "TB-A", "TB-SKU")
    assert_focus_on(phone, "to_location")  # product's data-next, not quantity
    tabbed(phone, "TB-B", "TB-A", "TB-SKU", "TB-B")
    settle(phone)
    assert movements(app, "TB-SKU", "transfer") == [("TB-A", "TB-B", 1)] * 2
    assert_focus_on(phone, "from_location")
