"""Purchase orders: stock a supplier is sending (the "incoming" figure until it is received).

Create, edit (while DRAFT or OPEN), open, close short, cancel, find and describe them. The rules
of their statuses are app.inbound.po_status's; receiving against them is app.inbound.receiving's.
An order's expected date is a day: kept as its first moment, UTC, and shown as YYYY-MM-DD.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import case, exists, func, literal, or_
from sqlmodel import Session, select

from app import bounds
from app.bounds import shown
from app.catalog import get_product
from app.errors import Conflict, NotFound, ValidationFailed
from app.inbound import po_status
from app.inbound.po_status import Action
from app.models import (
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    ReceiptLine,
    Warehouse,
)
from app.timeutil import isoformat, utcnow
from app.warehouses import get_warehouse

Status = PurchaseOrderStatus


# ---- checking what a request gives ------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """An order's fields besides its number, warehouse and lines, checked."""

    supplier: str
    expected_at: datetime | None
    tolerance_percent: int | None
    note: str | None


def check_header(*, supplier, expected_at=None, tolerance_percent=None, note=None) -> Header:
    """The supplier, expected date (YYYY-MM-DD or a date), tolerance (%) and note, as stored."""
    return Header(
        supplier=bounds.text(supplier, "supplier", max_length=bounds.SUPPLIER_MAX),
        expected_at=day_start(bounds.day(expected_at, "expected_at", label="expected date")),
        tolerance_percent=bounds.tolerance_percent(tolerance_percent),
        note=bounds.text(note, "note", max_length=bounds.NOTE_MAX, required=False, multiline=True),
    )


def check_status(status) -> Status:
    """The status a new order starts in: draft or open (any case); open when left out."""
    if status is None or (isinstance(status, str) and not status.strip()):
        return Status.OPEN
    found = po_status.parse(status.strip() if isinstance(status, str) else status, allowed=(Status.DRAFT, Status.OPEN))
    if found is None:
        raise ValidationFailed(f"status must be draft or open, not {shown(status)!r}", field="status")
    return found


def check_line(session: Session, number: int, sku, quantity) -> tuple[Product, int]:
    """Line `number` (0-based): the product by SKU and a quantity from 1 to MAX_LINE_QUANTITY."""
    try:
        product = get_product(session, sku)
    except NotFound as error:
        raise NotFound(error.message, field=f"lines.{number}.sku") from None
    except ValidationFailed as error:
        raise ValidationFailed(error.message, field=f"lines.{number}.sku") from None
    quantity = bounds.quantity(quantity, f"lines.{number}.quantity", maximum=bounds.MAX_LINE_QUANTITY,
                               label="quantity")
    return product, quantity


def check_lines(session: Session, lines: list[tuple[str, int]]) -> list[tuple[Product, int]]:
    """Every (sku, quantity) line checked, each product once; at least one, at most MAX_PO_LINES."""
    if not lines:
        raise ValidationFailed("a purchase order needs at least one line", field="lines")
    if len(lines) > bounds.MAX_PO_LINES:
        raise ValidationFailed(f"a purchase order has at most {bounds.MAX_PO_LINES:,} lines", field="lines")
    checked, seen = [], set()
    for number, (sku, quantity) in enumerate(lines):
        product, quantity = check_line(session, number, sku, quantity)
        if product.id in seen:
            raise ValidationFailed(f"{product.sku} is on more than one line", field=f"lines.{number}.sku")
        seen.add(product.id)
        checked.append((product, quantity))
    return checked


def day_start(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)


def expected_day(order: PurchaseOrder) -> date | None:
    """The day an order is expected (its expected_at is that day's first moment, UTC)."""
    return None if order.expected_at is None else order.expected_at.astimezone(UTC).date()


def today() -> date:
    return utcnow().date()


# ---- changing orders --------------------------------------------------------------------------


