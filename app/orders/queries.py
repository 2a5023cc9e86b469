"""What people and integrators read about orders: the dashboard, one order, failed events,
discrepancies. Read-only functions taking a session (app.db.reading); writes live elsewhere.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import case, exists, func, or_
from sqlmodel import Session, select

from app.bounds import bad_character
from app.errors import NotFound, ValidationFailed
from app.inventory import movement_history
from app.models import (
    Allocation,
    Discrepancy,
    DiscrepancyStatus,
    InboxEvent,
    InboxStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderTimelineEntry,
    User,
    Warehouse,
)
from app.timeutil import isoformat

PAGE_SIZE = 25
MAX_LIMIT = 500
STATUSES = tuple(OrderStatus)


# ---- the dashboard -------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFilters:
    """The dashboard's search box and filters, as checked values."""

    q: str = ""
    status: str = ""
    warehouse: str = ""
    unknown: bool = False
    page: int = 1

    def params(self, **changes) -> dict:
        """Query-string arguments for a link to this list (empty values left out)."""
        values = {"q": self.q, "status": self.status, "warehouse": self.warehouse,
                  "unknown": "1" if self.unknown else "", "page": self.page if self.page > 1 else ""}
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None)}


def parse_filters(args) -> OrderFilters:
    """Filters from a query string; a value that makes no sense is a 400, not an empty list."""
    q = (args.get("q") or "").strip()[:100]
    status = (args.get("status") or "").strip().upper()
    if status and status not in STATUSES:
        raise ValidationFailed(f"unknown order status {status!r}", field="status")
    warehouse = (args.get("warehouse") or "").strip().upper()
    unknown = (args.get("unknown") or "") in ("1", "on", "true", "yes")
    raw_page = (args.get("page") or "1").strip()
    if not raw_page.isdigit() or int(raw_page) < 1 or int(raw_page) > 1_000_000:
        raise ValidationFailed("page must be a whole number from 1", field="page")
    return OrderFilters(q=q, status=status, warehouse=warehouse, unknown=unknown, page=int(raw_page))


def _warehouse_id(session: Session, code: str) -> int | None:
    if not code:
        return None
    warehouse_id = session.exec(select(Warehouse.id).where(Warehouse.code == code)).first()
    if warehouse_id is None:
        raise ValidationFailed(f"no warehouse {code}", field="warehouse")
    return warehouse_id


def warehouse_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Warehouse)).one()


def status_counts(session: Session, warehouse: str = "") -> dict[str, int]:
    """Orders per status (every status present, zero where none)."""
    statement = select(Order.status, func.count()).group_by(Order.status)
    warehouse_id = _warehouse_id(session, warehouse)
    if warehouse_id is not None:
        statement = statement.where(Order.warehouse_id == warehouse_id)
    counts = {status: 0 for status in STATUSES}
    for status, count in session.exec(statement):
        counts[status] = counts.get(status, 0) + count
    return counts


@dataclass
class OrderPage:
    rows: list[dict] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1


_HAS_UNKNOWN = exists().where(OrderLine.order_id == Order.id, OrderLine.unknown_sku.is_(True))


