"""Order events applied to the order mirror and the stock ledger: each event type, repeats,
every delivery order of an order's life, unknown SKUs. Asserted on stock, movements, status and a
clean ledger every time. Events go through the real webhook (no Redis: processed in-process)."""
from __future__ import annotations

import itertools
import json
import uuid

import pytest
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import (
    Allocation,
    Discrepancy,
    InboxEvent,
    Location,
    Movement,
    Order,
    OrderLine,
    OrderTimelineEntry,
    Product,
    StockLevel,
)
from app.orders import mirror
from app.warehouses import create_location, get_warehouse

# ---- helpers shared by the order test files -------------------------------------------------


def build_floor(stock: dict[tuple[str, str], int] | None = None) -> None:
    """Products SKU-A and SKU-B; pick P-01 (seq 1), P-02 (seq 2), storage S-01, packing PACK-1."""

    def build(session):
        site = get_warehouse(session)
        for sku in ("SKU-A", "SKU-B"):
            create_product(session, sku=sku, name=f"Product {sku}")
        create_location(session, warehouse=site, code="P-02", type="pick", pick_sequence=2)
        create_location(session, warehouse=site, code="P-01", type="pick", pick_sequence=1)
        create_location(session, warehouse=site, code="S-01", type="storage")
        create_location(session, warehouse=site, code="PACK-1", type="packing")
        for (sku, location), quantity in (stock or {}).items():
            adjust_stock(session, sku=sku, location=location, quantity=quantity, reason="found")

    db.atomic(build)


def order_body(event, number="SO-1", items=None, at="2026-11-24T04:30:00Z", event_id=None, shipment=None, **order):
    items = [{"sku": "SKU-A", "quantity": 3}, {"sku": "SKU-B", "quantity": 2}] if items is None else items
    body = {
        "event": event,
        "event_id": event_id or "evt_" + uuid.uuid4().hex,
        "occurred_at": at,
        "account": {"api_key_hint": "abcd", "name": "Main store"},
        "order": {
            "order_id": order.pop("order_id", 1000 + sum(map(ord, number))),
            "order_number": number,
            "reference": order.pop("reference", "web " + number),
            "status": order.pop("status", "Unshipped"),
            "destination": order.pop("destination", {"name": "Ada", "city": "Wellington", "country": "NZ"}),
            "items": items,
            **order,
        },
    }
    if shipment is not None:
        body["shipment"] = shipment
    return body


