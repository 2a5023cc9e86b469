"""The inbox sweeper of a web process without Redis.

Without REDIS_URL (the demo) there is no worker: a webhook's event is applied in the request that
stores it, and nothing else runs. What that leaves pending, this sweeper tries: a retry whose time
has come (a try that failed for a passing reason set its next_try_at), and an event never tried
that arrived more than the stale window (INBOX_STALE_SECONDS) ago (its request died before
applying it). One daemon thread per web process, started on the process's first request (see
app.webhooks), sweeps every few seconds (a quarter of the stale window, within INTERVAL_BOUNDS),
so no event stays pending much longer than the stale window without a worker.

Every process sweeps, so each event is leased before its try (inbox.lease: one UPDATE that one
process wins, moving the event's next look a stale window ahead), and applying takes the event's
lock and skips an event no longer pending: an event is tried by one process at a time and applied
once.

With Redis no sweeper runs: `wms worker` sweeps (polling.requeue_stale) and RQ's scheduler runs
the retries. Nor does one run under app.testing: tests call `sweep()` themselves.
"""
from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask

from app import db
from app.orders import inbox, processing

log = logging.getLogger(__name__)

INTERVAL_SHARE = 4  # sweeps per stale window ...
INTERVAL_BOUNDS = (0.5, 5.0)  # ... within these bounds, seconds

_started: dict[int, int] = {}  # id(app) -> the process id whose thread sweeps for it
_lock = threading.Lock()


def ensure_started(app: Flask) -> None:
    """Start this process's sweeper for `app` unless it runs already, Redis is configured, or
    the app is under test. Cheap enough for every request."""
    if _started.get(id(app)) == os.getpid():
        return
    with _lock:
        if _started.get(id(app)) == os.getpid():
            return
        _started[id(app)] = os.getpid()  # a forked child starts its own
        if app.testing or app.extensions.get("wms.queue") is not None:
            return
        threading.Thread(target=_run, args=(app,), name="wms-inbox-sweeper", daemon=True).start()


def interval_seconds(app: Flask) -> float:
    with app.app_context():
        stale = inbox.stale_window().total_seconds()
    low, high = INTERVAL_BOUNDS
    return min(high, max(low, stale / INTERVAL_SHARE))


def _run(app: Flask) -> None:
    interval = interval_seconds(app)
    log.info("inbox sweeper started (no Redis): every %g s", interval)
    while True:
        time.sleep(interval)
        try:
            with app.app_context():
                sweep()
        except Exception:  # noqa: BLE001 - the database may be away; the next sweep tries again
            log.warning("inbox sweep failed; trying again in %g s", interval, exc_info=True)


def sweep() -> int:
    """Try every pending event that is due (inbox.due_pending) and that this process leases;
    returns how many it tried. Needs an app context."""
    stale = inbox.stale_window()
    with db.reading() as session:
        due = inbox.due_pending(session, older_than=stale)
    tried = 0
    for event_id in due:
        if db.atomic(inbox.lease, event_id, seconds=stale.total_seconds()):
            processing.process(event_id)
            tried += 1
    return tried
