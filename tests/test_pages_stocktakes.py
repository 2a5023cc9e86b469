"""Stocktake pages: managers open counts (a list, a zone, the suggestions), review and approve;
pickers count on the phone page, blind, with refusals in words under the field."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db
from app.accounts import create_token
from app.catalog import create_product
from app.inventory import transfer_stock
from app.models import Movement, Stocktake, StocktakeLine, StocktakeLocation
from app.stocktakes import approve, close_location, open_stocktake, record_count
from tests.conftest import ApiClient
from tests.test_stocktakes import (
    HTMX,
    assert_blind,
    build_floor,
    on_hand,
    row_for,
    rows_of,
)


@pytest.fixture
def floor(app):
    return build_floor()


@pytest.fixture
def api(app):
    return ApiClient(app.test_client(), db.atomic(create_token, "pages"))


def opened(*locations, blind=True) -> int:
    return db.atomic(open_stocktake, locations=list(locations), blind=blind)["id"]


# ---- who may open what ---------------------------------------------------------------------------


def test_pickers_count_but_do_not_open_review_or_approve(floor, picker):
    stocktake_id = opened("A-01")
    assert picker.get("/count/").status_code == 200
    for path in ("/stocktakes/", "/stocktakes/suggestions", f"/stocktakes/{stocktake_id}"):
        assert picker.get(path).status_code == 403
    for path in ("/stocktakes/", f"/stocktakes/{stocktake_id}/approve", f"/stocktakes/{stocktake_id}/recount",
                 f"/stocktakes/{stocktake_id}/cancel"):
        assert picker.post(path, data={"locations": "A-01"}).status_code == 403
    assert rows_of(Stocktake) == 1 and db.atomic(lambda s: s.get(Stocktake, stocktake_id).status) == "open"


def test_the_home_page_offers_counting_to_pickers_and_stocktakes_to_managers(floor, picker, manager):
    assert "/count/" in picker.get("/").get_data(as_text=True)
    assert "/stocktakes/" not in picker.get("/").get_data(as_text=True)
    assert "/stocktakes/" in manager.get("/").get_data(as_text=True)


# ---- managers -------------------------------------------------------------------------------------


def test_a_manager_opens_a_count_of_typed_locations_and_lands_on_it(floor, manager):
    response = manager.post("/stocktakes/", data={"how": "list", "locations": "a-01, A-02\nA-01", "blind": "yes",
                                                  "warehouse": "MAIN"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "opened: 2 locations to count, blind." in html
    assert html.count('data-testid="stocktake-location"') == 2
    listed = manager.get("/stocktakes/").get_data(as_text=True)
    assert 'data-testid="stocktake-row"' in listed and "0 of 2" in listed


def test_a_manager_opens_a_count_of_a_zone_not_blind(floor, manager):
    response = manager.post("/stocktakes/", data={"how": "zone", "zone": "A", "warehouse": "MAIN"})
    assert response.status_code == 302
    with db.reading() as session:
        stocktake = session.exec(select(Stocktake)).one()
        assert stocktake.blind is False and len(session.exec(select(StocktakeLocation)).all()) == 2


@pytest.mark.parametrize("data, status, words", [
    ({"how": "list", "locations": "Z-99"}, 404, "no location Z-99 in warehouse MAIN"),
    ({"how": "list", "locations": ""}, 400, "name at least one location"),
    ({"how": "list", "locations": "A-01\x00"}, 400, "control character"),
    ({"how": "zone", "zone": "Q"}, 404, "no active location in zone Q"),
    ({"how": "list", "locations": "A-01", "warehouse": "NOPE"}, 404, "no warehouse NOPE"),
    ({"how": "list", "locations": "A-01", "warehouse": ""}, 400, "the form names no warehouse"),
    ({"how": "all", "locations": "A-01"}, 400, "open a count of a zone or of a list of locations"),
])
def test_opening_refusals_are_said_on_the_page_and_open_nothing(floor, manager, data, status, words):
    response = manager.post("/stocktakes/", data={"warehouse": "MAIN", **data})
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert words in html and ('data-testid="field-error"' in html or 'data-testid="flash-error"' in html)
    assert rows_of(Stocktake) == 0


def test_a_location_already_being_counted_is_refused_under_the_field(floor, manager):
    first = opened("A-01")
    data = {"how": "list", "locations": "A-01", "warehouse": "MAIN"}
    html = manager.post("/stocktakes/", data=data).get_data(as_text=True)
    assert f"A-01 is already being counted in stocktake {first}" in html and 'data-testid="field-error"' in html


def test_suggestions_put_discrepancies_first_then_fast_movers_and_leave_out_recent_and_busy_ones(floor, manager):
    # A-02 holds SKU-3 and SKU-1, each with an open discrepancy; P-01 moves fastest; A-01 was just counted.
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-01", to_location="P-01", quantity=8)
    for _ in range(5):
        db.atomic(transfer_stock, sku="SKU-1", from_location="P-01", to_location="A-01", quantity=1)
    recent = opened("A-01")
    for sku in ("SKU-1", "SKU-2"):
        db.atomic(record_count, recent, location="A-01", product=sku, counted=140 if sku == "SKU-1" else 58)
    db.atomic(close_location, recent, "A-01")
    db.atomic(approve, recent)  # clears the SKU-1 discrepancy; SKU-3's stays open

    page = manager.get("/stocktakes/suggestions?days=30&limit=10")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    order = [line.split('"')[0] for line in html.split('data-testid="suggestion" data-location="')[1:]]
    assert order == ["A-02", "P-01"]  # A-01 was counted today; N-01 is in NORTH
    assert "1 open discrepancy" in html and "5 moves out in 30 days" in html

    opened("P-01")
    html = manager.get("/stocktakes/suggestions?days=30&limit=10").get_data(as_text=True)
    assert 'data-location="P-01"' not in html  # in an open count already
    far = manager.get("/stocktakes/suggestions?days=1&limit=10").get_data(as_text=True)
    assert 'data-location="A-01"' not in far


@pytest.mark.parametrize("query, field, words", [
    ("days=0&limit=5", "days", "days must be a whole number from 1 to 3,650"),
    ("days=abc&limit=5", "days", "days must be a whole number"),
    ("days=30&limit=99999999999999999999", "limit", "how many locations must be a whole number from 1 to 5,000"),
])
def test_suggestion_filters_refuse_bad_numbers_under_the_field(floor, manager, query, field, words):
    response = manager.get(f"/stocktakes/suggestions?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and words in html and 'data-testid="field-error"' in html


def test_the_manager_reviews_expected_counted_and_variance_orders_a_recount_and_approves(floor, manager, picker):
    stocktake_id = opened("A-01")
    row = row_for(picker, "A-01")
    picker.post(f"/count/{row}", data={"product": "SKU-1", "quantity": "140"}, headers=HTMX)
    picker.post(f"/count/{row}/close")
    html = manager.get(f"/stocktakes/{stocktake_id}").get_data(as_text=True)
    assert 'data-sku="SKU-1"' in html and 'data-testid="line-expected">137<' in html
    assert 'data-testid="line-counted">140<' in html and "<strong>+3</strong>" in html
    assert 'data-testid="line-counted">0<' in html and "<strong>-58</strong>" in html  # SKU-2 not scanned
    assert 'data-testid="recount-location"' in html

    nothing = manager.post(f"/stocktakes/{stocktake_id}/recount", data={})
    assert nothing.status_code == 400 and "tick the locations to count again" in nothing.get_data(as_text=True)
    waiting = manager.post(f"/stocktakes/{stocktake_id}/approve")  # nothing is waiting: approves
    assert waiting.status_code == 200
    done = waiting.get_data(as_text=True)
    assert "Approved: 2 count adjustments posted for 2 lines" in done and 'data-testid="approve"' not in done
    assert on_hand("A-01", "SKU-1") == 140 and on_hand("A-01", "SKU-2") == 0
    again = manager.post(f"/stocktakes/{stocktake_id}/approve")
    assert again.status_code == 409 and f"stocktake {stocktake_id} is approved" in again.get_data(as_text=True)


def test_approval_on_the_page_explains_what_could_not_be_posted(floor, manager):
    stocktake_id = opened("A-02")
    db.atomic(record_count, stocktake_id, location="A-02", product="SKU-1", counted=60)
    db.atomic(record_count, stocktake_id, location="A-02", product="SKU-3", counted=249)
    db.atomic(close_location, stocktake_id, "A-02")
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-02", to_location="P-01", quantity=70)
    html = manager.post(f"/stocktakes/{stocktake_id}/approve").get_data(as_text=True)
    assert 'data-testid="not-posted"' in html
    assert "stock left A-02 after the count and it now holds 3, so only 3 could be taken off and 10 were not" in html


def test_a_cancelled_count_posts_nothing(floor, manager):
    stocktake_id = opened("A-01")
    response = manager.post(f"/stocktakes/{stocktake_id}/cancel", follow_redirects=True)
    assert "cancelled: nothing was posted" in response.get_data(as_text=True)
    assert rows_of(Movement) == 5


# ---- pickers ----------------------------------------------------------------------------------------


def test_the_count_page_has_stable_hooks_for_a_phone(floor, picker):
    opened("A-01")
    listed = picker.get("/count/").get_data(as_text=True)
    for hook in ("count-scan-location", "count-list", "count-location"):
        assert f'data-testid="{hook}"' in listed
    row = row_for(picker, "A-01")
    html = picker.get(f"/count/{row}").get_data(as_text=True)
    for hook in ("count-location-code", "count-form", "count-product", "count-quantity", "count-add", "count-log",
                 "count-lines", "count-none", "count-close", "count-back"):
        assert f'data-testid="{hook}"' in html, hook
    assert "/static/scanner.js" in html and 'inputmode="numeric"' in html and "autofocus" in html


def test_each_scan_answers_with_the_counters_own_count_and_its_line(floor, picker):
    opened("A-01")
    row = row_for(picker, "A-01")
    first = picker.post(f"/count/{row}", data={"product": "9300000000011", "quantity": "1"}, headers=HTMX)
    second = picker.post(f"/count/{row}", data={"product": "sku-1", "quantity": "12"}, headers=HTMX)
    html = second.get_data(as_text=True)
    assert first.status_code == second.status_code == 201
    assert "+12 SKU-1 (Widget): 13 counted at A-01." in html and "<html" not in html
    assert "<template data-count-line " in html and 'data-sku="SKU-1"' in html and 'value="13"' in html
    assert_blind(html)
    page = picker.get(f"/count/{row}").get_data(as_text=True)
    assert 'data-testid="count-line" data-sku="SKU-1"' in page and 'data-testid="count-none"' not in page


def test_a_scan_finds_the_product_by_sku_barcode_or_the_gtin_its_barcode_carries(floor, picker):
    db.atomic(create_product, sku="SKU-7", name="Pen", barcodes=["4006381333931"])  # a real EAN-13
    opened("A-01")
    row = row_for(picker, "A-01")
    for scanned in ("SKU-7", " sku-7 ", "4006381333931", "04006381333931", "(01)04006381333931(10)LOT9"):
        answer = picker.post(f"/count/{row}", data={"product": scanned, "quantity": "1"}, headers=HTMX)
        assert answer.status_code == 201, scanned
    assert "+1 SKU-7 (Pen): 5 counted at A-01." in answer.get_data(as_text=True)


def test_a_scan_for_a_count_row_that_is_not_there_is_a_404_in_words(floor, picker):
    answer = picker.post("/count/999999", data={"product": "SKU-1", "quantity": "1"}, headers=HTMX)
    assert answer.status_code == 404 and "no location 999999 to count" in answer.get_data(as_text=True)


def test_a_count_is_corrected_by_setting_it_and_the_page_works_without_javascript(floor, picker, api):
    stocktake_id = opened("A-01")
    row = row_for(picker, "A-01")
    page = picker.post(f"/count/{row}", data={"product": "SKU-2", "quantity": "7"})
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    corrected = picker.post(f"/count/{row}/set", data={"product": "SKU-2", "counted": "5"})
    assert "SKU-2 (Gadget) set to 5 at A-01." in corrected.get_data(as_text=True)
    assert_blind(corrected.get_data(as_text=True))
    picker.post(f"/count/{row}/close")
    lines = api.get(f"/api/v1/stocktakes/{stocktake_id}").get_json()["lines"]
    assert {(line["sku"], line["counted"]) for line in lines} == {("SKU-2", 5), ("SKU-1", 0)}


@pytest.mark.parametrize("data, field, words", [
    ({"product": "SKU-1", "quantity": "0"}, "quantity", "quantity must be a whole number from 1 to 1,000,000"),
    ({"product": "SKU-1", "quantity": "-1"}, "quantity", "quantity must be a whole number from 1 to 1,000,000"),
    ({"product": "SKU-1", "quantity": "9223372036854775807"}, "quantity", "from 1 to 1,000,000"),
    ({"product": "SKU-1", "quantity": "abc"}, "quantity", "quantity must be a whole number"),
    ({"product": "SKU-1", "quantity": ""}, "quantity", "quantity is required"),
    ({"product": "NOPE", "quantity": "1"}, "product", "no product with SKU or barcode NOPE"),
    ({"product": "", "quantity": "1"}, "product", "scan or type a product"),
    ({"product": "W" * 5000, "quantity": "1"}, "product", "no product with SKU or barcode WWW"),
    ({"product": "A\x1bB", "quantity": "1"}, "product", "control character"),
])
def test_count_refusals_are_said_under_the_field_and_count_nothing(floor, picker, data, field, words):
    opened("A-01")
    row = row_for(picker, "A-01")
    response = picker.post(f"/count/{row}", data=data)
    html = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500
    assert words in html and f'id="{field}-error"' in html
    assert rows_of(StocktakeLine) == 0
    partial = picker.post(f"/count/{row}", data=data, headers=HTMX)
    assert words in partial.get_data(as_text=True) and "<html" not in partial.get_data(as_text=True)


def test_scanning_a_location_finds_its_count_or_says_why_not(floor, picker):
    opened("A-01")
    for scanned, words in (("Z-99", "no location Z-99 in warehouse MAIN"),
                           ("A-02", "A-02 is not in an open stocktake"), ("", "scan or type a location")):
        response = picker.get(f"/count/go?location={scanned}")
        html = response.get_data(as_text=True)
        assert 400 <= response.status_code < 500 and words in html and 'data-testid="field-error"' in html
    assert picker.get("/count/987654").status_code == 404


def test_a_counter_closes_the_location_and_sees_it_no_more(floor, picker):
    opened("A-01", "A-02")
    row = row_for(picker, "A-01")
    picker.post(f"/count/{row}", data={"product": "SKU-1", "quantity": "3"}, headers=HTMX)
    closed = picker.post(f"/count/{row}/close", follow_redirects=True)
    html = closed.get_data(as_text=True)
    assert "A-01 is counted and closed." in html
    assert 'data-location="A-01"' not in html and 'data-location="A-02"' in html
    after = picker.get(f"/count/{row}").get_data(as_text=True)
    assert 'data-testid="count-closed"' in after and "SKU-2" not in after  # the zeros are not shown
    assert_blind(after)


def test_a_count_that_is_not_blind_shows_the_counter_what_the_ledger_holds(floor, picker):
    opened("A-01", blind=False)
    row = row_for(picker, "A-01")
    html = picker.get(f"/count/{row}").get_data(as_text=True)
    assert 'data-testid="count-expected"' in html and "SKU-1 · Widget: 137" in html


def test_counts_are_listed_open_first_then_newest_first(floor, manager):
    done = opened("P-01")
    db.atomic(close_location, done, "P-01")
    db.atomic(approve, done)
    older, newer = opened("A-01"), opened("A-02")
    html = manager.get("/stocktakes/").get_data(as_text=True)
    assert html.index(f"Stocktake {newer}<") < html.index(f"Stocktake {older}<") < html.index(f"Stocktake {done}<")
