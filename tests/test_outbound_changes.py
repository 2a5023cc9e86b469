"""Outbound orders that change after work started (issue 9, items 5 and 6), on SQLite and
PostgreSQL, events through the real webhook receiver: an order changed mid-pick, changed after
picking (a shrunk line's picked units stay in the tote with a return-to-stock task suggesting where
they came from; a grown line is allocated again), changed after packing (picked again, to be
packed again), deleted after picking (the whole tote's content for it goes back to stock through
the putaway scan flow), and a label printed in Starshipit while the WMS was picking (shipped from
what was picked, then what was allocated; the rest released, the open stops closed, a repeated
event deducting nothing). Every balance is checked by number, the ledger clean after each.

Short picks are covered in tests/test_picking.py (test_a_short_pick_*: re-allocated elsewhere,
the order flagged AWAITING_STOCK with its picked units kept in the tote, another order's
allocation released there)."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db
from app.accounts import create_token
from app.inbound import putaway
from app.models import Allocation, InboxEvent, LabelJob, Location, Movement, OrderTimelineEntry, PickStop, PutawayTask
from app.outbound import labels, packing, picking, returns, routing
from tests.conftest import ApiClient
from tests.test_allocation import floor
from tests.test_order_events import order_body, send
from tests.test_picking import clean, job, on_hand, pick, picked_at, state, totes


def at(hour, minute=0):
    return f"2026-11-24T{hour:02d}:{minute:02d}:00Z"


def wms_floor(stock=(("SKU-A", "P-01", 10), ("SKU-B", "P-02", 10))):
    """SKU-A and SKU-B (app tests' floor: P-01, P-02, S-01, S-02, Q-01, DOCK), totes T-01 to T-03,
    and one routing rule sending every order to the WMS."""
    floor(list(stock))
    totes("T-01", "T-02", "T-03")
    db.atomic(routing.replace_rules, [{"name": "all to WMS", "match": {}, "outcome": "WMS"}])


def items(**lines):
    return [{"sku": sku.replace("_", "-"), "quantity": quantity} for sku, quantity in lines.items()]


def created(client, number, **lines):
    assert send(client, order_body("order_created", number, items=items(**lines), at=at(4))).status_code == 202
    assert state(number) == "ALLOCATED"


def changed(client, number, hour, **lines):
    assert send(client, order_body("order_changed", number, items=items(**lines), at=at(hour))).status_code == 202


def balance(location, sku="SKU-A"):
    """(on hand, allocated) of a product at a location."""
    with db.reading() as session:
        from app.models import Product, StockLevel
        row = session.execute(select(StockLevel.on_hand, StockLevel.allocated)
                              .join(Location, Location.id == StockLevel.location_id)
                              .join(Product, Product.id == StockLevel.product_id)
                              .where(Location.code == location, Product.sku == sku)).first()
        return tuple(row) if row else (0, 0)


def open_tasks():
    """(sku, quantity, from, suggested, reference) of every open putaway task."""
    with db.reading() as session:
        return sorted((t["sku"], t["quantity"], t["from_location"], t["suggested_location"], t["reference"])
                      for t in putaway.list_tasks(session, status="open"))


def tote_free(code):
    with db.reading() as session:
        tote = session.scalars(select(Location).where(Location.code == code)).one()
        return picking._free_tote(session, tote) is None


def held_by(number):
    with db.reading() as session:
        from app.outbound import allocation
        from app.orders import mirror
        order = mirror.find_order(session, number)
        return {(line["sku"], line["allocated"], line["picked"]) for line in
                allocation.order_allocations(session, order)["lines"]}


@pytest.fixture
def api(any_db_app):
    return ApiClient(any_db_app.test_client(), db.atomic(create_token, "tests"))


# ---- the rule over plain data ---------------------------------------------------------------------


def test_returned_units_are_traced_to_the_newest_picks_first():
    assert returns.sources([(7, 2), (5, 3)], 4) == [(7, 2), (5, 2)]
    assert returns.sources([(7, 2), (7, 1)], 3) == [(7, 3)]
    assert returns.sources([(7, 1)], 3) == [(7, 1), (None, 2)]  # what no pick accounts for has no source
    assert returns.sources([], 2) == [(None, 2)] and returns.sources([(7, 2)], 0) == []


# ---- changes --------------------------------------------------------------------------------------


def test_an_order_changed_mid_pick_returns_the_picked_units_it_no_longer_wants(any_db_app, api):
    wms_floor()
    client = any_db_app.test_client()
    created(client, "SO-1", SKU_A=3, SKU_B=2)
    made = job(["SO-1"])
    pick(made["id"], "P-01", "SKU-A", 2, "T-01")
    changed(client, "SO-1", 5, SKU_A=1, SKU_B=2)  # 2 of SKU-A picked, 1 wanted now
    assert state("SO-1") == "PICKING"
    assert held_by("SO-1") == {("SKU-A", 0, 1), ("SKU-B", 2, 0)}
    assert balance("T-01") == (2, 1) and balance("P-01") == (8, 0)
    answer = api.get("/api/v1/putaway-tasks?status=open").get_json()["items"]
    assert [(t["sku"], t["quantity"], t["from_location"], t["suggested_location"], t["reference"]) for t in answer] == [
        ("SKU-A", 1, "T-01", "P-01", "return SO-1")]
    with db.reading() as session:
        view = picking.get_pick_job(session, made["id"])
    assert [(s["location"], s["sku"], s["quantity"], s["picked"]) for s in view["stops"]] == [
        ("P-01", "SKU-A", 2, 2), ("P-02", "SKU-B", 2, 0)]
    pick(made["id"], "P-02", "SKU-B", 2, "T-01")
    assert state("SO-1") == "PICKED"
    with db.reading() as session:
        assert [(p.sku, p.picked) for p in packing.packing_list(session, packing.get_order(session, "SO-1"))] == [
            ("SKU-A", 1), ("SKU-B", 2)]
    # the returned unit goes back by the putaway scan flow, from the tote
    done = db.atomic(putaway.put_away, from_location="T-01", product="SKU-A", location="P-01")
    assert done.quantity == 1 and done.location == "P-01"
    assert balance("T-01") == (1, 1) and balance("P-01") == (9, 0) and balance("T-01", "SKU-B") == (2, 2)
    assert open_tasks() == []
    clean()


def test_an_order_changed_after_picking_returns_a_shrunk_line_and_allocates_a_grown_one(any_db_app):
    wms_floor()
    client = any_db_app.test_client()
    created(client, "SO-1", SKU_A=3, SKU_B=2)
    made = job(["SO-1"])
    pick(made["id"], "P-01", "SKU-A", 3, "T-01")
    pick(made["id"], "P-02", "SKU-B", 2, "T-01")
    assert state("SO-1") == "PICKED" and picked_at("T-01") == 5
    changed(client, "SO-1", 5, SKU_A=1, SKU_B=4)  # SKU-A shrinks by 2, SKU-B grows by 2
    # the shrunk line: 2 x SKU-A stay in T-01, free, with a task back to P-01, where they came from
    assert open_tasks() == [("SKU-A", 2, "T-01", "P-01", "return SO-1")]
    assert balance("T-01") == (3, 1) and balance("P-01") == (7, 0)
    # the grown line: allocated again (after the event's commit), the picked units kept
    assert state("SO-1") == "ALLOCATED"
    assert held_by("SO-1") == {("SKU-A", 0, 1), ("SKU-B", 2, 2)}
    assert balance("P-02", "SKU-B") == (8, 2) and balance("T-01", "SKU-B") == (2, 2)
    with db.reading() as session:
        notes = [e.message for e in session.scalars(select(OrderTimelineEntry))]
    assert any("back to stock: 2 x SKU-A from tote T-01 to P-01" in n for n in notes)
    # what grew is picked into another tote (T-01 is not free: it holds stock)
    again = job(["SO-1"])
    assert [(s["location"], s["sku"], s["quantity"], s["tote"]) for s in again["stops"]] == [("P-02", "SKU-B", 2, "T-02")]
    pick(again["id"], "P-02", "SKU-B", 2, "T-02")
    assert state("SO-1") == "PICKED"
    with db.reading() as session:
        assert [(p.sku, p.picked, p.totes) for p in packing.packing_list(session, packing.get_order(session, "SO-1"))] \
            == [("SKU-A", 1, ("T-01",)), ("SKU-B", 4, ("T-01", "T-02"))]
    db.atomic(putaway.put_away, from_location="T-01", product="SKU-A", location="P-01")
    assert balance("T-01") == (1, 1) and balance("P-01") == (9, 0) and balance("P-02", "SKU-B") == (6, 0)
    clean()


def test_a_packed_order_that_shrinks_is_picked_again_to_be_packed_again(any_db_app, monkeypatch):
    monkeypatch.setattr(labels, "_committed", lambda session: session.info.pop(labels._PENDING, None))  # no label run
    wms_floor()
    client = any_db_app.test_client()
    created(client, "SO-1", SKU_A=2, SKU_B=1)
    made = job(["SO-1"])
    pick(made["id"], "P-01", "SKU-A", 2, "T-01")
    pick(made["id"], "P-02", "SKU-B", 1, "T-01")
    db.atomic(packing.pack_order, "SO-1", items={"SKU-A": 2, "SKU-B": 1}, package=None)
    assert state("SO-1") == "PACKED"
    changed(client, "SO-1", 5, SKU_A=2)  # SKU-B vanishes
    assert state("SO-1") == "PICKED"  # the box no longer matches: packed again
    assert open_tasks() == [("SKU-B", 1, "T-01", "P-02", "return SO-1")]
    assert held_by("SO-1") == {("SKU-A", 0, 2), ("SKU-B", 0, 0)}
    assert balance("T-01", "SKU-B") == (1, 0) and balance("T-01") == (2, 2)
    with db.reading() as session:
        [first] = session.scalars(select(LabelJob)).all()
    assert first.status == "failed" and "pack it again" in first.error  # the queued label was for the old box
    db.atomic(packing.pack_order, "SO-1", items={"SKU-A": 2}, package=None)
    assert state("SO-1") == "PACKED"
    with db.reading() as session:
        assert [j.status for j in session.scalars(select(LabelJob).order_by(LabelJob.id))] == ["failed", "queued"]
    clean()


def test_an_order_deleted_after_picking_sends_the_whole_tote_back_to_stock(any_db_app, api):
    wms_floor([("SKU-A", "P-01", 2), ("SKU-A", "S-01", 5), ("SKU-B", "P-02", 10)])
    client = any_db_app.test_client()
    created(client, "SO-1", SKU_A=3, SKU_B=2)  # SKU-A: 2 from P-01, 1 from S-01
    made = job(["SO-1"])
    pick(made["id"], "P-01", "SKU-A", 2, "T-01")
    pick(made["id"], "P-02", "SKU-B", 2, "T-01")
    pick(made["id"], "S-01", "SKU-A", 1, "T-01")
    assert state("SO-1") == "PICKED"
    assert send(client, order_body("order_deleted", "SO-1", items=items(SKU_A=3, SKU_B=2), at=at(5))).status_code == 202
    assert state("SO-1") == "CANCELLED"
    # each unit back where it was picked from
    assert open_tasks() == [("SKU-A", 1, "T-01", "S-01", "return SO-1"), ("SKU-A", 2, "T-01", "P-01", "return SO-1"),
                            ("SKU-B", 2, "T-01", "P-02", "return SO-1")]
    listed = api.get("/api/v1/putaway-tasks?status=open&q=return SO-1").get_json()["items"]
    assert sum(t["quantity"] for t in listed) == 5
    assert balance("T-01") == (3, 0) and balance("T-01", "SKU-B") == (2, 0)
    assert not tote_free("T-01")
    with db.reading() as session:
        assert session.scalars(select(Allocation).where(Allocation.quantity > 0)).all() == []
    # done through the putaway use case, as a picker scans it: tote, product, where it went
    db.atomic(putaway.put_away, from_location="T-01", product="SKU-A", location="S-01")
    db.atomic(putaway.put_away, from_location="T-01", product="SKU-A", location="P-01")
    partial = db.atomic(putaway.put_away, from_location="T-01", product="SKU-B", location="P-02", quantity=1)
    assert partial.remaining["suggested_location"] == "P-02"  # the rest of a return keeps its place
    db.atomic(putaway.put_away, from_location="T-01", product="SKU-B", location="P-02")
    assert open_tasks() == []
    assert balance("T-01") == (0, 0) and balance("T-01", "SKU-B") == (0, 0)
    assert balance("P-01") == (2, 0) and balance("S-01") == (5, 0) and balance("P-02", "SKU-B") == (10, 0)
    assert tote_free("T-01")
    clean()


def test_a_short_picked_order_changed_to_what_was_found_is_picked(any_db_app):
    wms_floor([("SKU-A", "P-01", 3)])
    client = any_db_app.test_client()
    created(client, "SO-1", SKU_A=3)
    made = job(["SO-1"])
    pick(made["id"], "P-01", "SKU-A", 1, "T-01")
    db.atomic(picking.record_short, made["id"], location="P-01", sku="SKU-A", found=0)
    assert state("SO-1") == "AWAITING_STOCK" and balance("T-01") == (1, 1) and balance("P-01") == (0, 0)
    changed(client, "SO-1", 5, SKU_A=1)  # the customer takes the one that was found
    assert state("SO-1") == "PICKED"  # allocation finds its tote holds every line
    assert held_by("SO-1") == {("SKU-A", 0, 1)} and open_tasks() == []
    with db.reading() as session:
        assert [(p.sku, p.picked) for p in packing.packing_list(session, packing.get_order(session, "SO-1"))] == [
            ("SKU-A", 1)]
    clean()


# ---- a label printed in Starshipit while the WMS was picking --------------------------------------


def test_a_label_printed_in_starshipit_mid_pick_ships_picked_then_allocated_and_closes_the_stops(any_db_app):
    wms_floor()
    client = any_db_app.test_client()
    created(client, "SO-1", SKU_A=3, SKU_B=2)
    created(client, "SO-2", SKU_A=1)
    made = job(["SO-1", "SO-2"], "batch")
    pick(made["id"], "P-01", "SKU-A", 2, "T-01")  # 2 of SO-1's 3 SKU-A picked; SKU-B not yet
    shipped = order_body("order_shipped", "SO-1", items=items(SKU_A=3, SKU_B=2), at=at(6), status="Printed",
                         shipment={"carrier_name": "NZ Post", "tracking_numbers": ["NZ100"],
                                   "items": items(SKU_A=3, SKU_B=2)})
    assert send(client, shipped).status_code == 202
    assert state("SO-1") == "SHIPPED"
    with db.reading() as session:
        moves = sorted((m.quantity, session.get(Location, m.from_location_id).code) for m in session.scalars(
            select(Movement).where(Movement.type == "shipment", Movement.reference == "SO-1")))
    assert moves == [(1, "P-01"), (2, "P-02"), (2, "T-01")]  # picked first, then what was allocated
    assert balance("T-01") == (0, 0) and balance("P-01") == (7, 1)  # SO-2's unit still allocated
    assert balance("P-02", "SKU-B") == (8, 0)
    assert held_by("SO-1") == {("SKU-A", 0, 0), ("SKU-B", 0, 0)}
    with db.reading() as session:
        view = picking.get_pick_job(session, made["id"])
        open_stops = session.scalars(select(PickStop).where(PickStop.picked < PickStop.quantity)).all()
    assert [(s["order_number"], s["sku"], s["quantity"], s["picked"]) for s in view["stops"] if not s["done"]] == [
        ("SO-2", "SKU-A", 1, 0)]  # no picker is sent for SO-1 any more
    assert len(open_stops) == 1
    assert view["status"] in ("open", "picking")
    # the same shipment again (another event id), and its tracking webhook: nothing more moves
    again = dict(shipped, event_id="evt_again")
    assert send(client, again).status_code == 202
    tracking = {"order_number": "SO-1", "carrier_name": "NZ Post", "tracking_number": "NZ100",
                "tracking_status": "Printed", "last_updated_date": at(7)}
    assert send(client, tracking).status_code == 200  # a tracking update is answered 200
    with db.reading() as session:
        assert len(session.scalars(select(Movement).where(Movement.type == "shipment")).all()) == 3
        assert {e.status for e in session.scalars(select(InboxEvent))} <= {"processed", "ignored"}
    assert balance("P-01") == (7, 1) and balance("P-02", "SKU-B") == (8, 0) and balance("T-01") == (0, 0)
    assert open_tasks() == []
    pick(made["id"], "P-01", "SKU-A", 1, "T-02")
    with db.reading() as session:
        assert picking.get_pick_job(session, made["id"])["status"] == "done"
    assert state("SO-2") == "PICKED" and tote_free("T-01")
    clean()


def test_a_partial_shipment_from_starshipit_keeps_the_picked_units_and_releases_the_rest(any_db_app):
    wms_floor()
    client = any_db_app.test_client()
    created(client, "SO-1", SKU_A=3, SKU_B=2)
    made = job(["SO-1"])
    pick(made["id"], "P-02", "SKU-B", 2, "T-01")
    shipped = order_body("order_shipped", "SO-1", items=items(SKU_A=3, SKU_B=2), at=at(6),
                         shipment={"carrier_name": "NZ Post", "tracking_numbers": ["NZ200"], "items": items(SKU_A=3)})
    send(client, shipped)
    assert state("SO-1") == "PARTIALLY_SHIPPED"
    assert balance("P-01") == (7, 0)  # shipped from its allocation at P-01
    assert held_by("SO-1") == {("SKU-A", 0, 0), ("SKU-B", 0, 2)}  # the picked SKU-B stays the order's, in T-01
    with db.reading() as session:
        assert picking.get_pick_job(session, made["id"])["status"] == "done"  # no stop left to walk
    # Starshipit ships the rest: from the tote
    rest = order_body("order_shipped", "SO-1", items=items(SKU_A=3, SKU_B=2), at=at(7),
                      shipment={"carrier_name": "NZ Post", "tracking_numbers": ["NZ201"], "items": items(SKU_B=2)})
    send(client, rest)
    assert state("SO-1") == "SHIPPED"
    assert balance("T-01", "SKU-B") == (0, 0) and balance("P-02", "SKU-B") == (8, 0) and tote_free("T-01")
    with db.reading() as session:
        assert session.scalars(select(PutawayTask)).all() == []
    clean()
