"""Receiving stock against a purchase order: the movements, and the PO's counts and status."""
from __future__ import annotations

from sqlmodel import Session, select

from app.catalog import find_product
from app.errors import Conflict, ValidationFailed
from app.inbound.purchase_orders import get_purchase_order
from app.inventory import Posted, receive_stock
from app.models import PurchaseOrderLine, PurchaseOrderStatus
from app.warehouses import get_warehouse


def receive(
    session: Session,
    *,
    sku: str,
    location: str,
    quantity,
    po_number: str | None = None,
    warehouse: str | None = None,
    user_id: int | None = None,
) -> Posted:
    """Receive stock into a location, against an open PO when po_number is given
    (the movement's reference is the PO number); the PO closes once every line is in."""
    if not po_number:
        return receive_stock(session, sku=sku, location=location, quantity=quantity, warehouse=warehouse, user_id=user_id)
    order = get_purchase_order(session, po_number, for_update=True)
    if order.status != PurchaseOrderStatus.OPEN:
        raise Conflict(f"purchase order {order.po_number} is {order.status}", code="purchase_order_closed", field="po_number")
    if warehouse and get_warehouse(session, warehouse).id != order.warehouse_id:
        raise ValidationFailed(f"purchase order {order.po_number} is for another warehouse", field="warehouse")
    product = find_product(session, sku)
    on_order = session.exec(
        select(PurchaseOrderLine.id).where(
            PurchaseOrderLine.purchase_order_id == order.id, PurchaseOrderLine.product_id == product.id
        )
    ).first()
    if on_order is None:
        raise ValidationFailed(f"{product.sku} is not on purchase order {order.po_number}", field="sku")
    posted = receive_stock(
        session, sku=product.sku, location=location, quantity=quantity, po_number=order.po_number, user_id=user_id
    )
    session.flush()
    outstanding = session.exec(
        select(PurchaseOrderLine.id).where(
            PurchaseOrderLine.purchase_order_id == order.id,
            PurchaseOrderLine.quantity_received < PurchaseOrderLine.quantity_ordered,
        )
    ).first()
    if outstanding is None:
        order.status = PurchaseOrderStatus.RECEIVED
        session.flush()
    return posted
