"""The label job against the Starshipit simulator over real HTTP: a label asked for once a WMS order
is packed, its tracking numbers and PDF kept; a 503 first and then success; Starshipit acting but
the answer lost (a 503 or a timeout after the fact); a run killed after Starshipit answered and run
again; two runs at once; reprint; failures kept in Starshipit's words, and retried. Every case ends
with exactly one shipment in the simulator (its /_sim/orders/<n>). SQLite and PostgreSQL; the
hand-over to RQ with Redis database 14, and a real `wms worker` killed mid-job."""
from __future__ import annotations

import base64
import threading
import time
import uuid

import httpx
import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from sqlmodel import select

from app import db
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import LabelJob, Order, OrderTimelineEntry
from app.outbound import labels
from app.starshipit.client import StarshipitClient
from app.warehouses import get_warehouse
from simulator import Simulator
from tests.conftest import _seed_basics, make_app
from tests.support.processes import start_worker

REDIS_URL = "redis://127.0.0.1:6379/14"  # this file's own Redis database
LEASE = 3.0  # seconds; each Starshipit call times out after LEASE / 6 = 0.5 s


@pytest.fixture
def sim():
    simulator = Simulator(seed=7).start()
    yield simulator
    simulator.stop()


def label_app(database_url, sim, **overrides):
    config = {"STARSHIPIT_API_URL": sim.url, "STARSHIPIT_RATE_LIMIT": 0, "LABEL_LEASE_SECONDS": LEASE,
              "LABEL_BACKOFF_SECONDS": 0.05, **overrides}
    return make_app(database_url, **config)


@pytest.fixture
def wms(database_url, sim):
    app = label_app(database_url, sim)
    with app.app_context():
        _seed_basics()
        yield app
    app.extensions["wms.engine"].dispose()


def control(sim, verb: str, where: str, **body):
    answer = httpx.request(verb, f"{sim.url}/_sim/{where}", json=body or None, timeout=10)
    assert answer.status_code < 300, answer.text
    return answer.json()


def shipments(sim, number: str) -> list[dict]:
    return [o for o in control(sim, "GET", "orders")["orders"] if o["order_number"] == number][0]["shipments"]


def packed_order(sim, number: str = "LBL-1", *, route: str = "WMS", status: str = "PACKED",
                 with_id: bool = True) -> int:
    """An order in Starshipit (the simulator) and its mirror in the WMS, routed and packed."""
    created = control(sim, "POST", "orders", order_number=number, items=[{"sku": "MUG-1", "quantity": 2}])["order"]

    def write(session):
        order = Order(order_number=number, starshipit_order_id=created["order_id"] if with_id else None,
                      warehouse_id=get_warehouse(session).id, status=status, route=route,
                      destination={"name": "Kiri Ngata", "city": "Wellington", "country": "NZ"})
        session.add(order)
        session.flush()
        return order.id

    db.atomic(write)
    return created["order_id"]


BOX = {"length": 0.3, "width": 0.2, "height": 0.15, "weight": 1.2}


def job_row(job_id: int) -> LabelJob:
    with db.reading() as session:
        return session.get(LabelJob, job_id)


def timeline(number: str) -> list[str]:
    with db.reading() as session:
        order = session.scalars(select(Order).where(Order.order_number == number)).one()
        return [e.message for e in session.scalars(select(OrderTimelineEntry).where(OrderTimelineEntry.order_id == order.id))]


def assert_one_label(sim, number: str, job: LabelJob) -> None:
    """Exactly one shipment in the simulator, and the job kept its tracking numbers and its PDF."""
    [shipment] = shipments(sim, number)
    assert job.status == "done", job.error
    assert job.tracking_numbers == shipment["tracking_numbers"]
    assert job.label_pdf == base64.b64decode(shipment["labels"][0])
    assert job.label_pdf.startswith(b"%PDF") and shipment["tracking_numbers"][0].encode() in job.label_pdf
    assert job.error is None and job.lease_until is None and job.finished_at is not None


# ---- the job, run in-process (no Redis: it runs at the commit) -------------------------------------


def test_a_packed_order_gets_its_label_with_the_box_sent_in_metres(wms, sim):
    packed_order(sim)
    job = db.atomic(labels.request_label, "LBL-1", package=BOX)
    done = job_row(job.id)
    assert_one_label(sim, "LBL-1", done)
    assert done.attempts == 1 and done.kind == "label" and done.progress == "Label ready"
    package = control(sim, "GET", "orders/LBL-1")["order"]["packages"][0]
    assert {k: package[k] for k in ("length", "width", "height", "weight")} == BOX
    assert any("Label created by Starshipit" in m and done.tracking_numbers[0] in m for m in timeline("LBL-1"))


