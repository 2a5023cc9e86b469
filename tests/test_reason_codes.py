"""Reason codes are data an admin keeps: added, renamed (the label; the code stays), retired and made
active again, through the admin page and the API; the adjust page and API take any active code and
refuse a retired one in words; a code a movement has used is never deleted. SQLite and PostgreSQL."""
import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db, reason_codes
from app.accounts import create_token
from app.catalog import create_product
from app.errors import Conflict, NotFound, ValidationFailed
from app.inventory import adjust_stock
from app.models import Movement, ReasonCode
from app.warehouses import create_location, get_warehouse
from tests.conftest import ApiClient, sign_in

SEEDED = ["correction", "count", "damaged", "expired", "found", "lost", "returned"]


@pytest.fixture
def floor(any_db_app):
    def build(session):
        create_product(session, sku="SKU-1", name="Blue widget")
        create_location(session, warehouse=get_warehouse(session), code="A-01", type="storage")

    db.atomic(build)
    return any_db_app


@pytest.fixture
def api(floor):
    return ApiClient(floor.test_client(), db.atomic(create_token, "reason code tests"))


def codes() -> dict[str, tuple[str, bool]]:
    with db.reading() as session:
        return {row.code: (row.label, row.active) for row in session.exec(select(ReasonCode))}


def movements() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def adjust_form(**change):
    return {"location": "A-01", "product": "SKU-1", "quantity": "3", "reason": "found", "reference": "", **change}


# ---- the domain ---------------------------------------------------------------------------------


def test_the_seven_codes_are_seeded_and_listed_active_first(floor):
    with db.reading() as session:
        assert [row.code for row in reason_codes.list_codes(session)] == SEEDED
        assert reason_codes.active_codes(session) == SEEDED
    assert codes()["damaged"] == ("Damaged", True)


def test_a_code_is_added_in_lower_case_renamed_retired_and_made_active_again(floor):
    db.atomic(reason_codes.add, code="  Water-Damage ", label=" Water damage ")
    assert codes()["water-damage"] == ("Water damage", True)
    db.atomic(reason_codes.rename, "WATER-DAMAGE", "Wet")
    assert codes()["water-damage"] == ("Wet", True)
    db.atomic(reason_codes.set_active, "water-damage", False)
    assert codes()["water-damage"] == ("Wet", False)
    with db.reading() as session:
        assert "water-damage" not in reason_codes.active_codes(session)
        assert [row.code for row in reason_codes.list_codes(session)][-1] == "water-damage"  # retired last
    db.atomic(reason_codes.set_active, "water-damage", True)
    assert codes()["water-damage"] == ("Wet", True)


@pytest.mark.parametrize(
    "code, label, error, field, words",
    [
        ("", "Label", ValidationFailed, "code", "reason code is required"),
        ("two words", "Label", ValidationFailed, "code", "cannot contain spaces"),
        ("x" * 33, "Label", ValidationFailed, "code", "at most 32"),
        ("bad\x00", "Label", ValidationFailed, "code", "control character"),
        ("fine", "", ValidationFailed, "label", "label is required"),
        ("fine", "L" * 101, ValidationFailed, "label", "at most 100"),
        ("fine", "tab\tbed", ValidationFailed, "label", "control character"),
        ("Damaged", "Again", Conflict, "code", "reason code damaged already exists"),
    ],
)
def test_a_bad_new_code_is_refused_in_words_and_adds_nothing(floor, code, label, error, field, words):
    with pytest.raises(error) as refused:
        db.atomic(reason_codes.add, code=code, label=label)
    assert refused.value.field == field and words in refused.value.message
    assert sorted(codes()) == SEEDED


def test_changing_a_code_that_does_not_exist_is_not_found(floor):
    for change in (lambda s: reason_codes.rename(s, "nope", "Nope"), lambda s: reason_codes.set_active(s, "nope", False),
                   lambda s: reason_codes.delete(s, "nope")):
        with pytest.raises(NotFound, match="no reason code nope"):
            db.atomic(change)


