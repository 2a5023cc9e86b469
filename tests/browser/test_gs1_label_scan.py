"""A GS1-128 label on a carton (GTIN, lot, expiry and a count of 12) scanned on the receive page as
a keyboard-wedge scanner types it (the whole string, group separators included, then Enter): one
scan fills the product and the quantity, and the receipt receives the label's 12 units.

test_the_quantity_field_shows_the_labels_count waits for the scanner script (static/scanner.js,
issue 10's scanner slice): it asks the product field's check, which answers {"quantity": 12} for
such a label, and fills the quantity field from it. It passes when the scan is sent with the
quantity field showing 12, or when the field shows 12 while the scan is on its way."""
from __future__ import annotations

from urllib.parse import parse_qs

from playwright.sync_api import expect

from app import db, ledger
from app.catalog import create_product
from app.inbound.purchase_orders import create_purchase_order
from app.inventory import stock_summary
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import PHONE, sign_in_page

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
    assert phone.evaluate("document.activeElement.name") == "product"


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
    """Waits for static/scanner.js (see the module's docstring)."""
    server, app = live_wms
    build_floor(app)
    open_the_receive_page(server, phone)

    held = []  # the scan is held on its way, so that the field can be read while it is

    def hold(route):
        held.append(route)

    phone.route("**/receiving/po/PO-9/scan", hold)
    with phone.expect_request("**/receiving/po/PO-9/scan") as sent:
        phone.keyboard.type(LABEL + "\n", delay=0)
    form = parse_qs(sent.value.post_data or "")
    assert form.get("product") == [LABEL]
    if form.get("quantity") != ["12"]:  # not filled before it was sent: then while it is on its way
        expect(phone.locator(QUANTITY)).to_have_value("12")
    for route in held:
        route.continue_()
    phone.unroute("**/receiving/po/PO-9/scan")
    ok = phone.locator(SCAN_LOG_OK).first
    ok.wait_for()
    assert "+12 GS1-1 · Boxed widget: 12 in this receipt" in ok.inner_text()
