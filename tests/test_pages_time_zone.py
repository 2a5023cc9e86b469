"""Times on pages are shown in the warehouse's time zone, formatted by Babel for the reader's
language; the warehouse's zone is a manager's setting on the warehouses page; without one a page
follows the browser's zone (the tz cookie app.js keeps), else says UTC. The API keeps RFC 3339 UTC."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import text as sql

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import Warehouse
from app.timeutil import local_text, time_zone
from app.warehouses import create_location, get_warehouse

MOMENT = datetime(2026, 12, 2, 18, 30, tzinfo=UTC)  # 7:30 am on 3 December in Auckland (NZDT, +13)
HISTORY = "/inventory/history?sku=SKU-TZ"


def a_movement_at(moment: datetime) -> None:
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-TZ", name="Clockwork", weight=1)
        create_location(session, warehouse=site, code="A-01", type="storage", zone="A")

    db.atomic(build)
    db.atomic(adjust_stock, sku="SKU-TZ", location="A-01", quantity=3, reason="found", reference="TZ")
    db.atomic(lambda session: session.execute(sql("UPDATE movement SET created_at = :at"), {"at": moment}))


def shown_time(html: str) -> tuple[str, str, str]:
    """(datetime attribute, zone named in its title, text) of the history's first time."""
    found = re.search(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', html)
    assert found, html
    return found.group(1), found.group(2), found.group(3)


def zone_of_main() -> str | None:
    with db.reading() as session:
        return get_warehouse(session, "MAIN").time_zone


def test_a_warehouse_in_auckland_shows_a_utc_time_as_auckland_time_in_babels_format(app, manager):
    a_movement_at(MOMENT)
    response = manager.post("/locations/warehouses/MAIN/time-zone", data={"time_zone": "Pacific/Auckland"})
    assert response.status_code == 302
    assert zone_of_main() == "Pacific/Auckland"

    stamp, zone, text = shown_time(manager.get(HISTORY).get_data(as_text=True))
    assert stamp == "2026-12-02T18:30:00Z"  # the moment itself, for machines
    assert zone == "Pacific/Auckland"
    # Babel's medium date and short time for English: the next morning in Auckland
    assert text == local_text(MOMENT, time_zone("Pacific/Auckland"), "en") == "Dec 3, 2026, 7:30\u202fAM"
    # the htmx partial the history's filters fetch shows it the same way
    partial = manager.get(HISTORY, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert shown_time(partial)[2] == text


def test_the_readers_language_chooses_the_format_not_the_zone(app, manager):
    a_movement_at(MOMENT)
    db.atomic(lambda session: setattr(get_warehouse(session, "MAIN"), "time_zone", "Pacific/Auckland"))
    page = manager.get(HISTORY, headers={"Accept-Language": "en-NZ,en;q=0.8"}).get_data(as_text=True)
    assert shown_time(page)[2] == "3 Dec 2026, 7:30\u202fam"
    page = manager.get(HISTORY, headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert shown_time(page)[2] == "03.12.2026, 07:30"


def test_without_a_warehouse_zone_the_browsers_zone_is_used_else_utc_said_as_such(app, manager):
    a_movement_at(MOMENT)
    assert zone_of_main() is None
    stamp, zone, text = shown_time(manager.get(HISTORY).get_data(as_text=True))
    assert (zone, text) == ("UTC", "Dec 2, 2026, 6:30\u202fPM UTC")

    manager.set_cookie("tz", "America/New_York")
    stamp, zone, text = shown_time(manager.get(HISTORY).get_data(as_text=True))
    assert (zone, text) == ("America/New_York", "Dec 2, 2026, 1:30\u202fPM")

    manager.set_cookie("tz", "../../etc/passwd")  # anything not in the tz database is ignored
    assert shown_time(manager.get(HISTORY).get_data(as_text=True))[1] == "UTC"

    db.atomic(lambda session: setattr(get_warehouse(session, "MAIN"), "time_zone", "Pacific/Auckland"))
    manager.set_cookie("tz", "America/New_York")  # the warehouse's setting wins over the browser's
    assert shown_time(manager.get(HISTORY).get_data(as_text=True))[1] == "Pacific/Auckland"


def test_the_warehouses_page_offers_the_browsers_zone_until_one_is_saved(app, manager):
    html = manager.get("/locations/warehouses").get_data(as_text=True)
    field = re.search(r'<input name="time_zone"[^>]*>', html).group()
    assert "data-browser-time-zone" in field and 'value=""' in field  # app.js fills it from Intl
    assert '<option value="Pacific/Auckland">' in html
    manager.post("/locations/warehouses/MAIN/time-zone", data={"time_zone": "Australia/Sydney"})
    html = manager.get("/locations/warehouses").get_data(as_text=True)
    field = re.search(r'<input name="time_zone"[^>]*>', html).group()
    assert 'value="Australia/Sydney"' in field and "data-browser-time-zone" not in field


def test_a_zone_that_does_not_exist_is_refused_in_words_and_nothing_changes(app, manager, picker):
    manager.post("/locations/warehouses/MAIN/time-zone", data={"time_zone": "Pacific/Auckland"})
    for typed in ("Mars/Olympus_Mons", "pacific/auckland", "../zoneinfo/UTC", "A\x00B", "W" * 5000):
        response = manager.post("/locations/warehouses/MAIN/time-zone", data={"time_zone": typed})
        assert response.status_code == 400, typed
        html = response.get_data(as_text=True)
        assert 'data-testid="field-error"' in html and "time zone" in html
        assert zone_of_main() == "Pacific/Auckland"
    assert manager.post("/locations/warehouses/NOPE/time-zone", data={"time_zone": "UTC"}).status_code == 404
    assert picker.post("/locations/warehouses/MAIN/time-zone", data={"time_zone": "UTC"}).status_code == 403
    assert zone_of_main() == "Pacific/Auckland"
    # a blank clears it
    manager.post("/locations/warehouses/MAIN/time-zone", data={"time_zone": " "})
    assert zone_of_main() is None


def test_the_api_keeps_rfc_3339_utc_whatever_the_warehouses_zone(app, manager, api):
    a_movement_at(MOMENT)
    manager.post("/locations/warehouses/MAIN/time-zone", data={"time_zone": "Pacific/Auckland"})
    items = api.get("/api/v1/movements?sku=SKU-TZ").get_json()["items"]
    assert items[0]["created_at"] == "2026-12-02T18:30:00Z"
    with db.reading() as session:
        assert session.get(Warehouse, get_warehouse(session).id).time_zone == "Pacific/Auckland"


def test_no_template_or_page_formats_a_time_by_hand():
    """Every time a page shows goes through local_time / local_date / local_clock (the warehouse's
    zone, Babel's format): no strftime, isoformat or sliced ISO string in a template or a page module."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    by_hand = re.compile(r"strftime\(|\.isoformat\(\)|_at\[:\d+\]|since\[:\d+\]")
    found = [f"{path.relative_to(root)}:{number}: {line.strip()[:100]}"
             for path in sorted([*root.glob("templates/**/*.html"), *root.glob("app/web/*.py")])
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if by_hand.search(line) and '"local_time" is filter' not in line]
    assert found == []
