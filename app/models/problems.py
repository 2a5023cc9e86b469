"""Problem reports: a picker says stock is damaged, missing or found; a manager approves the
adjustment it proposes (or rejects it). app.problem_reports holds the rules."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class ProblemKind(StrEnum):
    DAMAGED = "damaged"
    MISSING = "missing"
    FOUND = "found"


class ProblemStatus(StrEnum):
    OPEN = "open"  # waiting for a manager; nothing has moved
    APPROVED = "approved"  # its adjustment is posted (movement_id)
    REJECTED = "rejected"  # nothing moved; the manager said why


class ProblemAction(StrEnum):
    """What the report proposes to the ledger."""

    QUARANTINE = "quarantine"  # move the units to a quarantine location (to_location_id), with the reason
    REMOVE = "remove"  # an adjustment down at the location, with the reason
    ADD = "add"  # an adjustment up at the location, with the reason


def _one_of(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class ProblemReport(SQLModel, table=True):
    __tablename__ = "problem_report"
    __table_args__ = (
        CheckConstraint(_one_of("kind", ProblemKind), name="ck_problem_report_kind"),
        CheckConstraint(_one_of("status", ProblemStatus), name="ck_problem_report_status"),
        CheckConstraint(_one_of("action", ProblemAction), name="ck_problem_report_action"),
        CheckConstraint(f"quantity >= 1 AND quantity <= {bounds.MAX_MOVEMENT}", name="ck_problem_report_quantity_range"),
        CheckConstraint(f"approved_quantity IS NULL OR (approved_quantity >= 1 AND approved_quantity <= {bounds.MAX_MOVEMENT})",
                        name="ck_problem_report_approved_quantity_range"),
        CheckConstraint(f"length(reason) BETWEEN 1 AND {bounds.REASON_CODE_MAX}", name="ck_problem_report_reason_length"),
        CheckConstraint(f"note IS NULL OR length(note) BETWEEN 1 AND {bounds.NOTE_MAX}", name="ck_problem_report_note_length"),
        CheckConstraint(f"decision_note IS NULL OR length(decision_note) BETWEEN 1 AND {bounds.NOTE_MAX}",
                        name="ck_problem_report_decision_note_length"),
        CheckConstraint("(action = 'quarantine') = (to_location_id IS NOT NULL)", name="ck_problem_report_quarantine_target"),
        CheckConstraint("(status = 'open') = (decided_at IS NULL)",
                        name="ck_problem_report_decided"),
        CheckConstraint("(status = 'approved') = (movement_id IS NOT NULL AND approved_quantity IS NOT NULL)",
                        name="ck_problem_report_approved_posted"),
        CheckConstraint("status <> 'rejected' OR decision_note IS NOT NULL", name="ck_problem_report_rejected_why"),
        Index("ix_problem_report_queue", "warehouse_id", "status", "id"),
        Index("ix_problem_report_reporter", "reported_by", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id")
    kind: str = Field(max_length=16)
    status: str = Field(default=ProblemStatus.OPEN, max_length=16)
    location_id: int = Field(foreign_key="location.id")  # where the picker found it
    product_id: int = Field(foreign_key="product.id")
    quantity: int  # units reported
    note: str | None = Field(default=None, max_length=bounds.NOTE_MAX)
    # The proposed adjustment, decided when reported (app.problem_reports.propose).
    action: str = Field(max_length=16)
    reason: str = Field(max_length=bounds.REASON_CODE_MAX)  # the reason code the movement gives
    to_location_id: int | None = Field(default=None, foreign_key="location.id")  # the quarantine location
    reported_by: int | None = Field(default=None, foreign_key="app_user.id")  # None: reported through the API
    created_at: datetime = Field(default_factory=utcnow)
    # The manager's decision.
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")  # None: decided through the API
    decided_at: datetime | None = None
    decision_note: str | None = Field(default=None, max_length=bounds.NOTE_MAX)  # why rejected (or a note on approval)
    approved_quantity: int | None = None  # what was posted (the manager may change the reported quantity)
    movement_id: int | None = Field(default=None, foreign_key="movement.id")
