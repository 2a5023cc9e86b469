"""Putaway tasks: received stock to take to its place."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from app import bounds, db
from app.api import bp, fields
from app.api.schemas import Answer, Body, LocationScan, Offset, Path, Query
from app.api.spec import operation
from app.inbound import putaway
from app.models import TaskStatus

TaskStatusName = Literal[tuple(str(s) for s in TaskStatus)]  # type: ignore[valid-type]


class TaskQuery(Query):
    warehouse: fields.lookup(description="warehouse code; the default warehouse when left out") = None
    status: fields.choice(putaway.STATUSES, description="one status, any case; every status when left out") = None
    q: fields.text(bounds.SEARCH_MAX, required=False,
                   description="part of a SKU, product name, PO number or location code") = None
    limit: fields.whole(fields.between(1, putaway.MAX_LIST), 1, putaway.MAX_LIST, description="how many, at most") = 100
    offset: Offset = 0


class TaskOut(Answer):
    id: int
    warehouse: str
    sku: str
    quantity: int
    from_location: str
    suggested_location: str | None = Field(description="where the rules suggest it goes; null when no place fits")
    status: TaskStatusName
    reference: str | None = Field(description="the purchase order number for received stock; \"return <order number>\" for picked stock an order no longer wants, waiting in a tote")
    location: str | None = Field(description="where it was put, once done")
    parent_id: int | None = Field(description="the task this one is the rest of, after a partial putaway")
    created_at: str
    done_at: str | None


class TaskList(Answer):
    items: list[TaskOut]
    next_offset: int | None = Field(description="pass as offset for the next page; null on the last page")


class TaskPath(Path):
    task_id: fields.row_id(description="putaway task id")


class CompleteIn(Body):
    location: LocationScan = Field(description="where the stock was put: the suggested location or another")
    quantity: fields.whole(bounds.quantity, 1, bounds.MAX_MOVEMENT, nullable=True,
                           description="units put away; all of the task when left out") = None


class RemainingTask(Answer):
    id: int
    quantity: int
    from_location: str
    suggested_location: str | None


class Completed(Answer):
    id: int
    status: TaskStatusName
    location: str
    quantity: int
    movement_id: int
    remaining_task: RemainingTask | None = Field(description="the open task left for the rest after a partial putaway")


@bp.get("/putaway-tasks")
@operation(query=TaskQuery, response=TaskList, errors=(404,), tag="putaway")
def putaway_tasks(query: TaskQuery):
    """A warehouse's putaway tasks, oldest first, of one status or all."""
    with db.reading() as session:
        items = putaway.list_tasks(session, warehouse=query.warehouse, status=query.status, query=query.q,
                                   limit=query.limit + 1, offset=query.offset)
    more = len(items) > query.limit
    return {"items": items[: query.limit], "next_offset": query.offset + query.limit if more else None}


@bp.post("/putaway-tasks/<task_id>/complete")
@operation(
    path=TaskPath,
    body=CompleteIn,
    response=Completed,
    errors=(404, 409),
    tag="putaway",
    rules={"location": "it is the location the stock is in already, or a quarantine location"},
)
def complete_putaway_task(task_id: int, body: CompleteIn):
    """Put a task's stock away at a location, all of it or some (quantity): a putaway movement
    with the PO number as reference. A partial putaway leaves the rest as a new open task. 409
    task_not_open when the task is done or cancelled; 409 more_than_task when quantity is more
    than it holds; 409 insufficient_stock when the stock is no longer where it was received."""
    done = db.atomic(putaway.complete, task_id, location=body.location, quantity=body.quantity)
    left = done.remaining
    return {
        "id": done.task["id"],
        "status": done.task["status"],
        "location": done.location,
        "quantity": done.quantity,
        "movement_id": done.movement_id,
        "remaining_task": None if left is None else {key: left[key] for key in
                                                     ("id", "quantity", "from_location", "suggested_location")},
    }
