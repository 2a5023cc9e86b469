"""Counting: a picker (or an integrator's scanner, through the API) records what is in a location,
product by product, then closes the location. Nothing here hands back what the ledger expects
unless the stocktake is not blind: a blind count is not steered by the figure it checks.

A count line's `expected` is the ledger's on-hand at the location, read in the same transaction
that writes the count: the snapshot approval takes the variance against. Each write of a line
(a scan that adds, a count that replaces) takes it again, so it is the ledger at the moment the
line last changed. Closing a location writes a zero for every product the ledger holds there that
was not counted, with the ledger's on-hand at the close as expected.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Integer, and_, bindparam, func, insert, literal
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from app import bounds, scans
from app.catalog import find_product, product_id_by_scan, scan_values
from app.client_actions import claim
from app.errors import Conflict, NotFound, ValidationFailed, WmsError
from app.models import (
    CountStatus,
    Location,
    Product,
    StockLevel,
    Stocktake,
    StocktakeLine,
    StocktakeLocation,
    StocktakeStatus,
    User,
)
from app.stocktakes.places import counting_row, find_places, locked_place, require_open
from app.timeutil import utcnow
from app.warehouses import get_warehouse


@dataclass(frozen=True)
class Counted:
    """A count recorded: what the counter may see (never what the ledger expects)."""

    stocktake_id: int
    row_id: int  # the stocktake's row for the location
    location: str
    sku: str
    name: str
    counted: int  # the line's count now
    added: int | None = None  # what this scan added; None when the count was set


def record_count(session: Session, stocktake_id: int, *, location, product, counted=None, add=None,
                 user_id: int | None = None) -> Counted:
    """Count a product at a location of the stocktake: `counted` replaces an earlier count of it
    (until approval), `add` adds to it (a scan: each scan one unit, or a typed quantity)."""
    add = add if add is None else scans.count_of(product) or add
    counted, add = _amount(counted, add)
    stocktake, place, row = locked_place(session, stocktake_id=stocktake_id, scanned=location)
    return _count(session, stocktake, place, row, lambda: find_product(session, product), counted, add, user_id)


def record_count_at(session: Session, row_id: int, *, product, counted=None, add=None,
                    user_id: int | None = None, client_id: str | None = None) -> Counted:
    """`record_count` for the count page, which knows the stocktake's row for the location. The
    page's scans are the floor's hottest writes: the row is locked and the product found in one
    statement, and a scan that names no product is told why by `find_product`. client_id: the
    phone's id of the scan (X-Client-Id), applied once."""
    claim(session, client_id, "count", user_id=user_id)
    add = add if add is None else scans.count_of(product) or add
    counted, add = _amount(counted, add)
    try:
        with_gtin, values = scan_values(product)
    except WmsError:  # said after the location's own refusals, as record_count says it
        stocktake, place, row = locked_place(session, row_id=row_id)
        item = None
    else:
        found = session.exec(_row_with_product(with_gtin), params={"row": row_id, **values}).first()
        if found is None:
            raise NotFound(f"no location {row_id} to count")
        row, stocktake, place, item = found
    return _count(session, stocktake, place, row, lambda: item or find_product(session, product), counted, add,
                  user_id)


@cache
def _row_with_product(with_gtin: bool):
    """The stocktake's row for a location (locked, as `locked_place` locks it), its stocktake, its
    location and the product a scan names (None when it names none). Built once."""
    return (
        select(StocktakeLocation, Stocktake, Location, Product)
        .join(Stocktake, Stocktake.id == StocktakeLocation.stocktake_id)
        .join(Location, Location.id == StocktakeLocation.location_id)
        .outerjoin(Product, Product.id == product_id_by_scan(with_gtin))
        .where(StocktakeLocation.id == bindparam("row"))
        .with_for_update(of=StocktakeLocation)
        .execution_options(populate_existing=True)
    )


def _amount(counted, add) -> tuple[int | None, int | None]:
    if add is not None:
        return None, bounds.quantity(add, "quantity", maximum=bounds.MAX_COUNT)
    return bounds.count(counted, "counted"), None


def _count(session, stocktake, place, row, product: Callable[[], Product], counted, add, user_id) -> Counted:
    """Write the line in one statement (an upsert): the count, added to or replaced, and the
    ledger's on-hand there now as expected."""
    require_open(stocktake)
    _take(session, row, place, user_id)
    item = product()
    adding = add is not None
    total = session.execute(
        _write_line(session.get_bind().dialect.name, adding),
        {"stocktake_id": stocktake.id, "location_id": place.id, "product_id": item.id,
         "counted": add if adding else counted, "now": utcnow(), "user_id": user_id},
    ).scalar()
    if total is None:  # the addition would pass MAX_COUNT: nothing written
        line = StocktakeLine.__table__
        before = session.execute(
            sa_select(line.c.counted).where(line.c.stocktake_id == stocktake.id, line.c.location_id == place.id,
                                            line.c.product_id == item.id)
        ).scalar()
        raise ValidationFailed(f"{before:,} {item.sku} counted here already: {add:,} more would pass the "
                               f"{bounds.MAX_COUNT:,} one count can hold; set the count instead", field="quantity")
    session.flush()
    return Counted(stocktake.id, row.id, place.code, item.sku, item.name, total, add)


