"""Stocktakes end to end: opened by the API, counted blind on a picker's phone pages and through the
API, recounted by someone else, approved against stock that moved after the count; and every
refusal of the API in words, changing nothing."""
from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.accounts import create_token, create_user
from app.catalog import create_product, product_with_sku
from app.inventory import adjust_stock, transfer_stock
from app.models import (
    Discrepancy,
    Movement,
    StockLevel,
    Stocktake,
    StocktakeLine,
    StocktakeLocation,
)
from app.stocktakes import open_stocktake
from app.stocktakes.counting import record_count_at
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests.conftest import PASSWORD, ApiClient, sign_in
from tests.support.processes import BIN, ROOT, wms_env

HTMX = {"HX-Request": "true"}
# What the ledger holds before counting: quantities no count, id or date on a page will spell.
EXPECTED = {("A-01", "SKU-1"): 137, ("A-01", "SKU-2"): 58, ("A-02", "SKU-1"): 73, ("A-02", "SKU-3"): 249}
SECRETS = ("137", "58", "73", "249")


def build_floor() -> dict:
    """MAIN with A-01 and A-02 (zone A) and a pick face, NORTH with N-01; stock; discrepancies."""

    def build(session):
        main = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Gadget")
        create_product(session, sku="SKU-3", name="Sprocket")
        create_product(session, sku="SKU-9", name="Untouched")
        create_location(session, warehouse=main, code="A-01", type="storage", zone="A", pick_sequence=1)
        create_location(session, warehouse=main, code="A-02", type="storage", zone="A", pick_sequence=2)
        create_location(session, warehouse=main, code="P-01", type="pick", zone="P")
        north = create_warehouse(session, code="NORTH", name="North")
        create_location(session, warehouse=north, code="N-01", type="storage")
        create_user(session, username="counter2", password=PASSWORD, role="picker")

    db.atomic(build)
    for (location, sku), quantity in EXPECTED.items():
        db.atomic(adjust_stock, sku=sku, location=location, quantity=quantity, reason="found")
    db.atomic(adjust_stock, sku="SKU-1", location="N-01", quantity=5, reason="found", warehouse="NORTH")

    def discrepancies(session):
        main, north = get_warehouse(session), get_warehouse(session, "NORTH")
        ids = {}
        for key, sku, site, status in (("sku1", "SKU-1", main, "open"), ("sku3", "SKU-3", main, "open"),
                                       ("sku1-north", "SKU-1", north, "open"), ("sku9", "SKU-9", main, "open"),
                                       ("sku2-done", "SKU-2", main, "resolved")):
            item = Discrepancy(sku=sku, product_id=product_with_sku(session, sku).id, warehouse_id=site.id,
                               quantity=2, cause="shortfall", reference="SO-1", status=status)
            session.add(item)
            session.flush()
            ids[key] = item.id
        return ids

    return db.atomic(discrepancies)


def on_hand(location: str, sku: str, warehouse: str = "MAIN") -> int:
    from app.models import Location, Product, Warehouse

    with db.reading() as session:
        value = session.exec(
            select(StockLevel.on_hand)
            .join(Location, Location.id == StockLevel.location_id)
            .join(Warehouse, Warehouse.id == Location.warehouse_id)
            .join(Product, Product.id == StockLevel.product_id)
            .where(Location.code == location, Product.sku == sku, Warehouse.code == warehouse)
        ).first()
    return value or 0


def discrepancy(discrepancy_id: int) -> Discrepancy:
    with db.reading() as session:
        return session.get(Discrepancy, discrepancy_id)


def rows_of(model) -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def assert_blind(text: str) -> None:
    """No quantity the ledger expects, and no 'expected', in what a counter gets (CSRF tokens, random
    text that may spell any number, left out)."""
    text = re.sub(r'name="csrf_token" value="[^"]*"|"X-CSRFToken": "[^"]*"', "", text)
    for number in SECRETS:
        assert not re.search(rf"(?<![\d.]){number}(?![\d.])", text), f"{number} shown to a counter: {text[:3000]}"
    assert "expected" not in text.lower().replace("unexpected", "")


