"""Real Chromium through Playwright, against the WMS running under gunicorn.

Every browser test is marked `browser`; pages are opened at a phone's size (390 x 844).
"""
from __future__ import annotations

import pytest

from tests.conftest import make_app
from tests.support.processes import start_wms

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


SMALL_PHONE = {"width": 360, "height": 740}


def _touch_page(chromium, viewport: dict, **options):
    context = chromium.new_context(viewport=viewport, has_touch=True, is_mobile=True, **options)
    context.set_default_timeout(10_000)
    # Opening a page waits longer: test files run two at a time beside the PostgreSQL pass, and a
    # gunicorn just started on a busy 2-core machine may take a while to answer. Never a timed assertion.
    context.set_default_navigation_timeout(30_000)
    return context


@pytest.fixture
def phone(chromium):
    """A fresh browser context the size of a phone, with touch."""
    context = _touch_page(chromium, PHONE, device_scale_factor=2)
    yield context.new_page()
    context.close()


@pytest.fixture
def small_phone(chromium):
    """The narrowest phone a page must fit: 360 px wide, with touch."""
    context = _touch_page(chromium, SMALL_PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def live_wms(sqlite_url, tmp_path):
    """The WMS under gunicorn on a migrated SQLite database with the standard test users.
    Yields (running server, app for setting up data in-process)."""
    app = make_app(sqlite_url)
    with app.app_context():
        from tests.conftest import _seed_basics

        _seed_basics()
        server = start_wms(sqlite_url, tmp_path, workers=3)
        try:
            yield server, app
        finally:
            server.stop()
    app.extensions["wms.engine"].dispose()


def sign_in_page(page, base_url: str, role: str = "picker") -> None:
    from tests.conftest import PASSWORD

    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
