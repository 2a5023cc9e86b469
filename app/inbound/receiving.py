"""Receiving against a purchase order: the one home of it.

A receipt takes lines of one open purchase order into one location of its warehouse, all or none:
the PO is locked (receipts against one PO take turns, so no received unit is lost), every line is
checked (on the PO, within its tolerance: app.inbound.receipt_rules), then each is posted as a
movement supplier -> location with the PO number as reference (app.inventory.receive_stock, which
knows nothing of purchase orders), counted on its PO line, and handed to putaway as an open task.
A manager can reverse a receipt while its stock is still where it was received.

The receiving page asks `check_scan` about each scan (read only, one small request) and keeps the
receipt being scanned itself until the picker confirms it; what a scan could not take can be kept
as a receiving exception for a manager.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from app import bounds, ledger, scans
from app.bounds import shown
from app.catalog import find_product
from app.client_actions import claim
from app.errors import Conflict, NotFound, ValidationFailed, WmsError
from app.inbound import po_status, putaway
from app.inbound.purchase_orders import get_purchase_order
from app.inbound.receipt_rules import LineRoom, tolerance_percent
from app.inventory import receive_stock
from app.models import (
    OPEN_PO_STATUSES,
    Location,
    LocationType,
    MovementType,
    Product,
    ProductBarcode,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    ReceivingException,
    User,
    Warehouse,
)
from app.scans import gtin_of
from app.timeutil import utcnow
from app.warehouses import find_location, get_warehouse, virtual_location

EXCEPTION_KINDS = ("unknown_barcode", "not_on_purchase_order", "over_receipt")
REVERSAL_REASON = "reversal"


# ---- the purchase order as receiving sees it -----------------------------------------------------


@dataclass
class OrderLine:
    """A PO line with its product and what may still be received."""

    line: PurchaseOrderLine
    product_id: int
    sku: str
    name: str
    room: LineRoom

    def as_dict(self) -> dict:
        return {"sku": self.sku, "name": self.name, "ordered": self.room.ordered, "received": self.room.received,
                "to_come": self.room.to_come, "most": self.room.most, "tolerance": self.room.tolerance}


def _order_lines(session: Session, order: PurchaseOrder, *, products: list[int] | None = None,
                 skus: list[str] | None = None) -> list[OrderLine]:
    """The PO's lines; only those of these products or SKUs (any case) when given."""
    statement = (
        select(PurchaseOrderLine, Product.sku, Product.name, Product.receive_tolerance_percent)
        .join(Product, Product.id == PurchaseOrderLine.product_id)
        .where(PurchaseOrderLine.purchase_order_id == order.id)
        .order_by(PurchaseOrderLine.id)
        .execution_options(populate_existing=True)
    )
    if products is not None or skus is not None:
        wanted = PurchaseOrderLine.product_id.in_(products or [])
        if skus:
            wanted = wanted | func.lower(Product.sku).in_(sorted({sku.lower() for sku in skus}))
        statement = statement.where(wanted)
    rows = session.exec(statement)
    return [
        OrderLine(line, line.product_id, sku, name,
                  LineRoom(line.quantity_ordered, line.quantity_received, tolerance_percent(order.tolerance_percent, own)))
        for line, sku, name, own in rows
    ]


def _refuse_unless_receivable(order: PurchaseOrder) -> None:
    problem = po_status.receiving_refusal(order.status, order.po_number)
    if problem is not None:
        raise problem


def _restatus(session: Session, order: PurchaseOrder) -> None:
    session.flush()
    lines = session.exec(
        select(PurchaseOrderLine.quantity_ordered, PurchaseOrderLine.quantity_received)
        .where(PurchaseOrderLine.purchase_order_id == order.id)
    ).all()
    order.status = po_status.status_after_receipt(order.status, [(o, r) for o, r in lines])
    order.updated_at = utcnow()
    session.flush()


