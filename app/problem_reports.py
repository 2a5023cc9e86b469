"""Problem reports: a picker says stock is damaged, missing or found; a manager approves the
adjustment it proposes, or rejects it.

Reporting moves nothing: the report keeps what was seen (where, which product, how many, a note)
and the adjustment it proposes (`propose`, a plain function):

- damaged: moved to the warehouse's quarantine location (on hand, never available, kept for a
  manager to inspect, return or write off), reason "damaged"; where the warehouse has no active
  quarantine location, or the stock is in quarantine already, written off (an adjustment down),
  reason "damaged";
- missing: an adjustment down, reason "lost";
- found: an adjustment up, reason "found".

A manager approves (the quantity may be changed) and the adjustment posts through the same use
cases as the Adjust and Move pages (app.inventory.adjust_stock / transfer_stock, so app.ledger's
rules hold: never below free stock, an active reason code, quarantine needs a reason) in the same
transaction as the report's status. When it can no longer be posted (the stock moved meanwhile) the
approval is refused in words and the report stays open. A rejection needs a reason; nothing moves.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app import bounds, scans
from app.bounds import shown
from app.catalog import find_product
from app.errors import Conflict, NotFound, ValidationFailed, WmsError
from app.inventory import adjust_stock, transfer_stock
from app.ledger import BalanceLimit, InsufficientStock
from app.models import (
    Location,
    LocationType,
    ProblemAction,
    ProblemKind,
    ProblemReport,
    ProblemStatus,
    Product,
    StockLevel,
    User,
    Warehouse,
)
from app.timeutil import utcnow
from app.warehouses import find_location, get_warehouse

KINDS = tuple(str(kind) for kind in ProblemKind)
STATUSES = tuple(str(status) for status in ProblemStatus)
NOTE_MAX = bounds.NOTE_MAX  # a picker's note, a manager's reason for rejecting
MAX_LIST = 200  # reports one list shows
KIND_WORDS = {ProblemKind.DAMAGED: "Damaged", ProblemKind.MISSING: "Missing", ProblemKind.FOUND: "Found"}
# The reason code each kind's adjustment gives (seeded by migration 0005).
KIND_REASONS = {ProblemKind.DAMAGED: "damaged", ProblemKind.MISSING: "lost", ProblemKind.FOUND: "found"}


# ---- the rule, on plain data -----------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """The adjustment a report proposes."""

    action: ProblemAction
    reason: str
    to_location: str | None = None  # the quarantine location's code (action QUARANTINE)


def propose(kind: str, *, location_type: str, quarantine: str | None) -> Proposal:
    """What a manager approving a report of `kind` at a location of `location_type` posts.
    `quarantine`: the code of the warehouse's quarantine location, None when it has none."""
    kind = ProblemKind(kind)
    reason = KIND_REASONS[kind]
    if kind == ProblemKind.FOUND:
        return Proposal(ProblemAction.ADD, reason)
    if kind == ProblemKind.DAMAGED and quarantine and location_type != LocationType.QUARANTINE:
        return Proposal(ProblemAction.QUARANTINE, reason, quarantine)
    return Proposal(ProblemAction.REMOVE, reason)


def proposal_words(action: str, reason: str, quantity: int, location: str, to_location: str | None = None) -> str:
    """The proposed adjustment in a sentence."""
    units = f"{quantity:,} unit{'' if quantity == 1 else 's'}"
    if action == ProblemAction.QUARANTINE:
        return f"Move {units} from {location} to quarantine {to_location} (reason: {reason})"
    if action == ProblemAction.ADD:
        return f"Add {units} at {location} (reason: {reason})"
    return f"Remove {units} from {location} (reason: {reason})"


def clean_kind(value, field: str = "kind") -> ProblemKind:
    typed = bounds.scan(value, field).lower()
    if not typed:
        raise ValidationFailed(f"choose what the problem is: {', '.join(KINDS)}", field=field)
    if typed not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}, not {shown(value)!r}", field=field)
    return ProblemKind(typed)


def clean_note(value, field: str = "note", *, required: bool = False, label: str = "note") -> str | None:
    return bounds.text(value, field, max_length=NOTE_MAX, required=required, label=label, multiline=True)


