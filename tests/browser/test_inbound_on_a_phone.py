"""Inbound on a 390 x 844 phone, as a picker with a keyboard-wedge scanner does it (each scan a fast
burst of characters ending in Enter): a purchase order received by scanning (PO, location, product
barcodes; a wrong barcode said loudly, and the next scan counted once the picker says OK), put away by scanning to the
suggested places; a location counted blind and closed. Each step is saved as a screenshot in the
test artifacts folder (`test-artifacts/`, or the folder WMS_TEST_ARTIFACTS names), and what the
pages did is checked afterwards through the app's own functions: stock, the PO's counts, the ledger.
"""
from __future__ import annotations

import re

from sqlmodel import select

from app import db, stocktakes
from app.catalog import create_product
from app.inbound.purchase_orders import create_purchase_order, describe, get_purchase_order
from app.inventory import adjust_stock
from app.models import PutawayTask
from app.replenishment import set_rule
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import PHONE, sign_in_page
from tests.support.floor import (  # noqa: F401 (artifacts: imported from here by other tests)
    RECORD_BUZZES, REFUSAL_BUZZ, artifacts, ledger_is_clean, movements, on_hand, scan, snap,
)
from tests.support.focus import assert_focus_on

WIDGET, WIDGET_BARCODE = "IN-WIDGET", "9312345000017"
GADGET, GADGET_BARCODE = "IN-GADGET", "9312345000024"
SPROCKET, SPROCKET_BARCODE = "IN-SPROCKET", "9312345000031"
DOCK_BARCODE = "LOC-DOCK-2"  # the receiving location's own label
UNKNOWN_BARCODE = "9399999999996"  # on no product


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# ---- receiving and putaway -----------------------------------------------------------------------


def build_inbound_floor(app) -> None:
    """Two receiving locations (the PO is received at the second, scanned by its label), a pick face
    with room for the widgets (min/max set), a shelf already holding gadgets, an empty shelf."""
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku=WIDGET, name="Blue widget", barcodes=[WIDGET_BARCODE])
            create_product(session, sku=GADGET, name="Red gadget", barcodes=[GADGET_BARCODE])
            create_location(session, warehouse=site, code="DOCK-1", type="receiving", zone="R", pick_sequence=1)
            create_location(session, warehouse=site, code="DOCK-2", type="receiving", zone="R", pick_sequence=2,
                            barcode=DOCK_BARCODE)
            create_location(session, warehouse=site, code="P-01", type="pick", zone="P", pick_sequence=10)
            create_location(session, warehouse=site, code="A-01", type="storage", zone="A", pick_sequence=20)
            create_location(session, warehouse=site, code="B-07", type="storage", zone="B", pick_sequence=30)
            set_rule(session, sku=WIDGET, location="P-01", min=0, max=20)
            create_purchase_order(session, po_number="PO-8101", supplier="Acme Tools",
                                  lines=[(WIDGET, 6), (GADGET, 4)])

        db.atomic(build)
        db.atomic(adjust_stock, sku=GADGET, location="B-07", quantity=5, reason="found")