def _match(session: Session, lines: list[OrderLine], scanned: str) -> OrderLine | None:
    """The PO line a scan names: its product's SKU, one of its barcodes, or a GTIN they share."""
    lowered = scanned.lower()
    for candidate in lines:
        if candidate.sku.lower() == lowered:
            return candidate
    ids = {candidate.product_id: candidate for candidate in lines}
    if not ids:
        return None
    gtin = gtin_of(scanned)
    match = func.lower(ProductBarcode.barcode) == lowered
    if gtin:
        match = match | (ProductBarcode.gtin == gtin)
    found = session.exec(
        select(ProductBarcode.product_id).where(ProductBarcode.product_id.in_(list(ids)), match)
    ).first()
    return ids.get(found)


def _line_for(session: Session, order: PurchaseOrder, lines: list[OrderLine], scanned, field: str) -> OrderLine:
    """The PO line for what was scanned or typed; a product unknown (404) or not on the PO (400,
    not_on_purchase_order) is refused naming what was scanned."""
    typed = bounds.scan(scanned, field, label="product")
    if not typed:
        raise ValidationFailed("scan or type a product", field=field)
    found = _match(session, lines, typed)
    if found is not None:
        return found
    raise _not_on_order(order, _product(session, typed, field), typed, field)


def _product(session: Session, scanned, field: str) -> Product:
    """The product a scan names; one nobody knows is refused naming the scan (unknown_barcode)."""
    typed = bounds.scan(scanned, field, label="product")
    if not typed:
        raise ValidationFailed("scan or type a product", field=field)
    try:
        return find_product(session, typed)
    except NotFound:
        raise NotFound(f"no product with SKU or barcode {shown(typed)}", code="unknown_barcode", field=field) from None


def _not_on_order(order: PurchaseOrder, product: Product, typed: str, field: str = "product") -> ValidationFailed:
    what = product.sku if product.sku.lower() == typed.lower() else f"{shown(typed)} ({product.sku})"
    return ValidationFailed(f"{what} · {product.name} is not on purchase order {order.po_number}",
                            code="not_on_purchase_order", field=field)


def _over_receipt(order: PurchaseOrder, found: OrderLine, quantity: int, field: str, counted: int = 0) -> None:
    room = found.room if not counted else LineRoom(found.room.ordered, found.room.received + counted,
                                                   found.room.tolerance)
    refusal = room.refusal(quantity)
    if refusal:
        scanned_already = f" ({counted:,} scanned in this receipt)" if counted else ""
        raise Conflict(f"{found.sku} on {order.po_number}{scanned_already}: {refusal}", code="over_receipt",
                       field=field)


# ---- a scan on the receiving page (reads only) ---------------------------------------------------


@dataclass
class Scanned:
    """A scan the receipt being scanned can take."""

    sku: str
    name: str
    added: int  # units this scan adds
    counted: int  # units of it in the receipt being scanned, with this scan
    ordered: int
    received: int  # before this receipt
    most: int  # the most the line may hold in all (tolerance included)
    lines: dict[str, dict] = field(default_factory=dict)  # every line of the PO by SKU (OrderLine.as_dict)

    @property
    def to_come(self) -> int:
        return max(self.ordered - self.received - self.counted, 0)

    @property
    def over(self) -> int:
        """Units past what was ordered (allowed by the tolerance)."""
        return max(self.received + self.counted - self.ordered, 0)


def check_scan(session: Session, *, po_number, product, quantity=1, counted: dict[str, int] | None = None) -> Scanned:
    """What a scan adds to the receipt being scanned (counted: SKU -> units scanned so far), or the
    refusal: unknown barcode (404), not on the PO (400), past the tolerance (409)."""
    order = get_purchase_order(session, po_number)
    _refuse_unless_receivable(order)
    quantity = scans.count_of(product) or quantity
    quantity = bounds.quantity(quantity)
    counted = counted or {}
    item = _product(session, product, "product")
    # Only the lines this page shows: the scanned product's and those of the receipt being scanned.
    lines = _order_lines(session, order, products=[item.id], skus=list(counted))
    found = next((line for line in lines if line.product_id == item.id), None)
    if found is None:
        raise _not_on_order(order, item, bounds.scan(product, "product"))
    already = counted.get(found.sku, 0)
    _over_receipt(order, found, quantity, "quantity", counted=already)
    room = found.room
    return Scanned(found.sku, found.name, quantity, already + quantity, room.ordered, room.received, room.most,
                   {line.sku: line.as_dict() for line in lines})


