"""Picking on SQLite and PostgreSQL: single and batch jobs, stops in sequence, refused scans that
move nothing, short picks with and without stock elsewhere, an order changed mid-pick; the ledger
clean and no balance negative after each."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db, ledger
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Allocation, Discrepancy, Location, Movement, Order, StockLevel
from app.outbound import picking
from app.warehouses import create_location, get_warehouse
from tests.test_allocation import allocate, floor, wms_order
from tests.test_order_events import order_body, send


def totes(*codes):
    def make(session):
        site = get_warehouse(session)
        for code in codes:
            create_location(session, warehouse=site, code=code, type="tote", zone="TOTES")

    db.atomic(make)


def setup(stock=(("SKU-A", "P-01", 5), ("SKU-A", "S-01", 5), ("SKU-B", "P-02", 5))):
    floor(list(stock))
    totes("T-01", "T-02", "T-03")


def clean():
    with db.reading() as session:
        assert ledger.check(session) == []
        for level in session.scalars(select(StockLevel)):
            assert 0 <= level.allocated <= level.on_hand


def state(number):
    with db.reading() as session:
        return session.scalars(select(Order).where(Order.order_number == number)).one().status


def on_hand(location, sku="SKU-A"):
    with db.reading() as session:
        from app.models import Product
        row = session.execute(select(StockLevel.on_hand).join(Location, Location.id == StockLevel.location_id)
                              .join(Product, Product.id == StockLevel.product_id)
                              .where(Location.code == location, Product.sku == sku)).first()
        return row[0] if row else 0


def picked_at(tote):
    with db.reading() as session:
        rows = session.execute(select(Allocation.quantity, Allocation.picked).join(
            Location, Location.id == Allocation.location_id).where(Location.code == tote, Allocation.quantity > 0)).all()
    assert all(p for _q, p in rows)
    return sum(q for q, _p in rows)


def job(orders, mode="single", tote_codes=None):
    return db.atomic(picking.create_pick_job, orders, mode, tote_codes)


def one_order_job():
    """The floor of `setup`, order SO-1 for 2 x SKU-A allocated (at P-01) and in a single job (tote T-01)."""
    setup()
    wms_order("SO-1", [("SKU-A", 2)])
    allocate("SO-1")
    return job(["SO-1"])


def pick(job_id, location, sku, quantity, tote):
    return db.atomic(picking.record_pick, job_id, location=location, sku=sku, quantity=quantity, tote=tote)


def test_a_single_job_picks_an_order_into_its_tote(any_db_app):
    setup()
    wms_order("SO-1", [("SKU-A", 2), ("SKU-B", 1)])
    allocate("SO-1")
    made = job(["SO-1"])
    assert made["status"] == "open" and made["totes"][0]["tote"] == "T-01"
    assert [(s["location"], s["sku"], s["quantity"], s["tote"], s["order_number"]) for s in made["stops"]] == [
        ("P-01", "SKU-A", 2, "T-01", "SO-1"), ("P-02", "SKU-B", 1, "T-01", "SO-1")]
    assert state("SO-1") == "PICKING"
    first = pick(made["id"], "p-01", "SKU-A", 2, "T-01")
    assert first["order_status"] == "PICKING" and first["next_stop"]["location"] == "P-02"
    last = pick(made["id"], "P-02", "SKU-B", 1, "t-01")
    assert last["order_status"] == "PICKED" and last["status"] == "done"
    assert state("SO-1") == "PICKED"
    assert on_hand("P-01") == 3 and on_hand("T-01") == 2 and on_hand("T-01", "SKU-B") == 1
    assert picked_at("T-01") == 3
    with db.reading() as session:
        assert picking.totes_of_order(session, "SO-1") == ["T-01"]
        assert picking.orders_in_tote(session, "T-01") == ["SO-1"]
    clean()


def test_a_batch_walks_stops_in_pick_sequence_each_order_its_own_tote(any_db_app):
    setup([("SKU-A", "P-01", 1), ("SKU-A", "S-01", 5), ("SKU-B", "P-02", 5)])
    wms_order("SO-1", [("SKU-B", 1)])
    wms_order("SO-2", [("SKU-A", 2)])
    wms_order("SO-3", [("SKU-A", 1), ("SKU-B", 2)])
    for number in ("SO-1", "SO-2", "SO-3"):
        allocate(number)
    made = job(["SO-1", "SO-2", "SO-3"], "batch", ["T-03", "T-02", "T-01"])
    stops = [(s["sequence"], s["location"], s["sku"], s["quantity"], s["tote"]) for s in made["stops"]]
    assert stops == [(1, "P-01", "SKU-A", 1, "T-02"), (2, "P-02", "SKU-B", 1, "T-03"), (3, "P-02", "SKU-B", 2, "T-01"),
                     (4, "S-01", "SKU-A", 1, "T-02"), (5, "S-01", "SKU-A", 1, "T-01")]
    for _seq, location, sku, quantity, tote in stops:
        for _ in range(quantity):
            pick(made["id"], location, sku, 1, tote)
    assert [state(n) for n in ("SO-1", "SO-2", "SO-3")] == ["PICKED"] * 3
    assert picked_at("T-01") == 3 and picked_at("T-02") == 2 and picked_at("T-03") == 1
    with db.reading() as session:
        assert picking.get_pick_job(session, made["id"])["status"] == "done"
    clean()


def test_only_fully_allocated_orders_and_free_totes(any_db_app):
    setup([("SKU-A", "P-01", 1)])
    wms_order("SO-1", [("SKU-A", 1)])
    wms_order("SO-2", [("SKU-A", 5)])
    allocate("SO-1")
    allocate("SO-2")  # AWAITING_STOCK
    with pytest.raises(Conflict) as refused:
        job(["SO-1", "SO-2"], "batch")
    assert refused.value.code == "not_allocated" and "SO-2" in refused.value.message
    assert state("SO-1") == "ALLOCATED"
    with pytest.raises(ValidationFailed):
        job(["SO-1", "SO-2"], "single")
    with pytest.raises(ValidationFailed):
        job(["SO-1"], "single", ["P-01"])  # not a tote
    with pytest.raises(NotFound):
        job(["SO-9"])
    made = job(["SO-1"], "single", ["T-02"])
    with pytest.raises(Conflict) as busy:
        job(["SO-1"], "single", ["T-02"])
    assert busy.value.code == "not_allocated"  # SO-1 is PICKING now
    pick(made["id"], "P-01", "SKU-A", 1, "T-02")
    assert state("SO-1") == "PICKED"
    clean()


def test_no_free_totes_is_a_409_in_words(any_db_app):
    floor([("SKU-A", "P-01", 5)])
    totes("T-01")
    wms_order("SO-1")
    wms_order("SO-2")
    allocate("SO-1")
    allocate("SO-2")
    with pytest.raises(Conflict) as refused:
        job(["SO-1", "SO-2"], "batch")
    assert refused.value.code == "no_free_tote" and "only 1 free" in refused.value.message
    job(["SO-1"])
    with pytest.raises(Conflict) as refused:
        job(["SO-2"])
    assert refused.value.code == "no_free_tote"


@pytest.mark.parametrize("scan, code", [
    (("S-01", "SKU-A", 1, "T-01"), "wrong_location"),
    (("NOWHERE", "SKU-A", 1, "T-01"), "wrong_location"),
    (("P-01", "SKU-B", 1, "T-01"), "wrong_sku"),
    (("P-01", "NO-SUCH", 1, "T-01"), "wrong_sku"),
    (("P-01", "SKU-A", 1, "T-02"), "wrong_tote"),
    (("P-01", "SKU-A", 3, "T-01"), "over_pick"),
])
def test_a_wrong_scan_moves_nothing(any_db_app, scan, code):
    made = one_order_job()
    with db.reading() as session:
        before = session.scalar(select(Movement.id).order_by(Movement.id.desc()).limit(1))
    with pytest.raises(Conflict) as refused:
        pick(made["id"], *scan)
    assert refused.value.code == code
    with db.reading() as session:
        assert session.scalar(select(Movement.id).order_by(Movement.id.desc()).limit(1)) == before
    assert on_hand("P-01") == 5 and on_hand("T-01") == 0 and state("SO-1") == "PICKING"
    clean()


def test_a_pick_scans_locations_and_totes_by_barcode_in_any_case(any_db_app):
    setup()

    def label(session):
        for place in session.scalars(select(Location).where(Location.code.in_(["P-01", "T-01"]))):
            place.barcode = f"Lbl-{place.code}"

    db.atomic(label)
    wms_order("SO-1", [("SKU-A", 2)])
    allocate("SO-1")
    made = job(["SO-1"])
    done = pick(made["id"], "lbl-p-01", "SKU-A", 2, "LBL-T-01")
    assert done["order_status"] == "PICKED" and on_hand("T-01") == 2
    clean()


@pytest.mark.parametrize("scan, field", [
    (("", "SKU-A", 1, "T-01"), "location"),
    (("P-01", " ", 1, "T-01"), "sku"),
    (("P-01", "SKU-A", 1, ""), "tote"),
    (("P-01", "SKU-A", 1, None), "tote"),
    (("P-01", "SKU-A", 0, "T-01"), "quantity"),
    (("P-01", "SKU-A", "two", "T-01"), "quantity"),
    (("P-01\x00", "SKU-A", 1, "T-01"), "location"),
])
def test_an_unreadable_pick_scan_is_refused_naming_its_field_and_moves_nothing(any_db_app, scan, field):
    made = one_order_job()
    with pytest.raises(ValidationFailed) as refused:
        pick(made["id"], *scan)
    assert refused.value.field == field
    assert on_hand("P-01") == 5 and on_hand("T-01") == 0 and state("SO-1") == "PICKING"
    clean()


@pytest.mark.parametrize("inactive, field", [("P-01", "location"), ("T-01", "tote")])
def test_a_pick_at_an_inactive_location_or_into_an_inactive_tote_is_refused(any_db_app, inactive, field):
    made = one_order_job()

    def deactivate(session):
        session.scalars(select(Location).where(Location.code == inactive)).one().active = False

    db.atomic(deactivate)
    with pytest.raises(ValidationFailed) as refused:
        pick(made["id"], "P-01", "SKU-A", 1, "T-01")
    assert refused.value.field == field and "inactive" in str(refused.value)
    assert on_hand("P-01") == 5 and on_hand("T-01") == 0
    clean()


def test_a_pick_into_another_jobs_tote_is_refused_naming_this_jobs_tote(any_db_app):
    setup()
    wms_order("SO-1", [("SKU-A", 1)])
    wms_order("SO-2", [("SKU-A", 1)])
    allocate("SO-1")
    allocate("SO-2")
    first, second = job(["SO-1"], tote_codes=["T-01"]), job(["SO-2"], tote_codes=["T-02"])
    with pytest.raises(Conflict) as refused:
        pick(first["id"], "P-01", "SKU-A", 1, "T-02")
    assert refused.value.code == "wrong_tote" and "T-01" in str(refused.value)
    assert pick(second["id"], "P-01", "SKU-A", 1, "T-02")["order_status"] == "PICKED"
    assert on_hand("T-01") == 0 and on_hand("T-02") == 1
    clean()


def test_a_short_pick_reallocates_from_another_location(any_db_app):
    setup([("SKU-A", "P-01", 3), ("SKU-A", "S-01", 5)])
    wms_order("SO-1", [("SKU-A", 3)])
    allocate("SO-1")
    made = job(["SO-1"])
    assert [(s["location"], s["quantity"]) for s in made["stops"]] == [("P-01", 3)]
    answer = db.atomic(picking.record_short, made["id"], location="P-01", sku="SKU-A", found=1)
    assert answer["written_off"] == 2 and answer["released"] == 2 and answer["unfilled"] == []
    assert answer["reallocated"] == [{"location": "S-01", "quantity": 2, "tote": "T-01", "order_number": "SO-1",
                                      "sku": "SKU-A"}]
    assert on_hand("P-01") == 1  # the book matches what was found
    with db.reading() as session:
        view = picking.get_pick_job(session, made["id"])
        found = session.scalars(select(Discrepancy)).one()
    assert found.cause == "short_pick" and found.quantity == 2 and found.movement_id
    assert [(s["location"], s["quantity"], s["short"]) for s in view["stops"]] == [("P-01", 1, 2), ("S-01", 2, 0)]
    pick(made["id"], "P-01", "SKU-A", 1, "T-01")
    pick(made["id"], "S-01", "SKU-A", 2, "T-01")
    assert state("SO-1") == "PICKED" and picked_at("T-01") == 3
    clean()


def test_a_short_pick_with_no_stock_elsewhere_flags_the_order(any_db_app):
    setup([("SKU-A", "P-01", 3)])
    wms_order("SO-1", [("SKU-A", 3)])
    allocate("SO-1")
    made = job(["SO-1"])
    pick(made["id"], "P-01", "SKU-A", 1, "T-01")
    with pytest.raises(Conflict) as refused:
        db.atomic(picking.record_short, made["id"], location="P-01", sku="SKU-A", found=2)
    assert refused.value.code == "not_short"
    answer = db.atomic(picking.record_short, made["id"], location="P-01", sku="SKU-A", found=0)
    assert answer["written_off"] == 2 and answer["unfilled"] == [{"order_number": "SO-1", "sku": "SKU-A", "quantity": 2}]
    assert answer["status"] == "done"
    assert on_hand("P-01") == 0 and picked_at("T-01") == 1
    assert state("SO-1") == "AWAITING_STOCK"  # the rest waits for stock; the picked unit stays in T-01
    with db.reading() as session:
        assert picking.totes_of_order(session, "SO-1") == ["T-01"]
    clean()


def test_a_short_pick_also_releases_another_orders_allocation_there(any_db_app):
    setup([("SKU-A", "P-01", 2), ("SKU-A", "S-01", 1)])
    wms_order("SO-1", [("SKU-A", 1)])
    wms_order("SO-2", [("SKU-A", 1)])
    allocate("SO-1")
    allocate("SO-2")
    made = job(["SO-1"])
    answer = db.atomic(picking.record_short, made["id"], location="P-01", sku="SKU-A", found=0)
    assert answer["written_off"] == 2
    assert answer["reallocated"][0]["location"] == "S-01"  # SO-1's stop moves to S-01
    assert state("SO-2") == "AWAITING_STOCK"  # nothing free is left for SO-2
    clean()


def test_an_order_changed_mid_pick_drops_the_unpicked_part(any_db_app):
    setup([("SKU-A", "P-01", 5), ("SKU-B", "P-02", 5)])
    client = any_db_app.test_client()
    from app.outbound import routing
    db.atomic(routing.replace_rules, [{"name": "all", "match": {}, "outcome": "WMS"}])
    assert send(client, order_body("order_created", "SO-1", items=[{"sku": "SKU-A", "quantity": 3},
                                                                   {"sku": "SKU-B", "quantity": 2}])).status_code == 202
    assert state("SO-1") == "ALLOCATED"
    made = job(["SO-1"])
    pick(made["id"], "P-01", "SKU-A", 1, "T-01")
    # SKU-A shrinks to 2 (1 picked, 1 left), SKU-B vanishes
    send(client, order_body("order_changed", "SO-1", at="2026-11-24T05:00:00Z",
                            items=[{"sku": "SKU-A", "quantity": 2}]))
    assert state("SO-1") == "PICKING"
    with db.reading() as session:
        view = picking.get_pick_job(session, made["id"])
    assert [(s["location"], s["sku"], s["quantity"], s["picked"]) for s in view["stops"]] == [
        ("P-01", "SKU-A", 2, 1), ("P-02", "SKU-B", 0, 0)]
    with pytest.raises(Conflict) as refused:
        pick(made["id"], "P-02", "SKU-B", 1, "T-01")
    assert refused.value.code == "wrong_location"
    # then it grows again: a stop for the new units
    send(client, order_body("order_changed", "SO-1", at="2026-11-24T06:00:00Z",
                            items=[{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}]))
    with db.reading() as session:
        view = picking.get_pick_job(session, made["id"])
    assert [(s["location"], s["sku"], s["quantity"]) for s in view["stops"] if not s["done"]] == [
        ("P-01", "SKU-A", 2), ("P-02", "SKU-B", 1)]
    pick(made["id"], "P-01", "SKU-A", 1, "T-01")
    pick(made["id"], "P-02", "SKU-B", 1, "T-01")
    assert state("SO-1") == "PICKED"
    assert on_hand("P-01") == 3 and on_hand("P-02", "SKU-B") == 4 and picked_at("T-01") == 3
    clean()


def test_an_order_deleted_mid_pick_leaves_the_job(any_db_app):
    setup([("SKU-A", "P-01", 5)])
    client = any_db_app.test_client()
    from app.outbound import routing
    db.atomic(routing.replace_rules, [{"name": "all", "match": {}, "outcome": "WMS"}])
    send(client, order_body("order_created", "SO-1", items=[{"sku": "SKU-A", "quantity": 2}]))
    made = job(["SO-1"])
    send(client, order_body("order_deleted", "SO-1", at="2026-11-24T05:00:00Z", items=[{"sku": "SKU-A", "quantity": 2}]))
    assert state("SO-1") == "CANCELLED"
    with db.reading() as session:
        assert picking.get_pick_job(session, made["id"])["status"] == "done"
    clean()


@pytest.mark.postgres
def test_two_releases_at_once_never_take_the_same_tote(postgres_url):
    """PostgreSQL, threads: 6 single jobs released at once over 4 free totes: 4 succeed, each into
    a tote of its own; 2 are refused no_free_tote."""
    import threading

    from tests.conftest import _seed_basics, make_app

    app = make_app(postgres_url)
    with app.app_context():
        _seed_basics()
        floor([("SKU-A", "P-01", 10)])
        totes("T-01", "T-02", "T-03", "T-04")
        numbers = [f"SO-{n}" for n in range(6)]
        for number in numbers:
            wms_order(number)
            allocate(number)
    start, results = threading.Barrier(len(numbers)), {}

    def release(number):
        with app.app_context():
            start.wait()
            try:
                results[number] = db.atomic(picking.create_pick_job, [number], "single")["totes"][0]["tote"]
            except Conflict as refused:
                results[number] = refused.code

    threads = [threading.Thread(target=release, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = sorted(v for v in results.values() if v.startswith("T-"))
    assert taken == ["T-01", "T-02", "T-03", "T-04"]
    assert sorted(v for v in results.values() if not v.startswith("T-")) == ["no_free_tote"] * 2
    with app.app_context():
        clean()
    app.extensions["wms.engine"].dispose()


def test_a_short_pick_moves_another_jobs_stop_there_too(any_db_app):
    setup([("SKU-A", "P-01", 2), ("SKU-A", "S-01", 2)])
    wms_order("SO-1")
    wms_order("SO-2")
    allocate("SO-1")
    allocate("SO-2")
    first, second = job(["SO-1"], tote_codes=["T-01"]), job(["SO-2"], tote_codes=["T-02"])
    answer = db.atomic(picking.record_short, first["id"], location="P-01", sku="SKU-A", found=0)
    assert sorted((r["order_number"], r["location"], r["tote"]) for r in answer["reallocated"]) == [
        ("SO-1", "S-01", "T-01"), ("SO-2", "S-01", "T-02")]
    with db.reading() as session:
        other = picking.get_pick_job(session, second["id"])
    assert [(s["location"], s["quantity"], s["short"]) for s in other["stops"]] == [("P-01", 0, 1), ("S-01", 1, 0)]
    pick(second["id"], "S-01", "SKU-A", 1, "T-02")
    pick(first["id"], "S-01", "SKU-A", 1, "T-01")
    assert state("SO-1") == state("SO-2") == "PICKED"
    assert on_hand("P-01") == 0 and on_hand("S-01") == 0
    clean()
