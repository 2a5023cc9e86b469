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
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, insert, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from app.bounds import MAX_BALANCE, MAX_MOVEMENT
from app.db import driver_rows, note_stock_moved, where_pairs
from app.errors import WmsError
from app.models import PHYSICAL_TYPES, Allocation, Location, Movement, Product, StockLevel, Warehouse
from app.timeutil import utcnow

Key = tuple[int, int]  # (product_id, location_id)


class LedgerError(WmsError):
    """A movement the ledger refuses; nothing was written (a WmsError: every entrypoint already
    turns those into its own 4xx, form or failed event)."""

    code = "invalid_movement"
    status = 400


class InvalidMovement(LedgerError):
    pass


class InsufficientStock(LedgerError):
    code = "insufficient_stock"
    status = 409


class BalanceLimit(LedgerError):
    """The movement would take a balance past MAX_BALANCE."""

    code = "balance_limit"
    status = 409


def lock(session: Session, keys: Iterable[Key]) -> dict[Key, StockLevel]:
    """Lock (creating if need be) the balance rows for these keys, in the fixed order."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    levels = _select_for_update(session, wanted)
    missing = [key for key in wanted if key not in levels]
    if missing:
        _insert_missing(session, session.get_bind().dialect.name, missing)
        levels.update(_select_for_update(session, missing))
    return levels


def _select_for_update(session: Session, keys: list[Key]) -> dict[Key, StockLevel]:
    statement = (
        where_pairs(session, select(StockLevel), StockLevel.product_id, StockLevel.location_id, keys)
        .order_by(StockLevel.product_id, StockLevel.location_id)
        .with_for_update(of=StockLevel)
        .execution_options(populate_existing=True)
    )
    return {(level.product_id, level.location_id): level for level in session.scalars(statement)}


def _insert_missing(executor, dialect: str, keys: list[Key]) -> None:
    """Create the balance rows (zero) that do not exist yet; `executor` is a session or connection."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [{"product_id": p, "location_id": loc, "on_hand": 0, "allocated": 0} for p, loc in keys]
    statement = insert(StockLevel).values(rows).on_conflict_do_nothing(
        index_elements=["product_id", "location_id"]
    )
    executor.execute(statement)


