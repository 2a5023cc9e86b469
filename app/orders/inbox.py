"""The inbox: every Starshipit event stored once by its dedup key before anything is applied,
and what a manager does with one that failed (retry, dismiss)."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app import db, tasks
from app.errors import Conflict, NotFound
from app.models import InboxEvent, InboxStatus, User
from app.orders.payloads import Incoming
from app.timeutil import utcnow

RETRY_INTERVALS = [1, 5, 30, 120]  # seconds between RQ attempts
MAX_ATTEMPTS = len(RETRY_INTERVALS) + 1
STALE_AFTER = timedelta(seconds=60)  # a pending event this old is enqueued again by the poll


def store(session: Session, incoming: Incoming, payload: str) -> int | None:
    """Insert the event unless its dedup key is already there; its id, or None for a duplicate.
    One INSERT ... ON CONFLICT DO NOTHING: safe when duplicates arrive at the same moment."""
    return session.execute(_insert(session.get_bind().dialect.name, incoming, payload)).scalar()


def store_now(incoming: Incoming, payload: str) -> int | None:
    """`store` as its own durable transaction, for the webhook: on PostgreSQL one autocommit
    statement (one round trip: the INSERT is the whole transaction, committed when it returns);
    on SQLite one short write transaction."""
    bind = db.engine()
    if bind.dialect.name == "postgresql":
        row = {
            "dedup_key": incoming.dedup_key, "kind": incoming.kind, "event_type": incoming.event_type,
            "order_number": incoming.order_number, "starshipit_order_id": incoming.starshipit_order_id,
            "occurred_at": incoming.occurred_at, "payload": payload, "received_at": utcnow(),
        }
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return connection.exec_driver_sql(_PG_STORE, row).scalar()
    with bind.begin() as connection:
        return connection.execute(_insert(bind.dialect.name, incoming, payload)).scalar()


# `_insert` as plain SQL for PostgreSQL (no statement building or compiling per webhook).
_PG_STORE = (
    "INSERT INTO inbox_event (dedup_key, kind, event_type, order_number, starshipit_order_id, occurred_at,"
    " payload, status, attempts, received_at) VALUES (%(dedup_key)s, %(kind)s, %(event_type)s, %(order_number)s,"
    f" %(starshipit_order_id)s, %(occurred_at)s, %(payload)s, '{InboxStatus.PENDING.value}', 0, %(received_at)s)"
    " ON CONFLICT (dedup_key) DO NOTHING RETURNING id"
)


def _insert(dialect: str, incoming: Incoming, payload: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(InboxEvent)
        .values(
            dedup_key=incoming.dedup_key,
            kind=incoming.kind,
            event_type=incoming.event_type,
            order_number=incoming.order_number,
            starshipit_order_id=incoming.starshipit_order_id,
            occurred_at=incoming.occurred_at,
            payload=payload,
            status=InboxStatus.PENDING,
            attempts=0,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(InboxEvent.id)
    )


def store_json(session: Session, incoming: Incoming, body: dict) -> int | None:
    return store(session, incoming, json.dumps(body, separators=(",", ":"), sort_keys=True))


def enqueue_processing(event_id: int):
    """Apply the event in the background (RQ, retried with backoff) or now (no Redis)."""
    from jobs.events import process_event

    return tasks.enqueue(process_event, event_id, retry_intervals=RETRY_INTERVALS, job_id=job_id(event_id))


def job_id(event_id: int) -> str:
    return f"wms-inbox-{event_id}"


def lock_event(session: Session, event_id: int) -> InboxEvent | None:
    statement = (
        select(InboxEvent).where(InboxEvent.id == event_id).with_for_update().execution_options(populate_existing=True)
    )
    return session.scalars(statement).first()


def claim_next(session: Session) -> InboxEvent | None:
    """The oldest pending order event nobody holds, locked (PostgreSQL: FOR UPDATE SKIP LOCKED)."""
    statement = (
        select(InboxEvent)
        .where(InboxEvent.status == InboxStatus.PENDING, InboxEvent.kind == "order")
        .order_by(InboxEvent.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).first()


def record_failure(session: Session, event_id: int, error: str, *, final: bool) -> InboxEvent | None:
    """One more failed attempt; the event fails for good when `final` or out of attempts."""
    event = lock_event(session, event_id)
    if event is None or event.status != InboxStatus.PENDING:
        return event
    event.attempts += 1
    event.last_error = error[:4000]
    if final or event.attempts >= MAX_ATTEMPTS:
        event.status = InboxStatus.FAILED
    session.flush()
    return event


def retry_event(session: Session, event_id: int) -> InboxEvent:
    """A failed event back to pending with its attempts reset; the caller then enqueues it."""
    event = lock_event(session, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    if event.status != InboxStatus.FAILED:
        raise Conflict(f"event {event_id} is {event.status}, only a failed event can be retried")
    event.status, event.attempts, event.last_error, event.processed_at = InboxStatus.PENDING, 0, None, None
    session.flush()
    return event


def dismiss_event(session: Session, event_id: int, user_id: int | None) -> InboxEvent:
    """Give up on a failed (or stuck pending) event: status ignored, who and when recorded."""
    event = lock_event(session, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    if event.status not in (InboxStatus.FAILED, InboxStatus.PENDING):
        raise Conflict(f"event {event_id} is {event.status} and cannot be dismissed")
    user = session.get(User, user_id) if user_id is not None else None
    who = user.username if user is not None else f"user {user_id}"
    note = f"dismissed by {who} at {utcnow().isoformat(timespec='seconds')}"
    event.last_error = f"{note}; last error: {event.last_error}" if event.last_error else note
    event.status, event.processed_at = InboxStatus.IGNORED, utcnow()
    session.flush()
    return event


def stale_pending(session: Session, *, older_than: timedelta = STALE_AFTER, limit: int = 500) -> list[int]:
    """Pending events received a while ago: their job was lost or never enqueued."""
    cutoff = utcnow() - older_than
    statement = (
        select(InboxEvent.id)
        .where(InboxEvent.status == InboxStatus.PENDING, InboxEvent.received_at < cutoff)
        .order_by(InboxEvent.id)
        .limit(limit)
    )
    return list(session.scalars(statement))
