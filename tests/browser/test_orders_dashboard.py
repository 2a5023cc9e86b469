"""The orders dashboard refreshes itself: orders appear and change status without a reload,
first written straight into the database, then driven by the Starshipit simulator through the
signed webhook."""
from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests import orders_data as data
from tests.browser.conftest import sign_in_page
from tests.conftest import make_app
from tests.support.focus import assert_focus_on
from tests.support.processes import start_wms

SECRET = "browser-test-webhook-secret"


def open_dashboard(page, base_url: str) -> None:
    sign_in_page(page, base_url, "picker")
    page.goto(f"{base_url}/orders/")
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads


def row(page, order_number: str):
    return page.locator(f'tr[data-order="{order_number}"]')


def test_an_order_appears_and_turns_shipped_without_a_reload(live_wms, phone):
    server, _app = live_wms
    open_dashboard(phone, server.url)
    expect(phone.get_by_test_id("no-orders")).to_be_visible()
    search = phone.get_by_test_id("order-search")
    search.fill("SO-LIVE")  # someone is typing while orders arrive
    expect(phone).to_have_url(re.compile(r"/orders/\?q=SO-LIVE$"))  # the search is kept in the address

    data.add_order("SO-LIVE-1", customer="Ada Lovelace")
    data.add_order("SO-OTHER-2", customer="Grace Hopper")

    expect(row(phone, "SO-LIVE-1")).to_be_visible()
    expect(row(phone, "SO-LIVE-1").get_by_test_id("order-status")).to_have_text("PENDING")
    expect(row(phone, "SO-OTHER-2")).to_have_count(0)  # the search still applies to the refreshed list
    data.set_status("SO-LIVE-1", "SHIPPED")
    expect(row(phone, "SO-LIVE-1").get_by_test_id("order-status")).to_have_text("SHIPPED")
    expect(phone.get_by_test_id("count-SHIPPED")).to_have_text("1")

    assert search.input_value() == "SO-LIVE"
    assert_focus_on(phone, "q")
    assert phone.evaluate("window.loadedOnce") is True
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.fixture
def wms_and_simulator(sqlite_url, tmp_path):
    """The WMS under gunicorn with a webhook secret, and the simulator posting signed events to it."""
    from simulator import Simulator
    from tests.conftest import _seed_basics

    app = make_app(sqlite_url)
    with app.app_context():
        _seed_basics()
    server = start_wms(sqlite_url, tmp_path, workers=2, STARSHIPIT_WEBHOOK_SECRET=SECRET)
    sim = Simulator(wms_url=server.url, secret=SECRET).start()
    try:
        yield server, sim
    finally:
        sim.stop()
        server.stop()
        app.extensions["wms.engine"].dispose()


def test_an_order_created_in_starshipit_appears_and_turns_shipped_when_shipped(wms_and_simulator, phone):
    server, sim = wms_and_simulator
    open_dashboard(phone, server.url)
    with httpx.Client(base_url=sim.url, timeout=10) as control:
        created = control.post("/_sim/orders", json={"reference": "WEB-4242"})
        assert created.status_code == 201, created.text
        number = created.json()["order"]["order_number"]

        expect(row(phone, number)).to_be_visible()
        expect(row(phone, number)).to_contain_text("WEB-4242")
        expect(row(phone, number).get_by_test_id("order-status")).to_have_text("PENDING")

        shipped = control.post(f"/_sim/orders/{number}/ship", json={})
        assert shipped.status_code == 200, shipped.text
        expect(row(phone, number).get_by_test_id("order-status")).to_have_text("SHIPPED")

    assert phone.evaluate("window.loadedOnce") is True
    phone.locator(f'tr[data-order="{number}"] a.order-link').click()
    expect(phone.locator("h1").get_by_test_id("order-status")).to_have_text("SHIPPED")
    expect(phone.get_by_test_id("timeline")).to_be_visible()
