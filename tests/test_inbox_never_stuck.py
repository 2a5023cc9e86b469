"""No inbox event stays pending: a try that fails for a passing reason (Starshipit answering 503,
Redis down while the retry is scheduled) counts one attempt and is tried again after a backoff
kept in the database; the stale sweep finds an event by its next try or, never tried, by its
arrival; without Redis and without a worker, the web process's own sweeper applies what is due;
an order the poll cannot read is stored failed with the reason, never dropped. Real SQLite and
PostgreSQL, the Starshipit simulator, and a real gunicorn where a process matters."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from app import db
from app.models import InboxEvent
from app.orders import inbox, processing, sweeper
from app.orders.payloads import read_webhook
from app.settings_store import save
from app.timeutil import utcnow
from simulator.server import Simulator
from tests.conftest import _seed_basics, make_app, sign_in
from tests.support.processes import free_port, start_wms
from tests.test_order_events import build_floor, on_hand, order_body, order_state, send

PRINTED = {"order_number": "SO-1", "carrier_name": "NZ Post", "tracking_number": "NZ1", "tracking_status": "Printed",
           "last_updated_date": "2026-11-24T06:00:00Z"}
FETCH_TRIES = 4  # the Starshipit client's requests for one fetch: the first and 3 retries


def use_simulator(sim: Simulator) -> None:
    db.atomic(save, "STARSHIPIT_API_URL", sim.url)
    db.atomic(save, "STARSHIPIT_RATE_LIMIT", "0")


def starshipit_fails(sim: Simulator, fetches: int = 1) -> None:
    """Starshipit's API answers 503 to the next `fetches` order fetches (each with its retries)."""
    answer = httpx.post(f"{sim.url}/_sim/faults", json={"status": 503, "count": FETCH_TRIES * fetches}, timeout=10)
    answer.raise_for_status()


def the_event(event_id: int | None = None) -> InboxEvent:
    with db.reading() as session:
        if event_id is None:
            return session.exec(select(InboxEvent)).one()
        return session.get(InboxEvent, event_id)


def time_passes(event_id: int, **moved: timedelta) -> None:
    """The event's timestamps moved back, as if that much time had passed."""

    def move(session):
        event = session.get(InboxEvent, event_id)
        for name, by in moved.items():
            setattr(event, name, getattr(event, name) - by)

    db.atomic(move)


@pytest.fixture
def starshipit(any_db_app):
    build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
    sim = Simulator(port=0, seed=3).start()
    use_simulator(sim)
    sim.store.create({"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": 3}]})
    yield sim
    sim.stop()


def test_a_try_that_fails_for_a_passing_reason_counts_once_and_is_retried_after_a_growing_backoff(
        any_db_app, starshipit):
    client = any_db_app.test_client()
    starshipit_fails(starshipit)
    before = utcnow()
    assert send(client, PRINTED).status_code == 200  # no Redis: tried in the request, Starshipit 503
    first = the_event()
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.next_try_at >= before + timedelta(seconds=inbox.RETRY_INTERVALS[0])
    assert "Starshipit answered with an error (HTTP 503)" in first.last_error and "tried again" in first.last_error
    assert first.error_detail.startswith("StarshipitError")

    time_passes(first.id, next_try_at=timedelta(minutes=1))  # its retry is due
    starshipit_fails(starshipit)
    before = utcnow()
    assert sweeper.sweep() == 1
    second = the_event()
    assert (second.status, second.attempts) == ("pending", 2)  # one more try, counted once
    assert second.next_try_at >= before + timedelta(seconds=inbox.RETRY_INTERVALS[1])  # a longer wait
    assert sweeper.sweep() == 0  # not due yet: nothing tried

    time_passes(first.id, next_try_at=timedelta(minutes=1))  # Starshipit answers again
    assert sweeper.sweep() == 1
    done = the_event()
    assert (done.status, done.attempts, done.next_try_at) == ("processed", 2, None)
    assert order_state()["status"] == "SHIPPED" and on_hand("SKU-A", "P-01") == (7, 0)
    assert sweeper.sweep() == 0


def test_redis_down_while_scheduling_the_retry_keeps_it_in_the_database_for_the_stale_sweep(sqlite_url):
    app = make_app(sqlite_url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", INBOX_STALE_SECONDS=5)
    sim = Simulator(port=0, seed=4).start()
    try:
        with app.app_context():
            _seed_basics()
            build_floor({("SKU-A", "P-01"): 10})
            use_simulator(sim)
            sim.store.create({"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": 2}]})
            raw = json.dumps(PRINTED).encode()
            event_id = db.atomic(inbox.store, read_webhook(raw)[0], raw.decode())
            starshipit_fails(sim)
            assert processing.process(event_id) == "pending"  # failed, and its retry could not be scheduled
            event = the_event(event_id)
            assert (event.attempts, event.next_try_at is not None) == (1, True)
            with db.reading() as session:
                assert inbox.stale_pending(session, older_than=inbox.stale_window()) == []  # its retry is not late yet
            time_passes(event_id, next_try_at=inbox.stale_window() + timedelta(seconds=1))
            with db.reading() as session:  # lost with Redis: the stale sweep hands it over again
                assert inbox.stale_pending(session, older_than=inbox.stale_window()) == [(event_id, "tracking", 1)]
    finally:
        sim.stop()
        app.extensions["wms.engine"].dispose()


