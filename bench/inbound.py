"""Inbound benchmark: receiving and count scans from 20 phones at once, and stocktake approval.

    .venv/bin/python bench/inbound.py                 # full size (about 8 minutes)
    .venv/bin/python bench/inbound.py --quick         # a short run to see that it works
    .venv/bin/python bench/inbound.py --users 20 --scans 120 --pace 1,0 --approval-lines 5000 --vary 10,100

Everything runs on PostgreSQL (a fresh database wms_bench_<pid> on the server, migrated
with app.migrate.upgrade and dropped afterwards, also on error).

Set-up, through the app's own functions except where said: one warehouse with 4 receiving docks
and 2,000 locations (storage and pick faces, 20 zones); 10,000 products, each with an EAN-13
barcode (inserted in bulk); opening stock in two homes per product plus 100,000 movements of
history, bulk-loaded as bench/ledger.py does (a simulation that never goes below zero, checked by
ledger.check); 20 pickers and a manager; one purchase order of 20 lines per picker beside 300
other open POs; one blind stocktake of 20 locations, one per picker; ANALYZE on every table.

1. Scans. The real app under gunicorn (sync workers, the Procfile's shape), an access log with
   each request's time in the worker (%(D)s: from the parsed request to the answer written).
   Each simulated user signs in (the login form), opens its page as a phone would, makes a few
   warm-up scans, then waits for the others; then all scan at once, each on its own thread over
   its own connections (sync workers close each one), in a few client processes:
   - receiving: the scan form of /receiving/po/<po> (POST .../scan with the htmx headers the page
     sends, the receipt being scanned carried along as its `line` inputs, answered with the log
     line and the receipt re-drawn; the phone keeps the receipt from each answer). Mostly product
     barcodes of the PO, some typed SKUs, some typed quantities, 1 in 25 a barcode nobody knows
     (a 404 the picker hears); every 25 scans the receipt is confirmed (posted, timed apart).
   - counting: the count form of /count/<row> (POST with HX-Request and X-CSRFToken, as
     static/count.js sends it): barcodes of what the ledger holds in the picker's location, now and
     then a product from elsewhere, some typed quantities.
   `--pace` gives each user's mean pause between scans, in seconds (each pause drawn between half
   and one and a half of it): 1 is a person with a handheld scanner, 0 is each phone sending its
   next scan the moment the answer comes (the 2 cores then saturate). Reported per kind of request:
   server time (access log) median and p95, client-observed latency median and p95, requests/s,
   gunicorn CPU per request, the machine's busy share.
2. Approval. With the server stopped: a blind stocktake over as many locations as give
   `--approval-lines` count lines (the last topped up with products found where the ledger holds
   none), counted through app.stocktakes (record_count_at, one transaction per location) and
   closed; a share (`--vary`) of the lines counted off what the ledger holds. Then
   db.atomic(stocktakes.approve) is timed, with the CPU of this process and of its PostgreSQL
   backend, and ledger.check() must be clean afterwards.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import percentiles, settle, start_server  # noqa: E402
from bench.ledger import Database, _backend_pid, _cpu_seconds, bulk_load, make_app, place, simulate  # noqa: E402
from bench.webhooks import cpu_seconds, machine_busy, wait_for_workers  # noqa: E402

SPAWN = multiprocessing.get_context("spawn")
PASSWORD = "bench-password-1"
DOCKS = 4
CLIENT_PROCESSES = 4
CONFIRM_EVERY = 25
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TALLY = re.compile(r'name="line" value="([^"]*)"')
KINDS = {  # request kind -> (method, path pattern) as the access log has it
    "receiving scan": ("POST", re.compile(r"^/receiving/po/[^/]+/scan$")),
    "receipt confirm": ("POST", re.compile(r"^/receiving/po/[^/]+/confirm$")),
    "count scan": ("POST", re.compile(r"^/count/\d+$")),
}


def sku(index: int) -> str:
    return f"INB-{index:05d}"


def ean13(index: int) -> str:
    """A valid EAN-13 (prefix 94) for product `index`."""
    body = f"94{index:010d}"
    total = sum(int(d) * (3 if n % 2 else 1) for n, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def po_number(user: int) -> str:
    return f"PO-BENCH-{user:02d}"


# -- set-up ----------------------------------------------------------------------------------------


def build(options) -> dict:
    """The warehouse, catalogue, stock, people, purchase orders and the count; what the phones need."""
    from sqlalchemy import text
    from sqlmodel import select

    from app import db, ledger
    from app.accounts import create_user
    from app.inbound.purchase_orders import create_purchase_order
    from app.models import LocationType, Product, ProductBarcode, Role, StocktakeLocation
    from app.scans import gtin_of
    from app.stocktakes import open_stocktake
    from app.warehouses import create_location, create_warehouse, virtual_location

    rng = random.Random(7)
    begun = time.perf_counter()

    def floor(session):
        site = create_warehouse(session, code="MAIN", name="Main warehouse")
        for n in range(1, DOCKS + 1):
            create_location(session, warehouse=site, code=f"DOCK-{n}", type="receiving", pick_sequence=n)
        locations = [
            create_location(session, warehouse=site, code=place(j), type="pick" if j % 2 else "storage",
                            zone=f"Z{j // 100}", pick_sequence=100 + j).id
            for j in range(options.locations)
        ]
        products = [Product(sku=sku(i), name=f"Bench product {i}") for i in range(options.products)]
        session.add_all(products)
        session.flush()
        session.add_all(ProductBarcode(product_id=p.id, barcode=ean13(i), gtin=gtin_of(ean13(i)))
                        for i, p in enumerate(products))
        virtual = {kind: virtual_location(session, site.id, kind).id
                   for kind in (LocationType.SUPPLIER, LocationType.CUSTOMER, LocationType.ADJUSTMENT)}
        return {"products": [p.id for p in products], "locations": locations, "virtual": virtual}

    made = db.atomic(floor)
    rows, balance = simulate(made, options.history, seed=11, opening=options.opening)
    bulk_load(db.engine(), rows, balance)
    with db.reading() as session:
        assert ledger.check(session) == [], "the bulk-loaded ledger is not consistent"
    del rows

    def people(session):
        pickers = [create_user(session, username=f"picker{n:02d}", password=PASSWORD, role=Role.PICKER).id
                   for n in range(options.users)]
        manager = create_user(session, username="manager", password=PASSWORD, role=Role.MANAGER).id
        return pickers, manager

    pickers, manager = db.atomic(people)

    # Each picker's PO: lines of products nobody else's PO has, ordered in plenty (the scans never
    # run out of room); beside them, other open POs of the same size.
    chosen = rng.sample(range(options.products), options.users * options.po_lines + options.other_pos * 10)
    orders = []
    for user in range(options.users):
        picks = chosen[user * options.po_lines:(user + 1) * options.po_lines]
        orders.append({"po": po_number(user), "lines": [(sku(i), ean13(i)) for i in picks]})
        db.atomic(create_purchase_order, po_number=po_number(user), supplier="Bench Supplies",
                  lines=[(sku(i), 5_000) for i in picks], warehouse="MAIN")
    rest = chosen[options.users * options.po_lines:]
    for n in range(options.other_pos):
        db.atomic(create_purchase_order, po_number=f"PO-OTHER-{n:04d}", supplier=f"Supplier {n % 17}",
                  lines=[(sku(i), rng.randint(10, 500)) for i in rest[n * 10:(n + 1) * 10]], warehouse="MAIN")

    # One blind stocktake of a location per picker, spread over the zones; what each holds.
    held: dict[int, list[int]] = {}
    for (product, loc), on_hand in balance.items():
        if on_hand > 0:
            held.setdefault(loc, []).append(product)
    index_of = {pid: i for i, pid in enumerate(made["products"])}
    spread = [made["locations"][(k * 97 + 13) % options.locations] for k in range(options.users)]
    codes = {loc: place(made["locations"].index(loc)) for loc in spread}
    opened = db.atomic(open_stocktake, locations=[codes[loc] for loc in spread], warehouse="MAIN", blind=True,
                       user_id=manager)
    with db.reading() as session:
        rows_of = dict(session.exec(select(StocktakeLocation.location_id, StocktakeLocation.id)
                                    .where(StocktakeLocation.stocktake_id == opened["id"])).all())
    counts = [{"row": rows_of[loc], "location": codes[loc],
               "here": [ean13(index_of[p]) for p in held.get(loc, [])]} for loc in spread]

    raw = db.engine().raw_connection()
    try:
        raw.driver_connection.autocommit = True
        raw.cursor().execute("ANALYZE")
    finally:
        raw.close()
    with db.reading() as session:
        total = session.execute(text("SELECT count(*) FROM movement")).scalar()
    return {
        "orders": orders, "counts": counts, "manager": manager, "pickers": pickers, "floor": made,
        "count_stocktake": opened["id"], "count_locations": set(spread), "movements": total,
        "seconds": time.perf_counter() - begun,
    }


# -- the phones ------------------------------------------------------------------------------------


class Phone:
    """One person's browser: cookies kept, a new connection per request (sync workers close it)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, fields: list[tuple[str, str]] | None = None,
             headers: dict | None = None) -> tuple[int, str, float]:
        body = urlencode(fields) if fields is not None else None
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        begun = time.perf_counter()
        connection.request(method, path, body=body, headers=sent)
        answer = connection.getresponse()
        data = answer.read()
        took = time.perf_counter() - begun
        connection.close()
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if value:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        return answer.status, data.decode("utf-8", "replace"), took

    def sign_in(self, username: str) -> None:
        _, page, _ = self.send("GET", "/login")
        status, _, _ = self.send("POST", "/login", [("csrf_token", CSRF.search(page).group(1)),
                                                    ("username", username), ("password", PASSWORD)])
        if status != 302:
            raise RuntimeError(f"{username} could not sign in: {status}")


