"""Scan actions applied once by the id the phone made for each (X-Client-Id): a scan sent again (a
replay after being offline, a resend after a lost answer) applies nothing and is answered "Already
saved"; a refused scan leaves its id free; a malformed id is refused in words; two processes
sending the same id at once on PostgreSQL apply it once. SQLite and PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
from sqlmodel import SQLModel, func, select

from app import db, ledger
from app.catalog import create_product
from app.client_actions import AlreadyApplied, applied, claim
from app.errors import ValidationFailed, WmsError
from app.inbound import receiving
from app.inbound.purchase_orders import create_purchase_order
from app.inventory import adjust_stock, stock_summary, transfer_stock
from app.models import ClientAction, Movement, StocktakeLine, StocktakeLocation
from app.outbound import picking
from app.stocktakes import counting, open_stocktake
from app.warehouses import create_location, get_warehouse
from tests.conftest import _seed_basics, make_app
from tests.support.ledger_workers import run_processes

HTMX = {"HX-Request": "true"}


def new_id() -> str:
    return str(uuid.uuid4())


def build_floor():
    """SKU-A (barcode 9300000000011) and SKU-B; storage S-01 (50 SKU-A) and A-01, pick face P-01
    (5 SKU-A), receiving DOCK, totes T-01 and T-02."""

    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-A", name="Apple", barcodes=["9300000000011"])
        create_product(session, sku="SKU-B", name="Banana")
        create_location(session, warehouse=site, code="S-01", type="storage")
        create_location(session, warehouse=site, code="A-01", type="storage")
        create_location(session, warehouse=site, code="P-01", type="pick", pick_sequence=1)
        create_location(session, warehouse=site, code="DOCK", type="receiving")
        for code in ("T-01", "T-02"):
            create_location(session, warehouse=site, code=code, type="tote")

    db.atomic(build)
    db.atomic(adjust_stock, sku="SKU-A", location="S-01", quantity=50, reason="found")
    db.atomic(adjust_stock, sku="SKU-A", location="P-01", quantity=5, reason="found")


def on_hand(location: str, sku: str = "SKU-A") -> int:
    with db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, sku)["locations"]}.get(location, 0)


def movements() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def recorded() -> list[tuple[str, str]]:
    with db.reading() as session:
        return [(row.client_id, row.action) for row in session.exec(select(ClientAction).order_by(ClientAction.applied_at))]


def snapshot() -> dict:
    """Every row of every table but client_action itself: what a scan applied again must not change."""
    with db.reading() as session:
        return {table.name: sorted(map(repr, session.execute(table.select()).all()))
                for table in SQLModel.metadata.sorted_tables if table.name not in ("client_action", "sign_in_counter")}


def clean():
    with db.reading() as session:
        assert ledger.check(session) == []


# ---- claim ---------------------------------------------------------------------------------------


def test_an_id_is_claimed_once_and_a_second_claim_of_it_applies_nothing(any_db_app):
    scan = new_id()
    assert db.atomic(claim, scan, "move", user_id=1) == scan
    with pytest.raises(AlreadyApplied) as again:
        db.atomic(claim, scan.upper(), "count", user_id=2)  # the same id in capitals is the same id
    assert again.value.action == "move" and again.value.user_id == 1
    assert again.value.message.startswith("Already saved: this move was applied at ")
    assert recorded() == [(scan, "move")]
    with db.reading() as session:
        assert applied(session, scan).action == "move" and applied(session, new_id()) is None


def test_no_id_records_nothing_and_checks_nothing(any_db_app):
    assert db.atomic(claim, None, "move") is None
    assert db.atomic(claim, "  ", "move") is None
    assert recorded() == []


A_UUID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"


@pytest.mark.parametrize("sent", ["nope", "1234", A_UUID + "0", "{" + A_UUID + "}", A_UUID.replace("-", ""), "x" * 5000,
                                  "g" * 8 + A_UUID[8:], A_UUID + "\n" + A_UUID])
def test_an_id_that_is_not_a_uuid_is_refused_in_words_and_records_nothing(any_db_app, sent):
    with pytest.raises(ValidationFailed) as refused:
        db.atomic(claim, sent, "move")
    assert "is not a UUID" in refused.value.message and refused.value.field == "client_id"
    assert len(refused.value.message) < 300  # a long id is not echoed whole
    assert recorded() == []


# ---- each use case, sent twice -------------------------------------------------------------------


def test_a_move_sent_twice_moves_once(any_db_app):
    build_floor()
    scan = new_id()
    move = dict(sku="SKU-A", from_location="S-01", to_location="A-01", quantity=3, user_id=1, client_id=scan)
    db.atomic(transfer_stock, **move)
    before = movements()
    with pytest.raises(AlreadyApplied):
        db.atomic(transfer_stock, **move)
    assert movements() == before and on_hand("A-01") == 3 and on_hand("S-01") == 47
    db.atomic(transfer_stock, **{**move, "client_id": new_id()})  # another scan of the same: applied
    assert on_hand("A-01") == 6 and recorded()[0] == (scan, "move")
    clean()


def test_a_refused_scan_leaves_its_id_free_so_it_applies_once_things_allow_it(any_db_app):
    build_floor()
    scan = new_id()
    move = dict(sku="SKU-A", from_location="A-01", to_location="S-01", quantity=2, client_id=scan)
    with pytest.raises(WmsError) as refused:  # A-01 holds nothing yet
        db.atomic(transfer_stock, **move)
    assert refused.value.status == 409 and recorded() == []
    db.atomic(transfer_stock, sku="SKU-A", from_location="S-01", to_location="A-01", quantity=2)
    db.atomic(transfer_stock, **move)
    assert on_hand("A-01") == 0 and recorded() == [(scan, "move")]
    clean()


def test_a_receipt_sent_twice_receives_once(any_db_app):
    build_floor()
    db.atomic(create_purchase_order, po_number="PO-1", supplier="Acme", lines=[("SKU-A", 10)])
    scan = new_id()
    receipt = dict(po_number="PO-1", location="DOCK", lines=[("SKU-A", 4)], client_id=scan)
    db.atomic(receiving.receive, **receipt)
    before = snapshot()
    with pytest.raises(AlreadyApplied) as again:
        db.atomic(receiving.receive, **receipt)
    assert again.value.action == "receipt" and snapshot() == before and on_hand("DOCK") == 4
    clean()


def test_a_count_scan_sent_twice_counts_once(any_db_app):
    build_floor()
    db.atomic(open_stocktake, locations=["S-01"], blind=True)
    with db.reading() as session:
        row = session.exec(select(StocktakeLocation.id)).one()
    scan = new_id()
    first = db.atomic(counting.record_count_at, row, product="9300000000011", add="1", user_id=1, client_id=scan)
    assert first.counted == 1
    with pytest.raises(AlreadyApplied):
        db.atomic(counting.record_count_at, row, product="9300000000011", add="1", user_id=1, client_id=scan)
    assert db.atomic(counting.record_count_at, row, product="SKU-A", add="1", user_id=1, client_id=new_id()).counted == 2
    with db.reading() as session:
        assert [line.counted for line in session.exec(select(StocktakeLine))] == [2]


def _job_picking(order_lines=(("SKU-A", 2),)) -> int:
    """SO-1 allocated (from P-01) in a single pick job with tote T-01, taken and its tote scanned."""
    from tests.test_allocation import allocate, wms_order

    wms_order("SO-1", list(order_lines))
    allocate("SO-1")
    job = db.atomic(picking.create_pick_job, ["SO-1"], totes=["T-01"])
    db.atomic(picking.take_job, job["id"], 1)
    db.atomic(picking.confirm_tote, job["id"], "T-01", 1)
    return job["id"]


def test_a_pick_sent_twice_picks_once(any_db_app):
    build_floor()
    job = _job_picking()
    scan = new_id()
    pick = dict(location="P-01", sku="SKU-A", quantity="1", tote="T-01", user_id=1, client_id=scan)
    db.atomic(picking.record_pick, job, **pick)
    before = snapshot()
    with pytest.raises(AlreadyApplied):
        db.atomic(picking.record_pick, job, **pick)
    assert snapshot() == before and on_hand("T-01") == 1 and on_hand("P-01") == 4
    db.atomic(picking.record_pick, job, **{**pick, "client_id": new_id()})
    assert on_hand("T-01") == 2
    clean()


def test_a_pick_replayed_after_the_stop_was_done_meanwhile_is_a_conflict_and_records_nothing(any_db_app):
    build_floor()
    job = _job_picking([("SKU-A", 1)])
    db.atomic(picking.record_pick, job, location="P-01", sku="SKU-A", quantity="1", tote="T-01", client_id=new_id())
    late = new_id()
    with pytest.raises(WmsError) as refused:  # a scan saved offline for the same stop, replayed later
        db.atomic(picking.record_pick, job, location="P-01", sku="SKU-A", quantity="1", tote="T-01", client_id=late)
    assert refused.value.status == 409 and late not in dict(recorded())
    clean()


# ---- two processes at once (PostgreSQL) ----------------------------------------------------------


def send_moves(database_url: str, ids: list[str], *, barrier) -> dict:
    """Send each scan (a move of 1 x SKU-A, S-01 -> A-01) as the other process sends the same one."""
    app = make_app(database_url)
    outcome = {"applied": 0, "already": 0}
    with app.app_context():
        for scan in ids:
            barrier.wait()
            try:
                db.atomic(transfer_stock, sku="SKU-A", from_location="S-01", to_location="A-01", quantity=1,
                          client_id=scan)
                outcome["applied"] += 1
            except AlreadyApplied:
                outcome["already"] += 1
    app.extensions["wms.engine"].dispose()
    return outcome


@pytest.mark.postgres
def test_two_processes_sending_the_same_scans_at_once_apply_each_once(postgres_url):
    app = make_app(postgres_url)
    with app.app_context():
        _seed_basics()
        build_floor()
    app.extensions["wms.engine"].dispose()
    ids = [new_id() for _ in range(25)]
    found = run_processes(send_moves, [(postgres_url, ids), (postgres_url, ids)], timeout=180)
    assert sum(f["applied"] for f in found) == 25 and sum(f["already"] for f in found) == 25
    app = make_app(postgres_url)
    with app.app_context():
        assert on_hand("A-01") == 25 and on_hand("S-01") == 25
        assert sorted(scan for scan, _ in recorded()) == sorted(ids)
        clean()
    app.extensions["wms.engine"].dispose()


# ---- the pages: every scan action, sent twice with its id ----------------------------------------


def _move(manager):
    return "/moves/", {"from_location": "S-01", "product": "SKU-A", "quantity": "2", "to_location": "A-01"}


def _receive(manager):
    db.atomic(create_purchase_order, po_number="PO-1", supplier="Acme", lines=[("SKU-A", 10)])
    return "/receiving/po/PO-1/confirm", {"location": "DOCK", "line": "SKU-A:3"}


def _put_away(manager):
    db.atomic(create_purchase_order, po_number="PO-1", supplier="Acme", lines=[("SKU-A", 10)])
    db.atomic(receiving.receive, po_number="PO-1", location="DOCK", lines=[("SKU-A", 3)])
    return "/putaway/", {"task": "", "from_location": "DOCK", "product": "SKU-A", "quantity": "", "location": "A-01"}


def _count(manager):
    db.atomic(open_stocktake, locations=["S-01"], blind=True)
    with db.reading() as session:
        row = session.exec(select(StocktakeLocation.id)).one()
    return f"/count/{row}", {"product": "SKU-A", "quantity": "1"}


def _replenish(manager):
    manager.post("/replenishment/rules", data={"sku": "SKU-A", "location": "P-01", "min": "10", "max": "20"})
    from app.models import ReplenishmentTask

    with db.reading() as session:
        task = session.exec(select(ReplenishmentTask).where(ReplenishmentTask.status == "open")).one()
    return (f"/replenishment/tasks/{task.id}/complete",
            {"from_location": "S-01", "product": "SKU-A", "quantity": str(task.quantity), "to_location": "P-01"})


def _pick(manager):
    job = _job_picking()
    return f"/picking/{job}/pick", {"location": "P-01", "sku": "SKU-A", "quantity": "1", "tote": "T-01"}


def _pack(manager):
    job = _job_picking([("SKU-A", 1)])
    db.atomic(picking.record_pick, job, location="P-01", sku="SKU-A", quantity="1", tote="T-01")
    return "/packing/SO-1/pack", {"line": "SKU-A:1", "box": ""}


@pytest.mark.parametrize("action", [_move, _receive, _put_away, _count, _replenish, _pick, _pack],
                         ids=["move", "receive", "put away", "count", "replenish", "pick", "pack"])
def test_every_scan_action_sent_twice_with_its_id_is_applied_once_and_said_already_saved(
        app, picker, manager, monkeypatch, action):
    from app.outbound import labels

    monkeypatch.setattr(labels, "_committed", lambda session: session.info.pop(labels._PENDING, None))
    build_floor()
    url, data = action(manager)
    headers = {**HTMX, "X-Client-Id": new_id()}
    before = snapshot()
    first = picker.post(url, data=data, headers=headers)
    assert first.status_code in (200, 201, 302), first.get_data(as_text=True)
    assert "X-Already-Applied" not in first.headers
    applied_once = snapshot()
    assert applied_once != before

    again = picker.post(url, data=data, headers=headers)
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and again.headers["X-Already-Applied"] == "1"
    assert "Already saved" in html and "not applied again" in html and 'data-testid="flash-ok"' in html
    assert again.headers["HX-Retarget"] == "#flash"
    assert snapshot() == applied_once
    clean()


def test_a_malformed_id_on_a_page_is_refused_in_words_and_moves_nothing(app, picker):
    build_floor()
    data = {"from_location": "S-01", "product": "SKU-A", "quantity": "2", "to_location": "A-01"}
    refused = picker.post("/moves/", data=data, headers={**HTMX, "X-Client-Id": "not-a-uuid"})
    assert refused.status_code == 400 and "is not a UUID" in refused.get_data(as_text=True)
    assert on_hand("A-01") == 0 and recorded() == []


def test_the_offline_queue_gets_a_fresh_csrf_token_when_signed_in_only(app, picker, client):
    answer = picker.get("/offline/csrf-token")
    assert answer.status_code == 200 and answer.get_json()["csrf_token"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert client.get("/offline/csrf-token").status_code == 302  # to sign in
