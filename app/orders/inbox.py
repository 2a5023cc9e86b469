"""The inbox: every Starshipit event stored once by its dedup key before anything is applied,
its failed tries (counted once each, with the next try's time kept in the database), and what a
manager does with one that failed (retry, dismiss).

An event whose content can never apply (payloads.Incoming.problem) is stored failed at once, with
the reason in words (app.orders.failures) and the technical detail apart."""
from __future__ import annotations

import json
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app import db, tasks
from app.errors import Conflict, NotFound
from app.models import InboxEvent, InboxStatus, User
from app.orders import failures
from app.orders.payloads import Incoming
from app.timeutil import utcnow

# The jobs, by name (app/ never imports jobs/: app.tasks finds them when they run).
PROCESS_EVENT = "jobs.events.process_event"
DRAIN_INBOX = "jobs.events.drain_inbox"
RETRY_INTERVALS = [1, 5, 30, 120]  # seconds before the 2nd, 3rd ... try (scheduled RQ jobs)
MAX_ATTEMPTS = len(RETRY_INTERVALS) + 1
STALE_AFTER = timedelta(seconds=60)  # a pending event this old is handed over again by the poll


def stale_window() -> timedelta:
    """INBOX_STALE_SECONDS: how long a pending event may wait past its next look (its next try,
    or its arrival) before a sweep drives it again."""
    return timedelta(seconds=float(current_app.config.get("INBOX_STALE_SECONDS", STALE_AFTER.total_seconds())))


def _arrival(incoming: Incoming) -> dict:
    """What the row starts as: pending, or failed at once when its content can never apply."""
    if incoming.problem is None:
        return {"status": InboxStatus.PENDING.value, "last_error": None, "error_detail": None}
    failure = failures.explain(incoming.problem, kind=incoming.kind, event_type=incoming.event_type,
                               order_number=incoming.order_number)
    return {"status": InboxStatus.FAILED.value, "last_error": failure.reason, "error_detail": failure.detail}


def store(session: Session, incoming: Incoming, payload: str) -> int | None:
    """Insert the event unless its dedup key is already there; its id, or None for a duplicate.
    One INSERT ... ON CONFLICT DO NOTHING: safe when duplicates arrive at the same moment."""
    return session.execute(_insert(session.get_bind().dialect.name, incoming, payload)).scalar()


def store_now(incoming: Incoming, payload: str) -> int | None:
    """`store` as its own durable transaction, for the webhook: on PostgreSQL one autocommit
    statement (one round trip, no ping: the INSERT is the whole transaction, committed when it
    returns); on SQLite one short write transaction."""
    bind = db.engine()
    if bind.dialect.name != "postgresql":
        with bind.begin() as connection:
            return connection.execute(_insert(bind.dialect.name, incoming, payload)).scalar()
    row = {
        "dedup_key": incoming.dedup_key, "kind": incoming.kind, "event_type": incoming.event_type,
        "order_number": incoming.order_number, "starshipit_order_id": incoming.starshipit_order_id,
        "occurred_at": incoming.occurred_at, "payload": payload, "received_at": utcnow(),
        **_arrival(incoming),
    }
    try:
        stored = db.autocommit_row(_PG_STORE, row)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        # The pooled connection was dead, perhaps only after the INSERT committed: once more on a
        # fresh one, where a conflict may be our own first try, so the event counts as new (handing
        # over an event twice is harmless: only a pending event is ever claimed).
        stored = db.autocommit_row(_PG_STORE, row) or db.autocommit_row(_PG_FIND, row)
    return stored[0] if stored else None


# `_insert` as plain SQL for PostgreSQL (no statement building or compiling per webhook).
_PG_STORE = (
    "INSERT INTO inbox_event (dedup_key, kind, event_type, order_number, starshipit_order_id, occurred_at,"
    " payload, status, attempts, last_error, error_detail, received_at) VALUES (:dedup_key, :kind, :event_type,"
    " :order_number, :starshipit_order_id, :occurred_at, :payload, :status, 0, :last_error, :error_detail,"
    " :received_at)"
    " ON CONFLICT (dedup_key) DO NOTHING RETURNING id"
)
_PG_FIND = "SELECT id FROM inbox_event WHERE dedup_key = :dedup_key"


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
            attempts=0,
            received_at=utcnow(),
            **_arrival(incoming),
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(InboxEvent.id)
    )


def store_json(session: Session, incoming: Incoming, body: dict) -> int | None:
    return store(session, incoming, json.dumps(body, separators=(",", ":"), sort_keys=True))


def enqueue_processing(event_id: int, attempts: int = 0):
    """Apply this one event in the background (the RQ job that owns it after `attempts` failed
    tries, see `job_id`) or now (no Redis)."""
    return tasks.enqueue(PROCESS_EVENT, event_id, job_id=job_id(event_id, attempts))


def job_id(event_id: int, attempts: int = 0) -> str:
    """The RQ job that owns the event after `attempts` failed tries: its own job (a tracking
    update, a manager's retry) or, after a failure, the scheduled retry (a distinct id per try:
    a retry is scheduled from inside the job that failed, which RQ deletes when it ends)."""
    return f"wms-inbox-{event_id}" if attempts == 0 else f"wms-inbox-{event_id}-try{attempts + 1}"


