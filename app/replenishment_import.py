"""Importing pick face min/max from CSV: `sku,location,min,max`, a header row first, for one
warehouse. A rule already set for the SKU at that location is changed.

Strict, in two passes, as the product importer (app.product_import, whose report this reuses):
1. The file's shape (app.csv_table): the header names exactly the four columns (in any order,
   each once); every row has exactly four fields; every quote that opens closes. A file with any
   such problem imports nothing, and the report names each row and field at fault.
2. Each row through the same use case as the page and the API (app.replenishment.set_rule), so
   the same bounds apply. A row refused there is reported with its field and skipped; the other
   rows are imported. A SKU and location on two rows is refused on the second.
"""
from __future__ import annotations

from sqlmodel import Session

from app import bounds, db
from app.csv_table import Problem, read_table
from app.errors import WmsError
from app.product_import import ImportReport
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
    table = read_table(text, columns=COLUMNS, max_rows=MAX_ROWS, rows_are="rules")
    if report.wrong_shape(table):
        return report
    seen: dict[tuple[str, str], int] = {}
    for number, row in table.rows:
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

