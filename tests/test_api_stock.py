"""API: adjustments, transfers, stock by SKU and the movement ledger, on SQLite and PostgreSQL.
Every refusal is a 4xx with the error envelope and posts no movement."""
import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db, ledger
from app.accounts import create_token
from app.bounds import MAX_MOVEMENT, MAX_ROW_ID
from app.catalog import create_product
from app.models import Movement
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests.conftest import ApiClient


@pytest.fixture
def floor(any_db_app):
    """MAIN with A-01 (storage), P-01 (pick); NORTH with N-01; product SKU-1 (barcode 9300000000011)."""

    def build(session):
        main = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Gadget")
        create_location(session, warehouse=main, code="A-01", type="storage")
        create_location(session, warehouse=main, code="P-01", type="pick", barcode="LOC-P01")
        north = create_warehouse(session, code="NORTH", name="North")
        create_location(session, warehouse=north, code="N-01", type="storage")

    db.atomic(build)
    return ApiClient(any_db_app.test_client(), db.atomic(create_token, "stock tests"))


def movements():
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def adjust(api, sku="SKU-1", location="A-01", quantity=10, reason="found", **extra):
    return api.post("/api/v1/stock/adjustments", json={"sku": sku, "location": location, "quantity": quantity, "reason": reason, **extra})


