"""What the API takes and answers, as pydantic models; the OpenAPI document shows these.

Every value a request carries is a field type of app.api.fields: checked by app.bounds (the rule
and the words the pages use) and documented from the same constants, so the document says exactly
what is enforced. Request bodies are strict JSON (a quantity is a JSON number: 3 or 3.0, not "3",
1.5 or true) and unknown fields are refused, so a typo is a 400 rather than ignored. Query strings
are text ("?limit=10" is 10); a parameter sent empty is checked like any other value.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app import bounds
from app.api import fields
from app.catalog import receive_tolerance
from app.models import PHYSICAL_TYPES, MovementType
from app.warehouses import VIRTUAL_CODE_PREFIX

LocationTypeName = Literal[tuple(sorted(str(t) for t in PHYSICAL_TYPES))]  # type: ignore[valid-type]
MovementTypeName = Literal[tuple(v for k, v in vars(MovementType).items() if k.isupper())]  # type: ignore[valid-type]
ReasonCode = fields.code(bounds.REASON_CODE_MAX, description="an active reason code (GET /api/v1/reason-codes), any case")

WarehouseCode = fields.code(bounds.WAREHOUSE_CODE_MAX)
WarehouseScan = fields.lookup(description="warehouse code")
OptionalWarehouse = fields.lookup(nullable=True, description="warehouse code; the default warehouse when left out")
NewLocationCode = fields.code(
    bounds.LOCATION_CODE_MAX,
    not_first=VIRTUAL_CODE_PREFIX,
    description=f"letters, digits and signs without spaces; not starting with {VIRTUAL_CODE_PREFIX}",
)
LocationScan = fields.lookup(description="location code or barcode")
Sku = fields.code(bounds.SKU_MAX)
SkuScan = fields.lookup(description="SKU")
ProductScan = fields.lookup(description="SKU or product barcode")
Quantity = fields.whole(bounds.quantity, 1, bounds.MAX_MOVEMENT, description="a whole number above zero")
Offset = fields.whole(bounds.offset, 0, bounds.MAX_OFFSET, description="how many to skip")


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Path(BaseModel):
    """The arguments in a route's URL (text), checked like any other value."""

    model_config = ConfigDict(extra="forbid")


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
    code: WarehouseCode
    name: fields.text(bounds.WAREHOUSE_NAME_MAX)


class WarehousePath(Path):
    code: WarehouseScan


class Warehouse(Answer):
    code: str
    name: str
    is_default: bool


class WarehouseList(Answer):
    items: list[Warehouse]


class LocationIn(Body):
    warehouse: OptionalWarehouse = None
    code: NewLocationCode
    type: LocationTypeName
    barcode: fields.code(bounds.BARCODE_MAX, required=False, nullable=True,
                         description="what a scanner reads on the label; the code when left out or blank") = None
    zone: fields.code(bounds.ZONE_MAX, required=False, nullable=True) = None
    pick_sequence: fields.whole(bounds.pick_sequence, 0, bounds.MAX_PICK_SEQUENCE, nullable=True,
                                description="place in the pick walk, lowest first") = None


class Location(Answer):
    warehouse: str
    code: str
    type: str
    barcode: str | None
    zone: str | None
    pick_sequence: int | None
    active: bool


class LocationQuery(Query):
    warehouse: WarehouseScan = None
    zone: fields.lookup() = None
    type: LocationTypeName | None = None
    limit: fields.whole(fields.between(1, 1000), 1, 1000, description="how many, at most") = 500
    offset: Offset = 0


class LocationList(Answer):
    items: list[Location]
    next_offset: int | None = Field(description="pass as offset for the next page; null on the last page")


# ---- products ---------------------------------------------------------------------------------


class ProductIn(Body):
    sku: Sku
    name: fields.text(bounds.PRODUCT_NAME_MAX)
    barcodes: list[fields.code(bounds.BARCODE_MAX, label="barcode")] = Field(
        default_factory=list, max_length=bounds.BARCODES_PER_PRODUCT
    )
    weight: fields.measure(bounds.weight_kg, bounds.MAX_WEIGHT_KG, description="kilograms") = None
    receive_tolerance_percent: fields.whole(receive_tolerance, 0, bounds.MAX_TOLERANCE_PERCENT, nullable=True,
                                            description="over-receipt allowed on any PO line of this product, % of "
                                                        "what was ordered, when the PO sets none; null: none") = None


class ProductPath(Path):
    sku: SkuScan


class StockPath(Path):
    sku: fields.lookup(description="SKU (one spelled adjustments, transfers or receipts is asked for in capitals: "
                                   "those paths are the operations beside this one)")


class Product(Answer):
    sku: str
    name: str
    barcodes: list[str]
    weight: float | None
    active: bool
    receive_tolerance_percent: int | None = Field(description="over-receipt allowed when a PO sets none, % of what "
                                                              "was ordered; null: none")