def test_the_simulator_fails_the_first_call_with_503_then_succeeds(wms, sim):
    packed_order(sim)
    control(sim, "POST", "faults", status=503, count=1)  # the first call: the order's look-up
    job = job_row(db.atomic(labels.request_label, "LBL-1", package=BOX).id)
    assert_one_label(sim, "LBL-1", job)
    assert job.attempts == 1


def test_a_503_on_the_shipment_request_itself_is_asked_again_and_prints_once(wms, sim):
    packed_order(sim)
    control(sim, "POST", "faults", status=503, count=1, method="POST", path="/api/orders/shipment")
    job = job_row(db.atomic(labels.request_label, "LBL-1", package=BOX).id)
    assert_one_label(sim, "LBL-1", job)
    assert "reprinted" not in job.progress  # Starshipit had not acted: the second round printed it


@pytest.mark.parametrize("fault", [{"status": 503}, {"delay": 1.0}], ids=["503-after-acting", "timeout-after-acting"])
def test_starshipit_acted_but_the_answer_was_lost_the_next_round_finds_the_label_and_reprints(wms, sim, fault):
    packed_order(sim)
    control(sim, "POST", "faults", after=True, method="POST", path="/api/orders/shipment", count=1, **fault)
    job = job_row(db.atomic(labels.request_label, "LBL-1", package=BOX).id)
    assert_one_label(sim, "LBL-1", job)
    assert job.progress == "Label ready (Starshipit had made it already: reprinted)"
    assert any("Label reprinted by Starshipit" in m for m in timeline("LBL-1"))


class Killed(BaseException):
    """What a SIGKILL leaves: the run stops where it is, no handler runs."""


