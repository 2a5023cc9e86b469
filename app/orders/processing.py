"""Applying inbox events: one event (its own job, a retry, or in-process without Redis), or every
waiting order event at once (a drain, woken by the webhook). Either way an event is applied in one
transaction of its own, and a failed try is counted once on the event: failed at once when it can
never apply (app.orders.failures), otherwise retried after a backoff."""
from __future__ import annotations

import logging
import time

from app import db, tasks
from app.models import InboxStatus
from app.orders import events, inbox
from app.timeutil import utcnow

log = logging.getLogger(__name__)

DRAIN_SECONDS = 30.0  # a drain hands over to a fresh one after this long (RQ's job timeout is 180 s)


def process(event_id: int) -> str:
    """Apply the event once; returns its status. A failure is recorded (failed for good when it
    can never apply, or on the last attempt) and, with attempts left, the next try is scheduled.

    One transaction in the usual case: the event is locked and applied. A tracking update that
    needs Starshipit's order first ends that transaction having changed nothing, the order is
    fetched outside any transaction, and the event is applied in a second one."""
    try:
        outcome = db.atomic(_apply, event_id, None)
        if isinstance(outcome, _NeedsOrder):
            fetched = fetch_order(outcome.order_number)
            outcome = db.atomic(_apply, event_id, fetched)
        return outcome
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the event
        return failed(event_id, error)


def failed(event_id: int, error: Exception) -> str:
    """Count a failed try: attempts + 1, the reason in words and the technical detail on the
    event (inbox.record_failure); failed for good when it can never apply as it is or on the last
    of MAX_ATTEMPTS; otherwise its next try is due at next_try_at and scheduled (with Redis, a job
    that owns the event now: drains skip it). Scheduling that fails (Redis down) is only logged:
    next_try_at is in the database, and the stale sweep (or, without Redis, the in-process
    sweeper) tries the event then. Returns the event's status."""
    log.warning("inbox event %s not applied: %s: %s", event_id, type(error).__name__, error)
    event = db.atomic(inbox.record_failure, event_id, error)
    if event is None:
        return "missing"
    if event.status == InboxStatus.PENDING:
        try:
            inbox.schedule_retry(event_id, event.attempts)
        except Exception:  # noqa: BLE001 - the retry's time is kept on the event
            log.warning("inbox event %s: its retry was not scheduled; the stale sweep tries it after %s",
                        event_id, event.next_try_at, exc_info=True)
    return event.status


class _NeedsOrder:
    def __init__(self, order_number: str) -> None:
        self.order_number = order_number


def _apply(session, event_id: int, fetched: dict | None):
    event = inbox.lock_event(session, event_id)
    if event is None:
        return "missing"
    if event.status != InboxStatus.PENDING:
        return event.status
    if fetched is None and events.needs_api_order(session, event):
        # Held while Starshipit is asked (outside any transaction, so no lock holds the event):
        # no sweep tries it meanwhile; the try's outcome sets next_try_at again.
        event.next_try_at = utcnow() + inbox.stale_window()
        return _NeedsOrder(event.order_number)
    return events.apply_event(session, event, fetched)


DRAIN_BATCH = 50  # events a drain claims per batch query


def drain(seconds: float = DRAIN_SECONDS) -> int:
    """Apply every pending order event that has never failed, oldest first, until none is left;
    returns how many were tried. First the wake flag is deleted (see inbox.wake for why no event
    is left behind: the argument only needs each drain to start looking after it deleted the
    flag). Events are claimed a batch at a time (inbox.claim_batch, FOR UPDATE SKIP LOCKED, in the
    transaction of the batch's first event, so two drains asking at once get different batches),
    then each is claimed again by its id and applied in one transaction of its own (skipped if
    another drain got it meanwhile). One order's events apply in the order they arrived: an event
    whose order has an earlier event still pending waits while another drain applies that one, or
    applies it first (inbox.earlier_of_its_order). A drain killed mid-event leaves that event
    pending again when its connection dies. Each batch starts after the last event this drain
    claimed (an event that commits later under a lower id, or that a killed drain let go, is found
    by the next drain, which its webhook or the poll's sweep wakes). An event that fails is counted and its retry
    scheduled (`failed`); the drain goes on with the next one.

    A backlog is shared by the workers: on its second event a drain wakes the inbox (the flag it
    deleted is free, so a second drain is enqueued for the next free worker, which recruits a
    third once it has a second event, and so on; a drain that finds at most one event recruits
    nobody, so this ends when the backlog does). After `seconds` with events still coming, the
    drain wakes a fresh one and ends (RQ's job timeout would otherwise cut it off)."""
    inbox.clear_wake()
    background = tasks.queue() is not None  # without Redis this one drain, in-process, does it all
    deadline = time.monotonic() + seconds
    tried = 0
    batch = _Batch()
    while True:
        if background and time.monotonic() > deadline:
            inbox.wake()
            return tried
        claimed: list[int] = []
        try:
            event_id = db.atomic(_apply_next, batch, claimed)
        except Exception as error:  # noqa: BLE001 - counted on the event, retried by its own job
            if not claimed:
                raise  # the claim itself failed (database down): the job fails, the poll's sweep recovers
            failed(claimed[-1], error)
            event_id = claimed[-1]
        if event_id is None:
            return tried
        tried += 1
        if tried == 2 and background:
            inbox.wake()  # more than one was waiting: a drain for the next free worker too


class _Batch:
    def __init__(self) -> None:
        self.ids: list[int] = []
        self.after = 0  # the last id this drain has claimed


def _apply_next(session, batch: _Batch, claimed: list[int]) -> int | None:
    """In one transaction: the next event of the batch (a new batch when it is used up) that is
    still free, applied; None when no event is left."""
    if claimed:  # db.atomic runs this again after contention: that event first
        batch.ids.insert(0, claimed.pop())
    while True:
        if not batch.ids:
            batch.ids = inbox.claim_batch(session, batch.after, DRAIN_BATCH)
            if not batch.ids:
                return None
        event_id = batch.ids.pop(0)
        batch.after = max(batch.after, event_id)
        event, after_another = inbox.claim(session, event_id)
        if event is not None:
            earlier = inbox.earlier_of_its_order(session, event) if after_another else None
            if earlier is not None:  # its order's earlier event, still pending once nobody holds it: that first
                batch.ids.insert(0, event_id)
                event, event_id = earlier, earlier.id
            claimed.append(event_id)
            events.apply_event(session, event)
            return event_id


def fetch_order(order_number: str) -> dict:
    """Starshipit's order, for a tracking update that says it has shipped."""
    from app.starshipit.client import client_from_settings

    with db.reading() as session:
        client = client_from_settings(session)
    with client:
        return client.get_order(order_number=order_number)
