"""Stock: balances per product and location, the movement ledger, allocations.

Only app.ledger writes these tables.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class StockLevel(SQLModel, table=True):
    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("product_id", "location_id", name="uq_stock_level_product_location"),
        CheckConstraint(f"on_hand >= 0 AND on_hand <= {bounds.MAX_BALANCE}", name="ck_stock_level_on_hand_in_range"),
        CheckConstraint("allocated >= 0 AND allocated <= on_hand", name="ck_stock_level_allocated_within_on_hand"),
        Index("ix_stock_level_location", "location_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")
    location_id: int = Field(foreign_key="location.id")
    on_hand: int = 0
    allocated: int = 0


class MovementType:
    RECEIPT = "receipt"
    PUTAWAY = "putaway"
    TRANSFER = "transfer"
    REPLENISHMENT = "replenishment"
    ADJUSTMENT = "adjustment"
    COUNT = "count"
    PICK = "pick"
    SHIPMENT = "shipment"
    RETURN = "return"
    DISCREPANCY = "discrepancy"


class Movement(SQLModel, table=True):
    """One line of the append-only ledger: quantity moved from one location to another."""

    __table_args__ = (
        CheckConstraint(f"quantity >= 1 AND quantity <= {bounds.MAX_MOVEMENT}", name="ck_movement_quantity_in_range"),
        CheckConstraint(f"reference IS NULL OR length(reference) <= {bounds.REFERENCE_MAX}",
                        name="ck_movement_reference_length"),
        Index("ix_movement_product_id", "product_id", "id"),
        Index("ix_movement_reference", "reference"),
        Index("ix_movement_from_location", "from_location_id"),
        Index("ix_movement_to_location", "to_location_id"),
        # The day's picks by time (app.outbound.dashboard); pick movements only.
        Index("ix_movement_picks_by_time", "created_at", sqlite_where=text("type = 'pick'"),
              postgresql_where=text("type = 'pick'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=16)
    product_id: int = Field(foreign_key="product.id")
    from_location_id: int = Field(foreign_key="location.id")
    to_location_id: int = Field(foreign_key="location.id")
    quantity: int
    reason: str | None = Field(default=None, max_length=32)
    reference: str | None = Field(default=None, max_length=bounds.REFERENCE_MAX)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)


class Allocation(SQLModel, table=True):
    """Stock promised to an order line at one location; open while quantity > 0."""

    __table_args__ = (
        CheckConstraint(f"quantity >= 0 AND quantity <= {bounds.MAX_BALANCE}", name="ck_allocation_quantity_in_range"),
        Index("ix_allocation_product_location", "product_id", "location_id"),
        Index("ix_allocation_reference", "reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")
    location_id: int = Field(foreign_key="location.id")
    quantity: int
    picked: bool = False  # the stock has been picked to a packing location for this allocation
    reference: str | None = Field(default=None, max_length=64)
    order_line_id: int | None = Field(default=None, foreign_key="order_line.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