def _require_quantity(quantity: int) -> None:
    """A movement, allocation or release moves 1 to MAX_MOVEMENT whole units."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_MOVEMENT:
        raise InvalidMovement(f"quantity must be a whole number from 1 to {MAX_MOVEMENT:,}", field="quantity")


def _require_room(location, on_hand: int, quantity: int) -> None:
    if on_hand + quantity > MAX_BALANCE:
        raise BalanceLimit(
            f"{location.code} holds {on_hand:,} of this product; {quantity:,} more would pass the "
            f"{MAX_BALANCE:,} one location can hold",
            field="quantity",
        )


class Balance(NamedTuple):
    on_hand: int
    allocated: int


@dataclass(frozen=True, slots=True)
class Moved:
    """A movement just written: the row as stored (a plain record, not an ORM object; load
    `Movement` by id for that)."""

    id: int
    type: str
    product_id: int
    from_location_id: int
    to_location_id: int
    quantity: int
    reason: str | None
    reference: str | None
    user_id: int | None
    created_at: datetime


class Posting(NamedTuple):
    """What `move` did: the movement written, each physical balance afterwards and, for a move
    that carried an allocation to a physical location, the allocation now holding the units there."""

    movement: Moved
    balances: dict[int, Balance]  # location_id -> balance after the movement
    carried: Allocation | None = None


def post(session: Session, **movement) -> Moved:
    """`move`, handing back only the movement written."""
    return move(session, **movement).movement


def move(
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
) -> Posting:
    """Move stock and write the movement; hand back the movement and the balances it changed
    (no re-read needed). With `allocation`, the stock moved is that allocation's: it is
    consumed (to a virtual location) or carried along (to a physical one).

    The locations may be Location objects or any rows with id, code, type and
    warehouse_id. Balances are read, checked and written with plain statements
    (a handful of round trips, no unit of work); StockLevel objects already in the
    session are kept in step."""
    _require_quantity(quantity)
    if from_location.id == to_location.id:
        raise InvalidMovement("a movement needs two different locations")
    source_physical = from_location.type in PHYSICAL_TYPES
    target_physical = to_location.type in PHYSICAL_TYPES
    if not (source_physical or target_physical):
        raise InvalidMovement("a movement needs at least one physical location")
    if from_location.warehouse_id != to_location.warehouse_id:
        raise InvalidMovement("both locations must be in the same warehouse")

    session.flush()  # the caller's pending changes go first, as an ORM query's autoflush did
    connection = session.connection()
    values = {
        "type": type,
        "product_id": product_id,
        "from_location_id": from_location.id,
        "to_location_id": to_location.id,
        "quantity": quantity,
        "reason": reason,
        "reference": reference,
        "user_id": user_id,
        "created_at": utcnow(),
    }
    if allocation is None and source_physical != target_physical:
        place = to_location if target_physical else from_location
        posted = _post_one_side(connection, place.id, quantity if target_physical else -quantity, values)
        if posted is not None:
            movement_id, balance = posted
            _keep_in_step(session, [balance])
            note_stock_moved(session, {(product_id, place.id): balance[1]})
            return Posting(Moved(movement_id, **values), {place.id: Balance(balance[1], balance[2])})
        # Refused (not that much free, or no room) or no balance row yet: the full path below
        # names the shortfall or the limit, or creates the row.
    location_ids = [loc.id for loc, physical in ((from_location, source_physical), (to_location, target_physical)) if physical]
    rows = _lock_rows(connection, product_id, location_ids)
    if allocation is not None:
        session.refresh(allocation)
        _check_allocation(allocation, product_id, from_location, quantity)

    changed: dict[int, tuple[int, int, int]] = {}  # location_id -> (stock_level id, on_hand, allocated) after
    carried = None
    if source_physical:
        level_id, on_hand, allocated = rows[from_location.id]
        free = on_hand - allocated
        if allocation is None and free < quantity:
            raise InsufficientStock(
                f"only {free} free at {from_location.code} "
                f"({on_hand} on hand, {allocated} allocated), {quantity} asked",
                field="quantity",
            )
        if allocation is not None:
            allocated -= quantity
        changed[from_location.id] = (level_id, on_hand - quantity, allocated)

    if target_physical:
        level_id, on_hand, allocated = rows[to_location.id]
        _require_room(to_location, on_hand, quantity)
        if allocation is not None:
            allocated += quantity
            carried = _carry_allocation(session, allocation, to_location, quantity)
        changed[to_location.id] = (level_id, on_hand + quantity, allocated)
    elif allocation is not None:
        allocation.quantity -= quantity

    movement_id = _write(connection, list(changed.values()), values)
    _keep_in_step(session, changed.values())
    note_stock_moved(session, {(product_id, loc): on_hand for loc, (_, on_hand, _) in changed.items()})
    return Posting(Moved(movement_id, **values), {loc: Balance(h, a) for loc, (_, h, a) in changed.items()}, carried)


# The hot path's statements go straight to the driver (app.db.driver_rows): a movement is
# BEGIN, one locking SELECT, one UPDATE (+ INSERT), COMMIT; one with a single physical side
# and no allocation (a receipt, a shipment, an adjustment) is BEGIN, one UPDATE (+ INSERT),
# COMMIT: the UPDATE locks its one row and applies the free-stock rule in its WHERE.
_ONE_SIDE = (
    "UPDATE stock_level SET on_hand = on_hand + :delta "
    # Free stock covers a removal, and an addition stays within MAX_BALANCE; written so that no
    # intermediate value overflows PostgreSQL's 32-bit integers.
    "WHERE product_id = :product_id AND location_id = :place AND allocated - on_hand <= :delta "
    f"AND CAST(on_hand AS BIGINT) + :delta <= {MAX_BALANCE} "
    "RETURNING id, on_hand, allocated"
)
_LOCK = {
    1: "SELECT id, location_id, on_hand, allocated FROM stock_level WHERE product_id = :product_id AND location_id = :a",
    2: "SELECT id, location_id, on_hand, allocated FROM stock_level "
       "WHERE product_id = :product_id AND location_id IN (:a, :b) ORDER BY location_id",
}
_UPDATE = {
    1: "UPDATE stock_level SET on_hand = CAST(:h1 AS INTEGER), allocated = CAST(:a1 AS INTEGER) WHERE id = :id1",
    2: "UPDATE stock_level SET "
       "on_hand = CASE WHEN id = :id1 THEN CAST(:h1 AS INTEGER) ELSE CAST(:h2 AS INTEGER) END, "
       "allocated = CASE WHEN id = :id1 THEN CAST(:a1 AS INTEGER) ELSE CAST(:a2 AS INTEGER) END "
       "WHERE id IN (:id1, :id2)",
}
_MOVEMENT_COLUMNS = ("type", "product_id", "from_location_id", "to_location_id", "quantity", "reason", "reference",
                     "user_id", "created_at")
_INTO_MOVEMENT = f"INSERT INTO movement ({', '.join(_MOVEMENT_COLUMNS)})"
_MOVEMENT_VALUES = ", ".join(f":{column}" for column in _MOVEMENT_COLUMNS)
_INSERT = f"{_INTO_MOVEMENT} VALUES ({_MOVEMENT_VALUES}) RETURNING id"
# PostgreSQL: the UPDATE rides along with the INSERT (a data-modifying WITH always runs to completion).
_UPDATE_AND_INSERT = {count: f"WITH balances AS ({update}) {_INSERT}" for count, update in _UPDATE.items()}
_ONE_SIDE_AND_INSERT = (
    f"WITH balance AS ({_ONE_SIDE}), moved AS ({_INTO_MOVEMENT} SELECT {_MOVEMENT_VALUES} FROM balance RETURNING id) "
    "SELECT moved.id, balance.id, balance.on_hand, balance.allocated FROM moved CROSS JOIN balance"
)
_created_at_processors: dict = {}


def _lock_rows(connection, product_id: int, location_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Lock (creating if need be) one product's balances at one or two locations, in
    location order (SELECT ... FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already
    holds the write lock): location_id -> (stock_level id, on_hand, allocated)."""
    location_ids = sorted(location_ids)
    rows = _select_locked(connection, product_id, location_ids)
    missing = [loc for loc in location_ids if loc not in rows]
    if missing:
        _insert_missing(connection, connection.dialect.name, [(product_id, loc) for loc in missing])
        rows.update(_select_locked(connection, product_id, missing))
    return rows


