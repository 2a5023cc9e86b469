"""A pooled PostgreSQL connection that died while idle costs nobody a failed request."""
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