def refused(response, status, code, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    if field:
        assert error.get("field") == field, error
    return error


def test_adjustments_add_and_remove_stock_and_answer_the_new_on_hand(floor):
    first = adjust(floor, quantity=10)
    assert first.status_code == 201
    assert set(first.get_json()) == {"movement_id", "on_hand"}
    assert first.get_json()["on_hand"] == 10
    second = adjust(floor, quantity=-3, reason="damaged")
    assert second.status_code == 201
    assert second.get_json()["on_hand"] == 7
    assert second.get_json()["movement_id"] > first.get_json()["movement_id"]
    with db.reading() as session:
        assert ledger.check(session) == []


@pytest.mark.parametrize("reason", ["found", "damaged", "lost", "correction", "count", "expired", "returned"])
def test_every_reason_code_is_accepted(floor, reason):
    adjust(floor, quantity=5)
    response = adjust(floor, quantity=-1, reason=reason)
    assert response.status_code == 201
    assert response.get_json()["on_hand"] == 4


def test_an_adjustment_finds_the_location_by_barcode_and_in_a_named_warehouse(floor):
    assert adjust(floor, location="LOC-P01", quantity=2).get_json()["on_hand"] == 2
    assert adjust(floor, location="N-01", quantity=3, warehouse="NORTH").get_json()["on_hand"] == 3
    refused(adjust(floor, location="N-01", quantity=3), 404, "not_found", "location")  # not in MAIN


def test_taking_a_location_below_zero_is_409_insufficient_stock_and_changes_nothing(floor):
    adjust(floor, quantity=3)
    before = movements()
    refused(adjust(floor, quantity=-4, reason="lost"), 409, "insufficient_stock")
    assert movements() == before
    assert floor.get("/api/v1/stock/SKU-1").get_json()["on_hand"] == 3


@pytest.mark.parametrize(
    "change, status, code, field",
    [
        ({"quantity": 0}, 400, "validation_error", "quantity"),
        ({"quantity": 1.5}, 400, "validation_error", "quantity"),
        ({"quantity": "3"}, 400, "validation_error", "quantity"),
        ({"quantity": True}, 400, "validation_error", "quantity"),
        ({"quantity": None}, 400, "validation_error", "quantity"),
        ({"quantity": 10**12}, 400, "validation_error", "quantity"),
        ({"quantity": MAX_MOVEMENT + 1}, 400, "validation_error", "quantity"),
        ({"quantity": -MAX_MOVEMENT - 1}, 400, "validation_error", "quantity"),
        ({"quantity": 0.0}, 400, "validation_error", "quantity"),
        ({"quantity": 1e300}, 400, "validation_error", "quantity"),
        ({"quantity": [5]}, 400, "validation_error", "quantity"),
        ({"sku": "SKU\u0000-1"}, 400, "validation_error", "sku"),
        ({"sku": "   "}, 400, "validation_error", "sku"),
        ({"location": 7}, 400, "validation_error", "location"),
        ({"reason": "stolen"}, 400, "validation_error", "reason"),
        ({"sku": "NOPE"}, 404, "not_found", "sku"),
        ({"location": "Z-99"}, 404, "not_found", "location"),
        ({"warehouse": "NOPE"}, 404, "not_found", "warehouse"),
        ({"location": "@ADJUSTMENT"}, 404, "not_found", "location"),
        ({"extra": 1}, 400, "validation_error", "extra"),
    ],
)
def test_a_bad_adjustment_is_refused_and_posts_nothing(floor, change, status, code, field):
    before = movements()
    body = {"sku": "SKU-1", "location": "A-01", "quantity": 5, "reason": "found", **change}
    refused(floor.post("/api/v1/stock/adjustments", json=body), status, code, field)
    assert movements() == before


@pytest.mark.parametrize("quantity, on_hand", [(120.0, 220), (-20.0, 80), (5, 105)])
def test_a_whole_number_written_as_a_float_is_that_number(floor, quantity, on_hand):
    adjust(floor, quantity=100)
    response = adjust(floor, quantity=quantity, reason="found" if quantity > 0 else "lost")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["on_hand"] == on_hand


def test_a_zero_adjustment_is_refused_in_words(floor):
    error = refused(adjust(floor, quantity=0), 400, "validation_error", "quantity")
    assert "zero" in error["message"] and f"{MAX_MOVEMENT:,}" in error["message"]
    error = refused(adjust(floor, quantity="3"), 400, "validation_error", "quantity")
    assert error["message"] == 'quantity must be a whole number, not "3"'


def test_the_stock_operations_are_not_skus_a_get_is_405_saying_what_they_take(floor):
    for name in ("adjustments", "transfers", "receipts"):
        response = floor.get(f"/api/v1/stock/{name}")
        assert response.status_code == 405
        assert response.headers["Allow"] == "OPTIONS, POST"
    assert floor.get("/api/v1/stock/adjustments-2").status_code == 404  # a SKU like them is a SKU


@pytest.mark.parametrize("missing", ["sku", "location", "quantity", "reason"])
def test_an_adjustment_missing_a_field_names_it(floor, missing):
    body = {"sku": "SKU-1", "location": "A-01", "quantity": 5, "reason": "found"}
    del body[missing]
    error = refused(floor.post("/api/v1/stock/adjustments", json=body), 400, "validation_error", missing)
    assert missing in error["message"]
    assert movements() == 0


@pytest.mark.parametrize("raw", ["", "{", "[1, 2]", '"text"', "null", "{'sku': 1}"])
def test_malformed_json_is_400_and_posts_nothing(floor, raw):
    response = floor.client.post(
        "/api/v1/stock/adjustments", data=raw, headers={**floor.headers, "Content-Type": "application/json"}
    )
    refused(response, 400, "validation_error")
    assert movements() == 0


def test_a_transfer_moves_free_stock_and_answers_both_sides(floor):
    adjust(floor, quantity=10)
    response = floor.post(
        "/api/v1/stock/transfers", json={"sku": "9300000000011", "from_location": "A-01", "to_location": "LOC-P01", "quantity": 4}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body == {
        "movement_id": body["movement_id"],
        "sku": "SKU-1",
        "from_location": "A-01",
        "to_location": "P-01",
        "quantity": 4,
        "from_on_hand": 6,
        "to_on_hand": 4,
    }
    with db.reading() as session:
        assert ledger.check(session) == []


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"quantity": 11}, 409, "insufficient_stock"),
        ({"quantity": -1}, 400, "validation_error"),
        ({"quantity": 0}, 400, "validation_error"),
        ({"quantity": "2"}, 400, "validation_error"),
        ({"to_location": "A-01"}, 400, "validation_error"),
        ({"to_location": "Z-99"}, 404, "not_found"),
        ({"from_location": "N-01"}, 404, "not_found"),
        ({"sku": "NOPE"}, 404, "not_found"),
        ({"warehouse": "NOPE"}, 404, "not_found"),
        ({"from_location": None}, 400, "validation_error"),
    ],
)
def test_a_bad_transfer_is_refused_and_moves_nothing(floor, change, status, code):
    adjust(floor, quantity=10)
    before = movements()
    body = {"sku": "SKU-1", "from_location": "A-01", "to_location": "P-01", "quantity": 2, **change}
    error = refused(floor.post("/api/v1/stock/transfers", json=body), status, code)
    if code == "validation_error" or status == 404:
        assert error["field"] in body, error
    assert movements() == before
    assert floor.get("/api/v1/stock/SKU-1").get_json()["locations"][0]["on_hand"] == 10


