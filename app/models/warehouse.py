"""Warehouses and their locations, physical and virtual."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.timeutil import utcnow


class LocationType(StrEnum):
    RECEIVING = "receiving"
    STORAGE = "storage"
    PICK = "pick"
    PACKING = "packing"
    SHIPPING = "shipping"
    QUARANTINE = "quarantine"
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
    }
)
VIRTUAL_TYPES = frozenset(set(LocationType) - PHYSICAL_TYPES)


class Warehouse(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=200)
    is_default: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Location(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("warehouse_id", "code", name="uq_location_warehouse_code"),)

    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id", index=True)
    code: str = Field(max_length=64)
    barcode: str | None = Field(default=None, max_length=128, index=True)
    type: str = Field(max_length=16)
    zone: str | None = Field(default=None, max_length=32)
    pick_sequence: int | None = None
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def is_physical(self) -> bool:
        return self.type in PHYSICAL_TYPES
