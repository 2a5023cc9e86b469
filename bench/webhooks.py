"""Webhook benchmark: Starshipit order events accepted, applied, and visible.

    .venv/bin/python bench/webhooks.py            # full size
    .venv/bin/python bench/webhooks.py --quick    # a small run to see that it works

Everything is real: the WMS under gunicorn with Redis on, `wms worker` processes, PostgreSQL
(a fresh database wms_bench_<pid>, dropped afterwards), Redis database 13 (flushed), and a load
generator of several processes posting signed order events over keep-alive HTTP connections.

1. accepted: webhooks/s answered 202 by gunicorn with no worker running (each one stored in the
   inbox and enqueued), and the p50/p95 latency the senders saw;
2. applied: events/s end to end — two `wms worker` processes start on that backlog and apply
   every event (order mirror upserted); timed until none is pending;
3. visible: order_created events sent at a steady 100/s with the two workers running; for each,
   the time from the webhook's arrival (inbox received_at, stamped by the web process) to the
   order existing in the mirror (its created_at, stamped by the worker), p50/p95/max.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ledger import Database  # noqa: E402

SPAWN = multiprocessing.get_context("spawn")
SECRET = "bench-webhook-secret"
REDIS_URL = "redis://127.0.0.1:6379/13"
SKUS = [f"WH-{n:03d}" for n in range(1, 51)]


def order_event(run: str, number: int, occurred_at: str) -> bytes:
    """One order_created event per the webhook contract in API-FACTS.md."""
    event = {
        "event": "order_created",
        "event_id": f"evt_{run}_{number}",
        "occurred_at": occurred_at,
        "order": {
            "order_id": 10_000_000 + number,
            "order_number": f"{run}-{number:07d}",
            "order_date": occurred_at,
            "reference": f"WEB-{number}",
            "status": "Unshipped",
            "destination": {"name": "Bench Customer", "street": "1 Queen St", "city": "Auckland",
                            "post_code": "1010", "country": "NZ"},
            "items": [
                {"sku": SKUS[(number + k) % len(SKUS)], "description": "Bench item", "quantity": 1 + k}
                for k in range(1 + number % 3)
            ],
        },
    }
    return json.dumps(event, separators=(",", ":")).encode()


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def _sender(url: str, run: str, numbers: list[int], rate: float | None, start_at: float, results) -> None:
    """Post these events (at `rate` per second if given) and report each latency."""
    import httpx

    latencies, refused = [], 0
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.time() < start_at:
            time.sleep(0.001)
        began = time.perf_counter()
        for index, number in enumerate(numbers):
            if rate:
                due = began + index / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            body = order_event(run, number, occurred)
            sent = time.perf_counter()
            answer = client.post("/webhooks/starshipit", content=body, headers={
                "Content-Type": "application/json", "X-Starshipit-Signature": sign(body)})
            latencies.append(time.perf_counter() - sent)
            if answer.status_code != 202:
                refused += 1
    results.put((latencies, refused))


def send(url: str, run: str, count: int, senders: int, rate: float | None = None) -> dict:
    """`count` events from `senders` processes; with `rate`, that many per second in all."""
    results = SPAWN.Queue()
    start_at = time.time() + 1.5  # every sender starts together, after its imports
    per_rate = rate / senders if rate else None
    processes = [
        SPAWN.Process(target=_sender, args=(url, run, list(range(n, count, senders)), per_rate, start_at, results))
        for n in range(senders)
    ]
    for process in processes:
        process.start()
    latencies, refused = [], 0
    for _ in processes:
        got, bad = results.get()
        latencies += got
        refused += bad
    ended = time.time()
    for process in processes:
        process.join()
    return {"latencies": latencies, "refused": refused, "seconds": ended - start_at}


def percentile(samples: list[float], share: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(share * 100) - 1] if len(samples) > 1 else samples[0]


def pending(app) -> int:
    from sqlmodel import func, select

    from app import db
    from app.models import InboxEvent

    with app.app_context(), db.reading() as session:
        return session.exec(select(func.count()).select_from(InboxEvent).where(InboxEvent.status == "pending")).one()


def wait_applied(app, timeout: float) -> float:
    begun = time.perf_counter()
    while pending(app):
        if time.perf_counter() - begun > timeout:
            raise SystemExit(f"events still pending after {timeout:.0f} s")
        time.sleep(0.05)
    return time.perf_counter() - begun


def visibility(app, run: str) -> list[float]:
    """Seconds from each webhook's arrival to its order existing, for this run's orders."""
    from sqlmodel import select

    from app import db
    from app.models import InboxEvent, Order

    with app.app_context(), db.reading() as session:
        rows = session.exec(
            select(InboxEvent.received_at, Order.created_at)
            .join(Order, Order.order_number == InboxEvent.order_number)
            .where(InboxEvent.order_number.startswith(f"{run}-"))
        ).all()
    return [(created - received).total_seconds() for received, created in rows]


def run(options) -> list[str]:
    import redis

    from app import create_app, db
    from app.catalog import create_product
    from app.warehouses import create_warehouse
    from tests.support.processes import start_wms, start_worker

    lines = []
    database = Database("postgres", options.postgres_url)
    queue_store = redis.Redis.from_url(REDIS_URL)
    queue_store.flushdb()
    logs = Path(tempfile.mkdtemp(prefix="wms-bench-logs-"))
    app = create_app({"DATABASE_URL": database.url, "REDIS_URL": None, "SECRET_KEY": "bench"})
    processes = []
    try:
        with app.app_context():
            def floor(session):
                create_warehouse(session, code="MAIN", name="Main warehouse")
                for sku in SKUS:
                    create_product(session, sku=sku, name=f"Bench product {sku}")

            db.atomic(floor)
        env = {"REDIS_URL": REDIS_URL, "STARSHIPIT_WEBHOOK_SECRET": SECRET}
        server = start_wms(database.url, logs, workers=options.web_workers, threads=options.threads, **env)
        processes.append(server)
        lines.append(f"gunicorn: {options.web_workers} workers x {options.threads} threads (gthread); "
                     f"PostgreSQL; Redis on; {os.cpu_count()} cores shared with the load generator")
        print(lines[-1], flush=True)

        sent = send(server.url, "ACC", options.accept, options.senders)
        assert sent["refused"] == 0, f"{sent['refused']} webhooks were not accepted"
        lat = sent["latencies"]
        lines.append(
            f"accepted {options.accept} webhooks from {options.senders} senders: "
            f"{options.accept / sent['seconds']:.0f}/s; latency p50 {percentile(lat, .5) * 1000:.1f} ms, "
            f"p95 {percentile(lat, .95) * 1000:.1f} ms"
        )
        print(lines[-1], flush=True)

        workers = [start_worker(database.url, REDIS_URL, logs, name=f"worker-{n}", **env) for n in range(2)]
        processes += workers
        backlog = pending(app)
        seconds = wait_applied(app, timeout=600)
        lines.append(f"applied  {backlog} events with 2 workers in {seconds:.1f} s: {backlog / seconds:.0f} events/s")
        print(lines[-1], flush=True)

        count = int(options.visible_rate * options.visible_seconds)
        sent = send(server.url, "VIS", count, options.senders, rate=options.visible_rate)
        wait_applied(app, timeout=120)
        delays = visibility(app, "VIS")
        assert len(delays) == count, f"{len(delays)} of {count} orders visible"
        lines.append(
            f"visible  {count} order_created at {count / sent['seconds']:.0f}/s: webhook received -> order visible "
            f"p50 {percentile(delays, .5) * 1000:.0f} ms, p95 {percentile(delays, .95) * 1000:.0f} ms, "
            f"max {max(delays) * 1000:.0f} ms"
        )
        print(lines[-1], flush=True)
    finally:
        for process in reversed(processes):
            process.stop()
        queue_store.flushdb()
        app.extensions["wms.engine"].dispose()
        database.drop()
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accept", type=int, default=6000, help="webhooks sent for the acceptance figure")
    parser.add_argument("--senders", type=int, default=8, help="load-generator processes")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--visible-rate", type=float, default=100.0, help="events/s for the visibility figure")
    parser.add_argument("--visible-seconds", type=float, default=20.0)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--quick", action="store_true", help="small sizes: 600 accepted, 5 s of visibility")
    options = parser.parse_args(argv)
    if options.quick:
        options.accept, options.visible_seconds = 600, 5
    print("\n".join(["", "== webhooks =="] + run(options)))


if __name__ == "__main__":
    main()
