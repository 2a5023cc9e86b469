"""Moving stock by scanning: the page, the instant scan checks, and the move itself."""
import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock, stock_summary
from app.models import Movement, User
from app.warehouses import create_location, get_warehouse

HTMX = {"HX-Request": "true"}


@pytest.fixture
def floor(app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
        create_location(session, warehouse=site, code="A-01", type="storage", zone="A")
        create_location(session, warehouse=site, code="B-01", type="pick", zone="B")

    db.atomic(build)
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=5, reason="found")
    return app


def on_hand() -> dict:
    with db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, "SKU-1")["locations"]}


def movement_count() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def test_the_move_page_has_big_scan_fields_in_order(floor, picker):
    html = picker.get("/moves/").get_data(as_text=True)
    positions = [html.index(f'name="{name}"') for name in ("from_location", "product", "quantity", "to_location")]
    assert positions == sorted(positions)
    assert html.count('class="scan"') == 4
    assert 'autocomplete="off"' in html and 'inputmode="numeric"' in html
    assert "/static/scanner.js" in html


def test_a_picker_moves_stock_with_htmx_and_gets_the_new_on_hand(floor, picker):
    data = {"from_location": "a-01", "product": "9300000000011", "quantity": "2", "to_location": "B-01"}
    response = picker.post("/moves/", data=data, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="flash-ok"' in html and "<html" not in html
    assert "Moved 2 × SKU-1 (Blue widget) A-01 → B-01. Now 2 at B-01." in html
    assert on_hand() == {"A-01": 3, "B-01": 2}
    with db.reading() as session:
        last = session.exec(select(Movement).order_by(Movement.id.desc())).first()
        assert last.type == "transfer"
        assert session.get(User, last.user_id).username == "picker"


def test_the_move_form_works_without_javascript(floor, picker):
    data = {"from_location": "A-01", "product": "SKU-1", "quantity": "1", "to_location": "B-01"}
    response = picker.post("/moves/", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html and "Now 1 at B-01." in html
    assert on_hand() == {"A-01": 4, "B-01": 1}


@pytest.mark.parametrize(
    "change, status, message",
    [
        ({"quantity": "9"}, 409, "only 5 free at A-01"),
        ({"quantity": "0"}, 400, "quantity must be a whole number from 1 to 1,000,000"),
        ({"quantity": "1000001"}, 400, "quantity must be a whole number from 1 to 1,000,000"),
        ({"quantity": "lots"}, 400, "quantity must be a whole number"),
        ({"product": "NOPE"}, 404, "no product with SKU or barcode NOPE"),
        ({"from_location": "Z-99"}, 404, "no location Z-99"),
        ({"to_location": "A-01"}, 400, "from and to are the same location"),
        ({"to_location": ""}, 400, "scan or type a location"),
    ],
)
def test_a_bad_move_is_refused_with_a_message_and_changes_nothing(floor, picker, change, status, message):
    """With htmx the refusal goes to the scan log; without, under the field at fault."""
    data = {"from_location": "A-01", "product": "SKU-1", "quantity": "1", "to_location": "B-01", **change}
    before = movement_count()
    for headers, shown in ((HTMX, 'data-testid="flash-error"'), ({}, 'data-testid="field-error"')):
        response = picker.post("/moves/", data=data, headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == status
        assert message in html and shown in html
    assert movement_count() == before
    assert on_hand() == {"A-01": 5}


def test_the_scan_check_names_a_location_or_product_instantly(floor, picker):
    location = picker.get("/moves/check?kind=location&code=b-01", headers={"Accept": "application/json"})
    assert location.status_code == 200 and location.json == {"label": "B-01 · pick · zone B"}
    product = picker.get("/moves/check?kind=product&code=9300000000011", headers={"Accept": "application/json"})
    assert product.json == {"label": "SKU-1 · Blue widget"}


def test_the_scan_check_answers_json_4xx_for_unknown_scans(floor, picker):
    missing = picker.get("/moves/check?kind=location&code=Z-99", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.json["error"]["message"] == "no location Z-99"
    wrong = picker.get("/moves/check?kind=pallet&code=X", headers={"Accept": "application/json"})
    assert wrong.status_code == 400


def test_a_move_needs_a_signed_in_user(floor, client):
    data = {"from_location": "A-01", "product": "SKU-1", "quantity": "1", "to_location": "B-01"}
    assert client.post("/moves/", data=data, headers=HTMX).status_code == 401
    assert client.post("/moves/", data=data).status_code == 302
    assert on_hand() == {"A-01": 5}
