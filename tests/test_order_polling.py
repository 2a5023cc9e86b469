"""Polling Starshipit feeds what lost webhooks missed through the same inbox and processing, and
never applies anything twice; pending events whose job was lost are picked up again; a manager
can retry or dismiss a failed event. The simulator plays Starshipit over real HTTP."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlmodel import select

from app import db
from app.models import InboxEvent, Setting
from app.orders import inbox
from app.orders.polling import WATERMARK_KEY
from app.settings_store import save
from app.timeutil import utcnow
from simulator.server import Simulator
from tests.test_order_events import (
    assert_ledger_clean,
    build_floor,
    inbox_statuses,
    on_hand,
    order_body,
    order_state,
    send,
    shipped_total,
)


@pytest.fixture
def starshipit(app):
    build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
    sim = Simulator(port=0, seed=5).start()
    db.atomic(save, "STARSHIPIT_API_URL", sim.url)
    db.atomic(save, "STARSHIPIT_RATE_LIMIT", "0")
    yield sim
    sim.stop()


def poll():
    from jobs.events import poll_starshipit

    return poll_starshipit()


def raw_events(sim, event):
    return [r["_raw"] for r in sim.deliverer.records if r["event"] == event]


def test_polling_feeds_a_missed_shipment_through_once(app, starshipit):
    client = app.test_client()
    starshipit.store.create({"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": 3}, {"sku": "SKU-B", "quantity": 2}]})
    for raw in raw_events(starshipit, "order_created"):
        send(client, raw)
    starshipit.store.ship(order_number="SO-1")  # its webhooks are lost
    assert order_state()["status"] == "PENDING"

    summary = poll()
    assert summary["order_shipped"] == 1 and summary["order_created"] == 0
    assert order_state()["status"] == "SHIPPED"
    assert on_hand("SKU-A", "P-01") == (7, 0) and on_hand("SKU-B", "P-02") == (8, 0)

    assert poll()["order_shipped"] == 0  # polled again: nothing new
    for raw in raw_events(starshipit, "order_shipped") + raw_events(starshipit, "tracking:Printed"):
        send(client, raw)  # the lost webhooks turn up after all
    assert shipped_total("SKU-A") == 3 and shipped_total("SKU-B") == 2
    assert set(inbox_statuses()) == {"processed"}
    assert_ledger_clean()


def test_polling_creates_an_unshipped_order_the_wms_never_heard_of(app, starshipit):
    starshipit.store.create({"order_number": "SO-7", "items": [{"sku": "SKU-A", "quantity": 1}]})
    assert poll()["order_created"] == 1
    assert order_state("SO-7")["status"] == "PENDING"
    with db.reading() as session:
        event = session.exec(select(InboxEvent)).one()
        assert event.dedup_key.startswith("poll:") and ":order_created:" in event.dedup_key
        assert session.get(Setting, WATERMARK_KEY).value
    assert poll()["order_created"] == 0


def test_a_partially_shipped_order_polled_ships_only_what_starshipit_shipped(app, starshipit):
    starshipit.store.create({"order_number": "SO-2", "items": [{"sku": "SKU-A", "quantity": 5}]})
    starshipit.store.ship(order_number="SO-2", items=[{"sku": "SKU-A", "quantity": 2}])
    poll()
    state = order_state("SO-2")
    assert (state["status"], state["lines"]) == ("PARTIALLY_SHIPPED", {"SKU-A": (5, 2)})
    assert_ledger_clean()


def test_the_poll_applies_a_pending_event_whose_job_was_lost(app):
    build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
    from app.orders.payloads import read_webhook
    import json

    raw = json.dumps(order_body("order_created")).encode()
    incoming, _ = read_webhook(raw)
    event_id = db.atomic(inbox.store, incoming, raw.decode())  # stored, never enqueued (a crash)

    def age(session):
        session.get(InboxEvent, event_id).received_at = utcnow() - timedelta(minutes=5)

    db.atomic(age)
    assert poll()["requeued"] == 1  # Starshipit is not set up here: only the sweep runs
    assert order_state()["status"] == "PENDING"


def test_a_failed_event_can_be_retried_after_the_cause_is_fixed(app):
    build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
    send(app.test_client(), order_body("order_created", warehouse="SYD"))
    with db.reading() as session:
        event = session.exec(select(InboxEvent)).one()
    assert event.status == "failed"
    from app.warehouses import create_warehouse

    db.atomic(create_warehouse, code="SYD", name="Sydney")
    retried = db.atomic(inbox.retry_event, event.id)
    assert (retried.status, retried.attempts, retried.last_error) == ("pending", 0, None)
    inbox.enqueue_processing(event.id)
    assert inbox_statuses() == ["processed"]
    assert order_state()["status"] == "PENDING"


def test_a_failed_event_can_be_dismissed_and_is_recorded(app):
    send(app.test_client(), order_body("order_created", warehouse="NOPE"))
    with db.reading() as session:
        event = session.exec(select(InboxEvent)).one()
        from app.models import User

        manager = session.exec(select(User).where(User.username == "manager")).one()
    dismissed = db.atomic(inbox.dismiss_event, event.id, manager.id)
    assert dismissed.status == "ignored"
    assert dismissed.last_error.startswith("dismissed by manager")
    from app.errors import Conflict

    with pytest.raises(Conflict):
        db.atomic(inbox.retry_event, event.id)


def test_wms_poll_starshipit_runs_one_poll_from_the_command_line(app, starshipit):
    starshipit.store.create({"order_number": "SO-3", "items": [{"sku": "SKU-B", "quantity": 1}]})
    env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"], SECRET_KEY="x")
    env.pop("REDIS_URL", None)
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "wms"), "poll-starshipit"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "order_created: 1" in result.stdout
    assert order_state("SO-3")["status"] == "PENDING"


@pytest.mark.redis
def test_the_periodic_poll_is_scheduled_once_and_kept_where_it_is(sqlite_url):
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    from app.orders.polling import POLL_JOB_ID, ensure_scheduled, schedule_next
    from tests.conftest import flushed_redis, make_app

    url = "redis://127.0.0.1:6379/7"  # this test's own Redis database
    app = make_app(sqlite_url, REDIS_URL=url)
    try:
        with flushed_redis(url) as connection, app.app_context():
            ensure_scheduled()
            ensure_scheduled()
            registry = ScheduledJobRegistry(queue=Queue("wms", connection=connection))
            assert registry.get_job_ids() == [POLL_JOB_ID]
            # A poll that scheduled its successor a minute ahead is then marked finished by RQ:
            # still scheduled, and a worker's upkeep calling ensure_scheduled (every couple of
            # seconds) does not pull the next poll forward to now.
            schedule_next(timedelta(seconds=60))
            due = connection.zscore(registry.key, POLL_JOB_ID)
            connection.hset(f"rq:job:{POLL_JOB_ID}", "status", "finished")
            ensure_scheduled()
            assert connection.zscore(registry.key, POLL_JOB_ID) == due
    finally:
        app.extensions["wms.engine"].dispose()
