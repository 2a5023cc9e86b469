"""The count page with the scanner (static/scanner.js) and a handheld: a fast burst of scans, each
ending in Enter, is counted in full and in order, a typed quantity counts many, a wrong barcode is
said and holds the scans after it (not counted) until the counter says OK by scanning ACK, and the
list of what was counted follows; nothing the ledger expects shows."""
from app import db
from app.catalog import create_product
from app.inventory import adjust_stock
from app.stocktakes import describe, open_stocktake
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import sign_in_page
from tests.support.focus import assert_focus_on


def test_a_burst_of_scans_is_counted_in_full_and_the_list_follows(live_wms, phone):
    server, app = live_wms
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
            create_product(session, sku="SKU-2", name="Red gadget")
            create_location(session, warehouse=site, code="A-01", type="storage", zone="A")

        db.atomic(build)
        db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=377, reason="found")
        stocktake_id = db.atomic(open_stocktake, locations=["A-01"])["id"]
    sign_in_page(phone, server.url, "picker")

    phone.goto(f"{server.url}/count/")
    phone.get_by_test_id("count-scan-location").fill("a-01")
    phone.keyboard.press("Enter")
    phone.locator("form[data-count-form][data-ready]").wait_for()
    assert_focus_on(phone, "product")

    phone.keyboard.type("9300000000011\n9300000000011\nNOT-A-BARCODE\nSKU-2\n9300000000011\n", delay=0)
    log = phone.locator("#count-log")
    phone.get_by_test_id("scan-hold").wait_for()
    phone.wait_for_function("document.querySelectorAll('#count-log li[data-state=pending]').length === 0")
    refused = log.locator("li[data-state=error]:not([data-held])")
    assert refused.count() == 1
    assert "no product with SKU or barcode NOT-A-BARCODE" in refused.inner_text()
    assert "NOT-A-BARCODE" in phone.get_by_test_id("scan-hold").inner_text()
    assert log.locator("li[data-state=ok]").count() == 2
    assert log.locator("li[data-held]").count() == 2  # scanned after the refusal: not counted
    phone.keyboard.type("ACK\n", delay=0)  # the acknowledge code on the screen
    phone.get_by_test_id("scan-hold").wait_for(state="hidden")
    assert_focus_on(phone, "product")

    phone.keyboard.type("SKU-2\n9300000000011\n", delay=0)  # the two held scans, again
    phone.get_by_test_id("count-quantity").fill("10")
    phone.get_by_test_id("count-quantity").press("Enter")
    assert_focus_on(phone, "product")
    phone.keyboard.type("SKU-2\n", delay=0)
    log.locator("li[data-state=ok]").nth(4).wait_for()
    phone.wait_for_function("document.querySelectorAll('#count-log li[data-state=pending]').length === 0")

    assert log.locator("li[data-state=error]:not([data-held])").count() == 1
    assert phone.input_value("[data-testid=count-quantity]") == "1"
    lines = phone.locator("[data-testid=count-line]")
    assert lines.count() == 2
    assert phone.locator("[data-testid=count-line][data-sku=SKU-1] [name=counted]").input_value() == "3"
    assert phone.locator("[data-testid=count-line][data-sku=SKU-2] [name=counted]").input_value() == "11"
    assert "377" not in phone.locator("main").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391

    phone.get_by_test_id("count-close").click()
    phone.get_by_test_id("nothing-to-count").wait_for()
    with app.app_context(), db.reading() as session:
        lines = {line["sku"]: (line["expected"], line["counted"]) for line in describe(session, stocktake_id)["lines"]}
    assert lines == {"SKU-1": (377, 3), "SKU-2": (0, 11)}
