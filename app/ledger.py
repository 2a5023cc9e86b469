"""The stock ledger: the only code that changes stock.

Every change is a movement of a whole quantity of one product from one
location to another. Physical locations hold balances (`StockLevel`:
on_hand, allocated); virtual locations (supplier, customer, adjustment,
count, discrepancy) are the other side of stock entering or leaving and
hold none. A movement and the balances it changes are written in the
caller's transaction (see `app.db.atomic`), so they commit or vanish
together.

Balance rows are locked before they are read for a change, in one fixed
order (product id, location id), with SELECT ... FOR UPDATE on PostgreSQL;
SQLite serialises writers with BEGIN IMMEDIATE. A physical location never
goes below zero and allocated stock never exceeds on-hand: the code refuses
first, the database CHECKs are the backstop.

Allocations promise stock at a location to an order line. `allocated` on a
balance is always the sum of the open allocations there; stock that moves
with an allocation (a pick to a packing location, a shipment) carries or
consumes it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.models import PHYSICAL_TYPES, Allocation, Location, Movement, StockLevel

Key = tuple[int, int]  # (product_id, location_id)


class LedgerError(Exception):
    code = "invalid_movement"


class InvalidMovement(LedgerError):
    pass


class InsufficientStock(LedgerError):
    code = "insufficient_stock"


def lock(session: Session, keys: Iterable[Key]) -> dict[Key, StockLevel]:
    """Lock (creating if need be) the balance rows for these keys, in the fixed order."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    levels = _select_for_update(session, wanted)
    missing = [key for key in wanted if key not in levels]
    if missing:
        _insert_missing(session, missing)
        levels.update(_select_for_update(session, missing))
    return levels


def _select_for_update(session: Session, keys: list[Key]) -> dict[Key, StockLevel]:
    statement = (
        select(StockLevel)
        .where(tuple_(StockLevel.product_id, StockLevel.location_id).in_(keys))
        .order_by(StockLevel.product_id, StockLevel.location_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {(level.product_id, level.location_id): level for level in session.scalars(statement)}


def _insert_missing(session: Session, keys: list[Key]) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"product_id": p, "location_id": loc, "on_hand": 0, "allocated": 0} for p, loc in keys]
    statement = insert(StockLevel).values(rows).on_conflict_do_nothing(
        index_elements=["product_id", "location_id"]
    )
    session.execute(statement)


