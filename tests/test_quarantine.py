"""Quarantine stock is on hand but not available: in the API's /stock/<sku>, on the stock pages and in
the by-product totals, on SQLite and PostgreSQL. Moving stock into quarantine needs a reason (a 400
naming `reason` without one, nothing moved); the movement keeps it."""
import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db, ledger
from app.accounts import create_token
from app.catalog import create_product, get_product
from app.inventory import adjust_stock, stock_by_product, stock_summary, transfer_stock
from app.models import Movement
from app.warehouses import create_location, find_location, get_warehouse
from tests.conftest import ApiClient, sign_in

HTMX = {"HX-Request": "true"}


@pytest.fixture
def floor(any_db_app):
    """MAIN: A-01 (storage) with 10 of SKU-1, P-01 (pick), Q-01 (quarantine, barcode QUAR-1)."""

    def build(session):
        main = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
        create_location(session, warehouse=main, code="A-01", type="storage", zone="A")
        create_location(session, warehouse=main, code="P-01", type="pick", zone="P")
        create_location(session, warehouse=main, code="Q-01", type="quarantine", zone="Q", barcode="QUAR-1")

    db.atomic(build)
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=10, reason="found")
    return any_db_app


@pytest.fixture
def api(floor):
    return ApiClient(floor.test_client(), db.atomic(create_token, "quarantine tests"))


def movements() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def last_movement() -> Movement:
    with db.reading() as session:
        return session.exec(select(Movement).order_by(Movement.id.desc())).first()


def to_quarantine(api, quantity=4, **extra):
    body = {"sku": "SKU-1", "from_location": "A-01", "to_location": "Q-01", "quantity": quantity, **extra}
    return api.post("/api/v1/stock/transfers", json=body)


def test_quarantine_stock_is_on_hand_but_not_available_in_the_api(api):
    response = to_quarantine(api, reason="damaged")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert (response.get_json()["from_on_hand"], response.get_json()["to_on_hand"]) == (6, 4)
    body = api.get("/api/v1/stock/SKU-1").get_json()
    assert (body["on_hand"], body["allocated"], body["available"]) == (10, 0, 6)
    assert [(row["location"], row["type"], row["on_hand"]) for row in body["locations"]] == [
        ("A-01", "storage", 6), ("Q-01", "quarantine", 4)]
    with db.reading() as session:
        assert ledger.check(session) == []


def test_quarantine_stock_is_on_hand_but_not_available_in_the_stock_figures(floor):
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-01", to_location="Q-01", quantity=3, reason="expired")

    def promise(session):  # 2 of the 7 outside quarantine promised to an order
        place = find_location(session, get_warehouse(session).id, "A-01")
        ledger.allocate(session, product_id=get_product(session, "SKU-1").id, location=place, quantity=2)

    db.atomic(promise)
    with db.reading() as session:
        summary = stock_summary(session, "SKU-1")
        (row,) = stock_by_product(session, "SKU-1")
    assert (summary["on_hand"], summary["allocated"], summary["available"]) == (10, 2, 5)
    assert (row["on_hand"], row["allocated"], row["available"]) == (10, 2, 5)


def test_quarantine_stock_is_on_hand_but_not_available_on_the_pages(floor):
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-01", to_location="Q-01", quantity=4, reason="damaged")
    picker = sign_in(floor.test_client(), "picker")
    by_product = picker.get("/inventory/").get_data(as_text=True)
    row = by_product.split(">SKU-1</strong>", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'class="num">(?:<strong>)?(\d+)', row) == ["10", "0", "6", "0"]  # on hand, allocated, available, incoming

    history = picker.get("/inventory/history?sku=SKU-1").get_data(as_text=True)
    assert '<dd data-testid="on-hand">10</dd>' in history
    assert re.search(r"<dt>Available</dt><dd>6</dd>", history)
    assert 'data-testid="not-available"' in history

    listing = picker.get("/inventory/locations?q=Q-01").get_data(as_text=True)
    assert "Q-01" in listing and 'data-testid="not-available"' in listing
    place_id = re.search(r'href="/inventory/locations/(\d+)"', listing).group(1)
    inside = picker.get(f"/inventory/locations/{place_id}").get_data(as_text=True)
    assert 'data-testid="quarantine-note"' in inside
    cells = re.findall(r'data-label="(On hand|Available)" class="num">(?:<strong>)?(\d+)', inside)
    assert cells == [("On hand", "4"), ("Available", "0")]


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_transfer_into_quarantine_without_a_reason_is_400_naming_reason_and_moves_nothing(api, reason):
    before = movements()
    response = to_quarantine(api) if reason is None else to_quarantine(api, reason=reason)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["field"] == "reason" and error["code"] == "validation_error"
    if reason is None:
        assert error["message"].startswith("moving stock into quarantine (Q-01) needs a reason: choose one of correction, count, damaged")
    assert movements() == before
    assert api.get("/api/v1/stock/SKU-1").get_json()["available"] == 10


