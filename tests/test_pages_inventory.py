"""The stock pages: by product, by location, movement history, and manager adjustments."""
import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock, transfer_stock
from app.models import Movement
from app.warehouses import create_location, get_warehouse

HTMX = {"HX-Request": "true"}


@pytest.fixture
def floor(app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Red gadget")
        for code in ("A-01", "B-01"):
            create_location(session, warehouse=site, code=code, type="storage", zone=code[0])

    db.atomic(build)
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=10, reason="found", reference="INIT")
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-01", to_location="B-01", quantity=3)
    return app


def movement_count() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def on_hand(code: str, sku: str = "SKU-1") -> int:
    with db.reading() as session:
        from app.inventory import stock_summary

        rows = stock_summary(session, sku)["locations"]
        return next((r["on_hand"] for r in rows if r["location"] == code), 0)


def row_numbers(html: str, sku: str) -> list[str]:
    row = html.split(f">{sku}</strong>", 1)[1].split("</tr>", 1)[0]
    return re.findall(r'class="num">(?:<strong>)?(\d+)', row)


def test_stock_by_product_shows_on_hand_allocated_available_incoming(floor, picker):
    html = picker.get("/inventory/").get_data(as_text=True)
    assert row_numbers(html, "SKU-1") == ["10", "0", "10", "0"]
    assert row_numbers(html, "SKU-2") == ["0", "0", "0", "0"]
    assert 'href="/inventory/history?sku=SKU-1"' in html


def test_stock_search_answers_htmx_with_the_rows_only(floor, picker):
    html = picker.get("/inventory/?q=gadget", headers=HTMX).get_data(as_text=True)
    assert "<html" not in html and "SKU-2" in html and "SKU-1" not in html


def test_stock_by_location_lists_units_and_what_is_in_a_location(floor, picker):
    html = picker.get("/inventory/locations?q=B-01").get_data(as_text=True)
    assert "B-01" in html and "A-01" not in html
    bin_id = re.search(r'href="/inventory/locations/(\d+)"', html).group(1)
    inside = picker.get(f"/inventory/locations/{bin_id}").get_data(as_text=True)
    assert "SKU-1" in inside and "Blue widget" in inside and "SKU-2" not in inside
    assert picker.get("/inventory/locations?q=B", headers=HTMX).get_data(as_text=True).startswith("\n<div")
    assert picker.get("/inventory/locations/99999").status_code == 404


def test_history_of_a_sku_shows_its_stock_and_movements_newest_first(floor, picker):
    html = picker.get("/inventory/history?sku=SKU-1").get_data(as_text=True)
    assert '<dd data-testid="on-hand">10</dd>' in html
    types = re.findall(r'<span class="badge">(\w+)</span>', html)
    assert types == ["transfer", "adjustment"]


def test_history_filters_by_type_location_and_reference(floor, picker):
    def badges(query):
        html = picker.get("/inventory/history", query_string={"sku": "SKU-1", **query}, headers=HTMX).get_data(as_text=True)
        assert "<html" not in html
        return re.findall(r'<span class="badge">(\w+)</span>', html)

    assert badges({"type": "adjustment"}) == ["adjustment"]
    assert badges({"location": "b-01"}) == ["transfer"]
    assert badges({"reference": "INIT"}) == ["adjustment"]
    assert badges({"reference": "nothing"}) == []


def test_history_pages_on_with_before_id(floor, picker):
    db.atomic(lambda s: [adjust_stock(s, sku="SKU-1", location="A-01", quantity=1, reason="found") for _ in range(55)])
    first = picker.get("/inventory/history?sku=SKU-1").get_data(as_text=True)
    assert first.count('data-testid="movement"') == 50
    older = re.search(r'href="(/inventory/history\?[^"]*before_id=(\d+)[^"]*)"', first)
    assert older, "an Older link"
    second = picker.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('data-testid="movement"') == 57 - 50
    ids = [int(n) for n in re.findall(r'<td data-label="#" class="num">(\d+)</td>', second)]
    assert max(ids) < int(older.group(2))


def test_bad_history_filters_are_4xx_with_a_message(floor, picker):
    response = picker.get("/inventory/history?before_id=abc")
    assert response.status_code == 400 and "before_id (a movement number) must be" in response.get_data(as_text=True)
    assert picker.get("/inventory/history?type=teleport").status_code == 400
    assert picker.get("/inventory/history?sku=NOPE").status_code == 404
    response = picker.get("/inventory/history?location=Z-99", headers=HTMX)
    assert response.status_code == 404 and "no location Z-99" in response.get_data(as_text=True)


def test_manager_adjusts_stock_by_scanning_and_sees_the_new_on_hand(floor, manager):
    response = manager.post(
        "/inventory/adjust", data={"location": "a-01", "product": "9300000000011", "quantity": "-2", "reason": "damaged"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "On hand there now: 5." in html and 'data-testid="flash-ok"' in html
    assert on_hand("A-01") == 5
    with db.reading() as session:
        last = session.exec(select(Movement).order_by(Movement.id.desc())).first()
        assert (last.type, last.reason, last.quantity) == ("adjustment", "damaged", 2)


@pytest.mark.parametrize(
    "form, status, message",
    [
        ({"quantity": "-8"}, 409, "only 7 free at A-01"),
        ({"quantity": "0"}, 400, "cannot be zero"),
        ({"quantity": "two"}, 400, "whole number"),
        ({"quantity": "9223372036854775807"}, 400, "from -1,000,000 to 1,000,000"),
        ({"quantity": "1e20"}, 400, "whole number"),
        ({"reason": "stolen"}, 400, "reason must be one of"),
        ({"product": "NOPE"}, 404, "no product"),
        ({"location": "Z-99"}, 404, "no location"),
    ],
)
def test_bad_adjustments_are_4xx_under_the_field_and_change_nothing(floor, manager, form, status, message):
    before = movement_count()
    data = {"location": "A-01", "product": "SKU-1", "quantity": "1", "reason": "found", **form}
    response = manager.post("/inventory/adjust", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert message in html.lower() or message in html
    assert 'data-testid="field-error"' in html and 'aria-invalid="true"' in html and 'name="location" value="' in html
    assert movement_count() == before
    assert on_hand("A-01") == 7


def test_picker_cannot_adjust(floor, picker):
    before = movement_count()
    assert picker.get("/inventory/adjust").status_code == 403
    assert picker.get("/inventory/adjust", headers=HTMX).status_code == 403
    data = {"location": "A-01", "product": "SKU-1", "quantity": "5", "reason": "found"}
    assert picker.post("/inventory/adjust", data=data).status_code == 403
    assert picker.post("/inventory/adjust", data=data, headers=HTMX).status_code == 403
    assert movement_count() == before
    assert 'href="/inventory/adjust"' not in picker.get("/inventory/").get_data(as_text=True)
