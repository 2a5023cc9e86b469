"""API: warehouses, locations and products: contracts, and every refusal changing nothing."""
import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.bounds import BARCODES_PER_PRODUCT, MAX_OFFSET, MAX_PICK_SEQUENCE, MAX_TOLERANCE_PERCENT, MAX_WEIGHT_KG
from app.models import Location, Product, Warehouse


def count(model):
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def error_of(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# ---- warehouses ----


def test_creating_a_warehouse_answers_201_and_the_first_stays_default(api):
    response = api.post("/api/v1/warehouses", json={"code": "north", "name": "North DC"})
    assert response.status_code == 201
    assert response.get_json() == {"code": "NORTH", "name": "North DC", "is_default": False}
    listed = api.get("/api/v1/warehouses").get_json()
    assert listed == {
        "items": [
            {"code": "MAIN", "name": "Main warehouse", "is_default": True},
            {"code": "NORTH", "name": "North DC", "is_default": False},
        ]
    }


def test_changing_the_default_warehouse_leaves_exactly_one_default(api):
    api.post("/api/v1/warehouses", json={"code": "NORTH", "name": "North DC"})
    response = api.post("/api/v1/warehouses/north/default")
    assert response.status_code == 200
    assert response.get_json() == {"code": "NORTH", "name": "North DC", "is_default": True}
    defaults = [w["code"] for w in api.get("/api/v1/warehouses").get_json()["items"] if w["is_default"]]
    assert defaults == ["NORTH"]


def test_default_of_an_unknown_warehouse_is_404(api):
    error_of(api.post("/api/v1/warehouses/NOPE/default"), 404, "not_found")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "No code"}, "code"),
        ({"code": "X"}, "name"),
        ({"code": 7, "name": "Seven"}, "code"),
        ({"code": "", "name": "Empty"}, "code"),
        ({"code": "X", "name": "X", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_warehouse_is_400_naming_the_field(api, body, field):
    before = count(Warehouse)
    error = error_of(api.post("/api/v1/warehouses", json=body), 400, "validation_error")
    assert error["field"] == field
    assert count(Warehouse) == before


def test_a_duplicate_warehouse_is_409(api):
    error_of(api.post("/api/v1/warehouses", json={"code": "main", "name": "Again"}), 409, "conflict")
    assert count(Warehouse) == 1


# ---- locations ----


def test_creating_a_location_answers_201_with_its_fields(api):
    response = api.post(
        "/api/v1/locations",
        json={"warehouse": "MAIN", "code": "a-01-1", "type": "pick", "barcode": "LOC0001", "zone": "a", "pick_sequence": 10},
    )
    assert response.status_code == 201
    assert response.get_json() == {
        "warehouse": "MAIN",
        "code": "A-01-1",
        "type": "pick",
        "barcode": "LOC0001",
        "zone": "A",
        "pick_sequence": 10,
        "active": True,
    }


def test_a_pick_sequence_written_as_a_float_is_that_whole_number(api):
    response = api.post("/api/v1/locations", json={"code": "A-1", "type": "pick", "pick_sequence": 10.0})
    assert response.status_code == 201
    assert response.get_json()["pick_sequence"] == 10


def test_a_location_without_warehouse_goes_to_the_default(api):
    response = api.post("/api/v1/locations", json={"code": "R-1", "type": "receiving"})
    assert response.status_code == 201
    assert response.get_json()["warehouse"] == "MAIN"
    assert response.get_json()["barcode"] == "R-1"


def test_locations_are_listed_with_filters(api):
    api.post("/api/v1/warehouses", json={"code": "NORTH", "name": "North"})
    api.post("/api/v1/locations", json={"code": "A-1", "type": "pick", "zone": "A", "pick_sequence": 2})
    api.post("/api/v1/locations", json={"code": "A-2", "type": "pick", "zone": "A", "pick_sequence": 1})
    api.post("/api/v1/locations", json={"code": "B-1", "type": "storage", "zone": "B"})
    api.post("/api/v1/locations", json={"warehouse": "NORTH", "code": "A-1", "type": "pick", "zone": "A"})

    def codes(query):
        response = api.get("/api/v1/locations" + query)
        assert response.status_code == 200
        return [(i["warehouse"], i["code"]) for i in response.get_json()["items"]]

    assert codes("?warehouse=MAIN&zone=a") == [("MAIN", "A-2"), ("MAIN", "A-1")]
    assert codes("?type=storage") == [("MAIN", "B-1")]
    assert codes("?warehouse=NORTH") == [("NORTH", "A-1")]
    assert len(codes("")) == 4  # physical only: no virtual locations
    page = api.get("/api/v1/locations?limit=3").get_json()
    assert len(page["items"]) == 3 and page["next_offset"] == 3
    assert api.get("/api/v1/locations?limit=3&offset=3").get_json()["next_offset"] is None


def test_listing_locations_of_an_unknown_warehouse_is_404_and_a_bad_type_400(api):
    error_of(api.get("/api/v1/locations?warehouse=NOPE"), 404, "not_found")
    assert error_of(api.get("/api/v1/locations?type=garage"), 400, "validation_error")["field"] == "type"


@pytest.mark.parametrize(
    "body, status, code, field",
    [
        ({"warehouse": "NOPE", "code": "A-1", "type": "pick"}, 404, "not_found", "warehouse"),
        ({"code": "A-1", "type": "garage"}, 400, "validation_error", "type"),
        ({"code": "A-1", "type": "supplier"}, 400, "validation_error", "type"),
        ({"code": "A-1"}, 400, "validation_error", "type"),
        ({"type": "pick"}, 400, "validation_error", "code"),
        ({"code": "A-1", "type": "pick", "pick_sequence": "3"}, 400, "validation_error", "pick_sequence"),
        ({"code": "A-1", "type": "pick", "pick_sequence": 1.5}, 400, "validation_error", "pick_sequence"),
        ({"code": "A-1", "type": "pick", "pick_sequence": True}, 400, "validation_error", "pick_sequence"),
        ({"code": "A-1", "type": "pick", "pick_sequence": MAX_PICK_SEQUENCE + 1}, 400, "validation_error", "pick_sequence"),
        ({"code": "A-1", "type": "pick", "pick_sequence": -1}, 400, "validation_error", "pick_sequence"),
        ({"code": "@X", "type": "pick"}, 400, "validation_error", "code"),
        ({"code": "A 1", "type": "pick"}, 400, "validation_error", "code"),
        ({"code": "A-1\u0000", "type": "pick"}, 400, "validation_error", "code"),
        ({"code": "A-1", "type": "pick", "zone": "Z" * 33}, 400, "validation_error", "zone"),
        ({"code": "TAKEN", "type": "pick"}, 409, "conflict", "code"),
        ({"code": "A-9", "type": "pick", "barcode": "TAKEN"}, 409, "conflict", "code"),
    ],
)
def test_a_bad_location_is_refused_and_changes_nothing(api, body, status, code, field):
    assert api.post("/api/v1/locations", json={"code": "TAKEN", "type": "storage"}).status_code == 201
    before = count(Location)
    error = error_of(api.post("/api/v1/locations", json=body), status, code)
    assert error["field"] == field
    assert count(Location) == before


# ---- products ----


def test_creating_a_product_answers_201_and_it_can_be_fetched(api):
    body = {"sku": "TEE-BLK-M", "name": "Tee black M", "barcodes": ["9300000000011", "0001"], "weight": 0.2}
    response = api.post("/api/v1/products", json=body)
    assert response.status_code == 201
    expected = {**body, "active": True, "receive_tolerance_percent": None}
    assert response.get_json() == expected
    fetched = api.get("/api/v1/products/TEE-BLK-M")
    assert fetched.status_code == 200
    assert fetched.get_json() == expected


def test_a_product_needs_only_sku_and_name(api):
    response = api.post("/api/v1/products", json={"sku": "MUG", "name": "Mug"})
    assert response.status_code == 201
    assert response.get_json() == {"sku": "MUG", "name": "Mug", "barcodes": [], "weight": None, "active": True,
                                   "receive_tolerance_percent": None}


def test_a_products_over_receipt_tolerance_is_taken_and_answered(api):
    for sku, tolerance, answered in (("MUG", 10, 10), ("CUP", 0, 0), ("JUG", 100.0, 100), ("BOWL", None, None)):
        body = {"sku": sku, "name": sku.title(), "receive_tolerance_percent": tolerance}
        response = api.post("/api/v1/products", json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.get_json()["receive_tolerance_percent"] == answered
        assert api.get(f"/api/v1/products/{sku}").get_json()["receive_tolerance_percent"] == answered
    listed = api.get("/api/v1/products").get_json()["items"]
    assert {p["sku"]: p["receive_tolerance_percent"] for p in listed} == {"BOWL": None, "CUP": 0, "JUG": 100,
                                                                          "MUG": 10}
    with db.reading() as session:
        assert session.exec(select(Product).where(Product.sku == "MUG")).one().receive_tolerance_percent == 10


def test_a_sku_with_a_slash_can_be_fetched(api):
    api.post("/api/v1/products", json={"sku": "BOLT-M6/20", "name": "Bolt"})
    assert api.get("/api/v1/products/BOLT-M6/20").get_json()["sku"] == "BOLT-M6/20"


def test_an_unknown_product_is_404(api):
    assert error_of(api.get("/api/v1/products/NOPE"), 404, "not_found")["field"] == "sku"


def test_an_existing_sku_is_409_and_changes_nothing(api):
    api.post("/api/v1/products", json={"sku": "MUG", "name": "Mug"})
    error = error_of(api.post("/api/v1/products", json={"sku": "MUG", "name": "Other mug"}), 409, "conflict")
    assert error["field"] == "sku"
    assert api.get("/api/v1/products/MUG").get_json()["name"] == "Mug"
    assert count(Product) == 1


def test_a_barcode_of_another_product_is_409(api):
    api.post("/api/v1/products", json={"sku": "MUG", "name": "Mug", "barcodes": ["111"]})
    error_of(api.post("/api/v1/products", json={"sku": "CUP", "name": "Cup", "barcodes": ["111"]}), 409, "conflict")
    assert count(Product) == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "No sku"}, "sku"),
        ({"sku": "X"}, "name"),
        ({"sku": "X Y", "name": "Space"}, "sku"),
        ({"sku": 12, "name": "Number"}, "sku"),
        ({"sku": "X", "name": "X", "barcodes": "123"}, "barcodes"),
        ({"sku": "X", "name": "X", "barcodes": [123]}, "barcodes.0"),
        ({"sku": "X", "name": "X", "weight": "heavy"}, "weight"),
        ({"sku": "X", "name": "X", "weight": -1}, "weight"),
        ({"sku": "X", "name": "X", "weight": MAX_WEIGHT_KG + 1}, "weight"),
        ({"sku": "X", "name": "X", "weight": True}, "weight"),
        ({"sku": "X" * 65, "name": "Long"}, "sku"),
        ({"sku": "X\u0007", "name": "Bell"}, "sku"),
        ({"sku": "X", "name": "Two\nlines"}, "name"),
        ({"sku": "X", "name": "   "}, "name"),
        ({"sku": "X", "name": "X", "barcodes": ["93 00"]}, "barcodes.0"),
        ({"sku": "X", "name": "X", "barcodes": [f"B{n}" for n in range(BARCODES_PER_PRODUCT + 1)]}, "barcodes"),
        ({"sku": "X", "name": "X", "receive_tolerance_percent": -1}, "receive_tolerance_percent"),
        ({"sku": "X", "name": "X", "receive_tolerance_percent": MAX_TOLERANCE_PERCENT + 1},
         "receive_tolerance_percent"),
        ({"sku": "X", "name": "X", "receive_tolerance_percent": 2.5}, "receive_tolerance_percent"),
        ({"sku": "X", "name": "X", "receive_tolerance_percent": "10"}, "receive_tolerance_percent"),
        ({"sku": "X", "name": "X", "receive_tolerance_percent": True}, "receive_tolerance_percent"),
        ({"sku": "X", "name": "X", "receive_tolerance_percent": 2**63}, "receive_tolerance_percent"),
    ],
)
def test_a_bad_product_is_400_naming_the_field(api, body, field):
    error = error_of(api.post("/api/v1/products", json=body), 400, "validation_error")
    assert error["field"] == field
    assert count(Product) == 0


