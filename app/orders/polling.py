"""Polling Starshipit for what lost webhooks missed.

Every poll lists unshipped and shipped orders updated since the last poll (the watermark, kept in
the Setting table) and turns what the mirror lacks into order events, fed through the same inbox
and processing path as webhooks, with deterministic dedup keys
("poll:<order_id>:<event>:<last_updated>") so a poll repeated over the same window adds nothing:
- an unshipped order the WMS does not have -> order_created;
- a shipped order the WMS has not shipped in full -> order_shipped (its items say what has
  shipped so far, so nothing ships twice);
- an order listed that the WMS cannot read (a quantity out of bounds, no SKU, ...) is stored all
  the same, failed at once with the reason, for the failed-events page: never dropped in silence.
The poll also hands over again pending events whose drain or job was lost (a crash, Redis down).
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, timedelta

from flask import current_app

from sqlalchemy import select

from app import bounds, db, tasks
from app.errors import ValidationFailed
from app.models import Order, OrderStatus, Setting
from app.orders import inbox, payloads
from app.orders.payloads import Incoming
from app.timeutil import isoformat, parse_timestamp, utcnow

log = logging.getLogger(__name__)

WATERMARK_KEY = "STARSHIPIT_POLL_WATERMARK"
OVERLAP = timedelta(minutes=2)  # clocks differ; repeats are harmless (dedup keys)
POLL_EVERY = timedelta(seconds=60)
POLL_JOB_ID = "wms-starshipit-poll"
DEFAULT_API_URL = "https://api.starshipit.com"


def poll() -> dict:
    from app.starshipit.client import client_from_settings

    from app.settings_store import effective

    started = utcnow()
    with db.reading() as session:
        since = _watermark(session)
        configured = effective(session, "STARSHIPIT_API_KEY") or effective(session, "STARSHIPIT_API_URL") != DEFAULT_API_URL
        client = client_from_settings(session) if configured else None
    if client is None:
        return {"skipped": "Starshipit is not set up (no API key)", "requeued": requeue_stale()}
    created = shipped = unreadable = 0
    with client:
        unshipped = list(client.iter_unshipped(since=since))
        shipped_orders = list(client.iter_shipped(since=since))
    numbers = [o.get("order_number") for o in unshipped + shipped_orders if isinstance(o, dict)]
    with db.reading() as session:
        known = _statuses(session, [n for n in numbers if _clean_number(n)])
    new_ids: list[int] = []
    for order in unshipped:
        if not isinstance(order, dict) or order.get("order_number") not in known:
            fed = _feed(order, "order_created", new_ids)
            created += fed == "new"
            unreadable += fed == "failed"
    for order in shipped_orders:
        if not isinstance(order, dict) or known.get(order.get("order_number")) != OrderStatus.SHIPPED:
            fed = _feed(order, "order_shipped", new_ids)
            shipped += fed == "new"
            unreadable += fed == "failed"
    db.atomic(_save_watermark, started - OVERLAP)
    if new_ids:
        inbox.wake()  # order events: one drain applies them all
    requeued = requeue_stale()
    summary = {"since": isoformat(since), "unshipped": len(unshipped), "shipped": len(shipped_orders),
               "order_created": created, "order_shipped": shipped, "unreadable": unreadable, "requeued": requeued}
    log.info("Starshipit poll: %s", summary)
    return summary


def _feed(order, event: str, new_ids: list[int]) -> str:
    """Store one synthesized event: "new", "repeat" (stored before), or "failed" (an order the
    WMS cannot read, stored failed at once with the reason; a repeat of it is a "repeat")."""
    try:
        data = payloads.order_data(order)
    except ValidationFailed as error:
        return _feed_unreadable(order, event, error)
    updated = data.last_updated or _clean_time(order.get("order_date")) or ""
    key = payloads.dedup_key(f"poll:{data.order_id if data.order_id is not None else data.order_number}:{event}:{updated}")
    occurred = payloads.readable_time(updated) or utcnow()
    body = {"event": event, "event_id": key, "occurred_at": isoformat(occurred), "source": "poll", "order": order}
    if event == "order_shipped":
        so_far = [{"sku": line.sku, "quantity": line.shipped} for line in data.lines if line.shipped]
        if so_far:
            body["shipment"] = {"items": so_far}
    incoming = Incoming("order", event, key, data.order_number, data.order_id, occurred)
    event_id = db.atomic(inbox.store_json, incoming, body)
    if event_id is None:
        return "repeat"
    new_ids.append(event_id)
    return "new"


def _feed_unreadable(order, event: str, error: ValidationFailed) -> str:
    """An order Starshipit listed that the WMS cannot read, stored as a failed event with the
    reason. Identified by what of it is readable (its order_id or order_number, else a digest of
    it) and its last update, so the next poll over the same window stores nothing new."""
    log.warning("poll: an order Starshipit listed cannot be read: %s", error.message)
    fields = order if isinstance(order, dict) else {}
    order_number = _clean_number(fields.get("order_number"))
    try:
        order_id = payloads.starshipit_id(fields.get("order_id"))
    except ValidationFailed:
        order_id = None
    updated = _clean_time(fields.get("last_updated_date")) or _clean_time(fields.get("order_date")) or ""
    digest = hashlib.sha256(json.dumps(order, sort_keys=True, default=str).encode()).hexdigest()
    identity = order_id if order_id is not None else order_number or f"sha256:{digest}"
    key = payloads.dedup_key(f"poll:{identity}:{event}:{updated}")
    occurred = payloads.readable_time(updated) or utcnow()
    body = {"event": event, "event_id": key, "occurred_at": isoformat(occurred), "source": "poll", "order": order}
    incoming = Incoming("order", event, key, order_number, order_id, occurred, problem=error)
    return "failed" if db.atomic(inbox.store_json, incoming, body) is not None else "repeat"


def _clean_number(value) -> str | None:
    """An order number fit to look up and store, or None."""
    if isinstance(value, str) and 0 < len(value) <= bounds.ORDER_NUMBER_MAX and bounds.bad_character(value) is None:
        return value
    return None


def _clean_time(value) -> str | None:
    if isinstance(value, str) and len(value) <= payloads.TIMESTAMP_MAX and bounds.bad_character(value) is None:
        return value
    return None


def requeue_stale() -> int:
    """Hand over again the pending events nobody may be working on (a worker killed mid-drain or
    mid-job, Redis restarted, a hand-over that failed); returns how many stale events were handed
    over. Order events that never failed: one drain for all of them (a drain killed mid-event left
    its event pending, its row lock gone with its connection). Events with a job of their own (a
    scheduled retry, a tracking update): their job again, unless it is still queued, scheduled or
    running. Applying is idempotent under the event's lock, so when in doubt work is handed over."""
    with db.reading() as session:
        stale = inbox.stale_pending(session, older_than=_stale_after())
    if not stale:
        return 0
    drained = [event_id for event_id, kind, attempts in stale if kind == "order" and attempts == 0]
    own = {inbox.job_id(event_id, attempts): (event_id, attempts) for event_id, kind, attempts in stale
           if not (kind == "order" and attempts == 0)}
    in_flight = _jobs_in_flight(list(own))
    count = 0
    for job_id, (event_id, attempts) in own.items():
        if job_id in in_flight:
            continue
        inbox.enqueue_processing(event_id, attempts)
        count += 1
    if drained:
        inbox.enqueue_drain()
    return count + len(drained)


