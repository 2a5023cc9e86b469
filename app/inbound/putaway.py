"""Putaway: received stock taken from the receiving location to its place in the warehouse, and
picked stock an order no longer wants taken from its tote back to stock (return-to-stock tasks,
made by app.outbound.returns with the location it was picked from as the suggestion).

Every receipt line becomes an open task with a suggested location (app.inbound.putaway_rules
decides; this module gathers what the rules read). A picker completes a task by putting some or
all of it somewhere: the suggested location or another (recorded as put_location_id). A partial
putaway leaves the rest as a new open task (parent_id: the task it is the rest of).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app import bounds, ledger, scans
from app.catalog import find_product
from app.client_actions import claim
from app.errors import Conflict, NotFound, ValidationFailed
from app.inbound import putaway_rules as rules
from app.models import (
    Location,
    LocationType,
    MovementType,
    Product,
    PutawayTask,
    ReplenishmentRule,
    StockLevel,
    TaskStatus,
    Warehouse,
)
from app.timeutil import isoformat, utcnow
from app.warehouses import find_location, get_warehouse

STATUSES = tuple(str(status) for status in TaskStatus)
MAX_LIST = 500  # tasks on one page of the list


# ---- suggestions ---------------------------------------------------------------------------------


def suggest_location(
    session: Session, *, warehouse_id: int, product_id: int, quantity: int, from_location: Location
) -> rules.Suggestion | None:
    """Where `quantity` units of a product received at `from_location` should go (see
    app.inbound.putaway_rules). Shelves are looked up only when the pick face does not take it."""
    faces = _pick_faces(session, warehouse_id, product_id)
    return rules.suggest(
        quantity,
        pick_faces=faces,
        holding=_holding(session, warehouse_id, product_id),
        empty=_empty_shelves(session, warehouse_id, rules.product_zone(faces, from_location.zone)),
        received_zone=from_location.zone,
        exclude=[from_location.id],
    )


def _on_the_way(product_id: int):
    """Units of a product that open putaway tasks already take to each suggested location."""
    return (
        select(func.coalesce(func.sum(PutawayTask.quantity), 0))
        .where(
            PutawayTask.status == TaskStatus.OPEN,
            PutawayTask.product_id == product_id,
            PutawayTask.suggested_location_id == ReplenishmentRule.location_id,
        )
        .scalar_subquery()
    )


def _pick_faces(session: Session, warehouse_id: int, product_id: int) -> list[rules.PickFace]:
    rows = session.exec(
        select(
            Location.id, Location.code, Location.zone, Location.pick_sequence, ReplenishmentRule.maximum,
            func.coalesce(StockLevel.on_hand, 0), _on_the_way(product_id),
        )
        .join(Location, Location.id == ReplenishmentRule.location_id)
        .outerjoin(StockLevel, and_(StockLevel.product_id == ReplenishmentRule.product_id,
                                    StockLevel.location_id == ReplenishmentRule.location_id))
        .where(ReplenishmentRule.product_id == product_id, Location.warehouse_id == warehouse_id, Location.active)
    )
    return [
        rules.PickFace(location_id=i, code=c, zone=z, pick_sequence=s, maximum=m, on_hand=int(h), on_the_way=int(w))
        for i, c, z, s, m, h, w in rows
    ]


def _walk_order():
    return (Location.pick_sequence.is_(None), Location.pick_sequence, Location.code)


def _holding(session: Session, warehouse_id: int, product_id: int, limit: int = 5) -> Iterator[rules.Shelf]:
    """Storage locations holding the product, most first (a generator: queried when first read)."""
    rows = session.exec(
        select(Location.id, Location.code, Location.zone, Location.pick_sequence, StockLevel.on_hand)
        .join(StockLevel, StockLevel.location_id == Location.id)
        .where(
            StockLevel.product_id == product_id, StockLevel.on_hand > 0, Location.warehouse_id == warehouse_id,
            Location.type == LocationType.STORAGE, Location.active,
        )
        .order_by(StockLevel.on_hand.desc(), *_walk_order())
        .limit(limit)
    )
    for i, c, z, s, h in rows:
        yield rules.Shelf(location_id=i, code=c, zone=z, pick_sequence=s, on_hand=h)


def _empty_shelves(session: Session, warehouse_id: int, zone: str | None) -> Iterator[rules.Shelf]:
    """The first empty storage location in the zone, and the first anywhere (a generator)."""
    holds_stock = exists().where(StockLevel.location_id == Location.id, StockLevel.on_hand > 0)
    awaited = exists().where(PutawayTask.suggested_location_id == Location.id, PutawayTask.status == TaskStatus.OPEN)
    base = (
        select(Location.id, Location.code, Location.zone, Location.pick_sequence)
        .where(Location.warehouse_id == warehouse_id, Location.type == LocationType.STORAGE, Location.active,
               ~holds_stock, ~awaited)
        .order_by(*_walk_order())
        .limit(1)
    )
    for statement in ([base.where(Location.zone == zone)] if zone else []) + [base]:
        for i, c, z, s in session.exec(statement):
            yield rules.Shelf(location_id=i, code=c, zone=z, pick_sequence=s)


# ---- creating tasks ------------------------------------------------------------------------------


def create_task(
    session: Session,
    *,
    warehouse_id: int,
    product_id: int,
    quantity: int,
    from_location: Location,
    reference: str | None,
    receipt_line_id: int | None = None,
    parent_id: int | None = None,
    suggested: Location | None = None,
) -> PutawayTask:
    """An open task for stock at from_location, with its suggested place: `suggested` when given
    (stock returned from a tote goes back where it was picked, app.outbound.returns), else the
    putaway rules' suggestion."""
    suggestion = None if suggested is not None else suggest_location(
        session, warehouse_id=warehouse_id, product_id=product_id, quantity=quantity, from_location=from_location
    )
    task = PutawayTask(
        warehouse_id=warehouse_id,
        product_id=product_id,
        quantity=quantity,
        from_location_id=from_location.id,
        suggested_location_id=suggested.id if suggested is not None else (suggestion.location_id if suggestion else None),
        reference=reference,
        receipt_line_id=receipt_line_id,
        parent_id=parent_id,
    )
    session.add(task)
    session.flush()
    return task


