"""Pick jobs: allocated WMS orders picked into totes, a stop at a time (app.outbound.picking)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from app import bounds, db
from app.api import bp, fields
from app.api.schemas import Answer, Body, LocationScan, Path, ProductScan, Quantity
from app.api.spec import operation
from app.models import PickJobStatus
from app.outbound import picking

JobStatusName = Literal[tuple(str(s) for s in PickJobStatus)]  # type: ignore[valid-type]
OrderNumbers = list[fields.lookup(description="order number")]
ToteCodes = list[fields.lookup(description="tote code or barcode")]
ToteScan = fields.lookup(description="the tote's code or barcode")


class PickJobIn(Body):
    orders: OrderNumbers = Field(min_length=1, max_length=bounds.MAX_BATCH_ORDERS,
                                 description="fully ALLOCATED WMS orders of one warehouse; one tote each")
    mode: fields.choice(picking.MODES, description="single: one order; batch: several in one walk")
    totes: ToteCodes | None = Field(None, min_length=1, max_length=bounds.MAX_BATCH_ORDERS,
                                    description="free totes, one per order in the orders' order; free ones are "
                                                "taken when left out")


class JobPath(Path):
    job_id: fields.row_id(description="pick job id")


class StopOut(Answer):
    id: int
    sequence: int = Field(description="the walk's order: by the location's pick_sequence, then its code")
    location: str = Field(description="location code")
    sku: str
    name: str = Field(description="the product's name")
    quantity: int = Field(description="units to take here into the tote (less what a short pick or an order change "
                                      "dropped)")
    picked: int
    short: int = Field(description="units found missing here")
    tote: str = Field(description="tote code")
    order_number: str
    done: bool


class ToteOut(Answer):
    tote: str
    order_number: str
    order_status: str
    position: int = Field(description="the tote's place on the cart")
    scanned: bool = Field(description="the picker scanned its label at the start")


class PickJobOut(Answer):
    id: int
    status: JobStatusName
    mode: str
    warehouse: str | None
    picker: str | None
    created_at: str
    orders: list[str]
    totes: list[ToteOut]
    stops: list[StopOut]
    next_stop: StopOut | None = Field(description="the first stop not done, in walk order; null when all are")


class PickIn(Body):
    location: LocationScan
    sku: ProductScan
    quantity: Quantity
    tote: ToteScan


class PickOut(Answer):
    job_id: int
    status: JobStatusName
    order_number: str
    order_status: str = Field(description="PICKED once every line is picked into totes")
    picked: int
    stop: StopOut
    next_stop: StopOut | None


class ShortIn(Body):
    location: LocationScan
    sku: ProductScan
    found: fields.whole(bounds.count, 0, bounds.MAX_COUNT,
                        description="units of the product the picker sees at the location")


class Reallocated(Answer):
    location: str
    quantity: int
    tote: str
    order_number: str
    sku: str


class Unfilled(Answer):
    order_number: str
    sku: str
    quantity: int = Field(description="units no location had free")


class ShortOut(Answer):
    job_id: int
    status: JobStatusName
    location: str
    sku: str
    found: int
    written_off: int = Field(description="units taken off the location's book (a count movement) so that it "
                                         "matches what was found")
    discrepancy_id: int | None = Field(description="the discrepancy raised for the units written off (GET "
                                                  "/api/v1/discrepancies); null when nothing was")
    released: int = Field(description="allocated units released at the location")
    reallocated: list[Reallocated] = Field(description="allocated again elsewhere: the job gains these stops")
    unfilled: list[Unfilled] = Field(description="not free anywhere: the order is flagged, and waits for stock "
                                                 "once its job has no stop left for it")
    next_stop: StopOut | None


@bp.post("/pick-jobs")
@operation(body=PickJobIn, response=PickJobOut, status=201, errors=(404, 409), tag="picking",
           rules={"orders": "an order is named twice, or mode single is given more than one order",
                  "totes": "not one tote per order, a tote named twice, or a location that is not a tote"})
def create_pick_job(body: PickJobIn):
    """Release orders as a pick job: stops in pick sequence, each order into a tote of its own.
    409 not_allocated (naming the order) unless every order is fully ALLOCATED; 409 tote_in_use or
    no_free_tote for totes."""
    return db.atomic(picking.create_pick_job, body.orders, body.mode, body.totes)


@bp.get("/pick-jobs/<job_id>")
@operation(path=JobPath, response=PickJobOut, errors=(404,), tag="picking")
def pick_job(job_id: int):
    """One pick job: its totes and its stops, with what was picked."""
    with db.reading() as session:
        return picking.get_pick_job(session, job_id)


@bp.post("/pick-jobs/<job_id>/picks")
@operation(path=JobPath, body=PickIn, response=PickOut, status=201, errors=(404, 409), tag="picking")
def record_pick(job_id: int, body: PickIn):
    """Pick units at a stop into its tote (the stock and its allocation move through the ledger).
    409 wrong_location, wrong_sku, wrong_tote or over_pick (nothing moves), job_closed, job_done."""
    return db.atomic(picking.record_pick, job_id, location=body.location, sku=body.sku, quantity=body.quantity,
                     tote=body.tote)


@bp.post("/pick-jobs/<job_id>/short")
@operation(path=JobPath, body=ShortIn, response=ShortOut, errors=(404, 409), tag="picking")
def record_short(job_id: int, body: ShortIn):
    """The location holds less than the job's stops need: the book is set to what was found (a
    discrepancy records the rest), and the units are allocated elsewhere when any are free.
    409 not_short when what was found covers the stops, wrong_location, wrong_sku, job_closed."""
    return db.atomic(picking.record_short, job_id, location=body.location, sku=body.sku, found=body.found)
