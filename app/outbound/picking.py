"""Outbound picking: pick jobs over allocated WMS orders, a walk of stops in pick sequence, picks
into totes through the ledger, short picks, and orders that change while they are picked.

The contract packing relies on:
- A pick moves stock from the location to the tote with `ledger.move(..., allocation=<the order
  line's allocation at that location>)`: the allocation travels to the tote, where it is
  `picked = True`. The allocation's location is the tote; `pick_tote` also links each job's totes
  to their orders (one order per tote per job), so a packer who scans a tote finds the order
  (`orders_in_tote`), and an order names its totes (`totes_of_order`).
- An order is PICKING while a pick job holds it and PICKED once every line's quantity (less what
  shipped) is picked into totes.

Jobs (`create_pick_job`, `release_pick_jobs`):
- Only a WMS order that is ALLOCATED (every line covered) is picked; any other is refused 409
  `not_allocated`, naming it. mode `single` takes one order, `batch` 1 to MAX_BATCH_ORDERS orders;
  every order gets a tote of its own. Totes given must be active locations of type `tote` in the
  order's warehouse, and free; none given: free ones are taken, by code. A tote is free when
  nothing is on hand in it and no open (open or picking) job uses it. Too few: 409 `no_free_tote`
  in words. Tote rows are locked (SELECT ... FOR UPDATE) before they are checked, so two releases
  never take the same tote.
- A stop is one location x product x tote with the quantity for that tote (the order line's
  unpicked allocation there); stops go by the location's pick_sequence (none last), then its code,
  then the tote's place on the cart (`walk_key`).
- A manager releases jobs by filter (`release_pick_jobs`): the routing rule that chose the order
  (route: every allocated order is WMS-routed), carrier, and how long ago it was allocated at least
  (orders carry no priority: Starshipit's order has none we mirror); oldest first; as single-order
  jobs or batches of up to N orders. Releasing stops when the free totes run out and says how many
  orders were left.

Picks (`record_pick`): the scanned location, product and tote must name an open stop of the job
(409 `wrong_location`, `wrong_sku`, `wrong_tote`; more than the stop still needs: `over_pick`);
nothing moves on a refusal. Otherwise, in one transaction: the order row is locked (then the job
row: always in that order), the units move to the tote carrying the line's allocation, the
allocation at the tote is marked picked, the stop counts them; the order is PICKED when every line
is picked, the job done when every stop is.

Short picks (`record_short`, decided here): `found` is what the picker sees of the product at the
location. It must be less than the job's stops there still need (else 409 `not_short`: pick them).
The book is made to match what was found: the location's on-hand less `found` goes to the
warehouse's count location (a `count` movement, reason `short_pick`) and a Discrepancy (cause
`short_pick`) records the missing units for a manager. Before that, what is allocated there beyond
`found` is released: this job's stops keep the found units first, then other orders' allocations,
oldest first. Every unit released is allocated again from free stock elsewhere when there is some
(pick faces first, as allocation does): for an order of this job (or of another open job) the job
gains a stop there, into the same tote, in sequence; an ALLOCATED order not being picked is simply
allocated again. What cannot be found anywhere is noted on the order's timeline; the order stays
PICKING while its job has stops for it, and when none is left and a line is still short it goes to
AWAITING_STOCK (allocation keeps the picked stock in its tote, reserves the rest when stock arrives,
and the order can be picked again into another tote). Nothing is ever taken below zero.

Changes while picking (`reconcile_order`, called by app.orders.events in the event's transaction,
with the order locked): order_changed of a PICKING order keeps it PICKING (it does not go back to
PENDING). mirror.update_order has released each line's allocation beyond its new quantity (unpicked
first); the job's stops for the lines that shrank or vanished drop their unpicked part to what is
still allocated, and lines that grew are allocated from free stock with new stops in the same tote
(or noted when no stock is free). Picked units beyond a line's new quantity stay in the tote,
released (no longer the order's), with a return-to-stock task (app.outbound.returns). order_deleted
(the order CANCELLED, its allocations released) drops every unpicked stop of the order.

The rules that need no database (`walk_key`, `batches`, `plan_stops`, `trim`, `match_stop`,
`split_found`) are plain functions with unit tests.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app import bounds, ledger, scans
from app.bounds import shown
from app.catalog import find_product, product_id_by_scan, scan_values
from app.client_actions import claim
from app.errors import Conflict, NotFound, ValidationFailed, WmsError
from app.models import (
    OPEN_PICK_STATUSES,
    Allocation,
    Location,
    LocationType,
    MovementType,
    Order,
    OrderLine,
    OrderStatus,
    PickJob,
    PickJobStatus,
    PickMode,
    PickStop,
    PickTote,
    Product,
    StockLevel,
    User,
    Warehouse,
)
from app.orders import mirror
from app.orders.discrepancies import raise_discrepancy
from app.outbound import allocation
from app.timeutil import isoformat, utcnow
from app.warehouses import (
    find_location,
    get_warehouse,
    location_id_by_scan,
    location_scan_values,
    usable_location,
    virtual_location,
)

MODES = tuple(str(m) for m in PickMode)
SHORT_REASON = "short_pick"
DEFAULT_BATCH = 10

# ---- the rules (plain data) ---------------------------------------------------------------


def walk_key(pick_sequence: int | None, location_code: str, tote_position: int = 0, sku: str = "") -> tuple:
    """The order of a walk: by pick_sequence (none last), then location code, then the tote's
    place on the cart, then SKU."""
    return (pick_sequence is None, pick_sequence or 0, location_code, tote_position, sku)


def batches(items: Sequence, size: int) -> list[list]:
    """Items in groups of at most `size`, in their order."""
    if size < 1:
        raise ValueError("a batch holds at least one order")
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


@dataclass(frozen=True)
class Leg:
    """Units of an order line allocated at a location, bound for the order's tote."""

    location_id: int
    location_code: str
    pick_sequence: int | None
    product_id: int
    sku: str
    order_id: int
    order_line_id: int
    tote_id: int
    tote_position: int
    quantity: int


def plan_stops(legs: Iterable[Leg]) -> list[Leg]:
    """One stop per location x product x tote (legs of the same line there added up), in walk order."""
    merged: dict[tuple[int, int, int, int], Leg] = {}
    for leg in legs:
        if leg.quantity <= 0:
            continue
        key = (leg.location_id, leg.product_id, leg.tote_id, leg.order_line_id)
        have = merged.get(key)
        merged[key] = leg if have is None else Leg(**{**have.__dict__, "quantity": have.quantity + leg.quantity})
    return sorted(merged.values(),
                  key=lambda leg: walk_key(leg.pick_sequence, leg.location_code, leg.tote_position, leg.sku))


