"""GET /api/v1/label-jobs/<id> and GET /api/v1/orders/<order_number>/label: a job's status (error in
words only when failed, tracking numbers only when done), the label PDF once ready (404 before),
every label as JSON on request; both in the OpenAPI document, the PDF declared as such."""
from __future__ import annotations

import base64

import httpx
import pytest

from app import db
from app.outbound import labels
from simulator import Simulator
from tests.test_label_job import BOX, packed_order


@pytest.fixture
def sim(app):
    simulator = Simulator(seed=3).start()
    app.config.update(STARSHIPIT_API_URL=simulator.url, STARSHIPIT_RATE_LIMIT=0, LABEL_LEASE_SECONDS=3,
                      LABEL_BACKOFF_SECONDS=0.05)
    yield simulator
    simulator.stop()


def test_a_job_is_queued_then_done_with_its_tracking_numbers_and_the_label_is_served(api, sim, monkeypatch):
    packed_order(sim, "API-1")
    monkeypatch.setattr(labels.tasks, "enqueue", lambda *args, **kwargs: None)  # a worker picks it up later
    job = db.atomic(labels.request_label, "API-1", package=BOX)

    queued = api.get(f"/api/v1/label-jobs/{job.id}")
    assert queued.status_code == 200
    assert queued.get_json() == {"id": job.id, "order_number": "API-1", "kind": "label", "status": "queued",
                                 "attempts": 0, "progress": "Waiting for a worker"}
    before = api.get("/api/v1/orders/API-1/label")
    assert before.status_code == 404 and before.get_json()["error"]["code"] == "no_label"
    assert "has no label yet" in before.get_json()["error"]["message"]

    assert labels.run_label_job(job.id) == "done"
    done = api.get(f"/api/v1/label-jobs/{job.id}").get_json()
    [shipment] = httpx.get(f"{sim.url}/_sim/orders", timeout=10).json()["orders"][0]["shipments"]
    assert done["status"] == "done" and done["tracking_numbers"] == shipment["tracking_numbers"]
    assert "error" not in done

    pdf = api.get("/api/v1/orders/API-1/label")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'inline; filename="label-API-1.pdf"'
    assert pdf.data == base64.b64decode(shipment["labels"][0]) and pdf.data.startswith(b"%PDF")

    as_json = api.client.get("/api/v1/orders/API-1/label", headers={**api.headers, "Accept": "application/json"})
    assert as_json.mimetype == "application/json"
    assert as_json.get_json() == {"order_number": "API-1", "label_job": job.id, "carrier_name": shipment["carrier_name"],
                                  "tracking_numbers": shipment["tracking_numbers"], "labels": shipment["labels"]}


def test_a_failed_job_says_what_starshipit_said(api, sim):
    packed_order(sim, "API-2")
    httpx.post(f"{sim.url}/_sim/orders/API-2/delete", timeout=10)
    job = db.atomic(labels.request_label, "API-2", package=BOX)
    failed = api.get(f"/api/v1/label-jobs/{job.id}").get_json()
    assert failed["status"] == "failed" and "tracking_numbers" not in failed
    assert "Starshipit refused" in failed["error"] and "Order not found" in failed["error"]
    assert api.get("/api/v1/orders/API-2/label").status_code == 404


@pytest.mark.parametrize("path, status, words", [
    ("/api/v1/label-jobs/999", 404, "no label job 999"),
    ("/api/v1/label-jobs/abc", 400, "whole number"),
    ("/api/v1/label-jobs/0", 400, "from 1"),
    ("/api/v1/orders/NOPE-1/label", 404, "no order NOPE-1"),
])
def test_unknown_or_malformed_requests_are_refused_in_words(api, path, status, words):
    answer = api.get(path)
    assert answer.status_code == status and words in answer.get_json()["error"]["message"]


def test_the_routes_need_a_token(client):
    assert client.get("/api/v1/label-jobs/1").status_code == 401
    assert client.get("/api/v1/orders/X/label").status_code == 401


def test_both_routes_are_in_the_document_and_the_label_is_declared_a_pdf(api):
    document = api.get("/api/v1/openapi.json").get_json()
    job = document["paths"]["/api/v1/label-jobs/{job_id}"]["get"]
    assert set(job["responses"]) == {"200", "400", "401", "404"}
    label = document["paths"]["/api/v1/orders/{order_number}/label"]["get"]
    content = label["responses"]["200"]["content"]
    assert content["application/pdf"]["schema"]["format"] == "binary"
    assert "$ref" in content["application/json"]["schema"]
    assert label["tags"] == ["labels"]
    # the order itself is still GET /api/v1/orders/{order_number}
    assert "get" in document["paths"]["/api/v1/orders/{order_number}"]
