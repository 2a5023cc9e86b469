"""The picking pages: the open jobs and taking one, scanning the totes, a pick by scanning, a wrong
scan (red, naming what was scanned, nothing moved), a short, a manager's release; roles and CSRF."""
from __future__ import annotations

import re

import pytest

from app import db
from app.outbound import picking
from tests.conftest import PASSWORD, _seed_basics, make_app
from tests.test_allocation import allocate, floor, wms_order
from tests.test_picking import clean, on_hand, state, totes

HX = {"HX-Request": "true"}


def setup():
    floor([("SKU-A", "P-01", 3), ("SKU-A", "S-01", 2), ("SKU-B", "P-02", 5)])
    totes("T-01", "T-02")
    wms_order("SO-1", [("SKU-A", 2)])
    wms_order("SO-2", [("SKU-B", 1)])
    allocate("SO-1")
    allocate("SO-2")


def test_a_manager_releases_and_a_picker_picks_by_scanning(app, manager, picker):
    setup()
    page = manager.get("/picking/release")
    assert page.status_code == 200 and "2 allocated order(s) match" in page.get_data(as_text=True)
    released = manager.post("/picking/release", data={"mode": "batch", "batch_size": "5"})
    assert released.status_code == 200 and "2 order(s) released in 1 job(s)" in released.get_data(as_text=True)
    assert state("SO-1") == "PICKING"

    listed = picker.get("/picking/").get_data(as_text=True)
    job_id = int(re.search(r'data-testid="job-(\d+)"', listed).group(1))
    taken = picker.post(f"/picking/{job_id}/take")
    assert taken.status_code == 302 and taken.headers["Location"].endswith(f"/picking/{job_id}")
    page = picker.get(f"/picking/{job_id}").get_data(as_text=True)
    assert 'data-testid="totes-to-scan"' in page

    wrong = picker.post(f"/picking/{job_id}/totes", data={"tote": "P-01"}, headers=HX)
    assert wrong.status_code == 409 and "P-01" in wrong.get_data(as_text=True)
    assert picker.post(f"/picking/{job_id}/totes", data={"tote": "t-01"}, headers=HX).status_code == 200
    last = picker.post(f"/picking/{job_id}/totes", data={"tote": "T-02"}, headers=HX)
    assert last.headers.get("HX-Redirect", "").endswith(f"/picking/{job_id}")
    page = picker.get(f"/picking/{job_id}").get_data(as_text=True)
    assert 'data-testid="pick-form"' in page and 'data-location="P-01"' in page and 'data-tote="T-01"' in page

    # a wrong scan: red, names the scan, nothing moves
    wrong = picker.post(f"/picking/{job_id}/pick", data={"location": "P-01", "sku": "SKU-B", "quantity": "", "tote": "T-01"},
                        headers=HX)
    body = wrong.get_data(as_text=True)
    assert wrong.status_code == 409 and "flash-error" in body and "SKU-B" in body and 'data-code="wrong_sku"' in body
    assert on_hand("P-01") == 3 and on_hand("T-01") == 0

    for _ in range(2):  # one unit per scan
        done = picker.post(f"/picking/{job_id}/pick", data={"location": "P-01", "sku": "SKU-A", "quantity": "",
                                                            "tote": "T-01"}, headers=HX)
        assert done.status_code == 200 and "HX-Trigger" not in done.headers  # no second request for the stop
    assert state("SO-1") == "PICKED" and on_hand("T-01") == 2
    carried = done.get_data(as_text=True)  # the answer carries the next stop, swapped into #stop out of band
    assert 'data-testid="pick-done"' in carried and '<div id="stop" hx-swap-oob="innerHTML">' in carried
    assert 'data-location="P-02"' in carried and 'data-tote="T-02"' in carried and "All stops (1 left)" in carried
    stop = picker.get(f"/picking/{job_id}/stop").get_data(as_text=True)
    assert 'data-location="P-02"' in stop and 'data-tote="T-02"' in stop
    assert 'name="location" value="P-02"' in stop  # the Short panel follows the stop

    short = picker.post(f"/picking/{job_id}/short", data={"location": "P-02", "sku": "SKU-B", "found": "0"}, headers=HX)
    assert short.status_code == 200 and "5 written off" in short.get_data(as_text=True)
    assert state("SO-2") == "AWAITING_STOCK"
    assert 'data-testid="job-finished"' in picker.get(f"/picking/{job_id}/stop").get_data(as_text=True)
    clean()


def test_a_wrong_scan_without_htmx_shows_the_page_with_the_error(app, picker):
    setup()
    job = db.atomic(picking.create_pick_job, ["SO-1"], "single")
    db.atomic(picking.confirm_tote, job["id"], "T-01")
    answer = picker.post(f"/picking/{job['id']}/pick", data={"location": "S-01", "sku": "SKU-A", "quantity": "1", "tote": "T-01"})
    assert answer.status_code == 409
    body = answer.get_data(as_text=True)
    assert "Nothing moved." in body and "S-01" in body and "wrong_location" in body and 'data-testid="pick-form"' in body
    assert on_hand("P-01") == 3


def test_pickers_cannot_release(app, picker):
    assert picker.get("/picking/release").status_code == 403
    assert picker.post("/picking/release", data={"mode": "batch"}).status_code == 403
    assert "/picking/release" not in picker.get("/picking/").get_data(as_text=True)


def test_release_with_nothing_allocated_says_so(app, manager):
    answer = manager.post("/picking/release", data={"mode": "batch", "batch_size": "3"})
    assert answer.status_code == 409 and "nothing to release" in answer.get_data(as_text=True)
    bad = manager.post("/picking/release", data={"mode": "batch", "batch_size": "999"})
    assert bad.status_code == 400


@pytest.fixture
def protected(sqlite_url):
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        _seed_basics()
        setup()
        yield app
    app.extensions["wms.engine"].dispose()


def test_picking_forms_need_the_csrf_token(protected):
    client = protected.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "manager", "password": PASSWORD, "csrf_token": token})
    assert client.post("/picking/release", data={"mode": "batch", "batch_size": "5"}).status_code == 400
    assert state("SO-1") == "ALLOCATED"
    page = client.get("/picking/release").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/picking/release", data={"mode": "batch", "batch_size": "5", "csrf_token": token}).status_code == 200
    job_id = int(re.search(r'data-testid="job-(\d+)"', client.get("/picking/").get_data(as_text=True)).group(1))
    scan = {"location": "P-01", "sku": "SKU-A", "quantity": "1", "tote": "T-01"}
    assert client.post(f"/picking/{job_id}/pick", data=scan, headers=HX).status_code == 400
    assert on_hand("T-01") == 0
    answer = client.post(f"/picking/{job_id}/pick", data=scan, headers={**HX, "X-CSRFToken": token})
    assert answer.status_code == 200 and on_hand("T-01") == 1
