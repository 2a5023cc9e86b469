"""Allocation with Redis: orders handed over after their transactions commit go into one pending
set and wake one drain job (jobs.allocation.allocate_pending), not a job each; stock arriving for an
awaiting order enqueues one retry job per product (the wake flag); an order going awaiting
schedules a sweep, and the sweep allocates what a lost job left behind. A real Redis (db 9, this
run's own queue name) and real databases."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from sqlmodel import select

from app import db
from app.inventory import adjust_stock
from app.models import Order
from app.outbound import allocation
from app.timeutil import utcnow
from tests.conftest import _seed_basics, make_app
from tests.test_allocation import floor, held, wms_order

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture
def redis_app(database_url):
    queue_name = f"allocation-test-{uuid.uuid4().hex[:8]}"  # this run's own keys: nothing else is flushed
    app = make_app(database_url, REDIS_URL=REDIS_URL, RQ_QUEUE=queue_name)
    connection = Redis.from_url(REDIS_URL)
    with app.app_context():
        _seed_basics()
        floor([("SKU-A", "P-01", 5)])
        yield app, Queue(queue_name, connection=connection)
    app.extensions["wms.engine"].dispose()
    for key in connection.scan_iter(f"*{queue_name}*"):
        connection.delete(key)
    connection.close()


def queued(queue) -> list[tuple[str, tuple]]:
    return [(job.func_name, job.args) for job in queue.get_jobs()]


def run_queued(queue) -> list:
    """What `wms worker --burst` would do with the queued jobs, in this process."""
    results = []
    while (job_id := queue.connection.lpop(queue.key)) is not None:
        results.append(Job.fetch(job_id.decode(), connection=queue.connection).perform())
    return results


def hand_over(order_id):
    db.atomic(lambda session: allocation.request(session, [order_id]))


def test_orders_committed_one_by_one_wake_one_drain_job_that_allocates_them_all(redis_app):
    _app, queue = redis_app
    ids = [wms_order(f"SO-{n}") for n in range(3)]
    for order_id in ids:
        hand_over(order_id)
    assert queued(queue) == [("jobs.allocation.allocate_pending", ())]
    assert [held(f"SO-{n}")[1] for n in range(3)] == ["PENDING"] * 3  # nothing ran in the requests
    assert run_queued(queue) == [{"ALLOCATED": 3}]
    assert [held(f"SO-{n}")[1] for n in range(3)] == ["ALLOCATED"] * 3
    hand_over(wms_order("SO-9"))  # the drain deleted its flag: the next order wakes another
    assert queued(queue) == [("jobs.allocation.allocate_pending", ())]


def test_stock_arriving_for_an_awaiting_order_enqueues_one_retry_that_allocates_it(redis_app):
    _app, queue = redis_app
    order_id = wms_order("SO-1", [("SKU-B", 2)])
    assert db.atomic(allocation.allocate_by_id, order_id).status == "AWAITING_STOCK"
    assert any(job_id.startswith("wms-allocation-sweep-") for job_id in queue.scheduled_job_registry.get_job_ids())
    db.atomic(adjust_stock, sku="SKU-B", location="S-01", quantity=1, reason="found")
    db.atomic(adjust_stock, sku="SKU-B", location="S-02", quantity=1, reason="found")  # the first job waits: no other
    [(name, args)] = queued(queue)
    assert name == "jobs.allocation.retry_awaiting"
    assert run_queued(queue) == [{"ALLOCATED": 1}]
    assert held("SO-1") == ({("SKU-B", "S-01"): 1, ("SKU-B", "S-02"): 1}, "ALLOCATED")


def test_the_sweep_allocates_what_lost_jobs_left_behind(redis_app):
    _app, queue = redis_app
    lost = wms_order("SO-1")  # handed over to a job Redis lost: still PENDING
    waiting = wms_order("SO-2", status="AWAITING_STOCK")  # stock is free but no retry ran

    def age(session):
        session.get(Order, lost).updated_at = utcnow() - timedelta(minutes=5)

    db.atomic(age)
    from jobs.allocation import sweep_awaiting

    assert sweep_awaiting() == {"ALLOCATED": 2}
    assert held("SO-1")[1] == held("SO-2")[1] == "ALLOCATED"
    with db.reading() as session:
        assert session.get(Order, waiting).status == "ALLOCATED"


def test_a_backlog_past_one_batch_wakes_another_job_and_every_order_is_allocated(redis_app, monkeypatch):
    _app, queue = redis_app
    monkeypatch.setattr(allocation, "BATCH", 2)  # three batches' worth of orders, as a burst of 250 would be
    db.atomic(adjust_stock, sku="SKU-A", location="P-01", quantity=10, reason="found")
    ids = [wms_order(f"SO-{n}") for n in range(5)]
    db.atomic(lambda session: allocation.request(session, ids))
    ran = run_queued(queue)  # the drain; its second batch wakes one more job, which takes what is left
    assert len(ran) == 2 and sum(sum(found.values()) for found in ran) == 5
    assert [held(f"SO-{n}")[1] for n in range(5)] == ["ALLOCATED"] * 5
