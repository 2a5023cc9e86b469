"""PostgreSQL connections and transactions: a pooled connection that died while idle costs
nobody a failed request, and driver-level statements fail and retry like any other."""
import json
import time

import pytest
from sqlalchemy import create_engine, text

from app import db
from app.orders import inbox
from tests.conftest import make_app

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(postgres_url):
    """An app on the test's PostgreSQL database, its context pushed; its pool closed afterwards."""
    app = make_app(postgres_url)
    with app.app_context():
        yield app
    app.extensions["wms.engine"].dispose()


def _backend(session) -> int:
    return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _kill(url: str, pid: int) -> None:
    admin = create_engine(db.make_engine(url).url)
    with admin.begin() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()


def _driver_backend(session) -> int:
    return db.driver_rows(session.connection(), "SELECT pg_backend_pid() WHERE 1 = :one", {"one": 1})[0][0]


@pytest.mark.parametrize("read_backend", [_backend, _driver_backend], ids=["orm statement", "driver statement"])
def test_a_write_transaction_on_a_connection_killed_while_pooled_runs_again_on_a_fresh_one(
    pg_app, postgres_url, read_backend
):
    first = db.atomic(_backend)
    _kill(postgres_url, first)
    calls = []

    def count_and_read(session):
        calls.append(1)
        return read_backend(session)

    second = db.atomic(count_and_read)
    assert second != first
    assert len(calls) == 2  # the dead connection failed the first try, before any COMMIT


def test_a_read_session_pings_and_replaces_a_connection_killed_while_idle_in_the_pool(pg_app, postgres_url, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.2)
    first = db.atomic(_backend)
    _kill(postgres_url, first)
    time.sleep(0.3)  # idle in the pool long enough to be pinged
    with db.reading() as session:
        assert _backend(session) != first


def test_a_connection_back_in_the_pool_a_moment_ago_is_not_pinged_again(pg_app, monkeypatch):
    pings = []
    dialect = db.engine().dialect
    real_ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: pings.append(1) or real_ping(connection))
    with db.reading() as session:
        _backend(session)  # a new connection: pinged once
    for _ in range(5):
        with db.reading() as session:
            _backend(session)
    assert len(pings) == 1


def test_a_serialization_failure_from_a_driver_statement_is_retried_like_any_other(pg_app):
    calls = []

    def fail_once(session):
        calls.append(1)
        if len(calls) == 1:
            db.driver_rows(
                session.connection(),
                "DO $$ BEGIN RAISE EXCEPTION 'contention' USING ERRCODE = 'serialization_failure'; END $$",
                {},
            )
        return "done"

    assert db.atomic(fail_once) == "done"
    assert len(calls) == 2


def _webhook_event(number: str):
    from app.orders.payloads import read_webhook

    raw = json.dumps({
        "event": "order_created", "event_id": f"evt-{number}", "occurred_at": "2026-11-24T08:00:00Z",
        "order": {"order_id": 1, "order_number": number, "items": [{"sku": "SKU-A", "quantity": 1}]},
    })
    return read_webhook(raw.encode(), None)[0], raw


def test_a_webhook_meeting_a_connection_killed_while_pooled_is_stored_on_a_fresh_one(pg_app, postgres_url):
    first = db.autocommit_row("SELECT pg_backend_pid()", {})[0]
    _kill(postgres_url, first)
    incoming, raw = _webhook_event("SO-DEAD-1")
    event_id = inbox.store_now(incoming, raw)
    assert event_id is not None
    assert db.autocommit_row("SELECT count(*) FROM inbox_event", {})[0] == 1


def test_after_a_dead_connection_an_event_already_stored_still_counts_as_new(pg_app, postgres_url):
    """The connection may have died after the INSERT committed: the try on the fresh connection
    then meets its own row, and the event is handed over rather than taken for a repeat."""
    incoming, raw = _webhook_event("SO-DEAD-2")
    stored = inbox.store_now(incoming, raw)
    assert inbox.store_now(incoming, raw) is None  # a plain repeat
    _kill(postgres_url, db.autocommit_row("SELECT pg_backend_pid()", {})[0])
    assert inbox.store_now(incoming, raw) == stored
    assert db.autocommit_row("SELECT count(*) FROM inbox_event", {})[0] == 1