@cache
def _write_line(dialect: str, adding: bool):
    """The count line's upsert (built once per dialect and kind): `counted` added to the line's
    count or replacing it, `expected` the ledger's on-hand there now. An addition that would pass
    MAX_COUNT writes nothing and returns no row."""
    line = StocktakeLine.__table__
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(line)
    expected = func.coalesce(
        sa_select(StockLevel.on_hand)
        .where(StockLevel.product_id == bindparam("product_id"), StockLevel.location_id == bindparam("location_id"))
        .scalar_subquery(),
        0,
    )
    amount, now, user = bindparam("counted"), bindparam("now"), bindparam("user_id")
    statement = insert.values(stocktake_id=bindparam("stocktake_id"), location_id=bindparam("location_id"),
                              product_id=bindparam("product_id"), expected=expected, counted=amount,
                              counted_at=now, counted_by=user)
    return statement.on_conflict_do_update(
        index_elements=[line.c.stocktake_id, line.c.location_id, line.c.product_id],
        set_={"counted": line.c.counted + amount if adding else amount, "expected": expected, "counted_at": now,
              "counted_by": user},
        where=line.c.counted + amount <= bounds.MAX_COUNT if adding else None,
    ).returning(line.c.counted)


def _take(session: Session, row: StocktakeLocation, place: Location, user_id: int | None, *,
          alone: bool = False) -> None:
    """The counter starts or goes on counting the location (row locked): not once it is closed, not
    while another person counts it, and a recount not by the person who counted it last time
    unless they say nobody else can (`alone`)."""
    if row.status == CountStatus.CLOSED:
        raise Conflict(f"{place.code} is counted and closed; a manager can order a recount", field="location",
                       code="location_closed")
    if row.status == CountStatus.COUNTING:
        if user_id is not None and row.counted_by is not None and row.counted_by != user_id:
            raise Conflict(f"{place.code} is being counted by {_name(session, row.counted_by)}; count another "
                           "location", field="location", code="location_taken")
        if row.counted_by is None:
            row.counted_by = user_id
        return
    if user_id is not None and row.round > 1 and row.previous_counter == user_id and not alone:
        raise Conflict(f"you counted {place.code} last time: its recount should be done by someone else. If nobody "
                       "else can, choose to count it anyway.", field="location", code="recount_by_someone_else")
    row.status = CountStatus.COUNTING
    row.counted_by = user_id


def _name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.username if user is not None else "someone else"


def start_location(session: Session, row_id: int, *, user_id: int | None, alone: bool = False) -> dict:
    """Begin counting a location before the first scan (the page's "count it anyway" for a recount
    by the person who counted it last time)."""
    stocktake, place, row = locked_place(session, row_id=row_id)
    require_open(stocktake)
    _take(session, row, place, user_id, alone=alone)
    session.flush()
    return {"row_id": row.id, "location": place.code, "status": row.status}


def close_location(session: Session, stocktake_id: int, location, *, user_id: int | None = None) -> dict:
    """The location is counted: every product the ledger holds there that was not counted counts
    as zero. Closing a closed location again changes nothing."""
    stocktake, place, row = locked_place(session, stocktake_id=stocktake_id, scanned=location)
    require_open(stocktake)
    return _close(session, stocktake, place, row, user_id)


def close_location_at(session: Session, row_id: int, *, user_id: int | None = None) -> dict:
    stocktake, place, row = locked_place(session, row_id=row_id)
    require_open(stocktake)
    return _close(session, stocktake, place, row, user_id)


def _close(session, stocktake, place, row, user_id) -> dict:
    if row.status != CountStatus.CLOSED:
        _take(session, row, place, user_id)
        now = utcnow()
        counted = sa_select(StocktakeLine.product_id).where(StocktakeLine.stocktake_id == stocktake.id,
                                                            StocktakeLine.location_id == place.id)
        uncounted = sa_select(
            literal(stocktake.id, Integer), literal(place.id, Integer), StockLevel.product_id, StockLevel.on_hand,
            literal(0, Integer), literal(now, StocktakeLine.__table__.c.counted_at.type),
            literal(user_id, Integer),
        ).where(StockLevel.location_id == place.id, StockLevel.on_hand > 0, StockLevel.product_id.not_in(counted))
        session.execute(
            insert(StocktakeLine).from_select(
                ["stocktake_id", "location_id", "product_id", "expected", "counted", "counted_at", "counted_by"],
                uncounted,
            )
        )
        row.status = CountStatus.CLOSED
        row.closed_at = now
        session.flush()
    return {"stocktake_id": stocktake.id, "row_id": row.id, "location": place.code, "status": row.status}