def cancel_open_tasks(session: Session, receipt_line_ids: list[int]) -> list[int]:
    """Cancel the open tasks of these receipt lines (a receipt reversed); the ids cancelled."""
    if not receipt_line_ids:
        return []
    tasks = session.exec(
        select(PutawayTask)
        .where(PutawayTask.receipt_line_id.in_(receipt_line_ids), PutawayTask.status == TaskStatus.OPEN)
        .with_for_update()
    ).all()
    for task in tasks:
        task.status = TaskStatus.CANCELLED
    session.flush()
    return [task.id for task in tasks]


def put_away_already(session: Session, receipt_line_ids: list[int]) -> int:
    """Units of these receipt lines already put away (done tasks)."""
    if not receipt_line_ids:
        return 0
    return int(session.exec(
        select(func.coalesce(func.sum(PutawayTask.quantity), 0))
        .where(PutawayTask.receipt_line_id.in_(receipt_line_ids), PutawayTask.status == TaskStatus.DONE)
    ).one())


# ---- completing a task ---------------------------------------------------------------------------


@dataclass
class Completed:
    """A task done: what was put where, and the open task left for the rest, if any."""

    task: dict
    movement_id: int
    location: str
    quantity: int
    on_hand: int  # at the location put to, afterwards
    remaining: dict | None = None


def _task_id(value) -> int:
    return bounds.row_id(value, "task")


