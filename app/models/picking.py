"""Outbound picking (issue 9): pick jobs, the totes each job fills (one order per tote), and the
stops of a walk (app.outbound.picking)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class PickJobStatus(StrEnum):
    OPEN = "open"  # released, nobody has taken it yet
    PICKING = "picking"  # a picker took it (or the first pick was recorded)
    DONE = "done"  # every stop picked, shorted or dropped
    CANCELLED = "cancelled"


class PickMode(StrEnum):
    SINGLE = "single"  # one order
    BATCH = "batch"  # up to bounds.MAX_BATCH_ORDERS orders, one tote each, in one walk


OPEN_PICK_STATUSES = (PickJobStatus.OPEN, PickJobStatus.PICKING)


class PickJob(SQLModel, table=True):
    __tablename__ = "pick_job"
    __table_args__ = (
        CheckConstraint("mode IN ('single', 'batch')", name="ck_pick_job_mode"),
        CheckConstraint("status IN ('open', 'picking', 'done', 'cancelled')", name="ck_pick_job_status"),
        Index("ix_pick_job_status", "warehouse_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id")
    mode: str = Field(default=PickMode.SINGLE, max_length=16)
    status: str = Field(default=PickJobStatus.OPEN, max_length=16)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    picker_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class PickTote(SQLModel, table=True):
    """Which tote of a job holds which order's stock: a packer who scans a tote finds the order."""

    __tablename__ = "pick_tote"
    __table_args__ = (
        UniqueConstraint("job_id", "tote_location_id", name="uq_pick_tote_job_tote"),
        UniqueConstraint("job_id", "order_id", name="uq_pick_tote_job_order"),
        CheckConstraint(f"position >= 1 AND position <= {bounds.MAX_BATCH_ORDERS}", name="ck_pick_tote_position_range"),
        Index("ix_pick_tote_tote", "tote_location_id", "job_id"),
        Index("ix_pick_tote_order", "order_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="pick_job.id")
    tote_location_id: int = Field(foreign_key="location.id")
    order_id: int = Field(foreign_key="sales_order.id")
    position: int = 1  # the tote's place on the cart: 1, 2, 3 ...
    scanned_at: datetime | None = None  # the picker scanned its label at the start


class PickStop(SQLModel, table=True):
    """One stop of a walk: `quantity` units of a product to take from a location into a tote, for
    one order line. `picked` counts what was taken; `short` what the picker found missing (the stop's
    quantity went down by it); a stop is done when picked == quantity."""

    __tablename__ = "pick_stop"
    __table_args__ = (
        CheckConstraint(f"quantity >= 0 AND quantity <= {bounds.MAX_LINE_QUANTITY}", name="ck_pick_stop_quantity_range"),
        CheckConstraint("picked >= 0 AND picked <= quantity", name="ck_pick_stop_picked_within_quantity"),
        CheckConstraint(f"short >= 0 AND short <= {bounds.MAX_LINE_QUANTITY}", name="ck_pick_stop_short_range"),
        CheckConstraint("sequence >= 1", name="ck_pick_stop_sequence_range"),
        Index("ix_pick_stop_job", "job_id", "sequence"),
        Index("ix_pick_stop_line", "order_line_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="pick_job.id")
    sequence: int = 1  # the walk's order: by the location's pick_sequence, then its code
    location_id: int = Field(foreign_key="location.id")
    product_id: int = Field(foreign_key="product.id")
    order_id: int = Field(foreign_key="sales_order.id")
    order_line_id: int = Field(foreign_key="order_line.id")
    tote_location_id: int = Field(foreign_key="location.id")
    quantity: int = 0
    picked: int = 0
    short: int = 0
    created_at: datetime = Field(default_factory=utcnow)