def test_a_picker_receives_a_po_by_scanning_then_puts_it_away_where_suggested(live_wms, phone):
    server, app = live_wms
    build_inbound_floor(app)
    phone.add_init_script(RECORD_BUZZES)
    sign_in_page(phone, server.url, "picker")

    # 1. The PO, scanned into the box that has the focus when the page opens.
    phone.goto(f"{server.url}/receiving/")
    assert_focus_on(phone, "po")
    scan(phone, "po-8101")
    phone.wait_for_url("**/receiving/po/PO-8101")
    assert phone.input_value("[data-testid=receiving-location]") == "DOCK-1"  # the first receiving location
    snap(phone, "receive-01-po-scanned")

    # 2. The receiving location, scanned by its label: said in words, and the product box is next.
    phone.get_by_test_id("receiving-location").select_text()  # focused, its text chosen to be replaced
    scan(phone, DOCK_BARCODE)
    phone.locator("#location-hint.scan-hint-ok", has_text="DOCK-2 · receiving").wait_for()
    assert_focus_on(phone, "product")
    snap(phone, "receive-02-location-scanned")

    # 3. Products as the scanner types them; a barcode nobody knows in the middle of the burst.
    log = phone.get_by_test_id("scan-log")
    scan(phone, WIDGET_BARCODE, WIDGET_BARCODE, UNKNOWN_BARCODE)
    refused = log.locator("li.error[data-code=unknown_barcode]")
    refused.wait_for()
    assert refused.get_by_test_id("flash-error").is_visible()
    assert f"no product with SKU or barcode {UNKNOWN_BARCODE}" in refused.inner_text()
    assert REFUSAL_BUZZ in phone.evaluate("window.__buzzes")  # the phone buzzes twice for a refusal
    assert log.locator("li").count() == 3 and log.locator("li.ok").count() == 2
    # Nothing more is applied until the picker says OK: the refusal's red line is on the screen.
    hold = phone.get_by_test_id("scan-hold")
    assert hold.is_visible() and UNKNOWN_BARCODE in hold.inner_text()
    snap(phone, "receive-03-wrong-barcode")
    phone.get_by_test_id("scan-ack").tap()

    # 4. After OK the next scan counts: nothing lost, nothing stuck in the field.
    hold.wait_for(state="hidden")
    assert_focus_on(phone, "product")
    assert phone.input_value("[data-testid=scan-product]") == ""
    scan(phone, GADGET_BARCODE)
    log.locator("li.ok").nth(2).wait_for()  # answered (a line shows each scan at once, pending)
    assert "ok" in log.locator("li").first.get_attribute("class").split()
    assert "+1 IN-GADGET · Red gadget: 1 in this receipt" in log.locator("li").first.inner_text()
    snap(phone, "receive-04-next-scan-counted")

    # 5. A typed quantity for a carton of widgets, then the rest of the gadgets; the receipt kept in
    # the page follows every scan.
    phone.get_by_test_id("scan-quantity").fill("4")
    phone.get_by_test_id("scan-quantity").press("Enter")  # goes back to the product box
    assert_focus_on(phone, "product")
    scan(phone, WIDGET, GADGET_BARCODE, GADGET_BARCODE, GADGET_BARCODE)
    log.locator("li.ok").nth(6).wait_for()
    assert log.locator("li.ok").count() == 7 and log.locator("li.error").count() == 1
    rows = phone.get_by_test_id("tally-row")
    assert [(row.get_attribute("data-sku"), row.get_attribute("data-units")) for row in rows.all()] == [
        (WIDGET, "6"), (GADGET, "4")]
    assert fits_the_phone(phone)
    snap(phone, "receive-05-all-scanned")

    # 6. Confirm: one receipt into the scanned location, nothing more to come.
    phone.get_by_test_id("confirm-receipt").tap()
    done = phone.get_by_test_id("receipt-done")
    done.wait_for()
    assert "Received 10 units of 2 SKUs into DOCK-2" in done.inner_text()
    assert "PO-8101 is now received" in done.inner_text()
    to_come = {row.get_attribute("data-sku"): row.get_by_test_id("to-come").inner_text()
               for row in phone.get_by_test_id("to-come-row").all()}
    assert to_come == {WIDGET: "0", GADGET: "0"}
    snap(phone, "receive-06-confirmed")

    with app.app_context(), db.reading() as session:
        order = describe(session, get_purchase_order(session, "PO-8101"))
    assert order["status"] == "received"
    assert order["lines"] == [{"sku": WIDGET, "quantity_ordered": 6, "quantity_received": 6},
                              {"sku": GADGET, "quantity_ordered": 4, "quantity_received": 4}]
    assert on_hand(app, WIDGET) == {"DOCK-2": 6}
    assert on_hand(app, GADGET) == {"B-07": 5, "DOCK-2": 4}
    assert movements(app, reference="PO-8101") == [
        ("receipt", WIDGET, "@SUPPLIER", "DOCK-2", 6, "PO-8101"),
        ("receipt", GADGET, "@SUPPLIER", "DOCK-2", 4, "PO-8101"),
    ]

    # 7. Putaway: each received line is a task with a suggested place (the widgets' pick face has
    # room; the gadgets go where gadgets already are).
    phone.goto(f"{server.url}/putaway/")
    tasks = {sku: phone.locator(f"[data-testid^=task-][data-sku={sku}][data-status=open]") for sku in (WIDGET, GADGET)}
    suggested = {sku: task.get_by_test_id("suggested").inner_text() for sku, task in tasks.items()}
    assert suggested == {WIDGET: "P-01", GADGET: "B-07"}
    assert_focus_on(phone, "from_location")
    snap(phone, "putaway-01-tasks")

    # 8. Source (by its label), product, destination: all of the widgets to their pick face.
    putaway_log = phone.get_by_test_id("putaway-log")
    scan(phone, DOCK_BARCODE, WIDGET_BARCODE, suggested[WIDGET])
    putaway_log.locator("li.ok").first.wait_for()
    assert "Put 6 × IN-WIDGET (Blue widget) DOCK-2 → P-01. Now 6 at P-01." in putaway_log.inner_text()
    phone.locator(f"#tasks [data-sku={WIDGET}]").wait_for(state="detached")  # the list followed
    snap(phone, "putaway-02-widgets-put-away")

    # 9. The gadgets, the same way: the focus came back to the first box by itself.
    assert_focus_on(phone, "from_location")
    scan(phone, "dock-2", GADGET, suggested[GADGET])
    putaway_log.locator("li.ok").nth(1).wait_for()
    assert "Put 4 × IN-GADGET (Red gadget) DOCK-2 → B-07. Now 9 at B-07." in putaway_log.locator("li").first.inner_text()
    phone.get_by_test_id("no-tasks").wait_for()
    assert putaway_log.locator("li.error").count() == 0
    assert fits_the_phone(phone)
    snap(phone, "putaway-03-gadgets-put-away")

    assert on_hand(app, WIDGET) == {"P-01": 6}
    assert on_hand(app, GADGET) == {"B-07": 9}
    with app.app_context(), db.reading() as session:
        done_tasks = session.exec(select(PutawayTask).order_by(PutawayTask.id)).all()
        assert [(t.quantity, t.status, t.suggested_location_id == t.put_location_id) for t in done_tasks] == [
            (6, "done", True), (4, "done", True)]
    assert movements(app, type="putaway") == [
        ("putaway", WIDGET, "DOCK-2", "P-01", 6, "PO-8101"),
        ("putaway", GADGET, "DOCK-2", "B-07", 4, "PO-8101"),
    ]
    assert ledger_is_clean(app)


