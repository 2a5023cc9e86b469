"""Warehouses and their locations, physical and virtual."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class LocationType(StrEnum):
    RECEIVING = "receiving"
    STORAGE = "storage"
    PICK = "pick"
    PACKING = "packing"
    SHIPPING = "shipping"
    QUARANTINE = "quarantine"
    TOTE = "tote"  # a physical tote a picker fills (app.outbound.picking); free again once empty
    # Virtual locations: the other side of stock entering or leaving the building.
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    ADJUSTMENT = "adjustment"
    COUNT = "count"
    DISCREPANCY = "discrepancy"


PHYSICAL_TYPES = frozenset(
    {
        LocationType.RECEIVING,
        LocationType.STORAGE,
        LocationType.PICK,
        LocationType.PACKING,
        LocationType.SHIPPING,
        LocationType.QUARANTINE,
        LocationType.TOTE,
    }
)
VIRTUAL_TYPES = frozenset(set(LocationType) - PHYSICAL_TYPES)


TIME_ZONE_MAX = 64  # characters of an IANA time zone name (the longest today has 32)


class Warehouse(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(f"length(code) BETWEEN 1 AND {bounds.WAREHOUSE_CODE_MAX}", name="ck_warehouse_code_length"),
        CheckConstraint(f"length(name) BETWEEN 1 AND {bounds.WAREHOUSE_NAME_MAX}", name="ck_warehouse_name_length"),
        CheckConstraint(f"time_zone IS NULL OR length(time_zone) BETWEEN 1 AND {TIME_ZONE_MAX}",
                        name="ck_warehouse_time_zone_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=bounds.WAREHOUSE_CODE_MAX)
    name: str = Field(max_length=bounds.WAREHOUSE_NAME_MAX)
    is_default: bool = False
    # The IANA time zone the warehouse's pages show times in (e.g. "Pacific/Auckland"); None until a
    # manager sets it (app.timeutil: pages then use the browser's zone, else UTC). Stored times stay UTC.
    time_zone: str | None = Field(default=None, max_length=TIME_ZONE_MAX)
    created_at: datetime = Field(default_factory=utcnow)


class Location(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("warehouse_id", "code", name="uq_location_warehouse_code"),
        CheckConstraint(f"length(code) BETWEEN 1 AND {bounds.LOCATION_CODE_MAX}", name="ck_location_code_length"),
        CheckConstraint(f"barcode IS NULL OR length(barcode) BETWEEN 1 AND {bounds.BARCODE_MAX}",
                        name="ck_location_barcode_length"),
        CheckConstraint(f"zone IS NULL OR length(zone) BETWEEN 1 AND {bounds.ZONE_MAX}", name="ck_location_zone_length"),
        CheckConstraint(f"pick_sequence IS NULL OR (pick_sequence >= 0 AND pick_sequence <= {bounds.MAX_PICK_SEQUENCE})",
                        name="ck_location_pick_sequence_range"),
        # Scanned barcodes are looked up ignoring case.
        Index("ix_location_barcode_ci", "warehouse_id", func.lower(Column("barcode"))),
    )

    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id", index=True)
    code: str = Field(max_length=bounds.LOCATION_CODE_MAX)
    barcode: str | None = Field(default=None, max_length=bounds.BARCODE_MAX, index=True)
    type: str = Field(max_length=16)
    zone: str | None = Field(default=None, max_length=bounds.ZONE_MAX)
    pick_sequence: int | None = None
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def is_physical(self) -> bool:
        return self.type in PHYSICAL_TYPES
