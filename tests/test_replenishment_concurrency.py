"""Replenishment under concurrency, with real OS processes on PostgreSQL: a pick face taken under
its minimum by four shipments at once gets exactly one task, which a picker then completes by
scanning; checks racing to create the task create exactly one, round after round."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db, ledger, replenishment
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import Movement, Order, OrderLine, ReplenishmentTask
from app.warehouses import create_location, get_warehouse
from tests.conftest import _seed_basics, make_app, sign_in
from tests.support.ledger_workers import run_processes
from tests.support.replenishment_workers import check_rounds, ship_order

pytestmark = pytest.mark.postgres

PROCESSES = 4


@pytest.fixture
def floor(postgres_url):
    """SKU-1: 10 at pick face P-01 (min 10, max 30), 100 in storage S-01; one order of 1 per process."""
    app = make_app(postgres_url)
    with app.app_context():
        _seed_basics()

        def build(session):
            site = get_warehouse(session)
            product = create_product(session, sku="SKU-1", name="Widget", barcodes=["9300000000011"])
            create_location(session, warehouse=site, code="P-01", type="pick", pick_sequence=1)
            create_location(session, warehouse=site, code="S-01", type="storage")
            for number in range(PROCESSES):
                order = Order(order_number=f"SO-{number}", warehouse_id=site.id, status="PENDING",
                              destination={"name": "Ada", "city": "Wellington", "country": "NZ"})
                session.add(order)
                session.flush()
                session.add(OrderLine(order_id=order.id, sku="SKU-1", product_id=product.id, quantity=1))

        db.atomic(build)
        db.atomic(adjust_stock, sku="SKU-1", location="S-01", quantity=100, reason="found")
        db.atomic(adjust_stock, sku="SKU-1", location="P-01", quantity=10, reason="found")
        replenishment.save_rule(sku="SKU-1", location="P-01", min=10, max=30)
        yield app
    app.extensions["wms.engine"].dispose()


def open_tasks():
    with db.reading() as session:
        return session.exec(select(ReplenishmentTask).where(ReplenishmentTask.status == "open")).all()


def test_four_processes_shipping_from_a_pick_face_at_once_get_exactly_one_task_done_by_scanning(floor, postgres_url):
    assert open_tasks() == []  # 10 is at the minimum, not below

    results = run_processes(ship_order, [(postgres_url, f"SO-{n}", "SKU-1", 1) for n in range(PROCESSES)])

    assert [r["shipped"] for r in results] == [{"SKU-1": 1}] * PROCESSES
    checks = [outcome for r in results for outcome in r["checks"]]
    assert len(checks) == PROCESSES  # every shipment left P-01 below 10, and each process checked it
    assert checks.count(replenishment.CREATED) == 1
    assert set(checks) <= {replenishment.CREATED, replenishment.ALREADY_OPEN}
    [task] = open_tasks()
    # up to 30 from what P-01 held when the winning check read it: 9 (after the first shipment) to 6
    assert 21 <= task.quantity <= 24
    with db.reading() as session:
        shipped = session.exec(select(Movement).where(Movement.type == "shipment")).all()
        assert sum(m.quantity for m in shipped) == PROCESSES and ledger.check(session) == []

    picker = sign_in(floor.test_client(), "picker")
    page = picker.get(f"/replenishment/tasks/{task.id}").get_data(as_text=True)
    assert f"{task.quantity}</strong> from <strong>S-01" in page
    done = picker.post(f"/replenishment/tasks/{task.id}/complete", headers={"HX-Request": "true"},
                       data={"from_location": "S-01", "product": "9300000000011", "quantity": str(task.quantity),
                             "to_location": "P-01"})
    assert done.status_code == 200 and f"P-01 now holds {6 + task.quantity}" in done.get_data(as_text=True)
    assert open_tasks() == []
    with db.reading() as session:
        assert session.get(ReplenishmentTask, task.id).status == "done"
        assert ledger.check(session) == []


def test_checks_racing_in_four_processes_create_exactly_one_task_each_round(floor, postgres_url):
    db.atomic(adjust_stock, sku="SKU-1", location="P-01", quantity=-5, reason="damaged")  # 5: below 10
    with db.reading() as session:
        [task] = open_tasks()
        key = (task.product_id, task.to_location_id)
    db.atomic(lambda session: setattr(session.get(ReplenishmentTask, task.id), "status", "cancelled"))
    rounds = 12

    outcomes = run_processes(check_rounds, [(postgres_url, *key, rounds, n == 0) for n in range(PROCESSES)])

    for number in range(rounds):
        this_round = sorted(process[number] for process in outcomes)
        assert this_round == [replenishment.ALREADY_OPEN] * (PROCESSES - 1) + [replenishment.CREATED], number
    with db.reading() as session:
        statuses = [t.status for t in session.exec(select(ReplenishmentTask))]
    assert statuses.count("open") == 0 and statuses.count("cancelled") == rounds + 1
