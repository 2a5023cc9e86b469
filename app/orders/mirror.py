"""The order mirror: Starshipit's order as the WMS keeps it (order, lines, timeline), and the
allocations that stop fitting when an order changes or is cancelled."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app import bounds, ledger
from app.errors import NotFound, ValidationFailed
from app.models import Allocation, Order, OrderLine, OrderStatus, OrderTimelineEntry, Product
from app.orders.payloads import OrderData
from app.timeutil import utcnow

SHIPPED_STATES = (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; every one we store is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def find_order(session: Session, order_number: str) -> Order | None:
    return session.scalars(select(Order).where(Order.order_number == order_number)).first()


def lock_typed(session: Session, order_number) -> Order:
    """The order a request names by number (as typed: case kept, whitespace trimmed), its row
    locked; refused in words when the number is blank or the mirror has no such order."""
    number = bounds.scan(order_number if isinstance(order_number, str) else "", "order_number", label="order number")
    if not number:
        raise ValidationFailed("give an order number", field="order_number")
    order = lock_existing(session, number)
    if order is None:
        raise NotFound(f"no order {bounds.shown(number)}", field="order_number")
    return order


def lock_existing(session: Session, order_number: str) -> Order | None:
    """The order row locked for this transaction, if the mirror has it."""
    statement = (
        select(Order).where(Order.order_number == order_number).with_for_update().execution_options(populate_existing=True)
    )
    return session.scalars(statement).first()


def lock_order(
    session: Session, order_number: str, *, warehouse_id: int, data: OrderData | None = None, last_event_at=None
) -> tuple[Order, bool]:
    """The order row, locked for this transaction, created if new; (order, created). A new
    order gets Starshipit's fields from `data` (as `update_order` sets them) and
    `last_event_at` in its INSERT, so setting them again changes nothing and costs no UPDATE.
    Creating with ON CONFLICT DO NOTHING means two workers racing on a new order both end up
    holding (in turn) the same row instead of one failing on the unique order number."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    statement = (
        insert(Order)
        .values(
            {
                "order_number": order_number,
                "warehouse_id": warehouse_id,
                "status": OrderStatus.PENDING,
                "tracking_numbers": [],
                "destination": {},
                "created_at": now,
                "updated_at": now,
                "last_event_at": last_event_at,
                **(_fields(data) if data is not None else {}),
            }
        )
        .on_conflict_do_nothing(index_elements=["order_number"])
        .returning(Order)
    )
    order = session.scalars(statement, execution_options={"populate_existing": True}).first()
    if order is not None:  # inserted by this transaction: already ours, no SELECT needed
        return order, True
    order = lock_existing(session, order_number)
    if order is None:  # the INSERT met it, and orders are never deleted
        raise RuntimeError(f"order {order_number} conflicted on insert but is not there")
    return order, False


def lines_of(session: Session, order: Order) -> list[OrderLine]:
    return list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)))


def open_allocations(session: Session, line_ids: list[int]) -> list[Allocation]:
    if not line_ids:
        return []
    return list(session.scalars(_open_allocations_of_lines(), {"lines": list(line_ids)}))


@cache
def _open_allocations_of_lines():
    """`open_allocations`' statement (parameter: lines), built once: every pick reads its line's."""
    return (
        select(Allocation)
        .where(Allocation.order_line_id.in_(bindparam("lines", expanding=True)), Allocation.quantity > 0)
        .order_by(Allocation.id)
    )


def update_order(session: Session, order: Order, data: OrderData, *, new: bool = False) -> bool:
    """Refresh the order's fields and lines from Starshipit's order; True when the lines changed.
    A line never drops below what has already shipped; a removed line is deleted, or kept at its
    shipped quantity when stock already moved or was promised for it. Allocations beyond what a
    line still needs are released. `new`: the order row was created in this transaction, so it
    has no lines and no allocations yet (nothing to read or release)."""
    for name, value in _fields(data, order).items():
        setattr(order, name, value)
    if not new:
        order.updated_at = utcnow()

    with session.no_autoflush:  # the order's UPDATE goes with the transaction's last flush
        products = _products(session, [line.sku for line in data.lines])
    current = {} if new else {line.sku: line for line in lines_of(session, order)}
    changed = False
    for wanted in data.lines:
        line = current.pop(wanted.sku, None)
        if line is None:
            session.add(_new_line(order, wanted, products))
            changed = True
            continue
        quantity = max(wanted.quantity, line.shipped_quantity)
        changed = changed or quantity != line.quantity
        line.quantity = quantity
        line.description = wanted.description or line.description
        if line.product_id is None and wanted.sku in products:
            line.product_id, line.unknown_sku = products[wanted.sku], False
    referenced = _referenced_lines(session, [line.id for line in current.values()])
    for line in current.values():
        if line.quantity != line.shipped_quantity:
            changed = True
        if line.shipped_quantity == 0 and line.id not in referenced:
            session.delete(line)
        else:
            line.quantity = line.shipped_quantity
    if not new:  # a new order's lines go in with the transaction's last flush
        session.flush()
        release_unfit(session, order)
    return changed


