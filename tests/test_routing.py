"""Routing rules stored and applied: the list replaced all or nothing, an order arriving or changing
by webhook routed by the first rule that matches (in the event's transaction), a manager's routing
by hand kept and refused once the order has shipped or been cancelled, the tester. SQLite and
PostgreSQL."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Order, OrderTimelineEntry, RoutingRule
from app.outbound import routing
from app.warehouses import create_warehouse
from tests.orders_data import add_order, set_status
from tests.test_order_events import order_body, send

PILOT = {"name": "Pilot warehouse", "match": {"warehouse": "MAIN", "country": "NZ"}, "outcome": "WMS"}
SHOPIFY = {"name": "Shopify to Starshipit", "match": {"channel": "shopify"}, "outcome": "STARSHIPIT"}


def replace(items):
    return db.atomic(routing.replace_rules, items)


def order_route(number="SO-1"):
    with db.reading() as session:
        order = session.scalars(select(Order).where(Order.order_number == number)).one()
        return order.route, order.routing_rule_name, order.routed_by_hand


def test_the_list_is_stored_in_order_and_read_back(any_db_app):
    saved = replace([SHOPIFY, PILOT, {**PILOT, "name": "Off", "enabled": False}])
    assert [(r["position"], r["name"], r["enabled"], r["outcome"]) for r in saved] == [
        (1, "Shopify to Starshipit", True, "STARSHIPIT"), (2, "Pilot warehouse", True, "WMS"), (3, "Off", False, "WMS")]
    with db.reading() as session:
        assert routing.list_rules(session) == saved
    assert saved[1]["match"] == {"warehouse": "MAIN", "country": "NZ"}


def test_a_refused_item_changes_nothing_and_is_named(any_db_app):
    replace([PILOT])
    with pytest.raises(ValidationFailed) as refused:
        replace([SHOPIFY, {**PILOT, "match": {"country": "\x00"}}])
    assert refused.value.field == "items.1.match.country"
    with db.reading() as session:
        assert [r["name"] for r in routing.list_rules(session)] == ["Pilot warehouse"]


@pytest.mark.parametrize("items, field", [
    ([PILOT, {**SHOPIFY, "name": "pilot WAREHOUSE"}], "items.1.name"),
    ([{**PILOT, "match": {"warehouse": "NOPE"}}], "items.0.match.warehouse"),
    ([PILOT] * 201, "items"),
])
def test_names_repeated_unknown_warehouses_and_too_many_rules_are_refused(any_db_app, items, field):
    with pytest.raises(ValidationFailed) as refused:
        replace(items)
    assert refused.value.field == field


def test_an_order_arriving_by_webhook_is_routed_by_the_first_rule_that_matches(any_db_app):
    replace([SHOPIFY, PILOT])
    client = any_db_app.test_client()
    assert send(client, order_body("order_created", "SO-1")).status_code == 202
    assert order_route("SO-1") == ("WMS", "Pilot warehouse", False)
    send(client, order_body("order_created", "SO-2", channel="Shopify"))
    assert order_route("SO-2") == ("STARSHIPIT", "Shopify to Starshipit", False)
    send(client, order_body("order_created", "SO-3", destination={"country": "AU"}))
    assert order_route("SO-3") == ("STARSHIPIT", None, False)
    with db.reading() as session:
        notes = session.scalars(select(OrderTimelineEntry.message).where(OrderTimelineEntry.kind == "routed"))
        assert list(notes) == ["routed WMS by rule 'Pilot warehouse'", "routed STARSHIPIT by rule 'Shopify to Starshipit'"]


def test_order_changed_routes_the_order_again(any_db_app):
    replace([{"name": "Mugs", "match": {"skus_any": ["MUG-1"]}, "outcome": "WMS"}])
    client = any_db_app.test_client()
    send(client, order_body("order_created", "SO-1", items=[{"sku": "TEE-S", "quantity": 1}]))
    assert order_route() == ("STARSHIPIT", None, False)
    send(client, order_body("order_changed", "SO-1", at="2026-11-24T05:00:00Z",
                            items=[{"sku": "TEE-S", "quantity": 1}, {"sku": "mug-1", "quantity": 2}]))
    assert order_route() == ("WMS", "Mugs", False)


def test_the_account_an_event_came_from_routes_it(any_db_app):
    replace([{"name": "Main store", "match": {"account": "main STORE"}, "outcome": "WMS"}])
    send(any_db_app.test_client(), order_body("order_created", "SO-1"))
    assert order_route() == ("WMS", "Main store", False)


def test_an_order_routed_by_hand_keeps_its_route_when_it_changes(any_db_app):
    client = any_db_app.test_client()
    send(client, order_body("order_created", "SO-1"))
    assert db.atomic(routing.reroute, "SO-1", "wms", None)["route"] == "WMS"
    replace([{**PILOT, "outcome": "STARSHIPIT"}])
    send(client, order_body("order_changed", "SO-1", at="2026-11-24T05:00:00Z"))
    assert order_route() == ("WMS", None, True)


@pytest.mark.parametrize("status", ["SHIPPED", "PARTIALLY_SHIPPED", "CANCELLED", "PICKING", "PICKED", "PACKED"])
def test_routing_by_hand_is_refused_in_words_once_picking_started_or_the_order_shipped(any_db_app, status):
    add_order("SO-9", status=status)
    with pytest.raises(Conflict) as refused:
        db.atomic(routing.reroute, "SO-9", "WMS", None)
    assert refused.value.code == "route_fixed"
    assert "can no longer change" in refused.value.message
    assert order_route("SO-9") == ("STARSHIPIT", None, False)


def test_routing_by_hand_names_an_unknown_order_or_outcome(any_db_app):
    with pytest.raises(NotFound):
        db.atomic(routing.reroute, "SO-404", "WMS", None)
    add_order("SO-9")
    with pytest.raises(ValidationFailed) as refused:
        db.atomic(routing.reroute, "SO-9", "LATER", None)
    assert refused.value.field == "outcome"


def test_the_tester_names_the_rule_for_an_order_or_for_facts_typed(any_db_app):
    db.atomic(lambda session: create_warehouse(session, code="CHC", name="Christchurch"))
    replace([{"name": "South", "match": {"warehouse": "CHC"}, "outcome": "WMS"}, PILOT])
    add_order("SO-7")
    with db.reading() as session:
        found = routing.which_rule(session, {"order_number": "SO-7"})
        assert (found["outcome"], found["rule"], found["order"]["route"]) == ("WMS", "Pilot warehouse", "STARSHIPIT")
        typed = routing.which_rule(session, {"warehouse": "chc", "skus": "A, B"})
        assert (typed["outcome"], typed["rule"], typed["facts"]["skus"]) == ("WMS", "South", ["A", "B"])
        assert routing.which_rule(session, {"country": "AU"})["rule"] is None
        with pytest.raises(ValidationFailed):
            routing.which_rule(session, {})


def test_the_pages_edits_keep_each_rules_id_and_move_it(any_db_app):
    first = db.atomic(routing.save_rule, None, PILOT)
    second = db.atomic(routing.save_rule, None, SHOPIFY)
    moved = db.atomic(routing.move_rule, second["id"], -1)
    assert (moved["id"], moved["position"]) == (second["id"], 1)
    off = db.atomic(routing.set_enabled, first["id"], False)
    assert (off["id"], off["enabled"], off["position"]) == (first["id"], False, 2)
    with pytest.raises(ValidationFailed) as refused:
        db.atomic(routing.save_rule, first["id"], {**PILOT, "match": {"country": "N" * 300}})
    assert refused.value.field == "match.country"
    db.atomic(routing.delete_rule, second["id"])
    with db.reading() as session:
        assert [(r.id, r.position) for r in session.scalars(select(RoutingRule))] == [(first["id"], 1)]


def test_a_shipped_order_is_not_routed_again_by_a_late_change(any_db_app):
    add_order("SO-5")
    set_status("SO-5", "SHIPPED")
    replace([{"name": "All", "match": {}, "outcome": "WMS"}])
    with db.reading() as session:
        order = session.scalars(select(Order).where(Order.order_number == "SO-5")).one()
        assert routing.route_order(session, order) == ("STARSHIPIT", None)