def trim(remaining: Sequence[int], keep: int) -> list[int]:
    """What each of some stops still needs, cut so that together they need at most `keep`: the last
    stops give up their units first."""
    out = list(remaining)
    excess = sum(out) - max(0, keep)
    for i in range(len(out) - 1, -1, -1):
        if excess <= 0:
            break
        cut = min(out[i], excess)
        out[i] -= cut
        excess -= cut
    return out


def split_found(found: int, ours: Sequence[int], others: Sequence[int]) -> tuple[list[int], list[int]]:
    """Who keeps the units a picker found at a short location: this job's allocations first, then
    the others, each in its order; (kept per own allocation, kept per other allocation)."""
    budget = max(0, found)
    kept_ours, kept_others = [], []
    for quantity, out in [(q, kept_ours) for q in ours] + [(q, kept_others) for q in others]:
        keep = min(quantity, budget)
        budget -= keep
        out.append(keep)
    return kept_ours, kept_others


@dataclass(frozen=True)
class StopView:
    """An open stop as a scan is checked against it."""

    id: int
    sequence: int
    location_id: int
    location_code: str
    product_id: int
    sku: str
    tote_id: int
    tote_code: str
    order_id: int
    remaining: int


@dataclass(frozen=True)
class Scanned:
    """What a picker scanned: the ids it names (None: it names nothing) and the text as scanned."""

    location_id: int | None
    location: str
    product_id: int | None = None
    sku: str = ""
    tote_id: int | None = None
    tote: str = ""


def match_stop(stops: Sequence[StopView], scanned: Scanned, quantity: int | None = None,
               *, check_tote: bool = True) -> list[StopView]:
    """The open stops (remaining > 0, in sequence) the scans name, or a Conflict in words:
    wrong_location, wrong_sku, wrong_tote, over_pick (quantity more than the stop still needs).
    Without a tote (check_tote False) every stop of that product at that location."""
    open_stops = sorted((s for s in stops if s.remaining > 0), key=lambda s: s.sequence)
    if not open_stops:
        raise Conflict("every stop of this pick job is done", code="job_done")
    at = [s for s in open_stops if s.location_id == scanned.location_id]
    if not at:
        raise Conflict(f"nothing to pick at {shown(scanned.location)} in this job: the next stop is "
                       f"{open_stops[0].location_code}", code="wrong_location", field="location")
    of_product = [s for s in at if s.product_id == scanned.product_id]
    if not of_product:
        wanted = ", ".join(sorted({s.sku for s in at}))
        raise Conflict(f"{shown(scanned.sku)} is not to be picked at {at[0].location_code}: pick {wanted} here",
                       code="wrong_sku", field="sku")
    if not check_tote:
        return of_product
    in_tote = [s for s in of_product if s.tote_id == scanned.tote_id]
    if not in_tote:
        totes = ", ".join(sorted({s.tote_code for s in of_product}))
        raise Conflict(f"{of_product[0].sku} from {of_product[0].location_code} goes into tote {totes}, "
                       f"not {shown(scanned.tote)}", code="wrong_tote", field="tote")
    stop = in_tote[0]
    if quantity is not None and quantity > stop.remaining:
        raise Conflict(f"tote {stop.tote_code} needs {stop.remaining} more x {stop.sku} from {stop.location_code}; "
                       f"{quantity} is too many", code="over_pick", field="quantity")
    return [stop]


# ---- looking things up ------------------------------------------------------------------------


def _job_number(job_id) -> int:
    return job_id if isinstance(job_id, int) else bounds.row_id(job_id, "job", label="pick job")


def _job(session: Session, job_id, *, lock: bool = False) -> PickJob:
    number = _job_number(job_id)
    job = session.scalars(_job_by_id(lock), {"job": number}).first()
    if job is None:
        raise NotFound(f"no pick job {number}", field="job")
    return job


@cache
def _job_by_id(lock: bool):
    """A job by id (parameter: job); locked: as the database has it now. Built once: each pick
    locks its job, and building the statement took about as long as running it."""
    statement = select(PickJob).where(PickJob.id == bindparam("job"))
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return statement


def _require_open(job: PickJob) -> None:
    if job.status not in OPEN_PICK_STATUSES:
        raise Conflict(f"pick job {job.id} is {job.status}", code="job_closed", field="job")


def _lock_order_ids(session: Session, order_ids: Iterable[int]) -> dict[int, Order]:
    orders = {}
    for order_id in sorted(set(order_ids)):
        order = session.scalars(select(Order).where(Order.id == order_id).with_for_update()
                                .execution_options(populate_existing=True)).first()
        if order is not None:
            orders[order_id] = order
    return orders


def _scanned_location(session: Session, warehouse_id: int, text, field: str) -> tuple[Location | None, str]:
    scanned = bounds.scan(text if isinstance(text, str) else "", field)
    if not scanned:
        raise ValidationFailed(f"scan or type the {field}", field=field)
    try:
        return find_location(session, warehouse_id, scanned, field=field), scanned
    except NotFound:
        return None, scanned


def _scanned_product(session: Session, text) -> tuple[Product | None, str]:
    scanned = bounds.scan(text if isinstance(text, str) else "", "sku")
    if not scanned:
        raise ValidationFailed("scan or type the product", field="sku")
    try:
        return find_product(session, scanned), scanned
    except NotFound:
        return None, scanned


def _stop_views(session: Session, job_id: int, *, lock: bool = False) -> list[StopView]:
    tote = aliased(Location)
    statement = (
        select(PickStop, Location.code, Product.sku, tote.code)
        .join(Location, Location.id == PickStop.location_id)
        .join(Product, Product.id == PickStop.product_id)
        .join(tote, tote.id == PickStop.tote_location_id)
        .where(PickStop.job_id == job_id, PickStop.picked < PickStop.quantity)
        .order_by(PickStop.sequence, PickStop.id)
    )
    if lock:
        statement = statement.execution_options(populate_existing=True)
    return [StopView(s.id, s.sequence, s.location_id, code, s.product_id, sku, s.tote_location_id, tote_code,
                     s.order_id, s.quantity - s.picked)
            for s, code, sku, tote_code in session.execute(statement).all()]


def _free_tote(session: Session, tote: Location) -> str | None:
    """Why a tote is not free, or None when it is (empty, and in no open job)."""
    held = session.execute(select(func.coalesce(func.sum(StockLevel.on_hand), 0))
                           .where(StockLevel.location_id == tote.id)).scalar() or 0
    if held:
        return f"tote {tote.code} is not empty ({held} unit(s) in it)"
    busy = session.execute(
        select(PickTote.job_id).join(PickJob, PickJob.id == PickTote.job_id)
        .where(PickTote.tote_location_id == tote.id, PickJob.status.in_([str(s) for s in OPEN_PICK_STATUSES]))
        .limit(1)
    ).scalar()
    if busy is not None:
        return f"tote {tote.code} is in open pick job {busy}"
    return None


def _lock_location(session: Session, location_id: int) -> Location:
    return session.scalars(select(Location).where(Location.id == location_id).with_for_update()
                           .execution_options(populate_existing=True)).one()