def test_products_are_searched_and_paged(api):
    for n in range(5):
        api.post("/api/v1/products", json={"sku": f"SKU-{n}", "name": f"Thing {n}", "barcodes": [f"BC{n}"]})
    api.post("/api/v1/products", json={"sku": "MUG", "name": "Coffee mug"})
    page = api.get("/api/v1/products?limit=2").get_json()
    assert [p["sku"] for p in page["items"]] == ["MUG", "SKU-0"]
    assert page["next_offset"] == 2
    last = api.get("/api/v1/products?limit=2&offset=4").get_json()
    assert [p["sku"] for p in last["items"]] == ["SKU-3", "SKU-4"] and last["next_offset"] is None
    assert [p["sku"] for p in api.get("/api/v1/products?q=coffee").get_json()["items"]] == ["MUG"]
    found = api.get("/api/v1/products?q=BC3").get_json()["items"]
    assert found == [{"sku": "SKU-3", "name": "Thing 3", "barcodes": ["BC3"], "weight": None, "active": True,
                      "receive_tolerance_percent": None}]
    assert len(api.get("/api/v1/products?limit=2.0").get_json()["items"]) == 2
    error_of(api.get("/api/v1/products?limit=0"), 400, "validation_error")
    assert error_of(api.get("/api/v1/products?offset=-1"), 400, "validation_error")["field"] == "offset"
    assert error_of(api.get(f"/api/v1/products?offset={MAX_OFFSET + 1}"), 400, "validation_error")["field"] == "offset"
    assert error_of(api.get("/api/v1/products?limit="), 400, "validation_error")["field"] == "limit"


def test_a_sku_is_taken_with_surrounding_whitespace_dropped_and_a_control_character_refused(api):
    response = api.post("/api/v1/products", json={"sku": "  MUG\t", "name": " Mug "})
    assert response.status_code == 201
    assert (response.get_json()["sku"], response.get_json()["name"]) == ("MUG", "Mug")
    assert api.get("/api/v1/products/%20MUG%20").get_json()["sku"] == "MUG"
    assert error_of(api.get("/api/v1/products/MU%01G"), 400, "validation_error")["field"] == "sku"