def _approved_quantity(value, reported: int) -> int:
    """The quantity a manager approves: the reported one when left blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return reported
    return bounds.quantity(value)


# ---- what pages and the API show -------------------------------------------------------------


@dataclass
class ReportView:
    id: int
    warehouse: str
    kind: str
    status: str
    sku: str
    product_name: str
    location: str
    quantity: int
    note: str | None
    action: str
    reason: str
    to_location: str | None
    reported_by: str | None
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    approved_quantity: int | None
    movement_id: int | None
    on_hand: int  # of the product at the location, now

    @property
    def kind_words(self) -> str:
        return KIND_WORDS[ProblemKind(self.kind)]

    @property
    def proposal(self) -> str:
        quantity = self.approved_quantity or self.quantity
        return proposal_words(self.action, self.reason, quantity, self.location, self.to_location)


def _views(session: Session, *conditions, order, limit: int = MAX_LIST, offset: int = 0) -> list[ReportView]:
    place, target = aliased(Location), aliased(Location)
    reporter, decider = aliased(User), aliased(User)
    statement = (
        select(ProblemReport, Warehouse.code, Product.sku, Product.name, place.code, target.code, reporter.username,
               decider.username, StockLevel.on_hand)
        .join(Warehouse, Warehouse.id == ProblemReport.warehouse_id)
        .join(Product, Product.id == ProblemReport.product_id)
        .join(place, place.id == ProblemReport.location_id)
        .outerjoin(target, target.id == ProblemReport.to_location_id)
        .outerjoin(reporter, reporter.id == ProblemReport.reported_by)
        .outerjoin(decider, decider.id == ProblemReport.decided_by)
        .outerjoin(StockLevel, and_(StockLevel.product_id == ProblemReport.product_id,
                                    StockLevel.location_id == ProblemReport.location_id))
        .where(*conditions)
        .order_by(*order)
        .limit(max(1, min(int(limit), MAX_LIST + 1)))
        .offset(max(0, int(offset)))
    )
    return [
        ReportView(
            id=row.id, warehouse=site, kind=row.kind, status=row.status, sku=sku, product_name=name, location=code,
            quantity=row.quantity, note=row.note, action=row.action, reason=row.reason, to_location=to_code,
            reported_by=who, created_at=row.created_at, decided_by=decider_name, decided_at=row.decided_at,
            decision_note=row.decision_note, approved_quantity=row.approved_quantity, movement_id=row.movement_id,
            on_hand=int(on_hand or 0),
        )
        for row, site, sku, name, code, to_code, who, decider_name, on_hand in session.exec(statement)
    ]


def get_report(session: Session, report_id) -> ReportView:
    report_id = bounds.row_id(report_id, "report_id", label="report number")
    found = _views(session, ProblemReport.id == report_id, order=(ProblemReport.id,), limit=1)
    if not found:
        raise NotFound(f"no problem report {report_id}", field="report_id")
    return found[0]


def list_reports(session: Session, *, warehouse=None, status=ProblemStatus.OPEN, limit: int = 50,
                 offset: int = 0) -> list[ReportView]:
    """A warehouse's reports (the default warehouse when none is named) of one status, or all
    (status None or "all"). Open ones oldest first: a queue, worked from the front; decided ones
    newest first."""
    status = bounds.status_filter(status, "status", STATUSES) if isinstance(status, str) else status
    site = warehouse if isinstance(warehouse, Warehouse) else get_warehouse(session, warehouse)
    conditions = [ProblemReport.warehouse_id == site.id]
    if status:
        conditions.append(ProblemReport.status == status)
    order = (ProblemReport.id,) if status == ProblemStatus.OPEN else (ProblemReport.id.desc(),)
    return _views(session, *conditions, order=order, limit=limit, offset=offset)


def reports_by(session: Session, user_id: int, *, limit: int = 10) -> list[ReportView]:
    """One person's latest reports, newest first (what a picker sees of their own)."""
    return _views(session, ProblemReport.reported_by == user_id, order=(ProblemReport.id.desc(),), limit=limit)


def open_count(session: Session, warehouse_id: int) -> int:
    """How many reports wait for a manager in a warehouse."""
    return session.exec(select(func.count()).select_from(ProblemReport).where(
        ProblemReport.warehouse_id == warehouse_id, ProblemReport.status == ProblemStatus.OPEN)).one()


# ---- the use cases ---------------------------------------------------------------------------


def _quarantine(session: Session, warehouse_id: int) -> Location | None:
    """The warehouse's quarantine location damaged stock goes to: the first active one by code."""
    return session.exec(
        select(Location)
        .where(Location.warehouse_id == warehouse_id, Location.type == LocationType.QUARANTINE, Location.active)
        .order_by(Location.code)
    ).first()