def progress(session: Session, order: PurchaseOrder) -> list[dict]:
    """Each line of the PO: ordered, received, still to come, the most it may take."""
    return [line.as_dict() for line in _order_lines(session, order)]


def default_location(session: Session, warehouse_id: int) -> Location | None:
    """The warehouse's first receiving location (walk order, then code)."""
    return session.exec(
        select(Location)
        .where(Location.warehouse_id == warehouse_id, Location.type == LocationType.RECEIVING, Location.active)
        .order_by(Location.pick_sequence.is_(None), Location.pick_sequence, Location.code)
    ).first()


def receivable_orders(session: Session, warehouse_id: int, limit: int = 100) -> list[PurchaseOrder]:
    """Open and partly received POs of a warehouse, the ones expected first."""
    return list(session.exec(
        select(PurchaseOrder)
        .where(PurchaseOrder.warehouse_id == warehouse_id, PurchaseOrder.status.in_([str(s) for s in OPEN_PO_STATUSES]))
        .order_by(PurchaseOrder.expected_at.is_(None), PurchaseOrder.expected_at, PurchaseOrder.id)
        .limit(limit)
    ))


# ---- receiving -----------------------------------------------------------------------------------


@dataclass
class ReceivedLine:
    sku: str
    name: str
    quantity: int
    movement_id: int
    putaway_task: int
    on_hand: int  # at the receiving location afterwards


@dataclass
class Received:
    id: int
    po_number: str
    status: str  # the PO's, afterwards
    location: str
    lines: list[ReceivedLine] = field(default_factory=list)

    @property
    def putaway_tasks(self) -> list[int]:
        return [line.putaway_task for line in self.lines]

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


def receive(
    session: Session,
    *,
    po_number,
    location,
    lines,
    warehouse: str | None = None,
    user_id: int | None = None,
    client_id: str | None = None,
) -> Received:
    """Receive (sku, quantity) lines of an open PO into a location of its warehouse, all or none.
    A SKU may be given as a barcode; each SKU once. client_id: the phone's id of the receipt
    (X-Client-Id), applied once."""
    claim(session, client_id, "receipt", user_id=user_id)
    if not isinstance(lines, (list, tuple)) or not lines:
        raise ValidationFailed("a receipt needs at least one line", field="lines")
    if len(lines) > bounds.MAX_PO_LINES:
        raise ValidationFailed(f"a receipt has at most {bounds.MAX_PO_LINES:,} lines", field="lines")
    order = get_purchase_order(session, po_number, for_update=True)
    _refuse_unless_receivable(order)
    if warehouse and get_warehouse(session, warehouse).id != order.warehouse_id:
        raise ValidationFailed(f"purchase order {order.po_number} is for another warehouse", field="warehouse")
    site = session.get(Warehouse, order.warehouse_id)
    place = find_location(session, site.id, location)
    on_order = _order_lines(session, order)
    wanted: list[tuple[OrderLine, int]] = []
    seen: set[int] = set()
    for number, (sku, quantity) in enumerate(lines):
        found = _line_for(session, order, on_order, sku, f"lines.{number}.sku")
        if found.product_id in seen:
            raise ValidationFailed(f"{found.sku} is on more than one line", field=f"lines.{number}.sku")
        seen.add(found.product_id)
        quantity = scans.count_of(sku, f"lines.{number}.sku") or quantity
        quantity = bounds.quantity(quantity, f"lines.{number}.quantity", label="quantity")
        _over_receipt(order, found, quantity, f"lines.{number}.quantity")
        wanted.append((found, quantity))

    receipt = Receipt(purchase_order_id=order.id, location_id=place.id, user_id=user_id)
    session.add(receipt)
    session.flush()
    done = Received(receipt.id, order.po_number, order.status, place.code)
    for found, quantity in wanted:
        posted = receive_stock(session, sku=found.sku, location=place.code, quantity=quantity, warehouse=site.code,
                               user_id=user_id, reference=order.po_number)
        found.line.quantity_received += quantity
        line = ReceiptLine(receipt_id=receipt.id, purchase_order_line_id=found.line.id, product_id=found.product_id,
                           quantity=quantity, movement_id=posted.movement.id)
        session.add(line)
        session.flush()
        task = putaway.create_task(session, warehouse_id=site.id, product_id=found.product_id, quantity=quantity,
                                   from_location=place, reference=order.po_number, receipt_line_id=line.id)
        done.lines.append(ReceivedLine(found.sku, found.name, quantity, posted.movement.id, task.id, posted.on_hand))
    _restatus(session, order)
    done.status = order.status
    return done


