"""Reason codes: why stock was adjusted, or moved into quarantine.

They are data (the reason_code table; migration 0005 seeds the seven the app started with), kept by
an admin: added, renamed (the label; the code stays, as the ledger names it), retired and made
active again. A movement stores its reason's code, so a code a movement has used is never deleted,
only retired: a retired code is refused for new movements and still explains the old ones. A code
no movement has used may be deleted once retired (a typing mistake).

Codes are kept in lower case ("damaged") and looked up ignoring case; their length is measured as
kept. Every refusal is a ValidationFailed, NotFound or Conflict naming the field, in words.
"""
from __future__ import annotations

from sqlalchemy import exists
from sqlmodel import Session, select

from app import bounds
from app.bounds import shown
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Movement, ReasonCode

# Codes the app itself gives the movements it posts: they may be renamed, never retired or deleted.
KEPT_BY_THE_APP = {
    "count": "stocktake approvals and count adjustments post it",
    "correction": "a discrepancy resolved with a stock correction posts it",
}


def clean_code(value, field: str = "code", *, label: str = "reason code") -> str:
    """A reason code as kept: text without spaces, in lower case, 1 to REASON_CODE_MAX characters."""
    lowered = value.lower() if isinstance(value, str) else value
    return bounds.code(lowered, field, max_length=bounds.REASON_CODE_MAX, label=label)


def clean_label(value, field: str = "label") -> str:
    return bounds.text(value, field, max_length=bounds.REASON_LABEL_MAX, label="label")


def list_codes(session: Session, *, active_only: bool = False) -> list[ReasonCode]:
    """Every reason code (or the active ones), active first, then by code."""
    statement = select(ReasonCode).order_by(ReasonCode.active.desc(), ReasonCode.code)
    if active_only:
        statement = statement.where(ReasonCode.active)
    return list(session.exec(statement))


def active_codes(session: Session) -> list[str]:
    return [row.code for row in list_codes(session, active_only=True)]


def get_code(session: Session, code, field: str = "code") -> ReasonCode:
    """The reason code named (any case), or NotFound."""
    typed = bounds.scan(code, field, label="reason code")
    if not typed:
        raise ValidationFailed("reason code is required", field=field)
    found = session.get(ReasonCode, typed.lower())
    if found is None:
        raise NotFound(f"no reason code {shown(typed)}", field=field)
    return found


def add(session: Session, *, code, label) -> ReasonCode:
    """A new, active reason code."""
    code, label = clean_code(code), clean_label(label)
    if session.get(ReasonCode, code) is not None:
        raise Conflict(f"reason code {shown(code)} already exists", field="code")
    row = ReasonCode(code=code, label=label, active=True)
    session.add(row)
    session.flush()
    return row


def rename(session: Session, code, label) -> ReasonCode:
    """A new label; the code stays what the ledger names."""
    label = clean_label(label)
    row = get_code(session, code)
    row.label = label
    session.flush()
    return row


def _may_retire(code: str) -> None:
    if code in KEPT_BY_THE_APP:
        raise Conflict(f"{code} cannot be retired: {KEPT_BY_THE_APP[code]}", field="code")


def set_active(session: Session, code, active: bool) -> ReasonCode:
    """Retire a code (active False: refused for new movements) or make it active again."""
    row = get_code(session, code)
    if not active:
        _may_retire(row.code)
    row.active = bool(active)
    session.flush()
    return row


def put(session: Session, *, code, label, active: bool = True) -> tuple[ReasonCode, bool]:
    """The code exactly as given: created when new, else its label and active replaced.
    Returns the row and whether it was created."""
    code, label = clean_code(code), clean_label(label)
    if not active:
        _may_retire(code)
    row = session.get(ReasonCode, code, with_for_update=True)
    created = row is None
    if created:
        row = ReasonCode(code=code, label=label, active=bool(active))
        session.add(row)
    else:
        row.label, row.active = label, bool(active)
    session.flush()
    return row, created


def in_use(session: Session, code: str) -> bool:
    """Whether any movement names this code."""
    return bool(session.exec(select(exists().where(Movement.reason == code))).one())


def delete(session: Session, code) -> str:
    """Delete a retired code no movement has used; a code in use is only ever retired."""
    row = get_code(session, code)
    _may_retire(row.code)
    if row.active:
        raise Conflict(f"retire {row.code} before deleting it", field="code")
    if in_use(session, row.code):
        raise Conflict(f"{row.code} is named by movements in the ledger, so it is kept (retired): "
                       "a code in use is never deleted", field="code")
    session.delete(row)
    session.flush()
    return row.code


# ---- a reason given with a movement ---------------------------------------------------------


def refusal(session: Session, given, found: bool, *, field: str = "reason") -> ValidationFailed:
    """Why a reason given with a movement is refused: unknown, or retired (found but not active);
    the active codes are listed so that the person can choose one."""
    choices = ", ".join(active_codes(session)) or "none are active: ask an admin to add one"
    if found:
        return ValidationFailed(f"reason {shown(given)} is retired: choose one of {choices}", field=field)
    return ValidationFailed(f"reason must be one of {choices}, not {shown(given)!r}", field=field)


def missing(session: Session, why: str, *, field: str = "reason") -> ValidationFailed:
    choices = ", ".join(active_codes(session)) or "none are active: ask an admin to add one"
    return ValidationFailed(f"{why}: choose one of {choices}", field=field)


def given(value, field: str = "reason") -> str:
    """A reason as a request gives it, ready to look up: lower case, "" when none was given.
    Control characters are refused (no database is asked for them)."""
    return bounds.scan(value, field, label="reason").lower()


def require_active(session: Session, value, *, field: str = "reason") -> str:
    """The active code a movement gives as its reason (any case), or the refusal in words."""
    code = given(value, field)
    if not code:
        raise missing(session, "a reason is required", field=field)
    row = session.get(ReasonCode, code) if len(code) <= bounds.REASON_CODE_MAX else None
    if row is None or not row.active:
        raise refusal(session, value, row is not None, field=field)
    return row.code
