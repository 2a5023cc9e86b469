"""End to end, as in production: the WMS under gunicorn with Redis, real `wms worker` processes on
PostgreSQL, and the Starshipit simulator replaying 500 orders' events with duplicates, shuffled.
Afterwards every order's status and every SKU's stock equal what the simulator shipped, and
`wms check-ledger` is clean — also when a worker is killed (SIGKILL) in the middle of the run."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest
import redis

from app import db
from app.models import InboxStatus
from tests.conftest import _seed_basics, make_app
from tests.support.processes import start_wms, start_worker
from tests.support.replay import assert_wms_matches_simulator, inbox_counts, stock_the_floor

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SECRET = "e2e-webhook-secret"
REDIS_URL = "redis://127.0.0.1:6379/11"
SKUS = [f"E2E-{n:03d}" for n in range(1, 13)]
ORDERS = 500


@pytest.fixture
def stack(postgres_url, tmp_path):
    """PostgreSQL with stock, a clean Redis database, the WMS under gunicorn, two workers, the simulator."""
    from simulator import Simulator

    queue_store = redis.Redis.from_url(REDIS_URL)
    queue_store.flushdb()
    app = make_app(postgres_url)
    with app.app_context():
        _seed_basics()
        db.atomic(stock_the_floor, SKUS)
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


def _wait_until_settled(stack, timeout: float = 240.0) -> dict[str, int]:
    """Until the simulator has delivered everything and no inbox event is pending, twice in a row."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=stack["sim"].url, timeout=70) as control:
        idle = control.get("/_sim/wait", params={"timeout": 60}).json()
        assert idle["idle"], idle
    quiet = 0
    while time.monotonic() < deadline:
        counts = inbox_counts(stack["app"])
        quiet = quiet + 1 if counts.get(InboxStatus.PENDING, 0) == 0 else 0
        if quiet >= 2:
            return counts
        time.sleep(0.5)
    logs = "\n".join(p.output()[-3000:] for p in stack["workers"])
    raise AssertionError(f"events still pending after {timeout}s: {inbox_counts(stack['app'])}\n{logs}")


def _assert_wms_matches_simulator(stack, prefix: str) -> None:
    assert_wms_matches_simulator(stack["app"], stack["sim"].url, stack["url"], prefix, orders=ORDERS, skus=SKUS)


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
        done = inbox_counts(stack["app"]).get(InboxStatus.PROCESSED, 0)
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
