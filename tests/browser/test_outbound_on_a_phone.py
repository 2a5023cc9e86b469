"""Outbound on a 390 x 844 phone (issue 9), as a picker with a keyboard-wedge scanner does it (each scan
a fast burst of characters ending in Enter): a batch pick job of 3 orders walked by scanning (the 3
tote labels first, then at each stop the location, the product and the tote), one deliberately wrong
product scan said loudly with nothing moved; then one order packed by scanning its tote and its
items, its box chosen, "Pack and print", and its label page showing the job's progress and then the
label from the Starshipit simulator.

The stack is the one production runs: the WMS under gunicorn, a `wms worker` for the label job (on a
redis-server of this test's own, so no shared Redis database is touched), the simulator over HTTP
answering the shipment request 3 s late (as a real Starshipit often does) so that the progress is
there to see. The data is set up through the app's use cases: orders created in the simulator
first, then arriving by webhook, routed WMS by a rule and allocated at once. Each step is saved as a
screenshot in the test artifacts folder; what the pages did is checked through the app's own
functions (ledger, statuses) and the simulator's `/_sim/orders`.
"""
from __future__ import annotations

import pytest

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock
from app.outbound import labels, packing, picking, routing
from app.warehouses import create_location, get_warehouse
from simulator import Simulator
from tests.browser.conftest import PHONE, sign_in_page
from tests.browser.test_inbound_on_a_phone import (
    RECORD_BUZZES, REFUSAL_BUZZ, ledger_is_clean, movements, on_hand, scan, snap,
)
from tests.browser.test_pages_fit_a_phone import TOO_SMALL
from tests.conftest import _seed_basics, make_app
from tests.support.floor import sim_call
from tests.support.focus import assert_focus_on
from tests.support.processes import redis_url, start_redis, start_wms, start_worker
from tests.test_order_events import order_body, send

MUG, TEE, CAP = "OB-MUG", "OB-TEE", "OB-CAP"
BARCODE = {MUG: "9312345000017", TEE: "9312345000024", CAP: "9312345000031"}
ORDERS = {  # order number: its lines, in the order they arrive (oldest first)
    "WEB-1001": [(MUG, 2), (TEE, 1)],
    "WEB-1002": [(TEE, 1), (CAP, 1)],
    "WEB-1003": [(MUG, 1)],
}
STOCK = {(MUG, "P-01"): 10, (TEE, "P-02"): 8, (CAP, "P-03"): 5}
TOTES = ("T-01", "T-02", "T-03")
BOX = "Carton 30"
SHIPMENT_DELAY = 3.0  # seconds Starshipit takes to answer the shipment request


@pytest.fixture
def stack(sqlite_url, tmp_path):
    """Gunicorn and one `wms worker` sharing a redis-server of their own, the simulator, and an app
    in this process (no Redis: what the set-up queues runs at its commit) for setting up and checking."""
    sim = Simulator(seed=9).start()
    own_redis = start_redis(tmp_path)
    settings = {"STARSHIPIT_API_URL": sim.url, "STARSHIPIT_RATE_LIMIT": "0"}
    app = make_app(sqlite_url, **settings)
    server = worker = None
    try:
        with app.app_context():
            _seed_basics()
            server = start_wms(sqlite_url, tmp_path, workers=2, REDIS_URL=redis_url(own_redis), **settings)
            worker = start_worker(sqlite_url, redis_url(own_redis), tmp_path, name="outbound-worker", **settings)
            yield server, app, sim, worker
    finally:
        for running in (worker, server, own_redis):
            if running is not None:
                running.stop()
        sim.stop()
        app.extensions["wms.engine"].dispose()


