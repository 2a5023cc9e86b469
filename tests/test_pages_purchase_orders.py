"""The purchase order pages, for managers: create and edit (errors under the field), the list
(status filter, search, late ones marked), open, close short, cancel, and the CSV import."""
import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.catalog import create_product
from app.inbound.purchase_orders import create_purchase_order, get_purchase_order
from app.models import PurchaseOrder, PurchaseOrderLine
from app.warehouses import create_location, create_warehouse, get_warehouse

HTMX = {"HX-Request": "true"}


@pytest.fixture
def floor(app):
    def build(session):
        create_product(session, sku="SKU-1", name="Blue widget")
        create_product(session, sku="SKU-2", name="Red gadget")
        create_product(session, sku="SKU-3", name="Green gizmo")
        create_location(session, warehouse=get_warehouse(session), code="DOCK", type="receiving")

    db.atomic(build)


def add_po(po_number="PO-1", lines=(("SKU-1", 10), ("SKU-2", 4)), **extra):
    return db.atomic(create_purchase_order, po_number=po_number, supplier=extra.pop("supplier", "Acme"),
                     lines=list(lines), **extra)


def po(po_number="PO-1"):
    """(status, supplier, {sku: ordered}) as stored."""
    with db.reading() as session:
        order = get_purchase_order(session, po_number)
        lines = session.exec(
            select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order.id)
            .order_by(PurchaseOrderLine.id)
        ).all()
        from app.models import Product
        skus = {p.id: p.sku for p in session.exec(select(Product))}
        return order.status, order.supplier, {skus[line.product_id]: line.quantity_ordered for line in lines}


def po_count():
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(PurchaseOrder)).one()


def incoming(api, sku):
    return api.get(f"/api/v1/stock/{sku}").get_json()["incoming"]


def receive(api, po_number, sku, quantity):
    response = api.post(f"/api/v1/purchase-orders/{po_number}/receipts",
                        json={"location": "DOCK", "lines": [{"sku": sku, "quantity": quantity}]})
    assert response.status_code == 201, response.get_data(as_text=True)


def new_form(**fields):
    data = {"po_number": "PO-7", "supplier": "Acme", "expected_at": "", "tolerance_percent": "", "note": "",
            "sku-0": "SKU-1", "quantity-0": "12", "sku-1": "", "quantity-1": "", "sku-2": "SKU-2", "quantity-2": "3"}
    data.update(fields)
    return data


def field_error(html: str, name: str) -> str:
    """The words under the field `name` (empty when there are none)."""
    found = re.search(rf'id="{re.escape(name)}-error" data-testid="field-error">([^<]*)<', html)
    return found.group(1) if found else ""


# ---- create ---------------------------------------------------------------------------------


