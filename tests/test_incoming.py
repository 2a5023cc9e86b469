"""Incoming stock, per warehouse, on SQLite and PostgreSQL: what open and partially received
purchase orders still bring; drafts, closed, cancelled and received orders bring nothing."""
import pytest

from app import db
from app.accounts import create_token
from app.catalog import create_product
from app.inbound.incoming import incoming_by_product, incoming_by_warehouse
from app.inbound.purchase_orders import (
    cancel_purchase_order,
    close_purchase_order,
    create_purchase_order,
    get_purchase_order,
    open_purchase_order,
)
from app.inventory import stock_by_product, stock_summary
from app.models import Product
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests.conftest import ApiClient


@pytest.fixture
def floor(any_db_app):
    def build(session):
        main = get_warehouse(session)
        north = create_warehouse(session, code="NORTH", name="North")
        for sku in ("SKU-1", "SKU-2"):
            create_product(session, sku=sku, name=sku)
        create_location(session, warehouse=main, code="DOCK", type="receiving")
        create_location(session, warehouse=north, code="N-DOCK", type="receiving")

    db.atomic(build)
    return ApiClient(any_db_app.test_client(), db.atomic(create_token, "incoming"))


def add(po_number, lines, warehouse=None, status=None):
    db.atomic(create_purchase_order, po_number=po_number, supplier="Acme", lines=lines, warehouse=warehouse,
              status=status)


def receive(api, po_number, location, sku, quantity):
    response = api.post(f"/api/v1/purchase-orders/{po_number}/receipts",
                        json={"location": location, "lines": [{"sku": sku, "quantity": quantity}]})
    assert response.status_code == 201, response.get_data(as_text=True)


def figures(sku="SKU-1"):
    """(incoming in all, by warehouse code, MAIN only, NORTH only, on the stock-by-product page)."""
    with db.reading() as session:
        product_id = session.exec(Product.__table__.select().where(Product.sku == sku)).first().id
        summary = stock_summary(session, sku)
        by_code = {row["warehouse"]: row["incoming"] for row in incoming_by_warehouse(session, product_id)}
        assert by_code == {row["warehouse"]: row["incoming"] for row in summary["incoming_by_warehouse"]}
        main, north = get_warehouse(session), get_warehouse(session, "NORTH")
        [row] = [r for r in stock_by_product(session, sku) if r["product"].sku == sku]
        return (summary["incoming"], by_code,
                incoming_by_product(session, [product_id], warehouse_id=main.id).get(product_id, 0),
                incoming_by_product(session, [product_id], warehouse_id=north.id).get(product_id, 0),
                row["incoming"])


def test_open_and_partially_received_orders_count_in_their_own_warehouse(floor):
    add("PO-1", [("SKU-1", 10), ("SKU-2", 3)])
    add("PO-2", [("SKU-1", 5)], warehouse="NORTH")
    assert figures() == (15, {"MAIN": 10, "NORTH": 5}, 10, 5, 15)
    receive(floor, "PO-1", "DOCK", "SKU-1", 4)
    with db.reading() as session:
        assert get_purchase_order(session, "PO-1").status == "partially_received"
    assert figures() == (11, {"MAIN": 6, "NORTH": 5}, 6, 5, 11)
    receive(floor, "PO-2", "N-DOCK", "SKU-1", 5)  # the line is all in; the order too
    assert figures() == (6, {"MAIN": 6}, 6, 0, 6)
    assert figures("SKU-2") == (3, {"MAIN": 3}, 3, 0, 3)


def test_drafts_count_only_once_opened_and_closed_or_cancelled_orders_stop_counting(floor):
    add("PO-1", [("SKU-1", 10)], status="draft")
    add("PO-2", [("SKU-1", 5)], warehouse="NORTH")
    add("PO-3", [("SKU-1", 7)])
    assert figures() == (12, {"MAIN": 7, "NORTH": 5}, 7, 5, 12)
    db.atomic(open_purchase_order, "PO-1")
    assert figures() == (22, {"MAIN": 17, "NORTH": 5}, 17, 5, 22)
    receive(floor, "PO-1", "DOCK", "SKU-1", 6)
    db.atomic(close_purchase_order, "PO-1")  # closed short: the 4 not received never come
    assert figures() == (12, {"MAIN": 7, "NORTH": 5}, 7, 5, 12)
    db.atomic(cancel_purchase_order, "PO-2")
    assert figures() == (7, {"MAIN": 7}, 7, 0, 7)
    stock = floor.get("/api/v1/stock/SKU-1").get_json()
    assert (stock["on_hand"], stock["incoming"], stock["incoming_by_warehouse"]) == (
        6, 7, [{"warehouse": "MAIN", "incoming": 7}])


def test_a_product_nothing_is_expected_of_shows_no_incoming(floor):
    assert figures() == (0, {}, 0, 0, 0)
    assert floor.get("/api/v1/stock/SKU-1").get_json()["incoming_by_warehouse"] == []
