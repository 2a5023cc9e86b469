"""The receiving pages: choosing a PO, scans answered one at a time (read only until Confirm),
confirming, receiving exceptions, and a manager reversing a receipt."""
import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.catalog import create_product
from app.inbound import putaway, receiving
from app.inbound.purchase_orders import create_purchase_order
from app.inventory import stock_summary
from app.models import Movement, PutawayTask, Receipt, ReceivingException
from app.warehouses import create_location, create_warehouse, get_warehouse

HTMX = {"HX-Request": "true"}


@pytest.fixture
def floor(app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Red gadget")
        create_product(session, sku="SKU-9", name="Not ordered")
        create_location(session, warehouse=site, code="DOCK", type="receiving", zone="R", pick_sequence=1)
        create_location(session, warehouse=site, code="DOCK-2", type="receiving", zone="R", pick_sequence=2)
        create_location(session, warehouse=site, code="A-01", type="storage", zone="A")
        create_purchase_order(session, po_number="PO-1", supplier="Acme", lines=[("SKU-1", 10), ("SKU-2", 4)])
        north = create_warehouse(session, code="NORTH", name="North")
        create_location(session, warehouse=north, code="N-DOCK", type="receiving")
        create_purchase_order(session, po_number="PO-N", supplier="Nordic", warehouse="NORTH", lines=[("SKU-1", 1)])

    db.atomic(build)
    return app


def scan(client, product, quantity="1", lines=(), po="PO-1"):
    return client.post(f"/receiving/po/{po}/scan", data={"product": product, "quantity": quantity, "line": list(lines)},
                       headers=HTMX)


def confirm(client, lines, location="DOCK", headers=HTMX):
    return client.post("/receiving/po/PO-1/confirm", data={"location": location, "line": list(lines)}, headers=headers)


def stored() -> tuple:
    with db.reading() as session:
        return tuple(session.exec(select(func.count()).select_from(t)).one()
                     for t in (Movement, Receipt, PutawayTask, ReceivingException))


def on_hand(sku) -> dict:
    with db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, sku)["locations"]}


# ---- choosing the PO ---------------------------------------------------------------------------


def test_the_receiving_page_lists_the_current_warehouses_expected_pos(floor, picker):
    html = picker.get("/receiving/").get_data(as_text=True)
    assert 'data-testid="open-po-PO-1"' in html and "PO-N" not in html
    north = picker.get("/receiving/?warehouse=NORTH").get_data(as_text=True)
    assert 'data-testid="open-po-PO-N"' in north and "PO-1" not in north


def test_a_scanned_po_number_opens_its_page_and_an_unknown_one_is_said_under_the_field(floor, picker):
    response = picker.get("/receiving/?po=%20PO-1%20")
    assert response.status_code == 302 and response.headers["Location"].endswith("/receiving/po/PO-1")
    missing = picker.get("/receiving/?po=PO-404")
    html = missing.get_data(as_text=True)
    assert missing.status_code == 404
    assert 'data-testid="field-error"' in html and "no purchase order PO-404" in html


def test_the_scan_page_starts_at_the_first_receiving_location_with_the_product_field_focused(floor, picker):
    html = picker.get("/receiving/po/PO-1").get_data(as_text=True)
    assert 'value="DOCK" class="scan"' in html
    for hook in ("receiving-location", "scan-product", "scan-quantity", "scan-add", "scan-log", "tally", "confirm-receipt",
                 "to-come-table"):
        assert f'data-testid="{hook}"' in html
    assert "data-first autofocus" in html and "/static/scanner.js" in html
    assert 'data-testid="receipts"' not in html and "exceptions-link" not in picker.get("/receiving/").get_data(as_text=True)


def test_the_receiving_location_can_be_chosen_without_javascript_and_an_unknown_one_is_said(floor, picker):
    chosen = picker.get("/receiving/po/PO-1?location=dock-2").get_data(as_text=True)
    assert 'value="DOCK-2" class="scan"' in chosen
    assert '<noscript><input type="hidden" name="location" value="DOCK-2"></noscript>' in chosen
    missing = picker.get("/receiving/po/PO-1?location=N-DOCK")  # another warehouse's
    html = missing.get_data(as_text=True)
    assert missing.status_code == 404 and 'data-testid="field-error"' in html and "no location N-DOCK" in html


# ---- scanning ----------------------------------------------------------------------------------


