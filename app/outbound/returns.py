"""Return to stock: picked units an order no longer wants, left in their tote with a putaway task.

When an order that has stock picked into a tote changes (a line shrank or vanished), is deleted, or
ships with picked units left over, the order's picked allocations are released by the caller's
use case (app.orders.mirror, app.orders.events); this module turns each released unit into work:
a putaway task from the tote (app.inbound.putaway, listed by GET /api/v1/putaway-tasks and the
putaway page) suggesting the location the units were picked from. The stock never moves here: it
stays in the tote, on hand and now free (not promised to anyone), until a picker puts it away
through the ordinary putaway scan flow (tote, product, where it went), which moves it out of the
tote by the ledger. A tote is free again once it is empty (app.outbound.picking._free_tote).

How it is used, in the caller's transaction with the order row locked:
    before = returns.picked_held(session, order)
    ... release some of the order's allocations ...
    returns.return_released(session, order, before)

`sources` (which pick locations the released units came from: the newest picks first) is a plain
function with unit tests.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from app import bounds
from app.inbound import putaway
from app.models import Allocation, Location, LocationType, Movement, MovementType, Order, Product
from app.orders import mirror

RETURN_PREFIX = "return "  # a return task's reference: "return <order number>"
SOURCE_TYPES = (LocationType.PICK, LocationType.STORAGE)  # where a returned unit may be suggested to go back


@dataclass(frozen=True)
class Held:
    """A picked allocation of the order as it was before a release."""

    product_id: int
    location_id: int  # the tote
    quantity: int


def picked_held(session: Session, order: Order) -> dict[int, Held]:
    """The order's open picked allocations: allocation id -> what it held."""
    line_ids = [line.id for line in mirror.lines_of(session, order)]
    return {a.id: Held(a.product_id, a.location_id, a.quantity)
            for a in mirror.open_allocations(session, line_ids) if a.picked}


def released_since(session: Session, before: dict[int, Held]) -> dict[tuple[int, int], int]:
    """What each picked allocation gave up since `before` was taken: (product_id, tote id) -> units."""
    if not before:
        return {}
    now = dict(session.execute(select(Allocation.id, Allocation.quantity)
                               .where(Allocation.id.in_(sorted(before)))).all())
    out: dict[tuple[int, int], int] = {}
    for allocation_id, held in before.items():
        gone = held.quantity - max(0, now.get(allocation_id, 0))
        if gone > 0:
            key = (held.product_id, held.location_id)
            out[key] = out.get(key, 0) + gone
    return out


def sources(picks: Sequence[tuple[int, int]], units: int) -> list[tuple[int | None, int]]:
    """Where `units` returned units came from, given the picks into the tote ((from location id,
    quantity), newest first): the newest picks first; what no pick accounts for has no source
    (None). [(location id or None, units)], one entry per location, in the order first met."""
    out: dict[int | None, int] = {}
    left = max(0, units)
    for location_id, quantity in picks:
        if left == 0:
            break
        take = min(left, max(0, quantity))
        if take:
            out[location_id] = out.get(location_id, 0) + take
            left -= take
    if left:
        out[None] = out.get(None, 0) + left
    return list(out.items())


def return_released(session: Session, order: Order, before: dict[int, Held]) -> list[dict]:
    """A return-to-stock task for every picked unit released since `before`: from its tote,
    suggesting the location it was picked from (else putaway's own suggestion). Noted on the
    order's timeline. [{sku, quantity, tote, suggested_location, task_id}]."""
    released = released_since(session, before)
    made = []
    for (product_id, tote_id), units in sorted(released.items()):
        tote = session.get(Location, tote_id)
        product = session.get(Product, product_id)
        picks = session.execute(
            select(Movement.from_location_id, Movement.quantity)
            .where(Movement.type == MovementType.PICK, Movement.to_location_id == tote_id,
                   Movement.product_id == product_id, Movement.reference == order.order_number)
            .order_by(Movement.id.desc())
        ).all()
        for source_id, quantity in sources([(loc, q) for loc, q in picks], units):
            source = session.get(Location, source_id) if source_id is not None else None
            if source is not None and (not source.active or source.type not in SOURCE_TYPES):
                source = None  # retired or not a shelf: putaway's rules suggest a place instead
            task = putaway.create_task(
                session, warehouse_id=tote.warehouse_id, product_id=product_id, quantity=quantity,
                from_location=tote, reference=reference_for(order.order_number), suggested=source,
            )
            suggested = session.get(Location, task.suggested_location_id) if task.suggested_location_id else None
            made.append({"sku": product.sku, "quantity": quantity, "tote": tote.code,
                         "suggested_location": suggested.code if suggested else None, "task_id": task.id})
    if made:
        mirror.note(session, order, "return", "back to stock: " + ", ".join(
            f"{m['quantity']} x {m['sku']} from tote {m['tote']}"
            + (f" to {m['suggested_location']}" if m["suggested_location"] else "") + f" (putaway task {m['task_id']})"
            for m in made))
    return made


def reference_for(order_number: str) -> str:
    return (RETURN_PREFIX + order_number)[:bounds.REFERENCE_MAX]

