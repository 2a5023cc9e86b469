"""The RQ worker: one process, jobs run in it inside the app context (no fork per job)."""
from __future__ import annotations

from flask import Flask


def run_worker(app: Flask, *, burst: bool = False, with_scheduler: bool = True) -> None:
    from rq import SimpleWorker

    redis = app.extensions.get("wms.redis")
    if redis is None:
        raise SystemExit("REDIS_URL is not set: without Redis, jobs run in the web process and no worker is needed")
    worker = SimpleWorker([app.extensions["wms.queue"]], connection=redis)
    if with_scheduler and not burst:
        from app.orders.polling import ensure_scheduled

        with app.app_context():
            ensure_scheduled()  # the periodic Starshipit poll, every minute
    worker.work(burst=burst, with_scheduler=with_scheduler)
