"""The label page (progress polled while Starshipit is asked, the error in Starshipit's words with
Retry, the tracking numbers, the PDF inline and Reprint) and the box sizes page for managers (add,
edit, retire, make active again; refusals under their field); roles; with CSRF on, a form without
its token changes nothing."""
from __future__ import annotations

import re

import httpx
import pytest

from app import db
from app.models import LabelJob
from app.outbound import labels
from simulator import Simulator
from tests.conftest import PASSWORD, _seed_basics, make_app
from tests.test_label_job import BOX, packed_order

SIZE = {"name": "Carton 40", "length_cm": "40", "width_cm": "30", "height_cm": "20", "default_weight_kg": "0.5"}


@pytest.fixture
def sim(app):
    simulator = Simulator(seed=5).start()
    app.config.update(STARSHIPIT_API_URL=simulator.url, STARSHIPIT_RATE_LIMIT=0, LABEL_LEASE_SECONDS=3,
                      LABEL_BACKOFF_SECONDS=0.05)
    yield simulator
    simulator.stop()


def sizes() -> list[tuple]:
    with db.reading() as session:
        return [(s.name, s.length_cm, s.width_cm, s.height_cm, s.default_weight_kg, s.active)
                for s in labels.list_sizes(session)]


def field_error(page: str) -> tuple[str, str] | None:
    found = re.search(r'<span class="field-error" id="([a-z_]+)-error"[^>]*>([^<]*)</span>', page)
    return (found.group(1), found.group(2)) if found else None


# ---- box sizes ------------------------------------------------------------------------------------


def test_a_picker_may_not_open_or_change_the_box_sizes(picker):
    assert picker.get("/package-sizes/").status_code == 403
    assert picker.post("/package-sizes/", data=SIZE).status_code == 403
    assert sizes() == []


def test_a_manager_adds_edits_retires_and_brings_back_a_box(manager):
    assert 'href="/package-sizes/"' in manager.get("/").get_data(as_text=True)
    page = manager.post("/package-sizes/", data=SIZE, follow_redirects=True).get_data(as_text=True)
    assert "Box size Carton 40 added" in page and "40 × 30 × 20 cm, 0.5 kg" in page
    assert sizes() == [("Carton 40", 40.0, 30.0, 20.0, 0.5, True)]
    [(size_id,)] = [(s.id,) for s in _rows()]
    answer = manager.post(f"/package-sizes/{size_id}/edit", data={**SIZE, "name": "Carton 41", "default_weight_kg": ""})
    assert answer.status_code == 302
    assert sizes() == [("Carton 41", 40.0, 30.0, 20.0, None, True)]
    page = manager.post(f"/package-sizes/{size_id}/retire", follow_redirects=True).get_data(as_text=True)
    assert "Carton 41 is retired" in page and 'data-testid="status">retired' in page
    manager.post(f"/package-sizes/{size_id}/reactivate")
    assert sizes()[0][-1] is True


def _rows():
    with db.reading() as session:
        return labels.list_sizes(session)


@pytest.mark.parametrize("field, value, words", [
    ("name", "", "name is required"),
    ("name", "A\x00B", "control character"),
    ("length_cm", "0", "more than 0 cm"),
    ("width_cm", "wide", "must be a number of cm"),
    ("height_cm", "1e20", "from 0 to 10,000 cm"),
    ("default_weight_kg", "-2", "from 0 to 100,000 kg"),
])
def test_a_refused_box_is_said_under_its_field_and_nothing_is_saved(manager, field, value, words):
    response = manager.post("/package-sizes/", data={**SIZE, field: value})
    assert response.status_code == 400
    found = field_error(response.get_data(as_text=True))
    assert found is not None and found[0] == field and words in found[1]
    assert sizes() == []