def pause(rng: random.Random, mean: float) -> None:
    if mean > 0:
        time.sleep(rng.uniform(0.5 * mean, 1.5 * mean))


def receiver(phone: Phone, base: str, order: dict, scans: int, warm: int, mean_pause: float, seed: int,
             ready, go, out: list) -> None:
    """One picker receiving its PO by scanning, as receiving/po.html and static/scan-queue.js send it."""
    rng = random.Random(seed)
    page_path = f"/receiving/po/{order['po']}"
    status, page, _ = phone.send("GET", page_path)
    if status != 200:
        raise RuntimeError(f"the receiving page answered {status}")
    csrf = CSRF.search(page).group(1)
    location = re.search(r'id="location" value="([^"]*)"', page).group(1)
    scan_headers = {"HX-Request": "true", "HX-Current-URL": base + page_path, "HX-Target": "scan-log",
                    "HX-Trigger": "scan-form", "X-CSRFToken": csrf}
    confirm_headers = {**scan_headers, "HX-Target": "receiving-panel", "HX-Trigger": "confirm-form"}
    tally: list[str] = []
    since_confirm = 0
    for n in range(warm + scans):
        if n == warm:
            ready.wait()
            go.wait()
        roll = rng.random()
        line_sku, barcode = rng.choice(order["lines"])
        # 1 in 25 a barcode nobody knows (prefix 95: the catalogue's are 94), some typed SKUs
        product = f"95{rng.randrange(10**11):011d}" if roll < 0.04 else line_sku if roll < 0.10 else barcode
        quantity = str(rng.randint(2, 24)) if rng.random() < 0.15 else "1"
        fields = [("csrf_token", csrf), ("product", product), ("quantity", quantity)] + [("line", t) for t in tally]
        status, body, took = phone.send("POST", f"{page_path}/scan", fields, scan_headers)
        if status == 200:
            tally = TALLY.findall(body)
        elif status >= 500 or roll >= 0.04:
            raise RuntimeError(f"scan {product} answered {status}: {body[:300]}")
        if n >= warm:
            out.append(("receiving scan", status, took))
        since_confirm += 1
        if since_confirm >= CONFIRM_EVERY and tally:
            pause(rng, mean_pause)
            fields = [("csrf_token", csrf), ("location", location)] + [("line", t) for t in tally]
            status, body, took = phone.send("POST", f"{page_path}/confirm", fields, confirm_headers)
            if status != 200 or 'data-testid="receipt-done"' not in body:
                raise RuntimeError(f"confirm answered {status}: {body[:300]}")
            if n >= warm:
                out.append(("receipt confirm", status, took))
            tally, since_confirm = [], 0
        pause(rng, mean_pause)


