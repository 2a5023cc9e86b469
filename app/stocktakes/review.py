"""What a manager (or an integrator) sees of a stocktake, and recounts."""
from __future__ import annotations

from sqlalchemy import case, delete, func
from sqlmodel import Session, select

from app import variances
from app.errors import Conflict, NotFound
from app.models import (
    CountStatus,
    Location,
    Product,
    Stocktake,
    StocktakeLine,
    StocktakeLocation,
    User,
    Warehouse,
)
from app.stocktakes.places import (
    find_places,
    get_stocktake,
    require_open,
    scanned_codes,
)
from app.timeutil import isoformat


def describe(session: Session, stocktake_id: int, *, hide_while_counting: bool = True) -> dict:
    """The stocktake with its locations and every count line (expected, counted, variance).

    `hide_while_counting`: in a blind stocktake, a location not closed yet shows its lines' counts
    but not what the ledger expected (expected and variance are None), so that whoever reads it
    while counting (an integrator's scanner) is not steered; a closed location shows all. A manager's
    page shows all (False)."""
    stocktake = get_stocktake(session, stocktake_id)
    site = session.get(Warehouse, stocktake.warehouse_id)
    counter = User.__table__.alias("counter")
    previous = User.__table__.alias("previous")
    places = session.exec(
        select(StocktakeLocation, Location.code, Location.zone, counter.c.username, previous.c.username)
        .join(Location, Location.id == StocktakeLocation.location_id)
        .outerjoin(counter, counter.c.id == StocktakeLocation.counted_by)
        .outerjoin(previous, previous.c.id == StocktakeLocation.previous_counter)
        .where(StocktakeLocation.stocktake_id == stocktake.id)
        .order_by(Location.code)
    ).all()
    closed = {row.location_id for row, *_ in places if row.status == CountStatus.CLOSED}
    hidden = hide_while_counting and stocktake.blind
    lines = []
    for location_id, code, sku, name, expected, counted, movement_id in session.exec(
        select(StocktakeLine.location_id, Location.code, Product.sku, Product.name, StocktakeLine.expected,
               StocktakeLine.counted, StocktakeLine.movement_id)
        .join(Location, Location.id == StocktakeLine.location_id)
        .join(Product, Product.id == StocktakeLine.product_id)
        .where(StocktakeLine.stocktake_id == stocktake.id)
        .order_by(Location.code, Product.sku)
    ):
        shown = not hidden or location_id in closed
        lines.append({
            "location": code,
            "sku": sku,
            "name": name,
            "expected": expected if shown else None,
            "counted": counted,
            "variance": variances.variance(counted, expected) if shown and counted is not None else None,
            "movement_id": movement_id,
        })
    return {
        "id": stocktake.id,
        "status": stocktake.status,
        "warehouse": site.code,
        "blind": stocktake.blind,
        "note": stocktake.note,
        "created_at": isoformat(stocktake.created_at),
        "approved_at": isoformat(stocktake.approved_at),
        "locations": [
            {"location": code, "zone": zone, "status": row.status, "round": row.round, "counted_by": by,
             "previous_counter": before, "closed_at": isoformat(row.closed_at)}
            for row, code, zone, by, before in places
        ],
        "lines": lines,
    }


def list_stocktakes(session: Session, warehouse_id: int, *, limit: int = 50) -> list[dict]:
    """The warehouse's stocktakes, open ones first, newest first, with how far each has got."""
    closed = func.sum(case((StocktakeLocation.status == CountStatus.CLOSED, 1), else_=0))
    rows = session.exec(
        select(Stocktake, func.count(StocktakeLocation.id), closed, User.username)
        .join(StocktakeLocation, StocktakeLocation.stocktake_id == Stocktake.id)
        .outerjoin(User, User.id == Stocktake.created_by)
        .where(Stocktake.warehouse_id == warehouse_id)
        .group_by(Stocktake.id, User.username)
        .order_by(case((Stocktake.status == "open", 0), else_=1), Stocktake.id.desc())
        .limit(limit)
    ).all()
    return [
        {"stocktake": stocktake, "locations": int(total), "closed": int(done or 0), "created_by": by}
        for stocktake, total, done, by in rows
    ]


def recount(session: Session, stocktake_id: int, locations, *, user_id: int | None = None) -> dict:
    """Count these locations again: their lines are dropped, they wait for a counter (blind, as
    every count), and the person who counted them last is asked to leave it to someone else."""
    codes = scanned_codes(locations, "locations")
    stocktake = get_stocktake(session, stocktake_id, lock=True)
    require_open(stocktake)
    site = session.get(Warehouse, stocktake.warehouse_id)
    places = find_places(session, site, codes, "locations")
    rows = {
        row.location_id: row
        for row in session.exec(
            select(StocktakeLocation)
            .where(StocktakeLocation.stocktake_id == stocktake.id,
                   StocktakeLocation.location_id.in_([p.id for p in places]))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    for number, place in enumerate(places):
        row = rows.get(place.id)
        if row is None:
            raise NotFound(f"location {place.code} is not part of stocktake {stocktake.id}",
                           field=f"locations.{number}")
        if row.status == CountStatus.WAITING:
            raise Conflict(f"{place.code} has not been counted yet, so there is nothing to count again",
                           field=f"locations.{number}", code="not_counted_yet")
    session.execute(
        delete(StocktakeLine).where(StocktakeLine.stocktake_id == stocktake.id,
                                    StocktakeLine.location_id.in_([p.id for p in places]))
    )
    for place in places:
        row = rows[place.id]
        row.previous_counter = row.counted_by if row.counted_by is not None else row.previous_counter
        row.counted_by = None
        row.round += 1
        row.status = CountStatus.WAITING
        row.closed_at = None
    session.flush()
    return describe(session, stocktake.id)