def _take_totes(session: Session, warehouse_id: int, count: int, given: Sequence[str] | None) -> list[Location]:
    """`count` free totes: the ones given (checked, locked), or free ones by code."""
    if given is not None:
        if len(given) != count:
            raise ValidationFailed(f"give one tote per order: {count} tote(s), not {len(given)}", field="totes")
        totes = []
        for text in given:
            tote = find_location(session, warehouse_id, bounds.scan(text if isinstance(text, str) else "", "totes"),
                                 field="totes")
            if tote.type != LocationType.TOTE:
                raise ValidationFailed(f"{tote.code} is a {tote.type} location, not a tote", field="totes")
            if any(t.id == tote.id for t in totes):
                raise ValidationFailed(f"tote {tote.code} is given twice", field="totes")
            tote = _lock_location(session, tote.id)
            why = _free_tote(session, tote)
            if why:
                raise Conflict(why, code="tote_in_use", field="totes")
            totes.append(tote)
        return totes
    candidates = session.scalars(
        select(Location.id).where(Location.warehouse_id == warehouse_id, Location.type == LocationType.TOTE,
                                  Location.active).order_by(Location.code)
    ).all()
    totes = []
    for tote_id in candidates:
        if len(totes) == count:
            break
        tote = _lock_location(session, tote_id)
        if _free_tote(session, tote) is None:
            totes.append(tote)
    if len(totes) < count:
        site = session.get(Warehouse, warehouse_id)
        raise Conflict(f"{count} tote(s) needed, only {len(totes)} free in {site.code if site else 'the warehouse'}: "
                       "add totes (locations of type tote) or empty one", code="no_free_tote", field="totes")
    return totes


# ---- creating jobs ------------------------------------------------------------------------------


def _orders_by_number(session: Session, numbers) -> list[Order]:
    if not isinstance(numbers, (list, tuple)) or not numbers:
        raise ValidationFailed("give the order numbers to pick", field="orders")
    cleaned = []
    for number in numbers:
        text = bounds.scan(number if isinstance(number, str) else "", "orders", label="order number")
        if not text:
            raise ValidationFailed("an order number is blank", field="orders")
        if text in cleaned:
            raise ValidationFailed(f"order {shown(text)} is given twice", field="orders")
        cleaned.append(text)
    orders = {}
    for text in sorted(cleaned):  # locked in one order: two releases never wait on each other in a circle
        order = mirror.lock_existing(session, text)
        if order is None:
            raise NotFound(f"no order {shown(text)}", field="orders")
        orders[text] = order
    return [orders[text] for text in cleaned]


def not_pickable(order: Order) -> str | None:
    """Why an order cannot go into a pick job, or None."""
    if order.route != "WMS":
        return f"order {order.order_number} is routed STARSHIPIT: Starshipit picks it"
    if order.status != OrderStatus.ALLOCATED:
        return (f"order {order.order_number} is {order.status}: only a fully ALLOCATED order can be picked"
                + (" (it is in a pick job already)" if order.status == OrderStatus.PICKING else ""))
    return None


def create_pick_job(session: Session, orders, mode: str = PickMode.SINGLE, totes=None, *,
                    user_id: int | None = None) -> dict:
    """A pick job over these orders (see the module's docstring); the job as `job_view` shows it."""
    if mode not in MODES:
        raise ValidationFailed(f"mode must be one of {', '.join(MODES)}", field="mode")
    if mode == PickMode.SINGLE and isinstance(orders, (list, tuple)) and len(orders) != 1:
        raise ValidationFailed("a single pick job takes one order: use mode batch for more", field="orders")
    if isinstance(orders, (list, tuple)) and len(orders) > bounds.MAX_BATCH_ORDERS:
        raise ValidationFailed(f"a batch takes at most {bounds.MAX_BATCH_ORDERS} orders", field="orders")
    if totes is not None and not isinstance(totes, (list, tuple)):
        raise ValidationFailed("totes must be a list of tote codes", field="totes")
    found = _orders_by_number(session, orders)
    for order in found:
        why = not_pickable(order)
        if why:
            raise Conflict(why, code="not_allocated", field="orders")
    warehouses = {order.warehouse_id for order in found}
    if len(warehouses) > 1:
        raise Conflict("the orders are in different warehouses: one pick job walks one warehouse",
                       code="mixed_warehouses", field="orders")
    warehouse_id = warehouses.pop()
    chosen = _take_totes(session, warehouse_id, len(found), list(totes) if totes is not None else None)
    job = PickJob(warehouse_id=warehouse_id, mode=mode, status=PickJobStatus.OPEN, created_by=user_id)
    session.add(job)
    session.flush()
    legs = []
    for position, (order, tote) in enumerate(zip(found, chosen), start=1):
        session.add(PickTote(job_id=job.id, tote_location_id=tote.id, order_id=order.id, position=position))
        mine = _unpicked_legs(session, order, tote.id, position)
        if not mine:
            raise Conflict(f"order {order.order_number} has nothing left to pick", code="not_allocated", field="orders")
        legs.extend(mine)
        order.status = OrderStatus.PICKING
        order.updated_at = utcnow()
        mirror.note(session, order, "picking", f"pick job {job.id}: picking into tote {tote.code}")
    for sequence, leg in enumerate(plan_stops(legs), start=1):
        session.add(_stop_of(job.id, leg, sequence))
    session.flush()
    return job_view(session, job)


def _stop_of(job_id: int, leg: Leg, sequence: int) -> PickStop:
    return PickStop(job_id=job_id, sequence=sequence, location_id=leg.location_id, product_id=leg.product_id,
                    order_id=leg.order_id, order_line_id=leg.order_line_id, tote_location_id=leg.tote_id,
                    quantity=leg.quantity)


def _unpicked_legs(session: Session, order: Order, tote_id: int, position: int) -> list[Leg]:
    lines = {line.id: line for line in mirror.lines_of(session, order)}
    held = [a for a in mirror.open_allocations(session, list(lines)) if not a.picked]
    places = {loc.id: loc for loc in session.scalars(
        select(Location).where(Location.id.in_(sorted({a.location_id for a in held}))))} if held else {}
    return [Leg(a.location_id, places[a.location_id].code, places[a.location_id].pick_sequence, a.product_id,
                lines[a.order_line_id].sku, order.id, a.order_line_id, tote_id, position, a.quantity)
            for a in held]