def build_outbound(app, sim) -> dict:
    """Three products with barcodes on three pick faces, three free totes, a box size, a rule routing
    the web shop's orders to the WMS; three orders made in Starshipit (the simulator) and arriving
    here by webhook (routed WMS, allocated at once); a batch pick job of the three. The job's view."""
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            for sku, name in ((MUG, "Enamel mug"), (TEE, "Cotton tee"), (CAP, "Wool cap")):
                create_product(session, sku=sku, name=name, barcodes=[BARCODE[sku]])
            for number, code in enumerate(("P-01", "P-02", "P-03"), start=1):
                create_location(session, warehouse=site, code=code, type="pick", zone="P", pick_sequence=number * 10)
            create_location(session, warehouse=site, code="S-01", type="storage", zone="S", pick_sequence=100)
            for code in TOTES:
                create_location(session, warehouse=site, code=code, type="tote", zone="TOTES")
            labels.add_size(session, name=BOX, length_cm=30, width_cm=20, height_cm=15, default_weight_kg=0.4)

        db.atomic(build)
        for (sku, location), quantity in STOCK.items():
            db.atomic(adjust_stock, sku=sku, location=location, quantity=quantity, reason="found")
        db.atomic(routing.replace_rules, [{"name": "Web shop", "match": {"reference_prefix": "web"}, "outcome": "WMS"}])

        client = app.test_client()
        for number, lines in ORDERS.items():
            items = [{"sku": sku, "quantity": quantity} for sku, quantity in lines]
            destination = {"name": "Kiri Ngata", "street": "1 Cuba St", "city": "Wellington", "post_code": "6011",
                           "country": "NZ"}
            made = sim_call(sim, "POST", "orders", order_number=number, reference=f"web {number}", items=items,
                            destination=destination)["order"]
            arrived = send(client, order_body("order_created", number, items=items, order_id=made["order_id"],
                                              destination=destination))
            assert arrived.status_code in (200, 202), arrived.get_data(as_text=True)
        with db.reading() as session:
            for number in ORDERS:
                order = packing.get_order(session, number)
                assert (order.route, order.status) == ("WMS", "ALLOCATED"), number
                assert order.starshipit_order_id is not None
        return db.atomic(picking.create_pick_job, list(ORDERS), "batch")


def order_status(app, number: str) -> str:
    with app.app_context(), db.reading() as session:
        return packing.get_order(session, number).status


def job_status(app, job_id: int) -> str:
    with app.app_context(), db.reading() as session:
        return picking.get_pick_job(session, job_id)["status"]


def problems_on(page, where: str) -> list[str]:
    """What does not fit the phone as the page is now: sideways scrolling, buttons or fields too small
    for a thumb."""
    found = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        found.append(f"{where}: {width} px wide")
    return found + [f"{where}: {height:.0f} px tall {html}" for html, height in page.evaluate(TOO_SMALL)]


