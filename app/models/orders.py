"""The order mirror of Starshipit, its inbox of events, and stock discrepancies."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.timeutil import utcnow


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    ALLOCATED = "ALLOCATED"
    PICKING = "PICKING"
    PICKED = "PICKED"
    PACKED = "PACKED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class Order(SQLModel, table=True):
    __tablename__ = "sales_order"
    __table_args__ = (Index("ix_sales_order_status", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    order_number: str = Field(unique=True, max_length=50)
    starshipit_order_id: int | None = Field(default=None, index=True)
    reference: str | None = Field(default=None, max_length=200)
    warehouse_id: int = Field(foreign_key="warehouse.id")
    status: str = Field(default=OrderStatus.PENDING, max_length=20)
    channel: str | None = Field(default=None, max_length=64)
    carrier_name: str | None = Field(default=None, max_length=100)
    tracking_numbers: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    destination: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    starshipit_status: str | None = Field(default=None, max_length=32)
    last_event_at: datetime | None = None  # occurred_at of the newest event applied
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    sku: str = Field(max_length=64)
    product_id: int | None = Field(default=None, foreign_key="product.id")
    description: str | None = Field(default=None, max_length=300)
    quantity: int
    shipped_quantity: int = 0
    unknown_sku: bool = False


class OrderTimelineEntry(SQLModel, table=True):
    """What happened to an order, in words a manager reads on the order page."""

    __tablename__ = "order_timeline"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    kind: str = Field(max_length=32)  # the event type, or "warning", "tracking", ...
    message: str = Field(max_length=1000)
    occurred_at: datetime | None = None
    inbox_event_id: int | None = Field(default=None, foreign_key="inbox_event.id")
    created_at: datetime = Field(default_factory=utcnow)


class InboxStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


class InboxEvent(SQLModel, table=True):
    """Every webhook Starshipit sent, stored before anything is applied."""

    __tablename__ = "inbox_event"
    __table_args__ = (Index("ix_inbox_event_status", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(unique=True, max_length=128)
    kind: str = Field(max_length=16)  # "order" or "tracking"
    event_type: str = Field(max_length=32)  # order_created ... or the tracking status
    order_number: str | None = Field(default=None, max_length=50, index=True)
    starshipit_order_id: int | None = None
    occurred_at: datetime | None = None
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=InboxStatus.PENDING, max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None


class DiscrepancyStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Discrepancy(SQLModel, table=True):
    """Stock that left the building without being on hand, for a manager to resolve."""

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    product_id: int | None = Field(default=None, foreign_key="product.id")
    warehouse_id: int = Field(foreign_key="warehouse.id")
    quantity: int
    cause: str = Field(max_length=32)  # "shortfall" or "unknown_sku"
    reference: str | None = Field(default=None, max_length=64)
    movement_id: int | None = Field(default=None, foreign_key="movement.id")
    status: str = Field(default=DiscrepancyStatus.OPEN, max_length=16, index=True)
    note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id")
