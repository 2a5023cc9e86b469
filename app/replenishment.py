"""Replenishment of pick faces: min/max rules, the tasks that refill a pick face from storage,
and the checks that create them.

How a task comes to be, without slowing or breaking the movement that calls for it:
1. After a transaction that moved stock commits, app.db hands this module's stock-moved
   listener the balances it left. The listener only looks them up in this process's copy of the
   rule minimums (reloaded every REPLENISHMENT_RULES_REFRESH_SECONDS, and at once after a rule
   is saved in this process), so a movement at a place without a rule costs a dict lookup.
2. A pick face left below its minimum wakes a check: with Redis, `SET <queue>:replenish:<p>:<l>
   NX EX` and, only for the caller that set the flag, an RQ job (jobs.replenishment
   .check_pick_face, enqueued by name); without Redis, the job runs now, in this process, after
   the commit. The job deletes the flag before it reads anything, so a movement committed after
   that wakes another check and none is lost (the argument of app.orders.inbox.wake).
3. The check re-reads the rule and the balance and, when the pick face is still below its
   minimum and has no open task, inserts one with INSERT ... ON CONFLICT DO NOTHING on the
   partial unique index of open tasks (one per product and pick face): checks racing in any
   number of processes create exactly one.

A rule saved in another process reaches this process's listener within the refresh interval;
saving a rule also checks that pick face at once, and a manager can check every pick face of a
warehouse on demand (jobs.replenishment.check_warehouse).

A task without stock in storage is not created (nobody could do it): the check says
"nothing_in_storage", and the next movement or check after stock arrives in storage creates it.
See app.replenishment_rules for quantities, sources ("oldest stock first") and partial
completions.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import and_, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app import bounds, db, ledger, scans, tasks
from app.catalog import find_product, get_product
from app.client_actions import claim
from app.db import driver_rows
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import (
    Location,
    LocationType,
    Movement,
    MovementType,
    Product,
    ReplenishmentRule,
    ReplenishmentTask,
    StockLevel,
    TaskStatus,
    Warehouse,
)
from app.replenishment_rules import (
    Arrival,
    Leg,
    Source,
    below_minimum,
    min_max,
    oldest_arrival,
    plan,
    quantity_to_fill,
    rest_after,
)
from app.timeutil import isoformat, utcnow
from app.warehouses import find_location, get_warehouse

CHECK_PICK_FACE = "jobs.replenishment.check_pick_face"
CHECK_WAREHOUSE = "jobs.replenishment.check_warehouse"
RULES_REFRESH_SECONDS = 5.0  # config REPLENISHMENT_RULES_REFRESH_SECONDS
WAKE_TTL = 60  # seconds; bounds how long a wake flag whose job was lost blocks the next one
STATUSES = tuple(str(status) for status in TaskStatus)
MAX_LIST = 1000
_CACHE = "wms.replenishment_rules"

# What a check found (jobs and the manager's check count them).
CREATED = "created"
ALREADY_OPEN = "already_open"
FULL_ENOUGH = "full_enough"
NOTHING_IN_STORAGE = "nothing_in_storage"
NO_RULE = "no_rule"


# ---- the listener ---------------------------------------------------------------------------


class _Minimums:
    """This process's copy of every rule's minimum, (product_id, location_id) -> minimum."""

    def __init__(self, refresh_seconds: float) -> None:
        self.refresh_seconds = refresh_seconds
        self.minimums: dict[tuple[int, int], int] = {}
        self.until = float("-inf")

    def current(self) -> dict[tuple[int, int], int]:
        now = time.monotonic()
        if now >= self.until:
            with db.reading() as session:
                rows = session.execute(
                    select(ReplenishmentRule.product_id, ReplenishmentRule.location_id, ReplenishmentRule.minimum)
                ).all()
            self.minimums = {(product_id, location_id): minimum for product_id, location_id, minimum in rows}
            self.until = now + self.refresh_seconds
        return self.minimums

    def forget(self) -> None:
        self.until = float("-inf")


def init_app(app) -> None:
    """Listen to every committed movement of this app (see the module's docstring)."""
    seconds = float(app.config.get("REPLENISHMENT_RULES_REFRESH_SECONDS", RULES_REFRESH_SECONDS))
    app.extensions[_CACHE] = _Minimums(seconds)
    db.on_stock_moved(app, _on_stock_moved)


def _on_stock_moved(balances: dict[tuple[int, int], int]) -> None:
    minimums = current_app.extensions[_CACHE].current()
    if not minimums:
        return
    for key, on_hand in balances.items():
        minimum = minimums.get(key)
        if minimum is not None and below_minimum(on_hand, minimum):
            wake_check(*key)


def rules_changed() -> None:
    """Rules were saved or removed in this process: its listener reloads them at the next movement."""
    cache = current_app.extensions.get(_CACHE)
    if cache is not None:
        cache.forget()


def _wake_key(queue, product_id: int, location_id: int) -> str:
    return f"{queue.name}:replenish:{product_id}:{location_id}"


def wake_check(product_id: int, location_id: int):
    """Make sure a check of this pick face runs after this moment: now (no Redis; its outcome),
    or an RQ job unless one is queued that has not started yet (the RQ job, or None)."""
    queue = tasks.queue()
    if queue is None:
        return tasks.enqueue(CHECK_PICK_FACE, product_id, location_id)
    key = _wake_key(queue, product_id, location_id)
    if not queue.connection.set(key, 1, nx=True, ex=WAKE_TTL):
        return None
    try:
        return tasks.enqueue(CHECK_PICK_FACE, product_id, location_id)
    except Exception:
        queue.connection.delete(key)  # so that the next movement tries again
        raise


def clear_wake(product_id: int, location_id: int) -> None:
    """A check starting: from now on the next movement below the minimum wakes another."""
    queue = tasks.queue()
    if queue is not None:
        queue.connection.delete(_wake_key(queue, product_id, location_id))


# ---- checks ---------------------------------------------------------------------------------


# A pick face's rule, balance and open task in one statement, straight to the driver (app.db
# .driver_rows): a check is on the path of every movement that leaves a pick face below its
# minimum when there is no Redis, and building the same query with SQLAlchemy cost most of it.
_STATE = (
    "SELECT r.minimum, r.maximum, l.warehouse_id, COALESCE(s.on_hand, 0), "
    f"(SELECT t.id FROM replenishment_task t WHERE t.product_id = r.product_id AND t.to_location_id = r.location_id "
    f"AND t.status = '{TaskStatus.OPEN}') "
    "FROM replenishment_rule r JOIN location l ON l.id = r.location_id "
    "LEFT JOIN stock_level s ON s.product_id = r.product_id AND s.location_id = r.location_id "
    "WHERE r.product_id = :product_id AND r.location_id = :location_id AND l.active"
)


def _state(session: Session, product_id: int, location_id: int):
    """(minimum, maximum, warehouse_id, on_hand, open task id) of a pick face, or None when it
    has no rule (or is inactive)."""
    rows = driver_rows(session.connection(), _STATE, {"product_id": product_id, "location_id": location_id})
    return rows[0] if rows else None


def _found(state) -> str | None:
    """What a check found without creating anything, or None when a task is to be created."""
    if state is None:
        return NO_RULE
    minimum, _maximum, _warehouse_id, on_hand, open_task = state
    if not below_minimum(on_hand, minimum):
        return FULL_ENOUGH
    return ALREADY_OPEN if open_task is not None else None


def run_check(product_id: int, location_id: int) -> str:
    """The check of one pick face, as its job runs it: a read first (the usual answer: it has its
    task already, or is full enough again), and a write transaction only to create the task."""
    with db.reading() as session:
        found = _found(_state(session, product_id, location_id))
    return found or db.atomic(check_pick_face, product_id, location_id)


def check_pick_face(session: Session, product_id: int, location_id: int) -> str:
    """Create the open task of a pick face below its minimum, unless it has one; what it found."""
    state = _state(session, product_id, location_id)
    found = _found(state)
    if found is not None:
        return found
    _minimum, maximum, warehouse_id, on_hand, _open = state
    legs = plan(storage_sources(session, warehouse_id, product_id), quantity_to_fill(on_hand, maximum))
    if not legs:
        return NOTHING_IN_STORAGE
    created = _insert_open_task(session, warehouse_id, product_id, location_id, legs)
    return CREATED if created is not None else ALREADY_OPEN


def _open_task_id(session: Session, product_id: int, location_id: int) -> int | None:
    return session.execute(
        select(ReplenishmentTask.id).where(ReplenishmentTask.product_id == product_id,
                                           ReplenishmentTask.to_location_id == location_id,
                                           ReplenishmentTask.status == TaskStatus.OPEN)
    ).scalar()


def _insert_open_task(session: Session, warehouse_id: int, product_id: int, location_id: int,
                      legs: list[Leg]) -> int | None:
    """The new open task's id, or None when the pick face has one already (another check won)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(ReplenishmentTask)
        .values(warehouse_id=warehouse_id, product_id=product_id, to_location_id=location_id,
                from_location_id=legs[0].source.location_id, quantity=sum(leg.quantity for leg in legs),
                status=str(TaskStatus.OPEN), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["product_id", "to_location_id"],
                                index_where=text("status = 'open'"))
        .returning(ReplenishmentTask.id)
    )
    return session.execute(statement).scalar()


def storage_sources(session: Session, warehouse_id: int, product_id: int) -> list[Source]:
    """The storage locations of the warehouse holding free stock of the product, each with the
    arrival of its oldest unit (app.replenishment_rules.oldest_arrival)."""
    held = session.execute(
        select(Location.id, Location.code, StockLevel.on_hand, StockLevel.allocated)
        .join(StockLevel, StockLevel.location_id == Location.id)
        .where(StockLevel.product_id == product_id, Location.warehouse_id == warehouse_id,
               Location.type == LocationType.STORAGE, Location.active, StockLevel.on_hand > StockLevel.allocated)
    ).all()
    return [Source(location_id, code, on_hand - allocated,
                   oldest_arrival(inbound_arrivals(session, product_id, location_id), on_hand))
            for location_id, code, on_hand, allocated in held]


INBOUND_PAGE = 50  # inbound movements read at a time, newest first: one page covers most balances


def inbound_arrivals(session: Session, product_id: int, location_id: int):
    """The movements of a product into a location, newest first, read a page at a time as the
    caller goes on (it stops once their total covers what the location holds): what
    `oldest_arrival` reads, here and in allocation's oldest-stock-first."""
    before = None
    while True:
        statement = (
            select(Movement.id, Movement.created_at, Movement.quantity)
            .where(Movement.product_id == product_id, Movement.to_location_id == location_id)
            .order_by(Movement.id.desc())
            .limit(INBOUND_PAGE)
        )
        if before is not None:
            statement = statement.where(Movement.id < before)
        rows = session.execute(statement).all()
        for row in rows:
            yield Arrival(*row)
        if len(rows) < INBOUND_PAGE:
            return
        before = rows[-1][0]


def inbound_arrivals_many(session: Session, keys: list[tuple[int, int]]) -> dict[tuple[int, int], list[Arrival]]:
    """The first page (INBOUND_PAGE, newest first) of `inbound_arrivals` for many (product_id,
    location_id) at once, in one statement; a key whose page is full may hold older ones (read on
    with `inbound_arrivals`)."""
    found: dict[tuple[int, int], list[Arrival]] = {key: [] for key in keys}
    if not keys:
        return found
    newest_first = func.row_number().over(partition_by=(Movement.product_id, Movement.to_location_id),
                                          order_by=Movement.id.desc()).label("n")
    ranked = db.where_pairs(
        session,
        select(Movement.product_id, Movement.to_location_id, Movement.id, Movement.created_at, Movement.quantity,
               newest_first),
        Movement.product_id, Movement.to_location_id, sorted(keys),
    ).subquery()
    rows = session.execute(
        select(ranked.c.product_id, ranked.c.to_location_id, ranked.c.id, ranked.c.created_at, ranked.c.quantity)
        .where(ranked.c.n <= INBOUND_PAGE)
        .order_by(ranked.c.product_id, ranked.c.to_location_id, ranked.c.id.desc())
    ).all()
    for product_id, location_id, movement_id, at, quantity in rows:
        found[(product_id, location_id)].append(Arrival(movement_id, at, quantity))
    return found


def pick_faces_below(session: Session, warehouse_id: int) -> tuple[int, list[tuple[int, int]]]:
    """How many rules the warehouse has, and the (product_id, location_id) of those below their minimum."""
    on_hand = func.coalesce(StockLevel.on_hand, 0)
    rows = session.execute(
        select(ReplenishmentRule.product_id, ReplenishmentRule.location_id, on_hand < ReplenishmentRule.minimum)
        .join(Location, Location.id == ReplenishmentRule.location_id)
        .outerjoin(StockLevel, and_(StockLevel.product_id == ReplenishmentRule.product_id,
                                    StockLevel.location_id == ReplenishmentRule.location_id))
        .where(Location.warehouse_id == warehouse_id, Location.active)
        .order_by(ReplenishmentRule.location_id, ReplenishmentRule.product_id)
    ).all()
    return len(rows), [(product_id, location_id) for product_id, location_id, below in rows if below]


def check_warehouse(warehouse_id: int) -> dict:
    """Check every pick face of a warehouse, each in its own transaction: what was found."""
    with db.reading() as session:
        rules, below = pick_faces_below(session, warehouse_id)
    found = Counter(run_check(product_id, location_id) for product_id, location_id in below)
    return {"pick_faces": rules, "below_minimum": len(below), "created": found[CREATED],
            "already_open": found[ALREADY_OPEN], "nothing_in_storage": found[NOTHING_IN_STORAGE]}


def start_check(warehouse_id: int) -> dict | None:
    """The manager's check of every pick face: its summary when it ran now (no Redis), None when
    a worker will run it."""
    outcome = tasks.enqueue(CHECK_WAREHOUSE, warehouse_id)
    return outcome if isinstance(outcome, dict) else None


# ---- rules ----------------------------------------------------------------------------------


@dataclass
class RuleSaved:
    rule: dict
    created: bool
    product_id: int
    location_id: int
    below_minimum: bool  # the pick face holds less than its (new) minimum


def _pick_face(session: Session, warehouse_id: int, scanned, field: str = "location") -> Location:
    place = find_location(session, warehouse_id, scanned, field=field)
    if place.type != LocationType.PICK:
        raise ValidationFailed(f"{place.code} is a {place.type} location; min and max are set on pick "
                               "locations (pick faces)", field=field)
    return place


def set_rule(session: Session, *, sku, location, min, max, warehouse=None) -> RuleSaved:  # min, max: the API's names
    """Set (create or change) the minimum and maximum of a product at a pick face."""
    minimum, maximum = min_max(min, max)
    site = get_warehouse(session, warehouse)
    product = get_product(session, sku)
    place = _pick_face(session, site.id, location)
    existing = session.execute(
        select(ReplenishmentRule.id).where(ReplenishmentRule.product_id == product.id,
                                           ReplenishmentRule.location_id == place.id)
    ).scalar()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    statement = insert(ReplenishmentRule).values(
        product_id=product.id, location_id=place.id, minimum=minimum, maximum=maximum, updated_at=now)
    session.execute(statement.on_conflict_do_update(
        index_elements=["product_id", "location_id"],
        set_={"minimum": minimum, "maximum": maximum, "updated_at": now},
    ))
    on_hand = session.execute(
        select(StockLevel.on_hand).where(StockLevel.product_id == product.id, StockLevel.location_id == place.id)
    ).scalar() or 0
    rule = {"sku": product.sku, "location": place.code, "warehouse": site.code, "min": minimum, "max": maximum}
    return RuleSaved(rule, existing is None, product.id, place.id, below_minimum(on_hand, minimum))


def save_rule(**request) -> RuleSaved:
    """set_rule in its own transaction; then, when the pick face holds less than its new minimum,
    a check at once (it calls for a task now, whether or not any stock moves)."""
    saved = db.atomic(set_rule, **request)
    rules_changed()
    if saved.below_minimum:
        wake_check(saved.product_id, saved.location_id)
    return saved


def remove_rule(session: Session, rule_id: int) -> dict:
    """Remove a rule; its pick face's open task is cancelled."""
    rule = session.get(ReplenishmentRule, rule_id)
    if rule is None:
        raise NotFound(f"no replenishment rule {rule_id}", field="rule")
    task_id = _open_task_id(session, rule.product_id, rule.location_id)
    if task_id is not None:
        task = session.get(ReplenishmentTask, task_id)
        task.status, task.done_at = TaskStatus.CANCELLED, utcnow()
    sku = session.get(Product, rule.product_id).sku
    code = session.get(Location, rule.location_id).code
    session.delete(rule)
    session.flush()
    return {"sku": sku, "location": code, "cancelled_task": task_id}


def list_rules(session: Session, warehouse_id: int, *, limit: int = 500, offset: int = 0) -> list[dict]:
    """A warehouse's rules by pick face, with what each holds and its open task."""
    on_hand = func.coalesce(StockLevel.on_hand, 0)
    statement = (
        select(ReplenishmentRule.id, Product.sku, Product.name, Location.code, ReplenishmentRule.minimum,
               ReplenishmentRule.maximum, on_hand, ReplenishmentTask.id, ReplenishmentTask.quantity)
        .join(Product, Product.id == ReplenishmentRule.product_id)
        .join(Location, Location.id == ReplenishmentRule.location_id)
        .outerjoin(StockLevel, and_(StockLevel.product_id == ReplenishmentRule.product_id,
                                    StockLevel.location_id == ReplenishmentRule.location_id))
        .outerjoin(ReplenishmentTask, and_(ReplenishmentTask.product_id == ReplenishmentRule.product_id,
                                           ReplenishmentTask.to_location_id == ReplenishmentRule.location_id,
                                           ReplenishmentTask.status == TaskStatus.OPEN))
        .where(Location.warehouse_id == warehouse_id)
        .order_by(Location.code, Product.sku)
        .limit(max(1, min(int(limit), MAX_LIST)))
        .offset(bounds.offset(offset))
    )
    return [
        {"id": rule_id, "sku": sku, "product_name": name, "location": code, "min": minimum, "max": maximum,
         "on_hand": held, "below_minimum": below_minimum(held, minimum), "open_task": task_id,
         "open_task_quantity": task_quantity}
        for rule_id, sku, name, code, minimum, maximum, held, task_id, task_quantity in session.execute(statement)
    ]


# ---- tasks ----------------------------------------------------------------------------------

_FROM = aliased(Location, name="from_location")
_TO = aliased(Location, name="to_location")


def clean_status(status) -> str | None:
    """A status filter as typed (any case); blank or "all" is every status."""
    return bounds.status_filter(status, "status", STATUSES)


def _task_rows():
    return (
        select(ReplenishmentTask, Product.sku, Product.name, _FROM.code, _TO.code, Warehouse.code)
        .join(Product, Product.id == ReplenishmentTask.product_id)
        .join(_TO, _TO.id == ReplenishmentTask.to_location_id)
        .join(Warehouse, Warehouse.id == ReplenishmentTask.warehouse_id)
        .outerjoin(_FROM, _FROM.id == ReplenishmentTask.from_location_id)
    )


def _task_dict(row) -> dict:
    task, sku, name, source, target, warehouse = row
    return {
        "id": task.id, "warehouse": warehouse, "sku": sku, "product_name": name, "from_location": source,
        "to_location": target, "quantity": task.quantity, "status": task.status,
        "created_at": isoformat(task.created_at), "done_at": isoformat(task.done_at),
    }


def list_tasks(session: Session, warehouse_id: int, *, status=TaskStatus.OPEN, limit: int = 100,
               offset: int = 0) -> list[dict]:
    """A warehouse's replenishment tasks, oldest first (done and cancelled ones newest first)."""
    status = clean_status(status)
    statement = _task_rows().where(ReplenishmentTask.warehouse_id == warehouse_id)
    if status:
        statement = statement.where(ReplenishmentTask.status == status)
    order = ReplenishmentTask.id if status == TaskStatus.OPEN else ReplenishmentTask.id.desc()
    statement = statement.order_by(order).limit(max(1, min(int(limit), MAX_LIST))).offset(bounds.offset(offset))
    return [_task_dict(row) for row in session.execute(statement)]


def _task_id(value) -> int:
    return bounds.row_id(value, "task")


def describe_task(session: Session, task_id) -> dict:
    """One task as a picker sees it (any status); an open one with where its stock is now, oldest first."""
    task_id = _task_id(task_id)
    row = session.execute(_task_rows().where(ReplenishmentTask.id == task_id)).first()
    if row is None:
        raise NotFound(f"no replenishment task {task_id}", field="task")
    described = _task_dict(row)
    described["legs"] = []
    task = row[0]
    if task.status == TaskStatus.OPEN:
        legs = plan(storage_sources(session, task.warehouse_id, task.product_id), task.quantity)
        described["legs"] = [
            {"location": leg.source.code, "quantity": leg.quantity,
             "since": isoformat(leg.source.oldest.at) if leg.source.oldest else None}
            for leg in legs
        ]
    return described


@dataclass
class Completed:
    task: dict
    movement_id: int
    to_on_hand: int
    remaining: dict | None = field(default=None)


def complete_task(session: Session, task_id, *, from_location=None, quantity=None, product=None, to_location=None,
                  user_id: int | None = None, client_id: str | None = None) -> Completed:
    """Move some (quantity) or all (None) of a task's stock from a location (its suggested
    source when None) to its pick face. product and to_location, when given (the picker's
    scans), must be the task's. A part done leaves the rest (up to the maximum as it stands
    after the move, and what storage holds) as a new open task. client_id: the phone's id of the
    scan (X-Client-Id), applied once."""
    claim(session, client_id, "replenishment", user_id=user_id)
    task_id = _task_id(task_id)
    task = session.execute(
        select(ReplenishmentTask).where(ReplenishmentTask.id == task_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar()
    if task is None:
        raise NotFound(f"no replenishment task {task_id}", field="task")
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"replenishment task {task.id} is already {task.status}", code="task_not_open", field="task")
    item = session.get(Product, task.product_id)
    pick_face = session.get(Location, task.to_location_id)
    if product is not None:
        scanned = find_product(session, product)
        if scanned.id != item.id:
            raise ValidationFailed(f"this task is for {item.sku}, not {scanned.sku}", field="product")
    if to_location is not None:
        scanned_place = find_location(session, task.warehouse_id, to_location, field="to_location")
        if scanned_place.id != pick_face.id:
            raise ValidationFailed(f"this task fills {pick_face.code}, not {scanned_place.code}", field="to_location")
    if from_location is None or (isinstance(from_location, str) and not from_location.strip()):
        if task.from_location_id is None:
            raise ValidationFailed("scan the location the stock comes from", field="from_location")
        source = session.get(Location, task.from_location_id)
    else:
        source = find_location(session, task.warehouse_id, from_location, field="from_location")
    if source.id == pick_face.id:
        raise ValidationFailed(f"{source.code} is the pick face this task fills: scan where the stock comes from",
                               field="from_location")
    if source.type == LocationType.QUARANTINE:
        raise ValidationFailed(f"{source.code} is a quarantine location: its stock cannot fill a pick face",
                               field="from_location")
    quantity = scans.count_of(product) or quantity
    quantity = task.quantity if quantity is None or quantity == "" else bounds.quantity(quantity)
    if quantity > task.quantity:
        raise Conflict(f"replenishment task {task.id} asks for {task.quantity:,}; {quantity:,} is more",
                       code="more_than_task", field="quantity")
    posting = ledger.move(
        session, type=MovementType.REPLENISHMENT, product_id=item.id, quantity=quantity, from_location=source,
        to_location=pick_face, reference=f"REPLENISH-{task.id}", user_id=user_id,
    )
    to_on_hand = posting.balances[pick_face.id].on_hand
    maximum = session.execute(
        select(ReplenishmentRule.maximum).where(ReplenishmentRule.product_id == item.id,
                                                ReplenishmentRule.location_id == pick_face.id)
    ).scalar()
    wanted = rest_after(task.quantity, quantity, to_on_hand, maximum)
    task.status, task.quantity, task.from_location_id = TaskStatus.DONE, quantity, source.id
    task.done_at, task.done_by, task.movement_id = utcnow(), user_id, posting.movement.id
    session.flush()
    remaining = None
    if wanted:
        legs = plan(storage_sources(session, task.warehouse_id, item.id), wanted)
        if legs:
            rest_id = _insert_open_task(session, task.warehouse_id, item.id, pick_face.id, legs)
            rest_id = rest_id or _open_task_id(session, item.id, pick_face.id)
            remaining = _task_dict(session.execute(_task_rows().where(ReplenishmentTask.id == rest_id)).one())
    done = _task_dict(session.execute(_task_rows().where(ReplenishmentTask.id == task.id)).one())
    return Completed(done, posting.movement.id, to_on_hand, remaining)
