"""The replenishment API: rules set (upsert) and listed per warehouse, tasks listed per warehouse
and status, a task completed in full or in part; bad input answers a 4xx naming the field and
changes nothing."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import Movement, ReplenishmentRule, ReplenishmentTask
from app.warehouses import create_location, create_warehouse, get_warehouse


@pytest.fixture
def floor(app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget")
        create_product(session, sku="SKU-2", name="Gadget")
        for code, kind in (("P-01", "pick"), ("P-02", "pick"), ("S-01", "storage"), ("S-02", "storage"),
                           ("Q-01", "quarantine")):
            create_location(session, warehouse=site, code=code, type=kind)
        west = create_warehouse(session, code="WEST", name="West")
        create_location(session, warehouse=west, code="W-P1", type="pick")

    db.atomic(build)
    for sku, location, quantity in (("SKU-1", "S-01", 100), ("SKU-1", "P-01", 2), ("SKU-1", "Q-01", 50)):
        db.atomic(adjust_stock, sku=sku, location=location, quantity=quantity, reason="found")
    return app


def stored():
    with db.reading() as session:
        rules = sorted((r.minimum, r.maximum) for r in session.exec(select(ReplenishmentRule)))
        tasks = [(t.status, t.quantity) for t in session.exec(select(ReplenishmentTask).order_by(ReplenishmentTask.id))]
        movements = len(session.exec(select(Movement)).all())
    return rules, tasks, movements


def test_a_rule_is_set_then_changed_and_listed_with_its_open_task(floor, api):
    answer = api.put("/api/v1/replenishment-rules", json={"sku": "sku-1", "location": "p-01", "min": 5, "max": 20})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"sku": "SKU-1", "location": "P-01", "warehouse": "MAIN", "min": 5, "max": 20}
    again = api.put("/api/v1/replenishment-rules", json={"sku": "SKU-1", "location": "P-01", "min": 4, "max": 30})
    assert again.get_json()["max"] == 30
    listed = api.get("/api/v1/replenishment-rules").get_json()
    [rule] = listed["items"]
    assert (rule["min"], rule["max"], rule["on_hand"], rule["below_minimum"]) == (4, 30, 2, True)
    assert rule["open_task"] is not None and listed["next_offset"] is None
    assert api.get("/api/v1/replenishment-rules?warehouse=west").get_json()["items"] == []


def test_tasks_are_listed_by_warehouse_and_status_and_completed_in_part_then_in_full(floor, api):
    api.put("/api/v1/replenishment-rules", json={"sku": "SKU-1", "location": "P-01", "min": 5, "max": 20})
    [task] = api.get("/api/v1/replenishment-tasks?warehouse=MAIN&status=OPEN").get_json()["items"]
    assert task == {"id": task["id"], "sku": "SKU-1", "from_location": "S-01", "to_location": "P-01", "quantity": 18,
                    "status": "open"}

    part = api.post(f"/api/v1/replenishment-tasks/{task['id']}/complete", json={"quantity": 8})
    assert part.status_code == 200, part.get_json()
    body = part.get_json()
    assert (body["status"], body["quantity"], body["to_on_hand"]) == ("done", 8, 10)
    rest = body["remaining_task"]
    assert (rest["quantity"], rest["status"], rest["from_location"]) == (10, "open", "S-01")

    full = api.post(f"/api/v1/replenishment-tasks/{rest['id']}/complete", json={"from_location": "s-01"})
    assert full.status_code == 200 and full.get_json()["to_on_hand"] == 20 and full.get_json()["remaining_task"] is None
    assert api.get("/api/v1/replenishment-tasks?status=open").get_json()["items"] == []
    done = api.get("/api/v1/replenishment-tasks?status=done").get_json()["items"]
    assert [t["quantity"] for t in done] == [10, 8]  # newest first
    assert len(api.get("/api/v1/replenishment-tasks").get_json()["items"]) == 2  # every status
    assert len(api.get("/api/v1/replenishment-tasks?status=").get_json()["items"]) == 2
    with db.reading() as session:
        assert ledger.check(session) == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"sku": "SKU-1", "location": "P-01", "min": 20, "max": 20}, 400, "max"),
        ({"sku": "SKU-1", "location": "P-01", "min": -1, "max": 20}, 400, "min"),
        ({"sku": "SKU-1", "location": "P-01", "min": "5", "max": 20}, 400, "min"),
        ({"sku": "SKU-1", "location": "P-01", "min": 5, "max": 2**31}, 400, "max"),
        ({"sku": "SKU-1", "location": "P-01", "min": 5}, 400, "max"),
        ({"sku": "SKU-1", "location": "S-01", "min": 5, "max": 20}, 400, "location"),
        ({"sku": "SKU-1", "location": "W-P1", "min": 5, "max": 20}, 404, "location"),  # of another warehouse
        ({"sku": "NOPE", "location": "P-01", "min": 5, "max": 20}, 404, "sku"),
        ({"sku": "SKU-1", "location": "P-01", "min": 5, "max": 20, "warehouse": "NOPE"}, 404, "warehouse"),
        ({"sku": "SKU-1", "location": "P-01", "min": 5, "max": 20, "colour": "red"}, 400, "colour"),
    ],
)
def test_a_bad_rule_answers_a_4xx_naming_the_field_and_changes_nothing(floor, api, body, status, field):
    answer = api.put("/api/v1/replenishment-rules", json=body)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"]["field"] == field
    assert stored() == ([], [], 3)


@pytest.mark.parametrize(
    ("body", "status", "field", "code"),
    [
        ({"quantity": 0}, 400, "quantity", "validation_error"),
        ({"quantity": 19}, 409, "quantity", "more_than_task"),
        ({"quantity": "5"}, 400, "quantity", "validation_error"),
        ({"from_location": "S-02"}, 409, "quantity", "insufficient_stock"),
        ({"from_location": "Q-01"}, 400, "from_location", "validation_error"),
        ({"from_location": "P-01"}, 400, "from_location", "validation_error"),
        ({"from_location": "NOWHERE"}, 404, "from_location", "not_found"),
        ({"from_location": "W-P1"}, 404, "from_location", "not_found"),
        ({"extra": 1}, 400, "extra", "validation_error"),
    ],
)
def test_a_bad_completion_answers_a_4xx_naming_the_field_and_changes_nothing(floor, api, body, status, field, code):
    api.put("/api/v1/replenishment-rules", json={"sku": "SKU-1", "location": "P-01", "min": 5, "max": 20})
    [task] = api.get("/api/v1/replenishment-tasks").get_json()["items"]
    before = stored()
    answer = api.post(f"/api/v1/replenishment-tasks/{task['id']}/complete", json=body)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"]["field"] == field and answer.get_json()["error"]["code"] == code
    assert stored() == before


def test_a_task_that_is_done_or_missing_is_a_409_or_a_404(floor, api):
    api.put("/api/v1/replenishment-rules", json={"sku": "SKU-1", "location": "P-01", "min": 5, "max": 20})
    [task] = api.get("/api/v1/replenishment-tasks").get_json()["items"]
    assert api.post(f"/api/v1/replenishment-tasks/{task['id']}/complete", json={}).status_code == 200
    again = api.post(f"/api/v1/replenishment-tasks/{task['id']}/complete", json={})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "task_not_open"
    assert api.post("/api/v1/replenishment-tasks/99999/complete", json={}).status_code == 404
    for wrong in (2**31, 0, -1, "abc"):
        answer = api.post(f"/api/v1/replenishment-tasks/{wrong}/complete", json={})
        assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "task_id"


@pytest.mark.parametrize("query", ["status=finished", "warehouse=NOPE", "limit=0", "limit=abc", "offset=-1"])
def test_a_bad_task_filter_answers_a_4xx(floor, api, query):
    answer = api.get(f"/api/v1/replenishment-tasks?{query}")
    assert answer.status_code in (400, 404) and "field" in answer.get_json()["error"]


def test_without_a_token_nothing_is_answered(floor, client):
    assert client.get("/api/v1/replenishment-tasks").status_code == 401
    assert client.put("/api/v1/replenishment-rules", json={"sku": "SKU-1", "location": "P-01", "min": 5, "max": 20}).status_code == 401