def test_stock_of_a_sku_has_totals_and_every_location_holding_some(floor):
    adjust(floor, location="A-01", quantity=7)
    adjust(floor, location="P-01", quantity=3)
    adjust(floor, location="N-01", quantity=5, warehouse="NORTH")
    response = floor.get("/api/v1/stock/SKU-1")
    assert response.status_code == 200
    assert response.get_json() == {
        "sku": "SKU-1",
        "on_hand": 15,
        "allocated": 0,
        "available": 15,
        "incoming": 0,
        "incoming_by_warehouse": [],
        "locations": [
            {"warehouse": "MAIN", "location": "A-01", "type": "storage", "on_hand": 7, "allocated": 0},
            {"warehouse": "MAIN", "location": "P-01", "type": "pick", "on_hand": 3, "allocated": 0},
            {"warehouse": "NORTH", "location": "N-01", "type": "storage", "on_hand": 5, "allocated": 0},
        ],
    }


def test_stock_shows_allocations_as_not_available(floor):
    adjust(floor, location="P-01", quantity=5)

    def promise(session):
        from app.catalog import get_product
        from app.warehouses import find_location

        place = find_location(session, get_warehouse(session).id, "P-01")
        ledger.allocate(session, product_id=get_product(session, "SKU-1").id, location=place, quantity=2)

    db.atomic(promise)
    body = floor.get("/api/v1/stock/SKU-1").get_json()
    assert (body["on_hand"], body["allocated"], body["available"]) == (5, 2, 3)
    assert body["locations"] == [{"warehouse": "MAIN", "location": "P-01", "type": "pick", "on_hand": 5, "allocated": 2}]


def test_stock_of_a_product_without_any_is_zero_and_of_an_unknown_sku_404(floor):
    assert floor.get("/api/v1/stock/SKU-2").get_json() == {
        "sku": "SKU-2", "on_hand": 0, "allocated": 0, "available": 0, "incoming": 0, "incoming_by_warehouse": [],
        "locations": []
    }
    refused(floor.get("/api/v1/stock/NOPE"), 404, "not_found", "sku")


def test_movements_are_listed_newest_first_with_their_contract(floor):
    adjust(floor, quantity=10)
    floor.post("/api/v1/stock/transfers", json={"sku": "SKU-1", "from_location": "A-01", "to_location": "P-01", "quantity": 4})
    adjust(floor, sku="SKU-2", quantity=1)
    response = floor.get("/api/v1/movements?sku=SKU-1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["next_before_id"] is None
    transfer, found = body["items"]
    assert set(transfer) == {"id", "type", "sku", "from_location", "to_location", "quantity", "reason", "reference", "created_at"}
    assert (transfer["type"], transfer["from_location"], transfer["to_location"], transfer["quantity"]) == ("transfer", "A-01", "P-01", 4)
    assert (found["type"], found["from_location"], found["to_location"], found["reason"]) == ("adjustment", "@ADJUSTMENT", "A-01", "found")
    assert found["created_at"].endswith("Z")
    assert len(floor.get("/api/v1/movements").get_json()["items"]) == 3


def test_movements_page_back_with_before_id(floor):
    for _ in range(5):
        adjust(floor, quantity=1)
    first = floor.get("/api/v1/movements?limit=2").get_json()
    assert len(first["items"]) == 2
    second = floor.get(f"/api/v1/movements?limit=2&before_id={first['next_before_id']}").get_json()
    third = floor.get(f"/api/v1/movements?limit=2&before_id={second['next_before_id']}").get_json()
    ids = [m["id"] for page in (first, second, third) for m in page["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    assert third["next_before_id"] is None


@pytest.mark.parametrize(
    "query, status, code",
    [("?sku=NOPE", 404, "not_found"), ("?limit=0", 400, "validation_error"), ("?limit=501", 400, "validation_error"),
     ("?limit=ten", 400, "validation_error"), ("?before_id=x", 400, "validation_error"),
     (f"?before_id={MAX_ROW_ID + 1}", 400, "validation_error"), ("?before_id=0", 400, "validation_error"),
     ("?type=teleport", 400, "validation_error"), ("?type=", 400, "validation_error"), ("?sku=", 400, "validation_error"),
     ("?reference=SO%00", 400, "validation_error")],
)
def test_bad_movement_queries_are_4xx_naming_the_parameter(floor, query, status, code):
    error = refused(floor.get("/api/v1/movements" + query), status, code)
    assert error["field"] == query[1:].split("=")[0]


def test_movements_of_a_type(floor):
    adjust(floor, quantity=10)
    floor.post("/api/v1/stock/transfers", json={"sku": "SKU-1", "from_location": "A-01", "to_location": "P-01", "quantity": 4})
    assert [m["type"] for m in floor.get("/api/v1/movements?type=transfer").get_json()["items"]] == ["transfer"]
