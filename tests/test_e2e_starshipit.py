"""End to end, as in production: the WMS under gunicorn with Redis, real `wms worker` processes on
PostgreSQL, and the Starshipit simulator replaying 500 orders' events with duplicates, shuffled.
Afterwards every order's status and every SKU's stock equal what the simulator shipped, and
`wms check-ledger` is clean — also when a worker is killed (SIGKILL) in the middle of the run."""
from __future__ import annotations

import subprocess
import time
import uuid

import httpx
import pytest
import redis
from sqlalchemy import func
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import Discrepancy, InboxEvent, InboxStatus, Order, OrderLine, Product, StockLevel
from app.warehouses import create_location, get_warehouse
from tests.conftest import _seed_basics, make_app
from tests.support.processes import BIN, start_wms, start_worker, wms_env

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SECRET = "e2e-webhook-secret"
REDIS_URL = "redis://127.0.0.1:6379/11"
SKUS = [f"E2E-{n:03d}" for n in range(1, 13)]
STOCK_PER_SKU = 3000  # 1,000 on a pick face and 2,000 in storage: no shortfall expected
ORDERS = 500


def _stock_the_floor(session):
    site = get_warehouse(session)
    for number, sku in enumerate(SKUS, start=1):
        create_product(session, sku=sku, name=f"End-to-end product {number}")
        create_location(session, warehouse=site, code=f"P-{number:02d}", type="pick", pick_sequence=number)
        create_location(session, warehouse=site, code=f"S-{number:02d}", type="storage")
        adjust_stock(session, sku=sku, location=f"P-{number:02d}", quantity=1000, reason="found")
        adjust_stock(session, sku=sku, location=f"S-{number:02d}", quantity=2000, reason="found")


@pytest.fixture
def stack(postgres_url, tmp_path):
    """PostgreSQL with stock, a clean Redis database, the WMS under gunicorn, two workers, the simulator."""
    from simulator import Simulator

    queue_store = redis.Redis.from_url(REDIS_URL)
    queue_store.flushdb()
    app = make_app(postgres_url)
    with app.app_context():
        _seed_basics()
        db.atomic(_stock_the_floor)
    sim = Simulator(secret=SECRET, skus=SKUS, seed=11).start()
    env = {
        "REDIS_URL": REDIS_URL,
        "RQ_QUEUE": f"e2e-{uuid.uuid4().hex[:8]}",  # a worker left over from another run never sees these jobs
        "STARSHIPIT_WEBHOOK_SECRET": SECRET,
        "STARSHIPIT_API_URL": sim.url,
        "STARSHIPIT_API_KEY": "e2e-key",
        "STARSHIPIT_RATE_LIMIT": "0",
        "STARSHIPIT_POLL_SECONDS": "2",
        "INBOX_STALE_SECONDS": "5",
    }
    server = start_wms(postgres_url, tmp_path, workers=2, **env)
    workers = [start_worker(postgres_url, REDIS_URL, tmp_path, name=f"worker-{n}", **env) for n in (1, 2)]
    httpx.post(f"{sim.url}/_sim/config", json={"wms_url": server.url}, timeout=10).raise_for_status()
    running = {"app": app, "sim": sim, "server": server, "workers": workers, "env": env, "tmp": tmp_path,
               "url": postgres_url}
    try:
        yield running
    finally:
        sim.stop()
        for process in running["workers"] + [server]:
            process.stop()
        queue_store.flushdb()
        queue_store.close()
        app.extensions["wms.engine"].dispose()


def _inbox_counts(app) -> dict[str, int]:
    with app.app_context(), db.reading() as session:
        rows = session.exec(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)).all()
    return dict(rows)