def test_a_code_in_use_is_never_deleted_only_retired(floor):
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=5, reason="found")
    with pytest.raises(Conflict, match="retire found before deleting it"):
        db.atomic(reason_codes.delete, "found")
    db.atomic(reason_codes.set_active, "found", False)
    with pytest.raises(Conflict, match="named by movements in the ledger"):
        db.atomic(reason_codes.delete, "found")
    assert codes()["found"] == ("Found", False)
    with db.reading() as session:
        assert session.exec(select(Movement.reason)).all() == ["found"]  # the ledger still names it


def test_a_retired_code_no_movement_used_may_be_deleted(floor):
    db.atomic(reason_codes.add, code="typo", label="Typo")
    db.atomic(reason_codes.set_active, "typo", False)
    assert db.atomic(reason_codes.delete, "TYPO") == "typo"
    assert "typo" not in codes()


def test_put_creates_a_code_or_replaces_its_label_and_active(floor):
    row, created = db.atomic(reason_codes.put, code="Recall", label="Supplier recall")
    assert created and (row.code, row.label, row.active) == ("recall", "Supplier recall", True)
    row, created = db.atomic(reason_codes.put, code="recall", label="Recalled", active=False)
    assert not created and codes()["recall"] == ("Recalled", False)


# ---- adjustments take any active code, never a retired one ----------------------------------------


def test_an_adjustment_takes_a_new_code_and_refuses_a_retired_one_in_words(floor):
    db.atomic(reason_codes.add, code="recall", label="Supplier recall")
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=5, reason="found")
    posted = db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=-1, reason="Recall")
    assert posted.movement.reason == "recall"
    db.atomic(reason_codes.set_active, "recall", False)
    before = movements()
    with pytest.raises(ValidationFailed) as refused:
        db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=-1, reason="recall")
    assert refused.value.field == "reason"
    assert refused.value.message == f"reason recall is retired: choose one of {', '.join(SEEDED)}"
    with pytest.raises(ValidationFailed, match="reason must be one of correction, count"):
        db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=-1, reason="stolen")
    with pytest.raises(ValidationFailed, match="a reason is required: choose one of"):
        db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=-1, reason="")
    assert movements() == before


# ---- the admin page ---------------------------------------------------------------------------------


def test_only_an_admin_keeps_reason_codes(floor):
    for role in ("picker", "manager"):
        client = sign_in(floor.test_client(), role)
        assert client.get("/reason-codes/").status_code == 403
        assert client.post("/reason-codes/", data={"code": "x", "label": "X"}).status_code == 403
        assert client.post("/reason-codes/retire", data={"code": "found"}).status_code == 403
        assert 'href="/reason-codes/"' not in client.get("/").get_data(as_text=True)
    assert sorted(codes()) == SEEDED
    admin = sign_in(floor.test_client(), "admin")
    assert 'href="/reason-codes/"' in admin.get("/").get_data(as_text=True)