@dataclass
class ReceivedOne:
    movement_id: int
    on_hand: int


def receive_one(
    session: Session,
    *,
    sku,
    location,
    quantity,
    po_number=None,
    warehouse: str | None = None,
    user_id: int | None = None,
) -> ReceivedOne:
    """One SKU received into a location: against an open PO when po_number is given (a receipt of
    one line, as `receive`), else stock from a supplier without one."""
    if not po_number:
        posted = receive_stock(session, sku=sku, location=location, quantity=quantity, warehouse=warehouse,
                               user_id=user_id)
        return ReceivedOne(posted.movement.id, posted.on_hand)
    try:
        done = receive(session, po_number=po_number, location=location, lines=[(sku, quantity)], warehouse=warehouse,
                       user_id=user_id)
    except WmsError as error:
        if error.field and error.field.startswith("lines.0."):
            error.field = error.field.removeprefix("lines.0.")
        raise
    return ReceivedOne(done.lines[0].movement_id, done.lines[0].on_hand)


# ---- reversing a receipt -------------------------------------------------------------------------


def _receipt_id(value) -> int:
    return bounds.row_id(value, "receipt")


def reverse(session: Session, receipt_id, *, user_id: int | None = None) -> dict:
    """Take a receipt's stock back out to the supplier: reversing movements, the PO's received
    counts and status restored, its open putaway tasks cancelled. Refused (409) once any of it has
    been put away or is no longer free where it was received."""
    receipt_id = _receipt_id(receipt_id)
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(f"no receipt {receipt_id}", field="receipt")
    order = session.exec(
        select(PurchaseOrder).where(PurchaseOrder.id == receipt.purchase_order_id)
        .with_for_update().execution_options(populate_existing=True)
    ).one()
    session.refresh(receipt)  # read again now that reversals of this PO's receipts take turns
    if receipt.reversed_at is not None:
        raise Conflict(f"receipt {receipt.id} was reversed already", code="receipt_reversed", field="receipt")
    lines = session.exec(
        select(ReceiptLine, Product.sku).join(Product, Product.id == ReceiptLine.product_id)
        .where(ReceiptLine.receipt_id == receipt.id).order_by(ReceiptLine.id)
    ).all()
    put = putaway.put_away_already(session, [line.id for line, _sku in lines])
    if put:
        raise Conflict(f"{put:,} units of receipt {receipt.id} have been put away already: the stock has moved on "
                       "from where it was received; move it back first", code="stock_moved_on", field="receipt")
    place = session.get(Location, receipt.location_id)
    supplier = virtual_location(session, order.warehouse_id, LocationType.SUPPLIER)
    movements = []
    for line, sku in lines:
        try:
            posting = ledger.move(session, type=MovementType.RECEIPT, product_id=line.product_id,
                                  quantity=line.quantity, from_location=place, to_location=supplier,
                                  reason=REVERSAL_REASON, reference=order.po_number, user_id=user_id)
        except ledger.InsufficientStock:
            raise Conflict(f"{line.quantity:,} of {sku} were received at {place.code}, and less of it is free there "
                           "now: the stock has moved on; move it back first", code="stock_moved_on",
                           field="receipt") from None
        line.reversal_movement_id = posting.movement.id
        po_line = session.get(PurchaseOrderLine, line.purchase_order_line_id, populate_existing=True)
        po_line.quantity_received = max(po_line.quantity_received - line.quantity, 0)
        movements.append({"id": posting.movement.id, "sku": sku, "quantity": line.quantity,
                          "from_location": place.code, "to_location": supplier.code})
    cancelled = putaway.cancel_open_tasks(session, [line.id for line, _sku in lines])
    receipt.reversed_at, receipt.reversed_by = utcnow(), user_id
    _restatus(session, order)
    return {"id": receipt.id, "po_number": order.po_number, "status": order.status, "movements": movements,
            "cancelled_tasks": cancelled}


