"""API: purchase orders count as incoming; receipts against them reduce it and close the PO."""
import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.models import Movement, PurchaseOrder


@pytest.fixture
def floor(api):
    api.post("/api/v1/products", json={"sku": "SKU-1", "name": "Widget", "barcodes": ["9300000000011"]})
    api.post("/api/v1/products", json={"sku": "SKU-2", "name": "Gadget"})
    api.post("/api/v1/locations", json={"code": "DOCK", "type": "receiving"})
    return api


def movements():
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def order(api, po_number="PO-1", lines=(("SKU-1", 10), ("SKU-2", 4)), **extra):
    body = {"po_number": po_number, "supplier": "Acme", "lines": [{"sku": s, "quantity": q} for s, q in lines], **extra}
    return api.post("/api/v1/purchase-orders", json=body)


def receive(api, sku, quantity, po_number="PO-1", location="DOCK"):
    body = {"sku": sku, "location": location, "quantity": quantity}
    if po_number:
        body["po_number"] = po_number
    return api.post("/api/v1/stock/receipts", json=body)


def incoming(api, sku):
    return api.get(f"/api/v1/stock/{sku}").get_json()["incoming"]


def test_a_purchase_order_is_created_open_and_can_be_fetched(floor):
    response = order(floor)
    assert response.status_code == 201
    body = response.get_json()
    assert body == {
        "po_number": "PO-1",
        "supplier": "Acme",
        "warehouse": "MAIN",
        "status": "open",
        "created_at": body["created_at"],
        "lines": [
            {"sku": "SKU-1", "quantity_ordered": 10, "quantity_received": 0},
            {"sku": "SKU-2", "quantity_ordered": 4, "quantity_received": 0},
        ],
    }
    assert floor.get("/api/v1/purchase-orders/PO-1").get_json() == body


def test_open_purchase_orders_count_as_incoming(floor):
    order(floor, "PO-1", [("SKU-1", 10)])
    order(floor, "PO-2", [("SKU-1", 5)])
    assert incoming(floor, "SKU-1") == 15
    assert incoming(floor, "SKU-2") == 0


def test_receipts_add_stock_reduce_incoming_and_reference_the_po(floor):
    order(floor)
    response = receive(floor, "9300000000011", 6)
    assert response.status_code == 201
    assert set(response.get_json()) == {"movement_id", "on_hand"}
    assert response.get_json()["on_hand"] == 6
    stock = floor.get("/api/v1/stock/SKU-1").get_json()
    assert (stock["on_hand"], stock["incoming"]) == (6, 4)
    [movement] = floor.get("/api/v1/movements?reference=PO-1").get_json()["items"]
    assert (movement["type"], movement["from_location"], movement["to_location"], movement["quantity"]) == (
        "receipt", "@SUPPLIER", "DOCK", 6
    )
    assert floor.get("/api/v1/purchase-orders/PO-1").get_json()["status"] == "open"


def test_receiving_every_line_closes_the_po(floor):
    order(floor)
    receive(floor, "SKU-1", 10)
    assert floor.get("/api/v1/purchase-orders/PO-1").get_json()["status"] == "open"
    receive(floor, "SKU-2", 4)
    po = floor.get("/api/v1/purchase-orders/PO-1").get_json()
    assert po["status"] == "received"
    assert [line["quantity_received"] for line in po["lines"]] == [10, 4]
    assert incoming(floor, "SKU-1") == 0 and incoming(floor, "SKU-2") == 0
    before = movements()
    error = receive(floor, "SKU-1", 1)
    assert error.status_code == 409 and error.get_json()["error"]["code"] == "purchase_order_closed"
    assert movements() == before


def test_a_receipt_without_a_po_adds_stock_to_the_named_location(floor):
    response = receive(floor, "SKU-2", 3, po_number=None)
    assert response.status_code == 201 and response.get_json()["on_hand"] == 3
    assert incoming(floor, "SKU-2") == 0


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"sku": "SKU-1", "location": "DOCK", "quantity": 1, "po_number": "PO-404"}, 404, "po_number"),
        ({"sku": "NOPE", "location": "DOCK", "quantity": 1, "po_number": "PO-1"}, 404, "sku"),
        ({"sku": "SKU-1", "location": "NOWHERE", "quantity": 1, "po_number": "PO-1"}, 404, "location"),
        ({"sku": "SKU-1", "location": "DOCK", "quantity": 0, "po_number": "PO-1"}, 400, "quantity"),
        ({"sku": "SKU-1", "location": "DOCK", "quantity": 2.5, "po_number": "PO-1"}, 400, "quantity"),
        ({"sku": "SKU-1", "location": "DOCK", "po_number": "PO-1"}, 400, "quantity"),
        ({"sku": "SKU-1", "location": "DOCK", "quantity": 1, "po_number": "PO-1", "warehouse": "NOPE"}, 404, "warehouse"),
    ],
)
def test_a_bad_receipt_is_refused_and_changes_nothing(floor, body, status, field):
    order(floor, lines=[("SKU-1", 10)])
    before = movements()
    response = floor.post("/api/v1/stock/receipts", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field
    assert movements() == before
    assert floor.get("/api/v1/purchase-orders/PO-1").get_json()["lines"][0]["quantity_received"] == 0


def test_a_sku_not_on_the_po_is_refused(floor):
    order(floor, lines=[("SKU-1", 10)])
    response = receive(floor, "SKU-2", 1)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "sku"
    assert movements() == 0


def purchase_orders():
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(PurchaseOrder)).one()


@pytest.mark.parametrize(
    "change, status, field",
    [
        ({"lines": []}, 400, "lines"),
        ({"lines": [{"sku": "SKU-1", "quantity": 0}]}, 400, "lines.0.quantity"),
        ({"lines": [{"sku": "SKU-1", "quantity": "5"}]}, 400, "lines.0.quantity"),
        ({"lines": [{"sku": "SKU-1"}]}, 400, "lines.0.quantity"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, 404, "lines.0.sku"),
        ({"lines": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-1", "quantity": 2}]}, 400, "lines.1.sku"),
        ({"supplier": ""}, 400, "supplier"),
        ({"warehouse": "NOPE"}, 404, "warehouse"),
        ({"po_number": "PO-1"}, 409, "po_number"),
    ],
)
def test_a_bad_purchase_order_is_refused_and_creates_nothing(floor, change, status, field):
    order(floor, "PO-1")
    body = {"po_number": "PO-2", "supplier": "Acme", "lines": [{"sku": "SKU-1", "quantity": 3}], **change}
    response = floor.post("/api/v1/purchase-orders", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field
    assert purchase_orders() == 1
    assert incoming(floor, "SKU-1") == 10


def test_an_unknown_po_is_404(floor):
    response = floor.get("/api/v1/purchase-orders/NOPE")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
