"""Discrepancies: stock that left with an order without being on hand, or under a SKU the WMS does
not know. Raised here; a manager resolves them on the discrepancies page."""
from __future__ import annotations

from sqlmodel import Session

from app.models import Discrepancy


def raise_discrepancy(
    session: Session,
    *,
    sku: str,
    warehouse_id: int,
    quantity: int,
    cause: str,
    reference: str | None,
    product_id: int | None = None,
    movement_id: int | None = None,
    note: str | None = None,
) -> Discrepancy:
    discrepancy = Discrepancy(
        sku=sku,
        product_id=product_id,
        warehouse_id=warehouse_id,
        quantity=quantity,
        cause=cause,
        reference=reference,
        movement_id=movement_id,
        note=note,
    )
    session.add(discrepancy)
    session.flush()
    return discrepancy
