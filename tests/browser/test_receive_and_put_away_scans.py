"""The receiving and putaway pages as a handheld scanner drives them (fast bursts ending in Enter):
no scan is lost or lands in the wrong field, a wrong barcode is a loud error that holds the scans
after it (not applied) until the picker says OK, Confirm waits for the scans still being sent, and
putaway by scanning."""
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inbound.purchase_orders import create_purchase_order
from app.inventory import stock_summary
from app.models import PutawayTask, ReceivingException
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import PHONE, sign_in_page
from tests.support.focus import assert_focus_on


def build_floor(app):
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
            create_product(session, sku="SKU-2", name="Red gadget", barcodes=["9300000000028"])
            create_product(session, sku="SKU-9", name="Not ordered")
            create_location(session, warehouse=site, code="DOCK", type="receiving", zone="R")
            create_location(session, warehouse=site, code="A-01", type="storage", zone="A", pick_sequence=1)
            create_location(session, warehouse=site, code="B-01", type="storage", zone="B", pick_sequence=2)
            create_purchase_order(session, po_number="PO-7", supplier="Acme", lines=[("SKU-1", 10), ("SKU-2", 4)])

        db.atomic(build)


def on_hand(app, sku) -> dict:
    with app.app_context(), db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, sku)["locations"]}


def test_a_picker_receives_a_po_by_scanning_then_puts_it_away(live_wms, phone):
    server, app = live_wms
    build_floor(app)
    sign_in_page(phone, server.url, "picker")

    phone.goto(f"{server.url}/receiving/")
    phone.get_by_test_id("open-po-PO-7").tap()
    phone.wait_for_url("**/receiving/po/PO-7")
    assert phone.input_value("[data-testid=receiving-location]") == "DOCK"  # the first receiving location
    assert_focus_on(phone, "product")

    # A burst: three widgets, a barcode nobody knows, a gadget, a product not on the PO, a widget.
    # The unknown barcode is refused and holds what was scanned after it: not applied, shown as such.
    phone.keyboard.type("9300000000011\n9300000000011\nSKU-1\n0000000000000\n9300000000028\nSKU-9\nsku-1\n", delay=0)
    log = phone.get_by_test_id("scan-log")
    hold = phone.get_by_test_id("scan-hold")
    hold.wait_for()
    phone.wait_for_function("document.querySelectorAll('[data-testid=scan-log] li[data-state=pending]').length === 0")
    assert log.locator("li.ok").count() == 3 and log.locator("li[data-held]").count() == 3
    unknown = log.locator("[data-code=unknown_barcode]")
    assert "no product with SKU or barcode 0000000000000" in unknown.inner_text()
    assert "0000000000000" in hold.inner_text()
    phone.get_by_test_id("scan-ack").tap()
    hold.wait_for(state="hidden")
    assert_focus_on(phone, "product")

    # Scanned again after OK: the gadget, the product not on the PO (refused: held again), then OK
    # by scanning the ACK code, and the widget.
    phone.keyboard.type("9300000000028\nSKU-9\n", delay=0)
    hold.wait_for()
    assert "SKU-9 · Not ordered is not on purchase order PO-7" in log.locator("[data-code=not_on_purchase_order]").inner_text()
    phone.keyboard.type("ACK\nsku-1\n", delay=0)
    log.locator("li.ok").nth(4).wait_for()
    assert hold.is_hidden()
    rows = phone.get_by_test_id("tally-row")
    assert [(rows.nth(i).get_attribute("data-sku"), rows.nth(i).get_attribute("data-units")) for i in range(rows.count())] == [
        ("SKU-1", "4"), ("SKU-2", "1")]

    # The unknown barcode is kept for a manager; scanning goes on.
    unknown.get_by_test_id("record-exception").tap()
    unknown.get_by_text("receiving exception #").wait_for()
    with app.app_context(), db.reading() as session:
        kept = session.exec(select(ReceivingException)).one()
        assert (kept.scanned, kept.kind) == ("0000000000000", "unknown_barcode")

    # A typed quantity adds many; then two more gadgets scanned and Confirm pressed at once.
    phone.get_by_test_id("scan-quantity").fill("3")
    phone.get_by_test_id("scan-product").focus()
    phone.keyboard.type("SKU-1\n9300000000028\n9300000000028\n", delay=0)
    phone.get_by_test_id("confirm-receipt").tap()  # waits for the scans still being sent
    done = phone.get_by_test_id("receipt-done")
    done.wait_for()
    assert "Received 10 units of 2 SKUs into DOCK" in done.inner_text()
    assert "PO-7 is now partially received" in done.inner_text()
    assert phone.get_by_test_id("tally-empty").is_visible()
    to_come = {row.get_attribute("data-sku"): row.get_by_test_id("to-come").inner_text()
               for row in phone.get_by_test_id("to-come-row").all()}
    assert to_come == {"SKU-1": "3", "SKU-2": "1"}
    assert on_hand(app, "SKU-1") == {"DOCK": 7} and on_hand(app, "SKU-2") == {"DOCK": 3}

    # One more widget than is still to come is refused right at the scan.
    phone.get_by_test_id("scan-quantity").fill("4")
    phone.get_by_test_id("scan-product").focus()
    phone.keyboard.type("SKU-1\n", delay=0)
    over = log.locator("[data-code=over_receipt]")
    over.wait_for()
    assert "at most 3 more can be received" in over.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Put away: the widgets' task from the list (to its suggested place), the gadgets by a burst of
    # scans (2 of 3, to another place than suggested: the rest stays a task).
    phone.goto(f"{server.url}/putaway/")
    widget_task = phone.locator("[data-testid^=task-][data-sku=SKU-1]")
    assert widget_task.get_by_test_id("suggested").inner_text() == "A-01"
    widget_task.get_by_role("link", name="Put away").tap()
    phone.get_by_test_id("chosen-task").wait_for()
    assert_focus_on(phone, "from_location")
    phone.keyboard.type("DOCK\n9300000000011\nA-01\n", delay=0)
    putaway_log = phone.get_by_test_id("putaway-log")
    putaway_log.locator("li.ok").first.wait_for()
    assert "Put 7 × SKU-1 (Blue widget) DOCK → A-01." in putaway_log.inner_text()

    phone.get_by_test_id("putaway-quantity").fill("2")
    phone.get_by_test_id("putaway-from").focus()
    phone.keyboard.type("DOCK\nSKU-2\nA-01\n", delay=0)
    putaway_log.locator("li.ok").nth(1).wait_for()
    assert "2 × SKU-2 (Red gadget) DOCK → A-01 instead of B-01" in putaway_log.locator("li.ok").first.inner_text()
    assert "1 left as task #" in putaway_log.locator("li.ok").first.inner_text()
    phone.locator("#tasks [data-sku=SKU-2][data-status=open][data-quantity='1']").wait_for()  # the list followed
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert on_hand(app, "SKU-1") == {"A-01": 7} and on_hand(app, "SKU-2") == {"A-01": 2, "DOCK": 1}
    with app.app_context(), db.reading() as session:
        assert [(t.quantity, t.status) for t in session.exec(select(PutawayTask).order_by(PutawayTask.id))] == [
            (7, "done"), (2, "done"), (1, "open")]
        assert ledger.check(session) == []
