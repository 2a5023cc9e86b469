"""The problem pages (issue 10): a picker reports damaged, missing or found stock (the form prefilled
from the scan page it came from, with a way back) and reads "Reported: waiting for a manager"; a
manager sees the current warehouse's reports waiting, oldest first, and approves (the quantity may be
changed) or rejects each in place (htmx answers the report's card); every refusal in words, nothing
moved; pickers get 403 on the manager's pages and partials."""
from __future__ import annotations

import re

import pytest
from flask import render_template_string
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock, stock_summary, transfer_stock
from app.models import Movement, ProblemReport
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests.conftest import sign_in

HTMX = {"HX-Request": "true"}


@pytest.fixture
def floor(app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
        create_location(session, warehouse=site, code="A-01", type="storage", zone="A")
        create_location(session, warehouse=site, code="Q-01", type="quarantine", zone="Q")
        north = create_warehouse(session, code="NORTH", name="North")
        create_location(session, warehouse=north, code="N-01", type="storage")

    db.atomic(build)
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=10, reason="found")
    db.atomic(adjust_stock, sku="SKU-1", location="N-01", quantity=5, reason="found", warehouse="NORTH")
    return app


def send(client, **values):
    data = {"kind": "damaged", "location": "A-01", "product": "SKU-1", "quantity": "2", "note": "", **values}
    return client.post("/problems/new", data=data)


def reports() -> list[tuple]:
    with db.reading() as session:
        return [(r.id, r.kind, r.status, r.quantity, r.approved_quantity)
                for r in session.exec(select(ProblemReport).order_by(ProblemReport.id))]


def movements() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def on_hand() -> dict:
    with db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, "SKU-1")["locations"]}


def test_the_form_is_prefilled_from_the_scan_page_with_a_way_back(floor, picker):
    html = picker.get("/problems/new?location=A-01&product=9300000000011&back=/putaway/%3Ftask%3D3").get_data(as_text=True)
    assert 'name="location" id="problem-location" value="A-01"' in html
    assert 'value="9300000000011"' in html
    assert 'data-testid="problem-back"' in html and 'href="/putaway/?task=3"' in html
    for hook in ("kind-damaged", "kind-missing", "kind-found", "problem-quantity", "problem-note", "problem-send"):
        assert f'data-testid="{hook}"' in html
    assert 'name="csrf_token"' in html


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/x", "/\\evil", "/problems/new?x=1",
                                  "/a\x00b", "/" + "x" * 3000])
def test_a_back_link_off_this_site_or_to_itself_is_left_out(floor, picker, back):
    response = picker.get("/problems/new", query_string={"back": back, "location": "A\x1bB", "product": "W" * 5000})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="problem-back"' not in html
    fields = dict(re.findall(r'name="(location|product)" id="problem-\w+" value="([^"]*)"', html))
    assert fields == {"location": "", "product": "W" * 128}  # a control character dropped, cut to a field's length


def test_a_picker_reports_damaged_stock_and_reads_that_it_waits_for_a_manager(floor, picker):
    before = movements()
    response = send(picker, note="crushed corner", back="/moves/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Reported: waiting for a manager." in html and "Damaged: 2 × SKU-1 at A-01" in html
    assert 'data-testid="my-report" data-status="open"' in html and "waiting for a manager</span>" in html
    assert 'href="/moves/"' in html  # still a way back
    assert reports() == [(1, "damaged", "open", 2, None)]
    assert movements() == before and on_hand() == {"A-01": 10, "N-01": 5}


@pytest.mark.parametrize(
    "values, words",
    [
        ({"quantity": "11"}, "A-01 holds 10 of SKU-1 in the stock figures, so 11 cannot be damaged"),
        ({"quantity": "9223372036854775807"}, "quantity must be a whole number from 1 to 1,000,000"),
        ({"quantity": "-1"}, "quantity must be a whole number from 1 to 1,000,000"),
        ({"quantity": "1e20"}, "quantity must be a whole number"),
        ({"quantity": ""}, "quantity is required"),
        ({"kind": ""}, "choose what the problem is"),
        ({"kind": "W" * 5000}, "kind must be one of damaged, missing, found"),
        ({"location": "N-01"}, "no location N-01"),  # NORTH's: not the picker's current warehouse
        ({"location": "A\x00B"}, "location contains a control character"),
        ({"product": "Ωжß語🙂" * 1000}, "no product with SKU or barcode Ωжß語🙂"),
        ({"note": "W" * 5000}, "note is 5,000 characters long; at most 1000 are allowed"),
        ({"note": "A\x1bB"}, "note contains a control character"),
    ],
)
def test_a_report_the_warehouse_cannot_take_is_refused_in_words_on_the_form(floor, picker, values, words):
    response = send(picker, **values)
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 404)
    assert words in html
    assert "Traceback" not in html and "Error:" not in html
    assert reports() == []


