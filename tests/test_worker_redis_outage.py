"""Redis going away does not stop the event path: with a Redis of the test's own (killed with SIGKILL
and started again empty on the same port, as CI keeps nothing on disk), real `wms worker`
processes, the WMS under gunicorn on PostgreSQL and the Starshipit simulator replaying 200 orders,
every event accepted while Redis was away is applied within the stale window after it returns,
no worker exits, the periodic poll is scheduled again, and stock and order statuses equal the
simulator's. A worker started while Redis is down waits for it and then works."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest
import redis
from rq import Queue, Worker
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.models import InboxEvent, InboxStatus, Order
from app.orders.polling import POLL_JOB_ID
from tests.conftest import _seed_basics, make_app
from tests.support.processes import free_port, redis_url, start_redis, start_wms, start_worker
from tests.support.replay import assert_wms_matches_simulator, inbox_counts, stock_the_floor
from tests.test_order_events import build_floor, order_body, send

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SECRET = "outage-webhook-secret"
SKUS = [f"OUT-{n:03d}" for n in range(1, 11)]
ORDERS = 200
STALE_SECONDS = 5.0  # INBOX_STALE_SECONDS for the run
OUTAGE_SECONDS = 3.0
MARGIN_SECONDS = 30.0  # on top of the stale window: a loaded 2-core machine reconnecting and applying a backlog


class OwnRedis:
    """The test's redis-server: kill() takes it away, restart() brings it back empty on the same port."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.server = start_redis(log_dir)
        self.url = redis_url(self.server)

    def kill(self) -> None:
        self.server.kill()

    def restart(self) -> None:
        self.server = start_redis(self.log_dir, self.server.port)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def stack(postgres_url, tmp_path):
    """PostgreSQL with stock, a Redis of its own, the WMS under gunicorn, two workers, the simulator."""
    from simulator import Simulator

    own_redis = OwnRedis(tmp_path)
    app = make_app(postgres_url)
    with app.app_context():
        _seed_basics()
        db.atomic(stock_the_floor, SKUS)
    sim = Simulator(secret=SECRET, skus=SKUS, seed=17).start()
    env = {
        "RQ_QUEUE": f"outage-{uuid.uuid4().hex[:8]}",
        "STARSHIPIT_WEBHOOK_SECRET": SECRET,
        "STARSHIPIT_API_URL": sim.url,
        "STARSHIPIT_API_KEY": "outage-key",
        "STARSHIPIT_RATE_LIMIT": "0",
        "STARSHIPIT_POLL_SECONDS": "2",
        "INBOX_STALE_SECONDS": str(STALE_SECONDS),
    }
    server = start_wms(postgres_url, tmp_path, workers=2, REDIS_URL=own_redis.url, **env)
    workers = [start_worker(postgres_url, own_redis.url, tmp_path, name=f"worker-{n}", **env) for n in (1, 2)]
    httpx.post(f"{sim.url}/_sim/config", json={"wms_url": server.url}, timeout=10).raise_for_status()
    running = {"app": app, "sim": sim, "server": server, "workers": workers, "env": env, "redis": own_redis,
               "url": postgres_url}
    try:
        yield running
    finally:
        sim.stop()
        for process in workers + [server]:
            process.stop()
        own_redis.stop()
        app.extensions["wms.engine"].dispose()


def _count(app, *where) -> int:
    with app.app_context(), db.reading() as session:
        return session.exec(select(func.count()).select_from(InboxEvent).where(*where)).one()


def _last_event_id(app) -> int:
    with app.app_context(), db.reading() as session:
        return session.exec(select(func.coalesce(func.max(InboxEvent.id), 0))).one()


def _logs(workers) -> str:
    return "\n".join(f"--- {worker.log.name}\n{worker.output()[-4000:]}" for worker in workers)


def _until(condition, deadline: float, failure: str, app, workers) -> float:
    """Poll `condition` until it holds, and return that moment (time.monotonic()); fail if the
    deadline passes first or if any worker process exits meanwhile."""
    while not condition():
        assert [worker.process.poll() for worker in workers] == [None] * len(workers), f"a worker exited\n{_logs(workers)}"
        if time.monotonic() > deadline:
            raise AssertionError(f"{failure}; inbox {inbox_counts(app)}\n{_logs(workers)}")
        time.sleep(0.2)
    return time.monotonic()


def _poll_scheduled(connection, queue_name: str) -> bool:
    queue = Queue(queue_name, connection=connection)
    return POLL_JOB_ID in queue.scheduled_job_registry or POLL_JOB_ID in queue.get_job_ids() \
        or POLL_JOB_ID in queue.started_job_registry


def _registered_pids(connection, queue_name: str) -> set[int]:
    return {worker.pid for worker in Worker.all(queue=Queue(queue_name, connection=connection))}