def _select_locked(connection, product_id: int, location_ids: list[int]) -> dict:
    sql = _LOCK[len(location_ids)]
    if connection.dialect.name == "postgresql":
        sql += " FOR UPDATE"
    params = {"product_id": product_id, "a": location_ids[0]}
    if len(location_ids) == 2:
        params["b"] = location_ids[1]
    return {loc: (level_id, h, a) for level_id, loc, h, a in driver_rows(connection, sql, params)}


def _post_one_side(connection, location_id: int, delta: int, values: dict) -> tuple[int, tuple[int, int, int]] | None:
    """Change one balance by `delta` unless that takes more than is free there, and write the
    movement: (movement id, (stock_level id, on_hand, allocated) after), or None when nothing
    was written (not enough free, or no balance row for it yet)."""
    params = _movement_params(connection.dialect, values)
    params["place"], params["delta"] = location_id, delta
    if connection.dialect.name == "postgresql":
        rows = driver_rows(connection, _ONE_SIDE_AND_INSERT, params)
        return (rows[0][0], rows[0][1:]) if rows else None
    rows = driver_rows(connection, _ONE_SIDE, params)
    if not rows:
        return None
    return driver_rows(connection, _INSERT, params)[0][0], rows[0]


def _movement_params(dialect, values: dict) -> dict:
    params = dict(values)
    process = _created_at_processors.get(dialect.name)
    if process is None:
        process = _created_at_processors[dialect.name] = (
            Movement.__table__.c.created_at.type.bind_processor(dialect) or (lambda value: value)
        )
    params["created_at"] = process(values["created_at"])  # stored exactly as the ORM stores it
    return params


def _write(connection, changes: list[tuple[int, int, int]], values: dict) -> int:
    """Write the (already locked and checked) balances and the movement; the movement's id."""
    dialect = connection.dialect
    params = _movement_params(dialect, values)
    for number, (level_id, on_hand, allocated) in enumerate(changes, start=1):
        params[f"id{number}"], params[f"h{number}"], params[f"a{number}"] = level_id, on_hand, allocated
    if dialect.name == "postgresql":
        return driver_rows(connection, _UPDATE_AND_INSERT[len(changes)], params)[0][0]
    driver_rows(connection, _UPDATE[len(changes)], params)
    return driver_rows(connection, _INSERT, params)[0][0]


def _keep_in_step(session: Session, changes) -> None:
    """StockLevel objects the caller holds in this session show the balances just written."""
    identity_map = session.identity_map
    if not len(identity_map):
        return
    mapper = StockLevel.__mapper__
    for level_id, on_hand, allocated in changes:
        level = identity_map.get(mapper.identity_key_from_primary_key((level_id,)))
        if level is not None:
            set_committed_value(level, "on_hand", on_hand)
            set_committed_value(level, "allocated", allocated)


def _check_allocation(allocation: Allocation, product_id: int, location: Location, quantity: int) -> None:
    if allocation.product_id != product_id or allocation.location_id != location.id:
        raise InvalidMovement("the allocation is for another product or location")
    if allocation.quantity < quantity:
        raise InsufficientStock(f"the allocation holds {allocation.quantity}, {quantity} asked")


