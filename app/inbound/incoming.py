"""Incoming stock: what open and partially received purchase orders still bring, per product and
per warehouse (a PO is for one warehouse). A PO closed short, cancelled, fully received or still
a draft brings nothing. The stock figures of app.inventory take theirs from here."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from app.models import OPEN_PO_STATUSES, PurchaseOrder, PurchaseOrderLine, Warehouse

_STATUSES = [str(status) for status in OPEN_PO_STATUSES]

# How many units the lines still expected bring (see `still_expected`).
EXPECTED = func.sum(PurchaseOrderLine.quantity_ordered - PurchaseOrderLine.quantity_received)


def still_expected(*columns):
    """SELECT columns FROM the purchase order lines still expected: on an open or partially
    received order, and not all received. Sum `EXPECTED` for the units they bring."""
    return (
        select(*columns)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .where(
            PurchaseOrder.status.in_(_STATUSES),
            PurchaseOrderLine.quantity_ordered > PurchaseOrderLine.quantity_received,
        )
    )


def incoming_total(product_id_column):
    """A scalar subquery: the units still expected of the product in `product_id_column`, in every
    warehouse (0 when none), for a statement that selects products."""
    return (
        still_expected(func.coalesce(EXPECTED, 0)).where(PurchaseOrderLine.product_id == product_id_column)
        .scalar_subquery()
    )


def incoming_by_product(session: Session, product_ids: list[int] | None = None, *,
                        warehouse_id: int | None = None) -> dict[int, int]:
    """Units still expected per product (those with none are left out), in one warehouse or all."""
    statement = still_expected(PurchaseOrderLine.product_id, EXPECTED).group_by(PurchaseOrderLine.product_id)
    if product_ids is not None:
        statement = statement.where(PurchaseOrderLine.product_id.in_(product_ids))
    if warehouse_id is not None:
        statement = statement.where(PurchaseOrder.warehouse_id == warehouse_id)
    return {pid: int(total) for pid, total in session.exec(statement)}


def incoming_by_warehouse(session: Session, product_id: int) -> list[dict]:
    """One product's units still expected per warehouse, by warehouse code: [{warehouse, incoming}]."""
    statement = (
        still_expected(Warehouse.code, EXPECTED)
        .join(Warehouse, Warehouse.id == PurchaseOrder.warehouse_id)
        .where(PurchaseOrderLine.product_id == product_id)
        .group_by(Warehouse.code)
        .order_by(Warehouse.code)
    )
    return [{"warehouse": code, "incoming": int(total)} for code, total in session.exec(statement)]
