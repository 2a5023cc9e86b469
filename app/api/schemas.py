"""What the API takes and answers, as pydantic models; the OpenAPI document shows these.

Request bodies are strict: JSON types must match (a quantity is a JSON integer, not
"3" or 1.5) and unknown fields are refused, so a typo is a 400 rather than ignored.
Query strings are text, so query models convert ("?limit=10" is 10).
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.inventory import ADJUSTMENT_REASONS
from app.models import PHYSICAL_TYPES

LocationTypeName = Literal[tuple(sorted(str(t) for t in PHYSICAL_TYPES))]  # type: ignore[valid-type]
ReasonCode = Literal[ADJUSTMENT_REASONS]  # type: ignore[valid-type]
MAX_QUANTITY = 1_000_000  # per movement; keeps every balance well inside a 32-bit column

Code = Annotated[str, Field(min_length=1, max_length=32)]
LocationCode = Annotated[str, Field(min_length=1, max_length=64, description="location code or barcode")]
Sku = Annotated[str, Field(min_length=1, max_length=64)]
Quantity = Annotated[int, Field(gt=0, le=MAX_QUANTITY, description="a whole number above zero")]
WarehouseCode = Annotated[
    str | None, Field(default=None, max_length=32, description="warehouse code; the default warehouse when left out")
]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Answer(BaseModel):
    pass


# ---- errors ---------------------------------------------------------------------------------


class ErrorDetail(Answer):
    code: str = Field(description="machine-readable, e.g. validation_error, not_found, insufficient_stock")
    message: str
    field: str | None = Field(default=None, description="the request field at fault, when there is one")


class Error(Answer):
    error: ErrorDetail


# ---- warehouses and locations -----------------------------------------------------------------


class WarehouseIn(Body):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]


class Warehouse(Answer):
    code: str
    name: str
    is_default: bool


class WarehouseList(Answer):
    items: list[Warehouse]


class LocationIn(Body):
    warehouse: WarehouseCode
    code: LocationCode
    type: LocationTypeName
    barcode: Annotated[str | None, Field(max_length=128)] = None
    zone: Annotated[str | None, Field(max_length=32)] = None
    pick_sequence: Annotated[int | None, Field(ge=0, le=2_000_000_000)] = None


class Location(Answer):
    warehouse: str
    code: str
    type: str
    barcode: str | None
    zone: str | None
    pick_sequence: int | None
    active: bool


class LocationQuery(Query):
    warehouse: str | None = None
    zone: str | None = None
    type: LocationTypeName | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 500
    offset: Annotated[int, Field(ge=0)] = 0


class LocationList(Answer):
    items: list[Location]
    next_offset: int | None = Field(description="pass as offset for the next page; null on the last page")


# ---- products ---------------------------------------------------------------------------------


class ProductIn(Body):
    sku: Sku
    name: Annotated[str, Field(min_length=1, max_length=300)]
    barcodes: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(default_factory=list, max_length=50)
    weight: Annotated[float | None, Field(ge=0, le=100_000, description="kilograms")] = None


class Product(Answer):
    sku: str
    name: str
    barcodes: list[str]
    weight: float | None
    active: bool


class ProductQuery(Query):
    q: str | None = Field(default=None, description="part of a SKU or name, or a whole barcode")
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    offset: Annotated[int, Field(ge=0)] = 0


class ProductList(Answer):
    items: list[Product]
    next_offset: int | None = Field(description="pass as offset for the next page; null on the last page")


# ---- stock ------------------------------------------------------------------------------------


class AdjustmentIn(Body):
    sku: Sku
    location: LocationCode
    quantity: Annotated[
        int, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, description="signed whole number, not zero: + adds, - removes")
    ]
    reason: ReasonCode
    warehouse: WarehouseCode


class Posted(Answer):
    movement_id: int
    on_hand: int = Field(description="on hand at the location afterwards")


class TransferIn(Body):
    sku: Annotated[str, Field(min_length=1, max_length=128, description="SKU or product barcode")]
    from_location: LocationCode
    to_location: LocationCode
    quantity: Quantity
    warehouse: WarehouseCode


class Transferred(Answer):
    movement_id: int
    sku: str
    from_location: str
    to_location: str
    quantity: int
    from_on_hand: int = Field(description="on hand at from_location afterwards")
    to_on_hand: int = Field(description="on hand at to_location afterwards")


class ReceiptIn(Body):
    sku: Annotated[str, Field(min_length=1, max_length=128, description="SKU or product barcode")]
    location: LocationCode
    quantity: Quantity
    po_number: Annotated[str | None, Field(max_length=50, description="the purchase order received against")] = None
    warehouse: WarehouseCode


class StockAt(Answer):
    warehouse: str
    location: str
    on_hand: int
    allocated: int


class StockSummary(Answer):
    sku: str
    on_hand: int
    allocated: int
    available: int
    incoming: int = Field(description="still expected on open purchase orders")
    locations: list[StockAt]


class MovementQuery(Query):
    sku: str | None = None
    reference: str | None = Field(default=None, description="order number or PO number")
    type: str | None = None
    before_id: Annotated[int | None, Field(ge=1, description="next_before_id of the previous page")] = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class MovementOut(Answer):
    id: int
    type: str
    sku: str
    from_location: str
    to_location: str
    quantity: int
    reason: str | None
    reference: str | None
    created_at: str = Field(description="RFC 3339, UTC")


class MovementList(Answer):
    items: list[MovementOut]
    next_before_id: int | None = Field(description="pass as before_id for the next (older) page; null on the last")


# ---- purchase orders --------------------------------------------------------------------------


class PurchaseOrderLineIn(Body):
    sku: Sku
    quantity: Quantity


class PurchaseOrderIn(Body):
    po_number: Annotated[str, Field(min_length=1, max_length=50)]
    supplier: Annotated[str, Field(min_length=1, max_length=200)]
    warehouse: WarehouseCode
    lines: list[PurchaseOrderLineIn] = Field(min_length=1, max_length=1000)


class PurchaseOrderLine(Answer):
    sku: str
    quantity_ordered: int
    quantity_received: int


class PurchaseOrder(Answer):
    po_number: str
    supplier: str
    warehouse: str
    status: str
    created_at: str
    lines: list[PurchaseOrderLine]
