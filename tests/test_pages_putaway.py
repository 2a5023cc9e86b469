"""The putaway page: the warehouse's tasks oldest first, a task chosen from the list, and stock put
away by scanning (from, product, quantity, to) with every refusal in words."""
import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.catalog import create_product
from app.inbound import receiving
from app.inbound.purchase_orders import create_purchase_order
from app.inventory import stock_summary
from app.models import Movement, PutawayTask
from app.warehouses import create_location, create_warehouse, get_warehouse

HTMX = {"HX-Request": "true"}


@pytest.fixture
def floor(app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Red gadget")
        create_location(session, warehouse=site, code="DOCK", type="receiving")
        create_location(session, warehouse=site, code="A-01", type="storage", zone="A", pick_sequence=1)
        create_location(session, warehouse=site, code="B-01", type="storage", zone="B", pick_sequence=2)
        create_purchase_order(session, po_number="PO-1", supplier="Acme", lines=[("SKU-1", 10), ("SKU-2", 4)])
        north = create_warehouse(session, code="NORTH", name="North")
        create_location(session, warehouse=north, code="N-DOCK", type="receiving")
        create_purchase_order(session, po_number="PO-N", supplier="Nordic", warehouse="NORTH", lines=[("SKU-2", 1)])

    db.atomic(build)
    db.atomic(receiving.receive, po_number="PO-1", location="DOCK", lines=[("SKU-1", 6)])
    db.atomic(receiving.receive, po_number="PO-1", location="DOCK", lines=[("SKU-2", 3)])
    db.atomic(receiving.receive, po_number="PO-N", location="N-DOCK", lines=[("SKU-2", 1)])
    return app


def put(client, headers=HTMX, **values):
    data = {"task": "", "from_location": "DOCK", "product": "SKU-1", "quantity": "", "location": "A-01", **values}
    return client.post("/putaway/", data=data, headers=headers)


def stored():
    with db.reading() as session:
        movements = session.exec(select(func.count()).select_from(Movement)).one()
        return movements, [(t.id, t.status, t.quantity) for t in session.exec(select(PutawayTask).order_by(PutawayTask.id))]


def on_hand(sku) -> dict:
    with db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, sku)["locations"]}


def test_the_page_lists_the_current_warehouses_open_tasks_oldest_first(floor, picker):
    html = picker.get("/putaway/").get_data(as_text=True)
    assert html.index('data-testid="task-1"') < html.index('data-testid="task-2"')
    assert 'data-testid="task-3"' not in html  # NORTH's
    for hook in ("putaway-form", "putaway-from", "putaway-product", "putaway-quantity", "putaway-to", "putaway-confirm",
                 "putaway-log", "do-task-1"):
        assert f'data-testid="{hook}"' in html
    assert 'data-testid="task-3"' in picker.get("/putaway/?warehouse=NORTH").get_data(as_text=True)
    only = picker.get("/putaway/?q=gadget", headers={**HTMX, "HX-Target": "tasks"}).get_data(as_text=True)
    assert "<html" not in only and 'data-testid="task-2"' in only and 'data-testid="task-1"' not in only


def test_the_task_list_is_paged_and_a_page_comes_into_the_list_alone(floor, picker, monkeypatch):
    monkeypatch.setattr("app.web.putaway.PAGE_SIZE", 1)
    first = picker.get("/putaway/").get_data(as_text=True)
    assert 'data-testid="task-1"' in first and 'data-testid="task-2"' not in first
    assert 'hx-get="/putaway/?page=2&amp;status=open"' in first and 'hx-target="#tasks"' in first
    second = picker.get("/putaway/?page=2&status=open", headers={**HTMX, "HX-Target": "tasks"}).get_data(as_text=True)
    assert "<html" not in second and 'data-testid="task-2"' in second and 'data-testid="task-1"' not in second
    assert ">Previous<" in second and ">Next<" not in second
    assert 'data-testid="task-2"' in picker.get("/putaway/?page=2").get_data(as_text=True)  # the whole page too


