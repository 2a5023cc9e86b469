"""Orders mirrored from Starshipit, the webhook inbox, and stock discrepancies (read-only)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from app import db
from app.api import bp, fields
from app.api.schemas import Answer, Path, Query
from app.api.spec import operation
from app.models import DiscrepancyStatus, InboxStatus, OrderStatus
from app.orders import queries

InboxStatusName = Literal[tuple(str(s) for s in InboxStatus)]  # type: ignore[valid-type]
DiscrepancyStatusName = Literal[tuple(str(s) for s in DiscrepancyStatus)]  # type: ignore[valid-type]
OrderStatusName = Literal[tuple(str(s) for s in OrderStatus)]  # type: ignore[valid-type]
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
    lines: list[OrderLineOut]


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
    cause: str = Field(description='"shortfall", "unknown_sku", or "count_not_posted" (a stocktake variance that '
                                   'could not be taken off)')
    reference: str | None
    status: DiscrepancyStatusName


class DiscrepancyList(Answer):
    items: list[DiscrepancyOut]


@bp.get("/orders/<path:order_number>")
@operation(path=OrderPath, response=OrderOut, errors=(404,), tag="orders")
def order(order_number: str):
    """One order as the WMS mirrors it, with each line's allocated, picked and shipped units."""
    with db.reading() as session:
        return queries.order_for_api(session, order_number)


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