def test_a_manager_sees_the_warehouses_reports_waiting_oldest_first(floor, picker, manager):
    send(picker)
    send(picker, kind="found", quantity="3")
    manager.post("/warehouse", data={"warehouse": "NORTH", "next": "/"})
    send(manager, location="N-01", kind="missing", quantity="1")  # a manager may report too
    manager.post("/warehouse", data={"warehouse": "MAIN", "next": "/"})
    html = manager.get("/problems/").get_data(as_text=True)
    ids = re.findall(r'data-report="(\d+)"', html)
    assert ids == ["1", "2"]  # MAIN's, oldest first
    assert "2 waiting for a manager" in html
    assert "Move 2 units from A-01 to quarantine Q-01 (reason: damaged)" in html
    assert "Add 3 units at A-01 (reason: found)" in html
    assert 'data-testid="problem-on-hand">10<' in html
    assert re.findall(r'data-report="(\d+)"', manager.get("/problems/?warehouse=NORTH").get_data(as_text=True)) == ["3"]


def test_approving_on_the_partial_posts_the_adjustment_and_answers_the_card(floor, picker, manager):
    send(picker, quantity="3")
    response = manager.post("/problems/1/approve", data={"quantity": "2"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "problem-decided"
    assert html.lstrip().startswith('<article class="card stack" id="problem-1"')
    assert 'data-status="approved"' in html and "Approved: the stock is adjusted." in html
    assert "Move 2 units from A-01 to quarantine Q-01" in html
    assert reports() == [(1, "damaged", "approved", 3, 2)]
    assert on_hand() == {"A-01": 8, "Q-01": 2, "N-01": 5}
    mine = picker.get("/problems/new").get_data(as_text=True)
    assert 'data-testid="my-report" data-status="approved"' in mine and "approved (2)" in mine


def test_approving_without_htmx_answers_the_list_with_words(floor, picker, manager):
    send(picker, kind="missing", quantity="1")
    html = manager.post("/problems/1/approve", data={"quantity": ""}).get_data(as_text=True)
    assert "Report 1 approved." in html and 'data-testid="no-problems"' in html
    assert on_hand() == {"A-01": 9, "N-01": 5}


def test_approving_when_the_stock_has_gone_answers_the_card_in_words_and_keeps_it_open(floor, picker, manager):
    send(picker, kind="missing", quantity="4")
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-01", to_location="Q-01", quantity=8, reason="damaged")
    before = movements()
    response = manager.post("/problems/1/approve", data={"quantity": "4"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "cannot be posted now: only 2 free at A-01" in html and "the report stays open" in html
    assert 'data-status="open"' in html and 'data-testid="problem-approve"' in html  # still there to approve fewer
    assert movements() == before and reports() == [(1, "missing", "open", 4, None)]


@pytest.mark.parametrize("quantity, words", [("9223372036854775807", "from 1 to 1,000,000"), ("abc", "must be a whole number"),
                                             ("0", "from 1 to 1,000,000"), ("A\x00B", "must be a whole number")])
def test_an_approved_quantity_out_of_bounds_is_refused_in_words_under_the_field(floor, picker, manager, quantity, words):
    send(picker)
    response = manager.post("/problems/1/approve", data={"quantity": quantity}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and words in html and 'data-testid="field-error"' in html
    assert reports() == [(1, "damaged", "open", 2, None)] and on_hand() == {"A-01": 10, "N-01": 5}


def test_rejecting_needs_a_reason_and_the_picker_reads_it(floor, picker, manager):
    send(picker)
    refused = manager.post("/problems/1/reject", data={"reason": "  "}, headers=HTMX)
    assert refused.status_code == 400 and "say why the report is rejected" in refused.get_data(as_text=True)
    before = movements()
    response = manager.post("/problems/1/reject", data={"reason": "All 10 are fine: checked"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-status="rejected"' in html and "Rejected: nothing moved." in html
    assert movements() == before
    mine = picker.get("/problems/new").get_data(as_text=True)
    assert 'data-status="rejected"' in mine and "All 10 are fine: checked" in mine


def test_a_decided_or_unknown_report_answers_in_words(floor, picker, manager):
    send(picker)
    manager.post("/problems/1/reject", data={"reason": "no"}, headers=HTMX)
    again = manager.post("/problems/1/approve", data={"quantity": "2"}, headers=HTMX)
    assert again.status_code == 409 and "problem report 1 was already rejected by manager" in again.get_data(as_text=True)
    missing = manager.post("/problems/999/approve", data={"quantity": "2"}, headers=HTMX)
    assert missing.status_code in (400, 404) and "report" in missing.get_data(as_text=True)
    # An id no row can have (beyond 32 bits) names no page at all (app.RowIdConverter).
    beyond = manager.post("/problems/99999999999/approve", data={"quantity": "2"}, headers=HTMX)
    assert beyond.status_code == 404 and "There is nothing at this address" in beyond.get_data(as_text=True)


def test_pickers_get_403_on_the_managers_list_and_partials(floor, picker):
    send(picker)
    for headers in ({}, HTMX):
        assert picker.get("/problems/", headers=headers).status_code == 403
        assert picker.post("/problems/1/approve", data={"quantity": "2"}, headers=headers).status_code == 403
        assert picker.post("/problems/1/reject", data={"reason": "x"}, headers=headers).status_code == 403
    assert reports() == [(1, "damaged", "open", 2, None)]


def test_the_home_page_and_nav_offer_each_role_its_page(floor, picker, manager):
    picker_home = picker.get("/").get_data(as_text=True)
    assert 'href="/problems/new"' in picker_home and 'href="/problems/"' not in picker_home
    manager_home = manager.get("/").get_data(as_text=True)
    assert 'href="/problems/"' in manager_home


def test_the_scan_pages_link_carries_the_location_and_product_the_page_knows(floor):
    partial = '{% include "partials/report_problem.html" %}'
    with floor.test_request_context("/putaway/?task=3"):
        from flask_login import login_user

        from app.models import User

        with db.reading() as session:
            login_user(session.exec(select(User).where(User.username == "picker")).one())
        known = render_template_string(partial, scan_location="A-01", scan_product="SKU 1")
        unknown = render_template_string(partial)
    assert 'href="/problems/new?location=A-01&amp;product=SKU+1&amp;back=/putaway/?task%3D3"' in known
    assert 'href="/problems/new?back=/putaway/?task%3D3"' in unknown
    assert 'data-testid="report-problem"' in known


def test_the_pages_fit_360_px_by_their_markup(floor, picker, manager):
    """No fixed widths wider than a phone (the browser test checks the real layout)."""
    send(picker, note="W" * 1000)
    for client, url in ((picker, "/problems/new"), (manager, "/problems/")):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"width:\s*[4-9]\d\dpx", html)