def test_a_task_chosen_from_the_list_shows_where_it_goes(floor, picker):
    html = picker.get("/putaway/?task=1").get_data(as_text=True)
    assert 'data-testid="chosen-task"' in html and 'name="task" value="1"' in html
    assert "Task #1: 6 × " in html and 'data-testid="suggested">A-01<' in html


@pytest.mark.parametrize("query, status, words", [
    ("task=abc", 400, "task must be a whole number"), ("task=99", 404, "no putaway task 99"),
    ("status=later", 400, "status must be one of open, done, cancelled"), ("q=" + "x" * 101, 400, "at most 100"),
])
def test_a_bad_address_is_said_in_words_on_the_page(floor, picker, query, status, words):
    response = picker.get(f"/putaway/?{query}")
    assert response.status_code == status and words in response.get_data(as_text=True)


def test_a_picker_puts_a_task_away_by_scanning_and_the_list_is_told_to_follow(floor, picker):
    response = put(picker, product="9300000000011", location="a-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "putaway-done"
    assert "Put 6 × SKU-1 (Blue widget) DOCK → A-01. Now 6 at A-01." in html
    assert on_hand("SKU-1") == {"A-01": 6}
    with db.reading() as session:
        assert session.get(PutawayTask, 1).done_by is not None


def test_a_partial_putaway_to_another_place_than_suggested_leaves_the_rest(floor, picker):
    html = put(picker, task="2", product="SKU-2", quantity="2", location="A-01").get_data(as_text=True)
    assert "Put 2 × SKU-2 (Red gadget) DOCK → A-01 instead of B-01." in html
    assert "1 left as task #4 → A-01." in html
    assert stored()[1][-1] == (4, "open", 1)


def test_the_form_works_without_javascript(floor, picker):
    response = put(picker, headers={}, quantity="1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and "Put 1 × SKU-1" in html


@pytest.mark.parametrize(
    "values, status, words",
    [
        ({"task": "1", "from_location": "A-01"}, 400, "stock is at DOCK, not A-01"),
        ({"task": "1", "product": "SKU-2"}, 400, "this task is for SKU-1, not SKU-2"),
        ({"task": "1", "quantity": "7"}, 409, "putaway task 1 holds 6; 7 cannot be put away"),
        ({"task": "1", "quantity": "-1"}, 400, "quantity must be a whole number from 1"),
        ({"task": "1", "location": "DOCK"}, 400, "the stock is at DOCK already"),
        ({"task": "1", "location": "NOWHERE"}, 404, "no location NOWHERE"),
        ({"task": "abc"}, 400, "task must be a whole number"),
        ({"from_location": "B-01"}, 404, "no open putaway task for SKU-1 at B-01"),
        ({"from_location": ""}, 400, "scan or type a location"),
        ({"product": ""}, 400, "scan or type a product"),
        ({"product": "NOPE"}, 404, "no product with SKU or barcode NOPE"),
        ({"location": "W" * 5000}, 404, "no location WWWW"),
        ({"location": "A\x00B"}, 400, "control character"),
    ],
)
def test_a_putaway_that_cannot_be_done_is_said_in_words_and_changes_nothing(floor, picker, values, status, words):
    before = stored()
    for headers, shown in ((HTMX, 'data-testid="flash-error"'), ({}, 'data-testid="field-error"')):
        response = put(picker, headers=headers, **values)
        html = response.get_data(as_text=True)
        assert response.status_code == status, html
        assert words in html and (shown in html or 'data-testid="flash-error"' in html)
    assert stored() == before


def test_a_done_task_is_not_done_twice(floor, picker):
    assert put(picker, task="1").status_code == 200
    again = put(picker, task="1")
    assert again.status_code == 409 and "putaway task 1 is already done" in again.get_data(as_text=True)
    done = picker.get("/putaway/?status=done").get_data(as_text=True)
    assert 'data-testid="task-1"' in done and 'data-status="done"' in done


def test_putting_away_needs_a_signed_in_user(floor, client):
    assert put(client).status_code == 401
    assert client.get("/putaway/").status_code == 302
    assert on_hand("SKU-1") == {"DOCK": 6}
