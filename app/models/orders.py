"""The order mirror of Starshipit, its inbox of events, and stock discrepancies."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, Text, text
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    AWAITING_STOCK = "AWAITING_STOCK"  # a WMS order that could not be allocated in full (app.outbound.allocation)
    ALLOCATED = "ALLOCATED"
    PICKING = "PICKING"
    PICKED = "PICKED"
    PACKED = "PACKED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class Order(SQLModel, table=True):
    __tablename__ = "sales_order"
    __table_args__ = (
        Index("ix_sales_order_status", "status"),
        # Orders waiting for stock, per warehouse, oldest first (allocation retries them when stock arrives).
        Index("ix_sales_order_awaiting", "warehouse_id", "created_at", "id",
              sqlite_where=text("status = 'AWAITING_STOCK'"), postgresql_where=text("status = 'AWAITING_STOCK'")),
        CheckConstraint(f"length(order_number) BETWEEN 1 AND {bounds.ORDER_NUMBER_MAX}",
                        name="ck_sales_order_number_length"),
        CheckConstraint(f"starshipit_order_id IS NULL OR (starshipit_order_id >= 1 AND starshipit_order_id <= {bounds.MAX_STARSHIPIT_ID})",
                        name="ck_sales_order_starshipit_id_range"),
        CheckConstraint("route IN ('WMS', 'STARSHIPIT')", name="ck_sales_order_route"),
        CheckConstraint(f"routing_rule_name IS NULL OR length(routing_rule_name) BETWEEN 1 AND {bounds.ROUTING_RULE_NAME_MAX}",
                        name="ck_sales_order_routing_rule_name_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_number: str = Field(unique=True, max_length=bounds.ORDER_NUMBER_MAX)
    starshipit_order_id: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    reference: str | None = Field(default=None, max_length=200)
    warehouse_id: int = Field(foreign_key="warehouse.id")
    status: str = Field(default=OrderStatus.PENDING, max_length=20)
    channel: str | None = Field(default=None, max_length=64)
    carrier_name: str | None = Field(default=None, max_length=100)
    tracking_numbers: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    destination: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    starshipit_status: str | None = Field(default=None, max_length=32)
    last_event_at: datetime | None = None  # occurred_at of the newest event applied
    # Outbound routing (app.outbound.routing): WMS or STARSHIPIT, the rule that chose it (None: the
    # default), and whether a manager set it by hand (then no event routes it again).
    route: str = Field(default="STARSHIPIT", max_length=16, sa_column_kwargs={"server_default": "STARSHIPIT"})
    routing_rule_name: str | None = Field(default=None, max_length=bounds.ROUTING_RULE_NAME_MAX)
    routed_by_hand: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint(f"quantity >= 0 AND quantity <= {bounds.MAX_LINE_QUANTITY}", name="ck_order_line_quantity_in_range"),
        CheckConstraint(f"shipped_quantity >= 0 AND shipped_quantity <= {bounds.MAX_LINE_QUANTITY}",
                        name="ck_order_line_shipped_in_range"),
        Index("ix_order_line_product", "product_id", "order_id"),  # the orders asking for one product
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    sku: str = Field(max_length=bounds.SKU_MAX)
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
    order_number: str | None = Field(default=None, max_length=bounds.ORDER_NUMBER_MAX, index=True)
    starshipit_order_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    occurred_at: datetime | None = None
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=InboxStatus.PENDING, max_length=16)
    attempts: int = 0  # failed tries
    last_error: str | None = Field(default=None, sa_column=Column(Text))  # why, in words for a manager
    error_detail: str | None = Field(default=None, sa_column=Column(Text))  # the exception, for an admin
    next_try_at: datetime | None = None  # when a pending event that failed is tried again
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None


class DiscrepancyStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Discrepancy(SQLModel, table=True):
    """Stock that left the building without being on hand, for a manager to resolve."""

    __table_args__ = (
        CheckConstraint(f"quantity >= 0 AND quantity <= {bounds.MAX_BALANCE}", name="ck_discrepancy_quantity_in_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    product_id: int | None = Field(default=None, foreign_key="product.id")
    warehouse_id: int = Field(foreign_key="warehouse.id")
    quantity: int
    cause: str = Field(max_length=32)  # "shortfall", "unknown_sku" or "count_not_posted" (app.stocktakes.approval)
    reference: str | None = Field(default=None, max_length=64)
    movement_id: int | None = Field(default=None, foreign_key="movement.id")
    status: str = Field(default=DiscrepancyStatus.OPEN, max_length=16, index=True)
    note: str | None = Field(default=None, max_length=bounds.NOTE_MAX)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id")
    stocktake_id: int | None = Field(default=None, foreign_key="stocktake.id")  # the count that cleared it
