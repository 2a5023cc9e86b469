"""Outbound benchmark (issue 9): orders allocated per second by real `wms worker` processes, and
pick scans from 20 phones at once.

    .venv/bin/python bench/outbound.py                  # full size
    .venv/bin/python bench/outbound.py --quick          # a short run to see that it works
    .venv/bin/python bench/outbound.py --floors         # with ../shared/bench/floors.sh before and after
    .venv/bin/python bench/outbound.py --workers 1,4 --orders 10000 --skus 2000 --pace 1,0 --scans 120

Everything runs on PostgreSQL: a fresh database wms_bench_<pid> for each allocation round (migrated
with app.migrate.upgrade, dropped afterwards, also on error). Jobs go through the shared Redis on
127.0.0.1:6379, database 15, on a queue of this run's own (bench-outbound-<pid>-<round>); only the
keys of that queue (its registries, its jobs, its workers) are deleted afterwards, nothing is flushed.

Set-up of each round (in bulk where said): one warehouse; `--skus` products with an EAN-13 each
(inserted in bulk); one pick face per product (pick_sequence in product order, 20 zones) and half as
many storage locations, each product stored in two of them; `--orders` WMS-routed PENDING orders of
1-5 lines (distinct SKUs; half of the lines from a fifth of the SKUs, quantities 1-4, mostly 1),
inserted in bulk with COPY, created a millisecond apart; then stock for them, bulk-loaded as
bench/ledger.py does (receipts: about 60% of each product's demand on its pick face, 30% + 3 in
each of its two storage homes, the second home's receipt older: every order can be filled, a
product's later orders fall through to storage, oldest stock first); ledger.check clean; ANALYZE.

1. Allocation, as production runs it: N `wms worker` processes (the Procfile's worker: RQ, a job at
   a time in the process, with RQ's scheduler) on the run's queue, registered and idle; then the
   orders are handed over. `--handover drain` (the default) is the production path: every order id
   at once through app.outbound.allocation.wake_orders (what an order event's commit calls; all at
   once is the backlog case: one ZADD of the ids and one `allocate_pending` job, which drains the
   pending set 100 orders at a time and on its second batch wakes one more job for the next free
   worker, so the backlog spreads over the workers). `--handover batches` enqueues one
   `jobs.allocation.allocate_orders` job per 100 orders instead: the function the drain runs for
   each batch (each order in a transaction of its own), without the drain's hand-over between jobs.
   The clock runs from the hand-over to the last order's commit (the latest sales_order.updated_at,
   which the allocation sets; the bench polls every 0.2 s to know when none is PENDING, and stops
   with the workers' errors when none has moved for `--stall-seconds`). Reported: orders/s, wall
   time, how long the first tenth took (the ramp-up) and the rate over the middle 80%, worker and
   PostgreSQL-backend CPU per order, the machine's busy share, the jobs each worker ran. Checked
   afterwards: every order ALLOCATED, ledger.check() clean, every balance's allocated equal to the
   sum of its allocations, every line's allocations equal to its quantity.
2. Pick scans (on the last round's data, every order ALLOCATED): the real app under gunicorn (sync
   workers, as the Procfile runs it, Redis off as in bench/inbound.py) with an access log of each
   request's time in the worker (%(D)s). Pick jobs over the oldest allocated orders, made with
   app.outbound.picking.create_pick_job into totes made for them: pickers of even number get batch
   jobs of 10 orders (one tote each), odd ones single-order jobs, as many as their scans need. Each
   simulated phone (threads in 4 client processes) signs in through the login form, loads the job
   list once, then works its jobs as the page /picking/<id> does: Take (the form post), the page,
   each tote's label (POST .../totes as static/scan-queue.js sends it through htmx), the page again,
   then at each stop the pick form (POST .../pick with location, product, quantity, tote and the
   htmx headers: the location's code, the product's barcode or now and then its SKU typed, quantity
   blank for one unit a scan or now and then the stop's whole quantity typed, the tote's code),
   whose answer carries the next stop (before f22aa22 the page asked for it: GET .../stop, which
   the bench still sends when an answer does not carry it). 1 scan in 25 is
   wrong (another location, or another product), answered 409 with nothing moved. After 3 warm-up
   scans each the phones wait for each other, then scan at once: `--pace` seconds between a phone's
   scans (0.5-1.5x; 1 is a person with a handheld scanner, 0 each phone's next scan as soon as the
   answer comes). Reported per kind of request: server time (access log) median and p95, client
   median and p95; pick scans also per job mode; gunicorn CPU per request, the machine's busy share.
   Checked afterwards: ledger.check() clean, what the totes hold equal to the picked allocations.

`--floors` runs ../shared/bench/floors.sh just before and just after, and prints each figure as a
ratio to the floors of the same window (floor sql: a ledger-shaped transfer through pgbench, in
tps; floor http: a bare Flask POST on the same gunicorn, in req/s).
"""
from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import floors, percentiles, settle, start_server  # noqa: E402
from bench.inbound import CSRF, PASSWORD, Phone, pause  # noqa: E402
from bench.ledger import Database, _cpu_seconds, bulk_load, make_app  # noqa: E402
from bench.webhooks import cpu_seconds, machine_busy, process_tree, wait_for_workers  # noqa: E402

