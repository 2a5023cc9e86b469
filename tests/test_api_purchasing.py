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
        "expected_at": None,
        "late": False,
        "tolerance_percent": None,
        "note": None,
        "closed_at": None,
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
    assert floor.get("/api/v1/purchase-orders/PO-1").get_json()["status"] == "partially_received"


def test_receiving_every_line_closes_the_po(floor):
    order(floor)
    receive(floor, "SKU-1", 10)
    assert floor.get("/api/v1/purchase-orders/PO-1").get_json()["status"] == "partially_received"
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


# ---- issue 8: statuses, expected day, tolerance, the list, closing short ------------------------


def status_of(api, po_number="PO-1"):
    return api.get(f"/api/v1/purchase-orders/{po_number}").get_json()["status"]


def test_a_po_takes_an_expected_day_a_tolerance_a_note_and_starts_as_a_draft_when_asked(floor):
    response = order(floor, expected_at="2026-12-24", tolerance_percent=10, note="Pallet of widgets", status="DRAFT")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["expected_at"], body["tolerance_percent"], body["note"]) == (
        "draft", "2026-12-24", 10, "Pallet of widgets")
    assert floor.get("/api/v1/purchase-orders/PO-1").get_json() == body


def test_a_draft_is_not_incoming_until_it_is_opened(floor):
    order(floor, status="draft")
    assert incoming(floor, "SKU-1") == 0
    error = receive(floor, "SKU-1", 1)
    assert error.status_code == 409 and error.get_json()["error"]["code"] == "purchase_order_closed"
    opened = floor.post("/api/v1/purchase-orders/PO-1/open")
    assert opened.status_code == 200 and opened.get_json()["status"] == "open"
    assert incoming(floor, "SKU-1") == 10
    again = floor.post("/api/v1/purchase-orders/PO-1/open")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "purchase_order_status"


def test_a_po_closed_short_stops_counting_as_incoming_and_takes_no_more_stock(floor):
    order(floor)
    receive(floor, "SKU-1", 6)
    assert status_of(floor) == "partially_received"
    assert incoming(floor, "SKU-1") == 4 and incoming(floor, "SKU-2") == 4
    closed = floor.post("/api/v1/purchase-orders/PO-1/close")
    assert closed.status_code == 200, closed.get_data(as_text=True)
    body = closed.get_json()
    assert body["status"] == "closed" and body["closed_at"]
    assert [line["quantity_received"] for line in body["lines"]] == [6, 0]
    assert incoming(floor, "SKU-1") == 0 and incoming(floor, "SKU-2") == 0
    stock = floor.get("/api/v1/stock/SKU-1").get_json()
    assert stock["on_hand"] == 6 and stock["incoming_by_warehouse"] == []
    before = movements()
    refused = receive(floor, "SKU-1", 1)
    assert refused.status_code == 409 and movements() == before


@pytest.mark.parametrize("steps, action", [
    ((), "cancel"),  # an open order nothing was received against can be cancelled ...
    (("close",), "close"),  # ... a closed one cannot be closed again ...
    (("cancel",), "close"),  # ... nor a cancelled one ...
    (("receive-all",), "close"),  # ... nor a received one
])
def test_close_and_cancel_answer_409_when_the_status_does_not_allow_them(floor, steps, action):
    order(floor)
    for step in steps:
        if step == "receive-all":
            receive(floor, "SKU-1", 10)
            receive(floor, "SKU-2", 4)
        else:
            assert floor.post(f"/api/v1/purchase-orders/PO-1/{step}").status_code == 200
    response = floor.post(f"/api/v1/purchase-orders/PO-1/{action}")
    if not steps:
        assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
        return
    before = status_of(floor)
    assert response.status_code == 409, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "purchase_order_status" and error["field"] == "po_number" and "PO-1" in error["message"]
    assert status_of(floor) == before


def test_a_partially_received_po_cannot_be_cancelled_only_closed(floor):
    order(floor)
    receive(floor, "SKU-1", 1)
    response = floor.post("/api/v1/purchase-orders/PO-1/cancel")
    assert response.status_code == 409 and "close it short" in response.get_json()["error"]["message"]
    assert status_of(floor) == "partially_received"


@pytest.mark.parametrize("path", ["close", "open", "cancel"])
def test_actions_on_an_unknown_po_are_404(floor, path):
    response = floor.post(f"/api/v1/purchase-orders/NOPE/{path}")
    assert response.status_code == 404 and response.get_json()["error"]["field"] == "po_number"


def test_the_address_of_an_action_takes_post_only(floor):
    order(floor)
    response = floor.get("/api/v1/purchase-orders/PO-1/close")
    assert response.status_code == 405 and "POST" in response.headers["Allow"] and "GET" not in response.headers["Allow"]


def test_a_po_number_with_slashes_is_found_and_acted_on(floor):
    order(floor, "PO/2026/7")
    assert floor.get("/api/v1/purchase-orders/PO/2026/7").get_json()["po_number"] == "PO/2026/7"
    assert floor.post("/api/v1/purchase-orders/PO/2026/7/close").get_json()["status"] == "closed"


