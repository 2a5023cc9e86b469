"""Receiving against purchase orders, and reversing a receipt."""
from __future__ import annotations

from pydantic import Field

from app import bounds, db
from app.api import bp, fields
from app.api.schemas import Answer, Body, LocationScan, Path, ProductScan, Quantity
from app.api.spec import operation
from app.inbound import receiving


class ReceiptLineIn(Body):
    sku: ProductScan
    quantity: Quantity


class ReceiptIn(Body):
    location: LocationScan = Field(description="location code or barcode in the purchase order's warehouse")
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=bounds.MAX_PO_LINES,
                                       description="each SKU once; all lines are received or none")


class ReceiptPath(Path):
    po_number: fields.lookup(description="PO number")


class ReceivedLineOut(Answer):
    sku: str
    quantity: int
    movement_id: int


class ReceiptOut(Answer):
    id: int
    po_number: str
    status: str = Field(description="the purchase order's status afterwards")
    location: str
    lines: list[ReceivedLineOut]
    putaway_tasks: list[int] = Field(description="the open putaway task made for each line, in line order")


class ReversePath(Path):
    receipt_id: fields.row_id(description="receipt id")


class ReversalMovement(Answer):
    id: int
    sku: str
    quantity: int
    from_location: str
    to_location: str


class ReversalOut(Answer):
    id: int
    po_number: str
    status: str = Field(description="the purchase order's status afterwards")
    movements: list[ReversalMovement]
    cancelled_tasks: list[int] = Field(description="the receipt's open putaway tasks, now cancelled")


@bp.post("/purchase-orders/<path:po_number>/receipts")
@operation(
    path=ReceiptPath,
    body=ReceiptIn,
    response=ReceiptOut,
    status=201,
    errors=(404, 409),
    tag="purchasing",
    rules={
        "lines.*.sku": "the product is not on the purchase order (code not_on_purchase_order), or is on an earlier "
                       "line too",
    },
)
def receive_purchase_order(po_number: str, body: ReceiptIn):
    """Receive lines of an open or partly received purchase order into a location, all or none.
    Each line is a movement supplier -> location with the PO number as reference, counted on the
    PO and made an open putaway task. 409 over_receipt when a line would pass what was ordered plus
    the PO's (else the product's) tolerance; 409 purchase_order_closed when the PO is a draft,
    received, closed or cancelled."""
    done = db.atomic(receiving.receive, po_number=po_number, location=body.location,
                     lines=[(line.sku, line.quantity) for line in body.lines])
    return {
        "id": done.id,
        "po_number": done.po_number,
        "status": done.status,
        "location": done.location,
        "lines": [{"sku": line.sku, "quantity": line.quantity, "movement_id": line.movement_id} for line in done.lines],
        "putaway_tasks": done.putaway_tasks,
    }


@bp.post("/receipts/<receipt_id>/reverse")
@operation(path=ReversePath, response=ReversalOut, status=201, errors=(404, 409), tag="purchasing")
def reverse_receipt(receipt_id: int):
    """Reverse a receipt: its stock back to the supplier, the PO's received counts and status
    restored, its open putaway tasks cancelled. 409 stock_moved_on when any of it has been put
    away or is no longer free where it was received; 409 receipt_reversed the second time."""
    return db.atomic(receiving.reverse, receipt_id)
