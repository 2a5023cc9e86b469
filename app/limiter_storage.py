"""Flask-Limiter's counters in the app's own database, for deployments without Redis.

Each gunicorn worker is a process of its own: the `memory://` storage gave every one its own
count, so with five workers a "10 per minute" limit let about fifty attempts through. This
storage keeps the counters in the `sign_in_counter` table (migration 0003), which every worker
and every host of the deployment shares, on SQLite and PostgreSQL alike.

Registering the `database://` scheme with the `limits` library (importing this module does it)
is all Flask-Limiter needs: `RATELIMIT_STORAGE_URI = "database://"`. The database is the one of
the app serving the request (`app.db.engine()`), so the storage needs an app context, which
Flask-Limiter always has when it counts.

It serves the fixed-window strategy (Flask-Limiter's default): `incr` is one INSERT ... ON
CONFLICT DO UPDATE ... RETURNING, atomic on both databases (PostgreSQL locks the row; SQLite
has one writer at a time), so concurrent attempts each get their own count and the limit is
never overshot. A row whose window has passed counts as zero and is restarted in place by the
next attempt; when an attempt opens a new window, rows whose window ended are deleted, so the
table holds about one row per address and name tried in the last window.
"""
from __future__ import annotations

import hashlib
import time

from limits.storage import Storage
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import db
from app.models.sign_in import LIMIT_KEY_MAX

_INCREMENT = text(
    """
    INSERT INTO sign_in_counter (limit_key, hits, expires_at) VALUES (:key, :amount, :expires_at)
    ON CONFLICT (limit_key) DO UPDATE SET
        hits = CASE WHEN sign_in_counter.expires_at <= :now THEN excluded.hits
                    ELSE sign_in_counter.hits + excluded.hits END,
        expires_at = CASE WHEN sign_in_counter.expires_at <= :now THEN excluded.expires_at
                          ELSE sign_in_counter.expires_at END
    RETURNING hits
    """
)
_CURRENT = text("SELECT hits, expires_at FROM sign_in_counter WHERE limit_key = :key AND expires_at > :now")
_SWEEP = text("DELETE FROM sign_in_counter WHERE expires_at <= :now")
_CLEAR = text("DELETE FROM sign_in_counter WHERE limit_key = :key")
_CLEAR_ALL = text("DELETE FROM sign_in_counter")


def stored_key(key: str) -> str:
    """The key as the table holds it: as given when it fits the column and is plain printable
    ASCII; otherwise a digest of it (an address or a name can be anything a client sends)."""
    if len(key) <= LIMIT_KEY_MAX and key.isascii() and key.isprintable():
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class DatabaseStorage(Storage):
    """A `limits` storage over the app's database (scheme `database://`)."""

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        params = {"key": stored_key(key), "amount": amount, "expires_at": now + expiry, "now": now}
        hits = db.atomic(lambda session: session.execute(_INCREMENT, params).scalar_one())
        if hits == amount:  # this attempt opened a new window: forget the windows that are over
            db.atomic(lambda session: session.execute(_SWEEP, {"now": now}))
        return hits

    def get(self, key: str) -> int:
        row = self._current(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._current(key)
        return row[1] if row else time.time()

    def _current(self, key: str) -> tuple[int, float] | None:
        with db.reading() as session:
            return session.execute(_CURRENT, {"key": stored_key(key), "now": time.time()}).first()

    def check(self) -> bool:
        try:
            with db.reading() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        return db.atomic(lambda session: session.execute(_CLEAR_ALL).rowcount)

    def clear(self, key: str) -> None:
        db.atomic(lambda session: session.execute(_CLEAR, {"key": stored_key(key)}))
