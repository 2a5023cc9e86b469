"""Jobs for Starshipit's events: apply one inbox event; poll Starshipit for what webhooks missed.

Both expect an app context: `wms worker` runs jobs inside one; without Redis they run in-process.
"""
from __future__ import annotations


def process_event(event_id: int) -> str:
    """Apply one stored event. As an RQ job with retries to come, a failure raises so that RQ
    retries it with backoff (app.orders.inbox.RETRY_INTERVALS); the last failure marks it failed.
    With a backlog, the job then drains other pending events (app.orders.processing.drain)."""
    from app.orders.processing import drain, process

    status = process(int(event_id), retries_left=_retries_left())
    drain()  # with a backlog, apply more pending events in this job (RQ's per-job cost is shared)
    return status


def poll_starshipit(reschedule: bool = False) -> dict:
    """One poll of Starshipit's unshipped and shipped orders since the last one. With
    `reschedule` (the worker's periodic poll) the next poll is scheduled, whatever happens."""
    from app.orders.polling import poll, schedule_next

    try:
        return poll()
    finally:
        if reschedule:
            schedule_next()


def _retries_left() -> bool:
    from rq import get_current_job

    job = get_current_job()
    return bool(job is not None and job.retries_left)
