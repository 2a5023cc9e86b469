"""Drains: order events stored by the webhook wake the inbox (one drain job for a burst), drains
apply each event once (two at the same moment too), a failing event is counted and handed to its
scheduled retry job (drains leave it alone), and an event stored while a drain is finishing still
gets a drain. A real Redis (db 6, flushed before and after) and real databases."""
from __future__ import annotations

import threading
import time

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlmodel import Session, func, select

from app import db
from app.models import InboxEvent, OrderTimelineEntry
from app.orders import events, inbox, processing
from tests.conftest import _seed_basics, flushed_redis, make_app
from tests.test_order_events import assert_ledger_clean, build_floor, order_body, order_state, send

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/6"


@pytest.fixture
def queue_store():
    with flushed_redis(REDIS_URL) as connection:
        yield connection


def _redis_app(database_url, queue_store):
    app = make_app(database_url, REDIS_URL=REDIS_URL)
    with app.app_context():
        _seed_basics()
        build_floor({("SKU-A", "P-01"): 100, ("SKU-B", "P-02"): 100})
        yield app
    app.extensions["wms.engine"].dispose()


@pytest.fixture
def redis_app(database_url, queue_store):
    yield from _redis_app(database_url, queue_store)


@pytest.fixture
def postgres_redis_app(postgres_url, queue_store):
    yield from _redis_app(postgres_url, queue_store)


def queued_functions(queue_store) -> list[str]:
    q = Queue("wms", connection=queue_store)
    return [job.func_name for job in q.get_jobs()]


def run_queued(app, queue_store) -> None:
    """What `wms worker --burst` would do with the queued jobs, in this process."""
    q = Queue("wms", connection=queue_store)
    while (job_id := queue_store.lpop(q.key)) is not None:
        Job.fetch(job_id.decode(), connection=queue_store).perform()


def statuses() -> dict[str, int]:
    with db.reading() as session:
        return dict(session.exec(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)).all())


def timeline_counts() -> dict[int, int]:
    with db.reading() as session:
        rows = session.exec(
            select(OrderTimelineEntry.inbox_event_id, func.count()).group_by(OrderTimelineEntry.inbox_event_id)
        ).all()
    return dict(rows)


def test_a_burst_of_webhooks_enqueues_one_drain_and_two_drains_apply_each_event_once(redis_app, queue_store):
    client = redis_app.test_client()
    bodies = [order_body("order_created", number=f"SO-{n}", items=[{"sku": "SKU-A", "quantity": 1}]) for n in range(30)]
    bodies += [order_body("order_shipped", number=f"SO-{n}", at="2026-11-24T05:00:00Z",
                          items=[{"sku": "SKU-A", "quantity": 1}]) for n in range(0, 30, 3)]
    for body in bodies:
        assert send(client, body).status_code == 202
        assert send(client, body).status_code == 200  # a repeat stores nothing and wakes nothing
    assert queued_functions(queue_store) == ["jobs.events.drain_inbox"]
    assert statuses() == {"pending": 40}

    barrier = threading.Barrier(2)
    tried, errors = [], []

    def drain():
        with redis_app.app_context():
            barrier.wait()
            try:
                tried.append(processing.drain())
            except Exception as error:  # noqa: BLE001
                errors.append(error)

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(tried) == 40  # every event tried by exactly one drain
    assert statuses() == {"processed": 40}
    assert set(timeline_counts().values()) == {1} and len(timeline_counts()) == 40  # each applied once
    assert order_state("SO-0")["status"] == "SHIPPED" and order_state("SO-1")["status"] == "PENDING"
    # with a backlog a drain woke one more for the next free worker; left over, it finds nothing
    assert "jobs.events.drain_inbox" in queued_functions(queue_store)
    run_queued(redis_app, queue_store)
    assert statuses() == {"processed": 40}
    assert queue_store.get(inbox.wake_key()) is None and queued_functions(queue_store) == []
    assert_ledger_clean()


