"""Stock: adjustments, transfers, receipts, the stock of a SKU, and the movement ledger."""
from __future__ import annotations

from app import db
from app.api import bp, schemas
from app.api.spec import operation
from app.inbound import receiving
from app.inventory import adjust_stock, movement_history, stock_summary, transfer_stock


@bp.post("/stock/adjustments")
@operation(body=schemas.AdjustmentIn, response=schemas.Posted, status=201, errors=(404, 409), tag="stock",
           rules={"reason": "it is not an active reason code (unknown, or retired)"})
def adjust(body: schemas.AdjustmentIn):
    """Add (quantity > 0) or remove (quantity < 0) stock at a location, with a reason code.
    The location is a code or barcode in the default warehouse unless warehouse is given.
    409 insufficient_stock when it would take the location below its free stock."""
    posted = db.atomic(adjust_stock, **body.model_dump())
    return {"movement_id": posted.movement.id, "on_hand": posted.on_hand}


@bp.post("/stock/transfers")
@operation(
    body=schemas.TransferIn,
    response=schemas.Transferred,
    status=201,
    errors=(404, 409),
    tag="stock",
    field_names={"product": "sku"},
    rules={
        "to_location": "it names the same location as from_location",
        "reason": "it is not an active reason code (unknown, or retired), or none is given and to_location is a "
                  "quarantine location",
    },
)
def transfer(body: schemas.TransferIn):
    """Move free stock from one location to another in the same warehouse.
    Moving stock into a quarantine location (on hand there, never available) needs a reason."""
    posted = db.atomic(transfer_stock, **body.model_dump())
    movement = posted.movement
    return {
        "movement_id": movement.id,
        "sku": posted.sku,
        "from_location": posted.from_code,
        "to_location": posted.to_code,
        "quantity": movement.quantity,
        "from_on_hand": posted.balances[movement.from_location_id].on_hand,
        "to_on_hand": posted.on_hand,
    }


@bp.post("/stock/receipts")
@operation(
    body=schemas.ReceiptIn,
    response=schemas.Posted,
    status=201,
    errors=(404, 409),
    tag="stock",
    field_names={"product": "sku"},
    rules={
        "sku": "the product is not on the purchase order (code not_on_purchase_order)",
        "warehouse": "the purchase order is for another warehouse",
    },
)
def receive(body: schemas.ReceiptIn):
    """Receive stock from a supplier into a location, against a purchase order when po_number is given.
    With a PO this is a receipt of one line (as POST /purchase-orders/{po_number}/receipts): the
    movement's reference is the PO number, a putaway task is made, 409 over_receipt past the PO's
    tolerance, 409 purchase_order_closed once it is received, closed or cancelled."""
    posted = db.atomic(receiving.receive_one, **body.model_dump())
    return {"movement_id": posted.movement_id, "on_hand": posted.on_hand}


@bp.get("/stock/<path_except(adjustments, transfers, receipts):sku>")
@operation(path=schemas.StockPath, response=schemas.StockSummary, errors=(404,), tag="stock")
def stock(sku: str):
    """A SKU's stock: on hand, allocated, available, incoming, and every location holding some."""
    with db.reading() as session:
        return stock_summary(session, sku)


@bp.get("/movements")
@operation(query=schemas.MovementQuery, response=schemas.MovementList, errors=(404,), tag="stock")
def movements(query: schemas.MovementQuery):
    """The movement ledger, newest first, filtered by SKU, reference (order or PO number) or type.
    Page back with before_id = the previous answer's next_before_id."""
    with db.reading() as session:
        items = movement_history(session, **query.model_dump())
    return {"items": items, "next_before_id": items[-1]["id"] if len(items) == query.limit else None}
