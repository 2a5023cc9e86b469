"""Inbound: purchase orders, receipts against them, receiving exceptions, and putaway tasks."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"  # a manager closed it short: what was not received never comes
    CANCELLED = "cancelled"


# Lines of these orders count as incoming until received.
OPEN_PO_STATUSES = (PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED)


class PurchaseOrder(SQLModel, table=True):
    __tablename__ = "purchase_order"
    __table_args__ = (
        CheckConstraint(f"length(po_number) BETWEEN 1 AND {bounds.PO_NUMBER_MAX}", name="ck_purchase_order_number_length"),
        CheckConstraint(f"length(supplier) BETWEEN 1 AND {bounds.SUPPLIER_MAX}", name="ck_purchase_order_supplier_length"),
        CheckConstraint(f"tolerance_percent IS NULL OR (tolerance_percent >= 0 AND tolerance_percent <= {bounds.MAX_TOLERANCE_PERCENT})",
                        name="ck_purchase_order_tolerance_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    po_number: str = Field(unique=True, max_length=bounds.PO_NUMBER_MAX)
    supplier: str = Field(max_length=bounds.SUPPLIER_MAX)
    warehouse_id: int = Field(foreign_key="warehouse.id")
    status: str = Field(default=PurchaseOrderStatus.OPEN, max_length=20, index=True)
    expected_at: datetime | None = None
    tolerance_percent: int | None = None  # over-receipt allowed on every line, % of what was ordered
    note: str | None = Field(default=None, max_length=bounds.NOTE_MAX)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    closed_by: int | None = Field(default=None, foreign_key="app_user.id")


class PurchaseOrderLine(SQLModel, table=True):
    __tablename__ = "purchase_order_line"
    __table_args__ = (
        CheckConstraint(f"quantity_ordered >= 1 AND quantity_ordered <= {bounds.MAX_LINE_QUANTITY}",
                        name="ck_po_line_ordered_in_range"),
        CheckConstraint(f"quantity_received >= 0 AND quantity_received <= {bounds.MAX_BALANCE}",
                        name="ck_po_line_received_in_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    purchase_order_id: int = Field(foreign_key="purchase_order.id", index=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    quantity_ordered: int
    quantity_received: int = 0


class Receipt(SQLModel, table=True):
    """One confirmed receiving of stock against a purchase order, into one location."""

    id: int | None = Field(default=None, primary_key=True)
    purchase_order_id: int = Field(foreign_key="purchase_order.id", index=True)
    location_id: int = Field(foreign_key="location.id")
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    reversed_at: datetime | None = None
    reversed_by: int | None = Field(default=None, foreign_key="app_user.id")


class ReceiptLine(SQLModel, table=True):
    __tablename__ = "receipt_line"
    __table_args__ = (
        CheckConstraint(f"quantity >= 1 AND quantity <= {bounds.MAX_MOVEMENT}", name="ck_receipt_line_quantity_in_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    receipt_id: int = Field(foreign_key="receipt.id", index=True)
    purchase_order_line_id: int = Field(foreign_key="purchase_order_line.id", index=True)
    product_id: int = Field(foreign_key="product.id")
    quantity: int
    movement_id: int = Field(foreign_key="movement.id")
    reversal_movement_id: int | None = Field(default=None, foreign_key="movement.id")


class ReceivingException(SQLModel, table=True):
    """What a picker scanned while receiving that the PO could not take (an unknown barcode, a
    product not on the PO), recorded for a manager."""

    __tablename__ = "receiving_exception"

    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id")
    purchase_order_id: int | None = Field(default=None, foreign_key="purchase_order.id", index=True)
    scanned: str = Field(max_length=bounds.BARCODE_MAX)
    kind: str = Field(max_length=32)  # "unknown_barcode", "not_on_purchase_order", "over_receipt"
    product_id: int | None = Field(default=None, foreign_key="product.id")
    quantity: int | None = None
    note: str | None = Field(default=None, max_length=bounds.NOTE_MAX)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id")


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class PutawayTask(SQLModel, table=True):
    """Received stock to take from the receiving location to its place in the warehouse."""

    __tablename__ = "putaway_task"
    __table_args__ = (
        CheckConstraint(f"quantity >= 1 AND quantity <= {bounds.MAX_MOVEMENT}", name="ck_putaway_task_quantity_in_range"),
        Index("ix_putaway_task_open", "warehouse_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id")
    product_id: int = Field(foreign_key="product.id")
    quantity: int
    from_location_id: int = Field(foreign_key="location.id")
    suggested_location_id: int | None = Field(default=None, foreign_key="location.id")
    status: str = Field(default=TaskStatus.OPEN, max_length=16)
    reference: str | None = Field(default=None, max_length=bounds.REFERENCE_MAX)  # the PO number
    receipt_line_id: int | None = Field(default=None, foreign_key="receipt_line.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="putaway_task.id")  # the task this is the rest of
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
    done_by: int | None = Field(default=None, foreign_key="app_user.id")
    put_location_id: int | None = Field(default=None, foreign_key="location.id")  # where it went
    movement_id: int | None = Field(default=None, foreign_key="movement.id")
