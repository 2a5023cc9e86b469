"""Background work: to RQ when REDIS_URL is set, otherwise run in-process, at once.

Either way the same job function runs; job functions expect an app context,
which `wms worker` provides for RQ jobs.

A job is named by its dotted name ("jobs.replenishment.check_pick_face"), so that app/ never
imports jobs/ (which imports app/): RQ stores the name, and without Redis `resolve` imports the
function at the moment it runs. A function object is still taken.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

from flask import Flask, current_app

DEFAULT_QUEUE = "wms"
RESULT_TTL = 0  # a finished job is deleted at once: nobody reads its result (the inbox row has the status)


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    if not url:
        app.extensions["wms.queue"] = None
        return
    from redis import Redis
    from rq import Queue

    app.extensions["wms.redis"] = Redis.from_url(url)
    name = app.config.get("RQ_QUEUE") or DEFAULT_QUEUE  # one name per deployment (tests: per run)
    app.extensions["wms.queue"] = Queue(name, connection=app.extensions["wms.redis"])


def queue():
    return current_app.extensions.get("wms.queue")


Job = Callable | str  # a job function, or its dotted name


def resolve(fn: Job) -> Callable:
    """The job function itself, from its dotted name ("jobs.replenishment.check_pick_face")."""
    if callable(fn):
        return fn
    module, _, name = fn.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _name(fn: Job) -> str:
    return fn.rpartition(".")[2] if isinstance(fn, str) else fn.__name__


def enqueue(fn: Job, *args, job_id: str | None = None, **kwargs):
    """Run fn(*args, **kwargs) in the background (RQ) or now (no Redis)."""
    q = queue()
    if q is None:
        return resolve(fn)(*args, **kwargs)
    # One round trip: the job's hash and its push onto the queue go in one Redis pipeline
    # (queue.enqueue would make two), and a ready-made description (RQ would otherwise build one
    # from the call's repr).
    with q.connection.pipeline() as pipe:
        job = q.enqueue_call(
            fn, args=args, kwargs=kwargs, job_id=job_id, pipeline=pipe,
            description=f"{_name(fn)}{args!r}", result_ttl=RESULT_TTL,
        )
        pipe.execute()
    return job


def enqueue_in(seconds: float, fn: Job, *args, job_id: str | None = None, **kwargs):
    """Run fn(*args, **kwargs) in the background after `seconds` (RQ's scheduler, which `wms
    worker` runs); without Redis nothing is scheduled (None)."""
    q = queue()
    if q is None:
        return None
    from datetime import timedelta

    return q.enqueue_in(timedelta(seconds=seconds), fn, *args, job_id=job_id, result_ttl=RESULT_TTL,
                        description=f"{_name(fn)}{args!r}", **kwargs)
