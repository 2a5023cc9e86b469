"""A GS1-128 label on a carton (GTIN, lot, expiry and a count of 12) scanned on the receive page as
a keyboard-wedge scanner types it (the whole string, group separators included, then Enter): one
scan fills the product and the quantity, and the receipt receives the label's 12 units.

test_the_quantity_field_shows_the_labels_count: a label typed into the product field by hand (or
put there by the camera) and checked as the field is left fills the quantity field with its count
before the scan is sent. It waits for the scanner slice of issue 10: static/scanner.js fills the
quantity from a check's {"quantity": 12}, and the receive page's product field must be checked
(receiving.check answers kind=product). A wedge scan ending in Enter is sent at once, before its
check answers: the server takes the label's count then (the first test), and the check's late
answer is ignored, so that the next scan's quantity is never a label's."""
from __future__ import annotations

from urllib.parse import parse_qs

from playwright.sync_api import expect

from app import db, ledger
from app.catalog import create_product
from app.inbound.purchase_orders import create_purchase_order
from app.inventory import stock_summary
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import PHONE, sign_in_page
from tests.support.focus import assert_focus_on

GS = "\x1d"
LABEL = "]C10109506000134352" "10LOT-7" + GS + "17270331" "3712"  # GTIN, lot LOT-7, expiry 2027-03-31, count 12
SCAN_LOG_OK = "[data-testid=scan-log] li.ok, [data-testid=scan-log] li[data-state=ok]"
QUANTITY = "input[name=quantity]"


def build_floor(app):
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku="GS1-1", name="Boxed widget", barcodes=["9506000134352"])
            create_location(session, warehouse=site, code="DOCK", type="receiving", zone="R")
            create_purchase_order(session, po_number="PO-9", supplier="Acme", lines=[("GS1-1", 24)])

        db.atomic(build)


def on_hand(app, sku) -> dict:
    with app.app_context(), db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, sku)["locations"]}


def open_the_receive_page(server, phone):
    sign_in_page(phone, server.url, "picker")
    phone.goto(f"{server.url}/receiving/po/PO-9")
    assert_focus_on(phone, "product")


def test_one_scan_of_a_gs1_label_on_the_receive_page_receives_its_count(live_wms, phone):
    server, app = live_wms
    build_floor(app)
    open_the_receive_page(server, phone)

    phone.keyboard.type(LABEL + "\n", delay=0)  # as a wedge scanner types it, GS included
    ok = phone.locator(SCAN_LOG_OK).first
    ok.wait_for()
    assert "+12 GS1-1 · Boxed widget: 12 in this receipt" in ok.inner_text()
    row = phone.locator("[data-testid=tally-row][data-sku='GS1-1']")
    assert row.get_attribute("data-units") == "12"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    phone.get_by_test_id("confirm-receipt").tap()
    done = phone.get_by_test_id("receipt-done")
    done.wait_for()
    assert "Received 12 units of 1 SKU into DOCK" in done.inner_text()
    assert on_hand(app, "GS1-1") == {"DOCK": 12}
    with app.app_context(), db.reading() as session:
        assert ledger.check(session) == []


def test_the_quantity_field_shows_the_labels_count(live_wms, phone):
    """Waits for static/scanner.js and a check on the receive page's product field (see the
    module's docstring)."""
    server, app = live_wms
    build_floor(app)
    open_the_receive_page(server, phone)

    product = phone.locator("input[name=product]")
    product.fill(LABEL)  # typed by hand, or put there by the camera: not sent yet
    phone.locator("h1").click()  # tapping elsewhere checks the scan
    expect(phone.locator(QUANTITY)).to_have_value("12")
    with phone.expect_request("**/receiving/po/PO-9/scan") as sent:
        product.press("Enter")
    assert parse_qs(sent.value.post_data or "").get("quantity") == ["12"]  # sent as the field showed it
    ok = phone.locator(SCAN_LOG_OK).first
    ok.wait_for()
    assert "+12 GS1-1 · Boxed widget: 12 in this receipt" in ok.inner_text()
    assert phone.locator("[data-testid=tally-row][data-sku='GS1-1']").get_attribute("data-units") == "12"
