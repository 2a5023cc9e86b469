"""Allocation of WMS orders: the candidate order over plain data (unit tests), then the use case on
SQLite and PostgreSQL: pick faces first, then the oldest stock, never quarantine or the receiving
dock, all or nothing unless partial allocation is on, refusals in words, release, and the automatic
runs: after an order event (after its commit), and when stock arrives for an order awaiting it."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.errors import Conflict, NotFound, ValidationFailed
from app.inventory import adjust_stock, receive_stock, transfer_stock
from app.models import Allocation, LocationType, Order, OrderLine, OrderTimelineEntry, StockLevel
from app.outbound import allocation, routing
from app.outbound.allocation import Candidate, ages_matter, ordered, plan, refusal, still_needed
from app.warehouses import create_location, get_warehouse
from tests.conftest import make_app
from tests.test_order_events import order_body, send

# ---- the rule over plain data ---------------------------------------------------------------


def cand(code, type="storage", free=5, seq=None, arrived=None, location_id=None):
    return Candidate(location_id or hash(code) % 10_000, code, type, seq, free, arrived)


def test_pick_faces_go_first_by_pick_sequence_with_no_sequence_last():
    faces = [cand("P-9", "pick", seq=None), cand("P-2", "pick", seq=20), cand("P-1", "pick", seq=10)]
    shelves = [cand("S-1", arrived=1)]
    assert [c.code for c in ordered(shelves + faces)] == ["P-1", "P-2", "P-9", "S-1"]


def test_other_locations_go_oldest_stock_first_unknown_age_last_then_by_code():
    shelves = [cand("S-3", arrived=None), cand("S-2", arrived=40), cand("S-1", arrived=70), cand("S-0", arrived=40)]
    assert [c.code for c in ordered(shelves)] == ["S-0", "S-2", "S-1", "S-3"]


def test_quarantine_receiving_packing_and_empty_locations_are_never_candidates():
    places = [cand("Q-1", "quarantine"), cand("DOCK", "receiving"), cand("PACK", "packing"), cand("SHIP", "shipping"),
              cand("S-EMPTY", free=0), cand("S-1")]
    assert [c.code for c in ordered(places)] == ["S-1"]


def test_a_plan_empties_each_location_before_the_next_and_never_takes_more_than_free():
    places = [cand("S-1", free=4, arrived=1), cand("P-1", "pick", free=3, seq=1), cand("S-2", free=10, arrived=2)]
    assert [(c.code, q) for c, q in plan(places, 9)] == [("P-1", 3), ("S-1", 4), ("S-2", 2)]
    assert [(c.code, q) for c, q in plan(places, 100)] == [("P-1", 3), ("S-1", 4), ("S-2", 10)]
    assert plan(places, 0) == [] and plan([], 5) == []


def test_ages_only_matter_when_pick_faces_fall_short_and_two_other_locations_could_give():
    face, s1, s2 = cand("P-1", "pick", free=5, seq=1), cand("S-1"), cand("S-2")
    assert not ages_matter([face, s1, s2], 5)
    assert ages_matter([face, s1, s2], 6)
    assert not ages_matter([face, s1], 6)


def test_what_a_line_still_needs_and_why_an_order_is_refused():
    assert still_needed(5, 1, 2) == 2 and still_needed(5, 3, 4) == 0
    assert refusal("WMS", "PENDING") is None and refusal("WMS", "AWAITING_STOCK") is None
    assert refusal("WMS", "ALLOCATED") is None
    assert refusal("STARSHIPIT", "PENDING")[0] == "not_wms_order"
    assert refusal("WMS", "SHIPPED")[0] == "order_shipped" and refusal("WMS", "PARTIALLY_SHIPPED")[0] == "order_shipped"
    assert refusal("WMS", "CANCELLED")[0] == "order_cancelled"
    assert refusal("WMS", "PICKING")[0] == "picking_started"


# ---- the use case on a database --------------------------------------------------------------


def floor(stock=()):
    """SKU-A and SKU-B; pick faces P-02 (seq 2), P-01 (seq 1); storage S-01, S-02; quarantine Q-01;
    receiving DOCK. `stock`: (sku, location, quantity) adjustments in that order (the ledger's ages)."""

    def build(session):
        site = get_warehouse(session)
        for sku in ("SKU-A", "SKU-B"):
            create_product(session, sku=sku, name=f"Product {sku}")
        create_location(session, warehouse=site, code="P-02", type="pick", pick_sequence=2)
        create_location(session, warehouse=site, code="P-01", type="pick", pick_sequence=1)
        create_location(session, warehouse=site, code="S-01", type="storage")
        create_location(session, warehouse=site, code="S-02", type="storage")
        create_location(session, warehouse=site, code="Q-01", type=LocationType.QUARANTINE)
        create_location(session, warehouse=site, code="DOCK", type=LocationType.RECEIVING)

    db.atomic(build)
    for sku, location, quantity in stock:
        db.atomic(adjust_stock, sku=sku, location=location, quantity=quantity, reason="found")


def wms_order(number, lines=(("SKU-A", 1),), route="WMS", status="PENDING"):
    def write(session):
        site = get_warehouse(session)
        order = Order(order_number=number, warehouse_id=site.id, status=status, route=route,
                      destination={"name": "Ada", "country": "NZ"})
        session.add(order)
        session.flush()
        from app.orders.mirror import _products

        products = _products(session, [sku for sku, _ in lines])
        for sku, quantity in lines:
            session.add(OrderLine(order_id=order.id, sku=sku, product_id=products.get(sku), quantity=quantity,
                                  unknown_sku=sku not in products))
        return order.id

    return db.atomic(write)


def allocate(number):
    return db.atomic(allocation.allocate_now, number)


def held(number):
    """{(sku, location): units} the order holds, and its status."""
    with db.reading() as session:
        order = session.scalars(select(Order).where(Order.order_number == number)).one()
        found = allocation.order_allocations(session, order)
    return {(line["sku"], place["location"]): place["quantity"] for line in found["lines"]
            for place in line["locations"]}, found["status"]


def clean():
    with db.reading() as session:
        assert ledger.check(session) == []
        assert all(level.allocated <= level.on_hand for level in session.scalars(select(StockLevel)))


def test_pick_faces_first_by_sequence_then_the_oldest_storage(any_db_app):
    floor([("SKU-A", "S-02", 5), ("SKU-A", "S-01", 5), ("SKU-A", "P-02", 2), ("SKU-A", "P-01", 1),
           ("SKU-A", "Q-01", 50), ("SKU-A", "DOCK", 50)])
    wms_order("SO-1", [("SKU-A", 6)])
    answer = allocate("SO-1")
    assert answer["status"] == "ALLOCATED"
    assert answer["lines"] == [{"sku": "SKU-A", "quantity": 6, "allocated": 6, "picked": 0, "locations": [
        {"location": "P-01", "quantity": 1}, {"location": "P-02", "quantity": 2}, {"location": "S-02", "quantity": 3}]}]
    clean()


def test_oldest_means_the_earliest_arrival_still_on_hand(any_db_app):
    # S-01's first units are gone; what it holds now came after all of S-02's stock
    floor([("SKU-A", "S-01", 2), ("SKU-A", "S-02", 4)])
    db.atomic(adjust_stock, sku="SKU-A", location="S-01", quantity=-2, reason="damaged")
    db.atomic(adjust_stock, sku="SKU-A", location="S-01", quantity=4, reason="found")
    wms_order("SO-1", [("SKU-A", 5)])
    allocate("SO-1")
    assert held("SO-1") == ({("SKU-A", "S-02"): 4, ("SKU-A", "S-01"): 1}, "ALLOCATED")


def test_short_stock_reserves_nothing_and_waits_then_partial_allocation_keeps_what_there_is(database_url):
    app = make_app(database_url)
    with app.app_context():
        from tests.conftest import _seed_basics

        _seed_basics()
        floor([("SKU-A", "P-01", 3), ("SKU-B", "S-01", 1)])
        wms_order("SO-1", [("SKU-A", 2), ("SKU-B", 2)])
        assert allocate("SO-1")["status"] == "AWAITING_STOCK"
        assert held("SO-1") == ({}, "AWAITING_STOCK")
        with db.reading() as session:
            notes = list(session.scalars(select(OrderTimelineEntry.message).where(OrderTimelineEntry.kind == "allocation")))
        assert notes == ["awaiting stock: short 1 x SKU-B"]
        clean()

        app.config[allocation.PARTIAL_SETTING] = "on"
        assert allocate("SO-1")["status"] == "AWAITING_STOCK"
        assert held("SO-1") == ({("SKU-A", "P-01"): 2, ("SKU-B", "S-01"): 1}, "AWAITING_STOCK")
        assert allocate("SO-1")["status"] == "AWAITING_STOCK"  # nothing more to take: nothing changes
        assert held("SO-1")[0] == {("SKU-A", "P-01"): 2, ("SKU-B", "S-01"): 1}
        db.atomic(adjust_stock, sku="SKU-B", location="S-02", quantity=1, reason="found")  # the listener retries it
        assert held("SO-1") == ({("SKU-A", "P-01"): 2, ("SKU-B", "S-01"): 1, ("SKU-B", "S-02"): 1}, "ALLOCATED")
        clean()
    app.extensions["wms.engine"].dispose()


def test_an_order_already_allocated_is_not_allocated_twice(any_db_app):
    floor([("SKU-A", "P-01", 10)])
    wms_order("SO-1", [("SKU-A", 2)])
    allocate("SO-1")
    assert allocate("SO-1")["lines"][0]["allocated"] == 2
    with db.reading() as session:
        assert sum(a.quantity for a in session.scalars(select(Allocation))) == 2
    clean()


def test_refusals_are_conflicts_in_words(any_db_app):
    floor([("SKU-A", "P-01", 10)])
    wms_order("SO-S", route="STARSHIPIT")
    wms_order("SO-X", status="SHIPPED")
    wms_order("SO-C", status="CANCELLED")
    for number, code in (("SO-S", "not_wms_order"), ("SO-X", "order_shipped"), ("SO-C", "order_cancelled")):
        with pytest.raises(Conflict) as refused:
            allocate(number)
        assert refused.value.code == code and number in refused.value.message
    with pytest.raises(NotFound):
        allocate("NOPE")
    with pytest.raises(ValidationFailed):
        allocate("bad\x00number")
    with db.reading() as session:
        assert session.scalars(select(Allocation)).first() is None


def test_release_order_gives_back_every_unpicked_allocation_at_once(any_db_app):
    floor([("SKU-A", "P-01", 10), ("SKU-B", "S-01", 10)])
    wms_order("SO-1", [("SKU-A", 2), ("SKU-B", 3)])
    allocate("SO-1")

    def release(session):
        order = session.scalars(select(Order).where(Order.order_number == "SO-1")).one()
        return allocation.release_order(session, order)

    assert db.atomic(release) == 5
    assert held("SO-1") == ({}, "PENDING")
    clean()


def test_stock_arriving_allocates_the_orders_awaiting_it_oldest_first(any_db_app):
    floor()
    for number in ("SO-1", "SO-2", "SO-3"):
        wms_order(number, [("SKU-A", 2)])
        assert allocate(number)["status"] == "AWAITING_STOCK"
    db.atomic(receive_stock, sku="SKU-A", location="S-01", quantity=3)  # enough for the oldest only
    assert [held(n)[1] for n in ("SO-1", "SO-2", "SO-3")] == ["ALLOCATED", "AWAITING_STOCK", "AWAITING_STOCK"]
    db.atomic(receive_stock, sku="SKU-A", location="DOCK", quantity=10)  # the dock: not yet available
    assert held("SO-2")[1] == "AWAITING_STOCK"
    db.atomic(transfer_stock, sku="SKU-A", from_location="DOCK", to_location="P-02", quantity=2)  # a putaway
    # 3 free now (1 left at S-01, 2 at P-02): SO-2 gets the pick face's 2; SO-3 cannot be filled by 1
    assert [held(n)[1] for n in ("SO-1", "SO-2", "SO-3")] == ["ALLOCATED", "ALLOCATED", "AWAITING_STOCK"]
    assert held("SO-2")[0] == {("SKU-A", "P-02"): 2}
    clean()


def test_a_wms_order_arriving_by_webhook_is_allocated_after_its_commit(any_db_app):
    floor([("SKU-A", "P-01", 5), ("SKU-B", "S-01", 5)])
    db.atomic(routing.replace_rules, [{"name": "All", "match": {}, "outcome": "WMS"}])
    client = any_db_app.test_client()
    assert send(client, order_body("order_created", "SO-1")).status_code == 202
    assert held("SO-1") == ({("SKU-A", "P-01"): 3, ("SKU-B", "S-01"): 2}, "ALLOCATED")

    # lines changed: released at once, allocated again for the new quantities
    send(client, order_body("order_changed", "SO-1", at="2026-11-24T05:00:00Z",
                            items=[{"sku": "SKU-A", "quantity": 1}]))
    assert held("SO-1") == ({("SKU-A", "P-01"): 1}, "ALLOCATED")
    clean()

    # another order waits; deleting the first frees its unit for it
    send(client, order_body("order_created", "SO-2", items=[{"sku": "SKU-A", "quantity": 5}]))
    assert held("SO-2") == ({}, "AWAITING_STOCK")
    send(client, order_body("order_deleted", "SO-1", at="2026-11-24T06:00:00Z"))
    assert held("SO-1") == ({}, "CANCELLED")
    assert held("SO-2") == ({("SKU-A", "P-01"): 5}, "ALLOCATED")
    clean()


def test_an_order_routed_starshipit_is_not_allocated_and_a_rerouted_one_lets_go(any_db_app):
    floor([("SKU-A", "P-01", 5), ("SKU-B", "S-01", 5)])
    client = any_db_app.test_client()
    send(client, order_body("order_created", "SO-1"))  # no rules: STARSHIPIT
    assert held("SO-1") == ({}, "PENDING")
    db.atomic(routing.replace_rules, [{"name": "NZ", "match": {"country": "NZ"}, "outcome": "WMS"}])
    send(client, order_body("order_changed", "SO-1", at="2026-11-24T05:00:00Z"))
    # routed WMS now, still PENDING: allocated
    assert held("SO-1") == ({("SKU-A", "P-01"): 3, ("SKU-B", "S-01"): 2}, "ALLOCATED")
    send(client, order_body("order_changed", "SO-1", at="2026-11-24T05:30:00Z", items=[{"sku": "SKU-A", "quantity": 1}]))
    assert held("SO-1") == ({("SKU-A", "P-01"): 1}, "ALLOCATED")
    send(client, order_body("order_changed", "SO-1", at="2026-11-24T06:00:00Z", destination={"country": "AU"},
                            items=[{"sku": "SKU-A", "quantity": 2}]))
    assert held("SO-1") == ({}, "PENDING")  # routed STARSHIPIT again: it holds nothing
    clean()


def test_the_job_runs_after_the_commit_not_inside_the_transaction(any_db_app, monkeypatch):
    floor([("SKU-A", "P-01", 5)])
    order_id = wms_order("SO-1")
    seen = []

    def spy(order_ids):
        with db.reading() as session:  # a separate session: sees only what was committed
            seen.append((order_ids, session.get(Order, order_id).status))

    monkeypatch.setattr("jobs.allocation.allocate_orders", spy)

    def change(session):
        order = session.get(Order, order_id)
        order.status = "PENDING"
        order.reference = "changed"
        allocation.request(session, [order_id])
        assert seen == []  # nothing runs inside the transaction

    db.atomic(change)
    assert seen == [([order_id], "PENDING")]

    def rolled_back(session):
        allocation.request(session, [order_id])
        raise ValidationFailed("no")

    with pytest.raises(ValidationFailed):
        db.atomic(rolled_back)
    assert len(seen) == 1  # a transaction that rolled back hands nothing over


def test_an_order_routed_wms_by_hand_is_allocated_and_one_routed_away_lets_go(any_db_app):
    floor([("SKU-A", "P-01", 5)])
    wms_order("SO-7", route="STARSHIPIT")
    db.atomic(routing.reroute, "SO-7", "WMS", None)
    assert held("SO-7") == ({("SKU-A", "P-01"): 1}, "ALLOCATED")
    db.atomic(routing.reroute, "SO-7", "STARSHIPIT", None)
    assert held("SO-7") == ({}, "PENDING")
    clean()


# ---- a batch of orders in one transaction (the jobs' way) ------------------------------------------


def test_a_batch_plans_each_order_against_what_the_ones_before_it_took(any_db_app):
    floor([("SKU-A", "S-02", 3), ("SKU-A", "S-01", 3), ("SKU-A", "P-01", 2), ("SKU-B", "P-02", 1)])
    first = wms_order("SO-1", [("SKU-A", 4)])
    second = wms_order("SO-2", [("SKU-A", 3), ("SKU-B", 1)])
    third = wms_order("SO-3", [("SKU-B", 1)])  # SKU-B is gone to SO-2: all or nothing, SO-3 waits
    fourth = wms_order("SO-4", [("SKU-A", 1)])  # what SO-3 did not take is still there for SO-4
    assert db.atomic(allocation.allocate_batch, [fourth, third, second, first]) == [
        "ALLOCATED", "ALLOCATED", "AWAITING_STOCK", "ALLOCATED"]
    assert held("SO-1") == ({("SKU-A", "P-01"): 2, ("SKU-A", "S-02"): 2}, "ALLOCATED")
    assert held("SO-2") == ({("SKU-A", "S-02"): 1, ("SKU-A", "S-01"): 2, ("SKU-B", "P-02"): 1}, "ALLOCATED")
    assert held("SO-3") == ({}, "AWAITING_STOCK")
    assert held("SO-4") == ({("SKU-A", "S-01"): 1}, "ALLOCATED")
    clean()


def test_a_batch_skips_orders_that_are_gone_or_moved_on_and_allocates_the_rest(any_db_app):
    floor([("SKU-A", "P-01", 5)])
    shipped = wms_order("SO-1", status="SHIPPED")
    elsewhere = wms_order("SO-2", route="STARSHIPIT")
    good = wms_order("SO-3")
    assert db.atomic(allocation.allocate_batch, [shipped, elsewhere, good, 999_999]) == [
        "skipped", "skipped", "ALLOCATED", "skipped"]
    assert held("SO-3") == ({("SKU-A", "P-01"): 1}, "ALLOCATED")
    assert held("SO-1")[0] == {} and held("SO-2")[0] == {}
    clean()


def test_a_batch_refused_as_a_whole_is_allocated_one_order_at_a_time(any_db_app, monkeypatch):
    from jobs import allocation as jobs

    floor([("SKU-A", "P-01", 5)])
    ids = [wms_order(f"SO-{n}") for n in range(3)]

    def refused(session, order_ids):
        raise ledger.InvalidMovement("a batch refused as a whole")

    monkeypatch.setattr(allocation, "allocate_batch", refused)
    assert jobs.allocate_orders(ids) == {"ALLOCATED": 3}
    assert [held(f"SO-{n}")[1] for n in range(3)] == ["ALLOCATED"] * 3
    clean()
