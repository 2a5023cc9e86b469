"""Settings a manager can change in the app, falling back to the environment.

The Starshipit keys and webhook secret live here: the settings page writes
them, the API client and the webhook read them through `effective()`.

The webhook reads its secret through `cached_effective()` on every request: the value is kept
in this process for CACHE_SECONDS. Saving a setting here clears this process's cache (at once
and again when the transaction commits); other processes (the other gunicorn workers) see the
new value within CACHE_SECONDS, so for up to that long after a secret changes a webhook signed
with the old secret may still be accepted by another process, or one signed with the new secret
refused (Starshipit retries it).
"""
from __future__ import annotations

import threading
import time

from flask import current_app
from sqlalchemy import event
from sqlmodel import Session, select

from app.models import Setting
from app.timeutil import utcnow

STARSHIPIT_KEYS = (
    "STARSHIPIT_API_URL",
    "STARSHIPIT_API_KEY",
    "STARSHIPIT_SUBSCRIPTION_KEY",
    "STARSHIPIT_WEBHOOK_SECRET",
    "STARSHIPIT_RATE_LIMIT",
)
SECRET_KEYS = frozenset({"STARSHIPIT_API_KEY", "STARSHIPIT_SUBSCRIPTION_KEY", "STARSHIPIT_WEBHOOK_SECRET"})
CACHE_SECONDS = 2.0
_CACHE_LOCK = threading.Lock()


def effective(session: Session, key: str) -> str:
    """The value saved in the app if any, otherwise the environment's."""
    row = session.get(Setting, key)
    if row is not None and row.value != "":
        return row.value
    value = current_app.config.get(key, "")
    return "" if value is None else str(value)


def cached_effective(key: str, read_session) -> str:
    """`effective(key)`, read at most once every CACHE_SECONDS by this process (per app).
    `read_session` is a context manager giving a session (app.db.reading)."""
    cache = _cache()
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[1] > now:
        return hit[0]
    with read_session() as session:
        value = effective(session, key)
    with _CACHE_LOCK:
        cache[key] = (value, now + CACHE_SECONDS)
    return value


def clear_cache() -> None:
    with _CACHE_LOCK:
        _cache().clear()


def _cache() -> dict:
    return current_app.extensions.setdefault("wms.settings_cache", {})


def save(session: Session, key: str, value: str) -> None:
    if key not in STARSHIPIT_KEYS:
        raise KeyError(key)
    clear_cache()
    cache = _cache()
    event.listen(session, "after_commit", lambda _session: _clear(cache), once=True)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=utcnow()))
    else:
        row.value, row.updated_at = value, utcnow()
    session.flush()


def _clear(cache: dict) -> None:
    with _CACHE_LOCK:
        cache.clear()


def masked(value: str) -> str:
    """A secret as shown back to a person: never in full."""
    if not value:
        return ""
    return "•" * 8 + value[-4:] if len(value) > 8 else "•" * len(value)
