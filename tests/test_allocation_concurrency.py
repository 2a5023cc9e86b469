"""Allocation under contention, with real OS processes on PostgreSQL: 200 orders of 1 unit of a SKU
with 120 available (over a pick face and two storage locations; more in quarantine and on the
receiving dock, which never count), allocated by 4 worker processes at once through the allocation
job: exactly 120 allocated, 80 AWAITING_STOCK, no balance negative or over-allocated, the ledger
clean. Then a receipt of 80 allocates the rest, oldest order first."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock, receive_stock
from app.models import Allocation, Order, OrderLine, StockLevel
from app.timeutil import utcnow
from app.warehouses import create_location, get_warehouse
from tests.conftest import _seed_basics, make_app
from tests.support.allocation_workers import allocate_batches
from tests.support.ledger_workers import run_processes

pytestmark = pytest.mark.postgres

PROCESSES = 4
ORDERS = 200
AVAILABLE = {"P-01": 20, "S-01": 50, "S-02": 50}  # 120


@pytest.fixture
def orders(postgres_url):
    """The floor and 200 WMS orders of 1 x SKU-1, each a millisecond younger than the one before."""
    app = make_app(postgres_url)
    with app.app_context():
        _seed_basics()

        def build(session):
            site = get_warehouse(session)
            product = create_product(session, sku="SKU-1", name="Widget")
            create_location(session, warehouse=site, code="P-01", type="pick", pick_sequence=1)
            for code in ("S-01", "S-02", "S-03"):
                create_location(session, warehouse=site, code=code, type="storage")
            create_location(session, warehouse=site, code="Q-01", type="quarantine")
            create_location(session, warehouse=site, code="DOCK", type="receiving")
            start = utcnow() - timedelta(hours=1)
            ids = []
            for number in range(ORDERS):
                order = Order(order_number=f"SO-{number:03}", warehouse_id=site.id, status="PENDING", route="WMS",
                              destination={"name": "Ada", "country": "NZ"},
                              created_at=start + timedelta(milliseconds=number))
                session.add(order)
                session.flush()
                session.add(OrderLine(order_id=order.id, sku="SKU-1", product_id=product.id, quantity=1))
                ids.append(order.id)
            return ids

        ids = db.atomic(build)
        for code, quantity in {**AVAILABLE, "Q-01": 30, "DOCK": 10}.items():
            db.atomic(adjust_stock, sku="SKU-1", location=code, quantity=quantity, reason="found")
    app.extensions["wms.engine"].dispose()
    return ids


def statuses(session) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for order_id, status in session.execute(select(Order.id, Order.status).order_by(Order.id)):
        found.setdefault(status, []).append(order_id)
    return found


def balances(session) -> dict[str, tuple[int, int]]:
    from app.models import Location

    rows = session.execute(select(Location.code, StockLevel.on_hand, StockLevel.allocated)
                           .join(StockLevel, StockLevel.location_id == Location.id)).all()
    return {code: (on_hand, allocated) for code, on_hand, allocated in rows}


def test_four_workers_allocate_exactly_what_is_available_and_a_receipt_allocates_the_rest_oldest_first(
        orders, postgres_url):
    # Each worker allocates its own quarter, then every order again (the order row's lock makes the
    # second pass find each order allocated or awaiting already): both the balances and the orders race.
    quarters = [orders[k::PROCESSES] for k in range(PROCESSES)]
    found = run_processes(allocate_batches, [(postgres_url, [quarters[k], orders]) for k in range(PROCESSES)],
                          timeout=300)

    first_pass = [batch[0] for batch in found]
    assert sum(f.get("ALLOCATED", 0) for f in first_pass) == 120
    assert sum(f.get("AWAITING_STOCK", 0) for f in first_pass) == 80
    app = make_app(postgres_url)  # a process of its own (a web process receiving the stock)
    with app.app_context():
        with db.reading() as session:
            by_status = statuses(session)
            assert {status: len(ids) for status, ids in by_status.items()} == {"ALLOCATED": 120, "AWAITING_STOCK": 80}
            allocations = session.scalars(select(Allocation).where(Allocation.quantity > 0)).all()
            assert len(allocations) == 120 and all(a.quantity == 1 for a in allocations)
            assert len({a.order_line_id for a in allocations}) == 120  # no order holds two units
            held = balances(session)
            assert {code: held[code] for code in AVAILABLE} == {code: (q, q) for code, q in AVAILABLE.items()}
            assert held["Q-01"] == (30, 0) and held["DOCK"] == (10, 0)
            assert all(0 <= allocated <= on_hand for on_hand, allocated in held.values())
            assert ledger.check(session) == []
            waiting = by_status["AWAITING_STOCK"]

        db.atomic(receive_stock, sku="SKU-1", location="S-03", quantity=80)  # the listener retries them

        with db.reading() as session:
            assert {status: len(ids) for status, ids in statuses(session).items()} == {"ALLOCATED": 200}
            line_order = dict(session.execute(select(OrderLine.id, OrderLine.order_id)).all())
            new = session.scalars(
                select(Allocation).where(Allocation.location_id == select(StockLevel.location_id).where(
                    StockLevel.on_hand == 80).scalar_subquery()).order_by(Allocation.id)).all()
            # the 80 that waited got S-03's 80, one each, in the order they arrived (oldest first)
            assert [line_order[a.order_line_id] for a in new] == sorted(waiting)
            assert balances(session)["S-03"] == (80, 80)
            assert ledger.check(session) == []
    app.extensions["wms.engine"].dispose()
