"""Multi-warehouse pages: each person works in a current warehouse (the default until they switch,
kept in their session, switched from the header); stock by location, the movement history and its
filters, the adjust and move pages follow it, and ?warehouse=CODE looks at another without switching."""
import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock, transfer_stock
from app.models import Movement
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests.conftest import sign_in

HTMX = {"HX-Request": "true"}


@pytest.fixture
def two_sites(any_db_app):
    """MAIN (default): A-01, B-01; NORTH: N-01, N-02. SKU-1 moved around in both."""

    def build(session):
        main = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Blue widget")
        create_location(session, warehouse=main, code="A-01", type="storage")
        create_location(session, warehouse=main, code="B-01", type="pick")
        north = create_warehouse(session, code="NORTH", name="North shed")
        create_location(session, warehouse=north, code="N-01", type="storage")
        create_location(session, warehouse=north, code="N-02", type="pick")

    db.atomic(build)
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=10, reason="found", reference="MAIN-IN")
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-01", to_location="B-01", quantity=2)
    db.atomic(adjust_stock, sku="SKU-1", location="N-01", quantity=7, reason="found", reference="NORTH-IN",
              warehouse="NORTH")
    return any_db_app


def switcher(html: str) -> list[tuple[str, bool]] | None:
    """The header's warehouse options (code, selected), or None when there is no switcher."""
    found = re.search(r'<form[^>]*data-testid="warehouse-switch".*?</form>', html, re.S)
    if not found:
        return None
    return [(code, bool(selected)) for selected, code in
            re.findall(r'<option value="[^"]*" (selected)?>([^<]*)</option>', found.group(0))]


def location_codes(html: str) -> list[str]:
    return re.findall(r'href="/inventory/locations/\d+"><strong>([^<]+)</strong>', html)


def history_references(html: str) -> list[str]:
    return re.findall(r'<td data-label="Reason">[^<]*?(MAIN-IN|NORTH-IN|—)', html)


def test_one_warehouse_has_no_switcher(app, picker):
    assert switcher(picker.get("/").get_data(as_text=True)) is None
    assert switcher(picker.get("/inventory/locations").get_data(as_text=True)) is None


