"""Database engine and transactions.

One engine per app. Every write goes through `atomic(fn)`, which runs
`fn(session)` in one transaction and retries it a bounded number of times
when the database reports a serialization failure, a deadlock or (SQLite)
a lock it could not get in time.

On PostgreSQL a pooled connection may have died while it sat in the pool (a
server restart, a dropped idle connection). Read-only sessions ping it on
checkout when it has been idle in the pool for PING_AFTER_IDLE_SECONDS or more
(a connection handed back a moment ago is taken as alive, as HikariCP does:
under load no read pays the extra round trip; a connection that dies within
that moment fails one read). Write transactions skip the ping: when the
connection turns out dead before COMMIT was sent, nothing can have been
committed, so `atomic` simply runs the transaction again on a fresh
connection; a connection lost during COMMIT itself is reported, never retried
(its outcome is unknown). Connections are also replaced after an hour.

SQLite runs in WAL mode with a busy timeout and takes the write lock at the
start of every write transaction (BEGIN IMMEDIATE), so two writers never
both read and then collide on upgrade. Read-only sessions (`reading()`)
begin DEFERRED and never block writers.
"""
from __future__ import annotations

import contextvars
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import current_app
from sqlalchemy import Integer, and_, bindparam, create_engine, event, func, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlmodel import Session

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 10_000
MAX_RETRIES = 8
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
POOL_RECYCLE_SECONDS = 3600
# Set while `atomic` or `autocommit_row` runs: they need no ping (a dead connection is retried).
_IN_ATOMIC = contextvars.ContextVar("wms_in_atomic", default=False)
PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN = "wms.checked_in"  # monotonic time the connection last went back to the pool


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_recycle=POOL_RECYCLE_SECONDS)
    _ping_outside_atomic(engine)
    return engine


def _ping_outside_atomic(engine: Engine) -> None:
    """pool_pre_ping, except for `atomic`'s transactions (which retry a dead connection) and
    connections back in the pool for less than PING_AFTER_IDLE_SECONDS."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        if record is not None:
            record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        if _IN_ATOMIC.get():
            return
        # (A new or replaced connection has no stamp: the pool clears `info` with the connection.)
        if time.monotonic() - record.info.get(_CHECKED_IN, float("-inf")) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool replaces this connection with a fresh one and checks out again.
            raise DisconnectionError("the pooled connection is dead") from error


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
    """A session for reads only: no write lock, nothing committed (never write in one).

    SQLite: a DEFERRED transaction, one consistent snapshot for all its reads. PostgreSQL:
    autocommit, so a read costs no BEGIN and ROLLBACK round trips; at READ COMMITTED every
    statement takes its own snapshot anyway, so nothing is lost."""
    with Session(_read_bind(), expire_on_commit=False) as session:
        yield session


def _read_bind():
    bind = engine()
    binds = current_app.extensions.setdefault("wms.read_binds", {})
    read_bind = binds.get(bind)
    if read_bind is None:
        if bind.dialect.name == "sqlite":
            read_bind = bind.execution_options(sqlite_begin="DEFERRED")
        else:
            read_bind = bind.execution_options(isolation_level="AUTOCOMMIT")
        binds[bind] = read_bind
    return read_bind


_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")
# (dialect, sql) -> (the statement in the driver's parameter style, whether it returns rows)
_driver_statements: dict[tuple[str, str], tuple[str, bool]] = {}


def where_pairs(session: Session, statement, first, second, pairs: list[tuple[int, int]]):
    """`statement` kept to the rows whose (first, second) columns are one of these integer pairs.
    On PostgreSQL a join to two arrays unnested: a row-value IN list of hundreds of pairs is an OR
    the planner tests on every row (bench: 75-165 ms a statement in an allocation batch), and its
    parameters are two whatever the pairs' number; elsewhere the row-value IN."""
    if session.get_bind().dialect.name != "postgresql":
        return statement.where(tuple_(first, second).in_(pairs))
    wanted = func.unnest(
        bindparam(None, [a for a, _ in pairs], type_=ARRAY(Integer)),
        bindparam(None, [b for _, b in pairs], type_=ARRAY(Integer)),
    ).table_valued("a", "b").render_derived()
    return statement.join(wanted, and_(first == wanted.c.a, second == wanted.c.b))