@pytest.mark.postgres
def test_an_orders_later_event_waits_while_another_drain_applies_its_earlier_one(postgres_redis_app, queue_store):
    """Two drains side by side: one is applying an order's order_created (here: this test, holding
    the event's lock) when the other reaches that order's order_shipped. The shipment waits for
    the creation to commit, then applies: both processed, in the order they arrived (were the
    shipment applied first, it would create the order and the older order_created be ignored)."""
    client = postgres_redis_app.test_client()
    items = [{"sku": "SKU-A", "quantity": 1}]
    send(client, order_body("order_created", number="SO-1", items=items))
    send(client, order_body("order_shipped", number="SO-1", at="2026-11-24T05:00:00Z", items=items))
    with db.reading() as session:
        created_id, shipped_id = session.exec(select(InboxEvent.id).order_by(InboxEvent.id)).all()
    tried: list[int] = []
    with Session(db.engine()) as holder:  # the other drain, mid-way through order_created
        created, _ = inbox.claim(holder, created_id)
        drainer = threading.Thread(target=lambda: _drain_in(postgres_redis_app, tried))
        drainer.start()
        _until_a_lock_is_awaited(holder)  # the drain claimed the shipment and waits for the creation
        events.apply_event(holder, created)
        holder.commit()
        drainer.join()
    assert tried == [1]  # the drain applied the shipment only; the creation was the holder's
    assert statuses() == {"processed": 2}
    assert order_state("SO-1")["status"] == "SHIPPED"
    with db.reading() as session:
        applied = session.exec(select(OrderTimelineEntry.inbox_event_id).order_by(OrderTimelineEntry.id)).all()
    assert [event_id for event_id in applied if event_id] == [created_id, shipped_id]
    assert_ledger_clean()


def _drain_in(app, tried: list[int]) -> None:
    with app.app_context():
        tried.append(processing.drain())


def _until_a_lock_is_awaited(session) -> None:
    for _ in range(600):
        waiting = session.connection().exec_driver_sql(  # a backend of this test's own database (others run beside)
            "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
            " WHERE NOT granted AND datname = current_database()"
        ).scalar()
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the drain never waited for the earlier event")


def test_a_failing_event_is_counted_scheduled_for_retry_and_left_alone_by_drains(redis_app, queue_store, monkeypatch):
    client = redis_app.test_client()
    real_apply = processing.events.apply_event

    def flaky(session, event, fetched=None):
        if event.order_number == "SO-BAD":
            raise RuntimeError("database hiccup")
        return real_apply(session, event, fetched)

    monkeypatch.setattr(processing.events, "apply_event", flaky)
    send(client, order_body("order_created", number="SO-1"))
    send(client, order_body("order_created", number="SO-BAD"))
    send(client, order_body("order_created", number="SO-2"))
    run_queued(redis_app, queue_store)  # the drain: SO-BAD fails, the others apply
    with db.reading() as session:
        bad = session.exec(select(InboxEvent).where(InboxEvent.order_number == "SO-BAD")).one()
    assert (bad.status, bad.attempts, bad.error_detail) == ("pending", 1, "RuntimeError: database hiccup")
    assert "not applied" in bad.last_error and "tried again" in bad.last_error and "RuntimeError" not in bad.last_error
    assert bad.next_try_at is not None  # the backoff kept in the database, beside the scheduled job
    assert statuses() == {"processed": 2, "pending": 1}
    registry = ScheduledJobRegistry(queue=Queue("wms", connection=queue_store))
    assert registry.get_job_ids() == [inbox.job_id(bad.id, 1)]

    monkeypatch.setattr(processing.events, "apply_event", real_apply)  # the cause is gone
    send(client, order_body("order_created", number="SO-3"))
    run_queued(redis_app, queue_store)  # a later drain applies SO-3 but leaves SO-BAD to its retry
    with db.reading() as session:
        assert session.get(InboxEvent, bad.id).status == "pending"
    assert order_state("SO-3")["status"] == "PENDING" and order_state("SO-BAD") is None

    Job.fetch(inbox.job_id(bad.id, 1), connection=queue_store).perform()  # the retry, when due
    assert statuses() == {"processed": 4}
    assert order_state("SO-BAD")["status"] == "PENDING"