def test_a_run_killed_after_starshipit_answered_and_run_again_makes_one_shipment(wms, sim, monkeypatch):
    packed_order(sim)
    real_finish = labels._finish_done

    def die(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(labels, "_finish_done", die)
    with pytest.raises(Killed):
        db.atomic(labels.request_label, "LBL-1", package=BOX)  # no Redis: the job runs at the commit
    [job] = list_jobs()
    assert job.status == "running" and len(shipments(sim, "LBL-1")) == 1  # Starshipit answered; nothing kept
    monkeypatch.setattr(labels, "_finish_done", real_finish)
    started = time.monotonic()
    assert labels.run_label_job(job.id) == "done"  # run again (RQ, or a retry): waits out the dead run's lease
    assert time.monotonic() - started < LEASE + 2
    again = job_row(job.id)
    assert_one_label(sim, "LBL-1", again)
    assert again.attempts == 2 and "reprinted" in again.progress


def test_two_runs_of_one_job_at_once_make_one_shipment(wms, sim, monkeypatch):
    packed_order(sim)
    monkeypatch.setattr(labels.tasks, "enqueue", lambda *args, **kwargs: None)  # handed over to nobody
    job = db.atomic(labels.request_label, "LBL-1", package=BOX)
    ends: list[str] = []

    def run():
        with wms.app_context():
            ends.append(labels.run_label_job(job.id))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(ends) == ["done", "done"]  # the second waited for the first, then found it done
    again = job_row(job.id)
    assert_one_label(sim, "LBL-1", again)
    assert again.attempts == 1


def test_an_order_without_its_starshipit_id_is_found_by_number(wms, sim):
    order_id = packed_order(sim, with_id=False)
    job = job_row(db.atomic(labels.request_label, "LBL-1", package=None).id)
    assert_one_label(sim, "LBL-1", job)
    assert job.starshipit_order_id == order_id and job.package is None


def recording_client(sim, **options) -> tuple[StarshipitClient, list[tuple[str, str, bytes]]]:
    seen: list = []
    client = StarshipitClient(sim.url, "", "", rate_limit=0, max_retries=0, timeout=LEASE / 6, **options)
    client._http.event_hooks["request"].append(lambda r: seen.append((r.method, r.url.path, r.content)))
    return client, seen


def test_reprint_uses_starshipits_reprint_and_keeps_the_same_label(wms, sim, monkeypatch):
    packed_order(sim)
    first = job_row(db.atomic(labels.request_label, "LBL-1", package=BOX).id)
    monkeypatch.setattr(labels.tasks, "enqueue", lambda *args, **kwargs: None)
    reprint = db.atomic(labels.reprint_label, "LBL-1", user_id=None)
    client, seen = recording_client(sim)
    with client:
        assert labels.run_label_job(reprint.id, client=client) == "done"
    assert seen == [("POST", "/api/orders/shipment", b'{"order_id":%d,"reprint":true}' % first.starshipit_order_id)]
    again = job_row(reprint.id)
    assert again.kind == "reprint" and again.tracking_numbers == first.tracking_numbers
    assert again.label_pdf == first.label_pdf
    assert len(shipments(sim, "LBL-1")) == 1
    with db.reading() as session:
        assert labels.order_label(session, "LBL-1") == ("LBL-1", first.label_pdf)


def test_a_label_job_looks_before_it_asks_and_reprints_a_label_made_in_starshipit(wms, sim):
    packed_order(sim)
    control(sim, "POST", "orders/LBL-1/ship")  # printed in Starshipit while the WMS packed it
    job = job_row(db.atomic(labels.request_label, "LBL-1", package=BOX).id)
    assert_one_label(sim, "LBL-1", job)
    assert "reprinted" in job.progress


# ---- failures: in Starshipit's words, retried ----------------------------------------------------


def test_a_deleted_order_fails_with_starshipits_words(wms, sim):
    packed_order(sim)
    control(sim, "POST", "orders/LBL-1/delete")
    job = job_row(db.atomic(labels.request_label, "LBL-1", package=BOX).id)
    assert job.status == "failed" and job.progress == "Failed"
    assert job.error.startswith("Starshipit refused: ") and "HTTP 404" in job.error and "Order not found" in job.error
    assert any("failed" in m and "Order not found" in m for m in timeline("LBL-1"))
    assert shipments(sim, "LBL-1") == []


def test_retrying_a_missing_job_is_not_found(wms, sim):
    with pytest.raises(NotFound, match="no label job 99"):
        db.atomic(labels.retry_label_job, 99)


def test_a_timeout_on_every_try_fails_in_words_and_a_retry_prints_once(wms, sim):
    packed_order(sim)
    control(sim, "POST", "faults", delay=0.8, count=3)  # each look-up outlasts the client's 0.5 s
    job = job_row(db.atomic(labels.request_label, "LBL-1", package=BOX).id)
    assert job.status == "failed"
    assert "did not answer properly on any of 3 tries" in job.error and "Timeout" in job.error
    assert shipments(sim, "LBL-1") == []
    control(sim, "DELETE", "faults")
    retried = db.atomic(labels.retry_label_job, job.id)
    assert retried.id == job.id
    again = job_row(job.id)
    assert_one_label(sim, "LBL-1", again)
    assert again.attempts == 2


def test_429_after_the_clients_retries_fails_with_the_rate_limit_in_words(wms, sim, monkeypatch):
    packed_order(sim)
    monkeypatch.setattr(labels.tasks, "enqueue", lambda *args, **kwargs: None)
    job = db.atomic(labels.request_label, "LBL-1", package=BOX)
    control(sim, "POST", "faults", status=429, count=5)
    client, _seen = recording_client(sim, max_throttled=2, max_retry_after=0.05)
    with client:
        assert labels.run_label_job(job.id, client=client) == "failed"
    failed = job_row(job.id)
    assert "rate limit" in failed.error and "HTTP 429" in failed.error


def test_success_false_is_a_failure_in_starshipits_words(wms, sim, monkeypatch):
    packed_order(sim)

    def earlier_label(session):  # a label the WMS kept, though Starshipit has no shipment
        order = session.scalars(select(Order).where(Order.order_number == "LBL-1")).one()
        session.add(LabelJob(order_id=order.id, status="done", tracking_numbers=["OLD1"], label_pdf=b"%PDF-1.4",
                             starshipit_order_id=order.starshipit_order_id))

    db.atomic(earlier_label)
    job = job_row(db.atomic(labels.reprint_label, "LBL-1").id)
    assert job.status == "failed"
    assert "No labels to reprint: the order has no shipment" in job.error and "refused" in job.error


def test_a_label_that_is_not_a_pdf_fails_in_words():
    with pytest.raises(labels.Unusable, match="as ZPL, not PDF"):
        labels.pdf_labels({"labels": ["XlhB"], "label_types": ["ZPL"]})
    with pytest.raises(labels.Unusable, match="not a PDF file"):
        labels.pdf_labels({"labels": [base64.b64encode(b"hello").decode()], "label_types": ["PDF"]})
    with pytest.raises(labels.Unusable, match="without a label"):
        labels.pdf_labels({"labels": []})
    assert labels.has_label({"status": "Unshipped", "packages": [{"tracking_number": "X1"}]})
    assert labels.has_label({"status": "Printed", "packages": []})
    assert not labels.has_label({"status": "Unshipped", "packages": [{"tracking_number": ""}]})


# ---- which orders may ask, and the package ---------------------------------------------------------


@pytest.mark.parametrize("route, status, code", [
    ("STARSHIPIT", "PACKED", "not_wms_order"),
    ("WMS", "SHIPPED", "order_shipped"),
    ("WMS", "PARTIALLY_SHIPPED", "order_shipped"),
    ("WMS", "CANCELLED", "order_cancelled"),
])
def test_orders_that_may_not_ask_for_a_label_are_refused_in_words(wms, sim, route, status, code):
    packed_order(sim, route=route, status=status)
    with pytest.raises(Conflict) as refused:
        db.atomic(labels.request_label, "LBL-1", package=BOX)
    assert refused.value.code == code and "LBL-1" in refused.value.message
    assert list_jobs() == [] and shipments(sim, "LBL-1") == []


def test_an_order_with_its_label_is_reprinted_not_labelled_again(wms, sim):
    packed_order(sim)
    db.atomic(labels.request_label, "LBL-1", package=BOX)
    with pytest.raises(Conflict, match="has its label already .*reprint it"):
        db.atomic(labels.request_label, "LBL-1", package=BOX)
    with pytest.raises(NotFound, match="no order NOPE"):
        db.atomic(labels.request_label, "NOPE", package=BOX)


def test_a_kept_box_gives_its_sizes_in_metres_and_its_default_weight(wms, sim):
    db.atomic(labels.add_size, name="Carton 40", length_cm=40, width_cm=30, height_cm=20, default_weight_kg=0.4)
    db.atomic(labels.add_size, name="Tiny", length_cm=10, width_cm=10, height_cm=5)
    with db.reading() as session:
        size_id, sent = labels.resolve_package(session, {"name": "carton 40"})
        assert sent == {"name": "Carton 40", "length": 0.4, "width": 0.3, "height": 0.2, "weight": 0.4}
        assert labels.resolve_package(session, {"name": "Carton 40", "weight": 2})[1]["weight"] == 2
        with pytest.raises(ValidationFailed, match="weight .* no default weight") as refused:
            labels.resolve_package(session, {"name": "Tiny"})
        assert refused.value.field == "weight"
        with pytest.raises(ValidationFailed, match="is not a box size: choose one of Carton 40, Tiny"):
            labels.resolve_package(session, {"name": "Crate", "weight": 1})
        with pytest.raises(ValidationFailed, match="height .m. is required"):
            labels.resolve_package(session, {"length": 0.3, "width": 0.2, "weight": 1})
        with pytest.raises(ValidationFailed, match="from 0 to 100 metres"):
            labels.resolve_package(session, {"length": 300, "width": 0.2, "height": 0.1, "weight": 1})
        with pytest.raises(ValidationFailed, match="more than 0 kg"):
            labels.resolve_package(session, {"length": 0.3, "width": 0.2, "height": 0.1, "weight": 0})
    db.atomic(labels.set_size_active, size_id, False)
    with db.reading() as session, pytest.raises(ValidationFailed, match="Carton 40 is retired"):
        labels.resolve_package(session, {"name": "Carton 40", "weight": 1})


def test_box_sizes_refuse_duplicates_and_bad_sizes_naming_the_field(wms):
    db.atomic(labels.add_size, name="Satchel", length_cm=35, width_cm=25, height_cm=2)
    with pytest.raises(Conflict, match="exists already") as duplicate:
        db.atomic(labels.add_size, name="SATCHEL", length_cm=1, width_cm=1, height_cm=1)
    assert duplicate.value.field == "name"
    for field, value, words in (("length_cm", "0", "more than 0 cm"), ("width_cm", "abc", "number of cm"),
                                ("height_cm", "20000", "from 0 to 10,000 cm"), ("default_weight_kg", "-1", "from 0")):
        fields = {"name": "Box", "length_cm": 1, "width_cm": 1, "height_cm": 1, field: value}
        with pytest.raises(ValidationFailed, match=words) as refused:
            db.atomic(labels.add_size, **fields)
        assert refused.value.field == field
    with db.reading() as session:
        assert [s.name for s in labels.list_sizes(session)] == ["Satchel"]


def list_jobs() -> list[LabelJob]:
    with db.reading() as session:
        return list(session.scalars(select(LabelJob).order_by(LabelJob.id)))


# ---- with Redis: handed over after the commit; a real worker killed mid-job ------------------------


@pytest.fixture
def redis_wms(database_url, sim):
    queue_name = f"labels-test-{uuid.uuid4().hex[:8]}"  # this run's own keys: nothing else is touched
    app = label_app(database_url, sim, REDIS_URL=REDIS_URL, RQ_QUEUE=queue_name)
    connection = Redis.from_url(REDIS_URL)
    with app.app_context():
        _seed_basics()
        yield app, Queue(queue_name, connection=connection)
    app.extensions["wms.engine"].dispose()
    for key in connection.scan_iter(f"*{queue_name}*"):
        connection.delete(key)
    connection.close()


def run_queued(queue) -> list:
    """What `wms worker --burst` would do with the queued jobs, in this process."""
    results = []
    while (job_id := queue.connection.lpop(queue.key)) is not None:
        results.append(Job.fetch(job_id.decode(), connection=queue.connection).perform())
    return results


@pytest.mark.redis
def test_with_redis_the_job_is_handed_over_after_the_commit_and_one_is_open_per_order(redis_wms, sim):
    _app, queue = redis_wms
    packed_order(sim)
    job = db.atomic(labels.request_label, "LBL-1", package=BOX)
    assert [(j.func_name, j.args) for j in queue.get_jobs()] == [("jobs.labels.print_label", (job.id,))]
    assert job_row(job.id).status == "queued" and shipments(sim, "LBL-1") == []
    with pytest.raises(Conflict, match="has a label job queued already") as busy:
        db.atomic(labels.request_label, "LBL-1", package=BOX)
    assert busy.value.code == "label_in_progress"
    with pytest.raises(Conflict, match="try again in"):
        db.atomic(labels.retry_label_job, job.id)  # just queued: not lost
    assert run_queued(queue) == ["done"]
    assert_one_label(sim, "LBL-1", job_row(job.id))


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_worker_killed_after_starshipit_answered_and_the_job_run_again_makes_one_shipment(postgres_url, sim, tmp_path):
    queue_name = f"labels-kill-{uuid.uuid4().hex[:8]}"
    lease = 24.0  # the worker's calls time out after 4 s; the answer comes 3 s after Starshipit acted
    app = label_app(postgres_url, sim, REDIS_URL=REDIS_URL, RQ_QUEUE=queue_name, LABEL_LEASE_SECONDS=lease)
    connection = Redis.from_url(REDIS_URL)
    env = {"RQ_QUEUE": queue_name, "STARSHIPIT_API_URL": sim.url, "STARSHIPIT_RATE_LIMIT": "0",
           "LABEL_LEASE_SECONDS": str(lease), "INBOX_STALE_SECONDS": "3600"}
    worker = start_worker(postgres_url, REDIS_URL, tmp_path, name="label-worker", **env)
    try:
        with app.app_context():
            _seed_basics()
            packed_order(sim)
            control(sim, "POST", "faults", after=True, delay=3.0, method="POST", path="/api/orders/shipment")
            job = db.atomic(labels.request_label, "LBL-1", package=BOX)
            deadline = time.monotonic() + 30
            while not shipments(sim, "LBL-1"):  # Starshipit has acted; its answer is on the way
                assert time.monotonic() < deadline, worker.output()[-3000:]
                time.sleep(0.02)
            worker.kill()
            assert job_row(job.id).status == "running", worker.output()[-3000:]
            assert labels.run_label_job(job.id) == "done"  # run again once the dead run's lease is over
            again = job_row(job.id)
            assert_one_label(sim, "LBL-1", again)
            assert again.attempts == 2 and "reprinted" in again.progress
        app.extensions["wms.engine"].dispose()
    finally:
        worker.stop()
        for key in connection.scan_iter(f"*{queue_name}*"):
            connection.delete(key)
        connection.close()
