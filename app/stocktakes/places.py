"""Finding a stocktake, the locations a request names, and a stocktake's own row for a location."""
from __future__ import annotations

from sqlalchemy import case, func, or_
from sqlmodel import Session, select

from app import bounds
from app.bounds import shown
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import (
    PHYSICAL_TYPES,
    Location,
    Stocktake,
    StocktakeLocation,
    StocktakeStatus,
    Warehouse,
)

_PHYSICAL = [str(t) for t in PHYSICAL_TYPES]


def get_stocktake(session: Session, stocktake_id: int, *, lock: bool = False) -> Stocktake:
    """The stocktake; with `lock`, taken for a recount, an approval or a cancel (one at a time)."""
    statement = select(Stocktake).where(Stocktake.id == stocktake_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    stocktake = session.exec(statement).first()
    if stocktake is None:
        raise NotFound(f"no stocktake {stocktake_id}", field="stocktake_id")
    return stocktake


def require_open(stocktake: Stocktake) -> None:
    if stocktake.status != StocktakeStatus.OPEN:
        raise Conflict(f"stocktake {stocktake.id} is {stocktake.status}: it can no longer change",
                       code=f"stocktake_{stocktake.status}")


def scanned_codes(values, field: str) -> list[str]:
    """What a request lists as locations: each scanned or typed, none blank."""
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise ValidationFailed("list the locations to count", field=field)
    if not values:
        raise ValidationFailed("name at least one location", field=field)
    if len(values) > bounds.MAX_STOCKTAKE_LOCATIONS:
        raise ValidationFailed(f"{len(values):,} locations is more than the {bounds.MAX_STOCKTAKE_LOCATIONS:,} one "
                               "stocktake counts", field=field)
    codes = []
    for number, value in enumerate(values):
        code = bounds.scan(value, f"{field}.{number}", label="location")
        if not code:
            raise ValidationFailed("scan or type a location", field=f"{field}.{number}")
        codes.append(code)
    return codes


def find_places(session: Session, warehouse: Warehouse, codes: list[str], field: str, *, listed: bool = True
                ) -> list[Location]:
    """The physical locations of the warehouse these codes or barcodes name (case ignored), in
    order, each once; two selects (by code, by barcode) whatever the number of codes. A refusal
    names `field`.<index> (`field` alone when not `listed`)."""
    by_code = {
        place.code: place
        for place in session.exec(
            select(Location).where(Location.warehouse_id == warehouse.id, Location.type.in_(_PHYSICAL),
                                   Location.code.in_(sorted({c.upper() for c in codes})))
        )
    }
    missing = [c for c in codes if c.upper() not in by_code]
    by_barcode: dict[str, Location] = {}
    if missing:
        for place in session.exec(
            select(Location)
            .where(Location.warehouse_id == warehouse.id, Location.type.in_(_PHYSICAL),
                   func.lower(Location.barcode).in_(sorted({c.lower() for c in missing})))
            .order_by(Location.id.desc())  # the first made wins, as in warehouses.find_location
        ):
            by_barcode[place.barcode.lower()] = place
    found, seen = [], {}
    for number, code in enumerate(codes):
        place = by_code.get(code.upper()) or by_barcode.get(code.lower())
        where = f"{field}.{number}" if listed else field
        if place is None:
            raise NotFound(_not_here(session, warehouse, code), field=where)
        if place.id in seen:
            raise ValidationFailed(f"{place.code} is listed twice (as {shown(codes[seen[place.id]])} and "
                                   f"{shown(code)})", field=where)
        seen[place.id] = number
        found.append(place)
    return found


def _not_here(session: Session, warehouse: Warehouse, code: str) -> str:
    """No location `code` in the warehouse: and where it is, when another warehouse has it."""
    elsewhere = session.exec(
        select(Warehouse.code)
        .join(Location, Location.warehouse_id == Warehouse.id)
        .where(Location.code == code.upper(), Location.type.in_(_PHYSICAL), Warehouse.id != warehouse.id)
        .order_by(Warehouse.code)
    ).first()
    if elsewhere:
        return f"location {shown(code)} is in warehouse {elsewhere}, not in {warehouse.code}"
    return f"no location {shown(code)} in warehouse {warehouse.code}"


def stocktake_place(session: Session, stocktake: Stocktake, scanned, *, field: str = "location",
                    lock: bool = False) -> tuple[Location, StocktakeLocation]:
    """The location a scan names and the stocktake's row for it (locked for a change)."""
    code = bounds.scan(scanned, field, label="location")
    if not code:
        raise ValidationFailed("scan or type a location", field=field)
    warehouse = session.get(Warehouse, stocktake.warehouse_id)
    (place,) = find_places(session, warehouse, [code], field, listed=False)
    statement = select(StocktakeLocation).where(StocktakeLocation.stocktake_id == stocktake.id,
                                                StocktakeLocation.location_id == place.id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(f"location {place.code} is not part of stocktake {stocktake.id}", field=field)
    return place, row


def counting_row(session: Session, row_id: int) -> tuple[Stocktake, Location, StocktakeLocation]:
    """A stocktake's location by the row's id (the count pages' addresses), to read."""
    row = session.get(StocktakeLocation, row_id)
    if row is None:
        raise NotFound(f"no location {row_id} to count")
    return get_stocktake(session, row.stocktake_id), session.get(Location, row.location_id), row


def locked_place(session: Session, *, row_id: int | None = None, stocktake_id: int | None = None,
                 scanned=None) -> tuple[Stocktake, Location, StocktakeLocation]:
    """The stocktake, the location and the stocktake's row for it, the row locked for a count or
    a close, in one statement: by the row's id (the count page) or by the stocktake and a scanned
    code or barcode (the API). What the request names that is not there (no such stocktake, no such
    location, one of another warehouse, one not in this stocktake) is said by the slower look-ups.

    Counts lock only their location's row: approval needs every location closed and a count needs
    its location open, so the two never both go ahead; a recount and approval take the stocktake."""
    statement = (
        select(StocktakeLocation, Stocktake, Location)
        .join(Stocktake, Stocktake.id == StocktakeLocation.stocktake_id)
        .join(Location, Location.id == StocktakeLocation.location_id)
        .with_for_update(of=StocktakeLocation)
        .execution_options(populate_existing=True)
    )
    if row_id is not None:
        found = session.exec(statement.where(StocktakeLocation.id == row_id)).first()
        if found is None:
            raise NotFound(f"no location {row_id} to count")
    else:
        code = bounds.scan(scanned, "location")
        if not code:
            raise ValidationFailed("scan or type a location", field="location")
        found = session.exec(
            statement.where(StocktakeLocation.stocktake_id == stocktake_id,
                            or_(Location.code == code.upper(), func.lower(Location.barcode) == code.lower()))
            .order_by(case((Location.code == code.upper(), 0), else_=1), Location.id)
        ).first()
        if found is None:  # say why
            stocktake = get_stocktake(session, stocktake_id)
            place, row = stocktake_place(session, stocktake, code, lock=True)
            return stocktake, place, row
    row, stocktake, place = found
    return stocktake, place, row
