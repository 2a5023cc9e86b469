"""Purchase orders: stock a supplier is sending (the "incoming" figure until it is received)."""
from __future__ import annotations

from sqlmodel import Session, select

from app import bounds
from app.bounds import shown
from app.catalog import get_product
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Product, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Warehouse
from app.timeutil import isoformat
from app.warehouses import get_warehouse


def create_purchase_order(
    session: Session, *, po_number: str, supplier: str, lines: list[tuple[str, int]], warehouse: str | None = None
) -> PurchaseOrder:
    """An open PO for (sku, quantity) lines, each SKU once."""
    po_number = bounds.text(po_number, "po_number", max_length=bounds.PO_NUMBER_MAX, label="PO number")
    supplier = bounds.text(supplier, "supplier", max_length=bounds.SUPPLIER_MAX)
    if not lines:
        raise ValidationFailed("a purchase order needs at least one line", field="lines")
    if len(lines) > bounds.MAX_PO_LINES:
        raise ValidationFailed(f"a purchase order has at most {bounds.MAX_PO_LINES:,} lines", field="lines")
    site = get_warehouse(session, warehouse)
    if session.exec(select(PurchaseOrder.id).where(PurchaseOrder.po_number == po_number)).first():
        raise Conflict(f"purchase order {shown(po_number)} already exists", field="po_number")
    order = PurchaseOrder(po_number=po_number, supplier=supplier, warehouse_id=site.id, status=PurchaseOrderStatus.OPEN)
    session.add(order)
    session.flush()
    seen = set()
    for number, (sku, quantity) in enumerate(lines):
        try:
            product = get_product(session, sku)
        except NotFound as error:
            raise NotFound(error.message, field=f"lines.{number}.sku") from None
        if product.id in seen:
            raise ValidationFailed(f"{product.sku} is on more than one line", field=f"lines.{number}.sku")
        quantity = bounds.quantity(quantity, f"lines.{number}.quantity", maximum=bounds.MAX_LINE_QUANTITY,
                                   label="quantity")
        seen.add(product.id)
        session.add(PurchaseOrderLine(purchase_order_id=order.id, product_id=product.id, quantity_ordered=quantity))
    session.flush()
    return order


def get_purchase_order(session: Session, po_number: str, *, for_update: bool = False) -> PurchaseOrder:
    typed = bounds.scan(po_number, "po_number", label="PO number")
    statement = select(PurchaseOrder).where(PurchaseOrder.po_number == typed)
    if for_update:  # receipts against one PO take turns, so counts and the closing are exact
        statement = statement.with_for_update().execution_options(populate_existing=True)
    order = session.exec(statement).first()
    if order is None:
        raise NotFound(f"no purchase order {shown(typed)}", field="po_number")
    return order


def describe(session: Session, order: PurchaseOrder) -> dict:
    """The PO with its warehouse code and lines, as shown to people and integrators."""
    warehouse = session.get(Warehouse, order.warehouse_id)
    lines = session.exec(
        select(Product.sku, PurchaseOrderLine.quantity_ordered, PurchaseOrderLine.quantity_received)
        .join(Product, Product.id == PurchaseOrderLine.product_id)
        .where(PurchaseOrderLine.purchase_order_id == order.id)
        .order_by(PurchaseOrderLine.id)
    )
    return {
        "po_number": order.po_number,
        "supplier": order.supplier,
        "warehouse": warehouse.code,
        "status": order.status,
        "created_at": isoformat(order.created_at),
        "lines": [{"sku": s, "quantity_ordered": o, "quantity_received": r} for s, o, r in lines],
    }