class ProductQuery(Query):
    q: fields.text(max(bounds.PRODUCT_NAME_MAX, bounds.BARCODE_MAX), required=False,
                   description="part of a SKU or name, or a whole barcode; every product when blank") = None
    limit: fields.whole(fields.between(1, 500), 1, 500, description="how many, at most") = 50
    offset: Offset = 0


class ProductList(Answer):
    items: list[Product]
    next_offset: int | None = Field(description="pass as offset for the next page; null on the last page")


# ---- stock ------------------------------------------------------------------------------------


class AdjustmentIn(Body):
    sku: SkuScan
    location: LocationScan
    quantity: fields.whole(bounds.signed_quantity, -bounds.MAX_MOVEMENT, bounds.MAX_MOVEMENT, zero=False,
                           description="signed whole number, not zero: + adds, - removes")
    reason: ReasonCode
    warehouse: OptionalWarehouse = None


class Posted(Answer):
    movement_id: int
    on_hand: int = Field(description="on hand at the location afterwards")


class TransferIn(Body):
    sku: ProductScan
    from_location: LocationScan
    to_location: LocationScan
    quantity: Quantity
    warehouse: OptionalWarehouse = None
    reason: fields.code(bounds.REASON_CODE_MAX, nullable=True,
                        description="an active reason code (GET /api/v1/reason-codes), any case; required when "
                                    "to_location is a quarantine location; kept on the movement") = None


class Transferred(Answer):
    movement_id: int
    sku: str
    from_location: str
    to_location: str
    quantity: int
    from_on_hand: int = Field(description="on hand at from_location afterwards")
    to_on_hand: int = Field(description="on hand at to_location afterwards")


class ReceiptIn(Body):
    sku: ProductScan
    location: LocationScan
    quantity: Quantity
    po_number: fields.lookup(nullable=True, description="the purchase order received against") = None
    warehouse: OptionalWarehouse = None


class StockAt(Answer):
    warehouse: str
    location: str
    type: LocationTypeName = Field(description="the location's type: stock in quarantine is on hand, never available")
    on_hand: int
    allocated: int


class IncomingAt(Answer):
    warehouse: str
    incoming: int


class StockSummary(Answer):
    sku: str
    on_hand: int
    allocated: int
    available: int = Field(description="on hand less allocated, outside quarantine locations")
    incoming: int = Field(description="still expected on open and partially received purchase orders")
    incoming_by_warehouse: list[IncomingAt] = Field(description="incoming per warehouse (a PO is for one); "
                                                                "warehouses expecting none are left out")
    locations: list[StockAt]


class MovementQuery(Query):
    sku: SkuScan = None
    reference: fields.lookup(description="order number or PO number") = None
    type: MovementTypeName | None = None
    before_id: fields.row_id(description="next_before_id of the previous page") = None
    limit: fields.whole(fields.between(1, 500), 1, 500, description="how many, at most") = 50


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
    sku: SkuScan
    quantity: fields.whole(bounds.quantity, 1, bounds.MAX_LINE_QUANTITY, description="a whole number above zero")


class PurchaseOrderIn(Body):
    po_number: fields.text(bounds.PO_NUMBER_MAX)
    supplier: fields.text(bounds.SUPPLIER_MAX)
    warehouse: OptionalWarehouse = None
    lines: list[PurchaseOrderLineIn] = Field(min_length=1, max_length=bounds.MAX_PO_LINES)
    expected_at: fields.day(description="the day the stock is expected (YYYY-MM-DD); late after it") = None
    status: fields.choice(("draft", "open"), nullable=True,
                          description="draft (not expected yet: open it later) or open (expected at once, "
                                      "the default); any case") = None
    tolerance_percent: fields.whole(bounds.tolerance_percent, 0, bounds.MAX_TOLERANCE_PERCENT, nullable=True,
                                    description="over-receipt allowed on every line, % of what was ordered; "
                                                "when left out, each product's own (else none)") = None
    note: fields.text(bounds.NOTE_MAX, required=False, nullable=True) = None


class PurchaseOrderPath(Path):
    po_number: fields.lookup(description="PO number")


class PurchaseOrderLine(Answer):
    sku: str
    quantity_ordered: int
    quantity_received: int


class PurchaseOrder(Answer):
    po_number: str
    supplier: str
    warehouse: str
    status: str = Field(description="draft, open, partially_received, received, closed (short) or cancelled")
    created_at: str
    expected_at: str | None = Field(description="the day expected, YYYY-MM-DD")
    late: bool = Field(description="still expected (open or partially received) and its expected day has passed (UTC)")
    tolerance_percent: int | None
    note: str | None
    closed_at: str | None = Field(description="when a manager closed it short or cancelled it, RFC 3339 UTC")
    lines: list[PurchaseOrderLine]
