"""Putaway tasks through the API, on SQLite and PostgreSQL: suggestions as stored stock and rules
make them, completing whole or in part, the list, and refusals that change nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db, ledger
from app.accounts import create_token
from app.catalog import create_product
from app.inbound import receiving
from app.inbound.purchase_orders import create_purchase_order
from app.models import Location, Movement, Product, PutawayTask, ReplenishmentRule
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests.conftest import ApiClient


@pytest.fixture
def floor(any_db_app):
    """MAIN: DOCK (receiving), pick face P-01 (zone A, SKU-1 max 10), storage A-01, A-02 (zone A),
    B-01 (zone B), quarantine Q-01; NORTH: N-01. PO-1: SKU-1 x 50, SKU-2 x 50."""

    def build(session):
        main = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Gadget")
        create_location(session, warehouse=main, code="DOCK", type="receiving", zone="R")
        face = create_location(session, warehouse=main, code="P-01", type="pick", zone="A", pick_sequence=1)
        create_location(session, warehouse=main, code="A-01", type="storage", zone="A", pick_sequence=2)
        create_location(session, warehouse=main, code="A-02", type="storage", zone="A", pick_sequence=3)
        create_location(session, warehouse=main, code="B-01", type="storage", zone="B", pick_sequence=1)
        create_location(session, warehouse=main, code="Q-01", type="quarantine")
        north = create_warehouse(session, code="NORTH", name="North")
        create_location(session, warehouse=north, code="N-01", type="storage")
        widget = session.exec(select(Product).where(Product.sku == "SKU-1")).one()
        session.add(ReplenishmentRule(product_id=widget.id, location_id=face.id, minimum=2, maximum=10))
        create_purchase_order(session, po_number="PO-1", supplier="Acme", lines=[("SKU-1", 50), ("SKU-2", 50)])

    db.atomic(build)
    return ApiClient(any_db_app.test_client(), db.atomic(create_token, "putaway tests"))


def received(*lines, location="DOCK") -> list[int]:
    """Receive (sku, quantity) lines against PO-1: the putaway task of each."""
    return db.atomic(receiving.receive, po_number="PO-1", location=location, lines=list(lines)).putaway_tasks


def task(api, task_id):
    return next(t for t in api.get("/api/v1/putaway-tasks").get_json()["items"] if t["id"] == task_id)


def suggested(api, task_id):
    return task(api, task_id)["suggested_location"]


def complete(api, task_id, location, quantity=None):
    body = {"location": location} if quantity is None else {"location": location, "quantity": quantity}
    return api.post(f"/api/v1/putaway-tasks/{task_id}/complete", json=body)


def state():
    with db.reading() as session:
        movements = session.exec(select(func.count()).select_from(Movement)).one()
        tasks = [(t.id, t.status, t.quantity) for t in session.exec(select(PutawayTask).order_by(PutawayTask.id))]
        assert ledger.check(session) == []
    return movements, tasks


# ---- suggestions -------------------------------------------------------------------------------


def test_the_pick_face_is_suggested_while_the_stock_fits_under_its_maximum(floor):
    first, = received(("SKU-1", 6))
    assert suggested(floor, first) == "P-01"
    second, = received(("SKU-1", 4))  # 6 on the way + 4 = 10: still fits
    assert suggested(floor, second) == "P-01"
    third, = received(("SKU-1", 1))  # no room left: the first empty shelf of the pick face's zone
    assert suggested(floor, third) == "A-01"


def test_a_shelf_already_holding_the_product_comes_before_an_empty_one(floor):
    first, = received(("SKU-2", 5))
    assert suggested(floor, first) == "B-01"  # no pick face, none held, DOCK's zone R has no shelf: walk order
    assert complete(floor, first, "A-02").status_code == 200
    second, = received(("SKU-2", 5))
    assert suggested(floor, second) == "A-02"


def test_an_empty_shelf_awaited_by_an_open_task_or_inactive_is_not_suggested(floor):
    def retire(session):
        session.exec(select(Location).where(Location.code == "B-01")).one().active = False

    db.atomic(retire)
    gadgets, = received(("SKU-2", 5))
    assert suggested(floor, gadgets) == "A-01"
    more, = received(("SKU-1", 11))  # past the pick face; A-01 awaits the gadgets
    assert suggested(floor, more) == "A-02"


def test_when_no_place_fits_nothing_is_suggested_and_the_picker_chooses(floor):
    for code in ("A-01", "A-02", "B-01"):  # every shelf holds something else
        adjusted = floor.post("/api/v1/stock/adjustments",
                              json={"sku": "SKU-1", "location": code, "quantity": 1, "reason": "found"})
        assert adjusted.status_code == 201, adjusted.get_data(as_text=True)
    gadgets, = received(("SKU-2", 5))
    assert suggested(floor, gadgets) is None
    chosen = complete(floor, gadgets, "A-01")
    assert chosen.status_code == 200 and chosen.get_json()["location"] == "A-01"


# ---- completing ----------------------------------------------------------------------------------


def test_completing_a_task_moves_its_stock_and_refuses_a_second_time(floor):
    task_id, = received(("SKU-1", 4))
    response = complete(floor, task_id, "p-01")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["location"], body["quantity"], body["remaining_task"]) == ("done", "P-01", 4, None)
    with db.reading() as session:
        movement = session.get(Movement, body["movement_id"])
        assert (movement.type, movement.quantity, movement.reference) == ("putaway", 4, "PO-1")
    before = state()
    again = complete(floor, task_id, "P-01")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "task_not_open"
    assert state() == before


def test_a_partial_putaway_leaves_the_rest_as_an_open_task_of_its_own(floor):
    task_id, = received(("SKU-1", 20))
    first = complete(floor, task_id, "A-02", quantity=15).get_json()
    rest = first["remaining_task"]
    assert (first["quantity"], rest["quantity"], rest["from_location"]) == (15, 5, "DOCK")
    assert rest["suggested_location"] == "P-01"  # 5 fits the pick face now
    assert task(floor, rest["id"])["parent_id"] == task_id
    assert task(floor, task_id)["location"] == "A-02" and task(floor, task_id)["quantity"] == 15
    last = complete(floor, rest["id"], "P-01", quantity=5).get_json()
    assert last["remaining_task"] is None
    assert [t["status"] for t in floor.get("/api/v1/putaway-tasks").get_json()["items"]] == ["done", "done"]
    stock = floor.get("/api/v1/stock/SKU-1").get_json()
    assert {row["location"]: row["on_hand"] for row in stock["locations"]} == {"A-02": 15, "P-01": 5}


@pytest.mark.parametrize(
    "body, status, code, field",
    [
        ({"location": "A-01", "quantity": 5}, 409, "more_than_task", "quantity"),
        ({"location": "A-01", "quantity": 0}, 400, "validation_error", "quantity"),
        ({"location": "A-01", "quantity": "2"}, 400, "validation_error", "quantity"),
        ({"location": "A-01", "quantity": 1.5}, 400, "validation_error", "quantity"),
        ({"location": "DOCK"}, 400, "validation_error", "location"),
        ({"location": "Q-01"}, 400, "validation_error", "location"),
        ({"location": "NOWHERE"}, 404, "not_found", "location"),
        ({"location": "N-01"}, 404, "not_found", "location"),
        ({"location": "@CUSTOMER"}, 404, "not_found", "location"),
        ({"location": ""}, 400, "validation_error", "location"),
        ({}, 400, "validation_error", "location"),
        ({"location": "A-01", "extra": 1}, 400, "validation_error", "extra"),
    ],
)
def test_a_bad_completion_is_refused_naming_the_field_and_changes_nothing(floor, body, status, code, field):
    task_id, = received(("SKU-1", 4))
    before = state()
    response = floor.post(f"/api/v1/putaway-tasks/{task_id}/complete", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["code"], error.get("field")) == (code, field)
    assert state() == before


def test_a_task_whose_stock_has_gone_from_the_receiving_location_is_refused(floor):
    task_id, = received(("SKU-1", 4))
    moved = floor.post("/api/v1/stock/transfers", json={"sku": "SKU-1", "from_location": "DOCK", "to_location": "B-01",
                                                        "quantity": 3})
    assert moved.status_code == 201
    before = state()
    response = complete(floor, task_id, "A-01")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "insufficient_stock"
    assert state() == before


def test_unknown_tasks_and_ids_that_are_not_ids_are_refused(floor):
    assert complete(floor, 999, "A-01").status_code == 404
    for bad in ("abc", "0", "-1", "99999999999"):
        response = floor.post(f"/api/v1/putaway-tasks/{bad}/complete", json={"location": "A-01"})
        assert response.status_code == 400 and response.get_json()["error"]["field"] == "task_id", bad


# ---- the list ------------------------------------------------------------------------------------


def test_the_list_is_per_warehouse_oldest_first_and_filters_by_status_and_search(floor):
    first, second = received(("SKU-1", 3), ("SKU-2", 2))
    third, = received(("SKU-1", 1))
    complete(floor, second, "B-01")
    items = floor.get("/api/v1/putaway-tasks").get_json()["items"]
    assert [t["id"] for t in items] == [first, second, third]
    assert set(items[0]) == {"id", "warehouse", "sku", "quantity", "from_location", "suggested_location", "status",
                             "reference", "location", "parent_id", "created_at", "done_at"}
    assert [t["id"] for t in floor.get("/api/v1/putaway-tasks?status=open").get_json()["items"]] == [first, third]
    assert [t["id"] for t in floor.get("/api/v1/putaway-tasks?status=DONE").get_json()["items"]] == [second]
    assert [t["id"] for t in floor.get("/api/v1/putaway-tasks?q=gadg").get_json()["items"]] == [second]
    assert len(floor.get("/api/v1/putaway-tasks?q=PO-1").get_json()["items"]) == 3
    for typed in ("PO_1", "%25", "\\"):  # % and _ are characters, not wildcards
        assert floor.get(f"/api/v1/putaway-tasks?q={typed}").get_json()["items"] == [], typed
    assert floor.get("/api/v1/putaway-tasks?warehouse=NORTH").get_json()["items"] == []
    page = floor.get("/api/v1/putaway-tasks?limit=2").get_json()
    assert [t["id"] for t in page["items"]] == [first, second] and page["next_offset"] == 2
    assert [t["id"] for t in floor.get("/api/v1/putaway-tasks?limit=2&offset=2").get_json()["items"]] == [third]


@pytest.mark.parametrize(
    "query, status, field",
    [("status=later", 400, "status"), ("warehouse=NOPE", 404, "warehouse"), ("limit=0", 400, "limit"),
     ("limit=501", 400, "limit"), ("offset=-1", 400, "offset"), ("q=" + "x" * 101, 400, "q")],
)
def test_a_bad_list_query_is_refused_naming_the_field(floor, query, status, field):
    response = floor.get(f"/api/v1/putaway-tasks?{query}")
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field