def create_purchase_order(
    session: Session,
    *,
    po_number: str,
    supplier: str,
    lines: list[tuple[str, int]],
    warehouse: str | None = None,
    expected_at=None,
    status=None,
    tolerance_percent=None,
    note=None,
) -> PurchaseOrder:
    """A PO for (sku, quantity) lines, each SKU once: open (counted as incoming at once) unless
    status is draft. expected_at is a day (YYYY-MM-DD); tolerance_percent the over-receipt
    allowed on every line (blank: the product's own, else none)."""
    po_number = bounds.text(po_number, "po_number", max_length=bounds.PO_NUMBER_MAX, label="PO number")
    header = check_header(supplier=supplier, expected_at=expected_at, tolerance_percent=tolerance_percent, note=note)
    status = check_status(status)
    if not lines:
        raise ValidationFailed("a purchase order needs at least one line", field="lines")
    if len(lines) > bounds.MAX_PO_LINES:
        raise ValidationFailed(f"a purchase order has at most {bounds.MAX_PO_LINES:,} lines", field="lines")
    site = get_warehouse(session, warehouse)
    if session.exec(select(PurchaseOrder.id).where(PurchaseOrder.po_number == po_number)).first():
        raise Conflict(f"purchase order {shown(po_number)} already exists", field="po_number")
    checked = check_lines(session, lines)
    order = PurchaseOrder(po_number=po_number, warehouse_id=site.id, status=status, **vars(header))
    session.add(order)
    session.flush()
    for product, quantity in checked:
        session.add(PurchaseOrderLine(purchase_order_id=order.id, product_id=product.id, quantity_ordered=quantity))
    session.flush()
    return order


def update_purchase_order(
    session: Session,
    po_number: str,
    *,
    supplier: str,
    lines: list[tuple[str, int]],
    expected_at=None,
    tolerance_percent=None,
    note=None,
) -> PurchaseOrder:
    """Change a DRAFT or OPEN order: its supplier, expected day, tolerance, note, and lines (the
    lines given replace the order's; a line keeps what was received on it, and one with stock
    received or a receipt against it stays, with at least that quantity)."""
    order = get_purchase_order(session, po_number, for_update=True)
    refusal = po_status.edit_refusal(order.status, order.po_number)
    if refusal is not None:
        raise refusal
    header = check_header(supplier=supplier, expected_at=expected_at, tolerance_percent=tolerance_percent, note=note)
    checked = check_lines(session, lines)
    current = {
        line.product_id: line
        for line in session.exec(
            select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order.id)
            .execution_options(populate_existing=True)
        )
    }
    kept = set()
    for number, (product, quantity) in enumerate(checked):
        line = current.get(product.id)
        if line is None:
            session.add(PurchaseOrderLine(purchase_order_id=order.id, product_id=product.id, quantity_ordered=quantity))
            continue
        if quantity < line.quantity_received:
            raise ValidationFailed(f"{product.sku} has {line.quantity_received:,} received already: order at least "
                                   "that many", field=f"lines.{number}.quantity")
        line.quantity_ordered = quantity
        kept.add(product.id)
    gone = [line for product_id, line in current.items() if product_id not in kept]
    if gone:
        received = session.exec(
            select(Product.sku)
            .join(PurchaseOrderLine, PurchaseOrderLine.product_id == Product.id)
            .where(PurchaseOrderLine.id.in_([line.id for line in gone]),
                   or_(PurchaseOrderLine.quantity_received > 0,
                       exists().where(ReceiptLine.purchase_order_line_id == PurchaseOrderLine.id)))
            .order_by(Product.sku)
        ).first()
        if received is not None:
            raise ValidationFailed(f"{received} has been received against this order: it stays on it", field="lines")
        for line in gone:
            session.delete(line)
    for name, value in vars(header).items():
        setattr(order, name, value)
    order.updated_at = utcnow()
    session.flush()
    return order


def _act(session: Session, po_number: str, action: Action, user_id: int | None) -> PurchaseOrder:
    order = get_purchase_order(session, po_number, for_update=True)
    counts = session.exec(
        select(PurchaseOrderLine.quantity_ordered, PurchaseOrderLine.quantity_received)
        .where(PurchaseOrderLine.purchase_order_id == order.id)
    ).all()
    order.status = po_status.after(action, order.status, counts, order.po_number)
    order.updated_at = utcnow()
    if action in (Action.CLOSE, Action.CANCEL):
        order.closed_at, order.closed_by = order.updated_at, user_id
    session.flush()
    return order


def open_purchase_order(session: Session, po_number: str, *, user_id: int | None = None) -> PurchaseOrder:
    """A draft becomes open: its lines count as incoming and can be received."""
    return _act(session, po_number, Action.OPEN, user_id)


