"""Replenishment with Redis: a movement below a pick face's minimum enqueues one check job by
name (jobs.replenishment.check_pick_face) and the movement's request does no more; movements
while that job waits enqueue no other; the job, run as `wms worker` runs it, creates the task;
once it has started, the next movement below the minimum wakes another check. The manager's check
of every pick face is a job too. A real Redis (db 8, this file's own queue) and real databases."""
from __future__ import annotations

import uuid

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from sqlmodel import select

from app import db, replenishment
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import ReplenishmentTask
from app.warehouses import create_location, get_warehouse
from tests.conftest import _seed_basics, make_app

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/8"


@pytest.fixture
def redis_app(database_url):
    queue_name = f"replenishment-test-{uuid.uuid4().hex[:8]}"  # this run's own keys: nothing else is flushed
    app = make_app(database_url, REDIS_URL=REDIS_URL, RQ_QUEUE=queue_name)
    connection = Redis.from_url(REDIS_URL)
    with app.app_context():
        _seed_basics()

        def build(session):
            site = get_warehouse(session)
            create_product(session, sku="SKU-1", name="Widget")
            create_location(session, warehouse=site, code="P-01", type="pick")
            create_location(session, warehouse=site, code="S-01", type="storage")

        db.atomic(build)
        db.atomic(adjust_stock, sku="SKU-1", location="S-01", quantity=100, reason="found")
        db.atomic(adjust_stock, sku="SKU-1", location="P-01", quantity=10, reason="found")
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


def open_tasks():
    with db.reading() as session:
        return [(t.quantity, t.status) for t in session.exec(select(ReplenishmentTask).where(ReplenishmentTask.status == "open"))]


def take(quantity):
    db.atomic(adjust_stock, sku="SKU-1", location="P-01", quantity=-quantity, reason="damaged")


def test_a_movement_below_the_minimum_enqueues_one_check_job_that_creates_the_task(redis_app):
    _app, queue = redis_app
    saved = replenishment.save_rule(sku="SKU-1", location="P-01", min=5, max=20)
    assert queued(queue) == []  # 10 is not below 5: the rule's own check found nothing to wake
    key = (saved.product_id, saved.location_id)

    take(6)  # 4: below
    take(1)  # 3: still below; the first job has not started, so no second one
    assert queued(queue) == [("jobs.replenishment.check_pick_face", key)]
    assert open_tasks() == []  # the movements' requests did not create it

    assert run_queued(queue) == [replenishment.CREATED]
    assert open_tasks() == [(17, "open")]

    take(1)  # the job has run: a movement below the minimum wakes another check, which finds the task
    assert run_queued(queue) == [replenishment.ALREADY_OPEN]
    assert open_tasks() == [(17, "open")]


def test_movements_at_places_without_a_rule_enqueue_nothing(redis_app):
    _app, queue = redis_app
    replenishment.save_rule(sku="SKU-1", location="P-01", min=5, max=20)
    db.atomic(adjust_stock, sku="SKU-1", location="S-01", quantity=-99, reason="damaged")  # storage: no rule
    take(1)  # 9: not below
    assert queued(queue) == []


def test_the_managers_check_of_every_pick_face_is_a_job(redis_app):
    app, queue = redis_app
    manager = app.test_client()
    assert manager.post("/login", data={"username": "manager", "password": "correct-horse-battery"}).status_code == 302

    def direct(session):  # a rule below its minimum saved without a check
        from app.models import ReplenishmentRule

        session.add(ReplenishmentRule(product_id=1, location_id=_location_id(session, "P-01"), minimum=15, maximum=20))

    db.atomic(direct)
    answer = manager.post("/replenishment/rules/check", data={"warehouse": "MAIN"})
    page = manager.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Checking every pick face of MAIN" in page
    with app.app_context():
        site_id = _site_id()
    assert queued(queue) == [("jobs.replenishment.check_warehouse", (site_id,))]
    [summary] = run_queued(queue)
    assert summary == {"pick_faces": 1, "below_minimum": 1, "created": 1, "already_open": 0, "nothing_in_storage": 0}
    assert open_tasks() == [(10, "open")]


def _location_id(session, code):
    from app.warehouses import find_location

    return find_location(session, get_warehouse(session).id, code).id


def _site_id():
    with db.reading() as session:
        return get_warehouse(session).id


def test_a_rule_saved_above_what_the_pick_face_holds_enqueues_its_check(redis_app):
    _app, queue = redis_app
    saved = replenishment.save_rule(sku="SKU-1", location="P-01", min=15, max=25)
    assert queued(queue) == [("jobs.replenishment.check_pick_face", (saved.product_id, saved.location_id))]
    assert run_queued(queue) == [replenishment.CREATED]
    assert open_tasks() == [(15, "open")]
