"""Work for real OS processes (multiprocessing, spawn) that hammer the ledger at once.

Each function runs in its own process with its own app (tests.conftest.make_app)
and reports back through a queue; run_processes() starts them and collects the
results, re-raising any worker's failure with its traceback.
"""
from __future__ import annotations

import multiprocessing
import random
import traceback

SPAWN = multiprocessing.get_context("spawn")


def run_processes(target, args_per_process: list[tuple], timeout: float = 120.0) -> list:
    """Start one process per args tuple (plus a shared barrier and result queue), return their results."""
    barrier = SPAWN.Barrier(len(args_per_process))
    results = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=_report, args=(index, target, args, barrier, results))
        for index, args in enumerate(args_per_process)
    ]
    for process in processes:
        process.start()
    collected = {}
    try:
        for _ in processes:
            index, ok, value = results.get(timeout=timeout)
            if not ok:
                raise AssertionError(f"worker {index} failed:\n{value}")
            collected[index] = value
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    return [collected[i] for i in range(len(processes))]


def _report(index, target, args, barrier, results):
    try:
        results.put((index, True, target(*args, barrier=barrier)))
    except BaseException:
        results.put((index, False, traceback.format_exc()))


def _app(database_url):
    from tests.conftest import make_app

    return make_app(database_url)


def hammer(database_url: str, seed: int, operations: int, skus: list[str], places: list[str], *, barrier) -> dict:
    """Random transfers, adjustments (both signs), allocations, releases and shipments of
    allocated stock. Returns what was done and refused, and the net units this process
    added to the building (adjustments in, minus adjustments out and shipments)."""
    from app import db, ledger
    from app.catalog import get_product
    from app.inventory import adjust_stock, transfer_stock
    from app.models import Allocation, Location, LocationType, MovementType
    from app.warehouses import find_location, get_warehouse, virtual_location

    rng = random.Random(seed)
    app = _app(database_url)
    done: dict[str, int] = {}
    refused: dict[str, int] = {}
    net = 0
    mine: list[int] = []  # ids of this process's open allocations

    def allocate(session, sku, place, quantity):
        site = get_warehouse(session)
        return ledger.allocate(
            session,
            product_id=get_product(session, sku).id,
            location=find_location(session, site.id, place),
            quantity=quantity,
            reference=f"P{seed}",
        ).id

    def release(session, allocation_id, quantity):
        return ledger.release(session, session.get(Allocation, allocation_id), quantity)

    def ship(session, allocation_id, quantity):
        allocation = session.get(Allocation, allocation_id)
        site = get_warehouse(session)
        take = min(quantity, allocation.quantity)
        ledger.post(
            session,
            type=MovementType.SHIPMENT,
            product_id=allocation.product_id,
            quantity=take,
            from_location=session.get(Location, allocation.location_id),
            to_location=virtual_location(session, site.id, LocationType.CUSTOMER),
            allocation=allocation,
            reference=f"P{seed}",
        )
        return take, allocation.quantity

    with app.app_context():
        barrier.wait()
        for _ in range(operations):
            sku, place = rng.choice(skus), rng.choice(places)
            roll = rng.random()
            try:
                if roll < 0.35:
                    kind = "transfer"
                    other = rng.choice([p for p in places if p != place])
                    db.atomic(transfer_stock, sku=sku, from_location=place, to_location=other, quantity=rng.randint(1, 6))
                elif roll < 0.65:
                    kind = "adjust"
                    quantity = rng.choice([-1, 1]) * rng.randint(1, 6)
                    db.atomic(adjust_stock, sku=sku, location=place, quantity=quantity, reason="correction")
                    net += quantity
                elif roll < 0.82 or not mine:
                    kind = "allocate"
                    mine.append(db.atomic(allocate, sku, place, rng.randint(1, 4)))
                elif roll < 0.93:
                    kind = "release"
                    allocation_id = rng.choice(mine)
                    db.atomic(release, allocation_id, None)
                    mine.remove(allocation_id)
                else:
                    kind = "ship"
                    allocation_id = rng.choice(mine)
                    shipped, left = db.atomic(ship, allocation_id, rng.randint(1, 4))
                    net -= shipped
                    if left == 0:
                        mine.remove(allocation_id)
            except ledger.InsufficientStock:
                refused[kind] = refused.get(kind, 0) + 1
            else:
                done[kind] = done.get(kind, 0) + 1
    app.extensions["wms.engine"].dispose()
    return {"done": done, "refused": refused, "net": net}


def grab(database_url: str, sku: str, rounds: list[tuple[str, int]], *, barrier) -> list[int]:
    """For each (location, quantity): wait for the other processes, then allocate
    `quantity` there again and again until refused. Returns the units won per round."""
    from app import db, ledger
    from app.catalog import get_product
    from app.warehouses import find_location, get_warehouse

    app = _app(database_url)

    def allocate(session, place, quantity):
        site = get_warehouse(session)
        ledger.allocate(
            session,
            product_id=get_product(session, sku).id,
            location=find_location(session, site.id, place),
            quantity=quantity,
        )

    won = []
    with app.app_context():
        for place, quantity in rounds:
            barrier.wait()
            units = 0
            while True:
                try:
                    db.atomic(allocate, place, quantity)
                except ledger.InsufficientStock:
                    break
                units += quantity
            won.append(units)
    app.extensions["wms.engine"].dispose()
    return won