def test_the_last_failed_try_fails_the_event_for_good_without_another_retry(redis_app, queue_store, monkeypatch):
    monkeypatch.setattr(processing.events, "apply_event", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("down")))
    send(redis_app.test_client(), order_body("order_created"))
    run_queued(redis_app, queue_store)
    with db.reading() as session:
        event = session.exec(select(InboxEvent)).one()
    for attempts in range(1, inbox.MAX_ATTEMPTS):
        assert processing.process(event.id) == ("pending" if attempts + 1 < inbox.MAX_ATTEMPTS else "failed")
    registry = ScheduledJobRegistry(queue=Queue("wms", connection=queue_store))
    assert sorted(registry.get_job_ids()) == sorted(inbox.job_id(event.id, n) for n in range(1, inbox.MAX_ATTEMPTS))
    with db.reading() as session:
        final = session.get(InboxEvent, event.id)
    assert (final.attempts, final.next_try_at) == (inbox.MAX_ATTEMPTS, None)
    assert f"It was tried {inbox.MAX_ATTEMPTS} times" in final.last_error and "RuntimeError" not in final.last_error
    assert final.error_detail == "RuntimeError: down"


@pytest.mark.postgres
def test_an_event_stored_while_a_drain_finishes_wakes_another_drain(postgres_redis_app, queue_store, monkeypatch):
    """The drain's last claim finds nothing; before the drain ends, a webhook stores an event.
    The drain deleted the wake flag when it started, so that webhook's SET NX succeeds and
    enqueues a new drain, which applies the event."""
    client = postgres_redis_app.test_client()
    send(client, order_body("order_created", number="SO-1"))
    assert queued_functions(queue_store) == ["jobs.events.drain_inbox"]
    queue_store.lpop(Queue("wms", connection=queue_store).key)  # this test runs the drain itself
    real_next, late = processing._apply_next, []

    def last_claim_then_a_webhook(session, batch, claimed):
        result = real_next(session, batch, claimed)
        if result is None and not late:  # the claim found nothing: the drain is about to end
            late.append(send(client, order_body("order_created", number="SO-LATE")).status_code)
        return result

    monkeypatch.setattr(processing, "_apply_next", last_claim_then_a_webhook)
    assert processing.drain() == 1
    assert late == [202]
    assert order_state("SO-LATE") is None  # missed by that drain ...
    assert queued_functions(queue_store) == ["jobs.events.drain_inbox"]  # ... but it woke a new one
    monkeypatch.setattr(processing, "_apply_next", real_next)
    run_queued(postgres_redis_app, queue_store)
    assert order_state("SO-LATE")["status"] == "PENDING"
    assert statuses() == {"processed": 2}


def test_without_redis_one_drain_applies_a_backlog_in_process(app, monkeypatch):
    """No Redis: the poll's sweep (or a wake) runs the drain in the web or CLI process; it applies
    the whole backlog itself and wakes no other drain (in-process, that would nest drains)."""
    import json

    from app.orders.payloads import read_webhook

    build_floor({("SKU-A", "P-01"): 100, ("SKU-B", "P-02"): 100})
    for n in range(20):
        raw = json.dumps(order_body("order_created", number=f"SO-{n}", items=[{"sku": "SKU-A", "quantity": 1}])).encode()
        db.atomic(inbox.store, read_webhook(raw)[0], raw.decode())
    woken = []
    monkeypatch.setattr(inbox, "wake", lambda: woken.append(1))
    assert processing.drain(seconds=0) == 20
    assert statuses() == {"processed": 20} and woken == []