def close_purchase_order(session: Session, po_number: str, *, user_id: int | None = None) -> PurchaseOrder:
    """Close an open or partially received order short: what was not received stops being expected."""
    return _act(session, po_number, Action.CLOSE, user_id)


def cancel_purchase_order(session: Session, po_number: str, *, user_id: int | None = None) -> PurchaseOrder:
    """Cancel a draft, or an open order nothing was received against."""
    return _act(session, po_number, Action.CANCEL, user_id)


# ---- finding and showing orders ---------------------------------------------------------------


def get_purchase_order(session: Session, po_number: str, *, for_update: bool = False) -> PurchaseOrder:
    """The PO of that number, as typed or, when none is, in any case ("po-8101" scanned from a
    label finds PO-8101) as long as only one PO matches so."""
    typed = bounds.scan(po_number, "po_number", label="PO number")
    order = None
    for match in (PurchaseOrder.po_number == typed, func.lower(PurchaseOrder.po_number) == typed.lower()):
        statement = select(PurchaseOrder).where(match).limit(2)
        if for_update:  # receipts and changes to one PO take turns, so counts and the status are exact
            statement = statement.with_for_update().execution_options(populate_existing=True)
        found = session.exec(statement).all()
        if len(found) == 1:
            order = found[0]
            break
    if order is None:
        raise NotFound(f"no purchase order {shown(typed)}", field="po_number")
    return order