SPAWN = multiprocessing.get_context("spawn")
REDIS_URL = "redis://127.0.0.1:6379/15"  # the bench's own Redis database; only its queue's keys are touched
CLIENT_PROCESSES = 4
WRONG_EVERY = 25  # 1 pick scan in this many is a wrong one
BATCH_ORDERS = 10  # orders per batch pick job (picking.DEFAULT_BATCH)

STOP = re.compile(r'data-testid="current-stop"[^>]*? data-location="([^"]*)" data-sku="([^"]*)" data-tote="([^"]*)"')
LEFT = re.compile(r'data-testid="stop-quantity">(\d+)<')
TOTE_ROW = re.compile(r'<li data-testid="tote-([^"]+)">')
KINDS = {  # request kind -> (method, path pattern) as the access log has it
    "pick scan": ("POST", re.compile(r"^/picking/(\d+)/pick$")),
    "stop refresh": ("GET", re.compile(r"^/picking/(\d+)/stop$")),
    "tote scan": ("POST", re.compile(r"^/picking/(\d+)/totes$")),
    "job page": ("GET", re.compile(r"^/picking/(\d+)$")),
    "take job": ("POST", re.compile(r"^/picking/(\d+)/take$")),
}


def sku(index: int) -> str:
    return f"OUT-{index:05d}"