def test_a_manager_creates_an_open_po_from_sku_and_quantity_rows(floor, manager, api):
    response = manager.post("/purchase-orders/new", data=new_form(expected_at="2026-12-24", tolerance_percent="5",
                                                                  status="open"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert po("PO-7") == ("open", "Acme", {"SKU-1": 12, "SKU-2": 3})  # the empty row is left out
    page = manager.get(response.location).get_data(as_text=True)
    assert "Purchase order PO-7 created and open." in page and "2026-12-24" in page and "5%" in page
    assert incoming(api, "SKU-1") == 12


def test_saved_as_a_draft_it_is_not_incoming_until_a_manager_opens_it(floor, manager, api):
    response = manager.post("/purchase-orders/new", data=new_form(status="draft"))
    assert response.status_code == 302 and po("PO-7")[0] == "draft"
    assert incoming(api, "SKU-1") == 0
    page = manager.get("/purchase-order/PO-7").get_data(as_text=True)
    assert 'data-testid="po-open"' in page and 'data-testid="po-close"' not in page
    opened = manager.post("/purchase-order/PO-7/open")
    assert opened.status_code == 302 and po("PO-7")[0] == "open"
    assert incoming(api, "SKU-1") == 12
    assert "is open" in manager.get(opened.location).get_data(as_text=True)


@pytest.mark.parametrize("fields, status, field, words", [
    ({"sku-2": "NOPE"}, 404, "sku-2", "no product NOPE"),
    ({"quantity-2": "0"}, 400, "quantity-2", "quantity must be a whole number from 1"),
    ({"quantity-0": "abc"}, 400, "quantity-0", "quantity must be a whole number"),
    ({"quantity-0": ""}, 400, "quantity-0", "quantity is required"),
    ({"sku-2": "SKU-1"}, 400, "sku-2", "SKU-1 is on more than one line"),
    ({"expected_at": "2026-02-30"}, 400, "expected_at", "is not a day of the calendar"),
    ({"expected_at": "tomorrow"}, 400, "expected_at", "YYYY-MM-DD"),
    ({"tolerance_percent": "150"}, 400, "tolerance_percent", "from 0 to 100"),
    ({"supplier": ""}, 400, "supplier", "supplier is required"),
    ({"po_number": "x" * 51}, 400, "po_number", "at most 50"),
])
def test_a_bad_value_is_said_under_its_field_and_nothing_is_created(floor, manager, fields, status, field, words):
    response = manager.post("/purchase-orders/new", data=new_form(**fields))
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert words in field_error(html, field)
    assert po_count() == 0
    assert 'value="SKU-2"' in html or fields.get("sku-2")  # the rows come back as typed


def test_a_po_without_lines_or_a_taken_number_is_refused_in_words(floor, manager):
    response = manager.post("/purchase-orders/new", data=new_form(**{"sku-0": "", "quantity-0": "", "sku-2": "",
                                                                     "quantity-2": ""}))
    assert response.status_code == 400 and "needs at least one line" in field_error(response.get_data(as_text=True),
                                                                                    "lines")
    add_po("PO-7")
    response = manager.post("/purchase-orders/new", data=new_form())
    assert response.status_code == 409 and "PO-7 already exists" in response.get_data(as_text=True)
    assert po_count() == 1


def test_add_line_answers_one_more_row_and_the_next_key(floor, manager):
    response = manager.get("/purchase-orders/line?next_row=4", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="sku-4"' in html and 'name="quantity-4"' in html
    assert 'id="next-row" name="next_row" value="5" hx-swap-oob="true"' in html
    refused = manager.get("/purchase-orders/line?next_row=abc", headers=HTMX)
    assert refused.status_code == 400 and "at most 1,000 lines" in refused.get_data(as_text=True)


def test_a_picker_cannot_open_the_purchase_order_pages(floor, picker):
    add_po()
    for path in ("/purchase-orders/", "/purchase-orders/new", "/purchase-order/PO-1", "/purchase-orders/import"):
        assert picker.get(path).status_code == 403, path
    assert picker.post("/purchase-order/PO-1/close").status_code == 403
    assert po()[0] == "open"


# ---- edit -----------------------------------------------------------------------------------


def test_an_open_po_is_edited_lines_changed_added_and_removed(floor, manager, api):
    add_po(expected_at="2026-12-24")
    form = manager.get("/purchase-order/PO-1/edit").get_data(as_text=True)
    assert 'value="SKU-1"' in form and 'value="10"' in form and 'value="2026-12-24"' in form
    response = manager.post("/purchase-order/PO-1/edit", data={
        "supplier": "Acme Pty", "expected_at": "2026-12-31", "tolerance_percent": "", "note": "call first",
        "sku-0": "SKU-1", "quantity-0": "20", "sku-1": "", "quantity-1": "", "sku-5": "SKU-3", "quantity-5": "2",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    assert po() == ("open", "Acme Pty", {"SKU-1": 20, "SKU-3": 2})
    assert incoming(api, "SKU-1") == 20 and incoming(api, "SKU-2") == 0 and incoming(api, "SKU-3") == 2
    assert "Purchase order PO-1 saved." in manager.get(response.location).get_data(as_text=True)


def test_an_edit_refused_keeps_the_po_as_it_was(floor, manager):
    add_po()
    response = manager.post("/purchase-order/PO-1/edit", data={"supplier": "Acme", "sku-0": "SKU-1", "quantity-0": "5",
                                                               "sku-1": "NOPE", "quantity-1": "1"})
    assert response.status_code == 404 and "no product NOPE" in field_error(response.get_data(as_text=True), "sku-1")
    assert po() == ("open", "Acme", {"SKU-1": 10, "SKU-2": 4})


def test_a_po_with_stock_received_can_no_longer_be_edited(floor, manager, api):
    add_po()
    receive(api, "PO-1", "SKU-1", 3)
    page = manager.get("/purchase-order/PO-1").get_data(as_text=True)
    assert 'data-testid="po-edit"' not in page
    response = manager.post("/purchase-order/PO-1/edit", data={"supplier": "Other", "sku-0": "SKU-1", "quantity-0": "1"})
    assert response.status_code == 409
    assert "partially received: only a draft or an open one can be changed" in response.get_data(as_text=True)
    assert po() == ("partially_received", "Acme", {"SKU-1": 10, "SKU-2": 4})


# ---- the list -------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_finds_by_po_number_supplier_or_sku(floor, manager):
    add_po("PO-1", [("SKU-1", 1)], supplier="Acme")
    add_po("PO-2", [("SKU-2", 1)], supplier="Bolt & Co", status="draft")
    add_po("PO-3", [("SKU-3", 1)], supplier="Crate 100%")

    def listed(**query):
        response = manager.get("/purchase-orders/", query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return re.findall(r'data-po="([^"]+)"', response.get_data(as_text=True))

    assert listed() == ["PO-3", "PO-2", "PO-1"]
    assert listed(status="draft") == ["PO-2"]
    assert listed(status="OPEN") == ["PO-3", "PO-1"]
    assert listed(q="po-2") == ["PO-2"]
    assert listed(q="bolt") == ["PO-2"]
    assert listed(q="sku-3") == ["PO-3"]
    assert listed(q="100%") == ["PO-3"]  # a % is a character, not a wildcard
    assert listed(q="%") == ["PO-3"]
    assert listed(q="_") == [] and listed(q="\\") == []
    assert listed(q="nothing like it") == []


def test_late_pos_are_marked_and_can_be_listed_alone(floor, manager, api):
    add_po("PO-1", [("SKU-1", 1)], expected_at="2001-01-01")
    add_po("PO-2", [("SKU-2", 1)], expected_at="2999-01-01")
    add_po("PO-3", [("SKU-3", 1)], expected_at="2001-01-01")
    receive(api, "PO-3", "SKU-3", 1)  # received in full: no longer late
    html = manager.get("/purchase-orders/").get_data(as_text=True)
    late = re.findall(r'<tr data-po="([^"]+)" class="line-unknown">', html)
    assert late == ["PO-1"] and html.count('data-testid="po-late"') == 1
    only = manager.get("/purchase-orders/?late=1").get_data(as_text=True)
    assert re.findall(r'data-po="([^"]+)"', only) == ["PO-1"]
    assert "(late)" in manager.get("/purchase-order/PO-1").get_data(as_text=True)


def test_the_list_answers_htmx_with_the_results_only_and_refuses_a_forged_status_in_words(floor, manager):
    add_po()
    response = manager.get("/purchase-orders/?q=PO", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'data-po="PO-1"' in html
    refused = manager.get("/purchase-orders/?status=shipped")
    assert refused.status_code == 400 and "status must be one of" in refused.get_data(as_text=True)
    long = manager.get("/purchase-orders/", query_string={"q": "x" * 101})
    assert long.status_code == 400 and "at most 100" in long.get_data(as_text=True)


def test_the_list_is_per_warehouse_the_current_one_unless_another_is_asked(floor, manager):
    db.atomic(create_warehouse, code="NORTH", name="North")
    add_po("PO-1")
    add_po("PO-2", warehouse="NORTH")
    assert re.findall(r'data-po="([^"]+)"', manager.get("/purchase-orders/").get_data(as_text=True)) == ["PO-1"]
    north = manager.get("/purchase-orders/?warehouse=north").get_data(as_text=True)
    assert re.findall(r'data-po="([^"]+)"', north) == ["PO-2"]


# ---- close short and cancel -----------------------------------------------------------------


def test_close_short_asks_first_then_stops_the_rest_counting_as_incoming(floor, manager, api):
    add_po()
    receive(api, "PO-1", "SKU-1", 6)
    page = manager.get("/purchase-order/PO-1").get_data(as_text=True)
    assert 'data-testid="po-close"' in page and 'data-testid="po-cancel"' not in page
    confirm = manager.get("/purchase-order/PO-1/close").get_data(as_text=True)
    assert "Close PO-1 short?" in confirm and "SKU-1</strong>: 4 of 10" in confirm and "SKU-2</strong>: 4 of 4" in confirm
    assert po()[0] == "partially_received" and incoming(api, "SKU-1") == 4  # asking changed nothing
    response = manager.post("/purchase-order/PO-1/close")
    assert response.status_code == 302 and po()[0] == "closed"
    assert incoming(api, "SKU-1") == 0 and incoming(api, "SKU-2") == 0
    detail = manager.get(response.location).get_data(as_text=True)
    assert "is closed" in detail and 'data-testid="po-close"' not in detail


def test_an_order_nothing_came_in_for_offers_cancel_and_one_partly_received_offers_close_short(floor, manager, api):
    add_po("PO-1")
    page = manager.get("/purchase-order/PO-1").get_data(as_text=True)
    assert 'data-testid="po-cancel"' in page and 'data-testid="po-close"' not in page
    receive(api, "PO-1", "SKU-1", 1)
    page = manager.get("/purchase-order/PO-1").get_data(as_text=True)
    assert 'data-testid="po-cancel"' not in page and 'data-testid="po-close"' in page


def test_cancel_asks_first_and_is_refused_in_words_once_stock_came_in(floor, manager, api):
    add_po("PO-1")
    add_po("PO-2")
    assert "Cancel PO-1?" in manager.get("/purchase-order/PO-1/cancel").get_data(as_text=True)
    assert manager.post("/purchase-order/PO-1/cancel").status_code == 302 and po("PO-1")[0] == "cancelled"
    receive(api, "PO-2", "SKU-1", 1)
    page = manager.get("/purchase-order/PO-2/cancel").get_data(as_text=True)
    assert "close it short instead" in page and 'data-testid="po-confirm"' not in page
    refused = manager.post("/purchase-order/PO-2/cancel")
    assert refused.status_code == 409 and "close it short instead" in refused.get_data(as_text=True)
    assert po("PO-2")[0] == "partially_received"


def test_an_unknown_po_is_a_404_page_in_words(floor, manager):
    response = manager.get("/purchase-order/NOPE")
    assert response.status_code == 404 and "no purchase order NOPE" in response.get_data(as_text=True)


# ---- CSV import -----------------------------------------------------------------------------

GOOD_CSV = """po_number,supplier,sku,quantity,expected_at,status
PO-100,Acme,SKU-1,24,2026-12-24,
PO-100,,SKU-2,12,,
PO-101,Bolt,sku-3,5,,draft
"""


def test_a_csv_file_creates_one_po_per_number(floor, manager, api):
    response = manager.post("/purchase-orders/import", data={"text": GOOD_CSV})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "2 purchase orders created (3 lines)" in html
    assert po("PO-100") == ("open", "Acme", {"SKU-1": 24, "SKU-2": 12})
    assert po("PO-101") == ("draft", "Bolt", {"SKU-3": 5})
    assert incoming(api, "SKU-1") == 24 and incoming(api, "SKU-3") == 0


def test_a_csv_order_with_a_bad_row_is_left_out_whole_and_each_bad_row_reported(floor, manager):
    text = """po_number,supplier,sku,quantity,expected_at
PO-1,Acme,SKU-1,5,
PO-1,,NOPE,5,
PO-2,Bolt,SKU-1,0,2026-02-30
PO-3,Crate,SKU-2,7,
PO-4,Acme,SKU-1,1,
PO-4,Other,SKU-2,1,
"""
    response = manager.post("/purchase-orders/import", data={"text": text})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "1 purchase order created (1 line); 3 left out for errors: PO-1, PO-2, PO-4" in " ".join(html.split())
    rows = re.findall(r'<td data-label="Row" class="num">(\d+)</td><td data-label="Field">([^<]*)</td>', html)
    assert rows == [("3", "sku"), ("4", "expected_at"), ("4", "quantity"), ("7", "supplier")]
    assert po_count() == 1 and po("PO-3") == ("open", "Crate", {"SKU-2": 7})


@pytest.mark.parametrize("text, words", [
    ("po_number,supplier,sku\nPO-1,Acme,SKU-1\n", "quantity is missing"),
    ("po_number,supplier,sku,quantity,colour\nPO-1,Acme,SKU-1,1,red\n", "not one of"),
    ("po_number,supplier,sku,quantity\nPO-1,Acme,SKU-1,1\nPO-2,Acme,SKU-2,1,extra\n", "too many"),
    ('po_number,supplier,sku,quantity\nPO-1,"Acme,SKU-1,1\n', "never closed"),
])
def test_a_csv_file_of_the_wrong_shape_imports_nothing(floor, manager, text, words):
    response = manager.post("/purchase-orders/import", data={"text": text})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was imported" in html and words in html
    assert po_count() == 0


def test_a_csv_file_that_is_not_utf8_or_empty_is_refused_in_words(floor, manager):
    from io import BytesIO

    response = manager.post("/purchase-orders/import", data={"file": (BytesIO(b"po_number\n\xff\xfe"), "po.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 400 and "not UTF-8" in response.get_data(as_text=True)
    response = manager.post("/purchase-orders/import", data={"text": "  "})
    assert response.status_code == 400 and "choose a CSV file" in response.get_data(as_text=True)