def test_each_scan_adds_to_the_receipt_in_the_page_and_stores_nothing(floor, picker):
    first = scan(picker, "9300000000011")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "<html" not in html
    assert "+1 SKU-1 · Blue widget: 1 in this receipt, 9 still to come after it" in html
    assert 'id="tally" class="move-log" data-testid="tally" hx-swap-oob="true"' in html
    assert 'name="line" value="SKU-1:1"' in html
    many = scan(picker, "SKU-2", quantity="3", lines=["SKU-1:1"]).get_data(as_text=True)
    assert 'value="SKU-1:1"' in many and 'value="SKU-2:3"' in many
    assert many.index("SKU-1:1") < many.index("SKU-2:3")  # scan order kept
    again = scan(picker, "sku-1", lines=["SKU-1:1", "SKU-2:3"]).get_data(as_text=True)
    assert 'value="SKU-1:2"' in again and again.index("SKU-1:2") < again.index("SKU-2:3")
    assert stored() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "product, quantity, lines, status, code, words",
    [
        ("0000000000000", "1", [], 404, "unknown_barcode", "no product with SKU or barcode 0000000000000"),
        ("SKU-9", "1", [], 400, "not_on_purchase_order", "SKU-9 · Not ordered is not on purchase order PO-1"),
        ("SKU-2", "5", [], 409, "over_receipt", "4 ordered and 0 received: 5 more would be 5, past 4"),
        ("SKU-2", "1", ["SKU-2:4"], 409, "over_receipt", "(4 scanned in this receipt)"),
        ("SKU-1", "lots", [], 400, "validation_error", "quantity must be a whole number"),
        ("SKU-1", "0", [], 400, "validation_error", "quantity must be a whole number from 1 to 1,000,000"),
        ("", "1", [], 400, "validation_error", "scan or type a product"),
        ("SKU-1", "1", ["SKU-1"], 400, "validation_error", "line SKU-1 is not SKU:units"),
        ("SKU-1", "1", ["SKU-1:"], 400, "validation_error", "quantity is required"),
        ("SKU-1", "1", ["SKU-1:1"] * 1001, 400, "validation_error", "at most 1,000 lines"),
        ("A\x00B", "1", [], 400, "validation_error", "control character"),
    ],
)
def test_a_scan_the_receipt_cannot_take_is_a_loud_error_naming_it(floor, picker, product, quantity, lines, status, code,
                                                                   words):
    response = scan(picker, product, quantity, lines)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert f'data-code="{code}"' in html and 'data-testid="flash-error"' in html and words in html
    assert ("record-exception" in html) == (code in receiving.EXCEPTION_KINDS)
    assert "hx-swap-oob" not in html  # the receipt being scanned is left as it was
    assert stored() == (0, 0, 0, 0)


def test_a_scan_against_a_po_that_is_no_longer_expected_is_refused(floor, picker):
    db.atomic(receiving.receive, po_number="PO-1", location="DOCK", lines=[("SKU-1", 10), ("SKU-2", 4)])
    response = scan(picker, "SKU-1")
    assert response.status_code == 409 and "cannot be received against: it is received" in response.get_data(as_text=True)


def test_a_refused_scan_is_kept_as_a_receiving_exception_for_a_manager(floor, picker, manager):
    kept = picker.post("/receiving/po/PO-1/exceptions", data={"scanned": "0000000000000", "kind": "unknown_barcode",
                                                              "quantity": "2"}, headers=HTMX)
    assert kept.status_code == 200 and "receiving exception #1" in kept.get_data(as_text=True)
    picker.post("/receiving/po/PO-1/exceptions", data={"scanned": "SKU-9", "kind": "not_on_purchase_order"}, headers=HTMX)
    assert picker.get("/receiving/exceptions").status_code == 403
    assert 'data-testid="exceptions-link"' in manager.get("/receiving/").get_data(as_text=True)
    page = manager.get("/receiving/exceptions").get_data(as_text=True)
    assert 'data-testid="exception-1"' in page and 'data-testid="exception-2"' in page
    assert "0000000000000" in page and "SKU-9" in page and "unknown barcode" in page
    resolved = manager.post("/receiving/exceptions/1/resolve", data={"status": "open"})
    assert resolved.status_code == 302
    page = manager.get("/receiving/exceptions").get_data(as_text=True)
    assert 'data-testid="exception-1"' not in page and 'data-testid="exception-2"' in page
    assert 'data-testid="exception-1"' in manager.get("/receiving/exceptions?status=resolved").get_data(as_text=True)


@pytest.mark.parametrize(
    "data, words",
    [
        ({"scanned": "X", "kind": "lost"}, "kind must be one of"),
        ({"scanned": "", "kind": "unknown_barcode"}, "what was scanned is required"),
        ({"scanned": "X" * 5000, "kind": "unknown_barcode"}, "at most 128 are allowed"),
        ({"scanned": "X", "kind": "unknown_barcode", "quantity": "-1"}, "quantity must be a whole number from 1"),
        ({"scanned": "A\x1bB", "kind": "unknown_barcode"}, "control character"),
    ],
)
def test_a_bad_receiving_exception_is_refused_in_words_and_keeps_nothing(floor, picker, data, words):
    response = picker.post("/receiving/po/PO-1/exceptions", data=data, headers=HTMX)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert stored() == (0, 0, 0, 0)


