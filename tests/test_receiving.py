"""Receiving against purchase orders through the API, on SQLite and PostgreSQL: a PO received in
two parts and put away, over-receipt and tolerance, reversal, closing short, all lines or none,
refusals that change nothing, and two processes receiving against one PO at once."""
from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db, ledger
from app.accounts import create_token
from app.catalog import create_product
from app.models import Movement, Product, PurchaseOrderLine, PutawayTask, Receipt, ReplenishmentRule
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests.conftest import ApiClient
from tests.support.ledger_workers import run_processes
from tests.support.receiving_workers import receive_one_by_one


@pytest.fixture
def floor(any_db_app):
    """MAIN: DOCK (receiving, zone R), pick face P-01 (zone A, SKU-1 min 2 max 10), storage A-01,
    A-02 (zone A) and B-01 (zone B); NORTH: N-DOCK. SKU-1 (barcode 9300000000011), SKU-2."""

    def build(session):
        main = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Gadget")
        create_product(session, sku="SKU-3", name="Gizmo")
        create_location(session, warehouse=main, code="DOCK", type="receiving", zone="R")
        face = create_location(session, warehouse=main, code="P-01", type="pick", zone="A", pick_sequence=1)
        create_location(session, warehouse=main, code="A-01", type="storage", zone="A", pick_sequence=2)
        create_location(session, warehouse=main, code="A-02", type="storage", zone="A", pick_sequence=3)
        create_location(session, warehouse=main, code="B-01", type="storage", zone="B", pick_sequence=4)
        north = create_warehouse(session, code="NORTH", name="North")
        create_location(session, warehouse=north, code="N-DOCK", type="receiving")
        widget = session.exec(select(Product).where(Product.sku == "SKU-1")).one()
        session.add(ReplenishmentRule(product_id=widget.id, location_id=face.id, minimum=2, maximum=10))

    db.atomic(build)
    return ApiClient(any_db_app.test_client(), db.atomic(create_token, "receiving tests"))


