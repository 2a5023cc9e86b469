"""Replenishment pages: a manager sets min/max on a page and by CSV and checks every pick face; a
picker lists the tasks and completes one by scanning source, product and pick face (in full, or
in part leaving the rest as a new task); bad scans are refused under their field and change
nothing; each page is for its role only."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import Movement, ReplenishmentRule, ReplenishmentTask
from app.warehouses import create_location, create_warehouse, get_warehouse


@pytest.fixture
def floor(app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Gadget")
        for code, kind in (("P-01", "pick"), ("P-02", "pick"), ("S-01", "storage"), ("S-02", "storage")):
            create_location(session, warehouse=site, code=code, type=kind)

    db.atomic(build)
    for sku, location, quantity in (("SKU-1", "S-01", 100), ("SKU-1", "P-01", 2), ("SKU-2", "S-02", 40)):
        db.atomic(adjust_stock, sku=sku, location=location, quantity=quantity, reason="found")
    return app


def tasks():
    with db.reading() as session:
        return [(t.status, t.quantity) for t in session.exec(select(ReplenishmentTask).order_by(ReplenishmentTask.id))]


def open_task_id():
    with db.reading() as session:
        return session.exec(select(ReplenishmentTask.id).where(ReplenishmentTask.status == "open")).one()


def rules():
    with db.reading() as session:
        return sorted((r.minimum, r.maximum) for r in session.exec(select(ReplenishmentRule)))


def test_a_manager_sets_min_and_max_on_the_page_and_the_task_appears_for_pickers(floor, manager, picker):
    page = manager.get("/replenishment/rules")
    assert page.status_code == 200 and "No pick face has a min and max yet" in page.get_data(as_text=True)

    saved = manager.post("/replenishment/rules", data={"sku": "sku-1", "location": "p-01", "min": "5", "max": "20",
                                                       "warehouse": "MAIN"})
    assert saved.status_code == 302
    listed = manager.get(saved.headers["Location"]).get_data(as_text=True)
    assert "SKU-1 at P-01: min 5, max 20 set." in listed and "+18" in listed
    assert tasks() == [("open", 18)]

    board = picker.get("/replenishment/").get_data(as_text=True)
    assert "18 × SKU-1" in board and "S-01 → P-01" in board


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"min": "20", "max": "20"}, "max", "max must be more than min"),
        ({"min": "-1"}, "min", "min must be a whole number from 0"),
        ({"max": "abc"}, "max", "max must be a whole number"),
        ({"location": "S-01"}, "location", "S-01 is a storage location"),
        ({"location": "NOWHERE"}, "location", "no location NOWHERE"),
        ({"sku": "NOPE"}, "sku", "no product NOPE"),
    ],
)
def test_a_rule_the_warehouse_refuses_is_shown_under_its_field_and_nothing_is_saved(floor, manager, form, field, words):
    values = {"sku": "SKU-1", "location": "P-01", "min": "5", "max": "20", "warehouse": "MAIN", **form}
    answer = manager.post("/replenishment/rules", data=values)
    html = answer.get_data(as_text=True)
    assert answer.status_code in (400, 404)
    assert f'id="{field}-error"' in html and words in html
    assert rules() == [] and tasks() == []


def test_a_csv_of_rules_sets_the_good_rows_and_reports_each_bad_one(floor, manager):
    csv = "sku,location,min,max\nSKU-1,P-01,5,20\nSKU-2,P-02,3,10\nSKU-1,S-01,1,2\nNOPE,P-01,1,2\nSKU-2,P-01,9,3\nsku-1,p-01,1,2\n"
    answer = manager.post("/replenishment/rules/import", data={"text": csv, "warehouse": "MAIN"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "2 set, 0 changed, 4 rows with errors." in html
    for words in ("S-01 is a storage location", "no product NOPE", "max must be more than min", "is also on row 2"):
        assert words in html
    assert rules() == [(3, 10), (5, 20)]
    assert sorted(q for _, q in tasks()) == [10, 18]  # both pick faces were below their new minimum


@pytest.mark.parametrize(
    ("csv", "words"),
    [
        ("sku,location,min\nSKU-1,P-01,5\n", "max is missing"),
        ("sku,location,min,max,colour\nSKU-1,P-01,5,20,red\n", "not one of sku, location, min, max"),
        ("sku,location,min,max\nSKU-1,P-01,5\n", "no value for max"),
        ('sku,location,min,max\n"SKU-1,P-01,5,20\n', "never closed"),
    ],
)
def test_a_csv_of_the_wrong_shape_imports_nothing(floor, manager, csv, words):
    answer = manager.post("/replenishment/rules/import", data={"text": csv, "warehouse": "MAIN"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Nothing was imported" in html and words in html
    assert rules() == []


def test_the_managers_check_creates_the_missing_tasks_and_says_what_it_found(floor, manager):
    def direct(session):  # a rule saved without its own check (as a restore would)
        session.add(ReplenishmentRule(product_id=1, location_id=_location_id(session, "P-01"), minimum=5, maximum=20))

    db.atomic(direct)
    assert tasks() == []
    answer = manager.post("/replenishment/rules/check", data={"warehouse": "MAIN"})
    page = manager.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Checked 1 pick face of MAIN: 1 below their minimum; 1 task created" in page
    assert tasks() == [("open", 18)]


def _location_id(session, code):
    from app.warehouses import find_location

    return find_location(session, get_warehouse(session).id, code).id


def test_a_picker_completes_a_task_by_scanning_source_product_and_pick_face(floor, manager, picker):
    manager.post("/replenishment/rules", data={"sku": "SKU-1", "location": "P-01", "min": "5", "max": "20"})
    task_id = open_task_id()
    page = picker.get(f"/replenishment/tasks/{task_id}").get_data(as_text=True)
    assert "18</strong> from <strong>S-01" in page and 'value="18"' in page

    done = picker.post(f"/replenishment/tasks/{task_id}/complete", headers={"HX-Request": "true"},
                       data={"from_location": "s-01", "product": "9300000000011", "quantity": "18", "to_location": "P-01"})
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Moved 18 × SKU-1 S-01 → P-01" in html and "P-01 now holds 20" in html and "<html" not in html
    assert tasks() == [("done", 18)]
    with db.reading() as session:
        movement = session.exec(select(Movement).where(Movement.type == "replenishment")).one()
        assert movement.quantity == 18 and ledger.check(session) == []


def test_a_partial_completion_leaves_the_rest_as_the_next_task(floor, manager, picker):
    manager.post("/replenishment/rules", data={"sku": "SKU-1", "location": "P-01", "min": "5", "max": "20"})
    task_id = open_task_id()
    done = picker.post(f"/replenishment/tasks/{task_id}/complete",
                       data={"from_location": "S-01", "product": "SKU-1", "quantity": "8", "to_location": "P-01"})
    html = done.get_data(as_text=True)
    assert "The rest, 10, is task" in html and "The rest: 10 from S-01" in html
    assert tasks() == [("done", 8), ("open", 10)]


@pytest.mark.parametrize(
    ("scans", "field", "words"),
    [
        ({"from_location": ""}, "from_location", "scan the location you take the stock from"),
        ({"product": "SKU-2"}, "product", "this task is for SKU-1, not SKU-2"),
        ({"to_location": "P-02"}, "to_location", "this task fills P-01, not P-02"),
        ({"from_location": "S-02"}, "quantity", "only 0 free at S-02"),
        ({"quantity": "19"}, "quantity", "asks for 18; 19 is more"),
        ({"quantity": "0"}, "quantity", "quantity must be a whole number from 1"),
        ({"quantity": "9223372036854775807"}, "quantity", "quantity must be a whole number from 1"),
        ({"from_location": "A\x00B"}, "from_location", "contains a control character"),
    ],
)
def test_a_wrong_scan_is_refused_under_its_field_keeping_the_scans_and_changes_nothing(floor, manager, picker, scans,
                                                                                      field, words):
    manager.post("/replenishment/rules", data={"sku": "SKU-1", "location": "P-01", "min": "5", "max": "20"})
    task_id = open_task_id()
    values = {"from_location": "S-01", "product": "SKU-1", "quantity": "18", "to_location": "P-01", **scans}
    # The scanner (htmx): a red line for the log and the words under the field at fault (out of band).
    answer = picker.post(f"/replenishment/tasks/{task_id}/complete", data=values, headers={"HX-Request": "true"})
    html = answer.get_data(as_text=True)
    assert 400 <= answer.status_code < 500
    assert f'id="{field}-error"' in html and words in html and 'data-testid="replenish-refused"' in html
    # Without JavaScript: the page again, the scans kept.
    answer = picker.post(f"/replenishment/tasks/{task_id}/complete", data=values)
    html = answer.get_data(as_text=True)
    assert 400 <= answer.status_code < 500
    assert f'id="{field}-error"' in html and words in html
    assert 'value="SKU-1"' in html or field == "product"  # the scans are kept
    assert tasks() == [("open", 18)]
    with db.reading() as session:
        assert session.exec(select(Movement).where(Movement.type == "replenishment")).all() == []


def test_a_scan_on_the_task_page_is_checked_against_the_task(floor, manager, picker):
    manager.post("/replenishment/rules", data={"sku": "SKU-1", "location": "P-01", "min": "5", "max": "20"})
    url = f"/replenishment/tasks/{open_task_id()}/scan"
    assert picker.get(url, query_string={"kind": "product", "code": "9300000000011"}).get_json() == {"label": "SKU-1 · Widget"}
    assert picker.get(url, query_string={"kind": "to_location", "code": "p-01"}).get_json() == {"label": "P-01 · pick"}
    wrong = picker.get(url, query_string={"kind": "to_location", "code": "P-02"}, headers={"Accept": "application/json"})
    assert wrong.status_code == 400 and wrong.get_json()["error"]["field"] == "to_location"
    missing = picker.get(url, query_string={"kind": "from_location", "code": "NOPE"}, headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.get_json()["error"]["field"] == "from_location"


def test_the_task_list_is_per_warehouse(floor, manager, picker):
    def west(session):
        site = create_warehouse(session, code="WEST", name="West")
        create_location(session, warehouse=site, code="W-P1", type="pick")
        create_location(session, warehouse=site, code="W-S1", type="storage")

    db.atomic(west)
    db.atomic(adjust_stock, sku="SKU-2", location="W-S1", quantity=30, reason="found", warehouse="WEST")
    manager.post("/replenishment/rules", data={"sku": "SKU-1", "location": "P-01", "min": "5", "max": "20"})
    manager.post("/replenishment/rules", data={"sku": "SKU-2", "location": "W-P1", "min": "5", "max": "20",
                                               "warehouse": "WEST"})
    main = picker.get("/replenishment/").get_data(as_text=True)
    west_page = picker.get("/replenishment/?warehouse=west").get_data(as_text=True)
    assert "SKU-1" in main and "SKU-2" not in main
    assert "20 × SKU-2" in west_page and "SKU-1" not in west_page
    assert picker.get("/replenishment/?warehouse=NOPE").status_code == 404


def test_each_page_is_for_its_role(floor, picker, client):
    assert picker.get("/replenishment/rules").status_code == 403
    assert picker.post("/replenishment/rules", data={"sku": "SKU-1", "location": "P-01", "min": "5", "max": "20"}).status_code == 403
    assert picker.post("/replenishment/rules/check").status_code == 403
    assert picker.get("/replenishment/rules/import").status_code == 403
    assert client.get("/replenishment/").status_code in (302, 401)
    assert rules() == []