def ean13(index: int) -> str:
    """A valid EAN-13 (prefix 93) for product `index`."""
    body = f"93{index:010d}"
    total = sum(int(d) * (3 if n % 2 else 1) for n, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def pick_face(index: int) -> str:
    return f"PF-{index:05d}"


def storage(index: int) -> str:
    return f"ST-{index:05d}"


def storage_homes(product: int, count: int) -> tuple[int, int]:
    first = product % count
    second = (product * 7 + 3) % count
    return first, second if second != first else (first + 1) % count


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# -- set-up ----------------------------------------------------------------------------------------


def make_orders(options, seed: int) -> list[list[tuple[int, int]]]:
    """Each order's lines as (product index, quantity): 1-5 distinct products, half of the lines from
    a fifth of the catalogue (the popular ones), quantities 1-4 (mostly 1)."""
    rng = random.Random(seed)
    popular = rng.sample(range(options.skus), max(1, options.skus // 5))
    orders = []
    for _ in range(options.orders):
        chosen: dict[int, int] = {}
        wanted = rng.randint(1, 5)
        while len(chosen) < wanted:
            product = rng.choice(popular) if rng.random() < 0.5 else rng.randrange(options.skus)
            if product not in chosen:
                chosen[product] = rng.choices((1, 2, 3, 4), weights=(60, 25, 10, 5))[0]
        orders.append(list(chosen.items()))
    return orders


def build(options, seed: int) -> dict:
    """The floor, the catalogue, the orders and the stock for them (see the module's docstring)."""
    from sqlalchemy import text

    from app import db, ledger
    from app.models import LocationType, Product, ProductBarcode
    from app.scans import gtin_of
    from app.warehouses import create_location, create_warehouse, virtual_location

    begun = time.perf_counter()
    stores = max(2, options.skus // 2)

    def floor(session):
        site = create_warehouse(session, code="MAIN", name="Main warehouse")
        faces = [create_location(session, warehouse=site, code=pick_face(i), type="pick", zone=f"Z{i * 20 // options.skus:02d}",
                                 pick_sequence=1000 + i).id for i in range(options.skus)]
        shelves = [create_location(session, warehouse=site, code=storage(j), type="storage", zone="BULK").id
                   for j in range(stores)]
        products = [Product(sku=sku(i), name=f"Outbound product {i}") for i in range(options.skus)]
        session.add_all(products)
        session.flush()
        session.add_all(ProductBarcode(product_id=p.id, barcode=ean13(i), gtin=gtin_of(ean13(i)))
                        for i, p in enumerate(products))
        supplier = virtual_location(session, site.id, LocationType.SUPPLIER).id
        return {"warehouse": site.id, "products": [p.id for p in products], "faces": faces, "shelves": shelves,
                "supplier": supplier}

    made = db.atomic(floor)
    orders = make_orders(options, seed)
    demand = [0] * options.skus
    for lines in orders:
        for product, quantity in lines:
            demand[product] += quantity

    # Stock: the second storage home's receipts first (the oldest stock), then the first's, then the
    # pick faces'; each product's total well above its demand.
    rows, balance = [], {}
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def receipt(product_index, location_id, quantity):
        product_id = made["products"][product_index]
        rows.append(("receipt", product_id, made["supplier"], location_id, quantity, None, "PO-OPENING",
                     start + timedelta(seconds=len(rows))))
        balance[(product_id, location_id)] = balance.get((product_id, location_id), 0) + quantity

    for home in (1, 0):
        for i in range(options.skus):
            receipt(i, made["shelves"][storage_homes(i, stores)[home]], math.ceil(0.3 * demand[i]) + 3)
    for i in range(options.skus):
        receipt(i, made["faces"][i], max(2, math.ceil(0.6 * demand[i])))
    bulk_load(db.engine(), rows, balance)

    # The orders and their lines, in bulk (COPY): WMS-routed, PENDING, a millisecond apart.
    created = datetime.now(UTC) - timedelta(hours=1)
    raw = db.engine().raw_connection()
    try:
        cursor = raw.cursor()
        columns = ("order_number, warehouse_id, status, route, routing_rule_name, routed_by_hand, tracking_numbers, "
                   "destination, channel, created_at, updated_at")
        with cursor.copy(f"COPY sales_order ({columns}) FROM STDIN") as copy:
            for n in range(len(orders)):
                at = created + timedelta(milliseconds=n)
                copy.write_row((f"BO-{n:06d}", made["warehouse"], "PENDING", "WMS", "bench", False, "[]",
                                '{"name": "Bench customer", "country": "NZ"}', "web", at, at))
        cursor.execute("SELECT order_number, id FROM sales_order")
        ids = dict(cursor.fetchall())
        with cursor.copy("COPY order_line (order_id, sku, product_id, quantity, shipped_quantity, unknown_sku) "
                         "FROM STDIN") as copy:
            for n, lines in enumerate(orders):
                for product, quantity in lines:
                    copy.write_row((ids[f"BO-{n:06d}"], sku(product), made["products"][product], quantity, 0, False))
        raw.commit()
        raw.driver_connection.autocommit = True
        cursor.execute("ANALYZE")
        cursor.close()
    finally:
        raw.close()
    with db.reading() as session:
        assert ledger.check(session) == [], "the bulk-loaded ledger is not consistent"
        counted = session.execute(text("SELECT count(*), sum(quantity) FROM order_line")).one()
    return {"floor": made, "order_ids": sorted(ids.values()), "lines": counted[0], "units": int(counted[1]),
            "stock": sum(balance.values()), "seconds": time.perf_counter() - begun}


# -- 1. allocation -----------------------------------------------------------------------------------


def redis_connection():
    from redis import Redis

    return Redis.from_url(REDIS_URL)


def drop_queue_keys(queue_name: str, job_ids: set[str]) -> int:
    """Delete this run's keys in the bench's Redis database, and only those: keys naming the queue,
    the jobs its workers ran (their hashes and result streams), workers listening to it (and their
    entries in RQ's sets). RQ's own short-lived locks (rq:clean_groups) expire by themselves."""
    connection = redis_connection()
    dropped = 0
    try:
        workers = []
        for raw_key in list(connection.scan_iter("*")):
            key = raw_key.decode()
            ours = queue_name in key or key.split(":", 2)[-1] in job_ids and key.startswith(("rq:job:", "rq:results:"))
            if not ours and key.startswith("rq:job:"):
                ours = (connection.hget(key, "origin") or b"").decode() == queue_name
            if not ours and key.startswith("rq:worker:") and connection.type(key) == b"hash":
                ours = queue_name in (connection.hget(key, "queues") or b"").decode()
                if ours:
                    workers.append(key)
            if ours:
                dropped += connection.delete(key)
        if workers:
            connection.srem("rq:workers", *workers)
        connection.srem("rq:queues", f"rq:queue:{queue_name}")
    finally:
        connection.close()
    return dropped


def jobs_run(log_text: str, queue_name: str) -> tuple[dict[str, int], set[str], list[str]]:
    """From a worker's log: how many jobs of each function it started, their ids, the errors raised."""
    started: dict[str, int] = {}
    ids: set[str] = set()
    for line in log_text.splitlines():
        found = re.search(rf": {re.escape(queue_name)}: (?:jobs\.\w+\.)?(\w+)\(.*\) \(([^()\s]+)\)\s*$", line)
        if found:
            started[found.group(1)] = started.get(found.group(1), 0) + 1
            ids.add(found.group(2))
    errors = [line for line in log_text.splitlines() if re.match(r"^[\w.]+(Error|Exception): ", line)]
    return started, ids, errors


def registered_workers(queue_name: str) -> int:
    from rq import Queue, Worker

    connection = redis_connection()
    try:
        return Worker.count(connection=connection, queue=Queue(queue_name, connection=connection))
    finally:
        connection.close()


def backend_pids(database: str) -> list[int]:
    """The PostgreSQL server processes connected to the bench database, other than this one's."""
    from sqlalchemy import text

    from app import db

    with db.engine().connect() as connection:
        return [pid for (pid,) in connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
            {"name": database})]


def allocate_round(database: Database, built: dict, workers: int, logs: Path, options) -> list[str]:
    """N `wms worker` processes allocate every order, handed over at once; figures and checks."""
    from sqlalchemy import text

    from app import db, tasks
    from app.outbound import allocation
    from tests.support.processes import start_worker

    queue_name = f"bench-outbound-{os.getpid()}-{workers}w"
    app = make_app(database.url, (REDIS_URL, queue_name))
    running = []
    job_ids: set[str] = set()
    lines: list[str] = []
    try:
        for k in range(workers):
            running.append(start_worker(database.url, REDIS_URL, logs, name=f"worker-{workers}w-{k}",
                                        RQ_QUEUE=queue_name, STARSHIPIT_API_KEY=None, STARSHIPIT_API_URL=None))
        deadline = time.monotonic() + 60
        while registered_workers(queue_name) < workers:
            if time.monotonic() > deadline or any(r.process.poll() is not None for r in running):
                raise SystemExit(f"the workers did not start:\n" + "\n".join(r.output()[-2000:] for r in running))
            time.sleep(0.2)
        time.sleep(1.0)  # their first upkeep (scheduler, poll) done before the clock starts
        trees = [pid for r in running for pid in process_tree(r.process.pid)]
        order_ids = built["order_ids"]
        with app.app_context():
            cpu_before, busy_before = cpu_seconds(trees), machine_busy()
            handed = datetime.now(UTC)
            began = time.perf_counter()
            if options.handover == "drain":
                allocation.wake_orders(order_ids)  # one ZADD of every id, one allocate_pending job
            else:
                for at in range(0, len(order_ids), allocation.BATCH):
                    tasks.enqueue(allocation.ALLOCATE_ORDERS, order_ids[at:at + allocation.BATCH])
            deadline = time.monotonic() + options.allocation_timeout
            last_left, moved_at = None, time.monotonic()
            while True:
                time.sleep(0.2)
                with db.engine().connect() as connection:
                    left = connection.execute(text("SELECT count(*) FROM sales_order WHERE status = 'PENDING'")).scalar()
                if not left:
                    break
                if left != last_left:
                    last_left, moved_at = left, time.monotonic()
                if time.monotonic() - moved_at > options.stall_seconds or time.monotonic() > deadline:
                    errors = sorted({e for r in running for e in jobs_run(r.output(), queue_name)[2]})
                    raise SystemExit(
                        f"allocation stalled ({options.handover} hand-over, {workers} worker(s)): {left:,} of "
                        f"{len(order_ids):,} orders still PENDING, none allocated in the last "
                        f"{time.monotonic() - moved_at:.0f} s; the workers' logs say: {errors or 'no error'}")
            polled = time.perf_counter() - began
            trees = [pid for r in running for pid in process_tree(r.process.pid)]  # the scheduler forks its own
            worker_cpu = cpu_seconds(trees) - cpu_before
            busy_after = machine_busy()
            backends = backend_pids(database.name)
            backend_cpu = sum(_cpu_seconds(pid) or 0 for pid in backends)
            with db.engine().connect() as connection:
                done_at = sorted(connection.execute(text("SELECT updated_at FROM sales_order")).scalars())
        for r in running:
            r.stop()
        runs = [jobs_run(r.output(), queue_name) for r in running]
        job_ids.update(i for _, ids, _ in runs for i in ids)
        errors = sorted({e for _, _, errs in runs for e in errs})
        function = "allocate_pending" if options.handover == "drain" else "allocate_orders"
        jobs = [started.get(function, 0) for started, _, _ in runs]
        running = []
        if errors:
            raise SystemExit(f"a worker's job failed: {errors}")

        count = len(order_ids)
        elapsed = [(t - handed).total_seconds() for t in done_at]
        wall = max(elapsed)
        tenth = elapsed[max(0, count // 10 - 1)]
        ninetieth = elapsed[max(0, count * 9 // 10 - 1)]
        middle = (count * 9 // 10 - count // 10) / max(1e-9, ninetieth - tenth)
        machine = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
        target = f" (target with 4 workers: {count:,} in < 10 s: {'met' if wall < 10 else 'missed'})" \
            if workers == 4 and count == 10_000 else ""
        lines.append(
            f"allocation, {workers} worker(s): {count:,} orders ({built['lines']:,} lines, {built['units']:,} units) in "
            f"{wall:.2f} s = {count / wall:,.0f} orders/s{target}; first tenth in {tenth:.2f} s, middle 80% at "
            f"{middle:,.0f} orders/s; worker CPU {worker_cpu / count * 1000:.2f} ms/order, PostgreSQL backends "
            f"{backend_cpu / count * 1000:.2f} ms/order ({len(backends)} connections); machine "
            f"{machine * 100:.0f}% busy; {function} jobs per worker {jobs} ({options.handover} hand-over); load average "
            f"{os.getloadavg()[0]:.1f} (polled done at {polled:.1f} s)")
        print(lines[-1], flush=True)
        with app.app_context():
            lines.append(check_allocated(count))
        print(lines[-1], flush=True)
    finally:
        for r in running:
            r.stop()
            job_ids.update(jobs_run(r.output(), queue_name)[1])
        dropped = drop_queue_keys(queue_name, job_ids)
        if "wms.engine" in app.extensions:
            app.extensions["wms.engine"].dispose()
        print(f"  (Redis db 15: {dropped} key(s) of queue {queue_name} deleted)", flush=True)
    return lines


def check_allocated(count: int) -> str:
    """Every order ALLOCATED, the ledger clean, each balance's allocated the sum of its allocations,
    each line's allocations its quantity; where the units came from."""
    from sqlalchemy import text

    from app import db, ledger

    with db.reading() as session:
        statuses = dict(session.execute(text("SELECT status, count(*) FROM sales_order GROUP BY status")).all())
        drifts = ledger.check(session)
        allocated, held = session.execute(text(
            "SELECT (SELECT coalesce(sum(allocated), 0) FROM stock_level), "
            "(SELECT coalesce(sum(quantity), 0) FROM allocation)")).one()
        uneven = session.execute(text(
            "SELECT count(*) FROM stock_level s LEFT JOIN (SELECT product_id, location_id, sum(quantity) q FROM "
            "allocation GROUP BY 1, 2) a USING (product_id, location_id) WHERE s.allocated <> coalesce(a.q, 0) "
            "OR s.allocated > s.on_hand OR s.allocated < 0")).scalar()
        short_lines = session.execute(text(
            "SELECT count(*) FROM order_line l LEFT JOIN (SELECT order_line_id, sum(quantity) q FROM allocation "
            "GROUP BY 1) a ON a.order_line_id = l.id WHERE coalesce(a.q, 0) <> l.quantity")).scalar()
        by_type = dict(session.execute(text(
            "SELECT l.type, sum(a.quantity) FROM allocation a JOIN location l ON l.id = a.location_id "
            "GROUP BY l.type")).all())
    problems = []
    if statuses != {"ALLOCATED": count}:
        problems.append(f"statuses {statuses}")
    if drifts:
        problems.append(f"ledger.check: {drifts[:5]}")
    if allocated != held or uneven:
        problems.append(f"allocated {allocated} against allocations {held}, {uneven} balance(s) off")
    if short_lines:
        problems.append(f"{short_lines} line(s) whose allocations differ from their quantity")
    if problems:
        raise SystemExit("allocation check failed: " + "; ".join(problems))
    total = sum(by_type.values())
    return (f"  checked: {count:,} of {count:,} orders ALLOCATED; ledger.check clean; allocated {int(allocated):,} = "
            f"sum of allocations {int(held):,} on every balance; every line covered; units from pick faces "
            f"{int(by_type.get('pick', 0)) / total * 100:.0f}%, storage {int(by_type.get('storage', 0)) / total * 100:.0f}%")


# -- 2. pick scans ---------------------------------------------------------------------------------


def make_jobs(built: dict, options, phase_no: int, used: set[int]) -> tuple[dict[str, list[int]], dict[int, str]]:
    """Pick jobs for each picker (batch for even pickers, single for odd), enough for its scans;
    totes made for them. ({username: [job ids]}, {job id: mode})."""
    from sqlalchemy import text

    from app import db
    from app.outbound import picking
    from app.warehouses import create_location, get_warehouse

    need = math.ceil((options.warm + options.scans) * 1.3) + 10  # units per picker, with room to spare
    with db.reading() as session:
        allocated = session.execute(text(
            "SELECT o.id, o.order_number, sum(l.quantity) FROM sales_order o JOIN order_line l ON l.order_id = o.id "
            "WHERE o.status = 'ALLOCATED' GROUP BY o.id ORDER BY o.created_at, o.id")).all()
    pool = [(number, units) for order_id, number, units in allocated if order_id not in used]
    ids = {number: order_id for order_id, number, _ in allocated}
    plans: dict[str, list[list[str]]] = {}
    mode_of: dict[str, str] = {}
    for user in range(options.users):
        name = f"picker{user:02d}"
        mode_of[name] = "batch" if user % 2 == 0 else "single"
        size = BATCH_ORDERS if mode_of[name] == "batch" else 1
        groups, units = [], 0
        while units < need:
            if len(pool) < size:
                raise SystemExit("not enough allocated orders left for the pickers' jobs: give more --orders")
            group, pool = pool[:size], pool[size:]
            groups.append([number for number, _ in group])
            units += sum(int(u) for _, u in group)
        plans[name] = groups
    totes_needed = sum(len(group) for groups in plans.values() for group in groups)

    def totes(session):
        site = get_warehouse(session, "MAIN")
        return [create_location(session, warehouse=site, code=f"T{phase_no}-{n:04d}", type="tote").code
                for n in range(totes_needed)]

    codes = iter(db.atomic(totes))
    jobs: dict[str, list[int]] = {}
    modes: dict[int, str] = {}
    for name, groups in plans.items():
        for group in groups:
            chosen = [next(codes) for _ in group]
            job = db.atomic(picking.create_pick_job, group, mode_of[name], chosen)
            jobs.setdefault(name, []).append(job["id"])
            modes[job["id"]] = mode_of[name]
            used.update(ids[number] for number in group)
    raw = db.engine().raw_connection()
    try:
        raw.driver_connection.autocommit = True
        raw.cursor().execute("ANALYZE")
    finally:
        raw.close()
    return jobs, modes


def picker(phone: Phone, base: str, jobs: list[int], mode: str, skus: int, scans: int, warm: int,
           mean_pause: float, seed: int, ready, go, out: list) -> None:
    """One picker working its jobs on the phone page, as picking/job.html and static/scan-queue.js
    send it: take, the page, the totes' labels, then location / product / quantity / tote per scan."""
    rng = random.Random(seed)
    _, listing, _ = phone.send("GET", "/picking/")  # the job list, once (the picker taps Take there)
    csrf = CSRF.search(listing).group(1)
    made, measuring = 0, False

    def keep(kind, status, took):
        if measuring:
            out.append((kind, status, took))

    for job_id in jobs:
        page_path = f"/picking/{job_id}"
        htmx = {"HX-Request": "true", "HX-Current-URL": base + page_path, "X-CSRFToken": csrf}
        status, body, took = phone.send("POST", f"{page_path}/take", [("csrf_token", csrf)])
        if status != 302:
            raise RuntimeError(f"take {job_id} answered {status}: {body[:300]}")
        keep("take job", status, took)
        status, page, took = phone.send("GET", page_path)
        keep("job page", status, took)
        totes = TOTE_ROW.findall(page)
        if status != 200 or not totes:
            raise RuntimeError(f"job page {job_id} answered {status} without totes to scan: {page[:300]}")
        for tote in totes:
            pause(rng, mean_pause)
            status, body, took = phone.send("POST", f"{page_path}/totes", [("csrf_token", csrf), ("tote", tote)],
                                            {**htmx, "HX-Target": "pick-log"})
            if status != 200:
                raise RuntimeError(f"tote {tote} answered {status}: {body[:300]}")
            keep("tote scan", status, took)
        status, page, took = phone.send("GET", page_path)  # the last tote's HX-Redirect
        keep("job page", status, took)
        stop = STOP.search(page)
        left = LEFT.search(page)
        while stop:
            if made == warm and not measuring:
                ready.wait()
                go.wait()
                measuring = True
            if made >= warm + scans:
                return
            location, stop_sku, tote = stop.groups()
            index = int(stop_sku.split("-")[1])
            product = stop_sku if rng.random() < 0.10 else ean13(index)
            remaining = int(left.group(1)) if left else 1
            quantity = str(remaining) if remaining > 1 and rng.random() < 0.10 else ""
            wrong = rng.random() < 1 / WRONG_EVERY
            if wrong:  # a location or product that no stop of this job can name
                if location.startswith("PF-") and rng.random() < 0.5:
                    product = ean13((index + rng.randint(1, 50)) % skus)  # a pick face holds one product
                else:
                    location = pick_face((index + rng.randint(1, 50)) % skus)  # another product's pick face
                quantity = ""
            fields = [("csrf_token", csrf), ("location", location), ("sku", product), ("quantity", quantity),
                      ("tote", tote)]
            status, body, took = phone.send("POST", f"{page_path}/pick", fields,
                                            {**htmx, "HX-Target": "pick-log", "HX-Trigger": "pick-form"})
            made += 1
            keep(f"pick scan, {mode}", status, took)
            if wrong:
                if status != 409 or 'data-testid="pick-refused"' not in body:
                    raise RuntimeError(f"a wrong scan ({location}, {product}) answered {status}: {body[:300]}")
            else:
                if status != 200 or 'data-testid="pick-done"' not in body:
                    raise RuntimeError(f"pick {location} {product} {tote} answered {status}: {body[:300]}")
                if 'id="stop" hx-swap-oob' in body:  # the answer carries the next stop, as the page swaps it in
                    part = body
                else:  # the page asks for it (a short's answer does)
                    status, part, took = phone.send("GET", f"{page_path}/stop",
                                                    headers={**htmx, "HX-Target": "stop", "HX-Trigger": "stop"})
                    if status != 200:
                        raise RuntimeError(f"the stop refresh answered {status}: {part[:300]}")
                    keep("stop refresh", status, took)
                stop, left = STOP.search(part), LEFT.search(part)
            pause(rng, mean_pause)
    if made < warm + scans:
        raise RuntimeError(f"ran out of pick work after {made} scans")


def client_process(url: str, group: list[dict], shared: dict, ready, go, results) -> None:
    """A few pickers, each on its own thread: sign in, then pick (warm-up, then measured on `go`)."""
    where = urlsplit(url)
    out: list = []
    failures: list[str] = []

    def run(job):
        try:
            phone = Phone(where.hostname, where.port)
            phone.sign_in(job["username"])
            picker(phone, url, job["jobs"], job["mode"], shared["skus"], shared["scans"], shared["warm"],
                   shared["pace"], job["seed"], ready, go, out)
        except BaseException as error:  # noqa: BLE001 - reported to the parent, which stops the run
            failures.append(f"{job['username']}: {error!r}")
            for barrier in (ready, go):
                barrier.abort()

    threads = [threading.Thread(target=run, args=(job,)) for job in group]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((out, failures))


def served(access: Path, start: int, end: int, modes: dict[int, str]) -> dict[str, list[tuple[int, float]]]:
    """(status, server seconds) per kind of request from the access log's bytes [start, end); pick
    scans also per job mode."""
    found: dict[str, list[tuple[int, float]]] = {}
    with access.open("rb") as log:
        log.seek(start)
        for line in log.read(end - start).decode().splitlines():
            parts = line.split()
            if len(parts) != 4:
                continue
            method, path, status, micros = parts
            for kind, (wanted, pattern) in KINDS.items():
                matched = pattern.match(path)
                if method == wanted and matched:
                    sample = (int(status), int(micros) / 1e6)
                    found.setdefault(kind, []).append(sample)
                    if kind == "pick scan":
                        found.setdefault(f"pick scan, {modes.get(int(matched.group(1)), '?')}", []).append(sample)
    return found


def pick_phase(server, access: Path, web_pids: list[int], built: dict, options, pace: float, phase_no: int,
               used: set[int]) -> tuple[list[str], dict]:
    """All pickers scanning at once at this pace; figures per request kind."""
    from app import db

    app = make_app(built["url"])
    with app.app_context():
        jobs, modes = make_jobs(built, options, phase_no, used)
        db.engine().dispose()
    users = options.users
    ready, go = SPAWN.Barrier(users + 1), SPAWN.Barrier(users + 1)
    results = SPAWN.Queue()
    shared = {"scans": options.scans, "warm": options.warm, "pace": pace, "skus": options.skus}
    work = [{"username": f"picker{u:02d}", "jobs": jobs[f"picker{u:02d}"], "mode": "batch" if u % 2 == 0 else "single",
             "seed": 1000 * phase_no + u} for u in range(users)]
    groups = [work[p::CLIENT_PROCESSES] for p in range(min(CLIENT_PROCESSES, users))]
    processes = [SPAWN.Process(target=client_process, args=(server.url, group, shared, ready, go, results))
                 for group in groups]
    for process in processes:
        process.start()
    try:
        ready.wait(timeout=300)
    except threading.BrokenBarrierError:
        pass
    start = settle(access, 0.3)
    cpu_before, busy_before = cpu_seconds(web_pids), machine_busy()
    began = time.perf_counter()
    try:
        go.wait(timeout=60)
    except threading.BrokenBarrierError:
        pass
    samples, failures = [], []
    for _ in processes:
        got, failed = results.get()
        samples += got
        failures += failed
    seconds = time.perf_counter() - began
    web_cpu = cpu_seconds(web_pids) - cpu_before
    busy_after = machine_busy()
    for process in processes:
        process.join()
    if failures:
        raise SystemExit("picking failed:\n" + "\n".join(failures[:10]) + "\n" + server.output()[-3000:])
    end = settle(access)
    on_server = served(access, start, end, modes)
    machine = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    what = "as fast as answers come" if pace == 0 else f"a scan every {pace:g} s (0.5-1.5x)"
    lines = []
    figures = {}
    client_kinds = {"pick scan": [s for s in samples if s[0].startswith("pick scan")]}
    for kind in ("pick scan", "pick scan, batch", "pick scan, single", "stop refresh", "tote scan", "job page",
                 "take job"):
        client = client_kinds.get(kind) or [s for s in samples if s[0] == kind]
        server_side = [took for _, took in on_server.get(kind, [])]
        if not client:
            continue
        statuses: dict[int, int] = {}
        for _, status, _ in client:
            statuses[status] = statuses.get(status, 0) + 1
        s_med, s_p95 = percentiles(server_side) if server_side else (float("nan"), float("nan"))
        c_med, c_p95 = percentiles([took for _, _, took in client])
        figures[kind] = (s_med, s_p95)
        note = "" if len(server_side) == len(client) else f" [access log has {len(server_side)} of {len(client)}]"
        extra = ""
        if kind == "pick scan":
            good = [took for status, took in on_server.get(kind, []) if status == 200]
            if good:
                g_med, g_p95 = percentiles(good)
                extra = f"; the good ones alone (200) median {ms(g_med)}, p95 {ms(g_p95)}"
            extra += f" (target p95 < 25 ms: {'met' if s_p95 < 0.025 else 'missed'})"
        lines.append(f"{kind:17} x{len(client):5} ({users} pickers, {what}): server median {ms(s_med)}, p95 "
                     f"{ms(s_p95)}; client median {ms(c_med)}, p95 {ms(c_p95)}; statuses "
                     f"{dict(sorted(statuses.items()))}{note}{extra}")
    requests = len(samples)
    scans = len(client_kinds["pick scan"])
    lines.append(f"{'':17} pick phase: {requests} requests ({scans} pick scans) in {seconds:.1f} s "
                 f"({scans / seconds:.1f} scans/s, {requests / seconds:.1f} requests/s); gunicorn CPU "
                 f"{web_cpu / max(1, requests) * 1000:.2f} ms per request; machine {machine * 100:.0f}% busy; "
                 f"load average {os.getloadavg()[0]:.1f}; {len(modes)} pick jobs "
                 f"({sum(1 for m in modes.values() if m == 'batch')} batch of {BATCH_ORDERS} orders, "
                 f"{sum(1 for m in modes.values() if m == 'single')} single)")
    for line in lines:
        print(line, flush=True)
    return lines, figures


def check_picked() -> str:
    """The ledger clean after picking, the totes holding exactly the picked allocations."""
    from sqlalchemy import text

    from app import db, ledger

    with db.reading() as session:
        drifts = ledger.check(session)
        in_totes, picked = session.execute(text(
            "SELECT (SELECT coalesce(sum(s.on_hand), 0) FROM stock_level s JOIN location l ON l.id = s.location_id "
            "WHERE l.type = 'tote'), (SELECT coalesce(sum(quantity), 0) FROM allocation WHERE picked)")).one()
        statuses = dict(session.execute(text("SELECT status, count(*) FROM sales_order GROUP BY status")).all())
        negative = session.execute(text("SELECT count(*) FROM stock_level WHERE on_hand < 0 OR allocated < 0 "
                                        "OR allocated > on_hand")).scalar()
    if drifts or in_totes != picked or negative:
        raise SystemExit(f"picking check failed: drifts {drifts[:5]}, totes hold {in_totes}, picked {picked}, "
                         f"{negative} balance(s) out of bounds")
    return (f"  checked: ledger.check clean; the totes hold {int(in_totes):,} units = the picked allocations; "
            f"orders {dict(sorted(statuses.items()))}")


# -- floors ---------------------------------------------------------------------------------------------


# -- the run -----------------------------------------------------------------------------------------


def run(options) -> list[str]:
    lines: list[str] = []
    logs = Path(tempfile.mkdtemp(prefix="wms-bench-outbound-"))
    before = floors() if options.floors else None
    if before:
        lines.append("floors before: " + before["text"].replace("\n", " | "))
    rates: dict[int, float] = {}
    pick_figures: dict[float, dict] = {}
    failed = True
    try:
        for round_no, workers in enumerate(options.workers):
            last = round_no == len(options.workers) - 1
            database = Database("postgres", options.postgres_url)
            server = None
            try:
                app = make_app(database.url)
                with app.app_context():
                    built = build(options, seed=7)
                    built["url"] = database.url
                    from app import db

                    db.engine().dispose()
                lines.append(
                    f"set-up ({workers} worker round): {options.skus:,} SKUs (EAN-13 each) on {options.skus:,} pick faces "
                    f"and {max(2, options.skus // 2):,} storage locations, {built['stock']:,} units in stock; "
                    f"{len(built['order_ids']):,} WMS orders PENDING, {built['lines']:,} lines, {built['units']:,} "
                    f"units ({built['seconds']:.0f} s)")
                print(lines[-1], flush=True)
                alloc = allocate_round(database, built, workers, logs, options)
                lines += alloc
                rates[workers] = float(re.search(r"= ([\d,]+) orders/s", alloc[0]).group(1).replace(",", ""))
                if last and options.scans and options.pace:
                    with app.app_context():
                        from app import db
                        from app.accounts import create_user
                        from app.models import Role

                        def people(session):
                            for n in range(options.users):
                                create_user(session, username=f"picker{n:02d}", password=PASSWORD, role=Role.PICKER)

                        db.atomic(people)
                        db.engine().dispose()
                    server, access = start_server(database.url, logs, options.web_workers)
                    web_pids = wait_for_workers(server.process.pid, options.web_workers)
                    lines.append(f"gunicorn: {options.web_workers} sync workers, PostgreSQL, Redis off; "
                                 f"{os.cpu_count()} cores shared with {min(CLIENT_PROCESSES, options.users)} client "
                                 f"processes")
                    print(lines[-1], flush=True)
                    used: set[int] = set()
                    for phase_no, pace in enumerate(options.pace, start=1):
                        got, figures = pick_phase(server, access, web_pids, built, options, pace, phase_no, used)
                        lines += got
                        pick_figures[pace] = figures
                    server.stop()
                    server = None
                    with app.app_context():
                        lines.append(check_picked())
                        from app import db

                        db.engine().dispose()
                    print(lines[-1], flush=True)
            finally:
                if server is not None:
                    server.stop()
                database.drop()
        failed = False
    finally:
        if failed or options.keep_logs:
            print(f"logs kept in {logs}", flush=True)
        else:
            shutil.rmtree(logs, ignore_errors=True)
    if options.floors:
        after = floors()
        lines.append("floors after: " + after["text"].replace("\n", " | "))
        sql = (before["sql"] + after["sql"]) / 2
        http = (before["http"] + after["http"]) / 2
        for workers, rate in rates.items():
            lines.append(f"ratio: allocation with {workers} worker(s), orders/s / floor sql tps (mean of the two, "
                         f"{sql:,.0f}) = {rate / sql:.3f}")
        for pace, figures in pick_figures.items():
            if "pick scan" in figures:
                med, p95 = figures["pick scan"]
                lines.append(f"ratio: pick scan at pace {pace:g}, server median in floor requests (median / (1 / "
                             f"floor http, mean {http:,.0f} req/s)) = {med * http:.1f}; p95 = {p95 * http:.1f}")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,4", help="comma-separated `wms worker` counts, a fresh database each")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--skus", type=int, default=2_000)
    parser.add_argument("--users", type=int, default=20, help="simulated pickers scanning at once")
    parser.add_argument("--scans", type=int, default=120, help="measured pick scans per picker per pace; 0 skips picking")
    parser.add_argument("--warm", type=int, default=3, help="warm-up pick scans per picker before each pace (not measured)")
    parser.add_argument("--pace", default="1",
                        help="comma-separated mean pauses between a picker's scans, in seconds (0: no pause), "
                             "e.g. 1,0")
    parser.add_argument("--web-workers", type=int, default=5, help="gunicorn sync workers (the Procfile's default: 5)")
    parser.add_argument("--handover", choices=("drain", "batches"), default="drain",
                        help="drain: every order id handed over at once with allocation.wake_orders, as an order "
                             "event's commit does (one allocate_pending job drains them and wakes more); batches: "
                             "one jobs.allocation.allocate_orders job per 100 orders enqueued (what the drain runs "
                             "for each batch)")
    parser.add_argument("--stall-seconds", type=float, default=30,
                        help="stop when no order has been allocated for this long")
    parser.add_argument("--allocation-timeout", type=float, default=1800, help="seconds to wait for the allocation")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a database on the server to connect to; the bench creates and drops its own beside it",
    )
    parser.add_argument("--floors", action="store_true", help="run ../shared/bench/floors.sh before and after; ratios")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the workers', gunicorn's and the access logs (kept anyway when a run fails)")
    parser.add_argument("--quick", action="store_true",
                        help="small: 1,000 orders over 400 SKUs, 15 pick scans per picker at pace 0.5")
    options = parser.parse_args(argv)
    if options.quick:  # smaller defaults; what the command line gives still wins
        parser.set_defaults(orders=1_000, skus=400, scans=15, pace="0.5")
        options = parser.parse_args(argv)
    options.workers = [int(w) for w in options.workers.split(",") if w.strip()]
    options.pace = [float(p) for p in options.pace.split(",") if p.strip()]
    if not options.workers or min(options.workers) < 1:
        parser.error("--workers takes one or more counts of 1 or more")
    if options.skus < 10 or options.orders < 1 or options.users < 1:
        parser.error("give at least 10 SKUs, 1 order and 1 picker")
    print(
        f"outbound bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, python "
        f"{sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f} (other work on the machine skews every figure)",
        flush=True,
    )
    report = run(options)
    print("\nsummary")
    print("\n".join(report))


if __name__ == "__main__":
    main()