def releasable(session: Session, *, warehouse: str | None = None, rule: str | None = None, carrier: str | None = None,
               older_than_minutes=None, limit=None, lock: bool = False) -> list[Order]:
    """ALLOCATED WMS orders of a warehouse, oldest first, by filter: `rule` the routing rule's name
    that chose the order, `carrier` part of its carrier name, `older_than_minutes` allocated (last
    changed) at least that long ago."""
    site = get_warehouse(session, warehouse)
    limit = bounds.whole(limit, "limit", minimum=1, maximum=bounds.MAX_RELEASE_ORDERS) if limit not in (None, "") \
        else bounds.MAX_RELEASE_ORDERS
    statement = select(Order).where(Order.warehouse_id == site.id, Order.route == "WMS",
                                    Order.status == OrderStatus.ALLOCATED)
    rule = bounds.text(rule, "rule", max_length=bounds.ROUTING_RULE_NAME_MAX, required=False) if rule else None
    if rule:
        statement = statement.where(Order.routing_rule_name == rule)
    carrier = bounds.text(carrier, "carrier", max_length=bounds.SEARCH_MAX, required=False) if carrier else None
    if carrier:
        statement = statement.where(func.lower(Order.carrier_name).contains(carrier.lower(), autoescape=True))
    if older_than_minutes not in (None, ""):
        minutes = bounds.whole(older_than_minutes, "older_than_minutes", minimum=0,
                               maximum=bounds.MAX_ORDER_AGE_MINUTES, label="age in minutes")
        statement = statement.where(Order.updated_at <= utcnow() - timedelta(minutes=minutes))
    statement = statement.order_by(Order.created_at, Order.id).limit(limit)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return list(session.scalars(statement))


def release_pick_jobs(session: Session, *, warehouse: str | None = None, rule: str | None = None,
                      carrier: str | None = None, older_than_minutes=None, mode: str = PickMode.BATCH,
                      batch_size=DEFAULT_BATCH, limit=None, user_id: int | None = None) -> dict:
    """A manager's release: the orders `releasable` finds, as single-order jobs or batches of up to
    `batch_size`, each into free totes. {jobs: [job_view], released, left, why_left}."""
    if mode not in MODES:
        raise ValidationFailed(f"mode must be one of {', '.join(MODES)}", field="mode")
    size = 1 if mode == PickMode.SINGLE else bounds.whole(batch_size, "batch_size", minimum=1,
                                                         maximum=bounds.MAX_BATCH_ORDERS, label="orders per batch")
    orders = releasable(session, warehouse=warehouse, rule=rule, carrier=carrier,
                        older_than_minutes=older_than_minutes, limit=limit, lock=True)
    if not orders:
        raise Conflict("no allocated order matches: nothing to release", code="nothing_to_release")
    jobs, left, why = [], 0, None
    groups = batches([order.order_number for order in orders], size)
    for index, group in enumerate(groups):
        site_totes = _count_free_totes(session, orders[0].warehouse_id)
        if site_totes < len(group):
            left = sum(len(g) for g in groups[index:])
            why = f"only {site_totes} free tote(s) left for the next {len(group)} order(s)"
            break
        jobs.append(create_pick_job(session, group, mode, user_id=user_id))
    if not jobs:
        raise Conflict(f"no pick job released: {why}; add totes (locations of type tote) or empty some",
                       code="no_free_tote")
    return {"jobs": jobs, "released": sum(len(j["orders"]) for j in jobs), "left": left, "why_left": why}


def _count_free_totes(session: Session, warehouse_id: int) -> int:
    totes = session.scalars(select(Location).where(Location.warehouse_id == warehouse_id,
                                                   Location.type == LocationType.TOTE, Location.active)).all()
    return sum(1 for tote in totes if _free_tote(session, tote) is None)


# ---- reading jobs -------------------------------------------------------------------------------


def _walk(session: Session, job_id: int, *, fresh: bool = False) -> list[tuple]:
    """Every stop of a job in walk order, with what the pages show of it:
    [(stop, location code, sku, product name, tote code, order number)]. `fresh`: the stops as the
    database has them now (under the job's lock), not as the session last saw them."""
    return session.execute(_walk_of_job(), {"job": job_id},
                           execution_options={"populate_existing": True} if fresh else {}).all()


@cache
def _walk_of_job():
    """`_walk`'s statement (parameter: job), built once: each pick reads its job's walk."""
    tote = aliased(Location)
    return (
        select(PickStop, Location.code, Product.sku, Product.name, tote.code, Order.order_number)
        .join(Location, Location.id == PickStop.location_id)
        .join(Product, Product.id == PickStop.product_id)
        .join(tote, tote.id == PickStop.tote_location_id)
        .join(Order, Order.id == PickStop.order_id)
        .where(PickStop.job_id == bindparam("job")).order_by(PickStop.sequence, PickStop.id)
    )


def _stop_rows(walk: Iterable[tuple]) -> list[dict]:
    return [{
        "id": s.id, "sequence": s.sequence, "location": code, "sku": sku, "name": name, "quantity": s.quantity,
        "picked": s.picked, "short": s.short, "tote": tote_code, "order_number": number,
        "done": s.picked >= s.quantity,
    } for s, code, sku, name, tote_code, number in walk]


def job_view(session: Session, job: PickJob) -> dict:
    """A job as the API and the pages show it: its totes (one order each) and its stops in walk
    order, each with what it asks, what was picked and what was short."""
    stops = _walk(session, job.id)
    totes = _totes_of(session, [job.id])[job.id]
    site = session.get(Warehouse, job.warehouse_id)
    picker = session.get(User, job.picker_id) if job.picker_id else None
    stop_rows = _stop_rows(stops)
    return {
        "id": job.id,
        "status": job.status,
        "mode": job.mode,
        "warehouse": site.code if site else None,
        "picker": picker.username if picker else None,
        "created_at": isoformat(mirror.aware(job.created_at)),
        "orders": [number for _t, _c, number, _s in totes],
        "totes": [{"tote": code, "order_number": number, "order_status": status, "position": t.position,
                   "scanned": t.scanned_at is not None} for t, code, number, status in totes],
        "stops": stop_rows,
        "next_stop": next((s for s in stop_rows if not s["done"]), None),
    }


def _totes_of(session: Session, job_ids: list[int]) -> dict[int, list[tuple]]:
    """Each job's totes in their order: {job id: [(PickTote, tote code, order number, order status)]}."""
    totes: dict[int, list[tuple]] = {job_id: [] for job_id in job_ids}
    if job_ids:
        for tote, code, number, status in session.execute(
            select(PickTote, Location.code, Order.order_number, Order.status)
            .join(Location, Location.id == PickTote.tote_location_id).join(Order, Order.id == PickTote.order_id)
            .where(PickTote.job_id.in_(job_ids)).order_by(PickTote.job_id, PickTote.position)
        ):
            totes[tote.job_id].append((tote, code, number, status))
    return totes


def get_pick_job(session: Session, job_id) -> dict:
    return job_view(session, _job(session, job_id))


