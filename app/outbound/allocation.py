"""Outbound allocation: reserving stock for the order lines of WMS-routed orders.

What allocating an order does (`allocate_order`, in the caller's transaction):
- Only a WMS-routed order that is PENDING, AWAITING_STOCK or ALLOCATED is allocated; any other is
  refused with a Conflict in words (409): STARSHIPIT-routed (`not_wms_order`: Starshipit picks it),
  shipped in part or in full (`order_shipped`), cancelled (`order_cancelled`), or picking started
  (`picking_started`).
- Each line needs what it ordered, less what has shipped, less what it holds already (its open
  allocations, picked or not).
- Stock comes from the order's warehouse, from active pick and storage locations only
  (ALLOCATABLE_TYPES): never quarantine (app.availability decides that), never the receiving dock
  (stock there waits for its putaway, which moves free stock: reserving it would block the putaway),
  never packing or shipping (they hold picked stock). Pick faces go first, by pick_sequence (no
  sequence last); then the oldest stock: the location whose oldest unit arrived first, by the FIFO
  rule of app.replenishment_rules.oldest_arrival (the units still at a location are its latest
  arrivals; the oldest of them came with the earliest inbound movement its on-hand still covers,
  and movement ids give the ledger's order); equal or unknown ages go by location code. Never more
  than is free (on hand less allocated).
- The candidate balance rows are locked (ledger.lock: SELECT ... FOR UPDATE, in the ledger's fixed
  order; SQLite's BEGIN IMMEDIATE serialises writers) before their free stock is read, and the
  order row is locked first: two allocators in parallel processes never reserve the same unit, and
  never allocate the same order twice.
- Every line covered in full: ALLOCATED. Otherwise AWAITING_STOCK and nothing is reserved (what the
  order held from before is released), unless the ALLOCATE_PARTIALLY setting is on (a Setting row,
  or the environment; "1", "true", "yes" or "on"): then what could be reserved is kept and the order
  stays AWAITING_STOCK until every line is covered (its lines show what is allocated so far).

When it runs:
- After Starshipit's order_created or order_changed is applied to a WMS-routed order that is
  PENDING (new, or its lines changed: app.orders.events), its unpicked allocations are released in
  that event's transaction, and its allocation is requested for after the commit (`request`). After
  the commit, the order ids go to a job (jobs.allocation): with Redis into a sorted set that the
  `allocate_pending` job drains a batch at a time (one wake flag, as app.orders.inbox.wake), so
  10,000 new orders are a few jobs, not 10,000 requests' work; without Redis, at once in-process,
  after the commit. An order no longer WMS-routed has its unpicked allocations released.
- order_deleted releases every allocation at once (app.orders.events, in the event's transaction).
- When stock arrives at a pick or storage location (a receipt, a putaway, an adjustment up: this
  module's stock-moved listener, after the commit), the orders of that warehouse AWAITING_STOCK for
  that product are tried again, oldest first (created_at, then id), while free stock of it is left;
  an order the stock cannot fill is passed over for the next. Stock released by a cancelled or
  changed order wakes the same retry. The listener only looks the places up in this process's copy
  of the locations (reloaded every minute, or at once for a location it does not know) and of the
  (warehouse, product) pairs awaiting stock, reloaded every ALLOCATION_AWAITING_REFRESH_SECONDS (and
  at once when this process leaves an order awaiting), so
  a movement where nobody waits costs dictionary look-ups.
- A sweep (`sweep_awaiting`, jobs.allocation.sweep_awaiting) tries the awaiting orders whose
  missing products have free stock, and the WMS orders left PENDING (a lost job): with Redis it is
  scheduled SWEEP_SECONDS after an order goes awaiting, and again while any order waits.
- POST /api/v1/orders/<order_number>/allocate and the order page's "Allocate now" force it.

`ordered` and `plan` (candidate order and what to take) work over plain data and are unit-tested
without a database; the rest are the use cases that the jobs, the API and the pages call.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from flask import current_app
from sqlalchemy import event, func, select
from sqlmodel import Session

from app import bounds, db, ledger, settings_store, tasks
from app.availability import serves_orders
from app.errors import Conflict, NotFound
from app.models import (
    PHYSICAL_TYPES,
    Allocation,
    Location,
    LocationType,
    Order,
    OrderLine,
    OrderStatus,
    StockLevel,
)
from app.orders import mirror
from app.replenishment import INBOUND_PAGE, inbound_arrivals, inbound_arrivals_many
from app.replenishment_rules import oldest_arrival
from app.timeutil import utcnow

log = logging.getLogger(__name__)

# The jobs, by name (app/ never imports jobs/).
ALLOCATE_ORDERS = "jobs.allocation.allocate_orders"
ALLOCATE_PENDING = "jobs.allocation.allocate_pending"
RETRY_AWAITING = "jobs.allocation.retry_awaiting"
SWEEP_AWAITING = "jobs.allocation.sweep_awaiting"

PARTIAL_SETTING = "ALLOCATE_PARTIALLY"
ALLOCATABLE_TYPES = tuple(t for t in (LocationType.PICK, LocationType.STORAGE) if t in PHYSICAL_TYPES and serves_orders(t))
ALLOCATABLE_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.AWAITING_STOCK, OrderStatus.ALLOCATED})
PICKING_STATUSES = frozenset({OrderStatus.PICKING, OrderStatus.PICKED, OrderStatus.PACKED})
BATCH = 100  # orders a job allocates per batch (each order in a transaction of its own)
WAKE_TTL = 60  # seconds; bounds how long a wake flag whose job was lost blocks the next one
JOB_SECONDS = 30.0  # a draining job hands over to a fresh one after this long (RQ's job timeout is 180 s)
SWEEP_SECONDS = 60  # after an order goes awaiting (Redis), a sweep this much later
PENDING_GRACE_SECONDS = 60  # a WMS order PENDING this long without an allocation attempt is swept
REFRESH_SECONDS = 1.0  # config ALLOCATION_AWAITING_REFRESH_SECONDS
PLACES_REFRESH_SECONDS = 60.0  # the listener's copy of the locations (a new one is loaded at once)

# What a job found for one order.
ALLOCATED = str(OrderStatus.ALLOCATED)
AWAITING = str(OrderStatus.AWAITING_STOCK)
SKIPPED = "skipped"  # not allocatable (no longer WMS, shipped, cancelled, picking) or gone


# ---- the rule (plain data) ------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A location holding free stock of one product."""

    location_id: int
    code: str
    type: str
    pick_sequence: int | None
    free: int  # on hand less allocated
    arrived: int | None = None  # the ledger id of the inbound movement that brought its oldest unit
    on_hand: int = 0  # what the location holds (free or allocated): whose oldest unit `arrived` is