def test_an_edit_refused_keeps_what_was_typed_under_that_boxs_form(manager):
    manager.post("/package-sizes/", data=SIZE)
    manager.post("/package-sizes/", data={**SIZE, "name": "Satchel"})
    satchel = [s.id for s in _rows() if s.name == "Satchel"][0]
    response = manager.post(f"/package-sizes/{satchel}/edit", data={**SIZE, "name": "carton 40", "height_cm": "7"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert field_error(page) == ("name", "a box size called carton 40 exists already (names are compared ignoring case)")
    assert 'value="7"' in page
    assert sorted(s[0] for s in sizes()) == ["Carton 40", "Satchel"]


@pytest.mark.parametrize("size_id", ["999", "abc", "99999999999999999999"])
def test_a_box_that_does_not_exist_is_refused_in_words(manager, size_id):
    response = manager.post(f"/package-sizes/{size_id}/retire")
    assert response.status_code in (400, 404)
    assert 'data-testid="flash-error"' in response.get_data(as_text=True)


@pytest.fixture
def protected(sqlite_url):
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        _seed_basics()
        yield app
    app.extensions["wms.engine"].dispose()


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_with_csrf_on_a_box_posted_without_its_token_changes_nothing(protected):
    client = protected.test_client()
    client.post("/login", data={"username": "manager", "password": PASSWORD,
                                "csrf_token": _token(client.get("/login").get_data(as_text=True))})
    assert client.post("/package-sizes/", data=SIZE).status_code == 400
    assert sizes() == []
    token = _token(client.get("/package-sizes/").get_data(as_text=True))
    assert client.post("/package-sizes/", data={**SIZE, "csrf_token": token}).status_code == 302
    assert [s[0] for s in sizes()] == ["Carton 40"]


# ---- the label page -------------------------------------------------------------------------------


def test_before_any_label_the_page_says_the_pack_step_asks_for_it(picker, sim):
    packed_order(sim, "PG-1")
    page = picker.get("/order/PG-1/label").get_data(as_text=True)
    assert 'data-status="none"' in page and "the pack step asks Starshipit for it" in page
    assert picker.get("/order/PG-1/label/pdf").status_code == 404
    assert picker.get("/order/NOPE/label").status_code == 404


def test_a_queued_job_is_polled_every_second_then_shows_the_label_and_reprint(picker, sim, monkeypatch):
    packed_order(sim, "PG-1")
    monkeypatch.setattr(labels.tasks, "enqueue", lambda *args, **kwargs: None)
    job = db.atomic(labels.request_label, "PG-1", package=BOX)
    page = picker.get("/order/PG-1/label").get_data(as_text=True)
    assert 'data-status="queued"' in page and 'hx-trigger="every 1s"' in page and "<progress" in page
    assert "Waiting for a worker" in page

    assert labels.run_label_job(job.id) == "done"
    panel = picker.get("/order/PG-1/label", headers={"HX-Request": "true"})
    fragment = panel.get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="label-job"')  # the panel alone
    assert 'data-status="done"' in fragment and "hx-trigger" not in fragment  # polling stops
    [shipment] = httpx.get(f"{sim.url}/_sim/orders", timeout=10).json()["orders"][0]["shipments"]
    assert shipment["tracking_numbers"][0] in fragment
    assert 'href="/order/PG-1/label/pdf"' in fragment and 'data-testid="reprint"' in fragment
    pdf = picker.get("/order/PG-1/label/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    assert picker.get("/order/PG-1/label/pdf?n=2").status_code == 404
    assert picker.get("/order/PG-1/label/pdf?n=abc").status_code == 400

    monkeypatch.undo()
    answer = picker.post("/order/PG-1/label/reprint", follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Asking Starshipit to reprint the label" in page
    assert 'data-testid="job-status">reprinted' in page and shipment["tracking_numbers"][0] in page
    assert len(httpx.get(f"{sim.url}/_sim/orders/PG-1", timeout=10).json()["order"]["packages"]) == 1


def test_a_failed_job_shows_starshipits_words_and_retry_prints_it(picker, sim):
    packed_order(sim, "PG-1")
    httpx.post(f"{sim.url}/_sim/faults", json={"status": 503, "count": 3}, timeout=10)
    job = db.atomic(labels.request_label, "PG-1", package=BOX)
    page = picker.get("/order/PG-1/label").get_data(as_text=True)
    assert 'data-status="failed"' in page and 'data-testid="label-error"' in page
    assert "Starshipit did not answer properly on any of 3 tries" in page and "HTTP 503" in page
    assert 'data-testid="retry"' in page and "hx-trigger" not in page
    answer = picker.post("/order/PG-1/label/retry", data={"job": str(job.id)}, follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Asking Starshipit again" in page and 'data-status="done"' in page
    with db.reading() as session:
        assert session.get(LabelJob, job.id).attempts == 2


@pytest.mark.parametrize("job, status, words", [("abc", 400, "whole number"), ("999", 404, "no label job 999")])
def test_a_retry_of_a_job_that_is_not_there_is_refused_in_words(picker, sim, job, status, words):
    packed_order(sim, "PG-1")
    response = picker.post("/order/PG-1/label/retry", data={"job": job})
    assert response.status_code == status and words in response.get_data(as_text=True)


def test_reprint_before_any_label_is_refused_in_words(picker, sim):
    packed_order(sim, "PG-1")
    response = picker.post("/order/PG-1/label/reprint")
    assert response.status_code == 409 and "has no label yet: nothing to reprint" in response.get_data(as_text=True)


def test_the_label_page_needs_a_sign_in(client):
    assert client.get("/order/PG-1/label").status_code == 302  # to the sign-in page
    assert client.post("/order/PG-1/label/reprint").status_code == 302