def receipt_po_number(session: Session, receipt_id) -> str:
    """The PO number a receipt was received against."""
    receipt_id = _receipt_id(receipt_id)
    found = session.exec(
        select(PurchaseOrder.po_number).join(Receipt, Receipt.purchase_order_id == PurchaseOrder.id)
        .where(Receipt.id == receipt_id)
    ).first()
    if found is None:
        raise NotFound(f"no receipt {receipt_id}", field="receipt")
    return found


def receipts_of(session: Session, order: PurchaseOrder) -> list[dict]:
    """The PO's receipts, newest first, each with its lines."""
    rows = session.exec(
        select(Receipt, Location.code, User.username)
        .join(Location, Location.id == Receipt.location_id)
        .outerjoin(User, User.id == Receipt.user_id)
        .where(Receipt.purchase_order_id == order.id)
        .order_by(Receipt.id.desc())
    ).all()
    lines: dict[int, list[dict]] = {}
    if rows:
        for line, sku in session.exec(
            select(ReceiptLine, Product.sku).join(Product, Product.id == ReceiptLine.product_id)
            .where(ReceiptLine.receipt_id.in_([receipt.id for receipt, _c, _u in rows])).order_by(ReceiptLine.id)
        ):
            lines.setdefault(line.receipt_id, []).append({"sku": sku, "quantity": line.quantity})
    return [
        {"id": receipt.id, "location": code, "user": user, "created_at": receipt.created_at,
         "reversed_at": receipt.reversed_at, "lines": lines.get(receipt.id, [])}
        for receipt, code, user in rows
    ]


# ---- receiving exceptions ------------------------------------------------------------------------


def record_exception(
    session: Session,
    *,
    po_number,
    scanned,
    kind,
    quantity=None,
    note=None,
    user_id: int | None = None,
) -> ReceivingException:
    """Keep what a scan could not take, for a manager to sort out."""
    order = get_purchase_order(session, po_number)
    if kind not in EXCEPTION_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(EXCEPTION_KINDS)}", field="kind")
    scanned = bounds.text(scanned, "scanned", max_length=bounds.BARCODE_MAX, label="what was scanned")
    quantity = None if quantity in (None, "") else bounds.quantity(quantity)
    note = bounds.text(note, "note", max_length=bounds.NOTE_MAX, required=False)
    try:
        product_id = find_product(session, scanned).id
    except WmsError:
        product_id = None
    exception = ReceivingException(warehouse_id=order.warehouse_id, purchase_order_id=order.id, scanned=scanned,
                                   kind=kind, product_id=product_id, quantity=quantity, note=note, user_id=user_id)
    session.add(exception)
    session.flush()
    return exception


def list_exceptions(session: Session, warehouse_id: int, *, resolved: bool | None = False, limit: int = 200) -> list[dict]:
    """A warehouse's receiving exceptions, newest first."""
    statement = (
        select(ReceivingException, PurchaseOrder.po_number, Product.sku, User.username)
        .outerjoin(PurchaseOrder, PurchaseOrder.id == ReceivingException.purchase_order_id)
        .outerjoin(Product, Product.id == ReceivingException.product_id)
        .outerjoin(User, User.id == ReceivingException.user_id)
        .where(ReceivingException.warehouse_id == warehouse_id)
        .order_by(ReceivingException.id.desc())
        .limit(limit)
    )
    if resolved is not None:
        statement = statement.where(ReceivingException.resolved_at.is_not(None) if resolved
                                    else ReceivingException.resolved_at.is_(None))
    return [
        {"id": row.id, "po_number": po, "scanned": row.scanned, "kind": row.kind, "sku": sku,
         "quantity": row.quantity, "note": row.note, "user": user, "created_at": row.created_at,
         "resolved_at": row.resolved_at}
        for row, po, sku, user in session.exec(statement)
    ]


def resolve_exception(session: Session, exception_id, *, user_id: int | None = None) -> ReceivingException:
    exception_id = bounds.row_id(exception_id, "exception")
    found = session.get(ReceivingException, exception_id)
    if found is None:
        raise NotFound(f"no receiving exception {exception_id}", field="exception")
    if found.resolved_at is None:
        found.resolved_at, found.resolved_by = utcnow(), user_id
        session.flush()
    return found