def _key(candidate: Candidate) -> tuple:
    age = (candidate.arrived is None, candidate.arrived or 0)
    if candidate.type == LocationType.PICK:
        sequence = candidate.pick_sequence
        return (0, sequence is None, sequence or 0, *age, candidate.code, candidate.location_id)
    return (1, False, 0, *age, candidate.code, candidate.location_id)


def ordered(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Where stock is reserved from first: pick faces by pick_sequence (none last), then the other
    locations oldest stock first (unknown age after known), ties by code; only locations of
    ALLOCATABLE_TYPES holding free stock."""
    return sorted((c for c in candidates if c.free > 0 and c.type in ALLOCATABLE_TYPES), key=_key)


def plan(candidates: Iterable[Candidate], wanted: int) -> list[tuple[Candidate, int]]:
    """(candidate, units) to reserve, in `ordered` order, each emptied of its free stock before the
    next; fewer than wanted in total when not enough is free."""
    legs, left = [], max(0, wanted)
    for candidate in ordered(candidates):
        if left == 0:
            break
        take = min(candidate.free, left)
        legs.append((candidate, take))
        left -= take
    return legs


def ages_matter(candidates: Iterable[Candidate], wanted: int) -> bool:
    """Whether the order among the non-pick locations can change what is reserved: the pick faces
    leave some of `wanted` to take, and two or more other locations could give it."""
    usable = [c for c in candidates if c.free > 0 and c.type in ALLOCATABLE_TYPES]
    from_pick_faces = sum(c.free for c in usable if c.type == LocationType.PICK)
    return from_pick_faces < wanted and sum(1 for c in usable if c.type != LocationType.PICK) > 1


def still_needed(quantity: int, shipped: int, held: int) -> int:
    """Units a line still needs reserved: ordered, less shipped, less what it holds."""
    return max(0, quantity - shipped - held)


def refusal(route: str, status: str) -> tuple[str, str] | None:
    """Why an order cannot be allocated, (code, words), or None when it can."""
    if route != "WMS":
        return "not_wms_order", "is routed STARSHIPIT: Starshipit picks and ships it, the WMS does not allocate it"
    if status in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED):
        return "order_shipped", f"has {'shipped' if status == OrderStatus.SHIPPED else 'partly shipped'}"
    if status == OrderStatus.CANCELLED:
        return "order_cancelled", "was cancelled (deleted in Starshipit)"
    if status in PICKING_STATUSES:
        return "picking_started", f"is {str(status).lower()}: picking has started"
    if status not in ALLOCATABLE_STATUSES:
        return "not_allocatable", f"is {status}"
    return None


def is_on(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


# ---- allocating one order -------------------------------------------------------------------


@dataclass
class Allocated:
    """What allocating an order did."""

    order_id: int
    order_number: str
    status: str
    reserved: int = 0  # units reserved now
    released: int = 0  # units given back now
    short: dict[str, int] = field(default_factory=dict)  # sku -> units that could not be reserved


def _lock_order_id(session: Session, order_id: int) -> Order | None:
    statement = select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    return session.scalars(statement).first()


def check_allocatable(order: Order) -> None:
    why = refusal(order.route, order.status)
    if why is not None:
        code, words = why
        raise Conflict(f"order {order.order_number} {words}", code=code, field="order_number")


def allocate_order(session: Session, order: Order) -> Allocated:
    """Reserve stock for the order's lines (see the module's docstring); the order row must be
    locked by the caller (mirror.lock_existing). Refuses (Conflict) an order it may not allocate."""
    check_allocatable(order)
    return allocate_locked(session, [order])[0]


def allocate_batch(session: Session, order_ids: Iterable[int]) -> list[str]:
    """A job's allocation of a batch of orders in one transaction: each order's outcome (ALLOCATED,
    AWAITING_STOCK, or SKIPPED when it is gone or may no longer be allocated), lowest id first. The
    order rows are locked in id order, then every balance the batch may take from, once."""
    ids = sorted({int(i) for i in order_ids})
    if not ids:
        return []
    statement = (select(Order).where(Order.id.in_(ids)).order_by(Order.id).with_for_update()
                 .execution_options(populate_existing=True))
    found = {order.id: order for order in session.scalars(statement)}
    allocatable = [order for order in found.values() if refusal(order.route, order.status) is None]
    done = {result.order_id: result.status for result in allocate_locked(session, allocatable)}
    return [str(done.get(order_id, SKIPPED)) for order_id in ids]


class _Line(NamedTuple):
    """What allocation reads of an order line."""

    id: int
    order_id: int
    product_id: int | None
    sku: str
    quantity: int
    shipped: int


def allocate_locked(session: Session, orders: list[Order]) -> list[Allocated]:
    """Allocate these orders, locked and allocatable, in the given order (each order is planned
    against what the ones before it took): their lines, what they hold and the candidate balances
    are read once for all of them, and the ledger reserves every leg in one go."""
    if not orders:
        return []
    lines = _lines_of(session, [order.id for order in orders])
    held, picked = _held_by_line(session, [line.id for lines_ in lines.values() for line in lines_])
    needs = {line.id: still_needed(line.quantity, line.shipped, held.get(line.id, 0))
             for lines_ in lines.values() for line in lines_}
    wanted: dict[int, set[int]] = {}  # warehouse -> products its orders still need
    for order in orders:
        wanted.setdefault(order.warehouse_id, set()).update(
            line.product_id for line in lines.get(order.id, []) if needs[line.id] and line.product_id is not None)
    candidates, locations, warehouse_of = _locked_candidates_by_warehouse(session, wanted)
    free = {key: c.free for key, c in candidates.items()}  # (product_id, location_id) -> free, as planned so far
    by_product: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (warehouse, product) -> candidate keys
    for key in candidates:
        by_product.setdefault((warehouse_of[key[1]], key[0]), []).append(key)
    ages = Arrivals(session, candidates.items())
    partial = None
    results, legs = [], []
    for order in orders:
        result = Allocated(order.id, order.order_number, order.status)
        mine_legs, taken_here = [], {}
        for line in lines.get(order.id, []):
            need, taken = needs[line.id], 0
            if need and line.product_id is not None:  # an unknown SKU: nothing can be reserved for it
                keys = by_product.get((order.warehouse_id, line.product_id), [])
                mine = [_with_free(candidates[k], free[k] - taken_here.get(k, 0)) for k in keys]
                if ages_matter(mine, need):
                    mine = _aged(session, line.product_id, mine, ages)
                for candidate, quantity in plan(mine, need):
                    key = (line.product_id, candidate.location_id)
                    mine_legs.append(ledger.Reservation(line.product_id, locations[candidate.location_id], quantity,
                                                        order.order_number, line.id))
                    taken_here[key] = taken_here.get(key, 0) + quantity
                    taken += quantity
            if taken < need:
                result.short[line.sku] = result.short.get(line.sku, 0) + need - taken
        if result.short:
            if partial is None:
                partial = is_on(settings_store.effective(session, PARTIAL_SETTING))
            if not partial:  # all or nothing: the free stock stays for the orders it can fill
                mine_legs, taken_here = [], {}
                if any(held.get(line.id, 0) > picked.get(line.id, 0) for line in lines.get(order.id, [])):
                    result.released = release_unpicked(session, order)
        for key, quantity in taken_here.items():
            free[key] -= quantity
        result.reserved = sum(leg.quantity for leg in mine_legs)
        legs += mine_legs
        results.append(result)
    ledger.allocate_many(session, legs)

    awaiting, notes = False, []
    for order, result in zip(orders, results):
        order_lines = lines.get(order.id, [])
        if result.short:
            status = OrderStatus.AWAITING_STOCK
            awaiting = True
        elif not result.reserved and covered_by_picks(order_lines, picked):  # its totes hold everything
            status = OrderStatus.PICKED
        elif any(line.quantity > line.shipped for line in order_lines):
            status = OrderStatus.ALLOCATED
        else:  # nothing left to ship (no lines, or all shipped): its place in the workflow stays
            status = OrderStatus.PENDING if order.status == OrderStatus.AWAITING_STOCK else order.status
        _set_status(session, order, status, result, notes)
        result.status = order.status
    mirror.note_many(session, "allocation", notes)
    session.flush()
    if awaiting:
        _awaiting_now(session)
    return results


def _lines_of(session: Session, order_ids: list[int]) -> dict[int, list[_Line]]:
    rows = session.execute(
        select(OrderLine.id, OrderLine.order_id, OrderLine.product_id, OrderLine.sku, OrderLine.quantity,
               OrderLine.shipped_quantity)
        .where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.id)
    ).all()
    lines: dict[int, list[_Line]] = {}
    for row in rows:
        lines.setdefault(row[1], []).append(_Line(*row))
    return lines


def _held_by_line(session: Session, line_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """What the lines hold in open allocations: ({line id: units, picked or not}, {line id: units picked})."""
    held: dict[int, int] = {}
    picked: dict[int, int] = {}
    if not line_ids:
        return held, picked
    rows = session.execute(
        select(Allocation.order_line_id, Allocation.picked, func.sum(Allocation.quantity))
        .where(Allocation.order_line_id.in_(line_ids), Allocation.quantity > 0)
        .group_by(Allocation.order_line_id, Allocation.picked)
    ).all()
    for line_id, is_picked, units in rows:
        held[line_id] = held.get(line_id, 0) + int(units)
        if is_picked:
            picked[line_id] = picked.get(line_id, 0) + int(units)
    return held, picked


def covered_by_picks(lines: Iterable, picked: dict[int, int]) -> bool:
    """Every line with something left to ship has all of it picked into totes (and there is one).
    `lines` carry id, quantity and shipped (or shipped_quantity); `picked`: line id -> units picked."""
    needed = {}
    for line in lines:
        shipped = line.shipped if isinstance(line, _Line) else line.shipped_quantity
        if line.quantity > shipped:
            needed[line.id] = line.quantity - shipped
    return bool(needed) and all(picked.get(line_id, 0) >= units for line_id, units in needed.items())


def fully_picked(session: Session, lines: list[OrderLine]) -> bool:
    """Every line with something left to ship has all of it picked into totes (and there is one)."""
    _held, picked = _held_by_line(session, [line.id for line in lines])
    return covered_by_picks(lines, picked)


def _with_free(candidate: Candidate, free: int) -> Candidate:
    return candidate if candidate.free == free else replace(candidate, free=free)


def _set_status(session: Session, order: Order, status: str, result: Allocated, notes: list | None = None) -> None:
    """The order's new status, noted on its timeline when anything changed (a retry that changes
    nothing writes nothing). `notes`: (order id, words) collected for one write (a batch)."""
    if status == order.status and not result.reserved and not result.released:
        return
    order.status = status
    order.updated_at = utcnow()
    if status == OrderStatus.AWAITING_STOCK:
        missing = ", ".join(f"{units} x {sku}" for sku, units in result.short.items())
        words = f"awaiting stock: short {missing}"
        if result.reserved:
            words += f"; {result.reserved} unit(s) reserved meanwhile (partial allocation is on)"
        if result.released:
            words += f"; {result.released} unit(s) it held released"
    elif status == OrderStatus.PICKED:
        words = "picked: its totes hold every line, nothing left to allocate"
    else:
        words = f"{str(status).lower().replace('_', ' ')}: {result.reserved} unit(s) reserved"
    if notes is None:
        mirror.note(session, order, "allocation", words)
    else:
        notes.append((order.id, words))


def _locked_candidates(session: Session, warehouse_id: int, product_ids: list[int]):
    """The balances of these products at the warehouse's active pick and storage locations that
    hold free stock, locked (ledger.lock) and read again under the lock: ({(product_id,
    location_id): Candidate}, {location_id: Location})."""
    candidates, places, _warehouses = _locked_candidates_by_warehouse(session, {warehouse_id: set(product_ids)})
    return candidates, places


def _locked_candidates_by_warehouse(session: Session, wanted: dict[int, set[int]]):
    """`_locked_candidates` for several warehouses at once ({warehouse id: product ids}): one
    read per warehouse, then one lock of every balance found, in the ledger's fixed order. The
    locations come as ledger.Place (id, code, type) with their warehouse: {location id: Spot}."""
    locations: dict[int, Spot] = {}
    keys = []
    for warehouse_id, product_ids in sorted(wanted.items()):
        if not product_ids:
            continue
        rows = session.execute(
            select(StockLevel.product_id, Location.id, Location.code, Location.type, Location.pick_sequence)
            .join(Location, Location.id == StockLevel.location_id)
            .where(StockLevel.product_id.in_(sorted(product_ids)), Location.warehouse_id == warehouse_id,
                   Location.type.in_([str(t) for t in ALLOCATABLE_TYPES]), Location.active,
                   StockLevel.on_hand > StockLevel.allocated)
        ).all()
        for product_id, location_id, code, kind, sequence in rows:
            locations[location_id] = Spot(ledger.Place(location_id, code, kind), warehouse_id, sequence)
            keys.append((product_id, location_id))
    levels = ledger.lock(session, keys)
    candidates = {}
    for (product_id, location_id), level in levels.items():
        spot = locations[location_id]
        free = level.on_hand - level.allocated
        if free > 0:
            candidates[(product_id, location_id)] = Candidate(location_id, spot.place.code, spot.place.type,
                                                              spot.pick_sequence, free, on_hand=level.on_hand)
    return candidates, {location_id: spot.place for location_id, spot in locations.items()}, \
        {location_id: spot.warehouse_id for location_id, spot in locations.items()}


class Spot(NamedTuple):
    place: ledger.Place
    warehouse_id: int
    pick_sequence: int | None


class Arrivals:
    """When the oldest unit still at each non-pick candidate arrived (the ledger id of the inbound
    movement that brought it), read once per transaction: on the first question, for every
    non-pick candidate at once (one statement); allocating moves no stock, so the answers hold for
    a whole batch."""

    def __init__(self, session: Session, candidates: Iterable[tuple[tuple[int, int], Candidate]]) -> None:
        self.session = session
        self.on_hand = {key: c.on_hand for key, c in candidates if c.type != LocationType.PICK}
        self.known: dict[tuple[int, int], int | None] | None = None

    def of(self, product_id: int, candidate: Candidate) -> int | None:
        key = (product_id, candidate.location_id)
        if self.known is None:
            self.known = {}
            for read, page in inbound_arrivals_many(self.session, sorted(self.on_hand)).items():
                if len(page) < INBOUND_PAGE or sum(a.quantity for a in page) >= self.on_hand[read]:
                    arrival = oldest_arrival(page, self.on_hand[read])
                    self.known[read] = arrival.movement_id if arrival else None
        if key not in self.known:  # more inbound movements than a page, or not a candidate read at first
            on_hand = self.on_hand.get(key, candidate.on_hand)
            arrival = oldest_arrival(inbound_arrivals(self.session, product_id, candidate.location_id), on_hand)
            self.known[key] = arrival.movement_id if arrival else None
        return self.known[key]


def _aged(session: Session, product_id: int, candidates: list[Candidate], arrivals: Arrivals | None = None) -> list[Candidate]:
    """The candidates with the arrival of their oldest unit filled in (non-pick ones; pick faces go
    by sequence)."""
    if arrivals is None:
        arrivals = Arrivals(session, [((product_id, c.location_id), c) for c in candidates])
    return [c if c.type == LocationType.PICK or c.free <= 0 else replace(c, arrived=arrivals.of(product_id, c))
            for c in candidates]


def release_unpicked(session: Session, order: Order) -> int:
    """Give back every open allocation of the order that is not picked; the units released.
    Wakes a retry of the orders awaiting those products, after the commit."""
    lines = mirror.lines_of(session, order)
    released, products = 0, set()
    for allocation in mirror.open_allocations(session, [line.id for line in lines]):
        if allocation.picked:
            continue
        released += ledger.release(session, allocation)
        products.add(allocation.product_id)
    if products:
        _pending(session)["stock"].update((order.warehouse_id, product_id) for product_id in products)
    return released


def release_order(session: Session, order: Order) -> int:
    """Release every open, unpicked allocation of the order at once; an ALLOCATED or AWAITING_STOCK
    order is PENDING again (nothing is reserved for it any more). The units released."""
    released = release_unpicked(session, order)
    if order.status in (OrderStatus.ALLOCATED, OrderStatus.AWAITING_STOCK):
        order.status = OrderStatus.PENDING
        order.updated_at = utcnow()
    if released:
        mirror.note(session, order, "allocation", f"{released} allocated unit(s) released")
    session.flush()
    return released


# ---- the use cases the API, the pages and the jobs call ----------------------------------------


def allocate_now(session: Session, order_number) -> dict:
    """Allocate one order now (the API's and the page's "allocate"): what it holds afterwards."""
    order = mirror.lock_typed(session, order_number)
    allocate_order(session, order)
    return order_allocations(session, order)


def allocate_by_id(session: Session, order_id: int) -> Allocated | None:
    """A job's allocation of one order: None when the order is gone or may not be allocated (it
    moved on meanwhile: shipped, cancelled, re-routed)."""
    order = _lock_order_id(session, order_id)
    if order is None or refusal(order.route, order.status) is not None:
        return None
    return allocate_order(session, order)


def order_allocations(session: Session, order: Order) -> dict:
    """{order_number, status, lines: [{sku, quantity, allocated, picked, locations: [{location,
    quantity}]}]}: what each line holds unpicked (allocated, and where) and picked."""
    lines = mirror.lines_of(session, order)
    held = mirror.open_allocations(session, [line.id for line in lines])
    codes = dict(session.execute(
        select(Location.id, Location.code).where(Location.id.in_(sorted({a.location_id for a in held})))
    ).all()) if held else {}
    out = []
    for line in lines:
        mine = [a for a in held if a.order_line_id == line.id]
        places: dict[str, int] = {}
        for allocation in mine:
            if not allocation.picked:
                code = codes.get(allocation.location_id, str(allocation.location_id))
                places[code] = places.get(code, 0) + allocation.quantity
        out.append({
            "sku": line.sku,
            "quantity": line.quantity,
            "allocated": sum(a.quantity for a in mine if not a.picked),
            "picked": sum(a.quantity for a in mine if a.picked),
            "locations": [{"location": code, "quantity": units} for code, units in places.items()],
        })
    return {"order_number": order.order_number, "status": order.status, "route": order.route, "lines": out}


def allocations_of(session: Session, order_number: str) -> dict:
    """`order_allocations` of an order found by number (read-only: for the order page)."""
    order = session.scalars(select(Order).where(Order.order_number == order_number)).first()
    if order is None:
        raise NotFound(f"no order {bounds.shown(order_number)}", field="order_number")
    return order_allocations(session, order)


def awaiting_orders(session: Session, warehouse_id: int, product_id: int, *, limit: int = 10_000) -> list[int]:
    """The ids of the warehouse's orders AWAITING_STOCK with a line of this product, oldest first."""
    statement = (
        select(Order.id)
        .where(Order.status == OrderStatus.AWAITING_STOCK, Order.warehouse_id == warehouse_id,
               Order.id.in_(select(OrderLine.order_id).where(OrderLine.product_id == product_id)))
        .order_by(Order.created_at, Order.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def free_in_warehouse(session: Session, warehouse_id: int, product_id: int) -> int:
    """Free stock of a product at the warehouse's allocatable locations."""
    return int(session.execute(
        select(func.coalesce(func.sum(StockLevel.on_hand - StockLevel.allocated), 0))
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.product_id == product_id, Location.warehouse_id == warehouse_id,
               Location.type.in_([str(t) for t in ALLOCATABLE_TYPES]), Location.active)
    ).scalar() or 0)


def sweep_candidates(session: Session, *, pending_older_than: float = PENDING_GRACE_SECONDS) -> tuple[list[tuple[int, int]], list[int]]:
    """What a sweep tries: the (warehouse_id, product_id) pairs that orders await and that have free
    stock, and the WMS orders PENDING for longer than `pending_older_than` seconds (a lost job)."""
    awaited = session.execute(
        select(Order.warehouse_id, OrderLine.product_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.status == OrderStatus.AWAITING_STOCK, OrderLine.product_id.is_not(None))
        .distinct()
    ).all()
    pairs = [(w, p) for w, p in awaited if free_in_warehouse(session, w, p) > 0]
    from datetime import timedelta

    cutoff = utcnow() - timedelta(seconds=pending_older_than)
    pending = list(session.scalars(
        select(Order.id).where(Order.route == "WMS", Order.status == OrderStatus.PENDING, Order.updated_at < cutoff)
        .order_by(Order.created_at, Order.id).limit(10_000)
    ))
    return sorted(pairs), pending


def any_awaiting(session: Session) -> bool:
    return session.execute(select(Order.id).where(Order.status == OrderStatus.AWAITING_STOCK).limit(1)).first() is not None


# ---- after an order event: what the event's transaction does, and what runs after its commit ----


def after_order_event(session: Session, order: Order, routed_before: str | None = None) -> None:
    """Called by app.orders.events after order_created or order_changed was applied (and the order
    routed), in that transaction. A WMS order PENDING (new, lines changed, or routed WMS now) has
    its unpicked allocations released at once and is allocated after the commit; an order routed
    from WMS to STARSHIPIT now lets go of its unpicked allocations (Starshipit picks it). An order
    ALLOCATED or AWAITING_STOCK whose lines did not change keeps its place."""
    if order.status in PICKING_STATUSES or order.status in (
            OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.CANCELLED):
        return
    if order.route != "WMS":
        if routed_before == "WMS":
            release_order(session, order)
        return
    if order.status == OrderStatus.PENDING:
        release_order(session, order)
        request(session, [order.id])


def after_order_deleted(session: Session, order: Order) -> None:
    """order_deleted released the order's allocations (app.orders.events): the orders awaiting its
    products are tried again after the commit."""
    products = {line.product_id for line in mirror.lines_of(session, order) if line.product_id is not None}
    _pending(session)["stock"].update((order.warehouse_id, product_id) for product_id in products)


_PENDING = "wms.allocation_after_commit"


def _pending(session: Session) -> dict:
    """This transaction's allocation work for after its commit: orders to allocate, and (warehouse,
    product) pairs whose awaiting orders to retry (stock released)."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = {"orders": [], "stock": set(), "awaiting": False}
        event.listen(session, "after_commit", _committed, once=True)
        event.listen(session, "after_soft_rollback", _rolled_back)
    return pending


def request(session: Session, order_ids: Iterable[int]) -> None:
    """Allocate these orders after this transaction commits (never inside it: the job reads what
    it committed, and without Redis it runs in this process once the commit is done)."""
    orders = _pending(session)["orders"]
    orders.extend(i for i in order_ids if i not in orders)


def _rolled_back(session: Session, _previous_transaction) -> None:
    session.info.pop(_PENDING, None)


def _committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    try:
        if pending["orders"]:
            wake_orders(pending["orders"])
        for warehouse_id, product_id in sorted(pending["stock"]):
            wake_retry(warehouse_id, product_id)
    except Exception:  # noqa: BLE001 - committed already; the sweep finds what was not handed over
        log.exception("allocation was not handed over after a commit; the sweep will find the orders")


# ---- handing work to the jobs -----------------------------------------------------------------


def _queue_key(queue, what: str) -> str:
    return f"{queue.name}:allocation:{what}"


def wake_orders(order_ids: list[int]):
    """Allocate these orders in the background: with Redis, added to the pending set and a drain
    job woken (one per burst, see `allocate_pending`); without Redis, now, in this process."""
    queue = tasks.queue()
    if queue is None:
        return tasks.enqueue(ALLOCATE_ORDERS, list(order_ids))
    connection = queue.connection
    with connection.pipeline() as pipe:
        if order_ids:  # none: only a job woken (a drain sharing a backlog); Redis refuses an empty ZADD
            pipe.zadd(_queue_key(queue, "pending"), {str(i): i for i in order_ids})
        pipe.set(_queue_key(queue, "wake"), 1, nx=True, ex=WAKE_TTL)
        woke = pipe.execute()[-1]
    if not woke:
        return None
    try:
        return tasks.enqueue(ALLOCATE_PENDING)
    except Exception:
        connection.delete(_queue_key(queue, "wake"))  # so that the next order tries again
        raise


def clear_wake() -> None:
    queue = tasks.queue()
    if queue is not None:
        queue.connection.delete(_queue_key(queue, "wake"))


def take_pending(count: int = BATCH) -> list[int]:
    """The next batch of order ids to allocate, lowest (oldest) first, taken off the pending set."""
    queue = tasks.queue()
    if queue is None:
        return []
    return [int(member) for member, _score in queue.connection.zpopmin(_queue_key(queue, "pending"), count)]


def wake_retry(warehouse_id: int, product_id: int):
    """Try the orders awaiting this product in this warehouse again, in the background (one job
    per pair until it starts: a wake flag, as replenishment's), or now without Redis."""
    queue = tasks.queue()
    if queue is None:
        return tasks.enqueue(RETRY_AWAITING, warehouse_id, product_id)
    key = _queue_key(queue, f"retry:{warehouse_id}:{product_id}")
    if not queue.connection.set(key, 1, nx=True, ex=WAKE_TTL):
        return None
    try:
        return tasks.enqueue(RETRY_AWAITING, warehouse_id, product_id)
    except Exception:
        queue.connection.delete(key)
        raise


def clear_retry_wake(warehouse_id: int, product_id: int) -> None:
    queue = tasks.queue()
    if queue is not None:
        queue.connection.delete(_queue_key(queue, f"retry:{warehouse_id}:{product_id}"))


def schedule_sweep() -> None:
    """With Redis: a sweep SWEEP_SECONDS from now (one per window: the job id names the window)."""
    queue = tasks.queue()
    if queue is None:
        return
    window = int(time.time() // SWEEP_SECONDS) + 1
    tasks.enqueue_in(SWEEP_SECONDS, SWEEP_AWAITING, job_id=f"wms-allocation-sweep-{window}")


# ---- stock arriving: the stock-moved listener ----------------------------------------------------


_CACHE = "wms.allocation_awaiting"


class _Awaiting:
    """This process's copy of the allocatable locations (id -> warehouse id), reloaded every
    PLACES_REFRESH_SECONDS or when a movement names a location it does not know, and of the
    (warehouse, product) pairs that orders await, reloaded every `refresh_seconds` (both at once
    when forgotten). Locations change rarely and a warehouse has thousands: reloading them every
    second cost each web worker a read of every location (6% of a pick scan's time)."""

    def __init__(self, refresh_seconds: float) -> None:
        self.refresh_seconds = refresh_seconds
        self.places: dict[int, int] = {}
        self.other_places: set[int] = set()
        self.pairs: set[tuple[int, int]] = set()
        self.until = float("-inf")
        self.places_until = float("-inf")

    def _reload_places(self, session: Session, now: float) -> None:
        rows = session.execute(select(Location.id, Location.warehouse_id, Location.type, Location.active)).all()
        self.places = {i: w for i, w, kind, active in rows if active and kind in ALLOCATABLE_TYPES}
        self.other_places = {i for i, _w, _kind, _active in rows if i not in self.places}
        self.places_until = now + PLACES_REFRESH_SECONDS

    def awaited(self, balances: dict[tuple[int, int], int]) -> list[tuple[int, int]]:
        arrived = [(p, loc) for (p, loc), on_hand in balances.items() if on_hand > 0]
        if not arrived:
            return []
        now = time.monotonic()
        stale_places = now >= self.places_until or any(
            loc not in self.places and loc not in self.other_places for _p, loc in arrived
        )
        if now >= self.until or stale_places:
            with db.reading() as session:
                if stale_places:
                    self._reload_places(session, now)
                if now >= self.until:
                    self.pairs = set(session.execute(
                        select(Order.warehouse_id, OrderLine.product_id)
                        .join(OrderLine, OrderLine.order_id == Order.id)
                        .where(Order.status == OrderStatus.AWAITING_STOCK, OrderLine.product_id.is_not(None))
                        .distinct()
                    ).all())
                    self.until = now + self.refresh_seconds
        found = {(self.places[loc], p) for p, loc in arrived if loc in self.places}
        return sorted(found & self.pairs)

    def forget(self) -> None:
        self.until = self.places_until = float("-inf")


def init_app(app) -> None:
    """Listen to every committed movement of this app: stock arriving where orders wait for it."""
    seconds = float(app.config.get("ALLOCATION_AWAITING_REFRESH_SECONDS", REFRESH_SECONDS))
    app.extensions[_CACHE] = _Awaiting(seconds)
    db.on_stock_moved(app, _on_stock_moved)


def _on_stock_moved(balances: dict[tuple[int, int], int]) -> None:
    cache = current_app.extensions.get(_CACHE)
    if cache is None:
        return
    for warehouse_id, product_id in cache.awaited(balances):
        wake_retry(warehouse_id, product_id)


def _awaiting_now(session: Session) -> None:
    """An order goes AWAITING_STOCK in this transaction: after the commit this process's listener
    reloads the awaited pairs at its next movement, and (Redis) a sweep is scheduled."""
    pending = _pending(session)
    if not pending["awaiting"]:
        pending["awaiting"] = True
        event.listen(session, "after_commit", _awaiting_committed, once=True)


def _awaiting_committed(_session: Session) -> None:
    cache = current_app.extensions.get(_CACHE)
    if cache is not None:
        cache.forget()
    try:
        schedule_sweep()
    except Exception:  # noqa: BLE001 - the next order going awaiting schedules one again
        log.warning("the allocation sweep was not scheduled", exc_info=True)
