"""Errors in words, in a real browser on a phone: a server error during an htmx request shows its
sentence and reference in the message area, and a 5,000-character scan or URL never widens a page."""
import sqlite3

from app import db
from app.catalog import create_product
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import PHONE, sign_in_page

LONG_SCAN = "Z" * 5000


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_server_error_during_an_htmx_request_shows_its_words_and_reference(live_wms, phone, sqlite_url):
    server, _app = live_wms
    sign_in_page(phone, server.url, "manager")
    phone.goto(f"{server.url}/admin/settings")
    database = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    try:
        database.execute("ALTER TABLE setting RENAME TO setting_gone")  # reading the settings now fails
        database.commit()
        phone.get_by_test_id("test-connection").tap()
        flash = phone.locator("#flash [data-testid=flash-error]")
        flash.wait_for()
    finally:
        database.execute("ALTER TABLE setting_gone RENAME TO setting")
        database.commit()
        database.close()
    words = flash.inner_text()
    assert words.startswith("Something went wrong on our side and nothing was changed. Try again;")
    assert "tell your admin the reference" in words
    for python in ("OperationalError", "no such table", "sqlite3", "Traceback"):
        assert python not in phone.content()
    assert page_width(phone) <= PHONE["width"]


def test_a_long_url_on_the_settings_page_is_refused_in_words_and_keeps_the_page_phone_wide(live_wms, phone):
    server, _app = live_wms
    sign_in_page(phone, server.url, "manager")
    phone.goto(f"{server.url}/admin/settings")
    for typed, words in (("https://" + "x_" * 2496, "The API URL is 5,000 characters long; at most 2,000 are allowed"),
                         ("https://" + "y_" * 990, "is not a valid host")):  # echoed, cut short
        phone.fill("input[name=STARSHIPIT_API_URL]", typed)
        phone.get_by_test_id("save-settings").tap()
        error = phone.get_by_test_id("error-STARSHIPIT_API_URL").filter(has_text=words)
        error.wait_for()
        assert len(error.inner_text()) < 200
        assert "Nothing was saved" in phone.locator("#settings-form [data-testid=flash-error]").inner_text()
        assert page_width(phone) <= PHONE["width"]


def test_a_5000_character_scan_on_the_move_page_keeps_the_page_phone_wide(live_wms, phone):
    server, app = live_wms
    with app.app_context():
        def build(session):
            create_product(session, sku="SKU-1", name="Blue widget")
            create_location(session, warehouse=get_warehouse(session), code="B-01", type="storage", zone="B")

        db.atomic(build)
    sign_in_page(phone, server.url, "picker")
    phone.goto(f"{server.url}/moves/")
    phone.fill("#from_location", LONG_SCAN)
    phone.fill("#product", "SKU-1")
    phone.fill("#to_location", "B-01")
    phone.get_by_role("button", name="Confirm move").tap()
    phone.locator("#flash [data-testid=flash-error]").wait_for()
    assert page_width(phone) <= PHONE["width"]
    assert phone.locator("#move-log li.error").count() == 1
