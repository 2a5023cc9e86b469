"""Purchase orders: stock on its way in (the "incoming" figure)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    RECEIVED = "received"
    CANCELLED = "cancelled"


OPEN_PO_STATUSES = (PurchaseOrderStatus.OPEN,)


class PurchaseOrder(SQLModel, table=True):
    __tablename__ = "purchase_order"
    __table_args__ = (
        CheckConstraint(f"length(po_number) BETWEEN 1 AND {bounds.PO_NUMBER_MAX}", name="ck_purchase_order_number_length"),
        CheckConstraint(f"length(supplier) BETWEEN 1 AND {bounds.SUPPLIER_MAX}", name="ck_purchase_order_supplier_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    po_number: str = Field(unique=True, max_length=bounds.PO_NUMBER_MAX)
    supplier: str = Field(max_length=bounds.SUPPLIER_MAX)
    warehouse_id: int = Field(foreign_key="warehouse.id")
    status: str = Field(default=PurchaseOrderStatus.OPEN, max_length=16, index=True)
    expected_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


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