@pytest.mark.parametrize("reason, words", [("stolen", "reason must be one of"), ("x" * 33, "at most 32"),
                                           ("two words", "cannot contain spaces"), (7, "must be text")])
def test_a_transfer_with_a_reason_that_is_no_code_is_400_naming_reason(api, reason, words):
    before = movements()
    response = to_quarantine(api, reason=reason)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "reason" and words in error["message"], error
    assert movements() == before


def test_a_transfer_into_quarantine_keeps_its_reason_on_the_movement_and_in_the_ledger(api):
    assert to_quarantine(api, reason="DAMAGED", quantity=2).status_code == 201  # any case
    moved = last_movement()
    assert (moved.type, moved.reason, moved.quantity) == ("transfer", "damaged", 2)
    listed = api.get("/api/v1/movements?sku=SKU-1&limit=1").get_json()["items"][0]
    assert (listed["to_location"], listed["reason"]) == ("Q-01", "damaged")


def test_a_transfer_found_by_the_quarantine_barcode_also_needs_a_reason(api):
    body = {"sku": "SKU-1", "from_location": "A-01", "to_location": "quar-1", "quantity": 1}
    response = api.post("/api/v1/stock/transfers", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "reason"


def test_a_transfer_elsewhere_needs_no_reason_and_may_give_one(api):
    plain = api.post("/api/v1/stock/transfers", json={"sku": "SKU-1", "from_location": "A-01", "to_location": "P-01",
                                                        "quantity": 1})
    assert plain.status_code == 201 and last_movement().reason is None
    given = api.post("/api/v1/stock/transfers", json={"sku": "SKU-1", "from_location": "A-01", "to_location": "P-01",
                                                        "quantity": 1, "reason": "returned"})
    assert given.status_code == 201 and last_movement().reason == "returned"
    retired = api.post("/api/v1/reason-codes", json={"code": "returned", "label": "Returned", "active": False})
    assert retired.status_code == 200
    refused = api.post("/api/v1/stock/transfers", json={"sku": "SKU-1", "from_location": "A-01", "to_location": "P-01",
                                                          "quantity": 1, "reason": "returned"})
    assert refused.status_code == 400 and "retired" in refused.get_json()["error"]["message"]


def test_stock_leaving_quarantine_needs_no_reason(api):
    to_quarantine(api, reason="damaged", quantity=4)
    back = api.post("/api/v1/stock/transfers", json={"sku": "SKU-1", "from_location": "Q-01", "to_location": "A-01",
                                                       "quantity": 4})
    assert back.status_code == 201
    assert api.get("/api/v1/stock/SKU-1").get_json()["available"] == 10


def test_the_move_page_asks_why_when_the_destination_is_a_quarantine_location(floor):
    picker = sign_in(floor.test_client(), "picker")
    page = picker.get("/moves/").get_data(as_text=True)
    assert "data-ask-values='[\"q-01\", \"quar-1\"]'" in page
    assert '<template id="reason-field">' in page and "/static/scanner.js" in page
    assert 'name="reason"' not in page.split('<template id="reason-field">')[0]  # not in the form until asked
    check = picker.get("/moves/check?kind=location&code=quar-1", headers={"Accept": "application/json"})
    assert check.json == {"label": "Q-01 · quarantine · zone Q · needs a reason"}

    data = {"from_location": "A-01", "product": "SKU-1", "quantity": "2", "to_location": "QUAR-1"}
    refused = picker.post("/moves/", data=data, headers=HTMX)
    assert refused.status_code == 400 and "needs a reason" in refused.get_data(as_text=True)
    without_js = picker.post("/moves/", data=data)
    html = without_js.get_data(as_text=True)
    assert without_js.status_code == 400
    assert 'id="reason-error"' in html and html.index('name="reason"') < html.index('<template id="reason-field">')
    assert movements() == 1

    moved = picker.post("/moves/", data={**data, "reason": "damaged"}, headers=HTMX)
    assert moved.status_code == 200
    assert "Moved 2 × SKU-1 (Blue widget) A-01 → Q-01, damaged. Now 2 at Q-01." in moved.get_data(as_text=True)
    assert (last_movement().reason, last_movement().to_location_id is not None) == ("damaged", True)
    retired = picker.post("/moves/", data={**data, "reason": "nonsense"}, headers=HTMX)
    assert retired.status_code == 400 and "reason must be one of" in retired.get_data(as_text=True)
