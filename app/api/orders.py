"""Orders mirrored from Starshipit, the webhook inbox, and stock discrepancies (read-only)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field
from werkzeug.routing import PathConverter

from app import db
from app.api import bp, fields
from app.api.schemas import Answer, Body, Path, Query
from app.api.spec import operation
from app.models import ROUTES, DiscrepancyStatus, InboxStatus, OrderStatus
from app.orders import queries
from app.outbound import allocation, picking, routing

InboxStatusName = Literal[tuple(str(s) for s in InboxStatus)]  # type: ignore[valid-type]
DiscrepancyStatusName = Literal[tuple(str(s) for s in DiscrepancyStatus)]  # type: ignore[valid-type]
OrderStatusName = Literal[tuple(str(s) for s in OrderStatus)]  # type: ignore[valid-type]
RouteName = Literal[ROUTES]  # type: ignore[valid-type]
# What may follow an order number in an address: the actions on one order. GET /orders/<order_number>
# never takes them for part of the number, so those addresses answer 405 with the methods they take.
ACTIONS = ("route", "allocate", "pack", "label")


class OrderNumberConverter(PathConverter):
    """An order number in a path (slashes allowed) that does not end in /<one of ACTIONS>."""

    regex = f"(?!.+/(?:{'|'.join(ACTIONS)})$)" + PathConverter.regex


bp.record_once(lambda state: state.app.url_map.converters.setdefault("order_number", OrderNumberConverter))
Limit = fields.whole(fields.between(1, queries.MAX_LIMIT), 1, queries.MAX_LIMIT, description="how many, newest first")


class OrderPath(Path):
    order_number: fields.lookup(description="order number")


class OrderLineOut(Answer):
    sku: str
    quantity: int = Field(description="ordered")
    allocated: int = Field(description="promised from stock, not yet picked")
    picked: int = Field(description="picked and waiting to ship")
    shipped: int


class OrderOut(Answer):
    order_number: str
    starshipit_order_id: int | None
    status: OrderStatusName
    warehouse: str | None
    route: RouteName = Field(description="WMS: picked and packed in the WMS; STARSHIPIT: Starshipit picks and ships")
    rule: str | None = Field(description="the name of the routing rule that chose the route; null for the default "
                                         "or a route set by hand")
    lines: list[OrderLineOut]
    tote: list[str] = Field(description="codes of the totes holding the order's picked stock, or that an open pick "
                                        "job is filling for it")


class RouteIn(Body):
    outcome: RouteName


class RouteOut(Answer):
    order_number: str
    route: RouteName
    rule: str | None = Field(description="null: routed by hand, no rule routes this order again")
    routed_by_hand: bool
    status: OrderStatusName


class AllocatedAt(Answer):
    location: str = Field(description="location code")
    quantity: int


class AllocatedLine(Answer):
    sku: str
    quantity: int = Field(description="ordered")
    allocated: int = Field(description="promised from stock, not yet picked")
    locations: list[AllocatedAt] = Field(description="where the allocated units are, in the order they were reserved")


class AllocationOut(Answer):
    status: OrderStatusName = Field(description="ALLOCATED: every line covered; AWAITING_STOCK: not enough free "
                                                "stock (nothing is held unless partial allocation is on)")
    lines: list[AllocatedLine]


class EventQuery(Query):
    status: InboxStatusName | None = None
    limit: Limit = 50


class EventOut(Answer):
    id: int
    dedup_key: str
    kind: str = Field(description='"order" or "tracking"')
    event_type: str
    order_number: str | None
    status: InboxStatusName
    attempts: int
    last_error: str | None
    received_at: str = Field(description="RFC 3339, UTC")
    processed_at: str | None


class EventList(Answer):
    items: list[EventOut]


class DiscrepancyQuery(Query):
    status: DiscrepancyStatusName | None = None
    limit: Limit = 100


class DiscrepancyOut(Answer):
    id: int
    sku: str
    warehouse: str
    quantity: int
    cause: str = Field(description='"shortfall", "unknown_sku", "short_pick" (a picker found less than the book), '
                                   'or "count_not_posted" (a stocktake variance that '
                                   'could not be taken off)')
    reference: str | None
    status: DiscrepancyStatusName


class DiscrepancyList(Answer):
    items: list[DiscrepancyOut]


@bp.get("/orders/<order_number:order_number>")
@operation(path=OrderPath, response=OrderOut, errors=(404,), tag="orders")
def order(order_number: str):
    """One order as the WMS mirrors it, with each line's allocated, picked and shipped units."""
    with db.reading() as session:
        found = queries.order_for_api(session, order_number)
        return {**found, "tote": picking.totes_of_order(session, found["order_number"])}


@bp.post("/orders/<path:order_number>/route")
@operation(path=OrderPath, body=RouteIn, response=RouteOut, errors=(404, 409), tag="orders")
def route_order(order_number: str, body: RouteIn):
    """Route one order by hand (WMS or STARSHIPIT); no routing rule changes it afterwards.
    409 route_fixed once picking has started or the order has shipped or been cancelled."""
    return db.atomic(routing.reroute, order_number, body.outcome, None)


@bp.post("/orders/<path:order_number>/allocate")
@operation(path=OrderPath, response=AllocationOut, errors=(404, 409), tag="orders")
def allocate_order(order_number: str):
    """Allocate a WMS-routed order now (it is allocated automatically when it arrives or changes, and
    again when stock arrives): pick faces first, then the oldest stock, never quarantine. 409
    not_wms_order (routed STARSHIPIT), order_shipped, order_cancelled or picking_started."""
    return db.atomic(allocation.allocate_now, order_number)


@bp.get("/events")
@operation(query=EventQuery, response=EventList, tag="orders")
def events(query: EventQuery):
    """Webhook events in the inbox, newest first, optionally of one status."""
    with db.reading() as session:
        return {"items": [queries.event_json(e) for e in queries.list_events(session, query.status, query.limit)]}


@bp.get("/discrepancies")
@operation(query=DiscrepancyQuery, response=DiscrepancyList, tag="orders")
def discrepancies(query: DiscrepancyQuery):
    """Stock that shipped without being on hand, and shipped SKUs the WMS does not know."""
    with db.reading() as session:
        rows = queries.list_discrepancies(session, query.status, query.limit)
    return {"items": [queries.discrepancy_json(row) for row in rows]}
