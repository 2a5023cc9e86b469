"""Importing pick face min/max from CSV: `sku,location,min,max`, a header row first, for one
warehouse. A rule already set for the SKU at that location is changed.

Strict, in two passes, as the product importer (app.product_import, whose report and quote
diagnosis this reuses):
1. The file's shape: the header names exactly the four columns (in any order, each once); every
   row has exactly four fields; every quote that opens closes. A file with any such problem
   imports nothing, and the report names each row and field at fault.
2. Each row through the same use case as the page and the API (app.replenishment.set_rule), so
   the same bounds apply. A row refused there is reported with its field and skipped; the other
   rows are imported. A SKU and location on two rows is refused on the second.
"""
from __future__ import annotations

import csv
import io

from sqlmodel import Session

from app import bounds, db
from app.errors import WmsError
from app.product_import import ImportReport, Problem, _broken_quote, _check_shape
from app.replenishment import rules_changed, set_rule, start_check
from app.warehouses import get_warehouse

COLUMNS = ("sku", "location", "min", "max")
MAX_ROWS = 20_000


def import_rules(text: str, *, warehouse: str | None = None) -> ImportReport:
    """import_rules_csv in one transaction; then, when rules were set, the warehouse's pick faces
    checked (a job, or now without Redis)."""
    with db.reading() as session:
        site = get_warehouse(session, warehouse)
    report = db.atomic(import_rules_csv, text, warehouse=site.code)
    if report.imported:
        rules_changed()
        start_check(site.id)
    return report


def import_rules_csv(session: Session, text: str, *, warehouse: str | None = None) -> ImportReport:
    """Set the rules of a CSV text's rows in one warehouse (see the module's docstring)."""
    report = ImportReport()
    header, rows = _read(text, report)
    if report.problems:
        report.structural = True
        return report
    seen: dict[tuple[str, str], int] = {}
    for number, values in rows:
        row = dict(zip(header, values))
        key = (row["sku"].strip().lower(), row["location"].strip().upper())
        if key in seen:
            report.problems.append(Problem(number, "location", f"{bounds.shown(row['sku'].strip())} at "
                                           f"{bounds.shown(row['location'].strip())} is also on row {seen[key]}"))
            continue
        seen[key] = number
        try:
            with session.begin_nested():
                saved = set_rule(session, sku=row["sku"], location=row["location"], min=row["min"], max=row["max"],
                                 warehouse=warehouse)
        except WmsError as error:
            if error.field == "warehouse":
                raise  # the page's own warehouse: no row can be imported
            report.problems.append(Problem(number, error.field, error.message))
            continue
        if saved.created:
            report.created += 1
        else:
            report.updated += 1
    return report


def _read(text: str, report: ImportReport) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the rows (with their row numbers), or problems in the report."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text), strict=True)
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    number = 0
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            number += 1
            report.problems.append(_broken_quote(lines, start, number, header, error))
            break
        number += 1
        if number == 1:
            header = [name.strip().lower() for name in values]
            _check_header(header, report)
            if report.problems:
                break
            continue
        if not any(value.strip() for value in values):
            continue
        if len(rows) >= MAX_ROWS:
            report.problems.append(Problem(number, None, f"a file may hold at most {MAX_ROWS:,} rules; split it"))
            break
        _check_shape(number, values, header, report)
        rows.append((number, values))
    if number == 0:
        report.problems.append(Problem(1, None, f"the file is empty: the first row must name the columns "
                                                f"{','.join(COLUMNS)}"))
    return header, rows


def _check_header(header: list[str], report: ImportReport) -> None:
    for position, name in enumerate(header):
        if name not in COLUMNS:
            shown = bounds.shown(name, 20)
            report.problems.append(Problem(1, shown or f"column {position + 1}", f"column {position + 1} is "
                                           f"{shown!r}, not one of {', '.join(COLUMNS)}"))
        elif header.index(name) != position:
            report.problems.append(Problem(1, name, f"the column {name} is named twice"))
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        report.problems.append(Problem(1, missing[0], f"the first row must name the columns {','.join(COLUMNS)}; "
                                                      f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                                                      "missing"))

