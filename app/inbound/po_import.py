"""Importing purchase orders from CSV: one row per line, a header row first.

    po_number,supplier,sku,quantity,expected_at,warehouse,tolerance_percent,status,note
    PO-100,Acme,SKU-1,24,2026-12-24,,,,
    PO-100,,SKU-2,12,,,,,

The rows of one PO number make one order. po_number, sku and quantity are on every row; the
order's own columns (supplier, expected_at YYYY-MM-DD, warehouse, tolerance_percent, status
draft or open, note) are given once, on any of its rows, and left blank or repeated unchanged on
the others. A missing warehouse is the one the importer works in; a missing status is open.
Existing PO numbers are refused (an import creates orders; the order's page edits them).

Strict, in two passes (as app.product_import and app.replenishment_import):
1. The file's shape (app.csv_table): a file with any structural problem imports nothing.
2. Each order through the same use case as the order form (create_purchase_order), so the same
   bounds apply. An order is imported whole or not at all: every bad row of an order is reported
   with its field, and the order is skipped; the other orders are imported.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from app import bounds
from app.csv_table import Problem, Report, read_table
from app.errors import Conflict, WmsError
from app.inbound.purchase_orders import (
    check_header,
    check_line,
    check_status,
    create_purchase_order,
)
from app.models import PurchaseOrder
from app.warehouses import get_warehouse

COLUMNS = ("po_number", "supplier", "sku", "quantity", "expected_at", "warehouse", "tolerance_percent", "status",
           "note")
REQUIRED = ("po_number", "supplier", "sku", "quantity")
ORDER_COLUMNS = ("supplier", "expected_at", "warehouse", "tolerance_percent", "status", "note")
MAX_ROWS = 20_000


@dataclass
class ImportReport(Report):
    created: list[str] = field(default_factory=list)  # PO numbers created
    lines: int = 0  # lines on them
    not_imported: list[str] = field(default_factory=list)  # PO numbers left out for their problems

    @property
    def imported(self) -> bool:
        return bool(self.created)


@dataclass
class _Order:
    po_number: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    values: dict[str, tuple[int, str]] = field(default_factory=dict)  # column -> (row, value) where it was given


def import_purchase_orders_csv(session: Session, text: str, *, warehouse: str | None = None) -> ImportReport:
    """Create purchase orders from CSV text (see the module's docstring); `warehouse` is the code
    of the warehouse for orders whose rows name none."""
    report = ImportReport()
    table = read_table(text, columns=COLUMNS, required=REQUIRED, max_rows=MAX_ROWS, rows_are="purchase order lines")
    if report.wrong_shape(table):
        return report
    for order in _orders(table.rows, report):
        _import_order(session, order, warehouse, report)
    report.problems.sort(key=lambda problem: problem.row)
    return report


def _orders(rows, report: ImportReport) -> list[_Order]:
    """The rows grouped by PO number, in the order each number first appears; a row without one,
    and an order column given two ways, are problems."""
    orders: dict[str, _Order] = {}
    for number, row in rows:
        po_number = (row.get("po_number") or "").strip()
        if not po_number:
            report.problems.append(Problem(number, "po_number", "PO number is required on every row"))
            continue
        order = orders.setdefault(po_number, _Order(po_number))
        order.rows.append((number, row))
    for order in orders.values():
        for number, row in order.rows:
            for column in ORDER_COLUMNS:
                value = (row.get(column) or "").strip()
                if not value:
                    continue
                first = order.values.setdefault(column, (number, value))
                if first[1] != value:
                    report.problems.append(Problem(number, column, f"{column} is {bounds.shown(first[1])!r} on row "
                                                                   f"{first[0]} of {bounds.shown(order.po_number)}: "
                                                                   "give an order's values once, or the same"))
    return list(orders.values())


def _import_order(session: Session, order: _Order, warehouse: str | None, report: ImportReport) -> None:
    before = len(report.problems)
    spoilt = {problem.row for problem in report.problems}
    if any(number in spoilt for number, _row in order.rows):  # an order column given two ways
        report.not_imported.append(order.po_number)
        return
    given = {column: value for column, (_number, value) in order.values.items()}
    where = {column: number for column, (number, _value) in order.values.items()}
    first_row = order.rows[0][0]
    for column, check in _ORDER_CHECKS.items():
        try:
            check(session, order.po_number if column == "po_number" else given.get(column))
        except WmsError as error:
            report.problems.append(Problem(where.get(column, first_row), column, error.message))
    seen: dict[int, int] = {}
    for index, (number, row) in enumerate(order.rows):
        try:
            product, _quantity = check_line(session, index, row.get("sku"), row.get("quantity"))
        except WmsError as error:
            report.problems.append(Problem(number, (error.field or "").rsplit(".", 1)[-1] or None, error.message))
            continue
        if product.id in seen:
            report.problems.append(Problem(number, "sku", f"{product.sku} is also on row {seen[product.id]} of "
                                                          f"{bounds.shown(order.po_number)}"))
        seen.setdefault(product.id, number)
    if len(order.rows) > bounds.MAX_PO_LINES:
        report.problems.append(Problem(order.rows[bounds.MAX_PO_LINES][0], None, f"a purchase order has at most "
                                                                                 f"{bounds.MAX_PO_LINES:,} lines"))
    if len(report.problems) > before:
        report.not_imported.append(order.po_number)
        return
    try:
        with session.begin_nested():
            create_purchase_order(
                session, po_number=order.po_number, supplier=given.get("supplier"),
                lines=[(row.get("sku"), row.get("quantity")) for _number, row in order.rows],
                warehouse=given.get("warehouse") or warehouse, expected_at=given.get("expected_at"),
                status=given.get("status"), tolerance_percent=given.get("tolerance_percent"), note=given.get("note"),
            )
    except WmsError as error:  # what the checks above cannot see coming (a PO number taken meanwhile)
        column = (error.field or "").rsplit(".", 1)[-1]
        report.problems.append(Problem(first_row, column if column in COLUMNS else None, error.message))
        report.not_imported.append(order.po_number)
        return
    report.created.append(order.po_number)
    report.lines += len(order.rows)


def _check_number(session: Session, po_number: str) -> None:
    po_number = bounds.text(po_number, "po_number", max_length=bounds.PO_NUMBER_MAX, label="PO number")
    if session.exec(select(PurchaseOrder.id).where(PurchaseOrder.po_number == po_number)).first():
        raise Conflict(f"purchase order {bounds.shown(po_number)} already exists", field="po_number")


# Each order column checked on its own (the checks create_purchase_order makes), so that every
# bad value of an order is reported, each on the row that gave it.
_ORDER_CHECKS = {
    "po_number": _check_number,
    "supplier": lambda session, value: check_header(supplier=value),
    "expected_at": lambda session, value: check_header(supplier="-", expected_at=value),
    "tolerance_percent": lambda session, value: check_header(supplier="-", tolerance_percent=value),
    "note": lambda session, value: check_header(supplier="-", note=value),
    "warehouse": lambda session, value: get_warehouse(session, value) if value else None,
    "status": lambda session, value: check_status(value),
}
