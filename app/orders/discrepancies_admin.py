"""A manager resolving a discrepancy: a note, who and when, and if they choose a stock
correction posted through app.inventory in the same transaction."""
from __future__ import annotations

from sqlmodel import Session, select

from app import bounds
from app.errors import Conflict, NotFound, ValidationFailed
from app.inventory import adjust_stock
from app.models import Discrepancy, DiscrepancyStatus, Warehouse
from app.timeutil import utcnow


def resolve_discrepancy(
    session: Session,
    discrepancy_id: int,
    *,
    user_id: int,
    note: str,
    correction_location: str = "",
    correction_quantity=None,
) -> Discrepancy:
    """Mark a discrepancy resolved. With a location and a quantity (+ found, - removed) the
    stock is corrected there first; a refused correction leaves the discrepancy open."""
    if not (note or "").strip():
        raise ValidationFailed("write a note saying how it was resolved", field="note")
    note = bounds.text(note, "note", max_length=bounds.NOTE_MAX, multiline=True)
    item = session.exec(select(Discrepancy).where(Discrepancy.id == discrepancy_id).with_for_update()).first()
    if item is None:
        raise NotFound(f"no discrepancy {discrepancy_id}")
    if item.status == DiscrepancyStatus.RESOLVED:
        raise Conflict(f"discrepancy {discrepancy_id} is already resolved")

    location = (correction_location or "").strip()
    quantity = "" if correction_quantity is None else str(correction_quantity).strip()
    if location or quantity:
        if not (location and quantity):
            raise ValidationFailed("a stock correction needs both a location and a quantity", field="correction")
        warehouse = session.get(Warehouse, item.warehouse_id)
        adjust_stock(
            session,
            sku=item.sku,
            location=location,
            quantity=quantity,
            reason="correction",
            warehouse=warehouse.code,
            user_id=user_id,
            reference=f"discrepancy-{item.id}",
        )
    item.status = DiscrepancyStatus.RESOLVED
    item.note = note
    item.resolved_by = user_id
    item.resolved_at = utcnow()
    session.flush()
    return item
