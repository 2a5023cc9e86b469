"""On a phone: a picker scans stock into quarantine and the move page asks why before it moves
anything; the header's warehouse switcher fits a 360 px phone and every page follows it."""

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock, stock_summary
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests.browser.conftest import sign_in_page
from tests.support.focus import assert_focus_on

# A thumb's target (as tests/browser/test_pages_fit_a_phone.py): the switcher's select and button.
THUMB = 44


def build_floor(app):
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
            create_location(session, warehouse=site, code="A-01", type="storage", zone="A")
            create_location(session, warehouse=site, code="B-01", type="pick", zone="B")
            create_location(session, warehouse=site, code="Q-01", type="quarantine", zone="Q", barcode="QUAR-1")
            north = create_warehouse(session, code="NORTH", name="North shed")
            create_location(session, warehouse=north, code="N-01", type="storage")

        db.atomic(build)
        db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=10, reason="found")


def stock(app) -> tuple[dict, int]:
    with app.app_context(), db.reading() as session:
        summary = stock_summary(session, "SKU-1")
        return {row["location"]: row["on_hand"] for row in summary["locations"]}, summary["available"]


def test_a_move_into_quarantine_waits_for_a_reason_then_keeps_it(live_wms, phone):
    server, app = live_wms
    build_floor(app)
    sign_in_page(phone, server.url, "picker")
    phone.goto(f"{server.url}/moves/")
    assert phone.locator("select[name=reason]").count() == 0

    # The scanner's burst ends in the quarantine bin's barcode and Enter: nothing is sent, the page asks why.
    phone.keyboard.type("A-01\n9300000000011\nQUAR-1\n", delay=0)
    reason = phone.locator("form[data-scan-form] select[name=reason]")
    reason.wait_for()
    assert_focus_on(phone, "reason")
    assert phone.locator("#move-log li").count() == 0
    assert stock(app) == ({"A-01": 10}, 10)

    reason.select_option("damaged")
    phone.locator("form[data-scan-form] button[type=submit]").tap()
    ok = phone.locator("#flash [data-testid=flash-ok]")
    ok.wait_for()
    assert "Moved 1 × SKU-1 (Blue widget) A-01 → Q-01, damaged." in ok.inner_text()
    assert phone.locator("form[data-scan-form] select[name=reason]").count() == 0  # the question went with the move
    assert stock(app) == ({"A-01": 9, "Q-01": 1}, 9)  # on hand, never available

    # The next move goes elsewhere: no question.
    phone.keyboard.type("A-01\nSKU-1\nB-01\n", delay=0)
    phone.locator("#move-log li.ok").nth(1).wait_for()
    assert phone.locator("form[data-scan-form] select[name=reason]").count() == 0
    assert stock(app) == ({"A-01": 8, "B-01": 1, "Q-01": 1}, 9)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_header_switcher_fits_a_small_phone_and_every_page_follows_it(live_wms, small_phone):
    server, app = live_wms
    build_floor(app)
    sign_in_page(small_phone, server.url, "manager")
    for path in ("/", "/moves/", "/inventory/locations", "/inventory/history", "/inventory/adjust"):
        small_phone.goto(server.url + path)
        switch = small_phone.get_by_test_id("warehouse-switch").locator("select")
        assert switch.is_visible() and switch.input_value() == "MAIN", path
        assert switch.bounding_box()["height"] >= THUMB, path
        assert small_phone.evaluate("document.documentElement.scrollWidth") <= 360, path

    small_phone.goto(f"{server.url}/inventory/locations")
    assert small_phone.locator("#results").inner_text().count("-01") == 3  # A-01, B-01, Q-01
    with small_phone.expect_navigation():
        small_phone.get_by_test_id("warehouse-switch").locator("select").select_option("NORTH")
    assert small_phone.url == f"{server.url}/inventory/locations"
    assert "N-01" in small_phone.locator("#results").inner_text()
    assert "A-01" not in small_phone.locator("#results").inner_text()
    small_phone.goto(f"{server.url}/moves/")
    assert small_phone.get_by_test_id("warehouse-switch").locator("select").input_value() == "NORTH"
    assert "· NORTH" in small_phone.locator("h1").inner_text()
