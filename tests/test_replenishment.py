"""Replenishment on a real database (SQLite and PostgreSQL): rules, the task a movement below a
pick face's minimum creates once it has committed, oldest stock first, completing a task in full
or in part, and the refusals that change nothing. Without Redis the check runs in-process, right
after the movement's commit."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db, ledger, replenishment
from app.catalog import create_product
from app.errors import Conflict, NotFound, ValidationFailed
from app.inventory import adjust_stock, transfer_stock
from app.models import Movement, ReplenishmentRule, ReplenishmentTask, StockLevel
from app.warehouses import create_location, create_warehouse, get_warehouse


@pytest.fixture
def floor(any_db_app):
    """SKU-1 and SKU-2; pick faces P-01, P-02; storage S-01, S-02; quarantine Q-01; receiving R-01."""

    def build(session):
        site = get_warehouse(session)
        for sku in ("SKU-1", "SKU-2"):
            create_product(session, sku=sku, name=f"Product {sku}", barcodes=[f"BC-{sku}"])
        for code, kind in (("P-01", "pick"), ("P-02", "pick"), ("S-01", "storage"), ("S-02", "storage"),
                           ("Q-01", "quarantine"), ("R-01", "receiving")):
            create_location(session, warehouse=site, code=code, type=kind)

    db.atomic(build)
    return any_db_app


def put(sku, location, quantity):
    db.atomic(adjust_stock, sku=sku, location=location, quantity=quantity, reason="found")


def take(sku, location, quantity):
    db.atomic(adjust_stock, sku=sku, location=location, quantity=-quantity, reason="damaged")


def rule(sku="SKU-1", location="P-01", low=5, high=20, **extra):
    return replenishment.save_rule(sku=sku, location=location, min=low, max=high, **extra)


def open_tasks():
    with db.reading() as session:
        site = get_warehouse(session)
        return replenishment.list_tasks(session, site.id)


def tasks_of(status=None):
    with db.reading() as session:
        return replenishment.list_tasks(session, get_warehouse(session).id, status=status)


def on_hand(sku, location):
    with db.reading() as session:
        for row in replenishment.list_rules(session, get_warehouse(session).id):
            if (row["sku"], row["location"]) == (sku, location):
                return row["on_hand"]
    raise AssertionError("no rule there")


def ledger_clean():
    with db.reading() as session:
        return ledger.check(session) == []


def test_a_movement_taking_a_pick_face_below_its_minimum_creates_one_task_to_its_maximum(floor):
    put("SKU-1", "S-01", 100)
    put("SKU-1", "P-01", 10)
    rule(low=5, high=20)
    assert open_tasks() == []  # 10 is not below 5

    take("SKU-1", "P-01", 5)  # 5: at the minimum, not below
    assert open_tasks() == []
    take("SKU-1", "P-01", 1)  # 4: below
    tasks = open_tasks()
    assert [(t["sku"], t["from_location"], t["to_location"], t["quantity"], t["status"]) for t in tasks] == [
        ("SKU-1", "S-01", "P-01", 16, "open")]

    take("SKU-1", "P-01", 2)  # still below, the task is open: no second one
    db.atomic(transfer_stock, sku="SKU-1", from_location="P-01", to_location="P-02", quantity=1)
    assert [t["id"] for t in open_tasks()] == [tasks[0]["id"]]
    assert ledger_clean()


def test_setting_a_minimum_above_what_the_pick_face_holds_creates_the_task_at_once(floor):
    put("SKU-1", "S-01", 50)
    put("SKU-1", "P-01", 3)
    saved = rule(low=5, high=20)
    assert saved.created and saved.rule == {"sku": "SKU-1", "location": "P-01", "warehouse": "MAIN", "min": 5, "max": 20}
    assert [(t["from_location"], t["quantity"]) for t in open_tasks()] == [("S-01", 17)]

    again = rule(low=4, high=30)  # an upsert: the same rule, changed
    assert not again.created
    with db.reading() as session:
        rules = session.exec(select(ReplenishmentRule)).all()
    assert [(r.minimum, r.maximum) for r in rules] == [(4, 30)]
    assert len(open_tasks()) == 1


def test_no_task_without_stock_in_storage_until_the_managers_check_finds_some(floor):
    put("SKU-1", "P-01", 10)
    put("SKU-1", "Q-01", 50)  # quarantine is no source
    put("SKU-1", "R-01", 50)  # nor is receiving: putaway takes it to storage first
    rule(low=5, high=20)
    take("SKU-1", "P-01", 8)
    assert open_tasks() == []

    put("SKU-1", "S-02", 7)  # storage holds some now; a movement elsewhere does not wake the pick face
    assert open_tasks() == []
    site_id = get_warehouse_id()
    summary = replenishment.start_check(site_id)  # no Redis: the check runs now
    assert summary == {"pick_faces": 1, "below_minimum": 1, "created": 1, "already_open": 0, "nothing_in_storage": 0}
    assert [(t["from_location"], t["quantity"]) for t in open_tasks()] == [("S-02", 7)]  # all storage holds
    assert replenishment.start_check(site_id)["already_open"] == 1


def get_warehouse_id():
    with db.reading() as session:
        return get_warehouse(session).id


@pytest.mark.parametrize("page", [replenishment.INBOUND_PAGE, 1])  # 1: the history read a movement at a time
def test_oldest_stock_is_the_earliest_arrival_a_location_still_holds(floor, monkeypatch, page):
    monkeypatch.setattr(replenishment, "INBOUND_PAGE", page)
    put("SKU-1", "S-01", 10)  # first arrival at S-01
    put("SKU-1", "S-02", 10)  # then S-02
    put("SKU-1", "S-01", 10)  # then S-01 again
    take("SKU-1", "S-01", 12)  # first in, first out: S-01 now holds 8, all of its latest arrival
    put("SKU-1", "P-01", 3)
    rule(low=5, high=20)  # 17 wanted: S-02's 10 are the oldest, then 7 of S-01's 8
    [task] = open_tasks()
    assert (task["from_location"], task["quantity"]) == ("S-02", 17)
    with db.reading() as session:
        legs = replenishment.describe_task(session, task["id"])["legs"]
    assert [(leg["location"], leg["quantity"]) for leg in legs] == [("S-02", 10), ("S-01", 7)]


def test_a_task_completed_in_full_fills_the_pick_face_to_its_maximum(floor):
    put("SKU-1", "S-01", 100)
    put("SKU-1", "P-01", 2)
    rule(low=5, high=20)
    [task] = open_tasks()
    done = db.atomic(replenishment.complete_task, task["id"], from_location="s-01", product="BC-SKU-1",
                     to_location="P-01")
    assert done.task["status"] == "done" and done.task["quantity"] == 18 and done.remaining is None
    assert done.to_on_hand == 20 and on_hand("SKU-1", "P-01") == 20
    with db.reading() as session:
        movement = session.get(Movement, done.movement_id)
    assert (movement.type, movement.quantity, movement.reference) == ("replenishment", 18, f"REPLENISH-{task['id']}")
    assert open_tasks() == [] and ledger_clean()


def test_a_partial_completion_leaves_the_rest_as_a_new_task_from_the_next_source(floor):
    put("SKU-1", "S-01", 6)
    put("SKU-1", "S-02", 30)
    put("SKU-1", "P-01", 1)
    rule(low=5, high=20)
    [task] = open_tasks()
    assert (task["from_location"], task["quantity"]) == ("S-01", 19)
    done = db.atomic(replenishment.complete_task, task["id"], quantity=6)  # the suggested source, emptied
    assert done.task["quantity"] == 6 and done.to_on_hand == 7
    assert done.remaining is not None
    assert (done.remaining["from_location"], done.remaining["quantity"], done.remaining["status"]) == ("S-02", 13, "open")
    assert [t["id"] for t in open_tasks()] == [done.remaining["id"]]
    assert [t["status"] for t in tasks_of("done")] == ["done"]

    rest = db.atomic(replenishment.complete_task, done.remaining["id"], from_location="S-02")
    assert rest.to_on_hand == 20 and rest.remaining is None and open_tasks() == []
    assert ledger_clean()


@pytest.mark.parametrize(
    ("scans", "field", "error"),
    [
        ({"product": "SKU-2"}, "product", ValidationFailed),
        ({"product": "NOPE"}, "product", NotFound),
        ({"to_location": "P-02"}, "to_location", ValidationFailed),
        ({"to_location": "NOWHERE"}, "to_location", NotFound),
        ({"from_location": "P-01"}, "from_location", ValidationFailed),
        ({"from_location": "Q-01"}, "from_location", ValidationFailed),
        ({"from_location": "NOWHERE"}, "from_location", NotFound),
        ({"quantity": 0}, "quantity", ValidationFailed),
        ({"quantity": "abc"}, "quantity", ValidationFailed),
        ({"quantity": 19}, "quantity", Conflict),
        ({"from_location": "S-02"}, "quantity", ledger.InsufficientStock),  # S-02 holds none
    ],
)
def test_a_completion_with_a_wrong_scan_or_quantity_is_refused_and_changes_nothing(floor, scans, field, error):
    put("SKU-1", "S-01", 100)
    put("SKU-1", "Q-01", 100)
    put("SKU-1", "P-01", 2)
    rule(low=5, high=20)
    [task] = open_tasks()
    with db.reading() as session:
        before = sorted((s.product_id, s.location_id, s.on_hand) for s in session.exec(select(StockLevel)))
    with pytest.raises(error) as refused:
        db.atomic(replenishment.complete_task, task["id"], **scans)
    assert refused.value.field == field
    assert open_tasks() == [task]
    with db.reading() as session:
        assert sorted((s.product_id, s.location_id, s.on_hand) for s in session.exec(select(StockLevel))) == before


def test_a_task_is_done_once(floor):
    put("SKU-1", "S-01", 100)
    put("SKU-1", "P-01", 2)
    rule(low=5, high=20)
    [task] = open_tasks()
    db.atomic(replenishment.complete_task, task["id"])
    with pytest.raises(Conflict) as refused:
        db.atomic(replenishment.complete_task, task["id"])
    assert refused.value.code == "task_not_open" and refused.value.field == "task"
    with pytest.raises(NotFound):
        db.atomic(replenishment.complete_task, 999_999)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"location": "S-01"}, "location"),  # a storage location is no pick face
        ({"location": "NOWHERE"}, "location"),
        ({"sku": "NOPE"}, "sku"),
        ({"low": 20, "high": 20}, "max"),
        ({"low": -1}, "min"),
        ({"high": 2**31}, "max"),
        ({"warehouse": "NOPE"}, "warehouse"),
    ],
)
def test_a_rule_that_breaks_a_bound_or_names_nothing_is_refused_naming_the_field(floor, request_, field):
    with pytest.raises((ValidationFailed, NotFound)) as refused:
        rule(**request_)
    assert refused.value.field == field
    with db.reading() as session:
        assert session.exec(select(ReplenishmentRule)).all() == []


def test_a_rule_is_for_a_pick_face_of_the_warehouse_named(floor):
    def other(session):
        site = create_warehouse(session, code="WEST", name="West")
        create_location(session, warehouse=site, code="P-09", type="pick")

    db.atomic(other)
    with pytest.raises(NotFound) as refused:
        rule(location="P-09")  # not in the default warehouse
    assert refused.value.field == "location"
    assert rule(location="P-09", warehouse="west").rule["warehouse"] == "WEST"


def test_removing_a_rule_cancels_its_open_task_and_stops_new_ones(floor):
    put("SKU-1", "S-01", 100)
    put("SKU-1", "P-01", 2)
    rule(low=5, high=20)
    with db.reading() as session:
        rule_id = session.exec(select(ReplenishmentRule.id)).one()
    removed = db.atomic(replenishment.remove_rule, rule_id)
    replenishment.rules_changed()
    assert removed["sku"] == "SKU-1" and removed["cancelled_task"] is not None
    assert open_tasks() == [] and [t["status"] for t in tasks_of("cancelled")] == ["cancelled"]
    take("SKU-1", "P-01", 1)
    assert open_tasks() == []


def test_a_rule_another_process_saved_reaches_the_listener_when_its_copy_is_refreshed(floor):
    put("SKU-1", "S-01", 100)
    put("SKU-1", "P-01", 10)
    take("SKU-1", "P-01", 1)  # loads this process's copy of the rules: none

    def elsewhere(session):  # as another process would: this process's copy does not know
        site = get_warehouse(session)
        set_up = replenishment.set_rule(session, sku="SKU-1", location="P-01", min=9, max=20)
        assert set_up.created and site

    db.atomic(elsewhere)
    take("SKU-1", "P-01", 1)  # 8 < 9, but this process has not reloaded the rules yet
    assert open_tasks() == []
    floor.extensions["wms.replenishment_rules"].until = float("-inf")  # its refresh interval has passed
    take("SKU-1", "P-01", 1)
    assert [t["quantity"] for t in open_tasks()] == [13]


def test_a_listener_that_fails_leaves_the_movement_standing(floor, monkeypatch):
    put("SKU-1", "S-01", 100)
    put("SKU-1", "P-01", 10)
    rule(low=5, high=20)

    def broken(*_args):
        raise RuntimeError("the check could not run")

    monkeypatch.setattr(replenishment, "wake_check", broken)
    take("SKU-1", "P-01", 8)
    with db.reading() as session:
        assert session.exec(select(ReplenishmentTask)).all() == []
    assert on_hand("SKU-1", "P-01") == 2 and ledger_clean()