def counted_by_page(client, row_id: int, sku: str, quantity: int, *, scans: int = 1) -> list[str]:
    answers = []
    for n in range(scans):
        response = client.post(f"/count/{row_id}", data={"product": sku, "quantity": str(quantity if n == 0 else 1)},
                               headers=HTMX)
        assert response.status_code == 201, response.get_data(as_text=True)
        answers.append(response.get_data(as_text=True))
    return answers


def row_for(client, code: str) -> int:
    response = client.get(f"/count/go?location={code}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def check_ledger(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "wms"), "check-ledger"], check=False, env=wms_env(database_url), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


# ---- the stocktake issue 8 asks for ------------------------------------------------------------


def test_a_blind_stocktake_with_a_recount_and_stock_moved_after_the_count_posts_only_the_variances(any_db_app):
    app = any_db_app
    ids = build_floor()
    api = ApiClient(app.test_client(), db.atomic(create_token, "stocktakes"))
    picker = sign_in(app.test_client(), "picker")
    other = app.test_client()
    assert other.post("/login", data={"username": "counter2", "password": PASSWORD}).status_code == 302
    manager = sign_in(app.test_client(), "manager")

    opened = api.post("/api/v1/stocktakes", json={"locations": ["A-01", "a-02"]})
    assert opened.status_code == 201, opened.get_json()
    body = opened.get_json()
    stocktake_id = body["id"]
    assert body == {"id": stocktake_id, "status": "open", "warehouse": "MAIN", "blind": True,
                    "locations": [{"location": "A-01", "status": "waiting", "round": 1, "counted_by": None},
                                  {"location": "A-02", "status": "waiting", "round": 1, "counted_by": None}]}

    # A-01 on the picker's phone: the list, the location scanned, items scanned (one, and a typed 130).
    listed = picker.get("/count/").get_data(as_text=True)
    assert 'data-location="A-01"' in listed and 'data-location="A-02"' in listed
    assert_blind(listed)
    a01 = row_for(picker, "a-01")
    page = picker.get(f"/count/{a01}").get_data(as_text=True)
    assert 'data-testid="count-product"' in page and 'data-testid="count-close"' in page
    assert_blind(page)
    answers = counted_by_page(picker, a01, "9300000000011", 130, scans=5)  # 130, then 4 single scans: 134
    answers += counted_by_page(picker, a01, "SKU-2", 60)
    assert "+1 SKU-1 (Widget): 134 counted at A-01." in answers[4]
    for answer in answers:
        assert_blind(answer)
    assert_blind(picker.get(f"/count/{a01}").get_data(as_text=True))
    closed = picker.post(f"/count/{a01}/close")
    assert closed.status_code == 302
    assert_blind(picker.get("/count/").get_data(as_text=True))

    # A-02 through the API: SKU-1 counted twice (the second replaces the first), SKU-3 never scanned.
    for counted in (70, 75):
        answer = api.post(f"/api/v1/stocktakes/{stocktake_id}/counts", json={"location": "A-02", "sku": "sku-1",
                                                                          "counted": counted})
        assert answer.status_code == 201
        assert answer.get_json() == {"stocktake_id": stocktake_id, "location": "A-02", "sku": "SKU-1",
                                     "counted": counted}
        assert_blind(answer.get_data(as_text=True))
    while_counting = api.get(f"/api/v1/stocktakes/{stocktake_id}").get_json()
    a02_lines = [line for line in while_counting["lines"] if line["location"] == "A-02"]
    assert a02_lines == [{"location": "A-02", "sku": "SKU-1", "expected": None, "counted": 75, "variance": None,
                          "movement_id": None}]  # blind while the location is counted
    closed = api.post(f"/api/v1/stocktakes/{stocktake_id}/locations/A-02/close")
    assert closed.status_code == 200 and closed.get_json() == {"stocktake_id": stocktake_id, "location": "A-02",
                                                               "status": "closed"}
    assert_blind(closed.get_data(as_text=True))
    # Stock leaves A-02 after it was counted.
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-02", to_location="P-01", quantity=20)

    shown = api.get(f"/api/v1/stocktakes/{stocktake_id}").get_json()
    lines = {(line["location"], line["sku"]): line for line in shown["lines"]}
    assert {key: (line["expected"], line["counted"], line["variance"]) for key, line in lines.items()} == {
        ("A-01", "SKU-1"): (137, 134, -3), ("A-01", "SKU-2"): (58, 60, 2),
        ("A-02", "SKU-1"): (73, 75, 2), ("A-02", "SKU-3"): (249, 0, -249),
    }
    review = manager.get(f"/stocktakes/{stocktake_id}").get_data(as_text=True)
    assert 'data-testid="line-expected">137<' in review and "<strong>-3</strong>" in review

    # The manager orders a recount of A-01: blind, and not by the picker who counted it.
    recount = manager.post(f"/stocktakes/{stocktake_id}/recount", data={"locations": "A-01"})
    assert recount.status_code == 302
    leave = picker.get(f"/count/{a01}").get_data(as_text=True)
    assert 'data-testid="count-leave"' in leave and 'data-testid="count-form"' not in leave
    refused = picker.post(f"/count/{a01}", data={"product": "SKU-1", "quantity": "1"}, headers=HTMX)
    assert refused.status_code == 409 and "should be done by someone else" in refused.get_data(as_text=True)
    assert_blind(other.get("/count/").get_data(as_text=True))
    assert_blind(other.get(f"/count/{a01}").get_data(as_text=True))
    for answer in counted_by_page(other, a01, "SKU-1", 135) + counted_by_page(other, a01, "SKU-2", 60):
        assert_blind(answer)
    assert other.post(f"/count/{a01}/close").status_code == 302
    # Stock leaves A-01 after its recount.
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-01", to_location="P-01", quantity=30)
    movements_before = rows_of(Movement)

    approved = api.post(f"/api/v1/stocktakes/{stocktake_id}/approve")
    assert approved.status_code == 200, approved.get_json()
    result = approved.get_json()
    assert sorted((a["location"], a["sku"], a["quantity"]) for a in result["adjustments"]) == [
        ("A-01", "SKU-1", -2), ("A-01", "SKU-2", 2), ("A-02", "SKU-1", 2), ("A-02", "SKU-3", -249)]
    assert sorted(result["discrepancies_resolved"]) == sorted([ids["sku1"], ids["sku3"]])
    assert result["not_posted"] == [] and result["lines"] == 4 and result["status"] == "approved"
    assert rows_of(Movement) == movements_before + 4

    # The movements after the counts survive: only the variances were posted.
    assert on_hand("A-01", "SKU-1") == 137 - 30 - 2
    assert on_hand("A-01", "SKU-2") == 60
    assert on_hand("A-02", "SKU-1") == 73 - 20 + 2
    assert on_hand("A-02", "SKU-3") == 0
    assert on_hand("P-01", "SKU-1") == 50
    with db.reading() as session:
        posted = session.exec(select(Movement).where(Movement.reference == f"stocktake-{stocktake_id}")).all()
        assert {(m.type, m.reason) for m in posted} == {("count", "count")}
        assert {m.id for m in posted} == {a["movement_id"] for a in result["adjustments"]}
    for key in ("sku1", "sku3"):
        cleared = discrepancy(ids[key])
        assert (cleared.status, cleared.stocktake_id) == ("resolved", stocktake_id)
        assert f"stocktake {stocktake_id}" in cleared.note
    assert discrepancy(ids["sku1-north"]).status == "open"  # another warehouse
    assert discrepancy(ids["sku9"]).status == "open"  # not counted
    assert discrepancy(ids["sku2-done"]).stocktake_id is None  # resolved before

    final = api.get(f"/api/v1/stocktakes/{stocktake_id}").get_json()
    assert final["status"] == "approved" and all(line["movement_id"] for line in final["lines"] if line["variance"])
    assert api.post(f"/api/v1/stocktakes/{stocktake_id}/approve").status_code == 409
    late = count(api, stocktake_id, "A-01", "SKU-1", 1)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "stocktake_approved"
    assert rows_of(Movement) == movements_before + 4

    checked = check_ledger(app.config["DATABASE_URL"])
    assert checked.returncode == 0, checked.stderr
    assert "ledger is consistent" in checked.stdout


# ---- counting ----------------------------------------------------------------------------------


@pytest.fixture
def floor(app):
    return build_floor()


def open_count(api, *locations, **extra) -> int:
    response = api.post("/api/v1/stocktakes", json={"locations": list(locations), **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def count(api, stocktake_id, location, sku, counted):
    return api.post(f"/api/v1/stocktakes/{stocktake_id}/counts", json={"location": location, "sku": sku,
                                                                       "counted": counted})


def lines_of(api, stocktake_id) -> dict:
    return {(line["location"], line["sku"]): (line["expected"], line["counted"])
            for line in api.get(f"/api/v1/stocktakes/{stocktake_id}").get_json()["lines"]}


def test_expected_is_what_the_ledger_held_when_each_count_was_taken(floor, api):
    stocktake_id = open_count(api, "A-01")
    assert count(api, stocktake_id, "A-01", "SKU-1", 130).status_code == 201
    db.atomic(adjust_stock, sku="SKU-2", location="A-01", quantity=2, reason="found")  # after SKU-1, before SKU-2
    assert count(api, stocktake_id, "A-01", "SKU-2", 60).status_code == 201
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=-7, reason="damaged")
    assert api.post(f"/api/v1/stocktakes/{stocktake_id}/locations/A-01/close").status_code == 200
    assert lines_of(api, stocktake_id) == {("A-01", "SKU-1"): (137, 130), ("A-01", "SKU-2"): (60, 60)}
    # The approval posts counted - expected on today's balance: 130 - 137 on 130 left = 123.
    assert api.post(f"/api/v1/stocktakes/{stocktake_id}/approve").status_code == 200
    assert on_hand("A-01", "SKU-1") == 123 and on_hand("A-01", "SKU-2") == 60


def test_a_second_count_replaces_the_first_and_takes_a_new_snapshot(floor, api):
    stocktake_id = open_count(api, "A-02")
    count(api, stocktake_id, "A-02", "SKU-3", 200)
    db.atomic(adjust_stock, sku="SKU-3", location="A-02", quantity=1, reason="found")
    count(api, stocktake_id, "A-02", "SKU-3", 250)
    assert lines_of(api, stocktake_id) == {("A-02", "SKU-3"): (None, 250)}  # blind while counting
    api.post(f"/api/v1/stocktakes/{stocktake_id}/locations/A-02/close")
    assert lines_of(api, stocktake_id) == {("A-02", "SKU-3"): (250, 250), ("A-02", "SKU-1"): (73, 0)}


def test_closing_a_location_counts_what_was_not_scanned_as_zero_and_closing_again_changes_nothing(floor, api):
    stocktake_id = open_count(api, "A-01", "P-01")
    for code in ("A-01", "P-01"):
        assert api.post(f"/api/v1/stocktakes/{stocktake_id}/locations/{code}/close").status_code == 200
    lines = lines_of(api, stocktake_id)
    assert lines == {("A-01", "SKU-1"): (137, 0), ("A-01", "SKU-2"): (58, 0)}  # P-01 is empty: no lines
    again = api.post(f"/api/v1/stocktakes/{stocktake_id}/locations/A-01/close")
    assert again.status_code == 200 and lines_of(api, stocktake_id) == lines
    refused = count(api, stocktake_id, "A-01", "SKU-1", 3)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "location_closed"


def test_a_removal_larger_than_what_is_left_after_the_count_posts_what_is_there_and_raises_the_rest(any_db_app):
    build_floor()
    api = ApiClient(any_db_app.test_client(), db.atomic(create_token, "stocktakes"))
    stocktake_id = open_count(api, "A-02")
    count(api, stocktake_id, "A-02", "SKU-1", 70)  # 3 missing of 73
    count(api, stocktake_id, "A-02", "SKU-3", 249)
    api.post(f"/api/v1/stocktakes/{stocktake_id}/locations/A-02/close")
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-02", to_location="P-01", quantity=71)  # 2 left

    result = api.post(f"/api/v1/stocktakes/{stocktake_id}/approve").get_json()

    assert [(a["sku"], a["quantity"]) for a in result["adjustments"]] == [("SKU-1", -2)]
    (short,) = result["not_posted"]
    assert (short["sku"], short["location"], short["variance"], short["posted"], short["not_posted"],
            short["reason"]) == ("SKU-1", "A-02", -3, -2, 1, "stock_left")
    assert "count A-02 again" in short["message"]
    raised = discrepancy(short["discrepancy_id"])
    assert (raised.status, raised.cause, raised.quantity, raised.reference) == ("open", "count_not_posted", 1,
                                                                               f"stocktake-{stocktake_id}")
    assert raised.id not in result["discrepancies_resolved"]
    assert on_hand("A-02", "SKU-1") == 0 and on_hand("P-01", "SKU-1") == 71
    with db.reading() as session:
        from app import ledger

        assert ledger.check(session) == []


def test_a_removal_of_stock_allocated_to_orders_stops_at_the_free_stock(floor, api):
    from app import ledger
    from app.models import Location

    def promise(session):
        place = session.exec(select(Location).where(Location.code == "A-01")).one()
        product_id = session.exec(select(StockLevel.product_id).where(StockLevel.location_id == place.id)
                                  .order_by(StockLevel.product_id)).first()
        ledger.allocate(session, product_id=product_id, location=place, quantity=100, reference="SO-9")

    db.atomic(promise)
    stocktake_id = open_count(api, "A-01")
    count(api, stocktake_id, "A-01", "SKU-1", 30)  # 107 missing of 137; 100 allocated, 37 free
    count(api, stocktake_id, "A-01", "SKU-2", 58)
    api.post(f"/api/v1/stocktakes/{stocktake_id}/locations/A-01/close")
    result = api.post(f"/api/v1/stocktakes/{stocktake_id}/approve").get_json()
    (short,) = result["not_posted"]
    assert (short["posted"], short["not_posted"], short["reason"]) == (-37, 70, "allocated")
    assert on_hand("A-01", "SKU-1") == 100


def test_a_recount_goes_to_someone_else_unless_nobody_else_can(floor, app, api):
    stocktake_id = open_count(api, "A-01")
    picker = sign_in(app.test_client(), "picker")
    row = row_for(picker, "A-01")
    counted_by_page(picker, row, "SKU-1", 137)
    assert picker.post(f"/count/{row}/close").status_code == 302
    assert api.post(f"/api/v1/stocktakes/{stocktake_id}/recount", json={"locations": ["A-01"]}).status_code == 200
    shown = api.get(f"/api/v1/stocktakes/{stocktake_id}").get_json()
    assert shown["locations"] == [{"location": "A-01", "status": "waiting", "round": 2, "counted_by": None}]
    assert shown["lines"] == []

    refused = picker.post(f"/count/{row}/close")
    assert refused.status_code == 409 and "someone else" in refused.get_data(as_text=True)
    assert picker.post(f"/count/{row}/start").status_code == 302  # nobody else can
    counted_by_page(picker, row, "SKU-1", 136)
    assert picker.post(f"/count/{row}/close").status_code == 302
    assert lines_of(api, stocktake_id)[("A-01", "SKU-1")] == (137, 136)


def test_two_pickers_do_not_count_one_location_at_once(floor, app, api):
    open_count(api, "A-01")
    picker = sign_in(app.test_client(), "picker")
    other = app.test_client()
    other.post("/login", data={"username": "counter2", "password": PASSWORD})
    row = row_for(picker, "A-01")
    counted_by_page(picker, row, "SKU-1", 1)
    page = other.get(f"/count/{row}").get_data(as_text=True)
    assert "picker is counting A-01" in page and 'data-testid="count-form"' not in page
    refused = other.post(f"/count/{row}", data={"product": "SKU-1", "quantity": "1"}, headers=HTMX)
    assert refused.status_code == 409 and "being counted by picker" in refused.get_data(as_text=True)


def test_approval_waits_for_every_location_to_be_closed(floor, api):
    stocktake_id = open_count(api, "A-01", "A-02", "P-01")
    api.post(f"/api/v1/stocktakes/{stocktake_id}/locations/A-01/close")
    refused = api.post(f"/api/v1/stocktakes/{stocktake_id}/approve")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"] == "2 locations are not counted and closed yet: A-02, P-01"
    assert rows_of(Movement) == len(EXPECTED) + 1


def test_a_location_is_in_one_open_stocktake_at_a_time_and_a_cancelled_one_frees_it(floor, api):
    first = open_count(api, "A-01")
    clash = api.post("/api/v1/stocktakes", json={"locations": ["A-02", "A-01"]})
    assert clash.status_code == 409
    assert clash.get_json()["error"] == {"code": "location_in_open_stocktake", "field": "locations.1",
                                         "message": f"A-01 is already being counted in stocktake {first}: approve "
                                                    "or cancel that one first"}
    cancelled = api.post(f"/api/v1/stocktakes/{first}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert api.post("/api/v1/stocktakes", json={"locations": ["A-02", "A-01"]}).status_code == 201
    assert api.post(f"/api/v1/stocktakes/{first}/approve").status_code == 409


# ---- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("body, status, field, words", [
    ({"locations": []}, 400, "locations", "at least 1 item"),
    ({"locations": ["A-01", "a-01"]}, 400, "locations.1", "A-01 is listed twice"),
    ({"locations": ["Z-99"]}, 404, "locations.0", "no location Z-99 in warehouse MAIN"),
    ({"locations": ["N-01"]}, 404, "locations.0", "location N-01 is in warehouse NORTH, not in MAIN"),
    ({"locations": ["A-01"], "warehouse": "NOPE"}, 404, "warehouse", "no warehouse NOPE"),
    ({"locations": ["A-01"], "blind": "yes"}, 400, "blind", "blind"),
    ({"locations": "A-01"}, 400, "locations", "array"),
    ({"locations": ["A-01"] * 5001}, 400, "locations", "more than 5,000 items"),
    ({"locations": ["A-01"], "extra": 1}, 400, "extra", "not a field"),
])
def test_opening_refuses_bad_requests_in_words_and_opens_nothing(floor, api, body, status, field, words):
    response = api.post("/api/v1/stocktakes", json=body)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["field"] == field and words in error["message"]
    assert rows_of(Stocktake) == 0 and rows_of(StocktakeLocation) == 0


@pytest.mark.parametrize("body, status, field, words", [
    ({"location": "A-01", "sku": "SKU-1", "counted": -1}, 400, "counted", "from 0 to 1,000,000"),
    ({"location": "A-01", "sku": "SKU-1", "counted": 1_000_001}, 400, "counted", "from 0 to 1,000,000"),
    ({"location": "A-01", "sku": "SKU-1", "counted": "3"}, 400, "counted", "whole number"),
    ({"location": "A-01", "sku": "SKU-1", "counted": 1.5}, 400, "counted", "whole number"),
    ({"location": "A-01", "sku": "SKU-1"}, 400, "counted", "required"),
    ({"location": "A-01", "sku": "NOPE", "counted": 1}, 404, "sku", "no product with SKU or barcode NOPE"),
    ({"location": "Z-99", "sku": "SKU-1", "counted": 1}, 404, "location", "no location Z-99 in warehouse MAIN"),
    ({"location": "A-02", "sku": "SKU-1", "counted": 1}, 404, "location", "A-02 is not part of stocktake"),
    ({"location": "N-01", "sku": "SKU-1", "counted": 1}, 404, "location", "is in warehouse NORTH, not in MAIN"),
    ({"location": "A-01\u0000", "sku": "SKU-1", "counted": 1}, 400, "location", "control character"),
])
def test_counts_refuse_bad_requests_in_words_and_count_nothing(floor, api, body, status, field, words):
    stocktake_id = open_count(api, "A-01")
    response = api.post(f"/api/v1/stocktakes/{stocktake_id}/counts", json=body)
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field and words in error["message"]
    assert rows_of(StocktakeLine) == 0
    assert api.get(f"/api/v1/stocktakes/{stocktake_id}").get_json()["locations"][0]["status"] == "waiting"


def test_unknown_stocktakes_and_ids_past_any_row_are_404_or_400_in_words(floor, api):
    missing = api.post("/api/v1/stocktakes/999/counts", json={"location": "A-01", "sku": "SKU-1", "counted": 1})
    assert missing.status_code == 404 and missing.get_json()["error"] == {
        "code": "not_found", "field": "stocktake_id", "message": "no stocktake 999"}
    for path in ("/api/v1/stocktakes/0", "/api/v1/stocktakes/99999999999", "/api/v1/stocktakes/abc"):
        response = api.get(path)
        assert response.status_code == 400 and response.get_json()["error"]["field"] == "stocktake_id"
    stocktake_id = open_count(api, "A-01")
    unknown = api.post(f"/api/v1/stocktakes/{stocktake_id}/locations/Z-99/close")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["field"] == "location"
    waiting = api.post(f"/api/v1/stocktakes/{stocktake_id}/recount", json={"locations": ["A-01"]})
    assert waiting.status_code == 409 and "has not been counted yet" in waiting.get_json()["error"]["message"]


# ---- at the same moment ------------------------------------------------------------------------


def at_once(app, work, times: int) -> list:
    """Run work() `times` times in threads started together; each result or the error raised."""
    start = Barrier(times)

    def run(_):
        with app.app_context():
            start.wait()
            try:
                return work()
            except Exception as error:  # noqa: BLE001 - the test looks at what each one got
                return error

    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(run, range(times)))


def test_scans_at_the_same_moment_are_all_counted(any_db_app):
    build_floor()
    stocktake_id = db.atomic(open_stocktake, locations=["A-01"])["id"]
    with db.reading() as session:
        row_id = session.exec(select(StocktakeLocation.id).where(StocktakeLocation.stocktake_id == stocktake_id)).one()

    def scan_ten():
        return [db.atomic(record_count_at, row_id, product="SKU-1", add=1).counted for _ in range(10)]

    results = at_once(any_db_app, scan_ten, 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    with db.reading() as session:
        assert session.exec(select(StocktakeLine.counted)).all() == [40]


def test_two_counts_opened_at_once_over_one_location_leave_it_in_one(any_db_app):
    build_floor()
    results = at_once(any_db_app, lambda: db.atomic(open_stocktake, locations=["A-02", "A-01"])["id"], 2)
    opened = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(opened) == 1 and len(refused) == 1
    assert getattr(refused[0], "code", None) == "location_in_open_stocktake"
    assert rows_of(StocktakeLocation) == 2