def test_redis_killed_mid_replay_every_event_is_applied_within_the_stale_window_and_no_worker_exits(stack):
    app, sim, workers, queue_name = stack["app"], stack["sim"], stack["workers"], stack["env"]["RQ_QUEUE"]
    body = {"orders": ORDERS, "seed": 7, "duplicate_rate": 0.3, "shuffle": True, "skus": SKUS, "prefix": "OUT-A-",
            "ship_rate": 0.7, "partial_rate": 0.15, "change_rate": 0.2, "delete_rate": 0.05}
    replay = httpx.post(f"{sim.url}/_sim/replay", json=body, timeout=120)
    assert replay.status_code == 200, replay.text
    events = replay.json()["events"]

    started = time.monotonic()
    _until(lambda: _count(app) >= events // 4, started + 120, "a quarter of the events never arrived", app, workers)
    stack["redis"].kill()  # SIGKILL, in the middle of the replay
    last_before_outage = _last_event_id(app)
    time.sleep(OUTAGE_SECONDS)
    last_before_return = _last_event_id(app)
    stack["redis"].restart()  # empty: queued jobs, the scheduled poll, retries and the wake flag are gone
    back = time.monotonic()
    accepted_while_away = _count(app, InboxEvent.id > last_before_outage, InboxEvent.id <= last_before_return)
    assert accepted_while_away > 0, "no webhook was accepted while Redis was away: the test proved nothing"

    # Every event accepted before Redis came back is applied within the stale window (plus a margin).
    old_applied = _until(
        lambda: _count(app, InboxEvent.status == InboxStatus.PENDING, InboxEvent.id <= last_before_return) == 0,
        back + STALE_SECONDS + MARGIN_SECONDS, "events accepted before Redis came back are still pending", app, workers,
    )
    with httpx.Client(base_url=sim.url, timeout=130) as control:
        idle = control.get("/_sim/wait", params={"timeout": 120}).json()
    assert idle["idle"], idle
    idle_at = time.monotonic()
    deliveries = httpx.get(f"{sim.url}/_sim/deliveries", timeout=30).json()["deliveries"]
    assert {d["state"] for d in deliveries} == {"delivered"}, "the WMS refused webhooks: " + str(
        [d for d in deliveries if d["state"] != "delivered"][:3])
    settled = _until(lambda: _count(app, InboxEvent.status == InboxStatus.PENDING) == 0,
                     max(back, idle_at) + STALE_SECONDS + MARGIN_SECONDS, "events still pending after the replay", app,
                     workers)

    with redis.Redis.from_url(stack["redis"].url) as connection:  # Redis came back empty: all this is new
        pids = {worker.process.pid for worker in workers}
        _until(lambda: _poll_scheduled(connection, queue_name) and _registered_pids(connection, queue_name) == pids,
               time.monotonic() + 30, "the poll was not scheduled again, or a worker did not register again", app, workers)
    counts = inbox_counts(app)
    assert counts.get(InboxStatus.FAILED, 0) == 0, counts
    assert_wms_matches_simulator(app, sim.url, stack["url"], "OUT-A-", orders=ORDERS, skus=SKUS)
    print(f"\nRedis away {OUTAGE_SECONDS:g} s; {accepted_while_away} inbox events stored meanwhile (replay: {events} "
          f"events); after it came back: every event stored before applied in {old_applied - back:.1f} s, "
          f"everything in {settled - back:.1f} s")

    for worker in workers:  # SIGTERM: a graceful stop, promptly (Running.stop kills after 10 s)
        worker.stop()
        assert worker.process.returncode == 0, worker.output()[-3000:]


def test_a_worker_started_while_redis_is_down_waits_then_applies_what_was_accepted_meanwhile(postgres_url, tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    env = {"RQ_QUEUE": f"outage-{uuid.uuid4().hex[:8]}", "INBOX_STALE_SECONDS": "1"}
    app = make_app(postgres_url, REDIS_URL=url, **env)
    with app.app_context():
        _seed_basics()
        build_floor({("SKU-A", "P-01"): 10})
        accepted = send(app.test_client(), order_body("order_created", number="SO-AWAY", items=[{"sku": "SKU-A", "quantity": 2}]))
        assert accepted.status_code in (200, 202), accepted.get_data(as_text=True)  # stored; no Redis to hand it to
    worker = start_worker(postgres_url, url, tmp_path, **env)
    own_redis = None
    try:
        _until(lambda: "is not answering while starting" in worker.output(), time.monotonic() + 60,
               "the worker never said it was waiting for Redis", app, [worker])
        own_redis = start_redis(tmp_path, port)
        with redis.Redis.from_url(url) as connection:
            queue = Queue(env["RQ_QUEUE"], connection=connection)
            queue.enqueue("jobs.events.no_such_job", job_id="broken-job")  # a job that raises fails alone
            _until(lambda: _count(app, InboxEvent.status == InboxStatus.PROCESSED) == 1
                   and "broken-job" in queue.failed_job_registry, time.monotonic() + 60,
                   "the event was not applied, or the broken job did not fail", app, [worker])
        with app.app_context(), db.reading() as session:
            assert session.exec(select(Order.status).where(Order.order_number == "SO-AWAY")).one() == "PENDING"
        assert "Stale sweep: 1 pending event(s)" in worker.output()
        worker.stop()
        assert worker.process.returncode == 0, worker.output()[-3000:]
    finally:
        worker.stop()
        if own_redis is not None:
            own_redis.stop()
        app.extensions["wms.engine"].dispose()