def driver_rows(connection: Connection, sql: str, params: dict) -> list[tuple]:
    """Run one statement straight on the DBAPI cursor of `connection` (which must be in a
    transaction: `session.connection()`), skipping SQLAlchemy's compile and result layers,
    for the few statements on the stock posting hot path. Write `:name` parameters; values
    go to the driver as they are (no SQLAlchemy type processing). Driver errors come out as
    SQLAlchemy's DBAPIError subclasses, as from `session.execute`, so `atomic` still retries
    them, and a dead connection is invalidated."""
    dialect = connection.dialect
    key = (dialect.name, sql)
    prepared = _driver_statements.get(key)
    if prepared is None:
        # (Asking the cursor for its description instead costs more than the statement's own bookkeeping.)
        returns_rows = sql.lstrip().upper().startswith("SELECT") or " RETURNING " in sql.upper()
        driver_sql = sql if dialect.name == "sqlite" else _NAMED_PARAMETER.sub(r"%(\1)s", sql)
        prepared = _driver_statements[key] = (driver_sql, returns_rows)
    statement, returns_rows = prepared
    fairy = connection.connection
    dbapi_connection = fairy.dbapi_connection
    # One cursor per DBAPI connection, kept with it in the pool (a cursor costs about as
    # much to make as a statement costs to send).
    kept = fairy.info.get("wms.cursor")
    if kept is None or kept[0] is not dbapi_connection:
        kept = fairy.info["wms.cursor"] = (dbapi_connection, dbapi_connection.cursor())
    cursor = kept[1]
    try:
        cursor.execute(statement, params)
        return cursor.fetchall() if returns_rows else []
    except dialect.loaded_dbapi.Error as error:
        fairy.info.pop("wms.cursor", None)
        dead = dialect.is_disconnect(error, dbapi_connection, cursor)
        if dead:
            connection.invalidate(error)
        raise DBAPIError.instance(
            statement, params, error, dialect.loaded_dbapi.Error, connection_invalidated=dead, dialect=dialect
        ) from error


def autocommit_row(sql: str, params: dict) -> tuple | None:
    """PostgreSQL: one statement as a transaction of its own (autocommit: durable when it
    returns, one round trip), its first row. No ping first: a connection found dead raises
    DBAPIError with `connection_invalidated` set, and the pool replaces it; the caller decides
    whether running the statement again is safe (it may or may not have committed)."""
    outermost = _IN_ATOMIC.set(True)
    try:
        with _read_bind().connect() as connection:
            rows = driver_rows(connection, sql, params)
    finally:
        _IN_ATOMIC.reset(outermost)
    return rows[0] if rows else None


def is_retryable(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


# ---- stock moved: what a committed transaction changed, for whoever reacts to it ----------

_MOVED = "wms.stock_moved"  # session.info key: {(product_id, location_id): on_hand after}
_LISTENERS = "wms.stock_moved_listeners"
log = logging.getLogger(__name__)


def note_stock_moved(session: Session, balances: dict[tuple[int, int], int]) -> None:
    """The ledger's note of the physical balances a movement left (product_id, location_id) ->
    on_hand; handed to the stock-moved listeners once the transaction commits."""
    moved = session.info.get(_MOVED)
    if moved is None:
        moved = session.info[_MOVED] = {}
    moved.update(balances)


def on_stock_moved(app, listener: Callable[[dict[tuple[int, int], int]], None]) -> None:
    """Call listener(balances) after every transaction of `atomic` that moved stock commits, in
    the app context, outside the transaction. A listener that raises is logged, never raised into
    the movement (which has committed): it must be cheap, and hand real work to a job."""
    app.extensions.setdefault(_LISTENERS, []).append(listener)


def _tell_stock_moved(session: Session) -> None:
    moved = session.info.get(_MOVED)
    if not moved:
        return
    for listener in current_app.extensions.get(_LISTENERS, ()):
        try:
            listener(moved)
        except Exception:  # noqa: BLE001 - the movement stands; the listener's own sweep recovers
            log.exception("a stock-moved listener failed after a commit")


def atomic(fn: Callable[..., T], *args, **kwargs) -> T:
    """Run fn(session, *args, **kwargs) in one transaction, retried on contention; then the
    stock-moved listeners, if it moved stock."""
    bind = engine()
    outermost = _IN_ATOMIC.set(True)
    try:
        for attempt in range(MAX_RETRIES + 1):
            with Session(bind, expire_on_commit=False) as session:
                committing = False
                try:
                    result = fn(session, *args, **kwargs)
                    committing = True
                    session.commit()
                    _tell_stock_moved(session)
                    return result
                except DBAPIError as error:
                    session.rollback()
                    # A connection found dead before COMMIT was sent committed nothing: run again.
                    dead_before_commit = error.connection_invalidated and not committing
                    if attempt >= MAX_RETRIES or not (dead_before_commit or is_retryable(error)):
                        raise
                    if dead_before_commit:
                        continue  # a fresh connection; no contention to wait out
            time.sleep(min(0.5, 0.005 * 2**attempt) * random.uniform(0.5, 1.5))
    finally:
        _IN_ATOMIC.reset(outermost)
    raise AssertionError("unreachable")
