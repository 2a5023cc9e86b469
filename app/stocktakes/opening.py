"""Opening a stocktake: of a list of locations, of a zone, or of the cycle-count suggestions; and
cancelling one. A location is in at most one open stocktake at a time (two would post the same
variance twice)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert
from sqlmodel import Session, select

from app import bounds, variances
from app.bounds import shown
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import (
    Discrepancy,
    DiscrepancyStatus,
    Location,
    Movement,
    StockLevel,
    Stocktake,
    StocktakeLocation,
    StocktakeStatus,
    Warehouse,
)
from app.stocktakes.places import (
    _PHYSICAL,
    find_places,
    get_stocktake,
    require_open,
    scanned_codes,
)
from app.stocktakes.review import describe
from app.timeutil import utcnow
from app.warehouses import get_warehouse


def open_stocktake(
    session: Session,
    *,
    locations: list[str] | None = None,
    zone: str | None = None,
    warehouse: str | Warehouse | None = None,
    blind: bool = True,
    note: str | None = None,
    user_id: int | None = None,
) -> dict:
    """Open a count of these locations (codes or barcodes), or of every active location of a zone,
    in the warehouse (the default one when not given). What the answer shows: see `opened`."""
    site = warehouse if isinstance(warehouse, Warehouse) else get_warehouse(session, warehouse)
    if not isinstance(blind, bool):
        raise ValidationFailed("blind is true or false", field="blind")
    note = bounds.text(note, "note", max_length=bounds.NOTE_MAX, required=False, multiline=True)
    if zone is not None:
        places = _zone_places(session, site, zone)
        field = "zone"
    else:
        places = find_places(session, site, scanned_codes(locations, "locations"), "locations")
        field = "locations"
    # Opening takes the locations' rows in turn, so two managers cannot both put one in a count.
    ids = sorted(place.id for place in places)
    session.exec(select(Location.id).where(Location.id.in_(ids)).order_by(Location.id).with_for_update()).all()
    busy = dict(
        session.exec(
            select(StocktakeLocation.location_id, Stocktake.id)
            .join(Stocktake, Stocktake.id == StocktakeLocation.stocktake_id)
            .where(Stocktake.status == StocktakeStatus.OPEN, StocktakeLocation.location_id.in_(ids))
        ).all()
    )
    for number, place in enumerate(places):
        if place.id in busy:
            where = field if zone is not None else f"locations.{number}"
            raise Conflict(f"{place.code} is already being counted in stocktake {busy[place.id]}: approve or "
                           "cancel that one first", field=where, code="location_in_open_stocktake")
    stocktake = Stocktake(warehouse_id=site.id, blind=blind, note=note, created_by=user_id)
    session.add(stocktake)
    session.flush()
    session.execute(insert(StocktakeLocation), [{"stocktake_id": stocktake.id, "location_id": p.id} for p in places])
    return opened(stocktake, site, places)


def opened(stocktake: Stocktake, site: Warehouse, places: list[Location]) -> dict:
    return {
        "id": stocktake.id,
        "status": stocktake.status,
        "warehouse": site.code,
        "blind": stocktake.blind,
        "locations": [{"location": p.code, "status": "waiting", "round": 1} for p in places],
    }


def zones(session: Session, warehouse_id: int) -> list[str]:
    """The zones of the warehouse's active physical locations."""
    return list(
        session.exec(
            select(Location.zone)
            .where(Location.warehouse_id == warehouse_id, Location.type.in_(_PHYSICAL), Location.active,
                   Location.zone.is_not(None))
            .distinct()
            .order_by(Location.zone)
        )
    )


def _zone_places(session: Session, site: Warehouse, zone) -> list[Location]:
    zone = bounds.scan(zone, "zone")
    if not zone:
        raise ValidationFailed("choose a zone", field="zone")
    places = list(
        session.exec(
            select(Location)
            .where(Location.warehouse_id == site.id, Location.type.in_(_PHYSICAL), Location.active,
                   Location.zone == zone.upper())
            .order_by(Location.pick_sequence.is_(None), Location.pick_sequence, Location.code)
        )
    )
    if not places:
        raise NotFound(f"no active location in zone {shown(zone)} of warehouse {site.code}", field="zone")
    if len(places) > bounds.MAX_STOCKTAKE_LOCATIONS:
        raise ValidationFailed(f"zone {shown(zone)} has {len(places):,} locations, more than the "
                               f"{bounds.MAX_STOCKTAKE_LOCATIONS:,} one stocktake counts", field="zone")
    return places


def cancel_stocktake(session: Session, stocktake_id: int) -> dict:
    """Drop an open stocktake: nothing is posted, its locations are free to count again. The
    stocktake as `review.describe` shows it."""
    stocktake = get_stocktake(session, stocktake_id, lock=True)
    require_open(stocktake)
    stocktake.status = StocktakeStatus.CANCELLED
    session.flush()
    return describe(session, stocktake.id)


def suggest_locations(session: Session, warehouse: Warehouse, *, days, limit, now: datetime | None = None
                      ) -> list[variances.Suggestion]:
    """Cycle-count suggestions for the warehouse (ranked by app.variances.suggest): its active
    physical locations not in an open stocktake, weighed by when each was last counted (the close
    of its count in an approved stocktake), its movements out in the last `days` days, and the
    open discrepancies of the products it holds."""
    days = bounds.whole(days, "days", minimum=1, maximum=bounds.MAX_CYCLE_DAYS)
    limit = bounds.whole(limit, "limit", minimum=1, maximum=bounds.MAX_STOCKTAKE_LOCATIONS,
                         label="how many locations")
    now = now or utcnow()
    in_open_count = (
        select(StocktakeLocation.location_id)
        .join(Stocktake, Stocktake.id == StocktakeLocation.stocktake_id)
        .where(Stocktake.status == StocktakeStatus.OPEN)
    )
    places = dict(
        session.exec(
            select(Location.id, Location.code).where(
                Location.warehouse_id == warehouse.id, Location.type.in_(_PHYSICAL), Location.active,
                Location.id.not_in(in_open_count),
            )
        ).all()
    )
    last_counted = dict(
        session.exec(
            select(StocktakeLocation.location_id, func.max(StocktakeLocation.closed_at))
            .join(Stocktake, Stocktake.id == StocktakeLocation.stocktake_id)
            .join(Location, Location.id == StocktakeLocation.location_id)
            .where(Stocktake.status == StocktakeStatus.APPROVED, Location.warehouse_id == warehouse.id)
            .group_by(StocktakeLocation.location_id)
        ).all()
    )
    moves_out = dict(
        session.exec(
            select(Movement.from_location_id, func.count())
            .join(Location, Location.id == Movement.from_location_id)
            .where(Location.warehouse_id == warehouse.id, Movement.created_at >= now - timedelta(days=days))
            .group_by(Movement.from_location_id)
        ).all()
    )
    discrepancies = dict(
        session.exec(
            select(StockLevel.location_id, func.count(Discrepancy.id))
            .join(Discrepancy, Discrepancy.product_id == StockLevel.product_id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(Discrepancy.warehouse_id == warehouse.id, Discrepancy.status == DiscrepancyStatus.OPEN,
                   Location.warehouse_id == warehouse.id, StockLevel.on_hand > 0)
            .group_by(StockLevel.location_id)
        ).all()
    )
    candidates = [
        variances.Candidate(code, _aware(last_counted.get(place_id)), int(moves_out.get(place_id, 0)),
                            int(discrepancies.get(place_id, 0)))
        for place_id, code in places.items()
    ]
    return variances.suggest(candidates, now=now, days=days, limit=limit)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
