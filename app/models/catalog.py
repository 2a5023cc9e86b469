"""Products and the barcodes that identify them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, func
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class Product(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(f"length(sku) BETWEEN 1 AND {bounds.SKU_MAX}", name="ck_product_sku_length"),
        CheckConstraint(f"length(name) BETWEEN 1 AND {bounds.PRODUCT_NAME_MAX}", name="ck_product_name_length"),
        CheckConstraint(f"weight IS NULL OR (weight >= 0 AND weight <= {bounds.MAX_WEIGHT_KG:.0f})",
                        name="ck_product_weight_range"),
        CheckConstraint("receive_tolerance_percent IS NULL OR (receive_tolerance_percent >= 0 AND "
                        f"receive_tolerance_percent <= {bounds.MAX_TOLERANCE_PERCENT})",
                        name="ck_product_receive_tolerance_range"),
        # SKUs are looked up ignoring case, so two may not differ only in case.
        Index("uq_product_sku_ci", func.lower(Column("sku")), unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(unique=True, max_length=bounds.SKU_MAX)
    name: str = Field(max_length=bounds.PRODUCT_NAME_MAX)
    weight: float | None = None  # kilograms
    active: bool = True
    # Over-receipt allowed for this product on any PO, % of what was ordered (a PO's own wins).
    receive_tolerance_percent: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ProductBarcode(SQLModel, table=True):
    __tablename__ = "product_barcode"
    __table_args__ = (
        CheckConstraint(f"length(barcode) BETWEEN 1 AND {bounds.BARCODE_MAX}", name="ck_product_barcode_length"),
        CheckConstraint("gtin IS NULL OR length(gtin) = 14", name="ck_product_barcode_gtin_length"),
        Index("uq_product_barcode_ci", func.lower(Column("barcode")), unique=True),
        Index("uq_product_barcode_gtin", "gtin", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    barcode: str = Field(unique=True, max_length=bounds.BARCODE_MAX)
    # The barcode as a 14-digit GTIN when it is one (EAN-13, UPC-A, EAN-8, GTIN-14), so that any
    # GS1 symbol carrying the same number finds the product.
    gtin: str | None = Field(default=None, max_length=14)
