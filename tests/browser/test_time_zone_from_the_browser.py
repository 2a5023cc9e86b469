"""The browser's time zone is the default: a phone in Auckland shows Auckland times while the
warehouse has no zone of its own, and the warehouses page offers Auckland for a manager to save."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text as sql

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import sign_in_page
from tests.support.layout import artifacts

MOMENT = datetime(2026, 12, 2, 18, 30, tzinfo=UTC)


def test_a_phone_in_auckland_sees_auckland_time_and_offers_its_zone_to_save(live_wms, chromium):
    server, app = live_wms
    with app.app_context():
        def build(session):
            create_product(session, sku="SKU-TZ", name="Clockwork", weight=1)
            create_location(session, warehouse=get_warehouse(session), code="A-01", type="storage", zone="A")

        db.atomic(build)
        db.atomic(adjust_stock, sku="SKU-TZ", location="A-01", quantity=3, reason="found", reference="TZ")
        db.atomic(lambda session: session.execute(sql("UPDATE movement SET created_at = :at"), {"at": MOMENT}))
    context = chromium.new_context(viewport={"width": 390, "height": 844}, timezone_id="Pacific/Auckland",
                                   locale="en-NZ", has_touch=True, is_mobile=True)
    context.set_default_navigation_timeout(30_000)
    page = context.new_page()
    try:
        sign_in_page(page, server.url, "manager")  # app.js has kept the zone in its cookie by now
        page.goto(f"{server.url}/inventory/history?sku=SKU-TZ")
        shown = page.locator("main time").first
        assert shown.get_attribute("datetime") == "2026-12-02T18:30:00Z"
        assert shown.get_attribute("title") == "Pacific/Auckland"
        assert shown.inner_text() == "3 Dec 2026, 7:30\u202fam"

        page.goto(f"{server.url}/locations/warehouses")
        field = page.get_by_test_id("time-zone-MAIN")
        assert field.input_value() == "Pacific/Auckland"  # offered, not saved
        with app.app_context(), db.reading() as session:
            assert get_warehouse(session, "MAIN").time_zone is None
        page.screenshot(path=str(artifacts("time-zone") / "warehouses-offers-the-browsers-zone.png"), full_page=True)
        page.get_by_role("button", name="Save time zone").click()
        page.wait_for_url(f"{server.url}/locations/warehouses")
        with app.app_context(), db.reading() as session:
            assert get_warehouse(session, "MAIN").time_zone == "Pacific/Auckland"
    finally:
        context.close()