def hand_over(event_id: int, kind: str) -> None:
    """A newly stored event to whoever applies it. No Redis: applied now, in this process.
    An order event: wake the inbox (drains apply order events in bulk). A tracking update gets a
    job of its own: it may need Starshipit's order fetched outside any transaction."""
    if tasks.queue() is None or kind != "order":
        enqueue_processing(event_id)
    else:
        wake()


WAKE_TTL = 30  # seconds; bounds how long a wake flag whose drain job was lost can block the next one


def wake_key() -> str:
    return f"{tasks.queue().name}:inbox:wake"


def wake() -> bool:
    """Make sure a drain will run after this moment; True when this call enqueued one.

    Called after the event's INSERT has committed. `SET wake 1 NX EX` costs one Redis round trip;
    only the caller that set the flag enqueues a drain job (jobs.events.drain_inbox), so a burst
    of webhooks enqueues one drain, not one job per event.

    Why no wake-up is lost: while the flag is set, a drain job is queued that has not yet deleted
    it (the flag is only set together with an enqueue, and a drain deletes it before its first
    claim). Take an event E committed at time c, its SET NX at s > c:
    - the SET succeeds: a new drain is enqueued now; it starts after s > c, from the oldest
      pending event, so it sees E;
    - the SET fails: the flag's drain D has not deleted it yet, so D deletes it after s and
      starts claiming after that, from the oldest pending event: D sees E, unless E is already
      in another drain's batch, and that drain applies it.
    So a drain that ends without E (its last, empty claim came before c, or E committed under
    a lower id than it had reached) never matters: E's own SET NX covers E. The TTL only matters
    if an enqueue is lost after a successful SET (the flag is dropped on a failed enqueue) or
    Redis loses the job: then the next webhook after WAKE_TTL, or the poll's stale sweep
    (polling.requeue_stale), starts a drain. A drain killed mid-event, or an event whose drain
    failed to claim it, is left pending for the next drain or the sweep."""
    q = tasks.queue()
    if q is None:
        tasks.resolve(DRAIN_INBOX)()
        return True
    if not q.connection.set(wake_key(), 1, nx=True, ex=WAKE_TTL):
        return False
    try:
        enqueue_drain()
    except Exception:
        q.connection.delete(wake_key())  # so that the next event tries again
        raise
    return True


def enqueue_drain():
    return tasks.enqueue(DRAIN_INBOX)


def clear_wake() -> None:
    """A drain starting: from now on the next event stored wakes another drain."""
    q = tasks.queue()
    if q is not None:
        q.connection.delete(wake_key())


def schedule_retry(event_id: int, attempts: int) -> None:
    """The next try of an event that failed `attempts` times, after its backoff (RQ's scheduler).
    Without Redis nothing is scheduled: the in-process sweeper (app.orders.sweeper) tries it when
    its next_try_at comes."""
    tasks.enqueue_in(retry_interval(attempts), PROCESS_EVENT, event_id, job_id=job_id(event_id, attempts))


def retry_interval(attempts: int) -> int:
    """Seconds between the `attempts`-th failed try and the next."""
    return RETRY_INTERVALS[min(attempts, len(RETRY_INTERVALS)) - 1]


def lock_event(session: Session, event_id: int) -> InboxEvent | None:
    statement = (
        select(InboxEvent).where(InboxEvent.id == event_id).with_for_update().execution_options(populate_existing=True)
    )
    return session.scalars(statement).first()