# ---- counting blind ------------------------------------------------------------------------------

# What the ledger holds at C-01: figures nobody would type by chance, so that finding one on the
# counter's page would mean it leaked.
EXPECTED = {WIDGET: 4711, GADGET: 5813}


def leaks(text: str) -> list[str]:
    return [f"{number}" for number in EXPECTED.values() for shown in (f"{number}", f"{number:,}")
            if re.search(rf"(?<![\w,]){re.escape(shown)}(?![\w,])", text)]


def build_count_floor(app) -> int:
    """C-01 holding widgets and gadgets, C-02 beside it, a blind stocktake of both; its id."""
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku=WIDGET, name="Blue widget", barcodes=[WIDGET_BARCODE])
            create_product(session, sku=GADGET, name="Red gadget", barcodes=[GADGET_BARCODE])
            create_product(session, sku=SPROCKET, name="Green sprocket", barcodes=[SPROCKET_BARCODE])
            create_location(session, warehouse=site, code="C-01", type="storage", zone="C", pick_sequence=1)
            create_location(session, warehouse=site, code="C-02", type="storage", zone="C", pick_sequence=2)

        db.atomic(build)
        for sku, quantity in EXPECTED.items():
            db.atomic(adjust_stock, sku=sku, location="C-01", quantity=quantity, reason="found")
        return db.atomic(stocktakes.open_stocktake, locations=["C-01", "C-02"])["id"]


