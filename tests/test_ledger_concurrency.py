"""Real OS processes changing the same few balances at once on PostgreSQL: the ledger
never oversells, never goes negative, and every unit is accounted for."""
from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import case, func
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inventory import receive_stock
from app.models import PHYSICAL_TYPES, Allocation, Location, Movement, StockLevel
from app.warehouses import create_location, create_warehouse
from tests.conftest import make_app
from tests.support.ledger_workers import grab, hammer, run_processes
from tests.support.processes import BIN, ROOT, wms_env

pytestmark = pytest.mark.postgres

SKUS = ["SKU-1", "SKU-2", "SKU-3"]
PLACES = ["A-01", "A-02", "P-01", "P-02"]
PROCESSES = 4
OPERATIONS = 300
START_UNITS = 8  # per SKU per location: low enough that many operations are refused


@pytest.fixture
def floor(postgres_url):
    app = make_app(postgres_url)
    with app.app_context():

        def build(session):
            site = create_warehouse(session, code="MAIN", name="Main warehouse")
            for sku in SKUS:
                create_product(session, sku=sku, name=f"Product {sku}")
            for code in PLACES + ["R-01", "R-02", "R-03", "R-04", "R-05"]:
                create_location(session, warehouse=site, code=code, type="pick" if code.startswith("P") else "storage")

        db.atomic(build)
        for sku in SKUS:
            for place in PLACES:
                db.atomic(receive_stock, sku=sku, location=place, quantity=START_UNITS)
        yield app
    app.extensions["wms.engine"].dispose()


def _physical_ids(session):
    return select(Location.id).where(Location.type.in_([str(t) for t in PHYSICAL_TYPES]))


def test_four_processes_hammering_the_same_stock_leave_a_clean_conserved_ledger(floor, postgres_url):
    results = run_processes(
        hammer, [(postgres_url, seed, OPERATIONS, SKUS, PLACES) for seed in range(PROCESSES)]
    )

    done = sum(sum(r["done"].values()) for r in results)
    refused = sum(sum(r["refused"].values()) for r in results)
    assert done + refused == PROCESSES * OPERATIONS
    assert refused >= 100, results  # the stock is scarce: plenty of requests must lose
    assert all(r["done"].get(kind) for r in results for kind in ("transfer", "adjust", "allocate", "release"))

    with db.reading() as session:
        levels = session.exec(select(StockLevel)).all()
        assert all(level.on_hand >= 0 for level in levels)
        assert all(0 <= level.allocated <= level.on_hand for level in levels)
        assert ledger.check(session) == []
        open_allocations = session.exec(select(func.coalesce(func.sum(Allocation.quantity), 0))).one()
        assert open_allocations == sum(level.allocated for level in levels)

        physical = _physical_ids(session)
        into = Movement.to_location_id.in_(physical)
        out_of = Movement.from_location_id.in_(physical)
        entered, left = session.exec(
            select(
                func.coalesce(func.sum(case((into & ~out_of, Movement.quantity), else_=0)), 0),
                func.coalesce(func.sum(case((out_of & ~into, Movement.quantity), else_=0)), 0),
            )
        ).one()
    on_hand = sum(level.on_hand for level in levels)
    assert on_hand == entered - left
    assert on_hand == len(SKUS) * len(PLACES) * START_UNITS + sum(r["net"] for r in results)

    check = subprocess.run(
        [str(BIN / "wms"), "check-ledger"], env=wms_env(postgres_url), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stderr
    assert "ledger is consistent" in check.stdout


def test_two_processes_racing_for_the_last_units_get_exactly_what_is_there(floor, postgres_url):
    # (location, units there, units each process asks for at a time)
    rounds = [("R-01", 7, 1), ("R-02", 7, 1), ("R-03", 10, 6), ("R-04", 10, 6), ("R-05", 5, 5)]
    for place, units, _ in rounds:
        db.atomic(receive_stock, sku="SKU-1", location=place, quantity=units)

    won = run_processes(grab, [(postgres_url, "SKU-1", [(p, q) for p, _, q in rounds])] * 2)

    with db.reading() as session:
        allocated = dict(
            session.exec(
                select(Location.code, StockLevel.allocated)
                .join(StockLevel, StockLevel.location_id == Location.id)
                .where(Location.code.in_([p for p, _, _ in rounds]))
            ).all()
        )
        assert ledger.check(session) == []
    for number, (place, units, ask) in enumerate(rounds):
        granted = won[0][number] + won[1][number]
        assert granted == (units // ask) * ask, (place, won)
        assert allocated[place] == granted