def list_orders(session: Session, filters: OrderFilters, *, page_size: int = PAGE_SIZE) -> OrderPage:
    """Orders newest first, searched by order number, reference or customer name."""
    conditions = []
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        conditions.append(
            or_(
                func.lower(Order.order_number).like(pattern),
                func.lower(func.coalesce(Order.reference, "")).like(pattern),
                func.lower(func.coalesce(Order.destination["name"].as_string(), "")).like(pattern),
            )
        )
    if filters.status:
        conditions.append(Order.status == filters.status)
    warehouse_id = _warehouse_id(session, filters.warehouse)
    if warehouse_id is not None:
        conditions.append(Order.warehouse_id == warehouse_id)
    if filters.unknown:
        conditions.append(_HAS_UNKNOWN)

    total = session.exec(select(func.count()).select_from(Order).where(*conditions)).one()
    pages = max(1, -(-total // page_size))
    page = min(filters.page, pages)
    statement = (
        select(Order, Warehouse.code)
        .join(Warehouse, Warehouse.id == Order.warehouse_id)
        .where(*conditions)
        .order_by(Order.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    found = list(session.exec(statement))
    sums = _line_sums(session, [order.id for order, _ in found])
    rows = []
    for order, warehouse_code in found:
        units, unknown = sums.get(order.id, (0, False))
        rows.append(
            {
                "order_number": order.order_number,
                "status": order.status,
                "reference": order.reference,
                "customer": (order.destination or {}).get("name") or "",
                "warehouse": warehouse_code,
                "units": units,
                "has_unknown": unknown,
                "created_at": order.created_at,
            }
        )
    return OrderPage(rows=rows, total=total, page=page, pages=pages)


def _line_sums(session: Session, order_ids: list[int]) -> dict[int, tuple[int, bool]]:
    if not order_ids:
        return {}
    statement = (
        select(OrderLine.order_id, func.sum(OrderLine.quantity), func.max(case((OrderLine.unknown_sku.is_(True), 1), else_=0)))
        .where(OrderLine.order_id.in_(order_ids))
        .group_by(OrderLine.order_id)
    )
    return {order_id: (int(units or 0), bool(unknown)) for order_id, units, unknown in session.exec(statement)}


# ---- one order -----------------------------------------------------------------------------


def get_order(session: Session, order_number: str) -> Order:
    order = session.exec(select(Order).where(Order.order_number == order_number)).first()
    if order is None:
        raise NotFound(f"no order {order_number}")
    return order


def line_figures(session: Session, order: Order) -> list[dict]:
    """Each line with ordered, allocated (promised, not yet picked), picked and shipped units."""
    lines = list(session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)))
    held = {}
    if lines:
        statement = (
            select(Allocation.order_line_id, Allocation.picked, func.sum(Allocation.quantity))
            .where(Allocation.order_line_id.in_([line.id for line in lines]), Allocation.quantity > 0)
            .group_by(Allocation.order_line_id, Allocation.picked)
        )
        for line_id, picked, quantity in session.exec(statement):
            held[(line_id, bool(picked))] = int(quantity or 0)
    return [
        {
            "sku": line.sku,
            "description": line.description,
            "quantity": line.quantity,
            "allocated": held.get((line.id, False), 0),
            "picked": held.get((line.id, True), 0),
            "shipped": line.shipped_quantity,
            "unknown_sku": line.unknown_sku,
        }
        for line in lines
    ]


def order_detail(session: Session, order_number: str) -> dict:
    """Everything the order page shows: header, lines, timeline (oldest first), stock movements."""
    order = get_order(session, order_number)
    warehouse = session.get(Warehouse, order.warehouse_id)
    timeline = list(
        session.exec(
            select(OrderTimelineEntry)
            .where(OrderTimelineEntry.order_id == order.id)
            .order_by(OrderTimelineEntry.created_at, OrderTimelineEntry.id)
        )
    )
    return {
        "order": order,
        "warehouse": warehouse.code if warehouse else "",
        "lines": line_figures(session, order),
        "timeline": timeline,
        "movements": movement_history(session, reference=order.order_number, limit=200),
    }


def order_for_api(session: Session, order_number: str) -> dict:
    """GET /api/v1/orders/<order_number>."""
    order = get_order(session, order_number)
    warehouse = session.get(Warehouse, order.warehouse_id)
    return {
        "order_number": order.order_number,
        "starshipit_order_id": order.starshipit_order_id,
        "status": order.status,
        "warehouse": warehouse.code if warehouse else None,
        "route": order.route,
        "rule": order.routing_rule_name,
        "lines": [
            {key: line[key] for key in ("sku", "quantity", "allocated", "picked", "shipped")}
            for line in line_figures(session, order)
        ],
    }


# ---- the inbox -----------------------------------------------------------------------------


def _limit(value, default: int = 50) -> int:
    if value in (None, ""):
        return default
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be a whole number from 1 to {MAX_LIMIT}", field="limit")
    return int(text)


def _inbox_status(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()
    if value not in tuple(InboxStatus):
        raise ValidationFailed(
            f"unknown event status {value!r}: use one of {', '.join(InboxStatus)}", field="status"
        )
    return value


def list_events(session: Session, status: str | None = None, limit=None) -> list[InboxEvent]:
    """Inbox events newest first, optionally of one status."""
    statement = select(InboxEvent).order_by(InboxEvent.id.desc()).limit(_limit(limit))
    status = _inbox_status(status)
    if status:
        statement = statement.where(InboxEvent.status == status)
    return list(session.exec(statement))


def event_json(event: InboxEvent) -> dict:
    return {
        "id": event.id,
        "dedup_key": event.dedup_key,
        "kind": event.kind,
        "event_type": event.event_type,
        "order_number": event.order_number,
        "status": event.status,
        "attempts": event.attempts,
        "last_error": event.last_error,
        "received_at": isoformat(event.received_at),
        "processed_at": isoformat(event.processed_at),
    }


PAYLOAD_SHOWN = 20_000  # characters of a payload the failed-events page shows


def pretty_payload(payload: str, limit: int = PAYLOAD_SHOWN) -> str:
    """The raw body as indented JSON (or as it came when it is not JSON), cut to `limit`
    characters with a note saying how long it is."""
    try:
        text = json.dumps(json.loads(payload), indent=2, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = payload
    if bad_character(text, multiline=True) is not None:  # only escaped in the stored JSON; keep it so
        text = payload
    if len(text) > limit:
        text = f"{text[:limit]}\n… (cut: {len(text):,} characters in all)"
    return text


def failed_events(session: Session, limit: int = 100) -> list[dict]:
    """Events that failed (at once, or after their tries), newest first, for the failed-events
    page: the reason in words for everyone, the technical detail for admins only (the template
    decides), the payload pretty-printed and cut, and whether its order is in the mirror (an event
    refused on arrival may name an order the WMS never made)."""
    events = list_events(session, InboxStatus.FAILED, limit)
    numbers = {event.order_number for event in events if event.order_number}
    known = set(session.exec(select(Order.order_number).where(Order.order_number.in_(numbers)))) if numbers else set()
    return [
        {"event": event, "payload": pretty_payload(event.payload), "refused_on_arrival": event.attempts == 0,
         "order_known": event.order_number in known}
        for event in events
    ]


# ---- discrepancies -------------------------------------------------------------------------


def _discrepancy_status(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()
    if value not in tuple(DiscrepancyStatus):
        raise ValidationFailed(
            f"unknown discrepancy status {value!r}: use one of {', '.join(DiscrepancyStatus)}", field="status"
        )
    return value


def list_discrepancies(session: Session, status: str | None = None, limit=None, *, only_id: int | None = None) -> list[dict]:
    """Discrepancies newest first, with the warehouse code, who resolved them, and whether the
    reference names an order of ours (for a link)."""
    resolver = User.__table__.alias("resolver")
    statement = (
        select(Discrepancy, Warehouse.code, resolver.c.username, Order.id)
        .join(Warehouse, Warehouse.id == Discrepancy.warehouse_id)
        .outerjoin(resolver, resolver.c.id == Discrepancy.resolved_by)
        .outerjoin(Order, Order.order_number == Discrepancy.reference)
        .order_by(Discrepancy.id.desc())
        .limit(_limit(limit, 100))
    )
    status = _discrepancy_status(status)
    if status:
        statement = statement.where(Discrepancy.status == status)
    if only_id is not None:
        statement = statement.where(Discrepancy.id == only_id)
    return [
        {"discrepancy": item, "warehouse": code, "resolved_by": username, "is_order": order_id is not None}
        for item, code, username, order_id in session.exec(statement)
    ]


def discrepancy_json(row: dict) -> dict:
    item = row["discrepancy"]
    return {
        "id": item.id,
        "sku": item.sku,
        "warehouse": row["warehouse"],
        "quantity": item.quantity,
        "cause": item.cause,
        "reference": item.reference,
        "status": item.status,
    }
