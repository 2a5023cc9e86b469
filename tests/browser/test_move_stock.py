"""A picker on a phone: find a product, move stock by scanning as a handheld scanner types
(fast bursts ending in Enter), see the result, and find the movement in the SKU's history."""
from app import db
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
            for code in ("A-01", "B-01", "C-01"):
                create_location(session, warehouse=site, code=code, type="storage", zone=code[0])

        db.atomic(build)
        db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=10, reason="found")


def on_hand(app) -> dict:
    with app.app_context(), db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, "SKU-1")["locations"]}


def test_picker_finds_a_product_moves_it_by_scanning_and_sees_the_movement(live_wms, phone):
    server, app = live_wms
    build_floor(app)
    sign_in_page(phone, server.url, "picker")

    # Find the product with the active search.
    phone.goto(f"{server.url}/products/")
    phone.get_by_test_id("product-search").type("widget")
    phone.wait_for_url("**/products/?q=widget")
    results = phone.locator("#results")
    assert "Blue widget" in results.inner_text() and "Red gadget" not in results.inner_text()

    # Move 2 by scanning: from, product, +1 on quantity, to (Enter confirms).
    phone.goto(f"{server.url}/moves/")
    assert_focus_on(phone, "from_location")
    phone.keyboard.type("A-01\n")
    assert_focus_on(phone, "product")
    phone.keyboard.type("9300000000011\n")
    assert phone.locator("#product-hint").inner_text() != ""
    phone.locator("#product-hint").filter(has_text="Blue widget").wait_for()
    phone.locator("button[data-step='1']").tap()
    assert_focus_on(phone, "to_location")
    phone.keyboard.type("B-01\n")
    ok = phone.locator("#flash [data-testid=flash-ok]")
    ok.wait_for()
    assert "Moved 2 × SKU-1 (Blue widget) A-01 → B-01" in ok.inner_text()
    assert_focus_on(phone, "from_location")
    assert phone.input_value("#quantity") == "1"

    # A scanner's fast burst: two whole moves typed with no delay, one after the other.
    phone.keyboard.type("A-01\nSKU-1\nC-01\nB-01\n9300000000011\nC-01\n", delay=0)
    phone.locator("#move-log li.ok").nth(2).wait_for()
    assert phone.locator("#move-log li.error").count() == 0
    assert on_hand(app) == {"A-01": 7, "B-01": 1, "C-01": 2}

    # A bad scan is refused on the page and changes nothing.
    phone.keyboard.type("A-01\nSKU-1\nA-01\n", delay=0)
    error = phone.locator("#move-log li.error [data-testid=flash-error]")
    error.wait_for()
    assert "same location" in error.inner_text()
    assert on_hand(app) == {"A-01": 7, "B-01": 1, "C-01": 2}

    # The SKU's movement history shows the moves.
    phone.goto(f"{server.url}/inventory/")
    phone.get_by_role("link", name="SKU-1").first.click()
    phone.wait_for_url("**/inventory/history?sku=SKU-1")
    rows = phone.get_by_test_id("movement")
    assert rows.count() == 4
    first = rows.first.inner_text()
    assert "transfer" in first and "B-01" in first and "C-01" in first
    assert phone.get_by_test_id("on-hand").inner_text() == "10"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