def list_jobs(session: Session, *, warehouse: str | None = None, open_only: bool = True) -> list[dict]:
    """A warehouse's pick jobs, open ones (oldest first) or the latest of every status, as the job
    list shows them: {id, status, mode, picker, orders, totes, stops_left}. Read for the whole list
    at once (four statements, however many jobs): a view per job made 800 statements and 2.5 s of a
    picker's wait for a list of 200 (bench/outbound.py)."""
    site = get_warehouse(session, warehouse)
    statement = (
        select(PickJob.id, PickJob.status, PickJob.mode, User.username)
        .outerjoin(User, User.id == PickJob.picker_id)
        .where(PickJob.warehouse_id == site.id)
    )
    if open_only:
        statement = statement.where(PickJob.status.in_([str(s) for s in OPEN_PICK_STATUSES])).order_by(PickJob.id)
    else:
        statement = statement.order_by(PickJob.id.desc())
    jobs = session.execute(statement.limit(bounds.MAX_PICK_JOB_LIST)).all()
    ids = [job_id for job_id, *_ in jobs]
    totes = _totes_of(session, ids)
    left: dict[int, int] = {}
    if ids:
        left = dict(session.execute(
            select(PickStop.job_id, func.count())
            .where(PickStop.job_id.in_(ids), PickStop.picked < PickStop.quantity).group_by(PickStop.job_id)
        ).all())
    return [{
        "id": job_id, "status": status, "mode": mode, "picker": picker,
        "orders": [number for _t, _code, number, _s in totes[job_id]],
        "totes": [{"tote": code, "order_number": number} for _t, code, number, _s in totes[job_id]],
        "stops_left": left.get(job_id, 0),
    } for job_id, status, mode, picker in jobs]


def take_job(session: Session, job_id, user_id: int | None) -> dict:
    """A picker takes a job: it is theirs and picking."""
    job = _job(session, job_id, lock=True)
    _require_open(job)
    if job.picker_id and user_id and job.picker_id != user_id and job.status == PickJobStatus.PICKING:
        owner = session.get(User, job.picker_id)
        raise Conflict(f"pick job {job.id} is being picked by {owner.username if owner else 'someone else'}",
                       code="job_taken", field="job")
    _start(job, user_id)
    session.flush()
    return job_view(session, job)


def _start(job: PickJob, user_id: int | None) -> None:
    if job.status == PickJobStatus.OPEN:
        job.status = PickJobStatus.PICKING
        job.started_at = utcnow()
    if job.picker_id is None and user_id:
        job.picker_id = user_id


def confirm_tote(session: Session, job_id, tote, user_id: int | None = None) -> dict:
    """The picker scanned a tote's label at the start: it must be one of the job's totes
    (409 wrong_tote otherwise)."""
    job = _job(session, job_id, lock=True)
    _require_open(job)
    place, scanned = _scanned_location(session, job.warehouse_id, tote, "tote")
    link = session.scalars(select(PickTote).where(PickTote.job_id == job.id,
                                                  PickTote.tote_location_id == (place.id if place else -1))).first()
    if link is None:
        codes = session.scalars(select(Location.code).join(PickTote, PickTote.tote_location_id == Location.id)
                                .where(PickTote.job_id == job.id).order_by(PickTote.position)).all()
        raise Conflict(f"{shown(scanned)} is not a tote of pick job {job.id}: scan {', '.join(codes)}",
                       code="wrong_tote", field="tote")
    if link.scanned_at is None:
        link.scanned_at = utcnow()
    _start(job, user_id)
    session.flush()
    return job_view(session, job)


# ---- picking ------------------------------------------------------------------------------------


def record_pick(session: Session, job_id, *, location, sku, quantity, tote, user_id: int | None = None,
                client_id: str | None = None) -> dict:
    """One pick (see the module's docstring): {job_id, status, order_number, order_status, picked,
    stop, next_stop, stops (the job's walk after the pick, as `job_view` shows it)}.

    The job's stops are read once, under the locks: the order to lock is the one the scanned tote
    is for (a job's tote holds one order, and its stops are that order's), so the order row and
    then the job row are locked before anything is read that the pick relies on. client_id: the
    phone's id of the scan (X-Client-Id), applied once."""
    claim(session, client_id, "pick", user_id=user_id)
    scan = _read_pick_scan(session, job_id, location, sku, quantity, tote)
    order = scan.order
    job = _job(session, scan.job.id, lock=True)  # the order, then the job
    _require_open(job)
    walk = _walk(session, job.id, fresh=True)
    stop_view = match_stop([StopView(s.id, s.sequence, s.location_id, code, s.product_id, sku_, s.tote_location_id,
                                     tote_code, s.order_id, s.quantity - s.picked)
                            for s, code, sku_, _name, tote_code, _number in walk], scan.seen, scan.units)[0]
    if stop_view.order_id != order.id:  # a tote holds one order: its stops are that order's
        raise Conflict(f"tote {stop_view.tote_code} of pick job {job.id} is not for order {order.order_number}: "
                       "scan again", code="wrong_tote", field="tote")
    stop = next(s for s, *_rest in walk if s.id == stop_view.id)
    _move_to_tote(session, order, stop, stop_view.sku, scan.place, scan.tote, scan.units, user_id)
    stop.picked += scan.units
    _start(job, user_id)
    session.flush()
    stops = _stop_rows(walk)
    if not any(row["order_number"] == order.order_number and not row["done"] for row in stops):
        _settle_order(session, order)  # an open stop of the order is left: it is not picked yet, nor short
    if all(row["done"] for row in stops) and job.status in OPEN_PICK_STATUSES:
        job.status = PickJobStatus.DONE
        job.finished_at = utcnow()
        session.flush()
    return {"job_id": job.id, "status": job.status, "order_number": order.order_number, "order_status": order.status,
            "picked": scan.units, "stop": next(row for row in stops if row["id"] == stop.id),
            "next_stop": next((row for row in stops if not row["done"]), None), "stops": stops}


@dataclass(frozen=True)
class _PickScan:
    """A pick scan read: the order of the scanned tote (its row locked), the job (not locked yet),
    the location and tote scanned (the location None when it names none), the units, the scans."""

    order: Order
    job: PickJob
    place: Location | None
    tote: Location
    units: int
    seen: Scanned


def _read_pick_scan(session: Session, job_id, location, sku, quantity, tote) -> _PickScan:
    """A pick's scans read in one statement (`_tote_of_job_scanned`): pick scans are the floor's
    busiest writes (bench/outbound.py), and reading the job, the location, the product, the tote
    and its order in turn cost four more round trips. A scan that cannot be read that way (a
    blank or unreadable field, a tote that is not the job's) goes through `_read_pick_scan_in_turn`,
    which says what is wrong in words."""
    try:
        number = _job_number(job_id)
        units = bounds.quantity(scans.count_of(sku, "sku") or quantity, "quantity")
        texts = {field: bounds.scan(text if isinstance(text, str) else "", field)
                 for field, text in (("location", location), ("sku", sku), ("tote", tote))}
        with_gtin, product_values = scan_values(texts["sku"])
    except WmsError:
        texts = {}
    found = None
    if texts and all(texts.values()):
        found = session.execute(_tote_of_job_scanned(with_gtin), {
            "job": number, **product_values, **location_scan_values("location", texts["location"]),
            **location_scan_values("tote", texts["tote"])}).first()
    if found is None:
        return _read_pick_scan_in_turn(session, job_id, location, sku, quantity, tote)
    order, job, bin_, place, product = found
    _require_open(job)
    if place is not None:
        usable_location(place, texts["location"], "location")
    usable_location(bin_, texts["tote"], "tote")
    seen = Scanned(place.id if place else None, texts["location"], product.id if product else None, texts["sku"],
                   bin_.id, texts["tote"])
    return _PickScan(order, job, place, bin_, units, seen)


