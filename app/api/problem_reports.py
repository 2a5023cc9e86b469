"""Problem reports: damaged, missing or found stock reported from the floor, each proposing an
adjustment that a manager approves (posted then) or rejects (app.problem_reports)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from app import bounds, db
from app import problem_reports as problems
from app.api import bp, fields
from app.api.schemas import Answer, Body, LocationScan, Offset, OptionalWarehouse, Path, ProductScan, Quantity, Query
from app.api.spec import operation
from app.timeutil import isoformat

KindName = Literal[problems.KINDS]  # type: ignore[valid-type]
StatusName = Literal[problems.STATUSES]  # type: ignore[valid-type]
ActionName = Literal[("quarantine", "remove", "add")]  # type: ignore[valid-type]


class ReportQuery(Query):
    warehouse: fields.lookup(description="warehouse code; the default warehouse when left out") = None
    status: fields.choice(problems.STATUSES + ("all",), description="one status, any case, or all; open when left "
                                                                   "out (oldest first; any other: newest first)") = "open"
    limit: fields.whole(fields.between(1, problems.MAX_LIST), 1, problems.MAX_LIST, description="how many, at most") = 50
    offset: Offset = 0


class ReportIn(Body):
    kind: fields.choice(problems.KINDS, description="damaged, missing or found (any case)")
    location: LocationScan = Field(description="where the stock is: a location code or barcode")
    product: ProductScan = Field(description="SKU, barcode or GTIN")
    quantity: Quantity
    note: fields.text(bounds.NOTE_MAX, required=False, nullable=True, description="what was seen") = None
    warehouse: OptionalWarehouse = None


class ReportPath(Path):
    report_id: fields.row_id(description="problem report id")


class ApproveIn(Body):
    quantity: fields.whole(bounds.quantity, 1, bounds.MAX_MOVEMENT, nullable=True,
                           description="units to post; the reported quantity when left out") = None
    note: fields.text(bounds.NOTE_MAX, required=False, nullable=True, description="kept with the decision") = None


class RejectIn(Body):
    reason: fields.text(bounds.NOTE_MAX, description="why: kept for the person who reported it")


class ReportOut(Answer):
    id: int
    warehouse: str
    kind: KindName
    status: StatusName
    sku: str
    product_name: str
    location: str
    quantity: int = Field(description="units reported")
    note: str | None
    action: ActionName = Field(description="the proposed adjustment: quarantine (moved to to_location), remove "
                                           "(an adjustment down) or add (an adjustment up)")
    reason: str = Field(description="the reason code the movement gives")
    to_location: str | None = Field(description="the quarantine location, for action quarantine")
    proposal: str = Field(description="the proposed (or posted) adjustment in words")
    reported_by: str | None = Field(description="the user's name; null when reported through the API")
    created_at: str = Field(description="RFC 3339, UTC")
    decided_by: str | None
    decided_at: str | None = Field(description="RFC 3339, UTC; null while open")
    decision_note: str | None = Field(description="why it was rejected, or a note on the approval")
    approved_quantity: int | None = Field(description="units posted, once approved")
    movement_id: int | None = Field(description="the movement posted, once approved")
    on_hand: int = Field(description="on hand of the product at the location, now")


class ReportList(Answer):
    items: list[ReportOut]
    next_offset: int | None = Field(description="pass as offset for the next page; null on the last page")


def _out(view: problems.ReportView) -> dict:
    return {
        "id": view.id, "warehouse": view.warehouse, "kind": view.kind, "status": view.status, "sku": view.sku,
        "product_name": view.product_name, "location": view.location, "quantity": view.quantity, "note": view.note,
        "action": view.action, "reason": view.reason, "to_location": view.to_location, "proposal": view.proposal,
        "reported_by": view.reported_by, "created_at": isoformat(view.created_at), "decided_by": view.decided_by,
        "decided_at": isoformat(view.decided_at), "decision_note": view.decision_note,
        "approved_quantity": view.approved_quantity, "movement_id": view.movement_id, "on_hand": view.on_hand,
    }


@bp.get("/problem-reports")
@operation(query=ReportQuery, response=ReportList, errors=(404,), tag="problem reports")
def problem_reports(query: ReportQuery):
    """A warehouse's problem reports: those waiting (open) oldest first, or of another status newest first."""
    with db.reading() as session:
        items = problems.list_reports(session, warehouse=query.warehouse, status=query.status,
                                      limit=query.limit + 1, offset=query.offset)
    more = len(items) > query.limit
    return {"items": [_out(view) for view in items[: query.limit]],
            "next_offset": query.offset + query.limit if more else None}


@bp.post("/problem-reports")
@operation(body=ReportIn, response=ReportOut, status=201, errors=(404,), tag="problem reports",
           rules={"quantity": "the kind is damaged or missing and the location holds fewer units of the product",
                  "location": "the location is inactive"})
def report_problem(body: ReportIn):
    """Report damaged, missing or found stock: an open report proposing an adjustment; nothing moves.
    Damaged stock is proposed for the warehouse's quarantine location when it has an active one,
    else written off (reason damaged); missing stock is adjusted down (reason lost); found stock up
    (reason found)."""
    return _out(db.atomic(problems.report_problem, **body.model_dump()))


@bp.post("/problem-reports/<report_id>/approve")
@operation(path=ReportPath, body=ApproveIn, response=ReportOut, errors=(404, 409), tag="problem reports")
def approve_problem_report(report_id: int, body: ApproveIn):
    """Approve an open report: its adjustment (of quantity units when given) is posted in the same
    transaction. 409 report_not_open when it was decided already; 409 (insufficient_stock and the
    like) when the adjustment can no longer be posted, in words: nothing moved, the report stays open."""
    return _out(db.atomic(problems.approve, report_id, **body.model_dump()))


@bp.post("/problem-reports/<report_id>/reject")
@operation(path=ReportPath, body=RejectIn, response=ReportOut, errors=(404, 409), tag="problem reports")
def reject_problem_report(report_id: int, body: RejectIn):
    """Reject an open report with a reason; nothing moves. 409 report_not_open when it was decided already."""
    return _out(db.atomic(problems.reject, report_id, reason=body.reason))