# ---- confirming --------------------------------------------------------------------------------


def test_confirming_posts_every_line_and_shows_what_is_still_to_come(floor, picker):
    response = confirm(picker, ["SKU-1:6", "SKU-2:4"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="receiving-panel">')
    assert "Received 10 units of 2 SKUs into DOCK: receipt #1, 2 putaway tasks. PO-1 is now partially received." in html
    assert 'data-testid="tally-empty"' in html
    assert html.count('data-testid="to-come">4<') == 1 and html.count('data-testid="to-come">0<') == 1
    assert stored() == (2, 1, 2, 0)
    assert on_hand("SKU-1") == {"DOCK": 6} and on_hand("SKU-2") == {"DOCK": 4}
    with db.reading() as session:
        assert {m.reference for m in session.exec(select(Movement))} == {"PO-1"}
        assert {m.user_id for m in session.exec(select(Movement))} != {None}


def test_confirming_works_without_javascript(floor, picker):
    response = confirm(picker, ["SKU-1:2"], location="dock-2", headers={})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and "into DOCK-2" in html
    assert on_hand("SKU-1") == {"DOCK-2": 2}


@pytest.mark.parametrize(
    "lines, location, status, words, under_location",
    [
        ([], "DOCK", 400, "scan at least one product before confirming", False),
        (["SKU-1:2"], "NOWHERE", 404, "no location NOWHERE", True),
        (["SKU-1:2"], "", 400, "scan or type a location", True),
        (["SKU-1:2"], "N-DOCK", 404, "no location N-DOCK", True),
        (["SKU-1:11"], "DOCK", 409, "10 ordered and 0 received: 11 more would be 11", False),
        (["SKU-9:1"], "DOCK", 400, "SKU-9 · Not ordered is not on purchase order PO-1", False),
        (["SKU-1:abc"], "DOCK", 400, "quantity must be a whole number", False),
        (["W" * 5000 + ":1"], "DOCK", 400, "SKU is 5,000 characters long", False),
    ],
)
def test_a_receipt_that_cannot_be_posted_is_said_in_words_keeps_the_scans_and_posts_nothing(
        floor, picker, lines, location, status, words, under_location):
    response = confirm(picker, lines, location=location)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert words in html
    if under_location:
        assert 'id="location-hint"' in html and 'hx-swap-oob="true"' in html and 'data-testid="field-error"' in html
    else:
        assert 'data-testid="flash-error"' in html
    if lines and ":" in lines[0] and lines[0].split(":")[1].isdigit() and len(lines[0]) < 100:
        assert f'value="{lines[0]}"' in html  # the scans are still there to fix and confirm again
    assert stored() == (0, 0, 0, 0)


# ---- reversing (managers) ----------------------------------------------------------------------


def test_a_manager_reverses_a_receipt_from_the_po_page(floor, manager, picker):
    confirm(picker, ["SKU-1:3"])
    page = manager.get("/receiving/po/PO-1").get_data(as_text=True)
    assert 'data-testid="reverse-receipt-1"' in page
    assert picker.post("/receiving/receipts/1/reverse", data={}).status_code == 403
    response = manager.post("/receiving/receipts/1/reverse", data={})
    assert response.status_code == 302
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "Receipt #1 reversed: 3 units back to the supplier, 1 putaway tasks cancelled. PO-1 is now open." in page
    assert 'data-testid="reversed"' in page
    assert on_hand("SKU-1") == {}


def test_a_receipt_already_put_away_is_not_reversed_and_the_page_says_why(floor, manager, picker):
    done = db.atomic(receiving.receive, po_number="PO-1", location="DOCK", lines=[("SKU-1", 3)])
    db.atomic(putaway.complete, done.putaway_tasks[0], location="A-01")
    response = manager.post(f"/receiving/receipts/{done.id}/reverse", data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "have been put away already" in html and "<html" in html
    assert on_hand("SKU-1") == {"A-01": 3}
    assert manager.post("/receiving/receipts/999/reverse", data={}).status_code == 404


def test_receiving_pages_need_a_signed_in_user(floor, client):
    assert client.post("/receiving/po/PO-1/scan", data={"product": "SKU-1"}, headers=HTMX).status_code == 401
    assert client.get("/receiving/").status_code == 302