def complete(
    session: Session,
    task_id,
    *,
    location: str,
    quantity=None,
    from_location: str | None = None,
    product: str | None = None,
    user_id: int | None = None,
) -> Completed:
    """Put some (quantity) or all (quantity None) of a task's stock at `location` (a code or
    barcode). from_location and product, when given (the picker's scans), must be the task's."""
    task_id = _task_id(task_id)
    task = session.exec(
        select(PutawayTask).where(PutawayTask.id == task_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if task is None:
        raise NotFound(f"no putaway task {task_id}", field="task")
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"putaway task {task.id} is already {task.status}", code="task_not_open", field="task")
    quantity = scans.count_of(product) or quantity
    quantity = task.quantity if quantity in (None, "") else bounds.quantity(quantity)
    if quantity > task.quantity:
        raise Conflict(f"putaway task {task.id} holds {task.quantity:,}; {quantity:,} cannot be put away",
                       code="more_than_task", field="quantity")
    source = session.get(Location, task.from_location_id)
    item = session.get(Product, task.product_id)
    if from_location is not None:
        scanned = find_location(session, task.warehouse_id, from_location, field="from_location")
        if scanned.id != source.id:
            raise ValidationFailed(f"this task's stock is at {source.code}, not {scanned.code}", field="from_location")
    if product is not None:
        scanned_product = find_product(session, product)
        if scanned_product.id != item.id:
            raise ValidationFailed(f"this task is for {item.sku}, not {scanned_product.sku}", field="product")
    target = find_location(session, task.warehouse_id, location)
    if target.id == source.id:
        raise ValidationFailed(f"the stock is at {source.code} already: scan where it goes", field="location")
    if target.type == LocationType.QUARANTINE:
        raise ValidationFailed(f"{target.code} is a quarantine location: move stock there with Move stock and a "
                               "reason", field="location")
    posting = ledger.move(
        session, type=MovementType.PUTAWAY, product_id=item.id, quantity=quantity, from_location=source,
        to_location=target, reference=task.reference, user_id=user_id,
    )
    rest = task.quantity - quantity
    task.status, task.quantity, task.done_at, task.done_by = TaskStatus.DONE, quantity, utcnow(), user_id
    task.put_location_id, task.movement_id = target.id, posting.movement.id
    session.flush()
    remaining = None
    if rest:
        keep = source.type == LocationType.TOTE and task.suggested_location_id is not None  # a return keeps its place
        left = create_task(
            session, warehouse_id=task.warehouse_id, product_id=item.id, quantity=rest, from_location=source,
            reference=task.reference, receipt_line_id=task.receipt_line_id, parent_id=task.id,
            suggested=session.get(Location, task.suggested_location_id) if keep else None,
        )
        remaining = describe_tasks(session, [left.id])[0]
    return Completed(
        task=describe_tasks(session, [task.id])[0], movement_id=posting.movement.id, location=target.code,
        quantity=quantity, on_hand=posting.balances[target.id].on_hand, remaining=remaining,
    )


def find_open_task(session: Session, *, warehouse_id: int, from_location: str, product: str) -> int:
    """The oldest open task for a product at a location (what a picker scanned without choosing a
    task from the list)."""
    source = find_location(session, warehouse_id, from_location, field="from_location")
    item = find_product(session, product)
    task_id = session.exec(
        select(PutawayTask.id)
        .where(PutawayTask.warehouse_id == warehouse_id, PutawayTask.status == TaskStatus.OPEN,
               PutawayTask.from_location_id == source.id, PutawayTask.product_id == item.id)
        .order_by(PutawayTask.id)
    ).first()
    if task_id is None:
        raise NotFound(f"no open putaway task for {item.sku} at {source.code}", field="product")
    return task_id


def put_away(
    session: Session,
    *,
    warehouse: Warehouse | str | None = None,
    task=None,
    from_location,
    product,
    location,
    quantity=None,
    user_id: int | None = None,
    client_id: str | None = None,
) -> Completed:
    """What a picker scanned: the stock's location, the product, (a quantity) and where it went.
    The task is the one chosen from the list, else the oldest open one for that product there.
    client_id: the phone's id of the scan (X-Client-Id), applied once."""
    claim(session, client_id, "put away", user_id=user_id)
    if task in (None, ""):
        site = warehouse if isinstance(warehouse, Warehouse) else get_warehouse(session, warehouse)
        task = find_open_task(session, warehouse_id=site.id, from_location=from_location, product=product)
    return complete(session, task, location=location, quantity=quantity, from_location=from_location,
                    product=product, user_id=user_id)


# ---- listing -------------------------------------------------------------------------------------


_FROM = aliased(Location, name="source")
_SUGGESTED = aliased(Location, name="suggested")
_PUT = aliased(Location, name="put")


def _task_rows():
    return (
        select(PutawayTask, Product.sku, Product.name, _FROM.code, _SUGGESTED.code, _PUT.code, Warehouse.code)
        .join(Product, Product.id == PutawayTask.product_id)
        .join(_FROM, _FROM.id == PutawayTask.from_location_id)
        .join(Warehouse, Warehouse.id == PutawayTask.warehouse_id)
        .outerjoin(_SUGGESTED, _SUGGESTED.id == PutawayTask.suggested_location_id)
        .outerjoin(_PUT, _PUT.id == PutawayTask.put_location_id)
    )


def _as_dict(row) -> dict:
    task, sku, name, source, suggested, put, warehouse = row
    return {
        "id": task.id,
        "warehouse": warehouse,
        "sku": sku,
        "product_name": name,
        "quantity": task.quantity,
        "from_location": source,
        "suggested_location": suggested,
        "status": task.status,
        "reference": task.reference,
        "location": put,
        "parent_id": task.parent_id,
        "created_at": isoformat(task.created_at),
        "done_at": isoformat(task.done_at),
    }


def describe_tasks(session: Session, ids: list[int]) -> list[dict]:
    rows = session.exec(_task_rows().where(PutawayTask.id.in_(ids)).order_by(PutawayTask.id))
    return [_as_dict(row) for row in rows]


def clean_status(status) -> str | None:
    """A status filter as typed (any case); blank or "all" is every status."""
    return bounds.status_filter(status, "status", STATUSES)


def list_tasks(
    session: Session, *, warehouse: Warehouse | str | None = None, status: str | None = TaskStatus.OPEN,
    query: str | None = "", limit: int = 100, offset: int = 0,
) -> list[dict]:
    """A warehouse's putaway tasks (a Warehouse, a code, or None: the default one), oldest first,
    of one status (None: every one); `query` finds a SKU, product name, PO number (reference) or
    location code."""
    site = warehouse if isinstance(warehouse, Warehouse) else get_warehouse(session, warehouse)
    statement = _task_rows().where(PutawayTask.warehouse_id == site.id)
    status = clean_status(status)
    if status:
        statement = statement.where(PutawayTask.status == status)
    query = bounds.text(query, "q", max_length=bounds.SEARCH_MAX, required=False, label="search")
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"  # % and _ as typed
        statement = statement.where(or_(*(
            column.ilike(like, escape="\\")
            for column in (Product.sku, Product.name, PutawayTask.reference, _FROM.code, _SUGGESTED.code)
        )))
    limit = max(1, min(int(limit), MAX_LIST + 1))  # one more than a page: whether another follows
    rows = session.exec(statement.order_by(PutawayTask.id).limit(limit).offset(bounds.offset(offset)))
    return [_as_dict(row) for row in rows]


def open_task(session: Session, task_id) -> dict:
    """One task as shown to a picker (any status)."""
    task_id = _task_id(task_id)
    found = describe_tasks(session, [task_id])
    if not found:
        raise NotFound(f"no putaway task {task_id}", field="task")
    return found[0]