def _stale_after() -> timedelta:
    return inbox.stale_window()


def _jobs_in_flight(job_ids: list[str]) -> set[str]:
    """Which of these RQ jobs will still run: waiting in the queue, scheduled (for a retry, or
    the next poll), or started by a worker that is still alive (its heartbeat is recent).

    A job in the scheduled registry counts whatever its status says: a poll that scheduled its
    successor under its own id finishes afterwards, and RQ writes "finished" on the job then."""
    q = tasks.queue()
    if q is None:
        return set()
    from rq.job import Job

    waiting = set(q.get_job_ids())
    scheduled = q.scheduled_job_registry
    alive_since = utcnow() - _stale_after()
    in_flight = set()
    for job_id, job in zip(job_ids, Job.fetch_many(job_ids, connection=q.connection)):
        if job is None:
            continue
        if job_id in scheduled:
            in_flight.add(job_id)
            continue
        status = job.get_status(refresh=False)
        if status in ("scheduled", "deferred") or (status == "queued" and job_id in waiting):
            in_flight.add(job_id)
        elif status == "started" and job.last_heartbeat and _aware(job.last_heartbeat) > alive_since:
            in_flight.add(job_id)
    return in_flight


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _job_active(job_id: str) -> bool:
    return job_id in _jobs_in_flight([job_id])


def schedule_next(delay: timedelta | None = None) -> None:
    """Schedule the next periodic poll (one chain: a fixed job id)."""
    q = tasks.queue()
    if q is None:
        return
    if delay is None:
        delay = timedelta(seconds=float(current_app.config.get("STARSHIPIT_POLL_SECONDS", POLL_EVERY.total_seconds())))
    q.enqueue_in(delay, "jobs.events.poll_starshipit", reschedule=True, job_id=POLL_JOB_ID)  # by name: see app.tasks


def ensure_scheduled() -> None:
    """Start the periodic poll unless a poll is already queued, running or scheduled."""
    if not _job_active(POLL_JOB_ID):
        schedule_next(timedelta(seconds=1))


def _statuses(session, numbers: list[str]) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        statuses.update(session.execute(select(Order.order_number, Order.status).where(Order.order_number.in_(chunk))).all())
    return statuses


def _watermark(session):
    row = session.get(Setting, WATERMARK_KEY)
    return parse_timestamp(row.value) if row is not None else None


def _save_watermark(session, moment) -> None:
    row = session.get(Setting, WATERMARK_KEY)
    if row is None:
        session.add(Setting(key=WATERMARK_KEY, value=isoformat(moment), updated_at=utcnow()))
    else:
        row.value, row.updated_at = isoformat(moment), utcnow()
    session.flush()