def test_a_po_past_its_expected_day_is_late_until_received(floor):
    order(floor, "PO-1", expected_at="2001-01-01")
    order(floor, "PO-2", expected_at="2999-12-31")
    assert floor.get("/api/v1/purchase-orders/PO-1").get_json()["late"] is True
    assert floor.get("/api/v1/purchase-orders/PO-2").get_json()["late"] is False
    floor.post("/api/v1/purchase-orders/PO-1/close")
    assert floor.get("/api/v1/purchase-orders/PO-1").get_json()["late"] is False


def test_the_list_filters_by_status_ignoring_case_warehouse_and_supplier(floor):
    floor.post("/api/v1/warehouses", json={"code": "NORTH", "name": "North"})
    order(floor, "PO-1")
    order(floor, "PO-2", status="draft")
    order(floor, "PO-3", warehouse="NORTH", supplier="Bolt & Co")
    order(floor, "PO-4", supplier="bolt & co")

    def listed(query=""):
        response = floor.get(f"/api/v1/purchase-orders{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["po_number"] for item in response.get_json()["items"]]

    assert listed() == ["PO-4", "PO-3", "PO-2", "PO-1"]  # newest first
    assert listed("?status=OPEN") == ["PO-4", "PO-3", "PO-1"]
    assert listed("?status=Draft") == ["PO-2"]
    assert listed("?warehouse=north") == ["PO-3"]
    assert listed("?supplier=BOLT%20%26%20CO") == ["PO-4", "PO-3"]
    assert listed("?supplier=Bolt%20%26%20Co&warehouse=MAIN&status=open") == ["PO-4"]
    item = floor.get("/api/v1/purchase-orders?status=draft").get_json()["items"][0]
    assert item["lines"] == [{"sku": "SKU-1", "quantity_ordered": 10, "quantity_received": 0},
                             {"sku": "SKU-2", "quantity_ordered": 4, "quantity_received": 0}]


def test_the_list_is_paged_with_next_offset(floor):
    for number in range(5):
        order(floor, f"PO-{number}")
    first = floor.get("/api/v1/purchase-orders?limit=2").get_json()
    assert [i["po_number"] for i in first["items"]] == ["PO-4", "PO-3"] and first["next_offset"] == 2
    last = floor.get("/api/v1/purchase-orders?limit=2&offset=4").get_json()
    assert [i["po_number"] for i in last["items"]] == ["PO-0"] and last["next_offset"] is None


@pytest.mark.parametrize("query, status, field", [
    ("?status=shipped", 400, "status"),
    ("?status=", 400, "status"),
    ("?status=open%20", 400, "status"),
    ("?warehouse=NOPE", 404, "warehouse"),
    ("?supplier=", 400, "supplier"),
    ("?limit=0", 400, "limit"),
    ("?limit=101", 400, "limit"),
    ("?offset=-1", 400, "offset"),
])
def test_a_bad_list_query_is_refused_naming_the_parameter(floor, query, status, field):
    response = floor.get(f"/api/v1/purchase-orders{query}")
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field


@pytest.mark.parametrize("change, field", [
    ({"expected_at": "2026-13-01"}, "expected_at"),
    ({"expected_at": "2026-02-30"}, "expected_at"),
    ({"expected_at": " 2026-12-01"}, "expected_at"),
    ({"expected_at": "2026-12-01T10:00:00Z"}, "expected_at"),
    ({"expected_at": "1999-12-31"}, "expected_at"),
    ({"expected_at": 20261201}, "expected_at"),
    ({"tolerance_percent": 101}, "tolerance_percent"),
    ({"tolerance_percent": -1}, "tolerance_percent"),
    ({"tolerance_percent": 2.5}, "tolerance_percent"),
    ({"tolerance_percent": "5"}, "tolerance_percent"),
    ({"status": "received"}, "status"),
    ({"status": "closed"}, "status"),
    ({"status": ""}, "status"),
    ({"note": "x" * 1001}, "note"),
    ({"note": "a\x00b"}, "note"),
])
def test_bad_new_fields_are_refused_naming_the_field_and_create_nothing(floor, change, field):
    response = order(floor, "PO-9", **change)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field
    assert purchase_orders() == 0 and incoming(floor, "SKU-1") == 0


def test_a_10000_line_body_is_refused(floor):
    body = {"po_number": "PO-BIG", "supplier": "Acme", "lines": [{"sku": "SKU-1", "quantity": 1}] * 10_000}
    response = floor.post("/api/v1/purchase-orders", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "lines"
    assert purchase_orders() == 0


def test_incoming_is_counted_per_warehouse_of_the_po(floor):
    floor.post("/api/v1/warehouses", json={"code": "NORTH", "name": "North"})
    order(floor, "PO-1", [("SKU-1", 10)])
    order(floor, "PO-2", [("SKU-1", 5)], warehouse="NORTH")
    order(floor, "PO-3", [("SKU-1", 7)], status="draft")
    stock = floor.get("/api/v1/stock/SKU-1").get_json()
    assert stock["incoming"] == 15
    assert stock["incoming_by_warehouse"] == [{"warehouse": "MAIN", "incoming": 10},
                                              {"warehouse": "NORTH", "incoming": 5}]
    assert floor.get("/api/v1/stock/SKU-2").get_json()["incoming_by_warehouse"] == []