def _fields(data: OrderData, order: Order | None = None) -> dict:
    """The order's fields as Starshipit's order gives them; a value Starshipit leaves out keeps
    what `order` has."""
    def keep(value, name):
        return value if value or order is None else getattr(order, name)

    return {
        "starshipit_order_id": data.order_id if data.order_id is not None or order is None else order.starshipit_order_id,
        "reference": data.reference,
        "destination": data.destination,
        "channel": keep(data.channel, "channel"),
        "carrier_name": keep(data.carrier_name, "carrier_name"),
        "starshipit_status": keep(data.status, "starshipit_status"),
    }


def add_missing_lines(session: Session, order: Order, data: OrderData) -> None:
    """Lines a (possibly older) event names that the mirror lacks, added without touching the rest."""
    have = {line.sku for line in lines_of(session, order)}
    missing = [line for line in data.lines if line.sku not in have]
    products = _products(session, [line.sku for line in missing])
    session.add_all(_new_line(order, wanted, products) for wanted in missing)
    session.flush()


def _new_line(order: Order, wanted, products: dict[str, int]) -> OrderLine:
    """A mirror line for an order line Starshipit sent; flagged when the WMS does not know the SKU."""
    product = products.get(wanted.sku)
    return OrderLine(
        order_id=order.id,
        sku=wanted.sku,
        product_id=product,
        description=wanted.description,
        quantity=wanted.quantity,
        unknown_sku=product is None,
    )


def release_unfit(session: Session, order: Order) -> int:
    """Release what each line has allocated beyond what it still needs (ordered - shipped):
    unpicked allocations go first, newest first. Picked stock stays where it is."""
    released = 0
    lines = lines_of(session, order)
    by_line: dict[int, list[Allocation]] = {}
    for allocation in open_allocations(session, [line.id for line in lines]):
        by_line.setdefault(allocation.order_line_id, []).append(allocation)
    for line in lines:
        allocations = by_line.get(line.id, [])
        excess = sum(a.quantity for a in allocations) - max(0, line.quantity - line.shipped_quantity)
        for allocation in sorted(allocations, key=lambda a: (a.picked, -a.id)):
            if excess <= 0:
                break
            take = min(excess, allocation.quantity)
            released += ledger.release(session, allocation, take)
            excess -= take
    return released


def release_all(session: Session, order: Order) -> int:
    lines = lines_of(session, order)
    return sum(ledger.release(session, a) for a in open_allocations(session, [line.id for line in lines]))


def shipped_status(session: Session, order: Order) -> str | None:
    """SHIPPED when every line has shipped in full, PARTIALLY_SHIPPED when some has; else None."""
    lines = lines_of(session, order)
    if not any(line.shipped_quantity for line in lines):
        return None
    if all(line.shipped_quantity >= line.quantity for line in lines):
        return OrderStatus.SHIPPED
    return OrderStatus.PARTIALLY_SHIPPED


def note(session: Session, order: Order, kind: str, message: str, *, occurred_at=None, inbox_event_id=None) -> None:
    session.add(
        OrderTimelineEntry(
            order_id=order.id,
            kind=kind[:32],
            message=message[:1000],
            occurred_at=occurred_at,
            inbox_event_id=inbox_event_id,
        )
    )


def note_many(session: Session, kind: str, notes: list[tuple[int, str]]) -> None:
    """`note` for many orders at once, (order id, words) each, in one statement (an allocation batch)."""
    if notes:
        now = utcnow()
        session.execute(insert(OrderTimelineEntry), [
            {"order_id": order_id, "kind": kind[:32], "message": words[:1000], "created_at": now}
            for order_id, words in notes
        ])


def _products(session: Session, skus: list[str]) -> dict[str, int]:
    """Each of these SKUs (as the order spells it) -> its product's id, matched as every SKU look-up
    is: exactly, else ignoring case."""
    if not skus:
        return {}
    lowered = {sku.lower() for sku in skus}
    rows = session.execute(
        select(Product.sku, Product.id).where(or_(Product.sku.in_(skus), func.lower(Product.sku).in_(lowered)))
    ).all()
    exact = dict(rows)
    folded = {sku.lower(): product_id for sku, product_id in rows}
    return {sku: exact.get(sku, folded.get(sku.lower())) for sku in skus if sku in exact or sku.lower() in folded}


def _referenced_lines(session: Session, line_ids: list[int]) -> set[int]:
    if not line_ids:
        return set()
    statement = (
        select(Allocation.order_line_id)
        .where(Allocation.order_line_id.in_(line_ids))
        .group_by(Allocation.order_line_id)
        .having(func.count() > 0)
    )
    return set(session.scalars(statement))