def test_the_sweeps_find_a_pending_event_by_its_next_try_or_by_its_arrival_and_lease_it_once(any_db_app):
    now = utcnow()

    def add(session, name, *, received, next_try=None, status="pending", attempts=0):
        event = InboxEvent(dedup_key=name, kind="order", event_type="order_created", order_number=name,
                           payload="{}", status=status, attempts=attempts, received_at=now - received,
                           next_try_at=None if next_try is None else now + next_try)
        session.add(event)
        session.flush()
        return event.id

    def build(session):
        minute = timedelta(minutes=1)
        return {
            "arrived-long-ago": add(session, "arrived-long-ago", received=2 * minute),
            "arrived-now": add(session, "arrived-now", received=timedelta(0)),
            "retry-long-overdue": add(session, "retry-long-overdue", received=10 * minute, next_try=-2 * minute, attempts=1),
            "retry-later": add(session, "retry-later", received=10 * minute, next_try=minute, attempts=1),
            "retry-just-due": add(session, "retry-just-due", received=10 * minute, next_try=timedelta(seconds=-1),
                                  attempts=1),
            "failed-long-ago": add(session, "failed-long-ago", received=10 * minute, status="failed", attempts=5),
        }

    ids = db.atomic(build)
    named = {event_id: name for name, event_id in ids.items()}
    with db.reading() as session:
        stale = {named[event_id] for event_id, _kind, _attempts in inbox.stale_pending(session, older_than=timedelta(minutes=1))}
        due = {named[event_id] for event_id in inbox.due_pending(session, older_than=timedelta(minutes=1))}
    assert stale == {"arrived-long-ago", "retry-long-overdue"}
    assert due == {"arrived-long-ago", "retry-long-overdue", "retry-just-due"}
    assert db.atomic(inbox.lease, ids["retry-long-overdue"], seconds=60) is True
    assert db.atomic(inbox.lease, ids["retry-long-overdue"], seconds=60) is False  # another process's sweeper
    assert db.atomic(inbox.lease, ids["failed-long-ago"], seconds=60) is False
    with db.reading() as session:
        assert ids["retry-long-overdue"] not in inbox.due_pending(session, older_than=timedelta(minutes=1))


def test_an_order_the_poll_cannot_read_is_stored_failed_with_the_reason_never_dropped(app):
    build_floor({("SKU-A", "P-01"): 10})
    sim = Simulator(port=0, seed=6).start()
    try:
        use_simulator(sim)
        sim.store.create({"order_number": "SO-HUGE", "items": [{"sku": "SKU-A", "quantity": 10**30}]})
        sim.store.create({"order_number": "SO-FINE", "items": [{"sku": "SKU-A", "quantity": 1}]})
        from jobs.events import poll_starshipit

        summary = poll_starshipit()
        assert (summary["order_created"], summary["unreadable"]) == (1, 1)
        with db.reading() as session:
            failed = session.exec(select(InboxEvent).where(InboxEvent.status == "failed")).one()
        assert failed.order_number == "SO-HUGE" and failed.dedup_key.startswith("poll:")
        assert "order.items[0].quantity must be a whole number from 0 to 1,000,000" in failed.last_error
        assert order_state("SO-FINE")["status"] == "PENDING" and order_state("SO-HUGE") is None
        assert poll_starshipit()["unreadable"] == 0  # the same window again: stored once
        page = sign_in(app.test_client(), "manager").get("/orders/failed-events").get_data(as_text=True)
        assert "SO-HUGE" in page and "1,000,000" in page
    finally:
        sim.stop()


def _wait_for(condition, timeout: float = 90.0, every: float = 0.2):
    """Poll until `condition()` is truthy (a bound on waiting, not a figure under test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return condition()


def test_without_redis_or_a_worker_the_web_process_applies_what_failed_or_was_left_pending(sqlite_url, tmp_path):
    """The demo's set-up: gunicorn on SQLite, no REDIS_URL, no `wms worker`. A tracking update's
    first try fails (Starshipit 503); an order event was stored by a process that died before
    applying it. With nothing else running, the web process's sweeper applies both."""
    app = make_app(sqlite_url)
    sim = Simulator(port=0, seed=8).start()
    server = None
    try:
        with app.app_context():
            _seed_basics()
            build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
            use_simulator(sim)
            sim.store.create({"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": 3}]})
            orphan_raw = json.dumps(order_body("order_created", number="SO-2")).encode()
            orphan = db.atomic(inbox.store, read_webhook(orphan_raw)[0], orphan_raw.decode())
            time_passes(orphan, received_at=timedelta(seconds=30))  # stored, never applied: its process died

            # A stale window far shorter than the default 60 s, yet longer than one fetch with the
            # client's own retries (about 4 s): a try in flight is held that long (never tried twice
            # at once), and the orphan, stored 30 s ago, is overdue.
            server = start_wms(sqlite_url, tmp_path, workers=2, INBOX_STALE_SECONDS="10")
            starshipit_fails(sim)
            answer = httpx.post(f"{server.url}/webhooks/starshipit", content=json.dumps(PRINTED).encode(),
                                headers={"Content-Type": "application/json"}, timeout=60)
            assert answer.status_code == 200, answer.text

            def settled():
                with db.reading() as session:
                    rows = session.exec(select(InboxEvent).order_by(InboxEvent.id)).all()
                return rows if all(row.status != "pending" for row in rows) else None

            rows = _wait_for(settled)
            assert rows, f"still pending:\n{server.output()[-3000:]}"
            by_kind = {row.kind: row for row in rows}
            assert (by_kind["tracking"].status, by_kind["tracking"].attempts) == ("processed", 1)
            assert (by_kind["order"].status, by_kind["order"].attempts) == ("processed", 0)
            assert order_state("SO-1")["status"] == "SHIPPED" and on_hand("SKU-A", "P-01") == (7, 0)
            assert order_state("SO-2")["status"] == "PENDING"
    finally:
        if server is not None:
            server.stop()
        sim.stop()
        app.extensions["wms.engine"].dispose()
