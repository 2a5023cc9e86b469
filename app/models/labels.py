"""Outbound labels (issue 9): the box sizes a manager keeps, and the label jobs that ask Starshipit
for an order's shipment and keep its tracking numbers and label PDF (app.outbound.labels)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, LargeBinary, Text, text
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class PackageSize(SQLModel, table=True):
    """A box or satchel the packers choose from. Sizes in centimetres (as people measure boxes);
    Starshipit is sent metres. Retired rather than deleted: label jobs name the box they used."""

    __tablename__ = "package_size"
    __table_args__ = (
        CheckConstraint(f"length(name) BETWEEN 1 AND {bounds.PACKAGE_NAME_MAX}", name="ck_package_size_name_length"),
        CheckConstraint(f"length_cm > 0 AND length_cm <= {bounds.MAX_PACKAGE_CM:.0f}", name="ck_package_size_length_range"),
        CheckConstraint(f"width_cm > 0 AND width_cm <= {bounds.MAX_PACKAGE_CM:.0f}", name="ck_package_size_width_range"),
        CheckConstraint(f"height_cm > 0 AND height_cm <= {bounds.MAX_PACKAGE_CM:.0f}", name="ck_package_size_height_range"),
        CheckConstraint(f"default_weight_kg IS NULL OR (default_weight_kg >= 0 AND default_weight_kg <= {bounds.MAX_WEIGHT_KG:.0f})",
                        name="ck_package_size_weight_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=bounds.PACKAGE_NAME_MAX)
    length_cm: float
    width_cm: float
    height_cm: float
    default_weight_kg: float | None = None  # the weight a label is given when the packer gives none
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LabelJobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class LabelJobKind(StrEnum):
    LABEL = "label"  # the shipment: Starshipit's POST /api/orders/shipment (or reprint if it exists)
    REPRINT = "reprint"  # the labels Starshipit already made, again (reprint: true)


OPEN_LABEL_STATUSES = (LabelJobStatus.QUEUED, LabelJobStatus.RUNNING)
_OPEN = text("status IN ('queued', 'running')")


class LabelJob(SQLModel, table=True):
    """One request for an order's label, its progress and what Starshipit gave back. At most one
    unfinished (queued or running) per order: a unique index over those rows."""

    __tablename__ = "label_job"
    __table_args__ = (
        Index("ux_label_job_open_order", "order_id", unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="ck_label_job_status"),
        CheckConstraint("kind IN ('label', 'reprint')", name="ck_label_job_kind"),
        CheckConstraint(f"attempts >= 0 AND attempts <= {bounds.MAX_LABEL_ATTEMPTS}", name="ck_label_job_attempts_range"),
        CheckConstraint(f"error IS NULL OR length(error) <= {bounds.LABEL_ERROR_MAX}", name="ck_label_job_error_length"),
        CheckConstraint(f"starshipit_order_id IS NULL OR (starshipit_order_id >= 1 AND starshipit_order_id <= {bounds.MAX_STARSHIPIT_ID})",
                        name="ck_label_job_starshipit_id_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    kind: str = Field(default=LabelJobKind.LABEL, max_length=16)
    status: str = Field(default=LabelJobStatus.QUEUED, max_length=16)
    attempts: int = 0  # runs started (a retry or a run after a crash adds one)
    progress: str | None = Field(default=None, max_length=bounds.LABEL_PROGRESS_MAX)  # what it is doing, in words
    error: str | None = Field(default=None, sa_column=Column(Text))  # why it failed, with Starshipit's words
    # What Starshipit gave back: its order id, the carrier, the tracking numbers, the first label
    # as PDF bytes and any further labels (one per package) as base64 text.
    starshipit_order_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    carrier_name: str | None = Field(default=None, max_length=100)
    tracking_numbers: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    label_pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    more_labels: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The box: the kept size it came from (if any) and what is sent, {name, length, width, height}
    # in metres and weight in kg; None: Starshipit's default package.
    package_size_id: int | None = Field(default=None, foreign_key="package_size.id")
    package: dict | None = Field(default=None, sa_column=Column(JSON))
    # The run that holds the job (app.outbound.labels: a lease, so that a crashed run is taken over
    # and two runs never talk to Starshipit about one job at once).
    run_token: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = None
    requested_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
