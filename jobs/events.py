"""Jobs for Starshipit's events: drain the inbox; apply one inbox event; poll Starshipit for what
webhooks missed.

All expect an app context: `wms worker` runs jobs inside one; without Redis they run in-process.
"""
from __future__ import annotations


def drain_inbox() -> int:
    """Apply every pending order event that has never failed (enqueued by inbox.wake when a
    webhook stores one and no drain is waiting yet; see app.orders.processing.drain)."""
    from app.orders.processing import drain

    return drain()


def process_event(event_id: int) -> str:
    """Apply one stored event: a tracking update, a manager's retry, or the scheduled retry of an
    event that failed (its next try is scheduled in turn, app.orders.inbox.RETRY_INTERVALS)."""
    from app.orders.processing import process

    return process(int(event_id))


def poll_starshipit(reschedule: bool = False) -> dict:
    """One poll of Starshipit's unshipped and shipped orders since the last one. With
    `reschedule` (the worker's periodic poll) the next poll is scheduled, whatever happens."""
    from app.orders.polling import poll, schedule_next

    try:
        return poll()
    finally:
        if reschedule:
            schedule_next()