def counter(phone: Phone, base: str, count: dict, elsewhere: list[str], scans: int, warm: int, mean_pause: float,
            seed: int, ready, go, out: list) -> None:
    """One picker counting its location blind, as stocktakes/count.html and static/count.js send it."""
    rng = random.Random(seed)
    path = f"/count/{count['row']}"
    status, page, _ = phone.send("GET", path)
    if status != 200:
        raise RuntimeError(f"the count page answered {status}")
    csrf = CSRF.search(page).group(1)
    headers = {"HX-Request": "true", "X-CSRFToken": csrf}
    here = count["here"] or elsewhere[:1]
    for n in range(warm + scans):
        if n == warm:
            ready.wait()
            go.wait()
        product = rng.choice(elsewhere) if rng.random() < 0.05 else rng.choice(here)
        quantity = str(rng.randint(2, 12)) if rng.random() < 0.10 else "1"
        status, body, took = phone.send("POST", path, [("csrf_token", csrf), ("product", product),
                                                      ("quantity", quantity)], headers)
        if status != 201:
            raise RuntimeError(f"count scan {product} answered {status}: {body[:300]}")
        if n >= warm:
            out.append(("count scan", status, took))
        pause(rng, mean_pause)


def client_process(url: str, kind: str, jobs: list[dict], options: dict, ready, go, results) -> None:
    """A few users, each on its own thread: sign in, open the page, warm up, then scan on `go`."""
    from urllib.parse import urlsplit

    where = urlsplit(url)
    out: list = []
    failures: list[str] = []

    def run(job):
        try:
            phone = Phone(where.hostname, where.port)
            phone.sign_in(job["username"])
            if kind == "receiving":
                receiver(phone, url, job["order"], options["scans"], options["warm"], options["pace"], job["seed"],
                         ready, go, out)
            else:
                counter(phone, url, job["count"], options["elsewhere"], options["scans"], options["warm"],
                        options["pace"], job["seed"], ready, go, out)
        except BaseException as error:  # noqa: BLE001 - reported to the parent, which stops the run
            failures.append(f"{job['username']}: {error!r}")
            for barrier in (ready, go):
                barrier.abort()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((out, failures))