def test_the_header_switches_the_current_warehouse_and_every_page_follows(two_sites):
    picker = sign_in(two_sites.test_client(), "picker")
    home = picker.get("/").get_data(as_text=True)
    assert switcher(home) == [("MAIN", True), ("NORTH", False)]
    by_location = picker.get("/inventory/locations").get_data(as_text=True)
    assert location_codes(by_location) == ["A-01", "B-01"] and "· MAIN</span>" in by_location

    switched = picker.post("/warehouse", data={"warehouse": "north", "next": "/inventory/locations?q=N"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/inventory/locations?q=N"
    by_location = picker.get("/inventory/locations").get_data(as_text=True)
    assert location_codes(by_location) == ["N-01", "N-02"] and "· NORTH</span>" in by_location
    assert switcher(by_location) == [("MAIN", False), ("NORTH", True)]
    history = picker.get("/inventory/history").get_data(as_text=True)
    assert history.count('data-testid="movement"') == 1 and "NORTH-IN" in history and "MAIN-IN" not in history

    # Each person has their own current warehouse.
    other = sign_in(two_sites.test_client(), "manager")
    assert location_codes(other.get("/inventory/locations").get_data(as_text=True)) == ["A-01", "B-01"]


def test_a_warehouse_in_the_address_looks_at_it_without_switching(two_sites):
    picker = sign_in(two_sites.test_client(), "picker")
    page = picker.get("/inventory/locations?warehouse=north").get_data(as_text=True)
    assert location_codes(page) == ["N-01", "N-02"]
    assert switcher(page) == [("MAIN", False), ("NORTH", True)]  # the header says which one the page shows
    assert 'name="next" value="/inventory/locations"' in page  # switching goes back without the override
    assert location_codes(picker.get("/inventory/locations").get_data(as_text=True)) == ["A-01", "B-01"]
    partial = picker.get("/inventory/locations?warehouse=NORTH&q=02", headers=HTMX).get_data(as_text=True)
    assert location_codes(partial) == ["N-02"]


def test_the_history_filters_take_a_warehouse_defaulting_to_the_current_one(two_sites):
    picker = sign_in(two_sites.test_client(), "picker")
    page = picker.get("/inventory/history").get_data(as_text=True)
    assert page.count('data-testid="movement"') == 2 and "NORTH-IN" not in page
    assert re.search(r'<select name="warehouse"><option value="MAIN" selected>MAIN</option><option value="NORTH" >', page)
    north = picker.get("/inventory/history", query_string={"warehouse": "NORTH"}, headers=HTMX).get_data(as_text=True)
    assert north.count('data-testid="movement"') == 1 and "NORTH-IN" in north
    by_location = picker.get("/inventory/history", query_string={"warehouse": "NORTH", "location": "n-01"},
                             headers=HTMX).get_data(as_text=True)
    assert by_location.count('data-testid="movement"') == 1
    # A location filter names a location of the warehouse filtered on.
    elsewhere = picker.get("/inventory/history", query_string={"location": "N-01"}, headers=HTMX)
    assert elsewhere.status_code == 404 and "no location N-01" in elsewhere.get_data(as_text=True)
    picker.post("/warehouse", data={"warehouse": "NORTH"})
    assert picker.get("/inventory/history", query_string={"location": "N-01"}, headers=HTMX).status_code == 200


def test_history_pages_keep_the_warehouse_filtered_on(two_sites):
    db.atomic(lambda s: [adjust_stock(s, sku="SKU-1", location="N-02", quantity=1, reason="found", warehouse="NORTH")
                         for _ in range(55)])
    picker = sign_in(two_sites.test_client(), "picker")
    first = picker.get("/inventory/history?warehouse=NORTH").get_data(as_text=True)
    older = re.search(r'href="(/inventory/history\?[^"]*before_id=[^"]*)"', first).group(1).replace("&amp;", "&")
    assert "warehouse=NORTH" in older
    second = picker.get(older).get_data(as_text=True)
    assert second.count('data-testid="movement"') == 56 - 50 and "MAIN-IN" not in second


def test_the_adjust_and_move_pages_work_in_the_current_warehouse(two_sites):
    manager = sign_in(two_sites.test_client(), "manager")
    form = {"location": "N-01", "product": "SKU-1", "quantity": "1", "reason": "found", "reference": ""}
    assert manager.post("/inventory/adjust", data=form).status_code == 404  # N-01 is not in MAIN
    manager.post("/warehouse", data={"warehouse": "NORTH", "next": "/inventory/adjust"})
    assert "Adjust stock <span class=\"muted\">· NORTH" in manager.get("/inventory/adjust").get_data(as_text=True)
    done = manager.post("/inventory/adjust", data=form)
    assert done.status_code == 200 and "On hand there now: 8." in done.get_data(as_text=True)

    move = {"from_location": "N-01", "product": "SKU-1", "quantity": "3", "to_location": "N-02"}
    moved = manager.post("/moves/", data=move, headers=HTMX)
    assert moved.status_code == 200 and "Now 3 at N-02." in moved.get_data(as_text=True)
    check = manager.get("/moves/check?kind=location&code=n-02", headers={"Accept": "application/json"})
    assert check.json == {"label": "N-02 · pick"}
    assert "Move stock <span class=\"muted\">· NORTH" in manager.get("/moves/").get_data(as_text=True)


@pytest.mark.parametrize(
    "warehouse, status, words",
    [("", 400, "choose a warehouse"), ("NOPE", 404, "no warehouse NOPE"), ("A\x00B", 400, "control character"),
     ("W" * 5000, 404, "no warehouse WWW")],
)
def test_a_bad_switch_is_refused_in_words_and_keeps_the_current_warehouse(two_sites, warehouse, status, words):
    picker = sign_in(two_sites.test_client(), "picker")
    picker.post("/warehouse", data={"warehouse": "NORTH"})
    response = picker.post("/warehouse", data={"warehouse": warehouse, "next": "/inventory/locations"})
    assert response.status_code == status and words in response.get_data(as_text=True)
    assert location_codes(picker.get("/inventory/locations").get_data(as_text=True)) == ["N-01", "N-02"]


@pytest.mark.parametrize("next_page", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x",
                                       "", "/ok\x00", "/" + "x" * 3000])
def test_switching_goes_back_only_to_a_page_of_this_site(two_sites, next_page):
    picker = sign_in(two_sites.test_client(), "picker")
    response = picker.post("/warehouse", data={"warehouse": "NORTH", "next": next_page})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_switching_needs_a_signed_in_person(two_sites):
    assert two_sites.test_client().post("/warehouse", data={"warehouse": "NORTH"}).status_code == 302  # to sign in
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(Movement)).one() == 3
