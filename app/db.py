"""Database engine and transactions.

One engine per app. Every write goes through `atomic(fn)`, which runs
`fn(session)` in one transaction and retries it a bounded number of times
when the database reports a serialization failure, a deadlock or (SQLite)
a lock it could not get in time.

SQLite runs in WAL mode with a busy timeout and takes the write lock at the
start of every write transaction (BEGIN IMMEDIATE), so two writers never
both read and then collide on upgrade. Read-only sessions (`reading()`)
begin DEFERRED and never block writers.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import current_app
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 10_000
MAX_RETRIES = 8
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's begin event emit BEGIN itself (pysqlite's own is lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def engine() -> Engine:
    return current_app.extensions["wms.engine"]


def is_sqlite(bind: Engine | None = None) -> bool:
    return (bind or engine()).dialect.name == "sqlite"


@contextmanager
def reading() -> Iterator[Session]:
    """A session for reads only: no write lock, nothing committed."""
    bind = engine().execution_options(sqlite_begin="DEFERRED")
    with Session(bind, expire_on_commit=False) as session:
        yield session


def is_retryable(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


def atomic(fn: Callable[..., T], *args, **kwargs) -> T:
    """Run fn(session, *args, **kwargs) in one transaction, retried on contention."""
    bind = engine()
    for attempt in range(MAX_RETRIES + 1):
        with Session(bind, expire_on_commit=False) as session:
            try:
                result = fn(session, *args, **kwargs)
                session.commit()
                return result
            except DBAPIError as error:
                session.rollback()
                if attempt >= MAX_RETRIES or not is_retryable(error):
                    raise
        time.sleep(min(0.5, 0.005 * 2**attempt) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")