def list_purchase_orders(
    session: Session,
    *,
    status: str | None = None,
    warehouse_id: int | None = None,
    supplier: str | None = None,
    query: str | None = None,
    late_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[PurchaseOrder]:
    """Orders newest first. status: one status; supplier: the supplier's whole name, ignoring case;
    query: part of the PO number, the supplier or a SKU on it, ignoring case; late_only: expected
    orders past their day (po_status.is_late)."""
    supplier = bounds.text(supplier, "supplier", max_length=bounds.SUPPLIER_MAX, required=False)
    query = bounds.text(query, "q", max_length=bounds.SEARCH_MAX, required=False, label="search")
    statement = select(PurchaseOrder).order_by(PurchaseOrder.id.desc()).offset(offset).limit(limit)
    if status:
        statement = statement.where(PurchaseOrder.status == str(status))
    if warehouse_id is not None:
        statement = statement.where(PurchaseOrder.warehouse_id == warehouse_id)
    if supplier:  # lower() on both sides: the database's idea of case, whatever the letters
        statement = statement.where(func.lower(PurchaseOrder.supplier) == func.lower(literal(supplier)))
    if query:
        wanted = func.lower(literal("%" + re.sub(r"([\\%_])", r"\\\1", query) + "%"))  # % and _ are characters

        def holds(column):
            return func.lower(column).like(wanted, escape="\\")

        on_it = (
            select(PurchaseOrderLine.id)
            .join(Product, Product.id == PurchaseOrderLine.product_id)
            .where(PurchaseOrderLine.purchase_order_id == PurchaseOrder.id, holds(Product.sku))
            .exists()
        )
        statement = statement.where(or_(holds(PurchaseOrder.po_number), holds(PurchaseOrder.supplier), on_it))
    if late_only:
        statement = statement.where(PurchaseOrder.status.in_([str(s) for s in po_status.EXPECTED]),
                                    PurchaseOrder.expected_at < day_start(today()))
    return list(session.exec(statement))


def _warehouse_codes(session: Session, orders: Iterable[PurchaseOrder]) -> dict[int, str]:
    ids = {order.warehouse_id for order in orders}
    rows = session.exec(select(Warehouse.id, Warehouse.code).where(Warehouse.id.in_(ids))) if ids else []
    return {warehouse_id: code for warehouse_id, code in rows}


def _lines(session: Session, order_ids: list[int]) -> dict[int, list[tuple[str, str, int, int]]]:
    """Each order's lines in order: (sku, name, ordered, received)."""
    found: dict[int, list] = {order_id: [] for order_id in order_ids}
    if not order_ids:
        return found
    rows = session.exec(
        select(PurchaseOrderLine.purchase_order_id, Product.sku, Product.name, PurchaseOrderLine.quantity_ordered,
               PurchaseOrderLine.quantity_received)
        .join(Product, Product.id == PurchaseOrderLine.product_id)
        .where(PurchaseOrderLine.purchase_order_id.in_(order_ids))
        .order_by(PurchaseOrderLine.purchase_order_id, PurchaseOrderLine.id)
    )
    for order_id, sku, name, ordered, received in rows:
        found[order_id].append((sku, name, ordered, received))
    return found


def _described(order: PurchaseOrder, warehouse: str, lines, on: date) -> dict:
    expected = expected_day(order)
    return {
        "po_number": order.po_number,
        "supplier": order.supplier,
        "warehouse": warehouse,
        "status": order.status,
        "created_at": isoformat(order.created_at),
        "expected_at": expected.isoformat() if expected else None,
        "late": po_status.is_late(order.status, expected, on),
        "tolerance_percent": order.tolerance_percent,
        "note": order.note,
        "closed_at": isoformat(order.closed_at),
        "lines": [{"sku": sku, "quantity_ordered": ordered, "quantity_received": received}
                  for sku, _name, ordered, received in lines],
    }


def describe(session: Session, order: PurchaseOrder) -> dict:
    """The PO with its warehouse code and lines, as shown to people and integrators."""
    return describe_many(session, [order])[0]


def describe_many(session: Session, orders: list[PurchaseOrder]) -> list[dict]:
    """`describe` for several orders, in three queries whatever their number."""
    codes = _warehouse_codes(session, orders)
    lines = _lines(session, [order.id for order in orders])
    on = today()
    return [_described(order, codes[order.warehouse_id], lines[order.id], on) for order in orders]


@dataclass(frozen=True)
class Summary:
    """One row of the list page."""

    order: PurchaseOrder
    warehouse: str
    lines: int
    ordered: int
    to_come: int
    late: bool
    expected: date | None


def summarize(session: Session, orders: list[PurchaseOrder]) -> list[Summary]:
    """Each order's warehouse, lines, units ordered and units still to come (one query)."""
    ids = [order.id for order in orders]
    totals = {}
    if ids:
        to_come = case((PurchaseOrderLine.quantity_ordered > PurchaseOrderLine.quantity_received,
                        PurchaseOrderLine.quantity_ordered - PurchaseOrderLine.quantity_received), else_=0)
        totals = {
            order_id: (int(count), int(ordered or 0), int(coming or 0))
            for order_id, count, ordered, coming in session.exec(
                select(PurchaseOrderLine.purchase_order_id, func.count(), func.sum(PurchaseOrderLine.quantity_ordered),
                       func.sum(to_come))
                .where(PurchaseOrderLine.purchase_order_id.in_(ids))
                .group_by(PurchaseOrderLine.purchase_order_id)
            )
        }
    codes = _warehouse_codes(session, orders)
    on = today()
    result = []
    for order in orders:
        count, ordered, coming = totals.get(order.id, (0, 0, 0))
        expected = expected_day(order)
        result.append(Summary(order, codes[order.warehouse_id], count, ordered,
                              coming if order.status in po_status.EXPECTED else 0,
                              po_status.is_late(order.status, expected, on), expected))
    return result


def order_page(session: Session, po_number: str) -> dict:
    """What the order's page shows: the order as described, each line's product name and units
    still to come, and the actions its status allows."""
    order = get_purchase_order(session, po_number)
    lines = _lines(session, [order.id])[order.id]
    counts = [(ordered, received) for _sku, _name, ordered, received in lines]
    described = _described(order, _warehouse_codes(session, [order])[order.warehouse_id], lines, today())
    return {
        "order": order,
        "po": described,
        "expected": expected_day(order),
        "lines": [{"sku": sku, "name": name, "ordered": ordered, "received": received,
                   "to_come": po_status.incoming(order.status, ordered, received)}
                  for sku, name, ordered, received in lines],
        "to_come": sum(po_status.incoming(order.status, ordered, received) for ordered, received in counts),
        "editable": po_status.edit_refusal(order.status, order.po_number) is None,
        "can": {action.value: po_status.can(action, order.status, counts) for action in Action},
        # The one way to stop expecting it that fits: cancel while nothing came, else close short.
        "offer": {"close": po_status.can(Action.CLOSE, order.status, counts) and po_status.received_any(counts),
                  "cancel": po_status.can(Action.CANCEL, order.status, counts)},
    }
