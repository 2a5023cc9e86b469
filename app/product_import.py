"""Importing products from CSV: `sku,name,barcodes,weight,receive_tolerance_percent`, a header row
first, several barcodes separated by `|`. Existing SKUs are updated; a column left out of the file
keeps what each existing product has (a blank cell clears its weight or tolerance).

Strict, in two passes:
1. The file's shape (app.csv_table): the header names known columns (sku and name at least, each
   once); every row has exactly the header's number of fields; every quote that opens closes. A
   file with any such structural problem imports nothing, and the report names each row and field
   at fault.
2. Each row through the same use cases as the product form (app.catalog), so the same bounds
   apply (an over-long name, a weight of inf, nan or below zero, a tolerance past 100%, a SKU
   with spaces...). A row refused here is reported with its field and skipped; the other rows
   are imported.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app import bounds
from app.catalog import product_with_sku, barcodes_of, clean_sku, create_product, update_product
from app.csv_table import Problem, Report, read_table
from app.errors import WmsError

COLUMNS = ("sku", "name", "barcodes", "weight", "receive_tolerance_percent")
REQUIRED = ("sku", "name")
TOLERANCE = "receive_tolerance_percent"
MAX_ROWS = 20_000


@dataclass
class ImportReport(Report):
    created: int = 0
    updated: int = 0

    @property
    def imported(self) -> bool:
        return bool(self.created or self.updated)


def import_products_csv(session: Session, text: str) -> ImportReport:
    """Create or update products from CSV text (see the module's docstring)."""
    report = ImportReport()
    table = read_table(text, columns=COLUMNS, required=REQUIRED, max_rows=MAX_ROWS, rows_are="products")
    if report.wrong_shape(table):
        return report
    seen: dict[str, int] = {}
    for number, row in table.rows:
        _import_row(session, number, row, table.header, seen, report)
    return report


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
