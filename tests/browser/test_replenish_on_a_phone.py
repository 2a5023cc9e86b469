"""A picker on a 390 px phone does a replenishment task by scanning as a handheld scanner types
(fast bursts ending in Enter): a wrong product is named at once, and refused under its field and in
the scan log, holding further scans until the picker says OK; the right scans fill the pick face,
and the page goes on to the next task (the scan form stays: the next scans fill it)."""
from app import db, replenishment
from app.catalog import create_product
from app.inventory import adjust_stock, stock_summary
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import sign_in_page
from tests.support.focus import assert_focus_on


def build_floor(app):
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
            create_product(session, sku="SKU-2", name="Red gadget")
            create_location(session, warehouse=site, code="P-01", type="pick")
            create_location(session, warehouse=site, code="P-02", type="pick")
            create_location(session, warehouse=site, code="S-01", type="storage")

        db.atomic(build)
        db.atomic(adjust_stock, sku="SKU-1", location="S-01", quantity=50, reason="found")
        db.atomic(adjust_stock, sku="SKU-2", location="S-01", quantity=50, reason="found")
        replenishment.save_rule(sku="SKU-1", location="P-01", min=5, max=20)  # empty: a task of 20
        replenishment.save_rule(sku="SKU-2", location="P-02", min=2, max=8)  # empty: a task of 8


def on_hand(app, sku) -> dict:
    with app.app_context(), db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, sku)["locations"]}


def test_picker_fills_a_pick_face_by_scanning_and_goes_on_to_the_next_task(live_wms, phone):
    server, app = live_wms
    build_floor(app)
    sign_in_page(phone, server.url, "picker")

    phone.goto(f"{server.url}/")
    phone.get_by_role("link", name="Replenish").first.click()
    tasks = phone.get_by_test_id("replenishment-task")
    tasks.nth(1).wait_for()
    assert tasks.count() == 2
    assert "20 × SKU-1" in tasks.first.inner_text() and "S-01 → P-01" in tasks.first.inner_text()
    tasks.first.click()
    phone.locator("form[data-scanner][data-ready]").wait_for()

    assert_focus_on(phone, "from_location")
    assert phone.input_value("#quantity") == "20"
    # A wrong product: the hint says so at once; confirmed anyway, it is refused (under its field and
    # in the log, on a red line at the top) and nothing more is applied until OK.
    phone.keyboard.type("S-01\nSKU-2\n", delay=0)
    phone.locator("#product-hint.scan-hint-error").filter(has_text="this task is for SKU-1").wait_for()
    assert_focus_on(phone, "quantity")
    phone.keyboard.type("20\nP-01\n", delay=0)
    refused = phone.locator("#product-error")
    refused.wait_for()
    assert "this task is for SKU-1, not SKU-2" in refused.inner_text()
    log = phone.get_by_test_id("scan-log")
    assert "this task is for SKU-1, not SKU-2" in log.locator("li[data-state=error]").inner_text()
    assert "this task is for SKU-1" in phone.get_by_test_id("scan-hold").inner_text()
    assert on_hand(app, "SKU-1") == {"S-01": 50}
    phone.get_by_test_id("scan-ack").tap()
    phone.get_by_test_id("scan-hold").wait_for(state="hidden")
    assert_focus_on(phone, "from_location")
    assert phone.input_value("#quantity") == "20"  # the task's quantity again

    # The right product: one burst of scans, and the task is done.
    phone.keyboard.type("S-01\n9300000000011\n", delay=0)
    phone.keyboard.press("Enter")  # quantity (20) as it is
    phone.keyboard.type("P-01\n", delay=0)  # the pick face: confirm
    done = log.get_by_test_id("flash-ok")
    done.wait_for()
    assert "Moved 20 × SKU-1 S-01 → P-01" in done.inner_text() and "P-01 now holds 20" in done.inner_text()
    assert on_hand(app, "SKU-1") == {"P-01": 20, "S-01": 30}
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    # The scan form stays for the next task (8 × SKU-2 to P-02), or the picker opens it.
    phone.locator("#task[data-scan-action$='/complete']").wait_for()
    assert "P-02" in phone.get_by_test_id("scan-on").inner_text()
    assert phone.input_value("#quantity") == "8"
    phone.get_by_test_id("next-task").click()
    assert "Fill P-02" in phone.locator("h1").inner_text()
    assert phone.input_value("#quantity") == "8"
