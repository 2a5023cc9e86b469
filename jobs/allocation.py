"""Jobs for outbound allocation (app.outbound.allocation): allocate a batch of orders; drain the
orders handed over with Redis a batch at a time; retry the orders awaiting a product that has
just arrived; sweep for what a lost job left behind. Enqueued by name from app.outbound.allocation.

All expect an app context: `wms worker` runs jobs inside one; without Redis they run in-process.
A batch of orders is allocated in one transaction (its orders' rows, then every balance it may take
from, locked once: bench/outbound.py measured the transaction per order at 142 orders/s with four
workers); a retry or a sweep of one order takes a transaction of its own.
"""
from __future__ import annotations

import logging
import time
from collections import Counter

log = logging.getLogger(__name__)


def _allocate_one(order_id: int) -> str:
    from app import db
    from app.errors import WmsError
    from app.outbound import allocation

    try:
        done = db.atomic(allocation.allocate_by_id, int(order_id))
    except WmsError as error:  # refused as it stands (e.g. a ledger bound): the sweep tries it again
        log.warning("order id %s not allocated: %s", order_id, error)
        return allocation.SKIPPED
    return allocation.SKIPPED if done is None else done.status


def allocate_orders(order_ids: list[int]) -> dict:
    """Allocate these orders, oldest (lowest id) first, a batch (allocation.BATCH) per transaction:
    how many ended ALLOCATED, AWAITING_STOCK or skipped (no longer allocatable, or gone). A batch
    refused as a whole (one order's line passing a ledger bound, say) is allocated again one order
    per transaction, so that one order's refusal does not hold up the others."""
    from app import db
    from app.errors import WmsError
    from app.outbound import allocation

    ids = sorted({int(i) for i in order_ids})
    found: Counter = Counter()
    for at in range(0, len(ids), allocation.BATCH):
        batch = ids[at:at + allocation.BATCH]
        try:
            found.update(db.atomic(allocation.allocate_batch, batch))
        except WmsError as error:
            log.warning("a batch of %s orders was refused as a whole (%s): one order at a time", len(batch), error)
            found.update(_allocate_one(order_id) for order_id in batch)
    return dict(found)


def allocate_pending(seconds: float | None = None) -> dict:
    """Allocate the orders handed over with Redis (app.outbound.allocation.wake_orders), a batch at
    a time, until none is left. The wake flag is deleted first, so an order added afterwards wakes
    another job (the argument of app.orders.inbox.wake); on its second batch the job wakes one more
    so that a backlog is shared by the workers; after `seconds` it hands over to a fresh job."""
    from app.outbound import allocation

    allocation.clear_wake()
    deadline = time.monotonic() + (allocation.JOB_SECONDS if seconds is None else seconds)
    found: Counter = Counter()
    batches = 0
    while True:
        ids = allocation.take_pending(allocation.BATCH)
        if not ids:
            return dict(found)
        batches += 1
        if batches == 2:
            allocation.wake_orders([])  # a backlog: one more job for the next free worker
        found.update(allocate_orders(ids))
        if time.monotonic() > deadline:
            allocation.wake_orders([])
            return dict(found)


def retry_awaiting(warehouse_id: int, product_id: int) -> dict:
    """Stock of a product arrived (or was released) in a warehouse: its orders AWAITING_STOCK, oldest
    first, while free stock of it is left (an order it cannot fill is passed over)."""
    from app import db
    from app.outbound import allocation

    warehouse_id, product_id = int(warehouse_id), int(product_id)
    allocation.clear_retry_wake(warehouse_id, product_id)  # before reading: a later arrival wakes another
    found: Counter = Counter()
    with db.reading() as session:
        waiting = allocation.awaiting_orders(session, warehouse_id, product_id)
    for order_id in waiting:
        with db.reading() as session:
            if allocation.free_in_warehouse(session, warehouse_id, product_id) <= 0:
                break
        found[_allocate_one(order_id)] += 1
    return dict(found)


def sweep_awaiting() -> dict:
    """The safety net: retry every (warehouse, product) that orders await and that has free stock,
    and allocate the WMS orders left PENDING (a job lost with Redis); with Redis the next sweep is
    scheduled while any order still awaits stock."""
    from app import db
    from app.outbound import allocation

    with db.reading() as session:
        pairs, pending = allocation.sweep_candidates(session)
    found: Counter = Counter()
    if pending:
        found.update(allocate_orders(pending))
    for warehouse_id, product_id in pairs:
        found.update(retry_awaiting(warehouse_id, product_id))
    with db.reading() as session:
        still = allocation.any_awaiting(session)
    if still:
        allocation.schedule_sweep()
    return dict(found)
