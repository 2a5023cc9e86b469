"""Shipping an order: the stock movements that take it out of the building.

Stock leaves from the order's own allocations first (picked ones first: they sit in packing),
then from free stock in the warehouse: pick locations by pick_sequence, then storage, then any
other physical location but a tote (free stock in a tote is on its way back to a shelf, with a
return-to-stock task: app.outbound.returns; an order's own picked stock there is shipped through
its allocations). For an order the WMS was still allocating or picking when Starshipit printed the
label, that means: what is picked first, then what is allocated, then free stock; the caller
(app.orders.events) then releases what the order still holds and closes its pick stops. What is not on hand is never taken below zero and never dropped: it is
brought in from the warehouse's discrepancy location (a `discrepancy` movement) and shipped from
there, and a Discrepancy is raised for a manager. Shipped quantities of SKUs the WMS does not know
become discrepancies without movements (there is no product to move).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, select
from sqlmodel import Session

from app import ledger
from app.errors import ValidationFailed
from app.models import (
    PHYSICAL_TYPES,
    Location,
    LocationType,
    MovementType,
    Order,
    OrderLine,
    StockLevel,
)
from app.orders import mirror
from app.orders.discrepancies import raise_discrepancy
from app.warehouses import virtual_location

_PHYSICAL = [str(t) for t in PHYSICAL_TYPES]
_FREE_FROM = [t for t in _PHYSICAL if t != LocationType.TOTE]  # where free stock is shipped from
_FALLBACK_ORDER = {LocationType.SHIPPING: 0, LocationType.PACKING: 1, LocationType.PICK: 2, LocationType.STORAGE: 3}


@dataclass
class Shipped:
    quantities: dict[str, int] = field(default_factory=dict)  # sku -> shipped now
    shortfalls: dict[str, int] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.quantities.values())

    def describe(self) -> str:
        if not self.quantities:
            return "nothing left to ship"
        parts = [f"{q} x {sku}" for sku, q in self.quantities.items()]
        text = "shipped " + ", ".join(parts)
        if self.shortfalls:
            text += "; short on hand (discrepancy): " + ", ".join(f"{q} x {s}" for s, q in self.shortfalls.items())
        if self.unknown:
            text += "; unknown SKU (discrepancy): " + ", ".join(f"{q} x {s}" for s, q in self.unknown.items())
        return text


def ship(session: Session, order: Order, wanted: dict[str, int]) -> Shipped:
    """Ship up to `wanted` (sku -> quantity now) of the order's lines, never past what was ordered."""
    result = Shipped()
    plan: list[tuple[OrderLine, int]] = []
    for line in mirror.lines_of(session, order):
        quantity = min(wanted.get(line.sku, 0), line.quantity - line.shipped_quantity)
        if quantity > 0:
            plan.append((line, quantity))
    if not plan:
        return result

    product_ids = sorted({line.product_id for line, _ in plan if line.product_id is not None})
    candidates = _candidates(session, order.warehouse_id, product_ids)
    ledger.lock(session, [(level.product_id, level.location_id) for level, _ in candidates])
    customer = virtual_location(session, order.warehouse_id, LocationType.CUSTOMER)
    allocations = mirror.open_allocations(session, [line.id for line, _ in plan])

    for line, quantity in plan:
        result.quantities[line.sku] = quantity
        line.shipped_quantity += quantity
        if line.product_id is None:
            raise_discrepancy(
                session,
                sku=line.sku,
                warehouse_id=order.warehouse_id,
                quantity=quantity,
                cause="unknown_sku",
                reference=order.order_number,
                note=f"{quantity} x {line.sku} shipped on order {order.order_number}; the WMS has no such SKU",
            )
            result.unknown[line.sku] = quantity
            continue
        remaining = quantity
        own = sorted((a for a in allocations if a.order_line_id == line.id), key=lambda a: (not a.picked, a.id))
        for allocation in own:
            if remaining == 0:
                break
            take = min(remaining, allocation.quantity)
            location = session.get(Location, allocation.location_id)
            _post_shipment(session, order, line, take, location, customer, allocation=allocation)
            remaining -= take
        for level, location in candidates:
            if remaining == 0:
                break
            if level.product_id != line.product_id:
                continue
            free = level.on_hand - level.allocated
            if free <= 0:
                continue
            take = min(remaining, free)
            _post_shipment(session, order, line, take, location, customer)
            remaining -= take
        if remaining:
            _ship_shortfall(session, order, line, remaining, candidates, customer)
            result.shortfalls[line.sku] = remaining
    session.flush()
    return result


def _post_shipment(session, order, line, quantity, location, customer, allocation=None):
    return ledger.post(
        session,
        type=MovementType.SHIPMENT,
        product_id=line.product_id,
        quantity=quantity,
        from_location=location,
        to_location=customer,
        reference=order.order_number,
        allocation=allocation,
    )


def _ship_shortfall(session, order, line, quantity, candidates, customer) -> None:
    """Stock that is not on hand: in from the discrepancy location, straight out to the customer."""
    location = next((loc for level, loc in candidates if level.product_id == line.product_id), None)
    location = location or _fallback_location(session, order.warehouse_id)
    missing = virtual_location(session, order.warehouse_id, LocationType.DISCREPANCY)
    found = ledger.post(
        session,
        type=MovementType.DISCREPANCY,
        product_id=line.product_id,
        quantity=quantity,
        from_location=missing,
        to_location=location,
        reason="shortfall",
        reference=order.order_number,
    )
    _post_shipment(session, order, line, quantity, location, customer)
    raise_discrepancy(
        session,
        sku=line.sku,
        product_id=line.product_id,
        warehouse_id=order.warehouse_id,
        quantity=quantity,
        cause="shortfall",
        reference=order.order_number,
        movement_id=found.id,
        note=f"order {order.order_number} shipped {quantity} x {line.sku} more than was on hand",
    )


def _candidates(session: Session, warehouse_id: int, product_ids: list[int]) -> list[tuple[StockLevel, Location]]:
    """Balances of these products in the warehouse, in the order stock is taken from them."""
    if not product_ids:
        return []
    rank = case((Location.type == LocationType.PICK, 0), (Location.type == LocationType.STORAGE, 1), else_=2)
    statement = (
        select(StockLevel, Location)
        .join(Location, Location.id == StockLevel.location_id)
        .where(
            Location.warehouse_id == warehouse_id,
            Location.type.in_(_FREE_FROM),
            StockLevel.product_id.in_(product_ids),
        )
        .order_by(rank, Location.pick_sequence.is_(None), Location.pick_sequence, Location.code)
    )
    return [(level, location) for level, location in session.execute(statement).all()]


def _fallback_location(session: Session, warehouse_id: int) -> Location:
    locations = list(
        session.scalars(
            select(Location).where(Location.warehouse_id == warehouse_id, Location.type.in_(_PHYSICAL)).order_by(Location.id)
        )
    )
    if not locations:
        raise ValidationFailed("the warehouse has no physical location to ship from (add one on the locations page)")
    return min(locations, key=lambda loc: (not loc.active, _FALLBACK_ORDER.get(loc.type, 4), loc.id))
