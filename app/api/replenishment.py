"""Replenishment: min/max per pick face, and the tasks that fill pick faces from storage."""
from __future__ import annotations

from pydantic import Field

from app import bounds, db, replenishment
from app.api import bp, fields
from app.api.schemas import Answer, Body, OptionalWarehouse, Path, Query
from app.api.spec import operation
from app.warehouses import get_warehouse

Limit = fields.whole(fields.between(1, replenishment.MAX_LIST), 1, replenishment.MAX_LIST, description="how many, at most")
Offset = fields.whole(bounds.offset, 0, bounds.MAX_OFFSET, description="how many to skip")


class RuleIn(Body):
    sku: fields.lookup(description="SKU")
    location: fields.lookup(description="a pick location's code or barcode")
    min: fields.whole(lambda value, field: bounds.whole(value, field, minimum=0, maximum=bounds.MAX_BALANCE - 1),
                      0, bounds.MAX_BALANCE - 1, description="a task is created when on hand falls below this")
    max: fields.whole(lambda value, field: bounds.whole(value, field, minimum=1, maximum=bounds.MAX_BALANCE),
                      1, bounds.MAX_BALANCE, description="a task brings the pick face up to this; more than min")
    warehouse: OptionalWarehouse = None


class Rule(Answer):
    sku: str
    location: str
    warehouse: str
    min: int
    max: int


class RuleQuery(Query):
    warehouse: fields.lookup(nullable=True, description="warehouse code; the default warehouse when left out") = None
    limit: Limit = 500
    offset: Offset = 0


class RuleOut(Rule):
    on_hand: int
    below_minimum: bool
    open_task: int | None = Field(description="the id of the pick face's open task, if any")


class RuleList(Answer):
    items: list[RuleOut]
    next_offset: int | None = Field(description="pass as offset for the next page; null on the last page")


class TaskQuery(Query):
    warehouse: fields.lookup(nullable=True, description="warehouse code; the default warehouse when left out") = None
    status: fields.text(bounds.SEARCH_MAX, required=False, nullable=True,
                        description="open, done, cancelled or all, in any case; every status when left out") = None
    limit: Limit = 100
    offset: Offset = 0


class TaskOut(Answer):
    id: int
    sku: str
    from_location: str | None = Field(description="where the stock comes from: the suggested source while open")
    to_location: str = Field(description="the pick face")
    quantity: int
    status: str


class TaskList(Answer):
    items: list[TaskOut]
    next_offset: int | None = Field(description="pass as offset for the next page; null on the last page")


class TaskPath(Path):
    task_id: fields.row_id(description="replenishment task id")


class CompleteIn(Body):
    from_location: fields.lookup(nullable=True, description="code or barcode; the task's suggested source when left out") = None
    quantity: fields.whole(bounds.quantity, 1, bounds.MAX_MOVEMENT, nullable=True,
                           description="at most the task's quantity; all of it when left out. Less leaves the rest "
                                       "as a new open task") = None


class Completed(Answer):
    id: int
    status: str
    sku: str
    from_location: str
    to_location: str
    quantity: int = Field(description="moved")
    movement_id: int
    to_on_hand: int = Field(description="on hand at the pick face afterwards")
    remaining_task: TaskOut | None = Field(description="the rest, as a new open task, after a partial completion")


def _task(task: dict | None) -> dict | None:
    if task is None:
        return None
    return {key: task[key] for key in ("id", "sku", "from_location", "to_location", "quantity", "status")}


@bp.put("/replenishment-rules")
@operation(
    body=RuleIn,
    response=Rule,
    errors=(404,),
    tag="replenishment",
    rules={"max": "it is not more than min", "location": "it is not a pick location"},
)
def put_rule(body: RuleIn):
    """Set the min and max of a SKU at a pick face (created or changed).
    A pick face already below the new minimum gets its task at once."""
    return replenishment.save_rule(**body.model_dump()).rule


@bp.get("/replenishment-rules")
@operation(query=RuleQuery, response=RuleList, errors=(404,), tag="replenishment")
def rules(query: RuleQuery):
    """A warehouse's pick face rules by location, with what each holds and its open task."""
    with db.reading() as session:
        site = get_warehouse(session, query.warehouse)
        items = replenishment.list_rules(session, site.id, limit=query.limit + 1, offset=query.offset)
    more = len(items) > query.limit
    return {"items": [dict(item, warehouse=site.code) for item in items[:query.limit]],
            "next_offset": query.offset + query.limit if more else None}


@bp.get("/replenishment-tasks")
@operation(query=TaskQuery, response=TaskList, errors=(404,), tag="replenishment",
           rules={"status": "it is not open, done, cancelled or all"})
def tasks(query: TaskQuery):
    """A warehouse's replenishment tasks, of one status or all: open ones oldest first, others newest first."""
    with db.reading() as session:
        site = get_warehouse(session, query.warehouse)
        items = replenishment.list_tasks(session, site.id, status=query.status or "all", limit=query.limit + 1,
                                         offset=query.offset)
    more = len(items) > query.limit
    return {"items": [_task(item) for item in items[:query.limit]],
            "next_offset": query.offset + query.limit if more else None}


@bp.post("/replenishment-tasks/<task_id>/complete")
@operation(path=TaskPath, body=CompleteIn, response=Completed, errors=(404, 409), tag="replenishment",
           field_names={"task": "task_id"},
           rules={"from_location": "it is the pick face itself, or a quarantine location"})
def complete_task(task_id: int, body: CompleteIn):
    """Move a task's stock (all of it, or `quantity`) from a location to its pick face.
    409 task_not_open when the task is done or cancelled, more_than_task past its quantity,
    insufficient_stock when the source holds less free."""
    done = db.atomic(replenishment.complete_task, task_id, from_location=body.from_location, quantity=body.quantity)
    return {**_task(done.task), "movement_id": done.movement_id, "to_on_hand": done.to_on_hand,
            "remaining_task": _task(done.remaining)}
