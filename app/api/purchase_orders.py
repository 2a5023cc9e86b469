"""Purchase orders: what suppliers are sending (counted as incoming until received)."""
from __future__ import annotations

from app import db
from app.api import bp, schemas
from app.api.spec import operation
from app.inbound.purchase_orders import create_purchase_order, describe, get_purchase_order


@bp.post("/purchase-orders")
@operation(
    body=schemas.PurchaseOrderIn,
    response=schemas.PurchaseOrder,
    status=201,
    errors=(404, 409),
    tag="purchasing",
    rules={"lines.*.sku": "the product is on an earlier line too"},
)
def add_purchase_order(body: schemas.PurchaseOrderIn):
    """Create an open purchase order; its lines count as incoming stock until received."""

    def create(session):
        order = create_purchase_order(
            session,
            po_number=body.po_number,
            supplier=body.supplier,
            warehouse=body.warehouse,
            lines=[(line.sku, line.quantity) for line in body.lines],
        )
        return describe(session, order)

    return db.atomic(create)


@bp.get("/purchase-orders/<path:po_number>")
@operation(path=schemas.PurchaseOrderPath, response=schemas.PurchaseOrder, errors=(404,), tag="purchasing")
def purchase_order(po_number: str):
    """One purchase order with its lines: ordered and received so far."""
    with db.reading() as session:
        return describe(session, get_purchase_order(session, po_number))
