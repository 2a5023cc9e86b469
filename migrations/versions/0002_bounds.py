"""bounds: CHECK constraints for every bound in app.bounds, case-insensitive look-ups, GTINs

Revision ID: 0002
Revises: 0001

The database holds the bounds the domain checks (app/bounds.py), so that not even a bug can store
a balance past 2,147,483,647, a movement of more than 1,000,000 units, a negative weight or an
over-long code. The numbers are written out here, not imported: a migration states the schema of
its day.

Rows already outside a new bound stop the upgrade with a message naming the table, the rule and
how many rows; nothing is changed for them (stock is never "fixed" by a migration: correct it in
the app, then upgrade again).

Also:
- Starshipit's order_id is a 64-bit number (sales_order, inbox_event).
- SKUs and product barcodes are unique ignoring case (they are looked up ignoring case); location
  barcodes are indexed the same way.
- product_barcode.gtin: the barcode as a 14-digit GTIN when it is one, filled in for the barcodes
  already saved (a GTIN already taken by an earlier barcode is left empty, and reported).

SQLite alters a table by copying it (batch mode), with foreign keys off for the copy (env.py);
expression indexes are created after the copies, since batch mode cannot carry them.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MAX_MOVEMENT = 1_000_000
MAX_BALANCE = 2_147_483_647
MAX_PICK_SEQUENCE = 2_000_000_000
MAX_STARSHIPIT_ID = 2**63 - 1

# table -> (checks to drop, {new check name: condition})
CHECKS = {
    "product": ((), {
        "ck_product_sku_length": "length(sku) BETWEEN 1 AND 64",
        "ck_product_name_length": "length(name) BETWEEN 1 AND 300",
        "ck_product_weight_range": "weight IS NULL OR (weight >= 0 AND weight <= 100000)",
    }),
    "product_barcode": ((), {
        "ck_product_barcode_length": "length(barcode) BETWEEN 1 AND 128",
        "ck_product_barcode_gtin_length": "gtin IS NULL OR length(gtin) = 14",
    }),
    "warehouse": ((), {
        "ck_warehouse_code_length": "length(code) BETWEEN 1 AND 32",
        "ck_warehouse_name_length": "length(name) BETWEEN 1 AND 200",
    }),
    "location": ((), {
        "ck_location_code_length": "length(code) BETWEEN 1 AND 64",
        "ck_location_barcode_length": "barcode IS NULL OR length(barcode) BETWEEN 1 AND 128",
        "ck_location_zone_length": "zone IS NULL OR length(zone) BETWEEN 1 AND 32",
        "ck_location_pick_sequence_range":
            f"pick_sequence IS NULL OR (pick_sequence >= 0 AND pick_sequence <= {MAX_PICK_SEQUENCE})",
    }),
    "stock_level": (("ck_stock_level_on_hand_not_negative",), {
        "ck_stock_level_on_hand_in_range": f"on_hand >= 0 AND on_hand <= {MAX_BALANCE}",
    }),
    "movement": (("ck_movement_quantity_positive",), {
        "ck_movement_quantity_in_range": f"quantity >= 1 AND quantity <= {MAX_MOVEMENT}",
        "ck_movement_reference_length": "reference IS NULL OR length(reference) <= 64",
    }),
    "allocation": (("ck_allocation_quantity_not_negative",), {
        "ck_allocation_quantity_in_range": f"quantity >= 0 AND quantity <= {MAX_BALANCE}",
    }),
    "purchase_order": ((), {
        "ck_purchase_order_number_length": "length(po_number) BETWEEN 1 AND 50",
        "ck_purchase_order_supplier_length": "length(supplier) BETWEEN 1 AND 200",
    }),
    "purchase_order_line": (("ck_po_line_ordered_positive", "ck_po_line_received_not_negative"), {
        "ck_po_line_ordered_in_range": f"quantity_ordered >= 1 AND quantity_ordered <= {MAX_MOVEMENT}",
        "ck_po_line_received_in_range": f"quantity_received >= 0 AND quantity_received <= {MAX_BALANCE}",
    }),
    "sales_order": ((), {
        "ck_sales_order_number_length": "length(order_number) BETWEEN 1 AND 50",
        "ck_sales_order_starshipit_id_range":
            f"starshipit_order_id IS NULL OR (starshipit_order_id >= 1 AND starshipit_order_id <= {MAX_STARSHIPIT_ID})",
    }),
    "order_line": ((), {
        "ck_order_line_quantity_in_range": f"quantity >= 0 AND quantity <= {MAX_MOVEMENT}",
        "ck_order_line_shipped_in_range": f"shipped_quantity >= 0 AND shipped_quantity <= {MAX_MOVEMENT}",
    }),
    "discrepancy": ((), {
        "ck_discrepancy_quantity_in_range": f"quantity >= 0 AND quantity <= {MAX_BALANCE}",
    }),
    "app_user": ((), {"ck_app_user_username_length": "length(username) BETWEEN 1 AND 64"}),
    "api_token": ((), {"ck_api_token_name_length": "length(name) BETWEEN 1 AND 100"}),
}
BIG_IDS = ("sales_order", "inbox_event")  # starshipit_order_id: INTEGER -> BIGINT


def upgrade() -> None:
    bind = op.get_bind()
    _refuse_rows_outside_the_new_bounds(bind)
    _refuse_case_duplicates(bind, "product", "sku", "SKU")
    _refuse_case_duplicates(bind, "product_barcode", "barcode", "barcode")
    for table, (dropped, added) in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            if table == "product_barcode":
                batch.add_column(sa.Column("gtin", sa.String(length=14), nullable=True))
            if table in BIG_IDS:
                batch.alter_column("starshipit_order_id", type_=sa.BigInteger(), existing_type=sa.Integer(),
                                   existing_nullable=True)
            for name in dropped:
                batch.drop_constraint(name, type_="check")
            for name, condition in added.items():
                batch.create_check_constraint(name, condition)
    with op.batch_alter_table("inbox_event") as batch:
        batch.alter_column("starshipit_order_id", type_=sa.BigInteger(), existing_type=sa.Integer(),
                           existing_nullable=True)
    _fill_gtins(bind)
    op.create_index("uq_product_barcode_gtin", "product_barcode", ["gtin"], unique=True)
    op.create_index("uq_product_sku_ci", "product", [sa.text("lower(sku)")], unique=True)
    op.create_index("uq_product_barcode_ci", "product_barcode", [sa.text("lower(barcode)")], unique=True)
    op.create_index("ix_location_barcode_ci", "location", ["warehouse_id", sa.text("lower(barcode)")])


def downgrade() -> None:
    for name, table in (("ix_location_barcode_ci", "location"), ("uq_product_barcode_ci", "product_barcode"),
                        ("uq_product_sku_ci", "product"), ("uq_product_barcode_gtin", "product_barcode")):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("inbox_event") as batch:
        batch.alter_column("starshipit_order_id", type_=sa.Integer(), existing_type=sa.BigInteger())
    old = {
        "ck_stock_level_on_hand_not_negative": "on_hand >= 0",
        "ck_movement_quantity_positive": "quantity > 0",
        "ck_allocation_quantity_not_negative": "quantity >= 0",
        "ck_po_line_ordered_positive": "quantity_ordered > 0",
        "ck_po_line_received_not_negative": "quantity_received >= 0",
    }
    for table, (dropped, added) in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name in added:
                batch.drop_constraint(name, type_="check")
            for name in dropped:
                batch.create_check_constraint(name, old[name])
            if table in BIG_IDS:
                batch.alter_column("starshipit_order_id", type_=sa.Integer(), existing_type=sa.BigInteger())
            if table == "product_barcode":
                batch.drop_column("gtin")


def _refuse_rows_outside_the_new_bounds(bind) -> None:
    problems = []
    for table, (_, added) in CHECKS.items():
        for name, condition in added.items():
            if "gtin" in condition:
                continue  # a new column
            outside = bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE NOT ({condition})")).scalar()
            if outside:
                problems.append(f"{outside} row(s) of {table} break {name} ({condition})")
    if problems:
        raise RuntimeError("cannot add the bounds: " + "; ".join(problems)
                           + ". Correct those rows in the app (or by hand), then upgrade again.")


def _refuse_case_duplicates(bind, table: str, column: str, what: str) -> None:
    clashes = bind.execute(sa.text(
        f"SELECT lower({column}) FROM {table} GROUP BY lower({column}) HAVING count(*) > 1 LIMIT 10"
    )).scalars().all()
    if clashes:
        raise RuntimeError(
            f"{what}s are now looked up ignoring case, but some differ only in case: {', '.join(clashes)}. "
            f"Rename one of each pair, then upgrade again."
        )


def _fill_gtins(bind) -> None:
    import biip

    taken: set[str] = set()
    rows = bind.execute(sa.text("SELECT id, barcode FROM product_barcode ORDER BY id")).all()
    for row_id, barcode in rows:
        code = (barcode or "").strip()
        if not code[:1].isdigit() or len(code) > 48:
            continue
        try:
            gtin = biip.parse(code).gtin
        except Exception:  # noqa: BLE001 - not a GS1 number: no GTIN
            continue
        if gtin is None:
            continue
        value = gtin.as_gtin_14()
        if value in taken:
            print(f"product_barcode {row_id} ({code}): GTIN {value} already belongs to another barcode; left empty")
            continue
        taken.add(value)
        bind.execute(sa.text("UPDATE product_barcode SET gtin = :gtin WHERE id = :id"), {"gtin": value, "id": row_id})
