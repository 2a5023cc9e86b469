"""Importing products from CSV: `sku,name,barcodes,weight,receive_tolerance_percent`, a header row
first, several barcodes separated by `|`. Existing SKUs are updated; a column left out of the file
keeps what each existing product has (a blank cell clears its weight or tolerance).

Strict, in two passes:
1. The file's shape: the header names known columns (sku and name at least, each once); every
   row has exactly the header's number of fields; every quote that opens closes. A file with any
   such structural problem imports nothing, and the report names each row and field at fault.
2. Each row through the same use cases as the product form (app.catalog), so the same bounds
   apply (an over-long name, a weight of inf, nan or below zero, a tolerance past 100%, a SKU
   with spaces...). A row refused here is reported with its field and skipped; the other rows
   are imported.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlmodel import Session

from app import bounds
from app.catalog import product_with_sku, barcodes_of, clean_sku, create_product, update_product
from app.errors import WmsError

COLUMNS = ("sku", "name", "barcodes", "weight", "receive_tolerance_percent")
REQUIRED = ("sku", "name")
TOLERANCE = "receive_tolerance_percent"
MAX_ROWS = 20_000
MAX_FIELD = 2_000  # characters in any one field, far above every column's own bound


@dataclass(frozen=True)
class Problem:
    row: int  # the row's number in the file, the header being row 1
    field: str | None  # the column at fault, when there is one
    message: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)
    structural: bool = False  # the file's shape was wrong: nothing was imported

    @property
    def imported(self) -> bool:
        return bool(self.created or self.updated)


def import_products_csv(session: Session, text: str) -> ImportReport:
    """Create or update products from CSV text (see the module's docstring)."""
    report = ImportReport()
    header, rows = _read(text, report)
    if report.problems:
        report.structural = True
        return report
    seen: dict[str, int] = {}
    for number, values in rows:
        row = dict(zip(header, values))
        _import_row(session, number, row, header, seen, report)
    return report


def _read(text: str, report: ImportReport) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the rows (with their row numbers), or problems in the report."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text), strict=True)
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    number = 0
    while True:
        start = reader.line_num + 1  # the physical line this record starts on
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
            continue  # a blank line
        if len(rows) >= MAX_ROWS:
            report.problems.append(Problem(number, None, f"a file may hold at most {MAX_ROWS:,} products; split it"))
            break
        _check_shape(number, values, header, report)
        rows.append((number, values))
    if number == 0:
        report.problems.append(Problem(1, None, f"the file is empty: the first row must name the columns "
                                                f"{','.join(COLUMNS)} (sku and name at least)"))
    return header, rows


def _check_header(header: list[str], report: ImportReport) -> None:
    known = ", ".join(COLUMNS)
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        report.problems.append(Problem(1, missing[0], f"the first row must name the columns {','.join(COLUMNS)} "
                                                      f"(sku and name at least); {missing[0]} is missing"))
    for position, name in enumerate(header):
        if name not in COLUMNS:
            report.problems.append(Problem(1, bounds.shown(name, 20) or f"column {position + 1}",
                                           f"column {position + 1} is {bounds.shown(name, 20)!r}, not one of {known}"))
        elif header.index(name) != position:
            report.problems.append(Problem(1, name, f"the column {name} is named twice"))


def _check_shape(number: int, values: list[str], header: list[str], report: ImportReport) -> None:
    if len(values) > len(header):
        report.problems.append(Problem(
            number, None, f"{len(values)} fields but the header names {len(header)}: "
                          f"{len(values) - len(header)} too many after {header[-1]} (a comma inside a "
                          f"value needs the value in double quotes)"))
    elif len(values) < len(header):
        report.problems.append(Problem(
            number, header[len(values)], f"{len(values)} fields but the header names {len(header)}: "
                                         f"no value for {', '.join(header[len(values):])}"))
    for name, value in zip(header, values):
        if len(value) > MAX_FIELD:
            report.problems.append(Problem(number, name, f"{name} is {len(value):,} characters long"))


def _broken_quote(lines: list[str], start: int, number: int, header: list[str], error: csv.Error) -> Problem:
    """The problem of a record the csv reader could not read: most often a quote that never closes."""
    position = _open_quote_field(lines[start - 1] if 0 < start <= len(lines) else "")
    column = header[position] if header and position is not None and position < len(header) else None
    where = f" in {column}" if column else (f" in field {position + 1}" if position is not None else "")
    if "expected after" in str(error):
        message = f"text follows a closing quote{where} (line {start}): a quote must open and close a whole value"
    elif "unexpected end of data" in str(error):
        message = f"a quote opened{where} (line {start}) is never closed"
    else:
        message = f"the row cannot be read as CSV (line {start}): a quote must open and close a whole value"
    return Problem(number, column, message)


def _open_quote_field(line: str) -> int | None:
    """Which field of this physical line breaks the quoting (0-based): a quote left open at the end
    of the line, or text after a closing quote. None when the quoting is fine."""
    field_index, quoted, closed, at_start = 0, False, False, True
    index = 0
    while index < len(line):
        char = line[index]
        if quoted:
            if char == '"' and line[index + 1: index + 2] == '"':
                index += 1  # an escaped quote
            elif char == '"':
                quoted, closed = False, True
        elif char == ",":
            field_index, closed, at_start = field_index + 1, False, True
            index += 1
            continue
        elif char in "\r\n":
            break
        elif closed:
            return field_index  # text after the closing quote
        elif char == '"' and at_start:
            quoted = True
        at_start = False
        index += 1
    return field_index if quoted else None


def _import_row(session: Session, number: int, row: dict, header: list[str], seen: dict[str, int],
                report: ImportReport) -> None:
    barcodes = [b for b in (row.get("barcodes") or "").replace(";", "|").split("|") if b.strip()]
    try:
        sku = clean_sku(row.get("sku"))
        if sku.lower() in seen:
            report.problems.append(Problem(number, "sku", f"{bounds.shown(sku)} is also on row {seen[sku.lower()]}"))
            return
        seen[sku.lower()] = number
        with session.begin_nested():
            existing = product_with_sku(session, sku)
            if existing is not None:
                if "barcodes" not in header:
                    barcodes = barcodes_of(session, existing.id)
                weight = row["weight"] if "weight" in header else existing.weight
                tolerance = row[TOLERANCE] if TOLERANCE in header else existing.receive_tolerance_percent
                update_product(session, existing, name=row.get("name"), barcodes=barcodes, weight=weight,
                               receive_tolerance_percent=tolerance, active=existing.active)
                report.updated += 1
            else:
                create_product(session, sku=sku, name=row.get("name"), barcodes=barcodes, weight=row.get("weight"),
                               receive_tolerance_percent=row.get(TOLERANCE))
                report.created += 1
    except WmsError as error:
        report.problems.append(Problem(number, error.field, error.message))
