"""A GS1-128 label (GTIN, lot, expiry and a count) fills the product AND the quantity in one scan on
every scan page that takes both: move, receive, put away, count, replenish, pick and pack; the API
takes it the same way (through the same use cases); the pages' scan checks answer the label's
count as "quantity" for the scanner script; a label counting 0 units or more than one scan may take
is refused in words and changes nothing. On the default test database (WMS_TEST_DATABASE=postgres
runs it on PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db, ledger, replenishment
from app.catalog import create_product
from app.errors import ValidationFailed
from app.inbound.purchase_orders import create_purchase_order
from app.inventory import adjust_stock
from app.models import Location, Movement, Product, PutawayTask, StockLevel
from app.outbound import picking
from app.stocktakes import open_stocktake
from app.warehouses import create_location, get_warehouse
from tests.conftest import ApiClient
from tests.test_allocation import allocate, wms_order

HTMX = {"HX-Request": "true"}
GS = "\x1d"
GTIN = "09506000134352"  # the product's EAN-13 9506000134352 as a GTIN-14


def label(count: int, form: str = "raw") -> str:
    """A carton's GS1-128 label: GTIN, lot, expiry and count, as the scanner sends it (raw, behind
    ]C1) or as printed under the bars."""
    if form == "printed":
        return f"(01){GTIN}(10)LOT-7(17)270331(37){count}"
    return f"]C101{GTIN}10LOT-7{GS}17270331" f"37{count}"


LABEL = label(12)


@pytest.fixture
def floor(app):
    """GS1-1 (barcode 9506000134352) and OTHER-1; 100 GS1-1 in storage A-01; B-01 storage, DOCK
    receiving, P-01 pick face (sequence 1) and S-01 storage for picking and replenishing, tote T-01;
    PO-1 orders 24 GS1-1."""

    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="GS1-1", name="Boxed widget", barcodes=["9506000134352"])
        create_product(session, sku="OTHER-1", name="Loose part")
        create_location(session, warehouse=site, code="A-01", type="storage", zone="A")
        create_location(session, warehouse=site, code="B-01", type="storage", zone="A")
        create_location(session, warehouse=site, code="DOCK", type="receiving", zone="R", pick_sequence=1)
        create_location(session, warehouse=site, code="P-01", type="pick", pick_sequence=1)
        create_location(session, warehouse=site, code="S-01", type="storage", zone="S")
        create_location(session, warehouse=site, code="T-01", type="tote", zone="TOTES")
        create_purchase_order(session, po_number="PO-1", supplier="Acme", lines=[("GS1-1", 24)])

    db.atomic(build)
    db.atomic(adjust_stock, sku="GS1-1", location="A-01", quantity=100, reason="found")
    return app


def on_hand(location: str, sku: str = "GS1-1") -> int:
    with db.reading() as session:
        found = session.exec(
            select(StockLevel.on_hand).join(Location, Location.id == StockLevel.location_id)
            .join(Product, Product.id == StockLevel.product_id).where(Location.code == location, Product.sku == sku)
        ).first()
    return found or 0


def movements() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def ledger_clean() -> bool:
    with db.reading() as session:
        return ledger.check(session) == []


# ---- move ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["raw", "printed"])
def test_a_move_of_a_labelled_carton_moves_the_labels_count(floor, picker, form):
    answer = picker.post("/moves/", data={"from_location": "A-01", "product": label(12, form), "quantity": "1",
                                          "to_location": "B-01"}, headers=HTMX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    assert "Moved 12 × GS1-1 (Boxed widget) A-01 → B-01" in html and "Now 12 at B-01." in html
    assert (on_hand("A-01"), on_hand("B-01")) == (88, 12)
    assert ledger_clean()


def test_the_move_pages_check_says_the_product_and_the_labels_count(floor, picker):
    checked = picker.get("/moves/check", query_string={"kind": "product", "code": LABEL})
    assert checked.status_code == 200
    assert checked.get_json() == {"label": "GS1-1 · Boxed widget", "quantity": 12}
    plain = picker.get("/moves/check", query_string={"kind": "product", "code": "9506000134352"})
    assert plain.get_json() == {"label": "GS1-1 · Boxed widget"}  # no count: the quantity typed stands
    place = picker.get("/moves/check", query_string={"kind": "location", "code": "a-01"})
    assert place.get_json() == {"label": "A-01 · storage · zone A"}


@pytest.mark.parametrize(
    "count, words",
    [(0, "this label counts 0 units"), (1_000_001, "this label counts 1,000,001 units; one scan takes 1 to 1,000,000")],
)
def test_a_label_counting_zero_or_too_many_is_refused_in_words_and_moves_nothing(floor, picker, count, words):
    before = movements()
    checked = picker.get("/moves/check", query_string={"kind": "product", "code": label(count)})
    assert checked.status_code == 400 and words in checked.get_data(as_text=True)
    answer = picker.post("/moves/", data={"from_location": "A-01", "product": label(count), "quantity": "1",
                                          "to_location": "B-01"}, headers=HTMX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and words in html and "flash-error" in html
    page = picker.post("/moves/", data={"from_location": "A-01", "product": label(count), "quantity": "1",
                                        "to_location": "B-01"})
    assert page.status_code == 400 and words in page.get_data(as_text=True)
    assert movements() == before and on_hand("B-01") == 0


def test_a_label_whose_gtin_fails_its_check_digit_finds_no_product_and_moves_nothing(floor, picker):
    misread = f"]C10109506000134353{'10LOT-7'}{GS}3712"
    answer = picker.post("/moves/", data={"from_location": "A-01", "product": misread, "quantity": "1",
                                          "to_location": "B-01"}, headers=HTMX)
    assert answer.status_code == 404 and "no product with SKU or barcode" in answer.get_data(as_text=True)
    assert on_hand("B-01") == 0


def test_the_api_moves_and_receives_the_labels_count(floor, app):
    from app.accounts import create_token

    api = ApiClient(app.test_client(), db.atomic(create_token, "gs1"))
    moved = api.post("/api/v1/stock/transfers", json={"sku": label(7, "printed"), "from_location": "A-01",
                                                       "to_location": "B-01", "quantity": 1})
    assert moved.status_code == 201, moved.get_json()
    assert moved.get_json()["quantity"] == 7 and moved.get_json()["sku"] == "GS1-1"
    received = api.post("/api/v1/stock/receipts", json={"sku": LABEL, "location": "DOCK", "quantity": 1,
                                                        "po_number": "PO-1"})
    assert received.status_code == 201, received.get_json()
    assert on_hand("DOCK") == 12
    refused = api.post("/api/v1/stock/transfers", json={"sku": label(0), "from_location": "A-01",
                                                         "to_location": "B-01", "quantity": 1})
    body = refused.get_json()
    assert refused.status_code == 400 and "this label counts 0 units" in str(body)
    assert (on_hand("B-01"), on_hand("DOCK")) == (7, 12)


# ---- receive and put away ------------------------------------------------------------------------


def test_a_receiving_scan_of_a_label_adds_its_count_and_the_receipt_receives_it(floor, picker):
    scanned = picker.post("/receiving/po/PO-1/scan", data={"product": LABEL, "quantity": "1"}, headers=HTMX)
    html = scanned.get_data(as_text=True)
    assert scanned.status_code == 200, html
    assert "+12 GS1-1 · Boxed widget: 12 in this receipt, 12 still to come after it" in html
    assert 'name="line" value="GS1-1:12"' in html
    again = picker.post("/receiving/po/PO-1/scan", data={"product": label(12, "printed"), "quantity": "1",
                                                          "line": ["GS1-1:12"]}, headers=HTMX)
    assert 'name="line" value="GS1-1:24"' in again.get_data(as_text=True)
    past = picker.post("/receiving/po/PO-1/scan", data={"product": LABEL, "quantity": "1", "line": ["GS1-1:24"]},
                       headers=HTMX)
    assert past.status_code == 409 and 'data-code="over_receipt"' in past.get_data(as_text=True)
    confirmed = picker.post("/receiving/po/PO-1/confirm", data={"location": "DOCK", "line": ["GS1-1:24"]},
                            headers=HTMX)
    assert confirmed.status_code == 200 and "Received 24 units of 1 SKU into DOCK" in confirmed.get_data(as_text=True)
    assert on_hand("DOCK") == 24 and ledger_clean()


def test_the_receiving_check_answers_a_product_scan_with_the_labels_count(floor, picker):
    checked = picker.get("/receiving/check", query_string={"warehouse": "MAIN", "kind": "product", "code": LABEL})
    assert checked.status_code == 200 and checked.get_json() == {"label": "GS1-1 · Boxed widget", "quantity": 12}
    place = picker.get("/receiving/check", query_string={"warehouse": "MAIN", "code": "dock"})  # a location, as before
    assert place.status_code == 200 and place.get_json() == {"label": "DOCK · receiving · zone R"}
    zero = picker.get("/receiving/check", query_string={"warehouse": "MAIN", "kind": "product", "code": label(0)})
    assert zero.status_code == 400 and "this label counts 0 units" in zero.get_data(as_text=True)


def test_a_put_away_scan_of_a_label_puts_its_count_and_leaves_the_rest(floor, picker):
    picker.post("/receiving/po/PO-1/confirm", data={"location": "DOCK", "line": ["GS1-1:12"]}, headers=HTMX)
    checked = picker.get("/putaway/check", query_string={"warehouse": "MAIN", "kind": "product", "code": label(5)})
    assert checked.get_json() == {"label": "GS1-1 · Boxed widget", "quantity": 5}
    put = picker.post("/putaway/", data={"task": "", "from_location": "DOCK", "product": label(5), "quantity": "",
                                         "location": "B-01"}, headers=HTMX)
    html = put.get_data(as_text=True)
    assert put.status_code == 200, html
    assert "Put 5 × GS1-1 (Boxed widget) DOCK → B-01" in html and "7 left as task" in html
    assert (on_hand("DOCK"), on_hand("B-01")) == (7, 5)
    too_many = picker.post("/putaway/", data={"task": "", "from_location": "DOCK", "product": LABEL, "quantity": "",
                                              "location": "B-01"}, headers=HTMX)
    assert too_many.status_code == 409 and "holds 7; 12 cannot be put away" in too_many.get_data(as_text=True)
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(PutawayTask)).one() == 2
    assert ledger_clean()


# ---- count ---------------------------------------------------------------------------------------


def test_a_count_scan_of_a_label_adds_its_count_and_a_plain_scan_adds_one(floor, picker):
    db.atomic(open_stocktake, locations=["A-01"], blind=True)
    going = picker.get("/count/go?location=A-01")
    assert going.status_code == 302, going.get_data(as_text=True)
    row = int(going.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    first = picker.post(f"/count/{row}", data={"product": LABEL, "quantity": "1"}, headers=HTMX)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert "+12 GS1-1 (Boxed widget): 12 counted at A-01." in first.get_data(as_text=True)
    second = picker.post(f"/count/{row}", data={"product": "9506000134352", "quantity": "1"}, headers=HTMX)
    assert "+1 GS1-1 (Boxed widget): 13 counted at A-01." in second.get_data(as_text=True)
    printed = picker.post(f"/count/{row}", data={"product": label(20, "printed"), "quantity": "1"}, headers=HTMX)
    assert "+20 GS1-1 (Boxed widget): 33 counted at A-01." in printed.get_data(as_text=True)
    zero = picker.post(f"/count/{row}", data={"product": label(0), "quantity": "1"}, headers=HTMX)
    assert zero.status_code == 400 and "this label counts 0 units" in zero.get_data(as_text=True)
    corrected = picker.post(f"/count/{row}/set", data={"product": LABEL, "counted": "40"}, headers=HTMX)
    assert "GS1-1 (Boxed widget) set to 40 at A-01." in corrected.get_data(as_text=True)  # a set count is typed


# ---- replenish -----------------------------------------------------------------------------------


def test_a_replenishment_scan_of_a_label_moves_its_count_to_the_pick_face(floor, picker):
    db.atomic(adjust_stock, sku="GS1-1", location="S-01", quantity=30, reason="found")
    replenishment.save_rule(sku="GS1-1", location="P-01", min=5, max=20)
    with db.reading() as session:
        site = get_warehouse(session)
    replenishment.start_check(site.id)  # no Redis: the check runs now
    with db.reading() as session:
        task = next(t for t in replenishment.list_tasks(session, site.id) if t["to_location"] == "P-01")
    checked = picker.get(f"/replenishment/tasks/{task['id']}/scan", query_string={"kind": "product", "code": label(8)})
    assert checked.status_code == 200 and checked.get_json() == {"label": "GS1-1 · Boxed widget", "quantity": 8}
    done = picker.post(f"/replenishment/tasks/{task['id']}/complete",
                       data={"from_location": task["from_location"], "product": label(8), "quantity": "1",
                             "to_location": "P-01"})  # the quantity typed (or left at 1) gives way to the label's
    assert done.status_code == 200, done.get_data(as_text=True)
    assert on_hand("P-01") == 8 and ledger_clean()


# ---- pick and pack -------------------------------------------------------------------------------


def test_a_pick_scan_of_a_label_picks_its_count_and_packing_takes_it_in_one_scan(floor, picker):
    db.atomic(adjust_stock, sku="GS1-1", location="P-01", quantity=20, reason="found")
    wms_order("SO-1", [("GS1-1", 12)])
    allocate("SO-1")
    job = db.atomic(picking.create_pick_job, ["SO-1"], "single", None)
    db.atomic(picking.confirm_tote, job["id"], "T-01")
    picked = picker.post(f"/picking/{job['id']}/pick", data={"location": "P-01", "sku": LABEL, "quantity": "",
                                                            "tote": "T-01"}, headers=HTMX)
    assert picked.status_code == 200, picked.get_data(as_text=True)
    assert (on_hand("P-01"), on_hand("T-01")) == (8, 12)
    with db.reading() as session:
        assert picking.get_pick_job(session, job["id"])["status"] == "done"

    packed = picker.post("/packing/SO-1/scan", data={"product": label(12, "printed"), "quantity": ""}, headers=HTMX)
    html = packed.get_data(as_text=True)
    assert packed.status_code == 200, html
    assert "+12 GS1-1 · Boxed widget: 12 of 12 in the box" in html and 'name="line" value="GS1-1:12"' in html
    assert ledger_clean()


def test_a_pick_of_a_label_counting_more_than_the_stop_asks_is_refused_and_moves_nothing(floor, picker):
    db.atomic(adjust_stock, sku="GS1-1", location="P-01", quantity=20, reason="found")
    wms_order("SO-1", [("GS1-1", 3)])
    allocate("SO-1")
    job = db.atomic(picking.create_pick_job, ["SO-1"], "single", None)
    db.atomic(picking.confirm_tote, job["id"], "T-01")
    refused = picker.post(f"/picking/{job['id']}/pick", data={"location": "P-01", "sku": LABEL, "quantity": "",
                                                             "tote": "T-01"}, headers=HTMX)
    assert refused.status_code in (400, 409) and "flash-error" in refused.get_data(as_text=True)
    with pytest.raises(ValidationFailed) as zero:
        db.atomic(picking.record_pick, job["id"], location="P-01", sku=label(0), quantity=1, tote="T-01")
    assert zero.value.field == "sku" and "this label counts 0 units" in zero.value.message  # the pick's own field
    assert (on_hand("P-01"), on_hand("T-01")) == (20, 0)