def report_problem(
    session: Session,
    *,
    kind,
    location,
    product,
    quantity,
    note=None,
    warehouse: str | None = None,
    user_id: int | None = None,
) -> ReportView:
    """A picker's report: OPEN, holding the adjustment it proposes. Nothing moves. Damaged or
    missing stock must be on hand there (the ledger shows how many). A quantity left blank is the
    count of a GS1 label scanned as the product (app.scans.count_of)."""
    if quantity is None or (isinstance(quantity, str) and not quantity.strip()):
        quantity = scans.count_of(product) or quantity  # a GS1 label's count, when none was typed
    quantity = bounds.quantity(quantity)
    note = clean_note(note)
    kind = clean_kind(kind)  # after the typed values: each refused in its own words even with no kind chosen
    site = get_warehouse(session, warehouse)
    place = find_location(session, site.id, location)
    item = find_product(session, product)
    if kind != ProblemKind.FOUND:
        level = session.exec(select(StockLevel.on_hand).where(StockLevel.product_id == item.id,
                                                              StockLevel.location_id == place.id)).first() or 0
        if level < quantity:
            if level:
                words = f"holds {level:,} of {item.sku} in the stock figures, so {quantity:,} cannot be {kind}: " \
                        f"report at most {level:,}"
            else:
                words = f"holds none of {item.sku} in the stock figures, so none can be {kind}: check the location " \
                        "and the product"
            raise ValidationFailed(f"{place.code} {words}", field="quantity")
    quarantine = _quarantine(session, site.id) if kind == ProblemKind.DAMAGED else None
    proposal = propose(kind, location_type=place.type, quarantine=quarantine.code if quarantine else None)
    report = ProblemReport(
        warehouse_id=site.id, kind=kind, location_id=place.id, product_id=item.id, quantity=quantity, note=note,
        action=proposal.action, reason=proposal.reason,
        to_location_id=quarantine.id if proposal.action == ProblemAction.QUARANTINE else None,
        reported_by=user_id,
    )
    session.add(report)
    session.flush()
    return get_report(session, report.id)


def _locked_open(session: Session, report_id) -> ProblemReport:
    report_id = bounds.row_id(report_id, "report_id", label="report number")
    report = session.exec(select(ProblemReport).where(ProblemReport.id == report_id).with_for_update()).first()
    if report is None:
        raise NotFound(f"no problem report {report_id}", field="report_id")
    if report.status != ProblemStatus.OPEN:
        who = session.get(User, report.decided_by) if report.decided_by else None
        raise Conflict(f"problem report {report_id} was already {report.status}"
                       f"{' by ' + who.username if who else ''}: nothing changed", code="report_not_open")
    return report


def approve(session: Session, report_id, *, quantity=None, note=None, user_id: int | None = None) -> ReportView:
    """Post the report's adjustment (the reported quantity, or `quantity`) and mark it APPROVED,
    in one transaction. An adjustment the ledger refuses now leaves the report open."""
    report = _locked_open(session, report_id)
    quantity = _approved_quantity(quantity, report.quantity)
    note = clean_note(note, "note")
    site = session.get(Warehouse, report.warehouse_id)
    place = session.get(Location, report.location_id)
    item = session.get(Product, report.product_id)
    target = session.get(Location, report.to_location_id) if report.to_location_id is not None else None
    reference = f"problem report {report.id}"
    try:
        if target is not None:
            posted = transfer_stock(session, sku=item.sku, from_location=place.code, to_location=target.code,
                                    quantity=quantity, warehouse=site.code, user_id=user_id, reason=report.reason)
        else:
            signed = quantity if report.action == ProblemAction.ADD else -quantity
            posted = adjust_stock(session, sku=item.sku, location=place.code, quantity=signed, reason=report.reason,
                                  warehouse=site.code, user_id=user_id, reference=reference)
    except WmsError as error:
        refused = Conflict(
            f"{proposal_words(report.action, report.reason, quantity, place.code, target.code if target else None)} "
            f"cannot be posted now: {error.message}. Nothing moved and the report stays open: check the location, "
            "then approve fewer or reject it",
            code=error.code, field="quantity" if isinstance(error, (InsufficientStock, BalanceLimit)) else None,
        )
        raise refused from error
    report.status = ProblemStatus.APPROVED
    report.approved_quantity = quantity
    report.movement_id = posted.movement.id
    report.decided_by = user_id
    report.decided_at = utcnow()
    report.decision_note = note
    session.flush()
    return get_report(session, report.id)


def reject(session: Session, report_id, *, reason, user_id: int | None = None) -> ReportView:
    """Close the report without moving anything; the reason is kept for the picker to read."""
    reason = clean_note(reason, "reason", label="reason for rejecting")
    if reason is None:
        raise ValidationFailed("say why the report is rejected: the picker who made it reads this", field="reason")
    report = _locked_open(session, report_id)
    report.status = ProblemStatus.REJECTED
    report.decided_by = user_id
    report.decided_at = utcnow()
    report.decision_note = reason
    session.flush()
    return get_report(session, report.id)
