"""PostgreSQL connections and transactions: a pooled connection that died while idle costs
nobody a failed request, and driver-level statements fail and retry like any other."""
import pytest
from sqlalchemy import create_engine, text

from app import db
from tests.conftest import make_app

pytestmark = pytest.mark.postgres


def _backend(session) -> int:
    return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _kill(url: str, pid: int) -> None:
    admin = create_engine(db.make_engine(url).url)
    with admin.begin() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()


def test_a_write_transaction_on_a_connection_killed_while_pooled_runs_again_on_a_fresh_one(postgres_url):
    app = make_app(postgres_url)
    with app.app_context():
        first = db.atomic(_backend)
        _kill(postgres_url, first)
        calls = []

        def count_and_read(session):
            calls.append(1)
            return _backend(session)

        second = db.atomic(count_and_read)
        assert second != first
        assert len(calls) == 2  # the dead connection failed the first try, before any COMMIT
    app.extensions["wms.engine"].dispose()


def test_a_read_session_pings_and_replaces_a_connection_killed_while_pooled(postgres_url):
    app = make_app(postgres_url)
    with app.app_context():
        first = db.atomic(_backend)
        _kill(postgres_url, first)
        with db.reading() as session:
            assert _backend(session) != first
    app.extensions["wms.engine"].dispose()


def test_a_dead_connection_met_by_a_driver_statement_is_also_run_again(postgres_url):
    app = make_app(postgres_url)
    with app.app_context():
        first = db.atomic(_backend)
        _kill(postgres_url, first)
        calls = []

        def driver_backend(session):
            calls.append(1)
            return db.driver_rows(session.connection(), "SELECT pg_backend_pid() WHERE 1 = :one", {"one": 1})[0][0]

        assert db.atomic(driver_backend) != first
        assert len(calls) == 2
    app.extensions["wms.engine"].dispose()


def test_a_serialization_failure_from_a_driver_statement_is_retried_like_any_other(postgres_url):
    app = make_app(postgres_url)
    with app.app_context():
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
    app.extensions["wms.engine"].dispose()
