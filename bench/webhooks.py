"""Webhook benchmark: Starshipit order events accepted, applied, and visible.

    .venv/bin/python bench/webhooks.py            # full size
    .venv/bin/python bench/webhooks.py --quick    # a small run to see that it works

Everything is real: the WMS under gunicorn with Redis on, `wms worker` processes, PostgreSQL
(a fresh database wms_bench_<pid>, dropped afterwards), Redis database 13 (flushed), and a load
generator posting signed order events over keep-alive HTTP connections: `wrk` (apt-get install
wrk) with a Lua script cycling through pre-signed bodies, each body sent once; without wrk, a few
lean Python processes (http.client), which cost far more CPU per request.

1. accepted: webhooks/s answered 202 by gunicorn with no worker running (each one stored in the
   inbox, the inbox woken: one drain job enqueued for the lot), the p50/p95 latency the load generator saw, and the CPU it cost: per
   request in the gunicorn processes, and the whole machine's busy share (load generator,
   PostgreSQL and Redis included);
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
import shutil
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
    """Post these events (at `rate` per second if given) and report each latency.
    http.client on one keep-alive connection: the leanest sender the standard library has."""
    import http.client
    from urllib.parse import urlsplit

    latencies, refused = [], 0
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    bodies = [order_event(run, number, occurred) for number in numbers]
    signed = [(body, {"Content-Type": "application/json", "X-Starshipit-Signature": sign(body)}) for body in bodies]
    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    while time.time() < start_at:
        time.sleep(0.001)
    began = time.perf_counter()
    for index, (body, headers) in enumerate(signed):
        if rate:
            pause = began + index / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        sent = time.perf_counter()
        connection.request("POST", "/webhooks/starshipit", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        latencies.append(time.perf_counter() - sent)
        if answer.status != 202:
            refused += 1
    connection.close()
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


WRK_SCRIPT = r"""
-- Each wrk thread posts its own share of the pre-signed bodies (one per line: signature TAB body),
-- every body once; a thread that runs out starts again (those repeats answer 200, counted apart).
local counter, threads = 0, {}
function setup(thread)
  thread:set("id", counter); counter = counter + 1; table.insert(threads, thread)
end
function init(args)
  local total = tonumber(args[2]); requests = {}; accepted = 0; other = 0
  local n = 0
  for line in io.lines(args[1]) do
    if n % total == id then
      local tab = line:find("	", 1, true)
      table.insert(requests, wrk.format("POST", "/webhooks/starshipit", {
        ["Content-Type"] = "application/json", ["X-Starshipit-Signature"] = line:sub(1, tab - 1)},
        line:sub(tab + 1)))
    end
    n = n + 1
  end
  index = 0
end
function request()
  index = index % #requests + 1
  return requests[index]
end
function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local a, o = 0, 0
  for _, thread in ipairs(threads) do a = a + thread:get("accepted"); o = o + thread:get("other") end
  io.write(string.format("RESULT %d %d %d %.0f %.0f %.0f\n", a, o, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def send_wrk(url: str, run: str, count: int, seconds: float, threads: int, connections: int) -> dict:
    """wrk for `seconds`, cycling through `count` pre-signed bodies; latencies from wrk itself."""
    import subprocess

    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    work = Path(tempfile.mkdtemp(prefix="wms-bench-wrk-"))
    bodies = work / "bodies.txt"
    with bodies.open("wb") as out:
        for number in range(count):
            body = order_event(run, number, occurred)
            out.write(sign(body).encode() + b"\t" + body + b"\n")
    script = work / "post.lua"
    script.write_text(WRK_SCRIPT)
    before = os.times()
    done = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s", "--latency",
         "-s", str(script), url, "--", str(bodies), str(threads)],
        capture_output=True, text=True, check=True)
    after = os.times()
    fields = next(line for line in done.stdout.splitlines() if line.startswith("RESULT")).split()
    accepted, other, micros, p50, p95, p99 = (float(f) for f in fields[1:])
    return {"accepted": int(accepted), "other": int(other), "seconds": micros / 1e6,
            "p50": p50 / 1e6, "p95": p95 / 1e6, "p99": p99 / 1e6,
            "client_cpu": (after.children_user + after.children_system) - (before.children_user + before.children_system)}


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except OSError:
            pass
    return pids


