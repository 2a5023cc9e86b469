"""Stock control: stocktakes and cycle counts, adjustment reason codes, replenishment of pick faces."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class ReasonCode(SQLModel, table=True):
    """A reason an adjustment may give; retired, never deleted, once used."""

    __tablename__ = "reason_code"
    __table_args__ = (
        CheckConstraint(f"length(code) BETWEEN 1 AND {bounds.REASON_CODE_MAX}", name="ck_reason_code_code_length"),
        CheckConstraint(f"length(label) BETWEEN 1 AND {bounds.REASON_LABEL_MAX}", name="ck_reason_code_label_length"),
    )

    code: str = Field(primary_key=True, max_length=bounds.REASON_CODE_MAX)
    label: str = Field(max_length=bounds.REASON_LABEL_MAX)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class StocktakeStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    CANCELLED = "cancelled"


class CountStatus(StrEnum):
    """A location's place in a stocktake."""

    WAITING = "waiting"  # nobody has counted it yet (or a recount was ordered)
    COUNTING = "counting"  # a picker has started scanning it
    CLOSED = "closed"  # counted: what was expected and not scanned counts as zero


class Stocktake(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id", index=True)
    status: str = Field(default=StocktakeStatus.OPEN, max_length=16)
    blind: bool = True  # expected quantities never reach a picker
    note: str | None = Field(default=None, max_length=bounds.NOTE_MAX)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    approved_at: datetime | None = None
    approved_by: int | None = Field(default=None, foreign_key="app_user.id")


class StocktakeLocation(SQLModel, table=True):
    __tablename__ = "stocktake_location"
    __table_args__ = (UniqueConstraint("stocktake_id", "location_id", name="uq_stocktake_location"),)

    id: int | None = Field(default=None, primary_key=True)
    stocktake_id: int = Field(foreign_key="stocktake.id", index=True)
    location_id: int = Field(foreign_key="location.id", index=True)
    status: str = Field(default=CountStatus.WAITING, max_length=16)
    round: int = 1  # 2 and up: a recount
    counted_by: int | None = Field(default=None, foreign_key="app_user.id")  # this round's counter
    previous_counter: int | None = Field(default=None, foreign_key="app_user.id")  # a recount goes to someone else
    closed_at: datetime | None = None


class StocktakeLine(SQLModel, table=True):
    """One product at one counted location: what the ledger held when it was counted (the
    snapshot the variance is taken against) and what was counted."""

    __tablename__ = "stocktake_line"
    __table_args__ = (
        UniqueConstraint("stocktake_id", "location_id", "product_id", name="uq_stocktake_line"),
        CheckConstraint(f"counted IS NULL OR (counted >= 0 AND counted <= {bounds.MAX_COUNT})",
                        name="ck_stocktake_line_counted_in_range"),
        CheckConstraint(f"expected >= 0 AND expected <= {bounds.MAX_BALANCE}", name="ck_stocktake_line_expected_in_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stocktake_id: int = Field(foreign_key="stocktake.id", index=True)
    location_id: int = Field(foreign_key="location.id")
    product_id: int = Field(foreign_key="product.id")
    expected: int = 0  # on hand in the ledger at the moment of the count
    counted: int | None = None
    counted_at: datetime | None = None
    counted_by: int | None = Field(default=None, foreign_key="app_user.id")
    movement_id: int | None = Field(default=None, foreign_key="movement.id")  # the count adjustment, once approved


class ReplenishmentRule(SQLModel, table=True):
    """Min/max of one product at one pick face."""

    __tablename__ = "replenishment_rule"
    __table_args__ = (
        UniqueConstraint("product_id", "location_id", name="uq_replenishment_rule"),
        CheckConstraint(f"minimum >= 0 AND minimum < maximum AND maximum <= {bounds.MAX_BALANCE}",
                        name="ck_replenishment_rule_min_max"),
        Index("ix_replenishment_rule_location", "location_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")
    location_id: int = Field(foreign_key="location.id")
    minimum: int
    maximum: int
    updated_at: datetime = Field(default_factory=utcnow)


class ReplenishmentTask(SQLModel, table=True):
    """Stock to bring from storage to a pick face that fell under its minimum; one open task per
    pick face and product at a time (a partial unique index)."""

    __tablename__ = "replenishment_task"
    __table_args__ = (
        CheckConstraint(f"quantity >= 1 AND quantity <= {bounds.MAX_MOVEMENT}", name="ck_replenishment_task_quantity_in_range"),
        Index("uq_replenishment_task_open", "product_id", "to_location_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        Index("ix_replenishment_task_warehouse", "warehouse_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id")
    product_id: int = Field(foreign_key="product.id")
    to_location_id: int = Field(foreign_key="location.id")
    from_location_id: int | None = Field(default=None, foreign_key="location.id")  # suggested source
    quantity: int
    status: str = Field(default="open", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
    done_by: int | None = Field(default=None, foreign_key="app_user.id")
    movement_id: int | None = Field(default=None, foreign_key="movement.id")