def order(api, po_number="PO-1", lines=(("SKU-1", 12), ("SKU-2", 5)), **extra):
    body = {"po_number": po_number, "supplier": "Acme", "lines": [{"sku": s, "quantity": q} for s, q in lines], **extra}
    response = api.post("/api/v1/purchase-orders", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def receive(api, lines, po_number="PO-1", location="DOCK"):
    body = {"location": location, "lines": [{"sku": s, "quantity": q} for s, q in lines]}
    return api.post(f"/api/v1/purchase-orders/{po_number}/receipts", json=body)


def complete(api, task_id, location, quantity=None):
    body = {"location": location} if quantity is None else {"location": location, "quantity": quantity}
    return api.post(f"/api/v1/putaway-tasks/{task_id}/complete", json=body)


def stock(api, sku):
    """(on hand, available, incoming, {location: on hand})."""
    body = api.get(f"/api/v1/stock/{sku}").get_json()
    return body["on_hand"], body["available"], body["incoming"], {row["location"]: row["on_hand"] for row in body["locations"]}


def po(api, po_number="PO-1"):
    body = api.get(f"/api/v1/purchase-orders/{po_number}").get_json()
    return body["status"], {line["sku"]: line["quantity_received"] for line in body["lines"]}


def ledger_rows(api, reference="PO-1"):
    """The movements with this reference, oldest first: (type, sku, from, to, quantity)."""
    items = api.get(f"/api/v1/movements?reference={reference}&limit=500").get_json()["items"]
    return [(m["type"], m["sku"], m["from_location"], m["to_location"], m["quantity"]) for m in reversed(items)]


def tasks(api, status=None):
    query = f"?status={status}" if status else ""
    return {t["id"]: t for t in api.get(f"/api/v1/putaway-tasks{query}").get_json()["items"]}


def counts():
    """Movements, receipts, putaway tasks and units received on PO lines."""
    with db.reading() as session:
        return tuple(session.exec(select(func.count()).select_from(table)).one() for table in (Movement, Receipt, PutawayTask)) + (
            session.exec(select(func.coalesce(func.sum(PurchaseOrderLine.quantity_received), 0))).one(),)


def ledger_is_whole():
    with db.reading() as session:
        assert ledger.check(session) == []


def refused(response, status, code, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    if field:
        assert error.get("field") == field, error
    return error


# ---- the whole inbound day ------------------------------------------------------------------------


def test_a_po_received_in_two_parts_put_away_reversed_and_closed_short(floor):
    api = floor
    order(api)
    assert stock(api, "SKU-1") == (0, 0, 12, {})
    assert stock(api, "SKU-2") == (0, 0, 5, {})

    # Part one: 8 widgets (by barcode) and 2 gadgets.
    first = receive(api, [("9300000000011", 8), ("SKU-2", 2)])
    assert first.status_code == 201, first.get_data(as_text=True)
    body = first.get_json()
    assert body["po_number"] == "PO-1" and body["status"] == "partially_received" and body["location"] == "DOCK"
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [("SKU-1", 8), ("SKU-2", 2)]
    widget_task, gadget_task = body["putaway_tasks"]
    assert stock(api, "SKU-1") == (8, 8, 4, {"DOCK": 8})
    assert stock(api, "SKU-2") == (2, 2, 3, {"DOCK": 2})
    assert po(api) == ("partially_received", {"SKU-1": 8, "SKU-2": 2})
    assert ledger_rows(api) == [("receipt", "SKU-1", "@SUPPLIER", "DOCK", 8), ("receipt", "SKU-2", "@SUPPLIER", "DOCK", 2)]
    assert [line["movement_id"] for line in body["lines"]] == [
        m["id"] for m in reversed(api.get("/api/v1/movements?reference=PO-1").get_json()["items"])
    ]
    open_tasks = tasks(api, "open")
    # The widgets fit their pick face (10 at most); the gadgets have no place yet: the first empty shelf.
    assert (open_tasks[widget_task]["suggested_location"], open_tasks[widget_task]["quantity"]) == ("P-01", 8)
    assert (open_tasks[gadget_task]["suggested_location"], open_tasks[gadget_task]["quantity"]) == ("A-01", 2)
    assert {t["reference"] for t in open_tasks.values()} == {"PO-1"}
    ledger_is_whole()

    # More widgets than are still to come: refused, nothing posted.
    before = counts()
    error = refused(receive(api, [("SKU-2", 1), ("SKU-1", 5)]), 409, "over_receipt", "lines.1.quantity")
    assert "12 ordered and 8 received: 5 more would be 13" in error["message"]
    assert counts() == before
    assert stock(api, "SKU-1") == (8, 8, 4, {"DOCK": 8}) and stock(api, "SKU-2") == (2, 2, 3, {"DOCK": 2})

    # Put away: the widgets to the suggested pick face.
    done = complete(api, widget_task, "P-01")
    assert done.status_code == 200, done.get_data(as_text=True)
    assert {k: v for k, v in done.get_json().items() if k != "movement_id"} == {
        "id": widget_task, "status": "done", "location": "P-01", "quantity": 8, "remaining_task": None}
    assert stock(api, "SKU-1") == (8, 8, 4, {"P-01": 8})
    assert ledger_rows(api)[-1] == ("putaway", "SKU-1", "DOCK", "P-01", 8)
    ledger_is_whole()

    # The gadgets: one to another location than suggested (B-01), the rest left as a task.
    partial = complete(api, gadget_task, "b-01", quantity=1)
    assert partial.status_code == 200, partial.get_data(as_text=True)
    rest = partial.get_json()["remaining_task"]
    assert partial.get_json()["location"] == "B-01" and partial.get_json()["quantity"] == 1
    assert rest["quantity"] == 1 and rest["from_location"] == "DOCK"
    assert rest["suggested_location"] == "B-01"  # now a shelf holding gadgets
    assert stock(api, "SKU-2") == (2, 2, 3, {"DOCK": 1, "B-01": 1})
    done_tasks = tasks(api, "done")
    assert (done_tasks[gadget_task]["suggested_location"], done_tasks[gadget_task]["location"]) == ("A-01", "B-01")
    assert tasks(api, "open")[rest["id"]]["parent_id"] == gadget_task
    ledger_is_whole()

    # Part two: the rest of the widgets and the gadgets.
    second = receive(api, [("SKU-1", 4), ("SKU-2", 3)])
    assert second.status_code == 201, second.get_data(as_text=True)
    assert second.get_json()["status"] == "received"
    assert stock(api, "SKU-1") == (12, 12, 0, {"DOCK": 4, "P-01": 8})
    assert stock(api, "SKU-2") == (5, 5, 0, {"B-01": 1, "DOCK": 4})
    assert po(api) == ("received", {"SKU-1": 12, "SKU-2": 5})
    widget_rest, gadget_rest = second.get_json()["putaway_tasks"]
    suggested = {task: tasks(api, "open")[task]["suggested_location"] for task in (widget_rest, gadget_rest)}
    # 8 + 4 passes the pick face's 10; no shelf holds widgets: the first empty shelf of the pick face's zone.
    assert suggested == {widget_rest: "A-01", gadget_rest: "B-01"}
    refused(receive(api, [("SKU-1", 1)]), 409, "purchase_order_closed", "po_number")
    ledger_is_whole()

    # Part two reversed: its stock goes back, the PO expects it again, its tasks are cancelled.
    receipt = second.get_json()["id"]
    reversal = api.post(f"/api/v1/receipts/{receipt}/reverse")
    assert reversal.status_code == 201, reversal.get_data(as_text=True)
    assert [(m["sku"], m["quantity"], m["from_location"], m["to_location"]) for m in reversal.get_json()["movements"]] == [
        ("SKU-1", 4, "DOCK", "@SUPPLIER"), ("SKU-2", 3, "DOCK", "@SUPPLIER")]
    assert sorted(reversal.get_json()["cancelled_tasks"]) == sorted([widget_rest, gadget_rest])
    assert stock(api, "SKU-1") == (8, 8, 4, {"P-01": 8})
    assert stock(api, "SKU-2") == (2, 2, 3, {"B-01": 1, "DOCK": 1})
    assert po(api) == ("partially_received", {"SKU-1": 8, "SKU-2": 2})
    assert set(tasks(api, "cancelled")) == {widget_rest, gadget_rest}
    assert ledger_rows(api)[-2:] == [("receipt", "SKU-1", "DOCK", "@SUPPLIER", 4), ("receipt", "SKU-2", "DOCK", "@SUPPLIER", 3)]
    refused(api.post(f"/api/v1/receipts/{receipt}/reverse"), 409, "receipt_reversed")
    # Part one has been put away: its stock has moved on.
    before = counts()
    refused(api.post(f"/api/v1/receipts/{first.get_json()['id']}/reverse"), 409, "stock_moved_on")
    assert counts() == before
    ledger_is_whole()

    # Closed short: what was not received never comes.
    closed = api.post("/api/v1/purchase-orders/PO-1/close")
    assert closed.status_code == 200, closed.get_data(as_text=True)
    assert closed.get_json()["status"] == "closed"
    assert stock(api, "SKU-1") == (8, 8, 0, {"P-01": 8})
    assert stock(api, "SKU-2") == (2, 2, 0, {"B-01": 1, "DOCK": 1})
    refused(receive(api, [("SKU-1", 1)]), 409, "purchase_order_closed", "po_number")
    ledger_is_whole()


def test_over_receipt_is_refused_then_allowed_within_the_pos_tolerance(floor):
    api = floor
    order(api, "PO-2", [("SKU-1", 10)], tolerance_percent=10)
    before = counts()
    error = refused(receive(api, [("SKU-1", 12)], "PO-2"), 409, "over_receipt", "lines.0.quantity")
    assert "past 11 (a 10% tolerance); at most 11 more" in error["message"]
    assert counts() == before
    done = receive(api, [("SKU-1", 11)], "PO-2")
    assert done.status_code == 201, done.get_data(as_text=True)
    assert done.get_json()["status"] == "received"
    assert stock(api, "SKU-1") == (11, 11, 0, {"DOCK": 11})  # one over: nothing more is expected, never -1
    refused(receive(api, [("SKU-1", 1)], "PO-2"), 409, "purchase_order_closed")


def test_the_products_tolerance_applies_when_the_po_has_none_and_the_pos_own_wins(floor):
    api = floor

    def allow(session):
        session.exec(select(Product).where(Product.sku == "SKU-1")).one().receive_tolerance_percent = 50

    db.atomic(allow)
    order(api, "PO-3", [("SKU-1", 4)])
    assert receive(api, [("SKU-1", 6)], "PO-3").status_code == 201
    order(api, "PO-4", [("SKU-1", 4)], tolerance_percent=0)
    refused(receive(api, [("SKU-1", 5)], "PO-4"), 409, "over_receipt")


def test_a_tolerance_set_on_a_product_through_the_api_lets_a_receipt_go_over_by_that_much_and_no_further(floor):
    api = floor
    made = api.post("/api/v1/products", json={"sku": "SKU-T", "name": "Tolerant", "receive_tolerance_percent": 20})
    assert made.status_code == 201 and made.get_json()["receive_tolerance_percent"] == 20
    order(api, "PO-T", [("SKU-T", 10)])
    before = counts()
    error = refused(receive(api, [("SKU-T", 13)], "PO-T"), 409, "over_receipt", "lines.0.quantity")
    assert "past 12 (a 20% tolerance)" in error["message"]
    assert counts() == before
    done = receive(api, [("SKU-T", 12)], "PO-T")
    assert done.status_code == 201, done.get_data(as_text=True)
    assert po(api, "PO-T") == ("received", {"SKU-T": 12})
    assert stock(api, "SKU-T") == (12, 12, 0, {"DOCK": 12})
    ledger_is_whole()


# ---- all or none, and refusals -------------------------------------------------------------------


def test_a_receipt_is_all_lines_or_none(floor):
    api = floor
    order(api)
    before = counts()
    refused(receive(api, [("SKU-1", 3), ("SKU-3", 1)]), 400, "not_on_purchase_order", "lines.1.sku")
    refused(receive(api, [("SKU-1", 3), ("NOPE", 1)]), 404, "unknown_barcode", "lines.1.sku")
    refused(receive(api, [("SKU-1", 3), ("SKU-2", 6)]), 409, "over_receipt", "lines.1.quantity")
    assert counts() == before
    assert stock(api, "SKU-1") == (0, 0, 12, {})


LINE = {"sku": "SKU-1", "quantity": 1}


@pytest.mark.parametrize(
    "body, status, code, field",
    [
        ({"location": "DOCK", "lines": [{"sku": "SKU-3", "quantity": 1}]}, 400, "not_on_purchase_order", "lines.0.sku"),
        ({"location": "DOCK", "lines": [{"sku": "NOPE", "quantity": 1}]}, 404, "unknown_barcode", "lines.0.sku"),
        ({"location": "NOWHERE", "lines": [LINE]}, 404, "not_found", "location"),
        ({"location": "N-DOCK", "lines": [LINE]}, 404, "not_found", "location"),  # another warehouse's
        ({"location": "@SUPPLIER", "lines": [LINE]}, 404, "not_found", "location"),
        ({"lines": [LINE]}, 400, "validation_error", "location"),
        ({"location": "DOCK", "lines": []}, 400, "validation_error", "lines"),
        ({"location": "DOCK"}, 400, "validation_error", "lines"),
        ({"location": "DOCK", "lines": [{"sku": "SKU-1", "quantity": 0}]}, 400, "validation_error", "lines.0.quantity"),
        ({"location": "DOCK", "lines": [{"sku": "SKU-1", "quantity": -2}]}, 400, "validation_error", "lines.0.quantity"),
        ({"location": "DOCK", "lines": [{"sku": "SKU-1", "quantity": "3"}]}, 400, "validation_error", "lines.0.quantity"),
        ({"location": "DOCK", "lines": [{"sku": "SKU-1", "quantity": 2.5}]}, 400, "validation_error", "lines.0.quantity"),
        ({"location": "DOCK", "lines": [{"sku": "SKU-1", "quantity": 10**30}]}, 400, "validation_error", "lines.0.quantity"),
        ({"location": "DOCK", "lines": [{"sku": "SKU-1"}]}, 400, "validation_error", "lines.0.quantity"),
        ({"location": "DOCK", "lines": [LINE, {"sku": "sku-1", "quantity": 2}]}, 400, "validation_error", "lines.1.sku"),
        ({"location": "DOCK", "lines": [LINE], "po_number": "PO-1"}, 400, "validation_error", "po_number"),
        ({"location": "DOCK", "lines": [LINE] * 10_000}, 400, "validation_error", "lines"),
        ({"location": "DOCK\u0000", "lines": [LINE]}, 400, "validation_error", "location"),
    ],
)
def test_a_bad_receipt_is_refused_naming_the_field_and_changes_nothing(floor, body, status, code, field):
    order(floor)
    before = counts()
    response = floor.post("/api/v1/purchase-orders/PO-1/receipts", json=body)
    error = refused(response, status, code, field)
    assert len(error["message"]) < 400
    assert counts() == before


def test_receipts_against_an_unknown_draft_or_cancelled_po_are_refused(floor):
    api = floor
    refused(receive(api, [("SKU-1", 1)], "PO-404"), 404, "not_found", "po_number")
    order(api, "PO-D", [("SKU-1", 3)], status="draft")
    error = refused(receive(api, [("SKU-1", 1)], "PO-D"), 409, "purchase_order_closed", "po_number")
    assert "draft" in error["message"]
    order(api, "PO-C", [("SKU-1", 3)])
    assert api.post("/api/v1/purchase-orders/PO-C/cancel").status_code == 200
    refused(receive(api, [("SKU-1", 1)], "PO-C"), 409, "purchase_order_closed", "po_number")
    assert counts()[:3] == (0, 0, 0)


def test_the_stock_receipts_route_receives_one_line_against_a_po_and_makes_its_putaway_task(floor):
    api = floor
    order(api)
    response = api.post("/api/v1/stock/receipts", json={"sku": "SKU-2", "location": "DOCK", "quantity": 2, "po_number": "PO-1"})
    assert response.status_code == 201 and response.get_json()["on_hand"] == 2
    [task] = tasks(api, "open").values()
    assert (task["sku"], task["quantity"], task["reference"]) == ("SKU-2", 2, "PO-1")
    refused(api.post("/api/v1/stock/receipts", json={"sku": "SKU-2", "location": "DOCK", "quantity": 4, "po_number": "PO-1"}),
            409, "over_receipt", "quantity")
    refused(api.post("/api/v1/stock/receipts", json={"sku": "SKU-3", "location": "DOCK", "quantity": 1, "po_number": "PO-1"}),
            400, "not_on_purchase_order", "sku")
    plain = api.post("/api/v1/stock/receipts", json={"sku": "SKU-3", "location": "A-01", "quantity": 1})
    assert plain.status_code == 201 and len(tasks(api)) == 1  # stock without a PO makes no task


# ---- reversal ------------------------------------------------------------------------------------


def test_a_receipt_whose_stock_was_moved_by_hand_cannot_be_reversed(floor):
    api = floor
    order(api)
    receipt = receive(api, [("SKU-1", 5)]).get_json()["id"]
    moved = api.post("/api/v1/stock/transfers", json={"sku": "SKU-1", "from_location": "DOCK", "to_location": "A-02", "quantity": 2})
    assert moved.status_code == 201
    before = counts()
    error = refused(api.post(f"/api/v1/receipts/{receipt}/reverse"), 409, "stock_moved_on", "receipt")
    assert "DOCK" in error["message"]
    assert counts() == before
    assert po(api)[1]["SKU-1"] == 5
    refused(api.post("/api/v1/receipts/999/reverse"), 404, "not_found")
    refused(api.post("/api/v1/receipts/abc/reverse"), 400, "validation_error", "receipt_id")


def test_reversing_the_only_receipt_opens_the_po_again(floor):
    api = floor
    order(api)
    receipt = receive(api, [("SKU-1", 12), ("SKU-2", 5)]).get_json()
    assert receipt["status"] == "received"
    assert api.post(f"/api/v1/receipts/{receipt['id']}/reverse").status_code == 201
    assert po(api) == ("open", {"SKU-1": 0, "SKU-2": 0})
    assert stock(api, "SKU-1") == (0, 0, 12, {})
    ledger_is_whole()


# ---- two receipts at once ------------------------------------------------------------------------


def test_two_processes_receiving_one_by_one_against_one_po_get_exactly_what_was_ordered(floor, database_url):
    order(floor, "PO-RACE", [("SKU-1", 20)])
    results = run_processes(receive_one_by_one, [(database_url, "PO-RACE", "SKU-1", 15)] * 2)
    received = sum(r["received"] for r in results)
    assert received == 20 and sum(r["refused"] for r in results) == 10
    assert all(r["received"] for r in results), results  # both got some: they really raced
    assert po(floor, "PO-RACE") == ("received", {"SKU-1": 20})
    assert stock(floor, "SKU-1")[0] == 20
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(Receipt)).one() == 20
        assert session.exec(select(func.coalesce(func.sum(PutawayTask.quantity), 0))).one() == 20
    ledger_is_whole()
