"""Stocktakes: open a count of some locations, post counts, close locations, read the variances,
order recounts, approve (each variance posted through the count location) or cancel.

Blind counting and the API: a count or a close answers with what was counted, never with what the
ledger expected. GET /stocktakes/<id> is for managers' tools and integrators: it shows each line's
expected and variance, except, in a blind stocktake, for the lines of a location not closed yet
(expected and variance null), so a scanner reading the stocktake while it counts is not steered.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import Field

from app import bounds, db, stocktakes
from app.api import bp, fields
from app.api.schemas import (
    Answer,
    Body,
    LocationScan,
    OptionalWarehouse,
    Path,
    ProductScan,
)
from app.api.spec import operation
from app.models import CountStatus, StocktakeStatus

StocktakeStatusName = Literal[tuple(str(s) for s in StocktakeStatus)]  # type: ignore[valid-type]
CountStatusName = Literal[tuple(str(s) for s in CountStatus)]  # type: ignore[valid-type]
StocktakeId = fields.row_id(description="the stocktake's id")
Locations = list[LocationScan]
LISTED_TWICE = "a location is listed twice (by code or by barcode)"


class StocktakeIn(Body):
    warehouse: OptionalWarehouse = None
    locations: Locations = Field(min_length=1, max_length=bounds.MAX_STOCKTAKE_LOCATIONS,
                                 description="codes or barcodes of physical locations of the warehouse")
    blind: bool = Field(default=True, description="counters never see what the ledger expects (the default)")
    note: fields.text(bounds.NOTE_MAX, required=False, nullable=True) = None


class StocktakePath(Path):
    stocktake_id: StocktakeId


class LocationPath(Path):
    stocktake_id: StocktakeId
    location: fields.lookup(description="location code or barcode")


class CountIn(Body):
    location: LocationScan
    sku: ProductScan
    counted: fields.whole(bounds.count, 0, bounds.MAX_COUNT, description="units counted; replaces an earlier count "
                                                                         "of this SKU at this location")


class RecountIn(Body):
    locations: Locations = Field(min_length=1, max_length=bounds.MAX_STOCKTAKE_LOCATIONS,
                                 description="closed or counting locations of the stocktake, to count again")


class StocktakePlace(Answer):
    location: str
    status: CountStatusName
    round: int = Field(description="1, then 2 and up for each recount")
    counted_by: str | None = Field(default=None, description="who counts or counted it this round (a person)")


class StocktakeOpened(Answer):
    id: int
    status: StocktakeStatusName
    warehouse: str
    blind: bool
    locations: list[StocktakePlace]


class StocktakeLine(Answer):
    location: str
    sku: str
    expected: int | None = Field(description="on hand in the ledger when it was counted; null while a blind "
                                             "stocktake's location is still being counted")
    counted: int | None
    variance: int | None = Field(description="counted - expected; null when expected is")
    movement_id: int | None = Field(description="the count adjustment posted at approval")


class Stocktake(StocktakeOpened):
    note: str | None
    created_at: str
    approved_at: str | None
    lines: list[StocktakeLine]


class Counted(Answer):
    stocktake_id: int
    location: str
    sku: str
    counted: int


class Closed(Answer):
    stocktake_id: int
    location: str
    status: CountStatusName


class Adjustment(Answer):
    sku: str
    location: str
    quantity: int = Field(description="+ added, - taken off, through the count location")
    movement_id: int


class NotPosted(Answer):
    sku: str
    location: str
    variance: int
    posted: int
    not_posted: int = Field(description="units of the variance that could not be taken off (stock left after the "
                                        "count, or is allocated); raised as a discrepancy")
    reason: str
    message: str
    discrepancy_id: int


class Approved(Answer):
    id: int
    status: StocktakeStatusName
    lines: int = Field(description="count lines approved")
    adjustments: list[Adjustment]
    discrepancies_resolved: list[int]
    not_posted: list[NotPosted]


API_USER = None  # a token is not a person: counts and approvals through the API name no counter


@bp.post("/stocktakes")
@operation(body=StocktakeIn, response=StocktakeOpened, status=201, errors=(404, 409), tag="stocktakes",
           rules={"locations.*": LISTED_TWICE})
def open_stocktake(body: StocktakeIn):
    """Open a stocktake of these locations (blind unless blind is false).
    409 when a location is already in another open stocktake."""
    return db.atomic(stocktakes.open_stocktake, locations=body.locations, warehouse=body.warehouse, blind=body.blind,
                     note=body.note, user_id=API_USER)


@bp.get("/stocktakes/<stocktake_id>")
@operation(path=StocktakePath, response=Stocktake, errors=(404,), tag="stocktakes")
def stocktake(stocktake_id: int):
    """A stocktake: its locations, and each count line's expected, counted and variance."""
    with db.reading() as session:
        return stocktakes.describe(session, stocktake_id)


@bp.post("/stocktakes/<stocktake_id>/counts")
@operation(path=StocktakePath, body=CountIn, response=Counted, status=201, errors=(404, 409), tag="stocktakes",
           field_names={"product": "sku"})
def count(stocktake_id: int, body: CountIn):
    """Count a SKU (or product barcode) at a location of the stocktake; a second count replaces the first
    until approval. The answer never says what the ledger expected. 409 when the location is closed
    or the stocktake no longer open."""
    counted = db.atomic(stocktakes.record_count, stocktake_id, location=body.location, product=body.sku,
                        counted=body.counted, user_id=API_USER)
    return {"stocktake_id": counted.stocktake_id, "location": counted.location, "sku": counted.sku,
            "counted": counted.counted}


@bp.post("/stocktakes/<stocktake_id>/locations/<path:location>/close")
@operation(path=LocationPath, response=Closed, errors=(404, 409), tag="stocktakes")
def close(stocktake_id: int, location: str):
    """The location is counted: every SKU the ledger holds there that was not counted counts as 0.
    Closing it again changes nothing."""
    return db.atomic(stocktakes.close_location, stocktake_id, location, user_id=API_USER)


@bp.post("/stocktakes/<stocktake_id>/recount")
@operation(path=StocktakePath, body=RecountIn, response=StocktakeOpened, errors=(404, 409), tag="stocktakes",
           rules={"locations.*": LISTED_TWICE})
def recount(stocktake_id: int, body: RecountIn):
    """Count these locations again: their counts are dropped and they wait for a counter (blind).
    409 for a location not counted yet."""
    return db.atomic(stocktakes.recount, stocktake_id, body.locations, user_id=API_USER)


@bp.post("/stocktakes/<stocktake_id>/approve")
@operation(path=StocktakePath, response=Approved, errors=(404, 409), tag="stocktakes")
def approve(stocktake_id: int):
    """Post every variance (counted - expected at count time) as a count adjustment against the stock as it
    is now, and clear the warehouse's open discrepancies of the counted SKUs, in one transaction.
    A removal larger than is free now posts what is free; the rest is raised as a discrepancy
    (not_posted). 409 while a location is not closed, or once approved or cancelled."""
    approved = db.atomic(stocktakes.approve, stocktake_id, user_id=API_USER)
    return asdict(approved)


@bp.post("/stocktakes/<stocktake_id>/cancel")
@operation(path=StocktakePath, response=StocktakeOpened, errors=(404, 409), tag="stocktakes")
def cancel(stocktake_id: int):
    """Cancel an open stocktake: nothing is posted and its locations can be counted in another."""

    return db.atomic(stocktakes.cancel_stocktake, stocktake_id)