def wait_for_workers(master: int, count: int, timeout: float = 60) -> list[int]:
    """The gunicorn master's process tree once its `count` workers have started."""
    deadline = time.monotonic() + timeout
    while len(pids := process_tree(master)) < count + 1:
        if time.monotonic() > deadline:
            raise SystemExit(f"gunicorn started {len(pids) - 1} of {count} workers in {timeout:.0f} s")
        time.sleep(0.1)
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (their own, not their children's)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def percentile(samples: list[float], share: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(share * 100) - 1] if len(samples) > 1 else samples[0]


def pending(app, status: str = "pending") -> int:
    from sqlmodel import func, select

    from app import db
    from app.models import InboxEvent

    with app.app_context(), db.reading() as session:
        return session.exec(select(func.count()).select_from(InboxEvent).where(InboxEvent.status == status)).one()


def wait_applied(app, timeout: float) -> float:
    begun = time.perf_counter()
    while pending(app):
        if time.perf_counter() - begun > timeout:
            raise SystemExit(f"events still pending after {timeout:.0f} s")
        time.sleep(0.05)
    took = time.perf_counter() - begun
    assert pending(app, "failed") == 0, "some events failed: the figure would count them as applied"
    return took


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
        server = start_wms(database.url, logs, workers=options.web_workers, threads=options.threads,
                           worker_class=options.worker_class, **env)
        processes.append(server)
        shape = f"{options.web_workers} {options.worker_class} workers"
        if options.worker_class == "gthread":
            shape += f" x {options.threads} threads"
        lines.append(f"gunicorn: {shape}; "
                     f"PostgreSQL; Redis on; {os.cpu_count()} cores shared with the load generator")
        print(lines[-1], flush=True)

        # Measure the server as it runs: every worker booted, and each has served a few webhooks
        # (its first ones open its connections and fill its caches).
        web_pids = wait_for_workers(server.process.pid, options.web_workers)
        send(server.url, "WARM", 40 * options.web_workers, senders=2)
        cpu_before, busy_before = cpu_seconds(web_pids), machine_busy()
        if options.load == "wrk":
            sent = send_wrk(server.url, "ACC", options.accept, options.accept_seconds, options.wrk_threads,
                            options.connections)
            accepted, seconds = sent["accepted"], sent["seconds"]
            p50, p95 = sent["p50"], sent["p95"]
            how = (f"wrk -t{options.wrk_threads} -c{options.connections} for {seconds:.1f} s "
                   f"(load generator CPU {sent['client_cpu'] / seconds * 100:.0f}% of a core)")
            assert sent["other"] == 0, f"{sent['other']} answers were not 202 (ran out of bodies?)"
        else:
            sent = send(server.url, "ACC", options.accept, options.senders)
            assert sent["refused"] == 0, f"{sent['refused']} webhooks were not accepted"
            accepted, seconds = options.accept, sent["seconds"]
            p50, p95 = percentile(sent["latencies"], .5), percentile(sent["latencies"], .95)
            how = f"{options.senders} http.client sender processes"
        web_cpu = cpu_seconds(web_pids) - cpu_before
        busy_after = machine_busy()
        machine = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
        lines.append(
            f"accepted {accepted} webhooks ({how}): {accepted / seconds:.0f}/s; "
            f"latency p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms; "
            f"gunicorn CPU {web_cpu / accepted * 1000:.2f} ms per webhook; machine {machine * 100:.0f}% busy"
        )
        print(lines[-1], flush=True)

        if options.accept_only:
            return lines
        workers = [start_worker(database.url, REDIS_URL, logs, name=f"worker-{n}", **env) for n in range(2)]
        processes += workers
        worker_pids = [pid for worker in workers for pid in process_tree(worker.process.pid)]
        backlog = pending(app)
        cpu_before, busy_before = cpu_seconds(worker_pids), machine_busy()
        seconds = wait_applied(app, timeout=600)
        worker_cpu = cpu_seconds(worker_pids) - cpu_before
        busy_after = machine_busy()
        machine = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
        lines.append(f"applied  {backlog} events with 2 workers in {seconds:.1f} s: {backlog / seconds:.0f} events/s; "
                     f"worker CPU {worker_cpu / backlog * 1000:.2f} ms per event; machine {machine * 100:.0f}% busy")
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
    parser.add_argument("--accept", type=int, default=30000,
                        help="distinct signed webhooks for the acceptance figure (wrk: the pool it cycles through)")
    parser.add_argument("--load", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python",
                        help="load generator for the acceptance figure (default wrk when installed)")
    parser.add_argument("--accept-seconds", type=float, default=10.0, help="wrk's run time")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16, help="wrk's keep-alive connections")
    parser.add_argument("--senders", type=int, default=4, help="Python sender processes (without wrk; and for "
                        "the visibility run)")
    parser.add_argument("--web-workers", type=int, default=5, help="gunicorn workers (the Procfile's default: 5)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (the Procfile's: sync)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread only)")
    parser.add_argument("--visible-rate", type=float, default=100.0, help="events/s for the visibility figure")
    parser.add_argument("--visible-seconds", type=float, default=20.0)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--accept-only", action="store_true", help="only the acceptance figure")
    parser.add_argument("--quick", action="store_true", help="small sizes: 4 s of wrk (600 webhooks with Python "
                        "senders), 5 s of visibility")
    options = parser.parse_args(argv)
    if options.quick:
        options.accept_seconds, options.visible_seconds = 4, 5
        options.accept = 12000 if options.load == "wrk" else 600
    print("\n".join(["", "== webhooks =="] + run(options)))


if __name__ == "__main__":
    main()
