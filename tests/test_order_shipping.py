"""Shipping orders: partial then complete shipments, repeats under other ids, shortfalls, and the
documented tracking webhook (Printed) that ships an order using the order fetched from the
Starshipit API, here the project's simulator speaking real HTTP."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from app import db
from app.models import Discrepancy, InboxEvent, Movement, OrderTimelineEntry
from app.settings_store import save
from simulator.server import Simulator
from tests.test_order_events import (
    assert_ledger_clean,
    build_floor,
    discrepancies,
    inbox_statuses,
    on_hand,
    order_body,
    order_state,
    send,
    shipped_total,
)


@pytest.fixture
def floor(app):
    build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
    return app


def test_a_partial_shipment_then_the_rest_completes_the_order(floor):
    client = floor.test_client()
    send(client, order_body("order_created", items=[{"sku": "SKU-A", "quantity": 5}, {"sku": "SKU-B", "quantity": 2}]))
    first = order_body("order_shipped", items=[{"sku": "SKU-A", "quantity": 5}, {"sku": "SKU-B", "quantity": 2}],
                       at="2026-11-24T05:00:00Z", shipment={"tracking_numbers": ["T1"], "items": [{"sku": "SKU-A", "quantity": 2}]})
    send(client, first)
    assert order_state()["status"] == "PARTIALLY_SHIPPED"
    assert order_state()["lines"] == {"SKU-A": (5, 2), "SKU-B": (2, 0)}
    assert on_hand("SKU-A", "P-01") == (8, 0)

    again = dict(first, event_id="evt-same-shipment-other-id")  # the same shipment, sent again
    send(client, again)
    assert order_state()["lines"] == {"SKU-A": (5, 2), "SKU-B": (2, 0)}

    rest = order_body("order_shipped", items=[{"sku": "SKU-A", "quantity": 5}, {"sku": "SKU-B", "quantity": 2}],
                      at="2026-11-24T06:00:00Z",
                      shipment={"tracking_numbers": ["T2"], "items": [{"sku": "SKU-A", "quantity": 3}, {"sku": "SKU-B", "quantity": 2}]})
    send(client, rest)
    assert order_state()["status"] == "SHIPPED"
    assert order_state()["lines"] == {"SKU-A": (5, 5), "SKU-B": (2, 2)}
    assert shipped_total("SKU-A") == 5 and shipped_total("SKU-B") == 2
    assert on_hand("SKU-A", "P-01") == (5, 0)
    assert on_hand("SKU-B", "P-02") == (8, 0)
    assert_ledger_clean()


def test_shipments_saying_what_has_shipped_so_far_apply_in_any_order(floor):
    client = floor.test_client()

    def shipped_event(at, so_far, this):
        items = [{"sku": "SKU-A", "quantity": 5, "quantity_to_ship": 5 - so_far}]
        return order_body("order_shipped", items=items, at=at, shipment={"items": [{"sku": "SKU-A", "quantity": this}]})

    second, first = shipped_event("2026-11-24T06:00:00Z", 5, 3), shipped_event("2026-11-24T05:00:00Z", 2, 2)
    send(client, second)
    send(client, first)
    assert order_state()["lines"] == {"SKU-A": (5, 5)}
    assert order_state()["status"] == "SHIPPED"
    assert shipped_total("SKU-A") == 5
    assert_ledger_clean()


def test_shipped_quantity_never_exceeds_what_was_ordered(floor):
    body = order_body("order_shipped", items=[{"sku": "SKU-A", "quantity": 2}],
                      shipment={"items": [{"sku": "SKU-A", "quantity": 9}, {"sku": "SKU-B", "quantity": 1}]})
    send(floor.test_client(), body)
    assert order_state()["lines"] == {"SKU-A": (2, 2)}
    assert shipped_total("SKU-A") == 2 and shipped_total("SKU-B") == 0
    assert_ledger_clean()


def test_a_shortfall_never_takes_a_location_negative_and_is_raised_as_a_discrepancy(floor):
    send(floor.test_client(), order_body("order_shipped", items=[{"sku": "SKU-B", "quantity": 13}]))
    assert order_state()["status"] == "SHIPPED"
    assert on_hand("SKU-B", "P-02") == (0, 0)
    assert shipped_total("SKU-B") == 13
    assert discrepancies() == [("shortfall", "SKU-B", 3, "SO-1")]
    with db.reading() as session:
        discrepancy = session.exec(select(Discrepancy)).one()
        found = session.get(Movement, discrepancy.movement_id)
        assert (found.type, found.quantity, found.reason, found.reference) == ("discrepancy", 3, "shortfall", "SO-1")
    assert_ledger_clean()


def test_a_shortfall_with_no_stock_anywhere_ships_through_a_location_of_the_warehouse(floor):
    send(floor.test_client(), order_body("order_shipped", items=[{"sku": "SKU-A", "quantity": 25}]))
    assert shipped_total("SKU-A") == 25
    assert discrepancies() == [("shortfall", "SKU-A", 15, "SO-1")]
    for location in ("P-01", "P-02", "S-01", "PACK-1"):
        assert on_hand("SKU-A", location)[0] >= 0
    assert_ledger_clean()


# ---- the tracking webhook, with the simulator as Starshipit -------------------------------------


@pytest.fixture
def starshipit(floor):
    sim = Simulator(port=0, seed=3).start()
    db.atomic(save, "STARSHIPIT_API_URL", sim.url)
    db.atomic(save, "STARSHIPIT_RATE_LIMIT", "0")
    yield sim
    sim.stop()


def deliveries(sim, *, kind=None, event=None, since=0):
    """What the simulator would have sent, in the order it sent it."""
    return [r["_raw"] for r in sim.deliverer.records[since:]
            if (kind is None or r["kind"] == kind) and (event is None or r["event"] == event)]


def test_tracking_printed_ships_an_unshipped_order_using_the_order_from_the_starshipit_api(floor, starshipit):
    client = floor.test_client()
    starshipit.store.create({"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": 3}, {"sku": "SKU-B", "quantity": 2}]})
    for raw in deliveries(starshipit, event="order_created"):
        assert send(client, raw).status_code == 202
    assert order_state()["status"] == "PENDING"

    mark = len(starshipit.deliverer.records)
    starshipit.store.ship(order_number="SO-1")
    printed = deliveries(starshipit, event="tracking:Printed", since=mark)
    assert len(printed) == 1
    assert send(client, printed[0]).status_code == 200
    assert order_state()["status"] == "SHIPPED"
    assert on_hand("SKU-A", "P-01") == (7, 0) and on_hand("SKU-B", "P-02") == (8, 0)

    for raw in deliveries(starshipit, event="order_shipped", since=mark):  # arrives later: nothing twice
        assert send(client, raw).status_code == 202
    assert shipped_total("SKU-A") == 3 and shipped_total("SKU-B") == 2
    assert inbox_statuses() == ["processed", "processed", "processed"]
    with db.reading() as session:
        kinds = [t.kind for t in session.exec(select(OrderTimelineEntry).order_by(OrderTimelineEntry.id))]
    assert kinds == ["order_created", "tracking", "order_shipped"]
    assert_ledger_clean()


def test_tracking_printed_for_an_order_the_wms_never_saw_creates_and_ships_it(floor, starshipit):
    starshipit.store.create({"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": 4}]})
    starshipit.store.ship(order_number="SO-1")
    (printed,) = deliveries(starshipit, event="tracking:Printed")
    assert send(floor.test_client(), printed).status_code == 200
    assert order_state()["status"] == "SHIPPED"
    assert order_state()["lines"] == {"SKU-A": (4, 4)}
    assert_ledger_clean()


def test_partial_shipments_in_starshipit_with_tracking_first_ship_each_unit_once(floor, starshipit):
    client = floor.test_client()
    starshipit.store.create({"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": 5}, {"sku": "SKU-B", "quantity": 2}]})
    starshipit.store.ship(order_number="SO-1", items=[{"sku": "SKU-A", "quantity": 2}])
    (printed,) = deliveries(starshipit, event="tracking:Printed")
    send(client, printed)  # Starshipit's order now says 2 x SKU-A shipped
    assert order_state()["status"] == "PARTIALLY_SHIPPED"
    assert order_state()["lines"] == {"SKU-A": (5, 2), "SKU-B": (2, 0)}

    starshipit.store.ship(order_number="SO-1")
    for raw in reversed(deliveries(starshipit, kind="order")):  # everything else, newest first
        send(client, raw)
    assert order_state()["status"] == "SHIPPED"
    assert shipped_total("SKU-A") == 5 and shipped_total("SKU-B") == 2
    assert on_hand("SKU-A", "P-01") == (5, 0)
    assert_ledger_clean()


def test_other_tracking_statuses_only_go_on_the_timeline(floor, starshipit):
    client = floor.test_client()
    body = {"order_number": "SO-9", "tracking_status": "InTransit", "tracking_number": "NZ1", "carrier_name": "NZ Post",
            "last_updated_date": "2026-11-24T06:00:00Z"}
    assert send(client, body).status_code == 200  # unknown order: recorded on the event only
    with db.reading() as session:
        event = session.exec(select(InboxEvent)).one()
        assert event.status == "processed" and "does not have" in event.last_error
    send(client, order_body("order_created", number="SO-9"))
    send(client, dict(body, tracking_status="Delivered", last_updated_date="2026-11-25T06:00:00Z"))
    assert order_state("SO-9")["status"] == "PENDING"
    with db.reading() as session:
        messages = [t.message for t in session.exec(select(OrderTimelineEntry).where(OrderTimelineEntry.kind == "tracking"))]
    assert messages == ["tracking Delivered (NZ Post NZ1)"]
    assert shipped_total("SKU-A", "SO-9") == 0


def test_tracking_printed_when_starshipit_cannot_be_reached_stays_pending_for_a_retry(floor):
    import socket

    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db.atomic(save, "STARSHIPIT_API_URL", f"http://127.0.0.1:{port}")
    body = {"order_number": "SO-1", "tracking_status": "Printed", "last_updated_date": "2026-11-24T06:00:00Z"}
    assert send(floor.test_client(), json.dumps(body).encode()).status_code == 200
    with db.reading() as session:
        event = session.exec(select(InboxEvent)).one()
        assert (event.status, event.attempts) == ("pending", 1)
        assert event.last_error
    assert order_state() is None


def test_an_order_line_finds_its_product_ignoring_the_case_of_its_sku(floor):
    """Starshipit's item SKUs are matched as every SKU look-up is: ignoring case."""
    client = floor.test_client()
    send(client, order_body("order_created", items=[{"sku": "sku-a", "quantity": 2}]))
    send(client, order_body("order_shipped", items=[{"sku": "sku-a", "quantity": 2}], at="2026-11-24T05:00:00Z"))
    assert order_state()["status"] == "SHIPPED"
    assert on_hand("SKU-A", "P-01") == (8, 0)
    assert discrepancies() == []
    assert_ledger_clean()