def test_an_admin_adds_renames_retires_and_reactivates_a_code_on_the_page(floor):
    admin = sign_in(floor.test_client(), "admin")
    page = admin.get("/reason-codes/").get_data(as_text=True)
    assert page.count('data-testid="reason-code"') == 7

    added = admin.post("/reason-codes/", data={"code": "Recall", "label": "Supplier recall"}, follow_redirects=True)
    assert added.status_code == 200 and "Reason code recall (Supplier recall) added" in added.get_data(as_text=True)
    assert codes()["recall"] == ("Supplier recall", True)

    renamed = admin.post("/reason-codes/label", data={"code": "recall", "label": "Recalled by supplier"},
                         follow_redirects=True)
    assert "recall is now called Recalled by supplier" in renamed.get_data(as_text=True)
    retired = admin.post("/reason-codes/retire", data={"code": "recall"}, follow_redirects=True)
    html = retired.get_data(as_text=True)
    assert "recall is retired" in html and "Make active again" in html
    assert codes()["recall"] == ("Recalled by supplier", False)

    manager = sign_in(floor.test_client(), "manager")
    adjust_page = manager.get("/inventory/adjust").get_data(as_text=True)
    assert '<option value="recall"' not in adjust_page and '<option value="damaged" >Damaged</option>' in adjust_page
    refused = manager.post("/inventory/adjust", data=adjust_form(reason="recall"))
    assert refused.status_code == 400
    assert "reason recall is retired: choose one of" in refused.get_data(as_text=True)
    assert 'data-testid="field-error"' in refused.get_data(as_text=True)
    assert movements() == 0

    admin.post("/reason-codes/reactivate", data={"code": "recall"})
    assert codes()["recall"] == ("Recalled by supplier", True)
    assert '<option value="recall" >Recalled by supplier</option>' in manager.get("/inventory/adjust").get_data(as_text=True)
    done = manager.post("/inventory/adjust", data=adjust_form(reason="recall"))
    assert done.status_code == 200 and "+3 × SKU-1 (Blue widget) at A-01, recall." in done.get_data(as_text=True)


def test_the_page_refuses_in_words_under_the_field_and_changes_nothing(floor):
    admin = sign_in(floor.test_client(), "admin")
    bad_code = admin.post("/reason-codes/", data={"code": "two words", "label": "Two"})
    html = bad_code.get_data(as_text=True)
    assert bad_code.status_code == 400 and 'id="code-error"' in html and "cannot contain spaces" in html
    assert 'value="two words"' in html  # what was typed stays
    taken = admin.post("/reason-codes/", data={"code": "found", "label": "Found again"})
    assert taken.status_code == 409 and "reason code found already exists" in taken.get_data(as_text=True)
    blank = admin.post("/reason-codes/label", data={"code": "lost", "label": " "})
    html = blank.get_data(as_text=True)
    assert blank.status_code == 400 and "label is required" in html
    card = html.split('data-code="lost"', 1)[1].split("</section>", 1)[0]
    assert 'data-testid="field-error"' in card  # under the label of that code's card
    forged = admin.post("/reason-codes/retire", data={"code": "W" * 5000})
    assert forged.status_code == 404 and "no reason code WWWW" in forged.get_data(as_text=True)
    assert sorted(codes()) == SEEDED and codes()["lost"] == ("Lost", True)


def test_the_page_never_deletes_a_code_in_use(floor):
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=5, reason="damaged")
    admin = sign_in(floor.test_client(), "admin")
    admin.post("/reason-codes/retire", data={"code": "damaged"})
    refused = admin.post("/reason-codes/delete", data={"code": "damaged"})
    assert refused.status_code == 409
    assert "damaged is named by movements in the ledger" in refused.get_data(as_text=True)
    assert codes()["damaged"] == ("Damaged", False)
    admin.post("/reason-codes/", data={"code": "typo", "label": "Typo"})
    assert admin.post("/reason-codes/delete", data={"code": "typo"}).status_code == 409  # active: retire first
    admin.post("/reason-codes/retire", data={"code": "typo"})
    deleted = admin.post("/reason-codes/delete", data={"code": "typo"}, follow_redirects=True)
    assert "typo is deleted" in deleted.get_data(as_text=True) and "typo" not in codes()


# ---- the API ------------------------------------------------------------------------------------------


def test_the_api_lists_every_code_with_its_label_and_whether_it_is_active(api):
    db.atomic(reason_codes.put, code="old", label="Old", active=False)
    response = api.get("/api/v1/reason-codes")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert items[0] == {"code": "correction", "label": "Correction", "active": True}
    assert [item["code"] for item in items] == SEEDED + ["old"] and items[-1]["active"] is False


