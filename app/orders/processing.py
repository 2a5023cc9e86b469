"""Running one inbox event: fetch what it needs from Starshipit (outside any transaction), apply it
in one transaction, and count a failure when it does not apply."""
from __future__ import annotations

import logging

from app import db
from app.errors import WmsError
from app.models import InboxStatus
from app.orders import events, inbox

log = logging.getLogger(__name__)


class EventNotApplied(Exception):
    """Raised to RQ so that it retries the job with backoff."""


def process(event_id: int, *, retries_left: bool = False) -> str:
    """Apply the event once; returns its status. With `retries_left` (an RQ job with retries to
    come) a failure raises EventNotApplied so that RQ tries again later; otherwise the failure is
    recorded and the event stays pending (for the poll's sweep) until it runs out of attempts.

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
        terminal = isinstance(error, (WmsError, ValueError))  # the payload can never apply as it is
        final = terminal or (not retries_left and _is_rq_job())
        message = f"{type(error).__name__}: {error}"
        log.warning("inbox event %s not applied: %s", event_id, message)
        failed = db.atomic(inbox.record_failure, event_id, message, final=final)
        if failed is not None and failed.status == InboxStatus.PENDING and retries_left:
            raise EventNotApplied(message) from error
        return failed.status if failed is not None else "missing"


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
        return _NeedsOrder(event.order_number)
    return events.apply_event(session, event, fetched)


DRAIN_BACKLOG = 20  # queued jobs beyond which a job also drains other pending events
DRAIN_MAX = 50  # events one job drains at most


def drain(limit: int = DRAIN_MAX) -> int:
    """With a backlog (PostgreSQL and Redis only), apply other pending order events in this job,
    oldest first, each in its own transaction, claimed with FOR UPDATE SKIP LOCKED so that workers
    never wait on one another. An event applied here has its own queued job removed (after the
    commit; a job that already started finds the event applied and does nothing). The first
    event that does not apply stops the drain untouched: its own job applies it, with the usual
    retries and failed-events page. Returns how many events it applied."""
    from app import tasks

    q = tasks.queue()
    if q is None or db.is_sqlite() or q.count < DRAIN_BACKLOG:
        return 0
    applied = 0
    while applied < limit:
        try:
            event_id = db.atomic(_apply_next)
        except Exception:  # noqa: BLE001 - left to its own job and its retries
            return applied
        if event_id is None:
            return applied
        applied += 1
        with q.connection.pipeline(transaction=False) as pipe:
            job_id = inbox.job_id(event_id)
            pipe.lrem(q.key, 0, job_id)
            pipe.delete(q.job_class.key_for(job_id))
            pipe.execute()
    return applied


def _apply_next(session) -> int | None:
    event = inbox.claim_next(session)
    if event is None:
        return None
    events.apply_event(session, event)
    return event.id


def fetch_order(order_number: str) -> dict:
    """Starshipit's order, for a tracking update that says it has shipped."""
    from app.starshipit.client import client_from_settings

    with db.reading() as session:
        client = client_from_settings(session)
    with client:
        return client.get_order(order_number=order_number)


def _is_rq_job() -> bool:
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover
        return False
    return get_current_job() is not None