def _carry_allocation(session: Session, allocation: Allocation, to_location: Location, quantity: int) -> Allocation:
    """The allocation (all of it, or the part moved, split off) now at `to_location`."""
    if quantity == allocation.quantity:
        allocation.location_id = to_location.id
        return allocation
    allocation.quantity -= quantity
    carried = Allocation(
        product_id=allocation.product_id,
        location_id=to_location.id,
        quantity=quantity,
        picked=allocation.picked,
        reference=allocation.reference,
        order_line_id=allocation.order_line_id,
    )
    session.add(carried)
    return carried


class Place(NamedTuple):
    """What the ledger needs of a location to reserve stock at it (a Location serves as well)."""

    id: int
    code: str
    type: str


class Reservation(NamedTuple):
    """Free stock to promise: units of a product at a physical location, for an order line."""

    product_id: int
    location: Location | Place
    quantity: int
    reference: str | None = None
    order_line_id: int | None = None


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
    _reserve(session, [Reservation(product_id, location, quantity, reference, order_line_id)])
    allocation = Allocation(product_id=product_id, location_id=location.id, quantity=quantity, reference=reference,
                            order_line_id=order_line_id)
    session.add(allocation)
    session.flush()
    return allocation


def allocate_many(session: Session, reservations: Iterable[Reservation]) -> int:
    """Promise free stock, many reservations at once (an allocation batch), each refused as
    `allocate` refuses one, counting what the reservations before it in the list took; all or
    nothing: a refusal raises before anything is written. The allocations are written in one
    statement (no objects made: a batch is hundreds of them); how many were made."""
    reservations = _reserve(session, reservations)
    if reservations:
        now = utcnow()
        session.execute(insert(Allocation), [
            {"product_id": r.product_id, "location_id": r.location.id, "quantity": r.quantity, "picked": False,
             "reference": r.reference, "order_line_id": r.order_line_id, "created_at": now}
            for r in reservations
        ])
    return len(reservations)


def _reserve(session: Session, reservations: Iterable[Reservation]) -> list[Reservation]:
    """Check the reservations (whole units, physical locations, no more than is free) and add them
    to their balances' allocated, the balance rows locked once in the fixed order."""
    reservations = list(reservations)
    for reservation in reservations:
        _require_quantity(reservation.quantity)
        if reservation.location.type not in PHYSICAL_TYPES:
            raise InvalidMovement("stock can only be allocated at a physical location")
    if not reservations:
        return []
    levels = lock(session, [(r.product_id, r.location.id) for r in reservations])
    taking: dict[Key, int] = {}
    for r in reservations:
        key = (r.product_id, r.location.id)
        free = levels[key].on_hand - levels[key].allocated - taking.get(key, 0)
        if free < r.quantity:
            raise InsufficientStock(f"only {free} free at {r.location.code}, {r.quantity} asked")
        taking[key] = taking.get(key, 0) + r.quantity
    for key, units in taking.items():
        levels[key].allocated += units
    return reservations


def release(session: Session, allocation: Allocation, quantity: int | None = None) -> int:
    """Give back some or all of an allocation's stock; returns the quantity released."""
    level = lock(session, [(allocation.product_id, allocation.location_id)])[
        (allocation.product_id, allocation.location_id)
    ]
    session.refresh(allocation)
    quantity = allocation.quantity if quantity is None else quantity
    if quantity == 0:
        return 0
    _require_quantity(quantity)
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
    sku: str | None = None
    location: str | None = None  # location code
    warehouse: str | None = None  # warehouse code

    def __str__(self) -> str:
        where = f"{self.sku or 'product ' + str(self.product_id)} at {self.location or 'location ' + str(self.location_id)}"
        if self.warehouse:
            where += f" in {self.warehouse}"
        return (
            f"{where} (product {self.product_id}, location {self.location_id}): {self.field} is "
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
    return _named(session, drifts)


def _named(session: Session, drifts: list[Drift]) -> list[Drift]:
    """The drifts with their SKU, location code and warehouse code filled in."""
    if not drifts:
        return drifts
    product_ids = sorted({d.product_id for d in drifts})
    location_ids = sorted({d.location_id for d in drifts})
    skus = dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_(product_ids))).all())
    places = {
        loc: (code, site)
        for loc, code, site in session.execute(
            select(Location.id, Location.code, Warehouse.code)
            .join(Warehouse, Warehouse.id == Location.warehouse_id)
            .where(Location.id.in_(location_ids))
        )
    }
    return [
        replace(d, sku=skus.get(d.product_id), location=places.get(d.location_id, (None, None))[0],
                warehouse=places.get(d.location_id, (None, None))[1])
        for d in drifts
    ]