# ---- what a counter sees -----------------------------------------------------------------------


def count_list(session: Session, warehouse_id: int, user_id: int | None) -> list[dict]:
    """The locations of the warehouse's open stocktakes still to count, the counter's own first
    (theirs in progress, then waiting, then being counted by others, then recounts they should
    leave to someone else), each in pick-walk order."""
    rows = session.exec(
        select(StocktakeLocation, Location.code, Location.zone, Location.pick_sequence, User.username)
        .join(Stocktake, Stocktake.id == StocktakeLocation.stocktake_id)
        .join(Location, Location.id == StocktakeLocation.location_id)
        .outerjoin(User, User.id == StocktakeLocation.counted_by)
        .where(Stocktake.warehouse_id == warehouse_id, Stocktake.status == StocktakeStatus.OPEN,
               StocktakeLocation.status != CountStatus.CLOSED)
    ).all()
    result = []
    for row, code, zone, sequence, by in rows:
        yours = row.counted_by is not None and row.counted_by == user_id
        leave = row.status == CountStatus.WAITING and row.round > 1 and row.previous_counter == user_id
        taken = row.status == CountStatus.COUNTING and not yours and row.counted_by is not None
        order = 0 if yours else 3 if leave else 2 if taken else 1
        result.append({
            "row_id": row.id, "stocktake_id": row.stocktake_id, "location": code, "zone": zone,
            "status": row.status, "round": row.round, "by": by, "yours": yours, "leave": leave, "taken": taken,
            "_key": (order, sequence is None, sequence or 0, code),
        })
    result.sort(key=lambda item: item.pop("_key"))
    return result


def find_for_count(session: Session, warehouse_code: str | None, scanned) -> int:
    """The row to count for a scanned location: the open stocktake of the warehouse that counts it."""
    site = get_warehouse(session, warehouse_code)
    code = bounds.scan(scanned, "location")
    if not code:
        raise ValidationFailed("scan or type a location", field="location")
    (place,) = find_places(session, site, [code], "location", listed=False)
    row_id = session.exec(
        select(StocktakeLocation.id)
        .join(Stocktake, Stocktake.id == StocktakeLocation.stocktake_id)
        .where(StocktakeLocation.location_id == place.id, Stocktake.status == StocktakeStatus.OPEN)
    ).first()
    if row_id is None:
        raise NotFound(f"{place.code} is not in an open stocktake: nothing to count there", field="location")
    return row_id


def location_sheet(session: Session, row_id: int, user_id: int | None) -> dict:
    """The count page of one location: what this round has counted there so far, by whom; what the
    ledger holds there only when the stocktake is not blind (`expected` is None when it is)."""
    stocktake, place, row = counting_row(session, row_id)
    closed = row.status == CountStatus.CLOSED
    lines = []
    if not closed:  # once closed, its lines include the zeros of what was expected: not for a counter
        lines = [
            {"sku": sku, "name": name, "counted": counted}
            for sku, name, counted in session.exec(
                select(Product.sku, Product.name, StocktakeLine.counted)
                .join(Product, Product.id == StocktakeLine.product_id)
                .where(StocktakeLine.stocktake_id == stocktake.id, StocktakeLine.location_id == place.id)
                .order_by(StocktakeLine.counted_at.desc(), StocktakeLine.id.desc())
            )
        ]
    expected = None
    if not stocktake.blind and not closed:
        expected = [
            {"sku": sku, "name": name, "on_hand": on_hand}
            for sku, name, on_hand in session.exec(
                select(Product.sku, Product.name, StockLevel.on_hand)
                .join(StockLevel, and_(StockLevel.product_id == Product.id, StockLevel.location_id == place.id))
                .where(StockLevel.on_hand > 0)
                .order_by(Product.sku)
            )
        ]
    return {
        "row_id": row.id,
        "stocktake_id": stocktake.id,
        "stocktake_open": stocktake.status == StocktakeStatus.OPEN,
        "location": place.code,
        "zone": place.zone,
        "status": row.status,
        "round": row.round,
        "by": _name(session, row.counted_by) if row.counted_by else None,
        "yours": row.counted_by is not None and row.counted_by == user_id,
        "leave": row.status == CountStatus.WAITING and row.round > 1 and row.previous_counter == user_id,
        "taken": row.status == CountStatus.COUNTING and row.counted_by not in (None, user_id),
        "blind": stocktake.blind,
        "lines": lines,
        "expected": expected,
    }
