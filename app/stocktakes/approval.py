"""Approving a stocktake: every variance posted as a count adjustment, the counted SKUs' open
discrepancies cleared, in one transaction.

Each line's variance is counted - expected, expected being the ledger's on-hand when the line was
counted; it is posted against the balance as it is now (movements through the warehouse's count
location, reason "count", reference "stocktake-<id>"), so whatever moved in or out after the count
stays. A removal larger than is free there now (stock left after the count, or is allocated) posts
what is free and raises a discrepancy (cause "count_not_posted") for the rest, in words: see
app.variances.plan.

Cost: the balances of the lines that change are locked in one statement (in the ledger's order),
then each posts its movement through app.ledger (one statement on PostgreSQL, two on SQLite); the
lines' movement ids, the discrepancies cleared and the stocktake are written in a few statements
whatever the number of lines.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, func, or_, text, update
from sqlmodel import Session, select

from app import ledger, variances
from app.errors import Conflict
from app.models import (
    CountStatus,
    Discrepancy,
    DiscrepancyStatus,
    Location,
    LocationType,
    MovementType,
    Product,
    StockLevel,
    StocktakeLine,
    StocktakeLocation,
    StocktakeStatus,
)
from app.orders.discrepancies import raise_discrepancy
from app.stocktakes.places import get_stocktake, require_open
from app.timeutil import utcnow
from app.warehouses import virtual_location

NOT_POSTED_CAUSE = "count_not_posted"
SHOWN_WAITING = 10  # locations named when approval waits for counts


@dataclass
class Approved:
    id: int
    status: str
    lines: int  # count lines approved
    adjustments: list[dict] = field(default_factory=list)  # {sku, location, quantity (signed), movement_id}
    discrepancies_resolved: list[int] = field(default_factory=list)
    # {sku, location, variance, posted, not_posted, reason, message, discrepancy_id}
    not_posted: list[dict] = field(default_factory=list)


def approve(session: Session, stocktake_id: int, *, user_id: int | None = None) -> Approved:
    stocktake = get_stocktake(session, stocktake_id, lock=True)
    require_open(stocktake)
    waiting = session.exec(
        select(Location.code)
        .join(StocktakeLocation, StocktakeLocation.location_id == Location.id)
        .where(StocktakeLocation.stocktake_id == stocktake.id, StocktakeLocation.status != CountStatus.CLOSED)
        .order_by(Location.code)
    ).all()
    if waiting:
        named = ", ".join(waiting[:SHOWN_WAITING]) + (f" and {len(waiting) - SHOWN_WAITING:,} more"
                                                      if len(waiting) > SHOWN_WAITING else "")
        raise Conflict(f"{len(waiting):,} location{'s are' if len(waiting) > 1 else ' is'} not counted and closed "
                       f"yet: {named}", field="locations", code="not_counted_yet")

    lines = session.exec(
        select(StocktakeLine.id, StocktakeLine.product_id, StocktakeLine.location_id, StocktakeLine.expected,
               StocktakeLine.counted, Product.sku)
        .join(Product, Product.id == StocktakeLine.product_id)
        .where(StocktakeLine.stocktake_id == stocktake.id)
        .order_by(StocktakeLine.product_id, StocktakeLine.location_id)
    ).all()
    changing = [line for line in lines if line.counted != line.expected]
    result = Approved(stocktake.id, StocktakeStatus.APPROVED, len(lines))
    reference = f"stocktake-{stocktake.id}"
    shortfalls = []
    if changing:
        balances = _lock_balances(session, stocktake.id)
        places = {
            place.id: place
            for place in session.exec(select(Location).where(Location.id.in_({line.location_id for line in changing})))
        }
        count_place = virtual_location(session, stocktake.warehouse_id, LocationType.COUNT)
        posted_ids: list[tuple[int, int]] = []  # (line id, its first movement id)
        for line in changing:
            on_hand, allocated = balances.get((line.product_id, line.location_id), (0, 0))
            plan = variances.plan(expected=line.expected, counted=line.counted, on_hand=on_hand, allocated=allocated)
            place = places[line.location_id]
            source, target = (count_place, place) if plan.post > 0 else (place, count_place)
            first = None
            for piece in variances.pieces(abs(plan.post)) if plan.post else ():
                moved = ledger.move(session, type=MovementType.COUNT, product_id=line.product_id, quantity=piece,
                                    from_location=source, to_location=target, reason="count", reference=reference,
                                    user_id=user_id).movement
                first = first or moved.id
                result.adjustments.append({"sku": line.sku, "location": place.code,
                                           "quantity": piece if plan.post > 0 else -piece, "movement_id": moved.id})
            if first is not None:
                posted_ids.append((line.id, first))
            if plan.not_posted:
                message = variances.explain(plan, sku=line.sku, location=place.code, expected=line.expected,
                                            counted=line.counted, on_hand=on_hand, allocated=allocated)
                shortfalls.append((line, place, plan, message, first))
        _note_movements(session, posted_ids)

    result.discrepancies_resolved = _clear_discrepancies(session, stocktake, user_id)
    for line, place, plan, message, movement_id in shortfalls:
        raised = raise_discrepancy(session, sku=line.sku, product_id=line.product_id,
                                   warehouse_id=stocktake.warehouse_id, quantity=plan.not_posted,
                                   cause=NOT_POSTED_CAUSE, reference=reference, movement_id=movement_id,
                                   note=message)
        result.not_posted.append({"sku": line.sku, "location": place.code, "variance": plan.variance,
                                  "posted": plan.post, "not_posted": plan.not_posted, "reason": plan.reason,
                                  "message": message, "discrepancy_id": raised.id})
    stocktake.status = StocktakeStatus.APPROVED
    stocktake.approved_at = utcnow()
    stocktake.approved_by = user_id
    session.flush()
    return result


def _lock_balances(session: Session, stocktake_id: int) -> dict[tuple[int, int], tuple[int, int]]:
    """Lock the balances of the stocktake's lines that change, in the ledger's order (product,
    location), in one statement (a join, not a list of 5,000 keys); (product_id, location_id) ->
    (on_hand, allocated). A line whose product has no balance row there yet has none: the ledger
    creates it when the variance is posted."""
    statement = (
        select(StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand, StockLevel.allocated)
        .join(StocktakeLine, and_(StocktakeLine.product_id == StockLevel.product_id,
                                  StocktakeLine.location_id == StockLevel.location_id))
        .where(StocktakeLine.stocktake_id == stocktake_id, StocktakeLine.counted != StocktakeLine.expected)
        .order_by(StockLevel.product_id, StockLevel.location_id)
        .with_for_update(of=StockLevel)
    )
    return {(p, loc): (h, a) for p, loc, h, a in session.execute(statement)}


def _note_movements(session: Session, posted: list[tuple[int, int]]) -> None:
    """Each line's count adjustment: one statement on PostgreSQL (arrays), a batch on SQLite."""
    if not posted:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("UPDATE stocktake_line SET movement_id = posted.movement_id "
                 "FROM unnest(CAST(:ids AS integer[]), CAST(:movements AS integer[])) AS posted(id, movement_id) "
                 "WHERE stocktake_line.id = posted.id"),
            {"ids": [line for line, _ in posted], "movements": [movement for _, movement in posted]},
        )
        return
    table = StocktakeLine.__table__
    session.execute(table.update().where(table.c.id == bindparam("line")).values(movement_id=bindparam("movement")),
                    [{"line": line, "movement": movement} for line, movement in posted])


def _clear_discrepancies(session: Session, stocktake, user_id: int | None) -> list[int]:
    """Resolve the warehouse's open discrepancies of every SKU the stocktake counted (by product,
    or by SKU for one raised before the product existed), linked to the stocktake."""
    counted = select(StocktakeLine.product_id).where(StocktakeLine.stocktake_id == stocktake.id)
    counted_skus = (
        select(func.lower(Product.sku))
        .join(StocktakeLine, StocktakeLine.product_id == Product.id)
        .where(StocktakeLine.stocktake_id == stocktake.id)
    )
    statement = (
        update(Discrepancy)
        .where(
            Discrepancy.warehouse_id == stocktake.warehouse_id,
            Discrepancy.status == DiscrepancyStatus.OPEN,
            or_(Discrepancy.product_id.in_(counted),
                and_(Discrepancy.product_id.is_(None), func.lower(Discrepancy.sku).in_(counted_skus))),
        )
        .values(status=DiscrepancyStatus.RESOLVED, stocktake_id=stocktake.id, resolved_at=utcnow(),
                resolved_by=user_id,
                note=f"cleared by stocktake {stocktake.id}, which counted this SKU in the warehouse")
        .returning(Discrepancy.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.execute(statement).scalars().all())
