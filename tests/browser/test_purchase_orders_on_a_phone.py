"""A manager on a phone: creates a purchase order with rows added and removed (htmx), finds it
on the list, closes it short after being asked once part of it came in; every purchase order page fits a 360 px phone
with thumb-sized targets."""
from app import db
from app.catalog import create_product
from app.inbound.purchase_orders import create_purchase_order, get_purchase_order
from app.inbound.receiving import receive
from app.models import PurchaseOrderLine
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import sign_in_page
from tests.browser.test_pages_fit_a_phone import TOO_SMALL


def build_floor(app):
    with app.app_context():
        def build(session):
            create_location(session, warehouse=get_warehouse(session), code="DOCK", type="receiving")
            create_product(session, sku="SKU-1", name="Blue widget")
            create_product(session, sku="SKU-2", name="Red gadget")
            create_product(session, sku="SKU-LONG-000000000000000000000000000000001", name="A long name " * 10)

        db.atomic(build)
        db.atomic(create_purchase_order, po_number="PO-2026-000000000000000000000000000000000000000001",
                  supplier="Supplier with a long name " * 7, lines=[("SKU-LONG-000000000000000000000000000000001", 5)],
                  expected_at="2001-01-01", note="Ring the bell " * 20)


def stored(app, po_number):
    with app.app_context(), db.reading() as session:
        order = get_purchase_order(session, po_number)
        lines = session.exec(PurchaseOrderLine.__table__.select()
                             .where(PurchaseOrderLine.purchase_order_id == order.id)
                             .order_by(PurchaseOrderLine.id)).all()
        return order.status, [(line.product_id, line.quantity_ordered) for line in lines]


def test_a_manager_creates_a_po_adding_and_removing_rows_then_closes_it_short(live_wms, phone):
    server, app = live_wms
    build_floor(app)
    sign_in_page(phone, server.url, "manager")

    phone.goto(f"{server.url}/purchase-orders/new")
    phone.fill("input[name=po_number]", "PO-PHONE-1")
    phone.fill("input[name=supplier]", "Acme")
    rows = phone.get_by_test_id("po-line")
    assert rows.count() == 3
    phone.get_by_test_id("po-add-line").tap()
    rows.nth(3).wait_for()
    phone.get_by_test_id("po-add-line").tap()
    rows.nth(4).wait_for()
    assert phone.locator("#po-lines input[name=sku-4]").count() == 1  # each new row its own key
    rows.nth(0).locator("input[name^=sku]").fill("SKU-1")
    rows.nth(0).locator("input[name^=quantity]").fill("12")
    rows.nth(4).locator("input[name^=sku]").fill("SKU-2")
    rows.nth(4).locator("input[name^=quantity]").fill("3")
    rows.nth(1).locator("input[name^=sku]").fill("NOPE")
    rows.nth(1).locator("input[name^=quantity]").fill("1")
    rows.nth(1).locator("button.remove").tap()  # changed my mind: that row goes
    assert rows.count() == 4
    phone.get_by_test_id("po-create").tap()
    phone.wait_for_url("**/purchase-order/PO-PHONE-1")
    assert "created and open" in phone.locator("#flash").inner_text()
    assert stored(app, "PO-PHONE-1")[0] == "open" and [q for _p, q in stored(app, "PO-PHONE-1")[1]] == [12, 3]

    # A wrong SKU is said under its own box, and the other rows stay as typed.
    phone.goto(f"{server.url}/purchase-orders/new")
    phone.fill("input[name=po_number]", "PO-PHONE-2")
    phone.fill("input[name=supplier]", "Acme")
    phone.fill("input[name=sku-0]", "SKU-1")
    phone.fill("input[name=quantity-0]", "1")
    phone.fill("input[name=sku-2]", "WRONG-SKU")
    phone.fill("input[name=quantity-2]", "1")
    phone.get_by_test_id("po-create").tap()
    error = phone.locator("#sku-2-error")
    error.wait_for()
    assert "no product WRONG-SKU" in error.inner_text()
    assert phone.input_value("input[name=sku-0]") == "SKU-1"

    # The list finds it by SKU as the manager types; the late one is marked.
    phone.goto(f"{server.url}/purchase-orders/")
    assert phone.get_by_test_id("po-late").count() == 1
    phone.get_by_test_id("po-search").type("sku-2")
    phone.wait_for_url("**/purchase-orders/?q=sku-2**")
    assert phone.locator("[data-po]").count() == 1 and "PO-PHONE-1" in phone.locator("#results").inner_text()

    # 5 of the 12 widgets come in; the manager closes the rest short: asked first, then done.
    with app.app_context():
        db.atomic(receive, po_number="PO-PHONE-1", location="DOCK", lines=[("SKU-1", 5)])
    phone.locator("a", has_text="PO-PHONE-1").tap()
    assert phone.get_by_test_id("po-cancel").count() == 0  # stock came in: closing short is the way
    phone.get_by_test_id("po-close").tap()
    expected = phone.get_by_test_id("po-no-longer-expected").inner_text()
    assert "SKU-1: 7 of 12" in expected and "SKU-2: 3 of 3" in expected
    phone.get_by_test_id("po-confirm").tap()
    phone.wait_for_url("**/purchase-order/PO-PHONE-1")
    assert phone.get_by_test_id("po-status").inner_text() == "closed"
    assert stored(app, "PO-PHONE-1")[0] == "closed"


def test_every_purchase_order_page_fits_a_360_px_phone(live_wms, small_phone):
    server, app = live_wms
    build_floor(app)
    page = small_phone
    sign_in_page(page, server.url, "manager")
    po = "PO-2026-000000000000000000000000000000000000000001"
    problems = []
    for path in ("/purchase-orders/", "/purchase-orders/new", "/purchase-orders/import", f"/purchase-order/{po}",
                 f"/purchase-order/{po}/edit", f"/purchase-order/{po}/close", f"/purchase-order/{po}/cancel"):
        response = page.goto(server.url + path)
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            problems.append(f"{path}: {width} px wide")
        for html, height in page.evaluate(TOO_SMALL):
            problems.append(f"{path}: {height:.0f} px tall {html}")
    assert problems == []
