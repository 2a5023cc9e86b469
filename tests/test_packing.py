"""Packing a picked WMS order: what must be in the box (what was picked, by tote), scans refused for
items not in the order or beyond what was picked, "pack" refused unless the box matches, then the
order PACKED and its label job queued; on the page (phone) and by the API."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db, ledger
from app.accounts import create_token
from app.catalog import create_product
from app.errors import Conflict, NotFound
from app.inventory import adjust_stock
from app.models import Allocation, LabelJob, Location, LocationType, MovementType, Order, OrderLine, OrderStatus
from app.outbound import allocation, labels, packing
from app.warehouses import create_location, get_warehouse
from tests.conftest import ApiClient

HTMX = {"HX-Request": "true"}


def floor():
    """SKU-A (barcode 4006381333931) and SKU-B on pick faces, totes T-01 and T-02, a box size."""

    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-A", name="Apple", barcodes=["4006381333931"])
        create_product(session, sku="SKU-B", name="Banana")
        create_product(session, sku="SKU-C", name="Cherry")
        create_location(session, warehouse=site, code="P-01", type="pick", pick_sequence=1)
        create_location(session, warehouse=site, code="P-02", type="pick", pick_sequence=2)
        for code in ("T-01", "T-02"):
            create_location(session, warehouse=site, code=code, type=LocationType.TOTE)
        labels.add_size(session, name="Small box", length_cm=30, width_cm=20, height_cm=10, default_weight_kg=0.5)

    db.atomic(build)
    db.atomic(adjust_stock, sku="SKU-A", location="P-01", quantity=10, reason="found")
    db.atomic(adjust_stock, sku="SKU-B", location="P-02", quantity=10, reason="found")
    db.atomic(adjust_stock, sku="SKU-C", location="P-02", quantity=10, reason="found")


def picked_order(number="SO-1", lines=(("SKU-A", 2), ("SKU-B", 1)), tote="T-01", pick=True):
    """A WMS order allocated and (with `pick`) picked into the tote: each allocation carried to the
    tote through the ledger and marked picked, the order PICKED."""

    def write(session):
        site = get_warehouse(session)
        order = Order(order_number=number, warehouse_id=site.id, route="WMS", starshipit_order_id=9001,
                      destination={"name": "Ada", "country": "NZ"})
        session.add(order)
        session.flush()
        from app.orders.mirror import _products

        products = _products(session, [sku for sku, _ in lines])
        for sku, quantity in lines:
            session.add(OrderLine(order_id=order.id, sku=sku, product_id=products[sku], quantity=quantity))

    db.atomic(write)
    db.atomic(allocation.allocate_now, number)
    if not pick:
        return

    def to_tote(session):
        order = session.scalars(select(Order).where(Order.order_number == number)).one()
        into = session.scalars(select(Location).where(Location.code == tote)).one()
        line_ids = [line.id for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))]
        for held in list(session.scalars(select(Allocation).where(Allocation.order_line_id.in_(line_ids)))):
            source = session.get(Location, held.location_id)
            ledger.move(session, type=MovementType.PICK, product_id=held.product_id, quantity=held.quantity,
                        from_location=source, to_location=into, reference=number, allocation=held)
            held.picked = True
        order.status = OrderStatus.PICKED

    db.atomic(to_tote)


def status_of(number):
    with db.reading() as session:
        return session.scalars(select(Order.status).where(Order.order_number == number)).one()


def jobs_of(number):
    with db.reading() as session:
        order = session.scalars(select(Order).where(Order.order_number == number)).one()
        return list(session.scalars(select(LabelJob).where(LabelJob.order_id == order.id)))


def clean():
    with db.reading() as session:
        assert ledger.check(session) == []


@pytest.fixture
def no_label_runs(monkeypatch):
    """The label job is queued, not run (its conversation with Starshipit is tests/test_label_job.py's)."""
    queued = []
    monkeypatch.setattr(labels, "_committed", lambda session: queued.extend(session.info.pop(labels._PENDING, [])))
    return queued


# ---- the rules over plain data -------------------------------------------------------------------


def test_a_box_matches_only_when_every_sku_is_packed_exactly_as_picked():
    assert packing.mismatch({"SKU-A": 2, "SKU-B": 1}, {"SKU-A": 2, "SKU-B": 1}) == []
    assert packing.mismatch({"SKU-A": 2, "SKU-B": 1}, {"SKU-A": 1, "SKU-C": 1}) == [
        "SKU-A: 1 packed of 2 picked", "SKU-B: 0 packed of 1 picked", "SKU-C: not in the order"]
    assert packing.mismatch({"SKU-A": 2}, {"SKU-A": 3}) == ["SKU-A: 3 packed, only 2 picked"]


def test_box_items_add_up_per_sku_in_any_case_and_refuse_junk():
    assert packing.items_from([{"sku": "sku-a", "quantity": 1}, {"sku": "SKU-A", "quantity": 2}]) == {"SKU-A": 3}
    for junk in ([], "SKU-A", [{"sku": "SKU-A", "quantity": 0}], [{"sku": "", "quantity": 1}], [5]):
        with pytest.raises(Exception) as refused:
            packing.items_from(junk)
        assert refused.value.status == 400


# ---- the use cases -------------------------------------------------------------------------------


def test_the_packing_list_is_what_was_picked_and_the_tote_finds_the_order(any_db_app):
    floor()
    picked_order()
    with db.reading() as session:
        order = packing.find_to_pack(session, get_warehouse(session).id, "t-01")
        lines = packing.packing_list(session, order)
    assert order.order_number == "SO-1"
    assert [(line.sku, line.picked, line.totes) for line in lines] == [("SKU-A", 2, ("T-01",)), ("SKU-B", 1, ("T-01",))]


def test_scans_refuse_an_item_not_in_the_order_and_one_more_than_was_picked(any_db_app):
    floor()
    picked_order()
    with db.reading() as session:
        scanned = packing.check_scan(session, "SO-1", product="4006381333931", quantity="2", packed={})
        assert (scanned.sku, scanned.packed, scanned.done) == ("SKU-A", 2, True)
        with pytest.raises(Conflict) as wrong:
            packing.check_scan(session, "SO-1", product="SKU-C", quantity="1", packed={})
        assert wrong.value.code == "wrong_item" and "SKU-C (Cherry) is not in order SO-1" in wrong.value.message
        with pytest.raises(Conflict) as extra:
            packing.check_scan(session, "SO-1", product="SKU-A", quantity="1", packed={"SKU-A": 2})
        assert extra.value.code == "extra_item" and "1 more than the 2 picked" in extra.value.message
        with pytest.raises(NotFound):
            packing.check_scan(session, "SO-1", product="NOPE", quantity="1", packed={})


def test_packing_a_matching_box_marks_the_order_packed_and_queues_one_label_job(any_db_app, no_label_runs):
    floor()
    picked_order()
    job = db.atomic(packing.pack_order, "SO-1", items={"sku-a": 2, "SKU-B": 1}, package={"name": "small box"})
    assert status_of("SO-1") == OrderStatus.PACKED
    assert [j.id for j in jobs_of("SO-1")] == [job.id] and no_label_runs == [job.id]
    assert jobs_of("SO-1")[0].package["weight"] == 0.5  # the box's default weight
    with pytest.raises(Conflict) as again:
        db.atomic(packing.pack_order, "SO-1", items={"SKU-A": 2, "SKU-B": 1}, package=None)
    assert again.value.code == "order_packed"
    clean()


def test_a_box_that_differs_from_what_was_picked_is_refused_and_changes_nothing(any_db_app, no_label_runs):
    floor()
    picked_order()
    with pytest.raises(Conflict) as refused:
        db.atomic(packing.pack_order, "SO-1", items={"SKU-A": 1, "SKU-C": 1}, package=None)
    assert refused.value.code == "pack_mismatch"
    assert "SKU-A: 1 packed of 2 picked; SKU-B: 0 packed of 1 picked; SKU-C: not in the order" in refused.value.message
    assert status_of("SO-1") == OrderStatus.PICKED and jobs_of("SO-1") == [] and no_label_runs == []


def test_only_a_picked_wms_order_is_packed(any_db_app, no_label_runs):
    floor()
    picked_order("SO-2", pick=False)
    with pytest.raises(Conflict) as not_picked:
        db.atomic(packing.pack_order, "SO-2", items={"SKU-A": 2, "SKU-B": 1}, package=None)
    assert not_picked.value.code == "not_picked" and "SO-2 is allocated: only a picked order is packed" in \
        not_picked.value.message
    with pytest.raises(NotFound):
        db.atomic(packing.pack_order, "SO-404", items={"SKU-A": 1}, package=None)


def test_a_tote_holding_two_orders_asks_for_the_order_number(any_db_app):
    floor()
    picked_order("SO-1", lines=(("SKU-A", 1),))
    picked_order("SO-2", lines=(("SKU-B", 1),))
    with db.reading() as session, pytest.raises(Conflict) as shared:
        packing.find_to_pack(session, get_warehouse(session).id, "T-01")
    assert shared.value.code == "tote_shared" and "SO-1, SO-2" in shared.value.message
    with db.reading() as session, pytest.raises(NotFound) as empty:
        packing.find_to_pack(session, get_warehouse(session).id, "T-02")
    assert "T-02 holds nothing picked" in empty.value.message


# ---- the page ------------------------------------------------------------------------------------


def test_a_packer_scans_the_tote_then_each_item_and_packs_and_prints(app, picker, no_label_runs):
    floor()
    picked_order()
    opened = picker.get("/packing/?scan=T-01")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/packing/SO-1")
    page = picker.get("/packing/SO-1").get_data(as_text=True)
    assert 'data-testid="box-row" data-sku="SKU-A"' in page and "T-01" in page and "Small box" in page
    first = picker.post("/packing/SO-1/scan", data={"product": "4006381333931", "quantity": "2"}, headers=HTMX)
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "+2 SKU-A · Apple: 2 of 2 in the box" in html
    assert 'value="SKU-A:2"' in html and 'data-testid="line-done"' in html and "<html" not in html
    wrong = picker.post("/packing/SO-1/scan", data={"product": "SKU-C", "line": "SKU-A:2"}, headers=HTMX)
    assert wrong.status_code == 409 and "SKU-C (Cherry) is not in order SO-1" in wrong.get_data(as_text=True)
    short = picker.post("/packing/SO-1/pack", data={"line": ["SKU-A:2"], "box": "Small box"})
    assert short.status_code == 409 and "SKU-B: 0 packed of 1 picked" in short.get_data(as_text=True)
    assert status_of("SO-1") == OrderStatus.PICKED
    packed = picker.post("/packing/SO-1/pack", data={"line": ["SKU-A:2", "SKU-B:1"], "box": "Small box"})
    assert packed.status_code == 302 and packed.headers["Location"].endswith("/order/SO-1/label")
    assert status_of("SO-1") == OrderStatus.PACKED and len(no_label_runs) == 1


def test_the_packing_pages_need_a_sign_in_and_say_what_a_scan_names_not(app, picker):
    floor()
    assert app.test_client().get("/packing/").status_code == 302  # to sign in
    unknown = picker.get("/packing/?scan=NOPE-9")
    assert unknown.status_code == 404 and "no order NOPE-9" in unknown.get_data(as_text=True)


# ---- the API -------------------------------------------------------------------------------------


@pytest.fixture
def api(app):
    return ApiClient(app.test_client(), db.atomic(create_token, "packing"))


def test_the_api_packs_a_matching_box_with_202_and_the_label_job(app, api, no_label_runs):
    floor()
    picked_order()
    body = {"items": [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}],
            "package": {"weight": 1.2, "length": 0.3, "width": 0.2, "height": 0.1}}
    answer = api.post("/api/v1/orders/SO-1/pack", json=body)
    assert answer.status_code == 202 and answer.get_json() == {"label_job": no_label_runs[0]}
    assert jobs_of("SO-1")[0].package == {"length": 0.3, "width": 0.2, "height": 0.1, "weight": 1.2}


