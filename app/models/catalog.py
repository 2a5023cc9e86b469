"""Products and the barcodes that identify them."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.timeutil import utcnow


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=300)
    weight: float | None = None  # kilograms
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ProductBarcode(SQLModel, table=True):
    __tablename__ = "product_barcode"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    barcode: str = Field(unique=True, max_length=128)