def claim_batch(session: Session, after_id: int, size: int) -> list[int]:
    """The ids of the oldest pending order events after `after_id` that have never failed and
    nobody holds, locked for this transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so two drains
    asking at once get different batches; SQLite serialises write transactions). An event that
    failed belongs to its scheduled retry job. One query per batch: PostgreSQL's plan for it can
    sort every pending row (its estimate of them is stale during a burst), so it is not run per
    event; `after_id` keeps it from walking again over events this drain has just applied."""
    statement = (
        select(InboxEvent.id)
        .where(
            InboxEvent.status == InboxStatus.PENDING, InboxEvent.id > after_id, InboxEvent.kind == "order",
            InboxEvent.attempts == 0,
        )
        .order_by(InboxEvent.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(statement))


def claim(session: Session, event_id: int) -> tuple[InboxEvent | None, bool]:
    """(the event, locked for this transaction, if it is still pending, has never failed and
    nobody else holds it (FOR UPDATE SKIP LOCKED); whether an earlier event of its order is still
    pending, never having failed), in one statement: a drain asks `earlier_of_its_order` only
    then."""
    earlier = aliased(InboxEvent)
    statement = (
        select(InboxEvent, exists().where(*_earlier_pending(earlier, InboxEvent.order_number, InboxEvent.id)))
        .where(InboxEvent.id == event_id, InboxEvent.status == InboxStatus.PENDING, InboxEvent.attempts == 0)
        .with_for_update(skip_locked=True, of=InboxEvent)
        .execution_options(populate_existing=True)
    )
    row = session.execute(statement).first()
    return (row[0], bool(row[1])) if row is not None else (None, False)


def _earlier_pending(events, order_number, event_id) -> tuple:
    """Criteria on `events` (InboxEvent or an alias): an order event of `order_number` before
    `event_id`, still pending and never failed (a failed one belongs to its retry job)."""
    return (events.order_number == order_number, events.id < event_id, events.status == InboxStatus.PENDING,
            events.kind == "order", events.attempts == 0)


def earlier_of_its_order(session: Session, event: InboxEvent) -> InboxEvent | None:
    """The oldest event of the same order that came before `event` and is still pending, never
    having failed, locked for this transaction. It waits (FOR UPDATE, no SKIP LOCKED) while
    another drain applies it, so one order's events are applied in the order they arrived even
    with drains side by side; it is None once that drain has committed. No deadlock: a drain
    holds only events at or after the one it applies and waits only on an earlier one, so waits
    never go round in a circle. Failed events belong to their retry jobs and hold nothing up."""
    if not event.order_number:
        return None
    statement = (
        select(InboxEvent)
        .where(*_earlier_pending(InboxEvent, event.order_number, event.id))
        .order_by(InboxEvent.id)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).first()


def record_failure(session: Session, event_id: int, error: BaseException) -> InboxEvent | None:
    """One more failed try, counted on the event with the reason in words and the technical
    detail. The event fails for good when the error is terminal (it can never apply as it is) or
    on the last of MAX_ATTEMPTS; otherwise it stays pending with next_try_at set after the backoff
    (the scheduled retry's time, kept here so that a retry lost with Redis is still found)."""
    event = lock_event(session, event_id)
    if event is None or event.status != InboxStatus.PENDING:
        return event
    failure = failures.explain(error, kind=event.kind, event_type=event.event_type, order_number=event.order_number)
    event.attempts += 1
    event.error_detail = failure.detail
    if failure.terminal or event.attempts >= MAX_ATTEMPTS:
        event.status, event.next_try_at = InboxStatus.FAILED, None
        event.last_error = failures.final_reason(failure, event.attempts)
    else:
        event.next_try_at = utcnow() + timedelta(seconds=retry_interval(event.attempts))
        event.last_error = failures.pending_reason(failure, event.next_try_at)
    session.flush()
    return event


def retry_event(session: Session, event_id: int) -> InboxEvent:
    """A failed event back to pending with its attempts reset; the caller then enqueues it."""
    event = lock_event(session, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    if event.status != InboxStatus.FAILED:
        raise Conflict(f"event {event_id} is {event.status}, only a failed event can be retried")
    event.status, event.attempts, event.processed_at, event.next_try_at = InboxStatus.PENDING, 0, None, None
    event.last_error = event.error_detail = None
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


def _next_look():
    """When a pending event is due for a look: its next try, or, never tried, its arrival."""
    return func.coalesce(InboxEvent.next_try_at, InboxEvent.received_at)


def stale_pending(session: Session, *, older_than: timedelta = STALE_AFTER, limit: int = 500) -> list[tuple[int, str, int]]:
    """Pending events, (id, kind, attempts), whose next try (or, never tried, whose arrival) is
    more than `older_than` ago: their drain, job or scheduled retry may be lost."""
    cutoff = utcnow() - older_than
    statement = (
        select(InboxEvent.id, InboxEvent.kind, InboxEvent.attempts)
        .where(InboxEvent.status == InboxStatus.PENDING, _next_look() < cutoff)
        .order_by(InboxEvent.id)
        .limit(limit)
    )
    return [tuple(row) for row in session.execute(statement)]


def due_pending(session: Session, *, older_than: timedelta = STALE_AFTER, limit: int = 100) -> list[int]:
    """Pending events to try now where nothing else will (no Redis: the in-process sweeper): a
    retry whose time has come, or an event never tried that arrived more than `older_than` ago
    (the request that stored it applies it at once; one left over was lost with its process)."""
    now = utcnow()
    statement = (
        select(InboxEvent.id)
        .where(
            InboxEvent.status == InboxStatus.PENDING,
            or_(
                InboxEvent.next_try_at <= now,
                (InboxEvent.next_try_at.is_(None)) & (InboxEvent.received_at < now - older_than),
            ),
        )
        .order_by(InboxEvent.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def lease(session: Session, event_id: int, *, seconds: float) -> bool:
    """Take a due pending event for one try (True), so that no other process's sweeper tries it
    at the same time: its next look moves `seconds` ahead (a try that fails sets it again; a try
    whose process dies leaves it to be found once that time has passed). One UPDATE that only
    succeeds while the event is still pending and due."""
    now = utcnow()
    statement = (
        update(InboxEvent)
        .where(
            InboxEvent.id == event_id,
            InboxEvent.status == InboxStatus.PENDING,
            or_(InboxEvent.next_try_at.is_(None), InboxEvent.next_try_at <= now),
        )
        .values(next_try_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1