@cache
def _tote_of_job_scanned(with_gtin: bool):
    """The order a job's scanned tote holds (its row locked: orders are locked before their job),
    the job, the tote, and the location and product scanned (None when a scan names none); no row
    when the tote scan names none of the job's totes. Parameters: job, `location_scan_values` of
    "location" and "tote", `scan_values` of the product. Built once."""
    tote, place = aliased(Location), aliased(Location)
    # The job's warehouse as a subquery of its own (not correlated): each scan is looked up once.
    site = select(PickJob.warehouse_id).where(PickJob.id == bindparam("job")).correlate(None).scalar_subquery()
    return (
        select(Order, PickJob, tote, place, Product)
        .select_from(PickTote)
        .join(PickJob, PickJob.id == PickTote.job_id)
        .join(Order, Order.id == PickTote.order_id)
        .join(tote, tote.id == PickTote.tote_location_id)
        .outerjoin(place, place.id == location_id_by_scan("location", site))
        .outerjoin(Product, Product.id == product_id_by_scan(with_gtin))
        .where(PickTote.job_id == bindparam("job"), PickTote.tote_location_id == location_id_by_scan("tote", site))
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )


def _read_pick_scan_in_turn(session: Session, job_id, location, sku, quantity, tote) -> _PickScan:
    """`_read_pick_scan` one check at a time, each refusal in words: the job, the quantity, each scan,
    then the stop the scans name (match_stop refuses a tote that is not the job's)."""
    job = _job(session, job_id)
    _require_open(job)
    units = bounds.quantity(scans.count_of(sku, "sku") or quantity, "quantity")
    place, scanned = _scanned_location(session, job.warehouse_id, location, "location")
    product, sku_text = _scanned_product(session, sku)
    bin_, tote_text = _scanned_location(session, job.warehouse_id, tote, "tote")
    seen = Scanned(place.id if place else None, scanned, product.id if product else None, sku_text,
                   bin_.id if bin_ else None, tote_text)
    order = _lock_order_of_tote(session, job.id, bin_.id) if bin_ else None
    if order is None:  # not a tote of this job: match_stop says what is wrong in words
        stop_view = match_stop(_stop_views(session, job.id), seen, units)[0]
        order = _lock_order_ids(session, [stop_view.order_id])[stop_view.order_id]
    return _PickScan(order, job, place, bin_, units, seen)


def _lock_order_of_tote(session: Session, job_id: int, tote_id: int) -> Order | None:
    """The order a job's tote is for, its row locked; None when the tote is not the job's."""
    held = select(PickTote.order_id).where(PickTote.job_id == job_id, PickTote.tote_location_id == tote_id)
    return session.scalars(select(Order).where(Order.id == held.scalar_subquery()).with_for_update()
                           .execution_options(populate_existing=True)).first()


def _move_to_tote(session: Session, order: Order, stop: PickStop, sku: str, place: Location, tote: Location,
                  units: int, user_id: int | None) -> None:
    """Move `units` of the stop's order line from the location into the tote, carrying its
    allocation there, marked picked (written by the caller's flush)."""
    own = [a for a in mirror.open_allocations(session, [stop.order_line_id])
           if not a.picked and a.location_id == place.id]
    if sum(a.quantity for a in own) < units:
        raise Conflict(f"order {order.order_number} now holds only {sum(a.quantity for a in own)} x {sku} at "
                       f"{place.code}", code="over_pick", field="quantity")
    left = units
    for held in own:
        if left == 0:
            break
        take = min(left, held.quantity)
        posted = ledger.move(session, type=MovementType.PICK, product_id=stop.product_id, quantity=take,
                             from_location=place, to_location=tote, reference=order.order_number, user_id=user_id,
                             allocation=held)
        posted.carried.picked = True
        left -= take


def _line_progress(session: Session, order: Order) -> tuple[dict[int, int], dict[int, int], set[int]]:
    """(line id -> units still to ship, line id -> units picked, the ids of the places holding them)."""
    lines = mirror.lines_of(session, order)
    picked: dict[int, int] = {}
    places: set[int] = set()
    for held in mirror.open_allocations(session, [line.id for line in lines]):
        if held.picked:
            picked[held.order_line_id] = picked.get(held.order_line_id, 0) + held.quantity
            places.add(held.location_id)
    return {line.id: max(0, line.quantity - line.shipped_quantity) for line in lines}, picked, places


def _open_stops_of(session: Session, order_id: int) -> list[PickStop]:
    return list(session.scalars(
        select(PickStop).join(PickJob, PickJob.id == PickStop.job_id)
        .where(PickStop.order_id == order_id, PickStop.picked < PickStop.quantity,
               PickJob.status.in_([str(s) for s in OPEN_PICK_STATUSES]))
        .order_by(PickStop.job_id, PickStop.sequence).execution_options(populate_existing=True)
    ))


def _settle_order(session: Session, order: Order) -> None:
    """A PICKING order: PICKED when every line is picked; else, when no open stop is left for it,
    AWAITING_STOCK and allocated again for what is missing (the picked stock stays in its tote)."""
    if order.status != OrderStatus.PICKING:
        return
    needed, picked, places = _line_progress(session, order)
    if all(picked.get(line_id, 0) >= units for line_id, units in needed.items()):
        order.status = OrderStatus.PICKED
        order.updated_at = utcnow()
        mirror.note(session, order, "picking", f"picked: {sum(picked.values())} unit(s) in tote(s) "
                                               f"{', '.join(_tote_codes(session, places)) or '-'}")
        return
    if _open_stops_of(session, order.id):
        return
    missing = sum(max(0, units - picked.get(line_id, 0)) for line_id, units in needed.items())
    order.status = OrderStatus.AWAITING_STOCK
    order.updated_at = utcnow()
    mirror.note(session, order, "picking", f"picking ended {missing} unit(s) short; the picked stock stays in its "
                                           "tote and the rest is allocated when stock is free")
    allocation.allocate_order(session, order)