@pytest.mark.parametrize("body, status, code", [
    ({"items": [{"sku": "SKU-A", "quantity": 1}]}, 409, "pack_mismatch"),
    ({"items": []}, 400, "validation_error"),
    ({"items": [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}], "package": {"name": "Huge"}}, 400,
     "validation_error"),
    ({"items": [{"sku": "SKU-A", "quantity": "two"}]}, 400, "validation_error"),
])
def test_the_api_refuses_in_words_and_changes_nothing(app, api, no_label_runs, body, status, code):
    floor()
    picked_order()
    answer = api.post("/api/v1/orders/SO-1/pack", json=body)
    assert answer.status_code == status and answer.get_json()["error"]["code"] == code
    assert answer.get_json()["error"]["message"]
    assert status_of("SO-1") == OrderStatus.PICKED and jobs_of("SO-1") == []


def test_the_api_says_404_for_an_order_it_does_not_know(app, api):
    answer = api.post("/api/v1/orders/SO-404/pack", json={"items": [{"sku": "SKU-A", "quantity": 1}]})
    assert answer.status_code == 404 and "no order SO-404" in answer.get_json()["error"]["message"]


def test_the_order_page_links_a_picked_order_to_packing_and_a_packed_one_to_its_label(app, picker, no_label_runs):
    floor()
    picked_order()
    page = picker.get("/order/SO-1").get_data(as_text=True)
    assert 'data-testid="pack-link"' in page and 'data-testid="label-link"' not in page
    db.atomic(packing.pack_order, "SO-1", items={"SKU-A": 2, "SKU-B": 1}, package=None)
    page = picker.get("/order/SO-1").get_data(as_text=True)
    assert 'href="/order/SO-1/label"' in page and 'data-testid="pack-link"' not in page