def send(client, body, headers=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/webhooks/starshipit", data=raw, headers={"Content-Type": "application/json", **(headers or {})})


def order_state(number="SO-1"):
    with db.reading() as session:
        order = session.exec(select(Order).where(Order.order_number == number)).first()
        if order is None:
            return None
        lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        return {
            "status": order.status,
            "lines": {line.sku: (line.quantity, line.shipped_quantity) for line in lines},
            "unknown": sorted(line.sku for line in lines if line.unknown_sku),
            "reference": order.reference,
            "destination": order.destination,
        }


def on_hand(sku, location):
    with db.reading() as session:
        row = session.exec(
            select(StockLevel)
            .join(Product, Product.id == StockLevel.product_id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(Product.sku == sku, Location.code == location)
        ).first()
        return (row.on_hand, row.allocated) if row else (0, 0)


def shipped_total(sku, reference="SO-1"):
    with db.reading() as session:
        movements = session.exec(
            select(Movement)
            .join(Product, Product.id == Movement.product_id)
            .where(Product.sku == sku, Movement.type == "shipment", Movement.reference == reference)
        ).all()
        return sum(m.quantity for m in movements)


def discrepancies():
    with db.reading() as session:
        return sorted((d.cause, d.sku, d.quantity, d.reference) for d in session.exec(select(Discrepancy)).all())


def inbox_statuses():
    with db.reading() as session:
        return sorted(e.status for e in session.exec(select(InboxEvent)).all())


def assert_ledger_clean():
    with db.reading() as session:
        assert ledger.check(session) == []


# ---- the tests -------------------------------------------------------------------------------


@pytest.fixture
def floor(app):
    build_floor({("SKU-A", "P-01"): 10, ("SKU-A", "S-01"): 10, ("SKU-B", "P-02"): 10})
    return app


def test_order_created_mirrors_the_order_as_pending_with_its_lines(floor):
    client = floor.test_client()
    response = send(client, order_body("order_created", channel="Shopify", carrier_name="NZ Post"))
    assert response.status_code == 202
    state = order_state()
    assert state["status"] == "PENDING"
    assert state["lines"] == {"SKU-A": (3, 0), "SKU-B": (2, 0)}
    assert state["reference"] == "web SO-1"
    assert state["destination"]["city"] == "Wellington"
    assert inbox_statuses() == ["processed"]
    assert on_hand("SKU-A", "P-01") == (10, 0)
    with db.reading() as session:
        order = session.exec(select(Order)).one()
        assert order.channel == "Shopify" and order.warehouse_id == get_warehouse(session).id
        assert [t.kind for t in session.exec(select(OrderTimelineEntry))] == ["order_created"]
    assert_ledger_clean()


def test_order_created_again_under_a_new_event_id_refreshes_the_mirrored_order(floor):
    client = floor.test_client()
    send(client, order_body("order_created", channel="Shopify"))
    later = order_body("order_created", at="2026-11-24T05:00:00Z", items=[{"sku": "SKU-A", "quantity": 4}],
                       destination={"name": "Ada", "city": "Auckland", "country": "NZ"})
    assert send(client, later).status_code == 202
    state = order_state()
    assert state["status"] == "PENDING"
    assert state["lines"] == {"SKU-A": (4, 0)}
    assert state["destination"]["city"] == "Auckland"
    with db.reading() as session:
        order = session.exec(select(Order)).one()
        assert order.channel == "Shopify"  # not in the later payload: kept
        assert mirror.aware(order.last_event_at).isoformat() == "2026-11-24T05:00:00+00:00"
        assert [t.kind for t in session.exec(select(OrderTimelineEntry))] == ["order_created", "order_created"]
    assert inbox_statuses() == ["processed", "processed"]
    assert_ledger_clean()


def test_order_created_goes_to_the_warehouse_named_in_the_payload(floor):
    from app.warehouses import create_warehouse

    db.atomic(create_warehouse, code="SYD", name="Sydney")
    send(floor.test_client(), order_body("order_created", warehouse="syd"))
    with db.reading() as session:
        order = session.exec(select(Order)).one()
        assert order.warehouse_id == get_warehouse(session, "SYD").id


def test_an_unknown_warehouse_code_fails_the_event_at_once_without_retries(floor):
    assert send(floor.test_client(), order_body("order_created", warehouse="NOPE")).status_code == 202
    with db.reading() as session:
        event = session.exec(select(InboxEvent)).one()
        assert (event.status, event.attempts) == ("failed", 1)
        assert "NOPE" in event.last_error
    assert order_state() is None


def test_the_same_event_three_times_is_applied_once(floor):
    client = floor.test_client()
    created = order_body("order_created")
    shipped = order_body("order_shipped", at="2026-11-24T05:00:00Z")
    answers = [send(client, created).status_code for _ in range(3)] + [send(client, shipped).status_code for _ in range(3)]
    assert answers == [202, 200, 200, 202, 200, 200]
    assert inbox_statuses() == ["processed", "processed"]
    assert order_state()["status"] == "SHIPPED"
    assert shipped_total("SKU-A") == 3 and shipped_total("SKU-B") == 2
    assert on_hand("SKU-A", "P-01") == (7, 0)
    assert on_hand("SKU-B", "P-02") == (8, 0)
    assert_ledger_clean()


def test_order_changed_refreshes_lines_and_address_and_releases_allocations_that_no_longer_fit(floor):
    client = floor.test_client()
    send(client, order_body("order_created", items=[{"sku": "SKU-A", "quantity": 5}, {"sku": "SKU-B", "quantity": 2}]))

    def allocate_and_pick(session):
        site = get_warehouse(session)
        order = session.exec(select(Order)).one()
        lines = {line.sku: line for line in session.exec(select(OrderLine))}
        location = {loc.code: loc for loc in session.exec(select(Location).where(Location.warehouse_id == site.id))}
        product = {p.sku: p.id for p in session.exec(select(Product))}
        a = ledger.allocate(session, product_id=product["SKU-A"], location=location["P-01"], quantity=5,
                            reference=order.order_number, order_line_id=lines["SKU-A"].id)
        picked = ledger.allocate(session, product_id=product["SKU-B"], location=location["P-02"], quantity=2,
                                 reference=order.order_number, order_line_id=lines["SKU-B"].id)
        picked.picked = True
        ledger.post(session, type="pick", product_id=product["SKU-B"], quantity=2, from_location=location["P-02"],
                    to_location=location["PACK-1"], reference=order.order_number, allocation=picked)
        order.status = "PICKING"
        return a.id

    db.atomic(allocate_and_pick)
    assert on_hand("SKU-A", "P-01") == (10, 5)
    assert on_hand("SKU-B", "PACK-1") == (2, 2)

    changed = order_body(
        "order_changed", items=[{"sku": "SKU-A", "quantity": 2}], at="2026-11-24T05:00:00Z",
        destination={"name": "Ada", "city": "Auckland", "country": "NZ"},
    )
    assert send(client, changed).status_code == 202
    state = order_state()
    assert state["status"] == "PENDING"
    # SKU-B removed: kept at quantity 0 because its (now released) allocation refers to it
    assert state["lines"] == {"SKU-A": (2, 0), "SKU-B": (0, 0)}
    assert state["destination"]["city"] == "Auckland"
    assert on_hand("SKU-A", "P-01") == (10, 2)  # 3 of the 5 released
    assert on_hand("SKU-B", "PACK-1") == (2, 0)  # picked stock stays in packing, released
    assert_ledger_clean()


def test_order_changed_after_shipping_is_ignored_with_a_warning(floor):
    client = floor.test_client()
    send(client, order_body("order_created"))
    send(client, order_body("order_shipped", at="2026-11-24T05:00:00Z"))
    send(client, order_body("order_changed", items=[{"sku": "SKU-A", "quantity": 9}], at="2026-11-24T06:00:00Z"))
    assert order_state()["lines"] == {"SKU-A": (3, 3), "SKU-B": (2, 2)}
    assert order_state()["status"] == "SHIPPED"
    assert inbox_statuses() == ["ignored", "processed", "processed"]
    with db.reading() as session:
        warnings = session.exec(select(OrderTimelineEntry).where(OrderTimelineEntry.kind == "warning")).all()
        assert len(warnings) == 1 and "already shipped" in warnings[0].message
    assert_ledger_clean()


def test_order_deleted_releases_allocations_and_cancels(floor):
    client = floor.test_client()
    send(client, order_body("order_created"))

    def allocate(session):
        line = session.exec(select(OrderLine).where(OrderLine.sku == "SKU-A")).one()
        location = session.exec(select(Location).where(Location.code == "P-01")).one()
        ledger.allocate(session, product_id=line.product_id, location=location, quantity=3, order_line_id=line.id)

    db.atomic(allocate)
    assert on_hand("SKU-A", "P-01") == (10, 3)
    send(client, order_body("order_deleted", at="2026-11-24T05:00:00Z"))
    assert order_state()["status"] == "CANCELLED"
    assert on_hand("SKU-A", "P-01") == (10, 0)
    with db.reading() as session:
        assert sum(a.quantity for a in session.exec(select(Allocation))) == 0
    assert_ledger_clean()


def test_order_deleted_older_than_a_shipment_does_not_cancel_the_shipped_order(floor):
    client = floor.test_client()
    send(client, order_body("order_shipped", at="2026-11-24T06:00:00Z"))
    send(client, order_body("order_deleted", at="2026-11-24T05:00:00Z"))
    assert order_state()["status"] == "SHIPPED"
    assert inbox_statuses() == ["ignored", "processed"]
    assert_ledger_clean()


def test_order_shipped_for_an_unknown_order_creates_it_and_ships_from_pick_locations_first(floor):
    db.atomic(adjust_stock, sku="SKU-A", location="P-02", quantity=1, reason="found")
    send(floor.test_client(), order_body("order_shipped", items=[{"sku": "SKU-A", "quantity": 12}]))
    assert order_state()["status"] == "SHIPPED"
    # P-01 (sequence 1) emptied, then P-02 (sequence 2), then storage S-01
    assert on_hand("SKU-A", "P-01") == (0, 0)
    assert on_hand("SKU-A", "P-02") == (0, 0)
    assert on_hand("SKU-A", "S-01") == (9, 0)
    assert shipped_total("SKU-A") == 12
    assert discrepancies() == []
    assert_ledger_clean()


def test_shipment_takes_the_orders_picked_allocation_before_free_stock(floor):
    client = floor.test_client()
    send(client, order_body("order_created", items=[{"sku": "SKU-A", "quantity": 2}]))

    def pick(session):
        line = session.exec(select(OrderLine)).one()
        location = {loc.code: loc for loc in session.exec(select(Location))}
        allocation = ledger.allocate(session, product_id=line.product_id, location=location["S-01"], quantity=2,
                                     order_line_id=line.id)
        allocation.picked = True
        ledger.post(session, type="pick", product_id=line.product_id, quantity=2, from_location=location["S-01"],
                    to_location=location["PACK-1"], allocation=allocation)

    db.atomic(pick)
    send(client, order_body("order_shipped", items=[{"sku": "SKU-A", "quantity": 2}], at="2026-11-24T05:00:00Z"))
    assert on_hand("SKU-A", "PACK-1") == (0, 0)
    assert on_hand("SKU-A", "P-01") == (10, 0)  # free pick stock untouched
    assert on_hand("SKU-A", "S-01") == (8, 0)
    with db.reading() as session:
        assert sum(a.quantity for a in session.exec(select(Allocation))) == 0
    assert_ledger_clean()


LIFE = [
    ("order_created", "2026-11-24T04:00:00Z", [{"sku": "SKU-A", "quantity": 3}, {"sku": "SKU-B", "quantity": 2}], None),
    ("order_changed", "2026-11-24T04:10:00Z", [{"sku": "SKU-A", "quantity": 4}, {"sku": "SKU-B", "quantity": 1}], None),
    ("order_shipped", "2026-11-24T04:20:00Z", [{"sku": "SKU-A", "quantity": 4}, {"sku": "SKU-B", "quantity": 1}], None),
]


@pytest.mark.parametrize("permutation", list(itertools.permutations(range(3))))
def test_every_delivery_order_of_an_orders_life_ends_in_the_same_state(floor, permutation):
    client = floor.test_client()
    bodies = [order_body(kind, items=items, at=at, event_id=f"evt-{kind}") for kind, at, items, _ in LIFE]
    for index in permutation:
        send(client, bodies[index])
        send(client, bodies[index])  # and every one repeated
    state = order_state()
    assert state["status"] == "SHIPPED"
    assert state["lines"] == {"SKU-A": (4, 4), "SKU-B": (1, 1)}
    assert on_hand("SKU-A", "P-01") == (6, 0)
    assert on_hand("SKU-B", "P-02") == (9, 0)
    assert shipped_total("SKU-A") == 4 and shipped_total("SKU-B") == 1
    assert_ledger_clean()


@pytest.mark.parametrize("deleted_first", [True, False])
def test_created_and_deleted_in_either_order_end_cancelled(floor, deleted_first):
    client = floor.test_client()
    bodies = [order_body("order_created", at="2026-11-24T04:00:00Z"), order_body("order_deleted", at="2026-11-24T04:30:00Z")]
    for body in reversed(bodies) if deleted_first else bodies:
        send(client, body)
    assert order_state()["status"] == "CANCELLED"


def test_an_older_order_changed_after_a_newer_one_is_ignored_with_a_note(floor):
    client = floor.test_client()
    send(client, order_body("order_created", at="2026-11-24T04:00:00Z"))
    send(client, order_body("order_changed", items=[{"sku": "SKU-A", "quantity": 7}], at="2026-11-24T04:20:00Z"))
    send(client, order_body("order_changed", items=[{"sku": "SKU-A", "quantity": 1}], at="2026-11-24T04:10:00Z"))
    assert order_state()["lines"] == {"SKU-A": (7, 0)}
    assert inbox_statuses() == ["ignored", "processed", "processed"]
    with db.reading() as session:
        messages = [t.message for t in session.exec(select(OrderTimelineEntry).order_by(OrderTimelineEntry.id))]
    assert "older than the last event applied" in messages[-1]


def test_unknown_skus_are_mirrored_flagged_and_their_shipments_become_discrepancies(floor):
    client = floor.test_client()
    items = [{"sku": "SKU-A", "quantity": 1}, {"sku": "MYSTERY", "quantity": 2, "description": "Gift card"}]
    send(client, order_body("order_created", items=items))
    state = order_state()
    assert state["unknown"] == ["MYSTERY"] and state["lines"]["MYSTERY"] == (2, 0)
    send(client, order_body("order_shipped", items=items, at="2026-11-24T05:00:00Z"))
    assert order_state()["status"] == "SHIPPED"
    assert discrepancies() == [("unknown_sku", "MYSTERY", 2, "SO-1")]
    assert on_hand("SKU-A", "P-01") == (9, 0)
    with db.reading() as session:
        assert all(d.movement_id is None and d.product_id is None for d in session.exec(select(Discrepancy)))
    assert_ledger_clean()


def test_events_for_one_order_processed_concurrently_apply_exactly_once(any_db_app):
    """Created, changed and shipped for a new order, each stored twice under its own id and all
    applied at the same moment from different threads: one order, shipped once."""
    import threading

    from app.orders import inbox
    from app.orders.payloads import read_webhook
    from app.orders.processing import process

    build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
    ids = []
    for kind, at, items, _ in LIFE:
        raw = json.dumps(order_body(kind, items=items, at=at)).encode()
        incoming, _ = read_webhook(raw)
        ids.append(db.atomic(inbox.store, incoming, raw.decode()))
    barrier = threading.Barrier(len(ids) * 2)
    errors = []

    def run(event_id):
        with any_db_app.app_context():
            barrier.wait()
            try:
                process(event_id)
            except Exception as error:  # noqa: BLE001
                errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in ids + ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    state = order_state()
    assert state["status"] == "SHIPPED"
    assert state["lines"] == {"SKU-A": (4, 4), "SKU-B": (1, 1)}
    assert shipped_total("SKU-A") == 4 and shipped_total("SKU-B") == 1
    assert on_hand("SKU-A", "P-01") == (6, 0)
    assert set(inbox_statuses()) <= {"processed", "ignored"}
    assert_ledger_clean()
