"""Problem reports (issue 10): a picker reports damaged, missing or found stock, which changes nothing
until a manager approves the adjustment it proposes; approving posts exactly one movement through the
ledger's rules in the same transaction as the report's status, or is refused in words with the report
left open; rejecting moves nothing. The proposal rule is a plain function (unit tier); the rest runs
on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import select

from app import db, ledger, problem_reports as problems
from app.catalog import create_product
from app.errors import Conflict, NotFound, ValidationFailed, WmsError
from app.inventory import adjust_stock, stock_summary, transfer_stock
from app.models import Movement, ProblemAction, ProblemReport, User
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests.conftest import sign_in

HTMX = {"HX-Request": "true"}


# ---- the proposal rule (no database) -----------------------------------------------------------


@pytest.mark.parametrize(
    "kind, location_type, quarantine, expected",
    [
        ("damaged", "storage", "Q-01", problems.Proposal(ProblemAction.QUARANTINE, "damaged", "Q-01")),
        ("damaged", "pick", None, problems.Proposal(ProblemAction.REMOVE, "damaged")),
        ("damaged", "quarantine", "Q-01", problems.Proposal(ProblemAction.REMOVE, "damaged")),  # already there: written off
        ("missing", "storage", "Q-01", problems.Proposal(ProblemAction.REMOVE, "lost")),
        ("missing", "pick", None, problems.Proposal(ProblemAction.REMOVE, "lost")),
        ("found", "storage", "Q-01", problems.Proposal(ProblemAction.ADD, "found")),
        ("found", "quarantine", None, problems.Proposal(ProblemAction.ADD, "found")),
    ],
)
def test_damaged_stock_goes_to_quarantine_when_there_is_one_missing_is_lost_found_is_added(
        kind, location_type, quarantine, expected):
    assert problems.propose(kind, location_type=location_type, quarantine=quarantine) == expected


def test_the_proposal_is_said_in_a_sentence():
    assert problems.proposal_words("quarantine", "damaged", 2, "A-01", "Q-01") == \
        "Move 2 units from A-01 to quarantine Q-01 (reason: damaged)"
    assert problems.proposal_words("remove", "lost", 1, "A-01") == "Remove 1 unit from A-01 (reason: lost)"
    assert problems.proposal_words("add", "found", 1200, "A-01") == "Add 1,200 units at A-01 (reason: found)"


@pytest.mark.parametrize("value, words", [("", "choose what the problem is"), ("broken", "kind must be one of"),
                                          ("x" * 5000, "kind must be one of"), (7, "kind must be one of")])
def test_a_kind_that_is_none_of_the_three_is_refused_in_words(value, words):
    with pytest.raises(ValidationFailed) as refused:
        problems.clean_kind(value)
    assert refused.value.field == "kind" and words in refused.value.message
    assert len(refused.value.message) < 200


def test_a_kind_is_read_in_any_case():
    assert problems.clean_kind("  DAMAGED ") == "damaged"


# ---- on a database -------------------------------------------------------------------------------


@pytest.fixture
def floor(any_db_app):
    """MAIN: A-01 (storage) with 10 of SKU-1, P-01 (pick) with 4, Q-01 (quarantine); NORTH: N-01
    (storage, no quarantine) with 5 of SKU-1."""

    def build(session):
        main = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Red gadget")
        create_location(session, warehouse=main, code="A-01", type="storage", zone="A")
        create_location(session, warehouse=main, code="P-01", type="pick", zone="P")
        create_location(session, warehouse=main, code="Q-01", type="quarantine", zone="Q")
        north = create_warehouse(session, code="NORTH", name="North")
        create_location(session, warehouse=north, code="N-01", type="storage", zone="N")

    db.atomic(build)
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=10, reason="found")
    db.atomic(adjust_stock, sku="SKU-1", location="P-01", quantity=4, reason="found")
    db.atomic(adjust_stock, sku="SKU-1", location="N-01", quantity=5, reason="found", warehouse="NORTH")
    return any_db_app


def user_id(name: str) -> int:
    with db.reading() as session:
        return session.exec(select(User.id).where(User.username == name)).one()


def report(**values):
    body = {"kind": "damaged", "location": "A-01", "product": "SKU-1", "quantity": 2, "note": None,
            "user_id": user_id("picker"), **values}
    return db.atomic(problems.report_problem, **body)


def stock() -> dict:
    """(warehouse, location) -> on hand of SKU-1."""
    with db.reading() as session:
        return {(row["warehouse"], row["location"]): row["on_hand"] for row in stock_summary(session, "SKU-1")["locations"]}


def movement_count() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def ledger_is_clean() -> bool:
    with db.reading() as session:
        return ledger.check(session) == []


def stored(report_id: int) -> ProblemReport:
    with db.reading() as session:
        return session.get(ProblemReport, report_id)


START = {("MAIN", "A-01"): 10, ("MAIN", "P-01"): 4, ("NORTH", "N-01"): 5}


def test_a_report_changes_no_stock_and_waits_open_with_its_proposal(floor):
    before = movement_count()
    made = report(note="box crushed by a forklift", product="9300000000011")  # by barcode
    assert (made.status, made.kind, made.sku, made.location, made.quantity) == ("open", "damaged", "SKU-1", "A-01", 2)
    assert (made.action, made.reason, made.to_location) == ("quarantine", "damaged", "Q-01")
    assert made.reported_by == "picker" and made.note == "box crushed by a forklift" and made.on_hand == 10
    assert made.proposal == "Move 2 units from A-01 to quarantine Q-01 (reason: damaged)"
    assert movement_count() == before and stock() == START
    with db.reading() as session:
        assert [row.id for row in problems.list_reports(session)] == [made.id]
        assert problems.list_reports(session, warehouse="NORTH") == []


def test_approving_damaged_stock_moves_it_to_quarantine_in_one_movement_and_the_ledger_stays_clean(floor):
    made = report(quantity=3)
    before = movement_count()
    done = db.atomic(problems.approve, made.id, user_id=user_id("manager"))
    assert (done.status, done.approved_quantity, done.decided_by) == ("approved", 3, "manager")
    assert movement_count() == before + 1
    with db.reading() as session:
        moved = session.get(Movement, done.movement_id)
    assert (moved.type, moved.quantity, moved.reason, moved.user_id) == ("transfer", 3, "damaged", user_id("manager"))
    assert stock() == {**START, ("MAIN", "A-01"): 7, ("MAIN", "Q-01"): 3}
    with db.reading() as session:
        assert stock_summary(session, "SKU-1")["available"] == 7 + 4 + 5  # quarantine: on hand, never available
    assert ledger_is_clean()


def test_damaged_stock_is_written_off_where_the_warehouse_has_no_quarantine(floor):
    made = report(location="N-01", warehouse="NORTH", quantity=2)
    assert (made.action, made.reason, made.to_location, made.warehouse) == ("remove", "damaged", None, "NORTH")
    done = db.atomic(problems.approve, made.id, user_id=user_id("manager"))
    with db.reading() as session:
        moved = session.get(Movement, done.movement_id)
    assert (moved.type, moved.quantity, moved.reason, moved.reference) == (
        "adjustment", 2, "damaged", f"problem report {made.id}")
    assert stock() == {**START, ("NORTH", "N-01"): 3}
    assert ledger_is_clean()


def test_missing_stock_is_adjusted_down_as_lost_and_found_stock_up_as_found(floor):
    missing = report(kind="missing", location="P-01", quantity=4)
    found = report(kind="FOUND", product="SKU-1", location="A-01", quantity=6)
    assert (missing.action, missing.reason, found.action, found.reason) == ("remove", "lost", "add", "found")
    db.atomic(problems.approve, missing.id, user_id=user_id("manager"))
    db.atomic(problems.approve, found.id, user_id=user_id("manager"), quantity="5")  # the manager counted 5
    assert stock() == {("MAIN", "A-01"): 15, ("NORTH", "N-01"): 5}
    assert stored(found.id).approved_quantity == 5 and stored(found.id).quantity == 6
    assert ledger_is_clean()


def test_found_stock_may_be_a_product_the_location_never_held(floor):
    made = report(kind="found", product="SKU-2", location="P-01", quantity=1)
    db.atomic(problems.approve, made.id, user_id=user_id("manager"))
    with db.reading() as session:
        assert stock_summary(session, "SKU-2")["on_hand"] == 1


def test_rejecting_moves_nothing_and_keeps_the_reason(floor):
    made = report()
    before = movement_count()
    done = db.atomic(problems.reject, made.id, reason="Counted: all 10 are fine", user_id=user_id("manager"))
    assert (done.status, done.decision_note, done.movement_id, done.decided_by) == (
        "rejected", "Counted: all 10 are fine", None, "manager")
    assert movement_count() == before and stock() == START


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_rejection_needs_a_reason(floor, reason):
    made = report()
    with pytest.raises(ValidationFailed) as refused:
        db.atomic(problems.reject, made.id, reason=reason, user_id=user_id("manager"))
    assert refused.value.field == "reason" and "say why" in refused.value.message
    assert stored(made.id).status == "open"


def test_a_decided_report_cannot_be_decided_again(floor):
    made = report()
    db.atomic(problems.approve, made.id, user_id=user_id("manager"))
    before = movement_count()
    for decide, extra in ((problems.approve, {}), (problems.reject, {"reason": "no"})):
        with pytest.raises(Conflict) as refused:
            db.atomic(decide, made.id, user_id=user_id("admin"), **extra)
        assert refused.value.message == f"problem report {made.id} was already approved by manager: nothing changed"
    assert movement_count() == before
    assert stored(made.id).decided_by == user_id("manager")


def test_approving_when_the_stock_has_gone_is_refused_in_words_and_the_report_stays_open(floor):
    made = report(kind="missing", location="P-01", quantity=3)
    db.atomic(transfer_stock, sku="SKU-1", from_location="P-01", to_location="A-01", quantity=3)  # moved meanwhile
    before = movement_count()
    with pytest.raises(Conflict) as refused:
        db.atomic(problems.approve, made.id, user_id=user_id("manager"))
    assert refused.value.status == 409 and refused.value.field == "quantity"
    assert refused.value.message.startswith("Remove 3 units from P-01 (reason: lost) cannot be posted now: only 1 free at P-01")
    assert "the report stays open" in refused.value.message
    assert movement_count() == before
    assert stored(made.id).status == "open" and stored(made.id).movement_id is None
    # approving fewer, what is there, works
    db.atomic(problems.approve, made.id, user_id=user_id("manager"), quantity=1)
    assert ("MAIN", "P-01") not in stock() and ledger_is_clean()  # none left there


def test_approving_damaged_stock_when_the_quarantine_location_was_retired_is_refused_in_words(floor):
    made = report()

    db.atomic(lambda session: session.exec(text("UPDATE location SET active = false WHERE code = 'Q-01'")))
    with pytest.raises(Conflict) as refused:
        db.atomic(problems.approve, made.id, user_id=user_id("manager"))
    assert "location Q-01 is inactive" in refused.value.message
    assert stored(made.id).status == "open" and stock() == START


def test_approving_a_retired_reason_is_refused_in_words(floor):
    made = report(kind="missing")
    db.atomic(lambda session: session.exec(text("UPDATE reason_code SET active = false WHERE code = 'lost'")))
    with pytest.raises(Conflict) as refused:
        db.atomic(problems.approve, made.id, user_id=user_id("manager"))
    assert "reason 'lost' is retired" in refused.value.message or "lost is retired" in refused.value.message
    assert stored(made.id).status == "open" and stock() == START


@pytest.mark.parametrize(
    "values, field, words",
    [
        ({"quantity": 11}, "quantity", "A-01 holds 10 of SKU-1 in the stock figures, so 11 cannot be damaged: report at most 10"),
        ({"kind": "missing", "product": "SKU-2"}, "quantity", "A-01 holds none of SKU-2"),
        ({"quantity": 0}, "quantity", "quantity must be a whole number from 1 to 1,000,000"),
        ({"quantity": -2}, "quantity", "quantity must be a whole number from 1 to 1,000,000"),
        ({"quantity": 1_000_001, "kind": "found"}, "quantity", "from 1 to 1,000,000"),
        ({"quantity": "9223372036854775807"}, "quantity", "from 1 to 1,000,000"),
        ({"quantity": "1e3"}, "quantity", "must be a whole number"),
        ({"quantity": "NaN"}, "quantity", "must be a whole number"),
        ({"quantity": ""}, "quantity", "quantity is required"),
        ({"note": "n" * 1001}, "note", "note is 1,001 characters long; at most 1000 are allowed"),
        ({"note": "A\x00B"}, "note", "control character"),
        ({"location": "Z-99"}, "location", "no location Z-99"),
        ({"location": ""}, "location", "scan or type a location"),
        ({"location": "@ADJUSTMENT"}, "location", "no location @ADJUSTMENT"),
        ({"location": "A\x1bB"}, "location", "control character"),
        ({"product": "NOPE"}, "product", "no product with SKU or barcode NOPE"),
        ({"product": ""}, "product", "scan or type a product"),
        ({"product": "W" * 5000}, "product", "no product with SKU or barcode WWW"),
        ({"kind": "stolen"}, "kind", "kind must be one of damaged, missing, found"),
        ({"warehouse": "NOWHERE"}, "warehouse", "no warehouse NOWHERE"),
    ],
)
def test_a_report_out_of_bounds_is_refused_in_words_and_nothing_is_stored(floor, values, field, words):
    with pytest.raises(WmsError) as refused:
        report(**values)
    assert refused.value.status in (400, 404)
    assert refused.value.field == field
    assert words in refused.value.message
    assert len(refused.value.message) < 300
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(ProblemReport)).one() == 0


@pytest.mark.parametrize("quantity, words", [(0, "from 1 to 1,000,000"), ("abc", "must be a whole number"),
                                             (2_000_000, "from 1 to 1,000,000")])
def test_an_approved_quantity_out_of_bounds_is_refused_and_nothing_moves(floor, quantity, words):
    made = report()
    with pytest.raises(ValidationFailed) as refused:
        db.atomic(problems.approve, made.id, user_id=user_id("manager"), quantity=quantity)
    assert refused.value.field == "quantity" and words in refused.value.message
    assert stored(made.id).status == "open" and stock() == START


def test_an_unknown_report_is_not_found_in_words(floor):
    for report_id in (999, 2**40):
        with pytest.raises((NotFound, ValidationFailed)):
            db.atomic(problems.approve, report_id, user_id=user_id("manager"))


@pytest.mark.parametrize(
    "column, value",
    [("quantity", 0), ("quantity", 1_000_001), ("kind", "stolen"), ("status", "maybe"), ("action", "burn"),
     ("note", "n" * 1001), ("approved_quantity", 0), ("decision_note", "")],
)
def test_the_database_keeps_the_same_bounds(floor, column, value):
    made = report()
    with pytest.raises((IntegrityError, DataError)):  # a CHECK; PostgreSQL's varchar(1000) refuses first
        db.atomic(lambda session: session.exec(text(f"UPDATE problem_report SET {column} = :v WHERE id = :id"),
                                               params={"v": value, "id": made.id}))
    assert stored(made.id).quantity == 2


def test_the_database_refuses_an_approved_report_without_its_movement(floor):
    made = report()
    with pytest.raises(IntegrityError):
        db.atomic(lambda session: session.exec(text(
            "UPDATE problem_report SET status = 'approved', decided_at = created_at WHERE id = :id"),
            params={"id": made.id}))
    with pytest.raises(IntegrityError):  # a quarantine proposal names its location
        db.atomic(lambda session: session.exec(text("UPDATE problem_report SET to_location_id = NULL WHERE id = :id"),
                                               params={"id": made.id}))


def test_open_reports_are_listed_oldest_first_and_decided_ones_newest_first(floor):
    first, second, third = report(), report(kind="found"), report(kind="missing", location="P-01", quantity=1)
    db.atomic(problems.reject, first.id, reason="fine", user_id=user_id("manager"))
    db.atomic(problems.approve, third.id, user_id=user_id("manager"))
    fourth = report(quantity=1)
    with db.reading() as session:
        assert [r.id for r in problems.list_reports(session)] == [second.id, fourth.id]
        assert [r.id for r in problems.list_reports(session, status="all")] == [fourth.id, third.id, second.id, first.id]
        assert [r.id for r in problems.list_reports(session, status="APPROVED")] == [third.id]
        assert [r.id for r in problems.reports_by(session, user_id("picker"))] == [fourth.id, third.id, second.id, first.id]
        assert problems.open_count(session, get_warehouse(session).id) == 2
        with pytest.raises(ValidationFailed):
            problems.list_reports(session, status="maybe")


# ---- roles on the pages (the full page walk is tests/test_pages_problems.py) ----------------------


def test_a_picker_cannot_approve_or_reject_on_the_page_nor_the_partial(floor):
    made = report()
    picker = sign_in(floor.test_client(), "picker")
    for headers in ({}, HTMX):
        assert picker.get("/problems/", headers=headers).status_code == 403
        assert picker.post(f"/problems/{made.id}/approve", data={"quantity": "2"}, headers=headers).status_code == 403
        assert picker.post(f"/problems/{made.id}/reject", data={"reason": "x"}, headers=headers).status_code == 403
    assert stored(made.id).status == "open" and stock() == START


def test_the_same_location_code_in_two_warehouses_is_the_reporters_current_one(floor):
    def build(session):
        create_location(session, warehouse=get_warehouse(session, "NORTH"), code="A-01", type="storage")

    db.atomic(build)
    made = report(kind="found", warehouse="NORTH", quantity=1)
    db.atomic(problems.approve, made.id, user_id=user_id("manager"))
    assert stock()[("NORTH", "A-01")] == 1 and stock()[("MAIN", "A-01")] == 10


# ---- the API ---------------------------------------------------------------------------------------


@pytest.fixture
def api(floor):
    from app.accounts import create_token
    from tests.conftest import ApiClient

    return ApiClient(floor.test_client(), db.atomic(create_token, "problem reports"))


def test_the_api_reports_lists_approves_and_rejects(api):
    made = api.post("/api/v1/problem-reports", json={"kind": "Damaged", "location": "a-01", "product": "9300000000011",
                                                     "quantity": 2, "note": "wet"})
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert (body["status"], body["action"], body["to_location"], body["reported_by"], body["on_hand"]) == (
        "open", "quarantine", "Q-01", None, 10)
    assert body["created_at"].endswith("Z") and body["decided_at"] is None
    listed = api.get("/api/v1/problem-reports").get_json()
    assert [item["id"] for item in listed["items"]] == [body["id"]] and listed["next_offset"] is None
    approved = api.post(f"/api/v1/problem-reports/{body['id']}/approve", json={"quantity": 1})
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert (approved.get_json()["status"], approved.get_json()["approved_quantity"]) == ("approved", 1)
    assert stock()[("MAIN", "Q-01")] == 1 and ledger_is_clean()
    again = api.post(f"/api/v1/problem-reports/{body['id']}/reject", json={"reason": "no"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "report_not_open"
    other = api.post("/api/v1/problem-reports", json={"kind": "found", "location": "A-01", "product": "SKU-1",
                                                      "quantity": 1}).get_json()
    rejected = api.post(f"/api/v1/problem-reports/{other['id']}/reject", json={"reason": "seen twice"})
    assert rejected.status_code == 200 and rejected.get_json()["decision_note"] == "seen twice"
    assert [item["status"] for item in api.get("/api/v1/problem-reports?status=all").get_json()["items"]] == [
        "rejected", "approved"]


def test_the_api_refuses_in_words(api):
    cases = [
        ({"kind": "stolen", "location": "A-01", "product": "SKU-1", "quantity": 1}, 400, "kind"),
        ({"kind": "missing", "location": "A-01", "product": "SKU-1", "quantity": 11}, 400, "quantity"),
        ({"kind": "missing", "location": "A-01", "product": "SKU-1", "quantity": "1"}, 400, "quantity"),
        ({"kind": "found", "location": "Z-9", "product": "SKU-1", "quantity": 1}, 404, "location"),
        ({"kind": "found", "location": "A-01", "product": "NOPE", "quantity": 1}, 404, "product"),
        ({"kind": "found", "location": "A-01", "product": "SKU-1", "quantity": 1, "extra": 1}, 400, "extra"),
    ]
    for body, status, field in cases:
        answer = api.post("/api/v1/problem-reports", json=body)
        assert answer.status_code == status, (body, answer.get_data(as_text=True))
        assert answer.get_json()["error"]["field"] == field
    assert api.post("/api/v1/problem-reports/999/approve", json={}).status_code == 404
    assert api.post("/api/v1/problem-reports/0/approve", json={}).status_code == 400
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(ProblemReport)).one() == 0


def test_a_gs1_labels_count_is_the_quantity_when_none_is_typed(floor):
    db.atomic(lambda session: create_product(session, sku="GS1-1", name="Carton", barcodes=["9506000134352"]))
    db.atomic(adjust_stock, sku="GS1-1", location="A-01", quantity=20, reason="found")
    label = "]C101095060001343521" + "0LOT-7\x1d17270331" + "3712"
    made = report(product=label, quantity="")
    assert (made.sku, made.quantity) == ("GS1-1", 12)
    typed = report(product=label, quantity="2")  # what the picker typed wins
    assert typed.quantity == 2
    with pytest.raises(ValidationFailed) as refused:
        report(product="SKU-1", quantity="")  # no label: a quantity is needed
    assert refused.value.message == "quantity is required"


@pytest.mark.postgres
def test_two_managers_approving_one_report_at_once_post_it_once(postgres_url):
    """Four threads approve the same report at the same moment on PostgreSQL: the report's row lock
    lets one post; the others are refused in words ("already approved") and post nothing."""
    import threading

    from tests.conftest import _seed_basics, make_app

    app = make_app(postgres_url)
    try:
        with app.app_context():
            _seed_basics()

            def build(session):
                create_product(session, sku="SKU-1", name="Blue widget")
                create_location(session, warehouse=get_warehouse(session), code="A-01", type="storage")

            db.atomic(build)
            db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=10, reason="found")
            made = db.atomic(problems.report_problem, kind="missing", location="A-01", product="SKU-1", quantity=3)
            manager = user_id("manager")
            before = movement_count()
        barrier, outcomes = threading.Barrier(4), []

        def approve():
            with app.app_context():
                barrier.wait()
                try:
                    outcomes.append(db.atomic(problems.approve, made.id, user_id=manager).status)
                except Conflict as refused:
                    outcomes.append(refused.message)

        threads = [threading.Thread(target=approve) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["approved"] + [
            f"problem report {made.id} was already approved by manager: nothing changed"] * 3
        with app.app_context():
            assert movement_count() == before + 1
            assert stock() == {("MAIN", "A-01"): 7}
            assert ledger_is_clean()
    finally:
        app.extensions["wms.engine"].dispose()