# -- the server ------------------------------------------------------------------------------------


def served(access: Path, start: int, end: int) -> dict[str, list[tuple[int, float]]]:
    """(status, server seconds) per kind of request, from the access log's bytes [start, end)."""
    found: dict[str, list[tuple[int, float]]] = {kind: [] for kind in KINDS}
    with access.open("rb") as log:
        log.seek(start)
        for line in log.read(end - start).decode().splitlines():
            parts = line.split()
            if len(parts) != 4:
                continue
            method, path, status, micros = parts
            for kind, (wanted, pattern) in KINDS.items():
                if method == wanted and pattern.match(path):
                    found[kind].append((int(status), int(micros) / 1e6))
    return found


def phase(server, access: Path, web_pids: list[int], built: dict, kind: str, pace: float, options,
          round_: int) -> list[str]:
    """All users scanning at once (receiving or counting) at this pace; figures per request kind."""
    users = options.users
    ready, go = SPAWN.Barrier(users + 1), SPAWN.Barrier(users + 1)
    results = SPAWN.Queue()
    elsewhere = [ean13(i) for i in random.Random(5).sample(range(options.products), 50)]
    shared = {"scans": options.scans, "warm": options.warm, "pace": pace, "elsewhere": elsewhere}
    jobs = [{"username": f"picker{u:02d}", "order": built["orders"][u], "count": built["counts"][u],
             "seed": 1000 * round_ + u} for u in range(users)]
    groups = [jobs[p::CLIENT_PROCESSES] for p in range(min(CLIENT_PROCESSES, users))]
    processes = [SPAWN.Process(target=client_process, args=(server.url, kind, group, shared, ready, go, results))
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
        raise SystemExit(f"{kind} failed:\n" + "\n".join(failures[:10]) + "\n" + server.output()[-3000:])
    end = settle(access)
    on_server = served(access, start, end)
    machine = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    requests = len(samples)
    lines = []
    what = "as fast as answers come" if pace == 0 else f"a scan every {pace:g} s (0.5-1.5x)"
    for name in KINDS:
        client = [took for k, _, took in samples if k == name]
        server_side = [took for _, took in on_server[name]]
        if not client:
            continue
        statuses: dict[int, int] = {}
        for k, status, _ in samples:
            if k == name:
                statuses[status] = statuses.get(status, 0) + 1
        s_med, s_p95 = percentiles(server_side) if server_side else (float("nan"), float("nan"))
        c_med, c_p95 = percentiles(client)
        note = "" if len(server_side) == len(client) else f" [access log has {len(server_side)} of {len(client)}]"
        lines.append(
            f"{name:15} x{len(client):5} ({users} users, {what}): server median {s_med * 1000:6.2f} ms, "
            f"p95 {s_p95 * 1000:6.2f} ms; client median {c_med * 1000:6.2f} ms, p95 {c_p95 * 1000:6.2f} ms; "
            f"statuses {dict(sorted(statuses.items()))}{note}"
        )
    lines.append(
        f"{'':15} {kind} phase: {requests} requests in {seconds:.1f} s ({requests / seconds:.0f}/s); gunicorn CPU "
        f"{web_cpu / max(1, requests) * 1000:.2f} ms per request; machine {machine * 100:.0f}% busy; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for line in lines:
        print(line, flush=True)
    return lines


# -- approval ----------------------------------------------------------------------------------------


def approval(built: dict, lines_wanted: int, vary: float, seed: int) -> str:
    """A stocktake of `lines_wanted` count lines, `vary`% of them off the ledger, counted and
    closed through app.stocktakes; the approval timed."""
    from sqlmodel import func, select

    from app import db, ledger, stocktakes
    from app.models import Location, Movement, Product, StockLevel, StocktakeLocation
    from app.stocktakes.counting import close_location_at, record_count_at

    rng = random.Random(seed)
    with db.reading() as session:
        holding: dict[int, list[tuple[str, int]]] = {}
        for loc, code_sku, on_hand in session.exec(
            select(StockLevel.location_id, Product.sku, StockLevel.on_hand)
            .join(Product, Product.id == StockLevel.product_id)
            .where(StockLevel.on_hand > 0)
        ):
            holding.setdefault(loc, []).append((code_sku, on_hand))
        codes = dict(session.exec(select(Location.id, Location.code)
                                  .where(Location.id.in_(built["floor"]["locations"]))).all())
    candidates = [loc for loc in built["floor"]["locations"] if loc not in built["count_locations"] and loc in holding]
    rng.shuffle(candidates)
    chosen, total = [], 0
    for loc in candidates:
        if total + len(holding[loc]) > lines_wanted:
            continue
        chosen.append(loc)
        total += len(holding[loc])
        if total == lines_wanted:
            break
    # Top up with products found where the ledger holds none (expected 0).
    extra: dict[int, list[tuple[str, int]]] = {}
    all_skus = [sku(i) for i in range(len(built["floor"]["products"]))]
    while total < lines_wanted:
        loc = rng.choice(chosen)
        found = rng.choice(all_skus)
        if found in {s for s, _ in holding[loc]} or found in {s for s, _ in extra.get(loc, [])}:
            continue
        extra.setdefault(loc, []).append((found, 0))
        total += 1
    opened = db.atomic(stocktakes.open_stocktake, locations=[codes[loc] for loc in chosen], warehouse="MAIN",
                       blind=True, user_id=built["manager"])
    with db.reading() as session:
        row_of = dict(session.exec(select(StocktakeLocation.location_id, StocktakeLocation.id)
                                   .where(StocktakeLocation.stocktake_id == opened["id"])).all())
    varied = 0
    begun = time.perf_counter()
    for n, loc in enumerate(chosen):
        user = built["pickers"][n % len(built["pickers"])]
        counts = []
        for code_sku, on_hand in holding[loc] + extra.get(loc, []):
            counted = on_hand
            if on_hand == 0:
                counted = rng.randint(1, 3)
            elif rng.random() * 100 < vary:
                counted = max(0, on_hand + rng.choice([-3, -2, -1, 1, 2, 3]))
                counted = counted if counted != on_hand else on_hand + 1
            varied += counted != on_hand
            counts.append((code_sku, counted))

        def count_here(session, row=row_of[loc], counts=counts, user=user):
            for code_sku, counted in counts:
                record_count_at(session, row, product=code_sku, counted=counted, user_id=user)
            close_location_at(session, row, user_id=user)

        db.atomic(count_here)
    counted_in = time.perf_counter() - begun

    backend = db.atomic(_backend_pid)
    with db.reading() as session:
        before = session.exec(select(func.count()).select_from(Movement)).one()
    cpu, server_cpu = time.process_time(), _cpu_seconds(backend)
    begun = time.perf_counter()
    approved = db.atomic(stocktakes.approve, opened["id"], user_id=built["manager"])
    took = time.perf_counter() - begun
    cpu = time.process_time() - cpu
    server_cpu = None if server_cpu is None else _cpu_seconds(backend) - server_cpu
    begun = time.perf_counter()
    with db.reading() as session:
        drifts = ledger.check(session)
        after = session.exec(select(func.count()).select_from(Movement)).one()
    checked = time.perf_counter() - begun
    if drifts:
        raise SystemExit(f"the ledger drifted after approval: {drifts[:5]}")
    assert approved.lines == lines_wanted, (approved.lines, lines_wanted)
    server = f", PostgreSQL backend CPU {server_cpu:.2f} s" if server_cpu is not None else ""
    line = (f"approve  {approved.lines:,} count lines ({varied:,} off the ledger, {vary:g}% asked; {len(chosen)} "
            f"locations): {took:.2f} s; {len(approved.adjustments):,} adjustments, {after - before:,} movements, "
            f"{len(approved.not_posted)} not posted; client CPU {cpu:.2f} s{server}; ledger.check clean in "
            f"{checked:.1f} s over {after:,} movements (counting them took {counted_in:.1f} s)")
    print(line, flush=True)
    return line


# -- the run -----------------------------------------------------------------------------------------


def run(options) -> list[str]:
    lines: list[str] = []
    database = Database("postgres", options.postgres_url)
    logs = Path(tempfile.mkdtemp(prefix="wms-bench-inbound-"))
    server = None
    try:
        app = make_app(database.url)
        with app.app_context():
            built = build(options)
            lines.append(
                f"set-up: {options.products:,} products (EAN-13 each), {options.locations:,} locations + {DOCKS} docks, "
                f"{built['movements']:,} movements; {options.users} pickers, {options.users} POs of {options.po_lines} "
                f"lines + {options.other_pos} other open POs; a blind count of {options.users} locations "
                f"({built['seconds']:.0f} s)"
            )
            print(lines[-1], flush=True)
            from app import db

            db.engine().dispose()
        if options.scans:
            server, access = start_server(database.url, logs, options.workers)
            web_pids = wait_for_workers(server.process.pid, options.workers)
            lines.append(f"gunicorn: {options.workers} sync workers, PostgreSQL, Redis off; {os.cpu_count()} cores "
                         f"shared with {min(CLIENT_PROCESSES, options.users)} client processes")
            print(lines[-1], flush=True)
            round_ = 0
            for pace in options.pace:
                for kind in options.phases:
                    round_ += 1
                    lines += phase(server, access, web_pids, built, kind, pace, options, round_)
            server.stop()
            server = None
        with app.app_context():
            for repeat in range(options.approvals):
                for vary in options.vary:
                    lines.append(approval(built, options.approval_lines, vary, seed=100 + repeat))
            from app import db

            db.engine().dispose()
        if not options.keep_logs:
            shutil.rmtree(logs, ignore_errors=True)
        else:
            lines.append(f"logs kept in {logs}")
    finally:
        if server is not None:
            server.stop()
        database.drop()
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="simulated pickers scanning at once")
    parser.add_argument("--scans", type=int, default=120, help="measured scans per user per phase; 0 skips scanning")
    parser.add_argument("--warm", type=int, default=3, help="warm-up scans per user before each phase (not measured)")
    parser.add_argument("--pace", default="1,0",
                        help="comma-separated mean pauses between a user's scans, in seconds (0: no pause)")
    parser.add_argument("--phases", default="receiving,counting",
                        help="comma-separated scanning phases to run: receiving, counting (default both)")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers (the Procfile's default: 5)")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=2_000)
    parser.add_argument("--opening", type=int, default=40, help="units received into each product's two homes")
    parser.add_argument("--history", type=int, default=100_000, help="movements of history bulk-loaded after it")
    parser.add_argument("--po-lines", type=int, default=20, help="lines on each picker's purchase order")
    parser.add_argument("--other-pos", type=int, default=300, help="other open purchase orders (10 lines each)")
    parser.add_argument("--approval-lines", type=int, default=5_000, help="count lines in each approved stocktake")
    parser.add_argument("--vary", default="10,100", help="comma-separated shares (%%) of lines counted off the ledger")
    parser.add_argument("--approvals", type=int, default=1, help="approvals per --vary share")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a database on the server to connect to; the bench creates and drops its own beside it",
    )
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep gunicorn's logs and the access log (kept anyway when a run fails)")
    parser.add_argument("--quick", action="store_true",
                        help="small: 20 scans per user, pace 0.5 only, 2,000 products, 1,000 locations, 50 other POs, "
                             "20,000 movements of history")
    options = parser.parse_args(argv)
    if options.quick:  # smaller defaults; what the command line gives still wins
        parser.set_defaults(scans=20, pace="0.5", products=2_000, other_pos=50, history=20_000, locations=1_000)
        options = parser.parse_args(argv)
    options.pace = [float(p) for p in options.pace.split(",") if p.strip()]
    options.phases = [kind.strip() for kind in options.phases.split(",") if kind.strip()]
    if not options.phases or set(options.phases) - {"receiving", "counting"}:
        parser.error("--phases takes receiving and/or counting")
    options.vary = [float(v) for v in options.vary.split(",") if v.strip()]
    if options.users < 1 or options.users * options.po_lines + options.other_pos * 10 > options.products:
        parser.error("not enough products for the users' and the other purchase orders' lines")
    print(
        f"inbound bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, python "
        f"{sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f} (other work on the machine skews every figure)",
        flush=True,
    )
    report = run(options)
    print("\nsummary")
    print("\n".join(report))


if __name__ == "__main__":
    main()
