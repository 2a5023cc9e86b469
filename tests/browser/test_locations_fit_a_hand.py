"""A picker on a 360 px phone finds a location among hundreds: the list opens on its zones, folded
with their counts (a page a thumb can cover, not 22,000 px of rows); opening a zone shows its first
locations in place; typing in the search box (first on the page) lists what matches under zone
headings. Nothing is wider than the phone or smaller than a thumb at any step."""
from __future__ import annotations

from app import db
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import sign_in_page
from tests.support.layout import PAGE_WIDTH, TOO_SMALL, artifacts


def test_a_picker_finds_a_location_among_hundreds_by_zone_or_search_on_a_phone(live_wms, small_phone):
    server, app = live_wms
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            for zone, count in (("A", 200), ("B", 150), ("PICK", 60)):
                for n in range(count):
                    create_location(session, warehouse=site, code=f"{zone}-{n:03d}", type="storage", zone=zone)

        db.atomic(build)
    page = small_phone
    folder = artifacts("locations-fit-a-hand")
    sign_in_page(page, server.url, "picker")
    page.goto(f"{server.url}/locations/")

    def fits(step: str) -> None:
        assert page.evaluate(PAGE_WIDTH) <= 360, step
        assert page.evaluate(TOO_SMALL) == [], step
        page.screenshot(path=str(folder / f"{step}.png"), full_page=True)

    assert page.get_by_test_id("zones").is_visible()
    assert page.locator("[data-testid=zone-count]").all_inner_texts() == ["200", "150", "60"]
    assert page.evaluate("document.documentElement.scrollHeight") < 1600  # the whole warehouse at a glance
    box = page.get_by_test_id("location-search").bounding_box()
    assert box["y"] < page.locator("details.zone").first.bounding_box()["y"]  # search first
    fits("1-zones")

    zone_b = page.locator("details.zone[data-zone=B]")
    zone_b.locator("summary").click()
    zone_b.locator("[data-testid=location-list]").wait_for()
    assert zone_b.locator(".compact-row").count() == 20
    assert zone_b.get_by_test_id("zone-all").inner_text() == "All 150 in zone B"
    fits("2-zone-b-opened")

    page.get_by_test_id("location-search").fill("B-14")
    page.locator("[data-testid=location-list] strong", has_text="B-149").wait_for()
    codes = page.locator("[data-testid=location-list] strong").all_inner_texts()
    assert codes == [f"B-{n}" for n in range(140, 150)]
    assert page.locator("[data-testid=zones]").count() == 0
    fits("3-searched")

    page.get_by_test_id("location-search").fill("")
    page.get_by_test_id("zones").wait_for()
    fits("4-search-cleared")
