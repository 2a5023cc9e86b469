"""The `wms` command, run as a real subprocess against real databases."""
from __future__ import annotations

import subprocess

from sqlalchemy import create_engine, func, inspect, text
from sqlmodel import select

from app import db
from app.accounts import token_owner
from app.catalog import create_product
from app.inventory import adjust_stock, transfer_stock
from app.models import PHYSICAL_TYPES, Location, Movement, Product, StockLevel
from app.warehouses import create_location, create_warehouse
from tests.conftest import make_app
from tests.support.processes import BIN, ROOT, wms_env


def wms(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "wms"), *args], env=wms_env(database_url), cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_init_db_creates_the_schema_in_an_empty_sqlite_file(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    url = f"sqlite:///{path}"

    result = wms(url, "init-db")

    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"alembic_version", "warehouse", "location", "product", "stock_level", "movement", "allocation"} <= tables
    assert wms(url, "init-db").returncode == 0  # running it again changes nothing


def test_created_user_can_sign_in_with_that_password(sqlite_url):
    result = wms(sqlite_url, "create-user", "Dana", "--role", "manager", "--password", "a-long-password")
    assert result.returncode == 0, result.stderr
    assert "created manager dana" in result.stdout

    app = make_app(sqlite_url)
    client = app.test_client()
    assert client.post("/login", data={"username": "dana", "password": "wrong-password"}).status_code != 302
    assert client.post("/login", data={"username": "dana", "password": "a-long-password"}).status_code == 302
    assert client.get("/").status_code == 200
    app.extensions["wms.engine"].dispose()


def test_create_user_refuses_a_short_password_with_a_message(sqlite_url):
    result = wms(sqlite_url, "create-user", "sam", "--password", "short")
    assert result.returncode != 0
    assert "at least" in result.stderr


def test_create_token_prints_only_a_token_that_authenticates(sqlite_url):
    result = wms(sqlite_url, "create-token", "shopify-sync")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].strip() == lines[0] and " " not in lines[0]
    token = lines[0]
    app = make_app(sqlite_url)
    with app.app_context():
        with db.reading() as session:
            owner = token_owner(session, token)
            assert owner is not None and owner.name == "shopify-sync"
            assert token_owner(session, token + "x") is None
    client = app.test_client()
    assert client.get("/api/v1/warehouses", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/warehouses", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    app.extensions["wms.engine"].dispose()


def _stock_some(session):
    site = create_warehouse(session, code="MAIN", name="Main warehouse")
    product = create_product(session, sku="MUG-1", name="Mug")
    for code in ("A-01", "P-01"):
        create_location(session, warehouse=site, code=code, type="storage")
    adjust_stock(session, sku="MUG-1", location="A-01", quantity=12, reason="found")
    transfer_stock(session, sku="MUG-1", from_location="A-01", to_location="P-01", quantity=5)
    return product.id


def test_check_ledger_is_clean_then_names_a_balance_changed_behind_the_ledgers_back(database_url):
    app = make_app(database_url)
    with app.app_context():
        product_id = db.atomic(_stock_some)
        with db.reading() as session:
            pick_face = session.exec(select(Location).where(Location.code == "P-01")).one().id

        clean = wms(database_url, "check-ledger")
        assert clean.returncode == 0, clean.stderr
        assert "ledger is consistent" in clean.stdout

        # The one place a test may bypass the ledger: simulate drift.
        with db.engine().begin() as connection:
            connection.execute(
                text("UPDATE stock_level SET on_hand = on_hand + 3 WHERE product_id = :p AND location_id = :l"),
                {"p": product_id, "l": pick_face},
            )
    app.extensions["wms.engine"].dispose()

    drifted = wms(database_url, "check-ledger")
    assert drifted.returncode == 1
    assert (
        f"MUG-1 at P-01 in MAIN (product {product_id}, location {pick_face}): on_hand is 8 but the ledger says 5"
        in drifted.stderr
    )
    assert "1 balance(s) differ" in drifted.stderr


def test_seed_demo_fills_a_believable_warehouse_with_a_clean_ledger(sqlite_url):
    seeded = wms(sqlite_url, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr

    check = wms(sqlite_url, "check-ledger")
    assert check.returncode == 0, check.stderr

    app = make_app(sqlite_url)
    with app.app_context(), db.reading() as session:
        count = lambda statement: session.exec(statement).one()  # noqa: E731
        physical = [str(t) for t in PHYSICAL_TYPES]
        assert count(select(func.count()).select_from(Location).where(Location.type.in_(physical))) >= 200
        assert count(select(func.count()).select_from(Product)) >= 200
        assert count(select(func.count()).select_from(Movement)) >= 200
        stocked = count(select(func.count(func.distinct(StockLevel.product_id))).where(StockLevel.on_hand > 0))
        assert stocked >= 200
    app.extensions["wms.engine"].dispose()

    again = wms(sqlite_url, "seed-demo")
    assert again.returncode == 0
    assert "already has products" in again.stdout