def _settle_job(session: Session, job: PickJob) -> None:
    if job.status not in OPEN_PICK_STATUSES:
        return
    left = session.execute(select(func.count()).select_from(PickStop)
                           .where(PickStop.job_id == job.id, PickStop.picked < PickStop.quantity)).scalar()
    if not left:
        job.status = PickJobStatus.DONE
        job.finished_at = utcnow()
        session.flush()


# ---- short picks and re-allocation --------------------------------------------------------------


def record_short(session: Session, job_id, *, location, sku, found, user_id: int | None = None,
                 client_id: str | None = None) -> dict:
    """The location holds less than the stops need (see the module's docstring). client_id: the
    phone's id of the scan (X-Client-Id), applied once."""
    claim(session, client_id, "short pick", user_id=user_id)
    job = _job(session, job_id)
    _require_open(job)
    found = bounds.count(found, "found", label="units found")
    place, scanned = _scanned_location(session, job.warehouse_id, location, "location")
    product, sku_text = _scanned_product(session, sku)
    seen = Scanned(place.id if place else None, scanned, product.id if product else None, sku_text)
    here = match_stop(_stop_views(session, job.id), seen, check_tote=False)

    orders = _lock_order_ids(session, [s.order_id for s in here])
    job = _job(session, job.id, lock=True)
    _require_open(job)
    here = match_stop(_stop_views(session, job.id, lock=True), seen, check_tote=False)
    wanted = sum(s.remaining for s in here)
    if found >= wanted:
        raise Conflict(f"{found} found at {place.code} covers the {wanted} this job still needs there: pick them",
                       code="not_short", field="found")
    key = (product.id, place.id)
    on_hand = ledger.lock(session, [key])[key].on_hand
    stops = {s.id: session.get(PickStop, s.id) for s in here}
    our_lines = [stops[s.id].order_line_id for s in here]
    held = [a for a in session.scalars(select(Allocation).where(
        Allocation.product_id == product.id, Allocation.location_id == place.id, Allocation.quantity > 0,
        Allocation.picked.is_(False)).order_by(Allocation.id))]
    ours = sorted((a for a in held if a.order_line_id in our_lines), key=lambda a: our_lines.index(a.order_line_id))
    others = [a for a in held if a.order_line_id not in our_lines]
    kept_ours, kept_others = split_found(found, [a.quantity for a in ours], [a.quantity for a in others])
    released: dict[int, int] = {}  # order line id -> units released here
    for held_allocation, keep in list(zip(ours, kept_ours)) + list(zip(others, kept_others)):
        if held_allocation.quantity > keep:
            line_id = held_allocation.order_line_id
            released[line_id] = released.get(line_id, 0) + ledger.release(
                session, held_allocation, held_allocation.quantity - keep)

    for line_id in released:  # the stops (of this job or another) give up what was released, the last first
        order_id = session.get(OrderLine, line_id).order_id
        for stop, cut in _trim_stops(session, order_id):
            if stop.location_id == place.id and stop.product_id == product.id:
                stop.short += cut
    session.flush()

    missing, discrepancy_id = max(0, on_hand - found), None
    if missing:  # the book is set to what was found; a manager sees the units that went missing
        movement = ledger.post(session, type=MovementType.COUNT, product_id=product.id, quantity=missing,
                               from_location=place, reason=SHORT_REASON, reference=f"pick job {job.id}", user_id=user_id,
                               to_location=virtual_location(session, job.warehouse_id, LocationType.COUNT))
        discrepancy_id = raise_discrepancy(
            session, sku=product.sku, product_id=product.id, warehouse_id=job.warehouse_id, quantity=missing,
            cause=SHORT_REASON, reference=f"pick job {job.id}", movement_id=movement.id,
            note=f"short pick: {found} x {product.sku} found at {place.code}, the book said {on_hand}; "
                 f"{missing} written off by count (pick job {job.id})").id

    reallocated, unfilled = [], []
    for line_id, units in released.items():
        line = session.get(OrderLine, line_id)
        order = orders.get(line.order_id) or _lock_order_ids(session, [line.order_id]).get(line.order_id)
        got, short = _cover_released(session, order, line, units, job)
        reallocated.extend(got)
        if short:
            unfilled.append({"order_number": order.order_number, "sku": line.sku, "quantity": short})
        mirror.note(session, order, "picking", f"short pick at {place.code}: {units} x {line.sku} released"
                    + (("; re-allocated " + ", ".join(f"{r['quantity']} at {r['location']}" for r in got)) if got else "")
                    + (f"; {short} not free anywhere" if short else ""))
    session.flush()
    for order in orders.values():
        _settle_order(session, order)
    _settle_job(session, job)
    view = job_view(session, job)
    return {"job_id": job.id, "status": job.status, "location": place.code, "sku": product.sku, "found": found,
            "written_off": missing, "discrepancy_id": discrepancy_id, "released": sum(released.values()),
            "reallocated": reallocated, "unfilled": unfilled, "next_stop": view["next_stop"]}