def test_the_api_creates_or_updates_a_code_by_its_code(api):
    created = api.post("/api/v1/reason-codes", json={"code": "RECALL", "label": "Supplier recall"})
    assert created.status_code == 200 and created.get_json() == {"code": "recall", "label": "Supplier recall", "active": True}
    adjusted = api.post("/api/v1/stock/adjustments", json={"sku": "SKU-1", "location": "A-01", "quantity": 4, "reason": "recall"})
    assert adjusted.status_code == 201
    retired = api.post("/api/v1/reason-codes", json={"code": "recall", "label": "Recalled", "active": False})
    assert retired.get_json() == {"code": "recall", "label": "Recalled", "active": False}
    refused = api.post("/api/v1/stock/adjustments", json={"sku": "SKU-1", "location": "A-01", "quantity": -1, "reason": "recall"})
    assert refused.status_code == 400
    assert refused.get_json()["error"] == {"code": "validation_error", "field": "reason",
                                           "message": f"reason recall is retired: choose one of {', '.join(SEEDED)}"}
    again = api.post("/api/v1/reason-codes", json={"code": "recall", "label": "Recalled"})  # active left out: true
    assert again.get_json()["active"] is True
    assert api.post("/api/v1/stock/adjustments", json={"sku": "SKU-1", "location": "A-01", "quantity": -1,
                                                        "reason": "recall"}).status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"label": "No code"}, "code"),
        ({"code": "x"}, "label"),
        ({"code": "", "label": "Blank"}, "code"),
        ({"code": "a b", "label": "Spaced"}, "code"),
        ({"code": "x" * 33, "label": "Long"}, "code"),
        ({"code": "x", "label": "L" * 101}, "label"),
        ({"code": "x", "label": "Bad\u0000"}, "label"),
        ({"code": 5, "label": "Number"}, "code"),
        ({"code": "x", "label": "X", "active": "no"}, "active"),
        ({"code": "x", "label": "X", "delete": True}, "delete"),
        ({"code": "ß" * 17, "label": "Grows"}, None),  # 17 characters; lower case keeps it 17: accepted
    ],
)
def test_a_bad_reason_code_body_is_400_naming_the_field_and_changes_nothing(api, body, field):
    response = api.post("/api/v1/reason-codes", json=body)
    if field is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field
    assert sorted(codes()) == SEEDED


def test_the_api_document_lists_the_reason_code_routes(api):
    document = api.get("/api/v1/openapi.json").get_json()
    assert set(document["paths"]["/api/v1/reason-codes"]) == {"get", "post"}
    adjustment = document["components"]["schemas"]["AdjustmentIn"]["properties"]["reason"]
    assert adjustment["type"] == "string" and "pattern" in adjustment
    assert "enum" not in adjustment  # the codes are data: any active one


# ---- the codes the app itself posts -------------------------------------------------------------------


def test_the_codes_the_app_posts_are_renamed_but_never_retired(api):
    """count (stocktake approvals) and correction (discrepancy corrections): retiring one would stop them."""
    for code in ("count", "correction"):
        with pytest.raises(Conflict, match=f"{code} cannot be retired"):
            db.atomic(reason_codes.set_active, code, False)
        with pytest.raises(Conflict, match=f"{code} cannot be retired"):
            db.atomic(reason_codes.delete, code)
        refused = api.post("/api/v1/reason-codes", json={"code": code, "label": "Gone", "active": False})
        assert refused.status_code == 409 and refused.get_json()["error"]["field"] == "code"
    admin = sign_in(api.client.application.test_client(), "admin")
    page = admin.get("/reason-codes/").get_data(as_text=True)
    card = page.split('data-code="count"', 1)[1].split("</section>", 1)[0]
    assert 'data-testid="kept-by-the-app"' in card and "/reason-codes/retire" not in card
    assert admin.post("/reason-codes/retire", data={"code": "count"}).status_code == 409
    db.atomic(reason_codes.rename, "count", "Stock count")
    assert codes()["count"] == ("Stock count", True) and codes()["correction"] == ("Correction", True)
