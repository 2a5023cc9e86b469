"""Purchase orders: what suppliers are sending (counted as incoming until received or closed)."""
from __future__ import annotations

from pydantic import Field
from werkzeug.routing import PathConverter

from app import bounds, db
from app.api import bp, fields, schemas
from app.api.spec import operation
from app.inbound import po_status
from app.inbound.purchase_orders import (
    cancel_purchase_order,
    close_purchase_order,
    create_purchase_order,
    describe,
    describe_many,
    get_purchase_order,
    list_purchase_orders,
    open_purchase_order,
)
from app.warehouses import get_warehouse

# What may follow a PO number in an address: the actions on one order (receipts: app.inbound's
# receiving routes). GET /purchase-orders/<po_number> never takes them for part of the number, so
# those addresses answer 405 with the methods they do take.
ACTIONS = ("open", "close", "cancel", "receipts")


class PurchaseOrderNumberConverter(PathConverter):
    """A PO number in a path (slashes allowed) that does not end in /<one of ACTIONS>."""

    regex = f"(?!.+/(?:{'|'.join(ACTIONS)})$)" + PathConverter.regex


bp.record_once(lambda state: state.app.url_map.converters.setdefault("po_number", PurchaseOrderNumberConverter))


class PurchaseOrderQuery(schemas.Query):
    status: fields.choice(tuple(str(s) for s in po_status.STATUSES), description="one status, any case") = None
    warehouse: schemas.WarehouseScan = None
    supplier: fields.text(bounds.SUPPLIER_MAX, description="the supplier's whole name, any case") = None
    limit: fields.whole(fields.between(1, 100), 1, 100, description="how many, at most") = 50
    offset: schemas.Offset = 0


class PurchaseOrderList(schemas.Answer):
    items: list[schemas.PurchaseOrder]
    next_offset: int | None = Field(description="pass as offset for the next page; null on the last page")


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
    """Create a purchase order, open unless status is draft.
    An open order's lines count as incoming stock, in its warehouse, until received or closed."""

    def create(session):
        order = create_purchase_order(
            session,
            po_number=body.po_number,
            supplier=body.supplier,
            warehouse=body.warehouse,
            lines=[(line.sku, line.quantity) for line in body.lines],
            expected_at=body.expected_at,
            status=body.status,
            tolerance_percent=body.tolerance_percent,
            note=body.note,
        )
        return describe(session, order)

    return db.atomic(create)


@bp.get("/purchase-orders")
@operation(query=PurchaseOrderQuery, response=PurchaseOrderList, errors=(404,), tag="purchasing")
def purchase_orders(query: PurchaseOrderQuery):
    """List purchase orders, newest first, filtered by status, warehouse and supplier."""
    with db.reading() as session:
        warehouse_id = get_warehouse(session, query.warehouse).id if query.warehouse else None
        orders = list_purchase_orders(session, status=query.status, warehouse_id=warehouse_id, supplier=query.supplier,
                                      limit=query.limit + 1, offset=query.offset)
        items = describe_many(session, orders[: query.limit])
    return {"items": items, "next_offset": query.offset + query.limit if len(orders) > query.limit else None}


@bp.get("/purchase-orders/<po_number:po_number>")
@operation(path=schemas.PurchaseOrderPath, response=schemas.PurchaseOrder, errors=(404,), tag="purchasing")
def purchase_order(po_number: str):
    """One purchase order with its lines: ordered and received so far."""
    with db.reading() as session:
        return describe(session, get_purchase_order(session, po_number))


def _act(change, po_number: str):
    return db.atomic(lambda session: describe(session, change(session, po_number)))


@bp.post("/purchase-orders/<path:po_number>/open")
@operation(path=schemas.PurchaseOrderPath, response=schemas.PurchaseOrder, errors=(404, 409), tag="purchasing")
def open_order(po_number: str):
    """Open a draft purchase order: its lines count as incoming and can be received.
    409 purchase_order_status when it is not a draft."""
    return _act(open_purchase_order, po_number)


@bp.post("/purchase-orders/<path:po_number>/close")
@operation(path=schemas.PurchaseOrderPath, response=schemas.PurchaseOrder, errors=(404, 409), tag="purchasing")
def close_order(po_number: str):
    """Close a purchase order short: what was not received stops counting as incoming.
    Only an open or partially received order can be closed (else 409 purchase_order_status)."""
    return _act(close_purchase_order, po_number)


@bp.post("/purchase-orders/<path:po_number>/cancel")
@operation(path=schemas.PurchaseOrderPath, response=schemas.PurchaseOrder, errors=(404, 409), tag="purchasing")
def cancel_order(po_number: str):
    """Cancel a draft, or an open purchase order nothing was received against.
    409 purchase_order_status otherwise (close a partially received order short instead)."""
    return _act(cancel_purchase_order, po_number)
