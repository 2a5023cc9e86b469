"""Migration 0002 on a database with data in it: the rows survive, GTINs are filled in, and a
database already holding a value outside a bound stops the upgrade with a message instead of being
silently "fixed". SQLite and PostgreSQL."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import create_engine, text

from app.migrate import upgrade
from tests.conftest import POSTGRES_URL, _admin_engine

ROWS = [
    "INSERT INTO warehouse (id, code, name, is_default, created_at) VALUES (1, 'MAIN', 'Main', true, '2026-11-01')",
    "INSERT INTO location (id, warehouse_id, code, barcode, type, active, created_at) "
    "VALUES (1, 1, 'A-01', 'Loc-A01', 'storage', true, '2026-11-01'), (2, 1, '@SUPPLIER', NULL, 'supplier', true, '2026-11-01')",
    "INSERT INTO product (id, sku, name, active, created_at, updated_at) "
    "VALUES (1, 'Abc-1', 'Widget', true, '2026-11-01', '2026-11-01'), (2, 'ABC-2', 'Gadget', true, '2026-11-01', '2026-11-01')",
    "INSERT INTO product_barcode (id, product_id, barcode) VALUES (1, 1, '9506000134352'), (2, 1, 'BOX-7'), "
    "(3, 2, '09506000134352')",
    "INSERT INTO movement (id, type, product_id, from_location_id, to_location_id, quantity, created_at) "
    "VALUES (1, 'receipt', 1, 2, 1, 5, '2026-11-01')",
    "INSERT INTO stock_level (id, product_id, location_id, on_hand, allocated) VALUES (1, 1, 1, 5, 0)",
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    name = f"wms_migration_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def at_0001_with(url: str, *statements: str):
    upgrade(url, "0001")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    return engine


def test_the_upgrade_keeps_every_row_and_fills_in_gtins(empty_database):
    engine = at_0001_with(empty_database, *ROWS)
    upgrade(empty_database)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT on_hand FROM stock_level")).scalar() == 5
        gtins = dict(connection.execute(text("SELECT barcode, gtin FROM product_barcode")).all())
        # the first barcode keeps the GTIN; a later one carrying the same number is left without it
        assert gtins == {"9506000134352": "09506000134352", "BOX-7": None, "09506000134352": None}
        with pytest.raises(Exception):
            connection.execute(text("UPDATE stock_level SET on_hand = -1"))
    engine.dispose()


@pytest.mark.parametrize(
    "bad, words",
    [
        ("UPDATE stock_level SET on_hand = 2000000000, allocated = 0; UPDATE stock_level SET on_hand = on_hand",
         None),
        ("UPDATE product SET weight = -2 WHERE id = 2", "1 row(s) of product break ck_product_weight_range"),
        ("UPDATE product SET sku = 'abc-1' WHERE id = 2", "some differ only in case: abc-1"),
    ],
)
def test_a_row_outside_a_new_bound_stops_the_upgrade_with_words(empty_database, bad, words):
    statements = [s for s in bad.split("; ")]
    engine = at_0001_with(empty_database, *ROWS, *statements)
    if words is None:  # within the bound: upgrades
        upgrade(empty_database)
    else:
        with pytest.raises(RuntimeError, match=re.escape(words)):
            upgrade(empty_database)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    engine.dispose()


def test_an_on_hand_past_the_32_bit_maximum_on_sqlite_stops_the_upgrade(tmp_path):
    """The issue's demo: 9223372036854775807 on the Adjust page reached SQLite's 64-bit column."""
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    engine = at_0001_with(url, *ROWS, "UPDATE stock_level SET on_hand = 9223372036854775807")
    with pytest.raises(RuntimeError, match="stock_level break ck_stock_level_on_hand_in_range"):
        upgrade(url)
    engine.dispose()