def _wait_until_settled(stack, timeout: float = 240.0) -> dict[str, int]:
    """Until the simulator has delivered everything and no inbox event is pending, twice in a row."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=stack["sim"].url, timeout=70) as control:
        idle = control.get("/_sim/wait", params={"timeout": 60}).json()
        assert idle["idle"], idle
    quiet = 0
    while time.monotonic() < deadline:
        counts = _inbox_counts(stack["app"])
        quiet = quiet + 1 if counts.get(InboxStatus.PENDING, 0) == 0 else 0
        if quiet >= 2:
            return counts
        time.sleep(0.5)
    logs = "\n".join(p.output()[-3000:] for p in stack["workers"])
    raise AssertionError(f"events still pending after {timeout}s: {_inbox_counts(stack['app'])}\n{logs}")


def _assert_wms_matches_simulator(stack, prefix: str) -> None:
    expected = httpx.get(f"{stack['sim'].url}/_sim/expected", params={"prefix": prefix}, timeout=30).json()
    assert len(expected["orders"]) == ORDERS
    with stack["app"].app_context(), db.reading() as session:
        orders = {o.order_number: o for o in session.exec(select(Order).where(Order.order_number.startswith(prefix)))}
        lines: dict[str, dict[str, int]] = {}
        for order_number, sku, shipped in session.exec(
            select(Order.order_number, OrderLine.sku, OrderLine.shipped_quantity).join(
                OrderLine, OrderLine.order_id == Order.id
            )
        ):
            lines.setdefault(order_number, {})
            lines[order_number][sku] = lines[order_number].get(sku, 0) + shipped
        on_hand = dict(
            session.exec(
                select(Product.sku, func.sum(StockLevel.on_hand))
                .join(StockLevel, StockLevel.product_id == Product.id)
                .group_by(Product.sku)
            ).all()
        )
        discrepancies = session.exec(select(func.count()).select_from(Discrepancy)).one()
        drifts = ledger.check(session)

    wrong_status = {
        number: (orders[number].status if number in orders else "missing", want["status"])
        for number, want in expected["orders"].items()
        if number not in orders or orders[number].status != want["status"]
    }
    assert wrong_status == {}, f"{len(wrong_status)} orders differ (have, want): {dict(list(wrong_status.items())[:10])}"
    wrong_lines = {
        number: (lines.get(number, {}), {line["sku"]: line["shipped"] for line in want["lines"]})
        for number, want in expected["orders"].items()
        if {sku: q for sku, q in lines.get(number, {}).items() if q}
        != {line["sku"]: line["shipped"] for line in want["lines"] if line["shipped"]}
    }
    assert wrong_lines == {}, f"shipped quantities differ: {dict(list(wrong_lines.items())[:10])}"
    shipped = expected["shipped_by_sku"]
    assert sum(shipped.values()) > 0
    assert {sku: STOCK_PER_SKU - int(on_hand.get(sku, 0)) for sku in SKUS} == {sku: shipped.get(sku, 0) for sku in SKUS}
    assert discrepancies == 0
    assert drifts == []
    check = subprocess.run(
        [str(BIN / "wms"), "check-ledger"], env=wms_env(stack["url"]), capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stderr


def _current_job(worker) -> str | None:
    """The function of the job this `wms worker` process is running, from RQ's worker registry."""
    from rq import Worker

    with redis.Redis.from_url(REDIS_URL) as connection:
        for rq_worker in Worker.all(connection=connection):
            if rq_worker.pid == worker.process.pid:
                job = rq_worker.get_current_job()
                return job.func_name if job is not None else None
    return None


def _replay(stack, prefix: str) -> dict:
    body = {"orders": ORDERS, "seed": 5, "duplicate_rate": 0.3, "shuffle": True, "skus": SKUS, "prefix": prefix,
            "ship_rate": 0.7, "partial_rate": 0.15, "change_rate": 0.2, "delete_rate": 0.05}
    answer = httpx.post(f"{stack['sim'].url}/_sim/replay", json=body, timeout=120)
    assert answer.status_code == 200, answer.text
    replay = answer.json()
    assert replay["deliveries"] > replay["events"] > ORDERS  # duplicates were sent
    return replay


def test_500_replayed_orders_with_duplicates_and_shuffling_end_with_exact_stock(stack):
    _replay(stack, "RUN-A-")
    counts = _wait_until_settled(stack)
    assert counts.get(InboxStatus.FAILED, 0) == 0
    _assert_wms_matches_simulator(stack, "RUN-A-")


def test_a_worker_killed_mid_run_loses_nothing_and_applies_nothing_twice(stack):
    replay = _replay(stack, "RUN-B-")
    victim = stack["workers"][0]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # let the workers get well into the stream, the victim draining
        done = _inbox_counts(stack["app"]).get(InboxStatus.PROCESSED, 0)
        if done >= replay["events"] // 4 and _current_job(victim) == "jobs.events.drain_inbox":
            break
        time.sleep(0.01)
    assert _current_job(victim) == "jobs.events.drain_inbox", "the victim never drained"
    victim.kill()
    assert victim.process.returncode == -9
    stack["workers"].append(start_worker(stack["url"], REDIS_URL, stack["tmp"], name="worker-3", **stack["env"]))
    counts = _wait_until_settled(stack)
    assert counts.get(InboxStatus.FAILED, 0) == 0
    _assert_wms_matches_simulator(stack, "RUN-B-")
