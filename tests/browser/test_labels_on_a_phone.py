"""On a 360 px phone, against the WMS under gunicorn and the Starshipit simulator: a manager adds a
box size; a packer watches a queued label job turn into the label by itself (htmx polling every
second), sees a failure in Starshipit's words, taps Retry and gets the label, then Reprint. Every
page fits the phone and every button is big enough for a thumb. Screenshots of each step go to the
test artifacts folder."""
from __future__ import annotations

import httpx
import pytest

from app import db
from app.outbound import labels
from simulator import Simulator
from tests.browser.conftest import sign_in_page
from tests.browser.test_inbound_on_a_phone import snap as shot
from tests.browser.test_pages_fit_a_phone import TOO_SMALL
from tests.conftest import _seed_basics, make_app
from tests.support.processes import start_wms
from tests.test_label_job import BOX, packed_order


@pytest.fixture
def stack(sqlite_url, tmp_path):
    sim = Simulator(seed=9).start()
    settings = {"STARSHIPIT_API_URL": sim.url, "STARSHIPIT_RATE_LIMIT": "0", "LABEL_LEASE_SECONDS": "3",
                "LABEL_BACKOFF_SECONDS": "0.05"}
    app = make_app(sqlite_url, **settings)
    with app.app_context():
        _seed_basics()
        server = start_wms(sqlite_url, tmp_path, workers=2, **settings)
        try:
            yield server, app, sim
        finally:
            server.stop()
            sim.stop()
    app.extensions["wms.engine"].dispose()


def fits(page, where: str) -> list[str]:
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 360:
        problems.append(f"{where}: {width} px wide")
    problems += [f"{where}: {height:.0f} px tall {html}" for html, height in page.evaluate(TOO_SMALL)]
    return problems


def test_box_sizes_and_a_label_from_queued_to_printed_on_a_phone(stack, small_phone, monkeypatch):
    server, app, sim = stack
    page = small_phone
    problems: list[str] = []

    sign_in_page(page, server.url, "manager")
    page.goto(f"{server.url}/package-sizes/")
    page.fill("form[data-testid=add-size] input[name=name]", "Carton 40")
    page.fill("form[data-testid=add-size] input[name=length_cm]", "40")
    page.fill("form[data-testid=add-size] input[name=width_cm]", "30")
    page.fill("form[data-testid=add-size] input[name=height_cm]", "0")
    page.click("form[data-testid=add-size] button[type=submit]")
    assert "more than 0 cm" in page.inner_text("#height_cm-error")
    problems += fits(page, "box size refused")
    shot(page, "labels-1-box-size-refused")
    page.fill("form[data-testid=add-size] input[name=height_cm]", "20")
    page.click("form[data-testid=add-size] button[type=submit]")
    page.wait_for_selector("[data-testid=package-size][data-name='Carton 40']")
    problems += fits(page, "box sizes")
    shot(page, "labels-2-box-sizes")

    with app.app_context():
        packed_order(sim, "PH-1")
        monkeypatch.setattr(labels.tasks, "enqueue", lambda *args, **kwargs: None)  # the worker is busy
        job = db.atomic(labels.request_label, "PH-1", package={"name": "Carton 40", "weight": 1.5})
        monkeypatch.undo()
    page.goto(f"{server.url}/order/PH-1/label")
    page.wait_for_selector("[data-testid=label-job][data-status=queued]")
    problems += fits(page, "label queued")
    shot(page, "labels-3-queued")
    with app.app_context():
        httpx.post(f"{sim.url}/_sim/faults", json={"status": 503, "count": 3}, timeout=10)
        assert labels.run_label_job(job.id) == "failed"
    page.wait_for_selector("[data-testid=label-job][data-status=failed]", timeout=5_000)  # polled, no reload
    assert "Starshipit did not answer properly" in page.inner_text("[data-testid=label-error]")
    problems += fits(page, "label failed")
    shot(page, "labels-4-failed")

    page.click("[data-testid=retry] button")
    page.wait_for_selector("[data-testid=label-job][data-status=done]")
    [shipment] = httpx.get(f"{sim.url}/_sim/orders", timeout=10).json()["orders"][0]["shipments"]
    assert shipment["tracking_numbers"][0] in page.inner_text("[data-testid=tracking]")
    pdf = page.request.get(f"{server.url}/order/PH-1/label/pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    problems += fits(page, "label done")
    shot(page, "labels-5-done")

    page.click("[data-testid=reprint] button")
    page.wait_for_selector("[data-testid=job-status]:has-text('reprinted')")
    assert shipment["tracking_numbers"][0] in page.inner_text("[data-testid=tracking]")
    assert len(httpx.get(f"{sim.url}/_sim/orders/PH-1", timeout=10).json()["order"]["packages"]) == 1
    problems += fits(page, "label reprinted")
    shot(page, "labels-6-reprinted")
    assert problems == []