def _job_of_order(session: Session, order_id: int) -> tuple[PickJob, PickTote] | None:
    row = session.execute(
        select(PickJob, PickTote).join(PickTote, PickTote.job_id == PickJob.id)
        .where(PickTote.order_id == order_id, PickJob.status.in_([str(s) for s in OPEN_PICK_STATUSES]))
        .order_by(PickJob.id.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def in_open_job(session: Session, order_id: int) -> bool:
    """Whether an open pick job holds the order."""
    return _job_of_order(session, order_id) is not None


def _cover_released(session: Session, order: Order, line: OrderLine, units: int, job: PickJob) -> tuple[list, int]:
    """Allocate again what a short pick released from a line: into its pick job with new stops when
    the order is being picked, by allocation's own rule when it is not."""
    held = _job_of_order(session, order.id) if order.status == OrderStatus.PICKING else None
    if held is not None:
        other_job, link = held
        if other_job.id != job.id:
            other_job = _job(session, other_job.id, lock=True)
        return _cover(session, other_job, order, line, link, units)
    if allocation.refusal(order.route, order.status) is None:
        allocation.allocate_order(session, order)
        return [], 0
    return [], units


def _cover(session: Session, job: PickJob, order: Order, line: OrderLine, link: PickTote,
           units: int) -> tuple[list[dict], int]:
    """Allocate up to `units` of the line from free stock (allocation's candidate order) and add the
    stops to the job, into the order's tote, in sequence: (what was allocated where, units not found)."""
    if line.product_id is None or units <= 0:
        return [], max(0, units)
    candidates, locations = allocation._locked_candidates(session, order.warehouse_id, [line.product_id])
    mine = list(candidates.values())
    if allocation.ages_matter(mine, units):
        mine = allocation._aged(session, line.product_id, mine)
    got = []
    tote_code = session.get(Location, link.tote_location_id).code
    for candidate, quantity in allocation.plan(mine, units):
        ledger.allocate(session, product_id=line.product_id, location=locations[candidate.location_id],
                        quantity=quantity, reference=order.order_number, order_line_id=line.id)
        stop = session.scalars(select(PickStop).where(
            PickStop.job_id == job.id, PickStop.order_line_id == line.id, PickStop.location_id == candidate.location_id,
            PickStop.tote_location_id == link.tote_location_id)).first()
        if stop is None:
            session.add(PickStop(job_id=job.id, sequence=1, location_id=candidate.location_id,
                                 product_id=line.product_id, order_id=order.id, order_line_id=line.id,
                                 tote_location_id=link.tote_location_id, quantity=quantity))
        else:
            stop.quantity += quantity
        got.append({"location": candidate.code, "quantity": quantity, "tote": tote_code,
                    "order_number": order.order_number, "sku": line.sku})
    session.flush()
    if got:
        _resequence(session, job)
    return got, units - sum(g["quantity"] for g in got)


def _resequence(session: Session, job: PickJob) -> None:
    """Number the job's stops in walk order again (a stop was added)."""
    rows = session.execute(
        select(PickStop, Location.pick_sequence, Location.code, PickTote.position, Product.sku)
        .join(Location, Location.id == PickStop.location_id)
        .join(Product, Product.id == PickStop.product_id)
        .join(PickTote, (PickTote.job_id == PickStop.job_id) & (PickTote.order_id == PickStop.order_id))
        .where(PickStop.job_id == job.id)
    ).all()
    ordered_rows = sorted(rows, key=lambda r: (*walk_key(r[1], r[2], r[3], r[4]), r[0].id))
    for number, row in enumerate(ordered_rows, start=1):
        row[0].sequence = number
    session.flush()


# ---- an order that changes while it is picked ----------------------------------------------------


def _trim_stops(session: Session, order_id: int) -> list[tuple[PickStop, int]]:
    """Cut the order's open stops to what its unpicked allocations at their locations still hold
    (the last stops give up first): [(stop, units cut)]."""
    stops = _open_stops_of(session, order_id)
    if not stops:
        return []
    unpicked: dict[tuple[int, int], int] = {}
    for held in mirror.open_allocations(session, sorted({s.order_line_id for s in stops})):
        if not held.picked:
            key = (held.order_line_id, held.location_id)
            unpicked[key] = unpicked.get(key, 0) + held.quantity
    groups: dict[tuple[int, int], list[PickStop]] = {}
    for stop in stops:
        groups.setdefault((stop.order_line_id, stop.location_id), []).append(stop)
    cuts = []
    for key, group in groups.items():
        before = [s.quantity - s.picked for s in group]
        for stop, old, new in zip(group, before, trim(before, unpicked.get(key, 0))):
            if old > new:
                stop.quantity -= old - new
                cuts.append((stop, old - new))
    session.flush()
    return cuts


def reconcile_order(session: Session, order: Order) -> str | None:
    """After order_changed (lines applied, excess allocations released by mirror.update_order) or
    order_deleted of an order that open pick jobs hold; the order row is locked by the caller.
    Drops the unpicked part of stops that their allocation no longer covers, allocates what grown
    lines now need (new stops in the order's tote), settles the order and its jobs. Words for the
    order's timeline, or None when no open job holds the order."""
    stops = _open_stops_of(session, order.id)
    held_by = _job_of_order(session, order.id)
    if not stops and held_by is None:
        return None
    jobs = {job_id: _job(session, job_id, lock=True) for job_id in sorted({s.job_id for s in stops} |
                                                                           ({held_by[0].id} if held_by else set()))}
    lines = {line.id: line for line in mirror.lines_of(session, order)}
    dropped = sum(cut for _stop, cut in _trim_stops(session, order.id))
    words = [f"{dropped} unit(s) dropped from the pick" if dropped else "no stop dropped"]
    if order.status == OrderStatus.PICKING and held_by is not None:
        job, link = jobs[held_by[0].id], held_by[1]
        for line in lines.values():
            held = sum(a.quantity for a in mirror.open_allocations(session, [line.id]))
            grew = line.quantity - line.shipped_quantity - held
            if grew > 0:
                got, short = _cover(session, job, order, line, link, grew)
                if got:
                    words.append(f"{sum(g['quantity'] for g in got)} x {line.sku} more to pick "
                                 f"({', '.join(g['location'] for g in got)})")
                if short:
                    words.append(f"{short} x {line.sku} not free anywhere")
        _, picked, _ = _line_progress(session, order)
        extra = sum(max(0, picked.get(line.id, 0) - max(0, line.quantity - line.shipped_quantity))
                    for line in lines.values())
        if extra:
            words.append(f"{extra} picked unit(s) beyond the new quantities stay in tote(s) to return to stock")
        _settle_order(session, order)
    for job in jobs.values():
        _settle_job(session, job)
    return "; ".join(words)


# ---- totes and orders, for packing and the order API ---------------------------------------------


def totes_held(session: Session, order: Order) -> list[str]:
    """The codes of the totes holding the order's picked stock, or named for it by an open job."""
    lines = [line.id for line in mirror.lines_of(session, order)]
    places = {a.location_id for a in mirror.open_allocations(session, lines) if a.picked}
    places |= set(session.scalars(
        select(PickTote.tote_location_id).join(PickJob, PickJob.id == PickTote.job_id)
        .where(PickTote.order_id == order.id, PickJob.status.in_([str(s) for s in OPEN_PICK_STATUSES]))))
    return _tote_codes(session, places)


def _tote_codes(session: Session, location_ids: set[int]) -> list[str]:
    """The codes of those locations that are totes, sorted."""
    if not location_ids:
        return []
    return sorted(session.scalars(select(Location.code).where(Location.id.in_(sorted(location_ids)),
                                                              Location.type == LocationType.TOTE)))


def totes_of_order(session: Session, order_number: str) -> list[str]:
    order = mirror.find_order(session, order_number)
    return totes_held(session, order) if order is not None else []


def orders_in_tote(session: Session, tote: str, warehouse: str | None = None) -> list[str]:
    """The order numbers whose picked stock is in a tote (a packer scans it), or that an open job
    is picking into it."""
    site = get_warehouse(session, warehouse)
    place = find_location(session, site.id, tote, field="tote")
    if place.type != LocationType.TOTE:
        raise ValidationFailed(f"{place.code} is a {place.type} location, not a tote", field="tote")
    held = set(session.scalars(
        select(Order.order_number).join(OrderLine, OrderLine.order_id == Order.id)
        .join(Allocation, Allocation.order_line_id == OrderLine.id)
        .where(Allocation.location_id == place.id, Allocation.picked.is_(True), Allocation.quantity > 0)))
    held |= set(session.scalars(
        select(Order.order_number).join(PickTote, PickTote.order_id == Order.id)
        .join(PickJob, PickJob.id == PickTote.job_id)
        .where(PickTote.tote_location_id == place.id, PickJob.status.in_([str(s) for s in OPEN_PICK_STATUSES]))))
    return sorted(held)