def test_a_picker_counts_a_location_blind_and_closes_it(live_wms, phone):
    server, app = live_wms
    stocktake_id = build_count_floor(app)
    phone.add_init_script(RECORD_BUZZES)
    bodies = []  # every answer to a count request the page made, read as it arrives

    def keep(response):
        if "/count/" in response.url and response.request.method == "POST" and not 300 <= response.status < 400:
            bodies.append(response.text())

    phone.on("response", keep)
    sign_in_page(phone, server.url, "picker")

    # 1. The list of what to count: locations only.
    phone.goto(f"{server.url}/count/")
    assert [item.get_attribute("data-location") for item in phone.get_by_test_id("count-location").all()] == [
        "C-01", "C-02"]
    assert leaks(phone.locator("main").inner_text()) == []
    snap(phone, "count-01-to-count")

    # 2. The location, scanned into the box that has the focus.
    assert_focus_on(phone, "location")
    scan(phone, "c-01")
    phone.wait_for_url("**/count/*")
    phone.locator("form[data-count-form][data-ready]").wait_for()
    assert phone.get_by_test_id("count-location-code").inner_text() == "C-01"
    assert phone.get_by_test_id("count-expected").count() == 0  # blind: no "the ledger expects" box
    assert_focus_on(phone, "product")
    assert leaks(phone.content()) == []
    snap(phone, "count-02-location-scanned")

    # 3. Items: a carton of widgets by typed quantity, single widgets, a wrong barcode, then the
    # next scans still count (a sprocket the ledger does not expect here); the gadgets are not
    # scanned at all.
    phone.get_by_test_id("count-quantity").fill("4700")
    phone.get_by_test_id("count-quantity").press("Enter")
    scan(phone, WIDGET_BARCODE, WIDGET_BARCODE, WIDGET, UNKNOWN_BARCODE)
    count_log = phone.get_by_test_id("count-log")
    count_log.locator("li.error").wait_for()
    assert f"no product with SKU or barcode {UNKNOWN_BARCODE}" in count_log.locator("li.error").inner_text()
    assert REFUSAL_BUZZ in phone.evaluate("window.__buzzes")
    snap(phone, "count-03-wrong-barcode")

    phone.get_by_test_id("scan-hold").wait_for()
    scan(phone, "ACK")  # the acknowledge code on the screen: the next scans count again
    phone.get_by_test_id("scan-hold").wait_for(state="hidden")
    assert_focus_on(phone, "product")
    scan(phone, WIDGET_BARCODE, SPROCKET_BARCODE)
    count_log.locator("li.ok").nth(4).wait_for()
    assert count_log.locator("li.ok").count() == 5 and count_log.locator("li.error").count() == 1
    counted = {line.get_attribute("data-sku"): line.get_by_test_id("count-line-counted").input_value()
               for line in phone.get_by_test_id("count-line").all()}
    assert counted == {WIDGET: "4703", SPROCKET: "1"}
    assert leaks(phone.locator("main").inner_text()) == [] and leaks(phone.content()) == []
    assert fits_the_phone(phone)
    snap(phone, "count-04-items-scanned")

    # 4. Close the location: what was not scanned counts as none.
    phone.get_by_test_id("count-close").tap()
    phone.wait_for_url(f"{server.url}/count/")
    assert "C-01 is counted and closed" in phone.get_by_test_id("flash-ok").inner_text()
    assert [item.get_attribute("data-location") for item in phone.get_by_test_id("count-location").all()] == ["C-02"]
    snap(phone, "count-05-closed")

    # No answer the page received carried what the ledger expects.
    assert len(bodies) >= 3  # scans are sent a few at a time: fewer answers than scans
    assert [leaks(body) for body in bodies if leaks(body)] == []

    with app.app_context(), db.reading() as session:
        shown = stocktakes.describe(session, stocktake_id, hide_while_counting=False)
    assert {place["location"]: place["status"] for place in shown["locations"]} == {"C-01": "closed", "C-02": "waiting"}
    assert {(line["location"], line["sku"]): (line["expected"], line["counted"], line["variance"])
            for line in shown["lines"]} == {
        ("C-01", WIDGET): (4711, 4703, -8),
        ("C-01", GADGET): (5813, 0, -5813),
        ("C-01", SPROCKET): (0, 1, 1),
    }
    # Counting changes no stock: only approval posts the variances.
    assert on_hand(app, WIDGET) == {"C-01": 4711} and on_hand(app, GADGET) == {"C-01": 5813}
    assert movements(app, type="count") == []
    assert ledger_is_clean(app)