def _require_whole_positive(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidMovement(f"quantity must be a whole number above zero, not {quantity!r}")


def post(
    session: Session,
    *,
    type: str,
    product_id: int,
    quantity: int,
    from_location: Location,
    to_location: Location,
    reason: str | None = None,
    reference: str | None = None,
    user_id: int | None = None,
    allocation: Allocation | None = None,
) -> Movement:
    """Move stock and write the movement. With `allocation`, the stock moved is that
    allocation's: it is consumed (to a virtual location) or carried along (to a
    physical one)."""
    _require_whole_positive(quantity)
    if from_location.id == to_location.id:
        raise InvalidMovement("a movement needs two different locations")
    if not (from_location.type in PHYSICAL_TYPES or to_location.type in PHYSICAL_TYPES):
        raise InvalidMovement("a movement needs at least one physical location")
    if from_location.warehouse_id != to_location.warehouse_id:
        raise InvalidMovement("both locations must be in the same warehouse")

    keys = [(product_id, loc.id) for loc in (from_location, to_location) if loc.type in PHYSICAL_TYPES]
    levels = lock(session, keys)
    if allocation is not None:
        session.refresh(allocation)
        _check_allocation(allocation, product_id, from_location, quantity)

    if from_location.type in PHYSICAL_TYPES:
        source = levels[(product_id, from_location.id)]
        free = source.on_hand - source.allocated
        if allocation is None and free < quantity:
            raise InsufficientStock(
                f"only {free} free at {from_location.code} "
                f"({source.on_hand} on hand, {source.allocated} allocated), {quantity} asked"
            )
        if allocation is not None:
            source.allocated -= quantity
        source.on_hand -= quantity

    if to_location.type in PHYSICAL_TYPES:
        target = levels[(product_id, to_location.id)]
        target.on_hand += quantity
        if allocation is not None:
            target.allocated += quantity
            _carry_allocation(session, allocation, to_location, quantity)
    elif allocation is not None:
        allocation.quantity -= quantity

    movement = Movement(
        type=type,
        product_id=product_id,
        from_location_id=from_location.id,
        to_location_id=to_location.id,
        quantity=quantity,
        reason=reason,
        reference=reference,
        user_id=user_id,
    )
    session.add(movement)
    session.flush()
    return movement


def _check_allocation(allocation: Allocation, product_id: int, location: Location, quantity: int) -> None:
    if allocation.product_id != product_id or allocation.location_id != location.id:
        raise InvalidMovement("the allocation is for another product or location")
    if allocation.quantity < quantity:
        raise InsufficientStock(f"the allocation holds {allocation.quantity}, {quantity} asked")


def _carry_allocation(session: Session, allocation: Allocation, to_location: Location, quantity: int) -> None:
    if quantity == allocation.quantity:
        allocation.location_id = to_location.id
        return
    allocation.quantity -= quantity
    session.add(
        Allocation(
            product_id=allocation.product_id,
            location_id=to_location.id,
            quantity=quantity,
            picked=allocation.picked,
            reference=allocation.reference,
            order_line_id=allocation.order_line_id,
        )
    )


def allocate(
    session: Session,
    *,
    product_id: int,
    location: Location,
    quantity: int,
    reference: str | None = None,
    order_line_id: int | None = None,
) -> Allocation:
    """Promise free stock at a physical location; refuses more than is free."""
    _require_whole_positive(quantity)
    if location.type not in PHYSICAL_TYPES:
        raise InvalidMovement("stock can only be allocated at a physical location")
    level = lock(session, [(product_id, location.id)])[(product_id, location.id)]
    free = level.on_hand - level.allocated
    if free < quantity:
        raise InsufficientStock(f"only {free} free at {location.code}, {quantity} asked")
    level.allocated += quantity
    allocation = Allocation(
        product_id=product_id,
        location_id=location.id,
        quantity=quantity,
        reference=reference,
        order_line_id=order_line_id,
    )
    session.add(allocation)
    session.flush()
    return allocation


def release(session: Session, allocation: Allocation, quantity: int | None = None) -> int:
    """Give back some or all of an allocation's stock; returns the quantity released."""
    level = lock(session, [(allocation.product_id, allocation.location_id)])[
        (allocation.product_id, allocation.location_id)
    ]
    session.refresh(allocation)
    quantity = allocation.quantity if quantity is None else quantity
    if quantity == 0:
        return 0
    _require_whole_positive(quantity)
    if quantity > allocation.quantity:
        raise InvalidMovement(f"the allocation holds {allocation.quantity}, cannot release {quantity}")
    level.allocated -= quantity
    allocation.quantity -= quantity
    session.flush()
    return quantity


@dataclass(frozen=True)
class Drift:
    product_id: int
    location_id: int
    field: str
    recorded: int
    expected: int

    def __str__(self) -> str:
        return (
            f"product {self.product_id} at location {self.location_id}: {self.field} is "
            f"{self.recorded} but the ledger says {self.expected}"
        )


def check(session: Session) -> list[Drift]:
    """Recompute every balance from the movements and allocations; list each difference."""
    physical = select(Location.id).where(Location.type.in_([str(t) for t in PHYSICAL_TYPES]))
    flows = union_all(
        select(Movement.product_id, Movement.to_location_id.label("location_id"), Movement.quantity.label("qty")),
        select(Movement.product_id, Movement.from_location_id.label("location_id"), (-Movement.quantity).label("qty")),
    ).subquery()
    on_hand = {
        (p, loc): int(total)
        for p, loc, total in session.execute(
            select(flows.c.product_id, flows.c.location_id, func.sum(flows.c.qty))
            .where(flows.c.location_id.in_(physical))
            .group_by(flows.c.product_id, flows.c.location_id)
        )
    }
    allocated = {
        (p, loc): int(total)
        for p, loc, total in session.execute(
            select(Allocation.product_id, Allocation.location_id, func.sum(Allocation.quantity)).group_by(
                Allocation.product_id, Allocation.location_id
            )
        )
    }
    recorded = {
        (p, loc): (h, a)
        for p, loc, h, a in session.execute(
            select(StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand, StockLevel.allocated)
        )
    }
    drifts = []
    for key in sorted(set(on_hand) | set(allocated) | set(recorded)):
        have_on_hand, have_allocated = recorded.get(key, (0, 0))
        for field, have, want in (
            ("on_hand", have_on_hand, on_hand.get(key, 0)),
            ("allocated", have_allocated, allocated.get(key, 0)),
        ):
            if have != want:
                drifts.append(Drift(key[0], key[1], field, have, want))
        if on_hand.get(key, 0) < 0:
            drifts.append(Drift(key[0], key[1], "on_hand below zero", have_on_hand, on_hand[key]))
    return drifts