def test_a_picker_batch_picks_three_orders_by_scanning_then_packs_one_and_sees_its_label(stack, phone):
    server, app, sim, worker = stack
    job = build_outbound(app, sim)
    job_id = job["id"]
    tote_of = {t["order_number"]: t["tote"] for t in job["totes"]}
    assert sorted(tote_of.values()) == list(TOTES)
    # The walk: pick faces by sequence, then each tote's place on the cart.
    walk = [(s["location"], s["sku"], s["quantity"], s["tote"]) for s in job["stops"]]
    assert walk == [
        ("P-01", MUG, 2, tote_of["WEB-1001"]), ("P-01", MUG, 1, tote_of["WEB-1003"]),
        ("P-02", TEE, 1, tote_of["WEB-1001"]), ("P-02", TEE, 1, tote_of["WEB-1002"]),
        ("P-03", CAP, 1, tote_of["WEB-1002"]),
    ]
    page = phone
    page.add_init_script(RECORD_BUZZES)
    problems: list[str] = []

    # 1. The picker signs in on the phone.
    sign_in_page(page, server.url, "picker")
    problems += problems_on(page, "home")
    snap(page, "outbound-01-signed-in")

    # 2. The open pick jobs: the batch of three, taken.
    page.goto(f"{server.url}/picking/")
    card = page.get_by_test_id(f"job-{job_id}")
    assert "3 order(s)" in card.inner_text() and "batch" in card.inner_text()
    problems += problems_on(page, "pick jobs")
    snap(page, "outbound-02-pick-jobs")
    page.get_by_test_id(f"take-{job_id}").tap()
    page.wait_for_url(f"{server.url}/picking/{job_id}")
    assert [item.get_attribute("data-testid") for item in page.locator("[data-testid=totes-to-scan] li").all()] == [
        f"tote-{tote_of[number]}" for number in ORDERS]
    assert_focus_on(page, "tote")
    problems += problems_on(page, "totes to scan")
    snap(page, "outbound-03-job-taken")

    # 3. The three tote labels in one burst: the walk starts by itself once the last is scanned.
    scan(page, *(tote_of[number] for number in ORDERS))
    page.get_by_test_id("pick-form").wait_for()
    stop = page.get_by_test_id("current-stop")
    assert (stop.get_attribute("data-location"), stop.get_attribute("data-sku"), stop.get_attribute("data-tote")) == (
        "P-01", MUG, tote_of["WEB-1001"])
    assert_focus_on(page, "location")
    problems += problems_on(page, "first stop")
    snap(page, "outbound-04-totes-scanned")

    # 4. At the first stop: the location, then the wrong product (the tee, not the mug), then the tote.
    # Said loudly, naming the scan; the phone buzzes twice; nothing moved.
    log = page.get_by_test_id("pick-log")
    scan(page, "P-01", BARCODE[TEE], tote_of["WEB-1001"])
    refused = log.locator("li.error[data-code=wrong_sku]")
    refused.wait_for()
    assert refused.get_by_test_id("flash-error").is_visible()
    words = refused.inner_text()
    assert "Nothing moved." in words and BARCODE[TEE] in words and "P-01" in words and f"pick {MUG} here" in words
    assert REFUSAL_BUZZ in page.evaluate("window.__buzzes")
    assert page.get_by_test_id("stop-quantity").inner_text() == "2"  # the stop still asks for both mugs
    assert movements(app, type="pick") == []
    assert on_hand(app, MUG) == {"P-01": 10} and on_hand(app, TEE) == {"P-02": 8}
    assert all(on_hand(app, sku).keys().isdisjoint(TOTES) for sku in (MUG, TEE, CAP))
    assert ledger_is_clean(app)
    # Nothing more is applied until the picker says OK (a tap, or a scan of ACK); then the next scan
    # goes where it should: the product box, the location and the tote kept.
    assert page.get_by_test_id("scan-hold").is_visible()
    assert f"pick {MUG} here" in page.get_by_test_id("scan-hold").inner_text()
    page.get_by_test_id("scan-ack").tap()
    page.get_by_test_id("scan-hold").wait_for(state="hidden")
    assert_focus_on(page, "sku")
    assert page.input_value("[data-testid=pick-location]") == "P-01"
    assert page.input_value("[data-testid=pick-tote]") == tote_of["WEB-1001"]
    problems += problems_on(page, "wrong scan")
    snap(page, "outbound-05-wrong-scan-refused")

    # 5. The walk, stop by stop, as the page names each: a new location's label when the stop moves on
    # (the page empties the location box and puts the focus there), each unit's barcode, the tote's label when the
    # tote changes, or Enter to confirm the one kept from the last pick.
    picked = 0
    for number, (location, sku, quantity, tote) in enumerate(walk, start=1):
        stop = page.get_by_test_id("current-stop")
        stop_id = stop.get_attribute("data-stop")
        assert (stop.get_attribute("data-location"), stop.get_attribute("data-sku"),
                stop.get_attribute("data-tote")) == (location, sku, tote)
        assert page.get_by_test_id("stop-quantity").inner_text() == str(quantity)
        if page.input_value("[data-testid=pick-location]") != location:
            # A stop at another location: the page cleared the last one and the next scan goes there.
            assert page.input_value("[data-testid=pick-location]") == ""
            assert_focus_on(page, "location")
            scan(page, location)
        assert_focus_on(page, "sku")
        for _ in range(quantity):  # one unit per scan
            same_tote = page.input_value("[data-testid=pick-tote]") == tote
            scan(page, BARCODE[sku])
            assert_focus_on(page, "tote")
            if same_tote:
                page.keyboard.press("Enter")
            else:
                scan(page, tote)
        picked += quantity
        log.locator("li.ok").nth(picked - 1).wait_for()
        if number < len(walk):
            page.locator(f"[data-testid=current-stop]:not([data-stop='{stop_id}'])").wait_for()
        else:
            page.get_by_test_id("job-finished").wait_for()
        assert log.locator("li.error").count() == 1  # only the wrong scan
        problems += problems_on(page, f"stop {number}")
        snap(page, f"outbound-06-stop-{number}-picked")

    assert "Job done." in log.locator("li").first.inner_text()
    snap(page, "outbound-07-walk-finished")
    assert job_status(app, job_id) == "done"
    assert {number: order_status(app, number) for number in ORDERS} == dict.fromkeys(ORDERS, "PICKED")
    assert sorted(movements(app, type="pick")) == sorted([
        ("pick", MUG, "P-01", tote_of["WEB-1001"], 1, "WEB-1001"),
        ("pick", MUG, "P-01", tote_of["WEB-1001"], 1, "WEB-1001"),
        ("pick", MUG, "P-01", tote_of["WEB-1003"], 1, "WEB-1003"),
        ("pick", TEE, "P-02", tote_of["WEB-1001"], 1, "WEB-1001"),
        ("pick", TEE, "P-02", tote_of["WEB-1002"], 1, "WEB-1002"),
        ("pick", CAP, "P-03", tote_of["WEB-1002"], 1, "WEB-1002"),
    ])
    assert on_hand(app, MUG) == {"P-01": 7, tote_of["WEB-1001"]: 2, tote_of["WEB-1003"]: 1}
    assert on_hand(app, TEE) == {"P-02": 6, tote_of["WEB-1001"]: 1, tote_of["WEB-1002"]: 1}
    assert on_hand(app, CAP) == {"P-03": 4, tote_of["WEB-1002"]: 1}
    assert ledger_is_clean(app)

    # 6. Packing: the three picked orders wait; the first order's tote scanned opens it.
    page.goto(f"{server.url}/packing/")
    assert page.get_by_test_id("packable-orders").locator("li").count() == 3
    assert_focus_on(page, "scan")
    problems += problems_on(page, "packing")
    snap(page, "outbound-08-packing")
    scan(page, tote_of["WEB-1001"])
    page.wait_for_url(f"{server.url}/packing/WEB-1001")
    assert page.get_by_test_id("totes").inner_text() == tote_of["WEB-1001"]
    assert {row.get_attribute("data-sku"): row.get_attribute("data-units")
            for row in page.get_by_test_id("box-row").all()} == {MUG: "0", TEE: "0"}
    assert_focus_on(page, "product")
    problems += problems_on(page, "pack WEB-1001")
    snap(page, "outbound-09-order-to-pack")

    # 7. Every item scanned into the box: the counts follow, each line gets its done mark.
    scan(page, BARCODE[MUG], BARCODE[TEE], BARCODE[MUG])
    scans = page.get_by_test_id("scan-log")
    scans.locator("li.ok").nth(2).wait_for()
    page.locator(f"[data-testid=box-row][data-sku={MUG}][data-units='2']").wait_for()
    assert scans.locator("li.error").count() == 0
    assert {row.get_attribute("data-sku"): row.get_attribute("data-units")
            for row in page.get_by_test_id("box-row").all()} == {MUG: "2", TEE: "1"}
    assert page.get_by_test_id("line-done").count() == 2
    assert all(mark.is_visible() for mark in page.get_by_test_id("line-done").all())
    problems += problems_on(page, "box full")
    snap(page, "outbound-10-items-scanned")

    # 8. The box and its weight, then Pack and print; Starshipit takes its time to answer.
    page.get_by_test_id("box-size").select_option(BOX)
    page.get_by_test_id("pack-weight").fill("1.1")
    snap(page, "outbound-11-box-chosen")
    sim_call(sim, "POST", "faults", delay=SHIPMENT_DELAY, method="POST", path="/api/orders/shipment", count=1)
    page.get_by_test_id("pack-and-print").tap()
    page.wait_for_url(f"{server.url}/order/WEB-1001/label")
    panel = page.get_by_test_id("label-job")
    assert panel.get_attribute("data-status") in ("queued", "running"), worker.output()[-3000:]
    assert page.locator("[data-testid=label-job] progress").is_visible()
    assert order_status(app, "WEB-1001") == "PACKED"
    problems += problems_on(page, "label in progress")
    snap(page, "outbound-12-label-in-progress")

    # 9. The label, polled in without a reload: carrier, tracking number, the PDF to print, Reprint.
    page.locator("[data-testid=label-job][data-status=done]").wait_for(timeout=30_000)
    [shipment] = [o for o in sim_call(sim, "GET", "orders")["orders"] if o["order_number"] == "WEB-1001"][0]["shipments"]
    tracking = shipment["tracking_numbers"][0]
    assert tracking in page.get_by_test_id("tracking").inner_text()
    assert page.get_by_test_id("label-pdf").first.is_visible()
    assert page.get_by_test_id("label-preview").get_attribute("src").endswith("/order/WEB-1001/label/pdf")
    assert page.get_by_test_id("reprint").is_visible()
    pdf = page.request.get(f"{server.url}/order/WEB-1001/label/pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    assert tracking.encode() in pdf.body()
    problems += problems_on(page, "label ready")
    snap(page, "outbound-13-label-ready")

    # Exactly one shipment in Starshipit; the order PACKED, its stock still in its tote (packing moves
    # none: the order leaves when Starshipit says it shipped); the other two still wait to be packed.
    in_starshipit = sim_call(sim, "GET", "orders/WEB-1001")["order"]
    assert len(in_starshipit["packages"]) == 1
    assert in_starshipit["packages"][0]["weight"] == pytest.approx(1.1)
    assert order_status(app, "WEB-1001") == "PACKED"
    assert [order_status(app, number) for number in ("WEB-1002", "WEB-1003")] == ["PICKED", "PICKED"]
    assert on_hand(app, MUG)[tote_of["WEB-1001"]] == 2 and on_hand(app, TEE)[tote_of["WEB-1001"]] == 1
    assert len(movements(app, type="pick")) == 6 and ledger_is_clean(app)
    assert problems == []
