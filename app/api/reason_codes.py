"""Reason codes: the reasons an adjustment (or a move into quarantine) may give, as data."""
from __future__ import annotations

from pydantic import Field

from app import bounds, db, reason_codes
from app.api import bp, fields
from app.api.schemas import Answer, Body
from app.api.spec import operation
from app.models import ReasonCode


class ReasonCodeIn(Body):
    code: fields.code(bounds.REASON_CODE_MAX, description="letters, digits and signs without spaces; kept in lower "
                                                          "case, so DAMAGED names the code damaged")
    label: fields.text(bounds.REASON_LABEL_MAX, description="what people see")
    active: bool = Field(default=True, description="false retires the code: refused for new movements, still "
                                                   "naming the old ones")


class ReasonCodeOut(Answer):
    code: str
    label: str
    active: bool


class ReasonCodeList(Answer):
    items: list[ReasonCodeOut]


def _out(row: ReasonCode) -> dict:
    return {"code": row.code, "label": row.label, "active": row.active}


@bp.get("/reason-codes")
@operation(response=ReasonCodeList, tag="reason codes")
def list_reason_codes():
    """List every reason code, the active ones first.
    A retired code (active false) is refused for new adjustments and transfers; it stays to explain
    the movements that name it."""
    with db.reading() as session:
        return {"items": [_out(row) for row in reason_codes.list_codes(session)]}


@bp.post("/reason-codes")
@operation(body=ReasonCodeIn, response=ReasonCodeOut, errors=(409,), tag="reason codes",
           rules={"code": f"in lower case it is longer than {bounds.REASON_CODE_MAX} characters"})
def put_reason_code(body: ReasonCodeIn):
    """Create a reason code, or update the one with this code (upsert by code).
    The code is set exactly as sent: a new code is created; an existing one gets this label and
    active (left out: true, so sending a retired code again makes it active). Codes are never
    deleted through the API: retire one with active false. Answers 200 with the code as kept; 409
    when asked to retire a code the app itself posts (count, correction)."""
    row, _created = db.atomic(reason_codes.put, code=body.code, label=body.label, active=body.active)
    return _out(row)
