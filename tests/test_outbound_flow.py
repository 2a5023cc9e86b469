"""Outbound end to end, on SQLite and PostgreSQL, with the Starshipit simulator over real HTTP.

Orders are made in the simulator; every event it emits (order_created, order_shipped, the Printed
tracking webhook) is relayed, signed with the webhook secret, through the WMS's real receiver
(the simulator has no WMS URL here: its deliveries are read back from /_sim/deliveries).

- A full WMS order: routed WMS by a rule -> allocated -> batch-picked with another order
  (app.outbound.picking) -> packed (app.outbound.packing.pack_order) -> the label job run
  in-process against the simulator -> order_shipped -> SHIPPED; every balance by number, the
  ledger clean, the totes empty and free.
- Hybrid: two warehouses, MAIN routed WMS and SYD routed STARSHIPIT by rules on the warehouse,
  the same SKU in both, orders in both, all shipped: on hand and allocated exact per warehouse.
"""
from __future__ import annotations

import json

import httpx
import pytest
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import InboxEvent, LabelJob, Location, Movement, Order, Product, StockLevel, Warehouse
from app.outbound import packing, picking, routing
from app.settings_store import save
from app.warehouses import create_location, create_warehouse, get_warehouse
from simulator import Simulator
from tests.conftest import _seed_basics, make_app
from tests.test_webhook_receiver import SECRET, sign

BOX = {"length": 0.3, "width": 0.2, "height": 0.15, "weight": 1.2}


@pytest.fixture
def sim():
    simulator = Simulator(seed=11).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def wms(database_url, sim):
    app = make_app(database_url, STARSHIPIT_API_URL=sim.url, STARSHIPIT_RATE_LIMIT=0, LABEL_LEASE_SECONDS=3.0,
                   LABEL_BACKOFF_SECONDS=0.05)
    with app.app_context():
        _seed_basics()
        db.atomic(save, "STARSHIPIT_WEBHOOK_SECRET", SECRET)
        yield app
    app.extensions["wms.engine"].dispose()


def control(sim, verb: str, where: str, **body):
    answer = httpx.request(verb, f"{sim.url}/_sim/{where}", json=body or None, timeout=10)
    assert answer.status_code < 300, answer.text
    return answer.json()


class Relay:
    """Hands the simulator's webhooks to the WMS's receiver, signed, each once, in the order sent."""

    def __init__(self, sim, client):
        self.sim, self.client, self.seen = sim, client, 0

    def __call__(self) -> list[str]:
        answer = control(self.sim, "GET", f"deliveries?since={self.seen}&bodies=1")
        relayed = []
        for delivery in answer["deliveries"]:
            raw = json.dumps(delivery["body"]).encode()
            response = self.client.post("/webhooks/starshipit", data=raw, headers={
                "Content-Type": "application/json", "X-Starshipit-Signature": sign(raw),
                "X-Starshipit-Event-Id": delivery["event_id"]})
            assert response.status_code in (200, 202), response.get_data(as_text=True)
            assert response.get_json().get("status") != "failed", response.get_json()
            relayed.append(delivery["event"])
        self.seen = answer["count"]
        return relayed


def new_order(sim, relay, number, warehouse="MAIN", **lines):
    control(sim, "POST", "orders", order_number=number, warehouse=warehouse,
            items=[{"sku": sku.replace("_", "-"), "quantity": q} for sku, q in lines.items()])
    assert relay() == ["order_created"]


def status(number):
    with db.reading() as session:
        return session.scalars(select(Order.status).where(Order.order_number == number)).one()


def balances(warehouse="MAIN"):
    """{(sku, location): (on hand, allocated)} of every balance in a warehouse that is not (0, 0)."""
    with db.reading() as session:
        rows = session.execute(
            select(Product.sku, Location.code, StockLevel.on_hand, StockLevel.allocated)
            .join(Product, Product.id == StockLevel.product_id)
            .join(Location, Location.id == StockLevel.location_id)
            .join(Warehouse, Warehouse.id == Location.warehouse_id)
            .where(Warehouse.code == warehouse)).all()
    return {(sku, code): (h, a) for sku, code, h, a in rows if h or a}


def shipped_from(number):
    with db.reading() as session:
        rows = session.execute(
            select(Product.sku, Location.code, Movement.quantity)
            .join(Product, Product.id == Movement.product_id)
            .join(Location, Location.id == Movement.from_location_id)
            .where(Movement.type == "shipment", Movement.reference == number)).all()
    out: dict[tuple[str, str], int] = {}
    for sku, code, quantity in rows:
        out[(sku, code)] = out.get((sku, code), 0) + quantity
    return out


def tote_free(code):
    with db.reading() as session:
        tote = session.scalars(select(Location).where(Location.code == code)).one()
        return picking._free_tote(session, tote) is None


def assert_clean():
    with db.reading() as session:
        assert ledger.check(session) == []
        assert {e.status for e in session.scalars(select(InboxEvent))} <= {"processed", "ignored"}


def build(site_code="MAIN", stock=(), totes=()):
    def make(session):
        site = get_warehouse(session, site_code)
        prefix = "" if site_code == "MAIN" else site_code + "-"
        create_location(session, warehouse=site, code=f"{prefix}P-01", type="pick", pick_sequence=1)
        create_location(session, warehouse=site, code=f"{prefix}P-02", type="pick", pick_sequence=2)
        create_location(session, warehouse=site, code=f"{prefix}S-01", type="storage")
        for code in totes:
            create_location(session, warehouse=site, code=code, type="tote", zone="TOTES")
        for sku, location, quantity in stock:
            adjust_stock(session, sku=sku, location=location, quantity=quantity, reason="found", warehouse=site_code)

    db.atomic(make)


def products():
    def make(session):
        for sku in ("SKU-A", "SKU-B"):
            create_product(session, sku=sku, name=f"Product {sku}")

    db.atomic(make)


def pick_and_pack(job_id, picks, number, box):
    for location, sku, quantity, tote in picks:
        db.atomic(picking.record_pick, job_id, location=location, sku=sku, quantity=quantity, tote=tote)
    return db.atomic(packing.pack_order, number, items=box, package=BOX)


def test_a_full_wms_order_from_webhook_to_shipped(wms, sim):
    products()
    build(stock=[("SKU-A", "P-01", 10), ("SKU-A", "S-01", 6), ("SKU-B", "P-02", 4)], totes=("T-01", "T-02"))
    db.atomic(routing.replace_rules, [{"name": "MAIN picks in the WMS", "match": {"warehouse": "MAIN"}, "outcome": "WMS"}])
    client = wms.test_client()
    relay = Relay(sim, client)

    new_order(sim, relay, "SO-1", SKU_A=3, SKU_B=1)
    new_order(sim, relay, "SO-2", SKU_A=2)
    with db.reading() as session:
        routed = {o.order_number: (o.route, o.routing_rule_name) for o in session.scalars(select(Order))}
    assert routed == {"SO-1": ("WMS", "MAIN picks in the WMS"), "SO-2": ("WMS", "MAIN picks in the WMS")}
    assert status("SO-1") == status("SO-2") == "ALLOCATED"
    assert balances() == {("SKU-A", "P-01"): (10, 5), ("SKU-A", "S-01"): (6, 0), ("SKU-B", "P-02"): (4, 1)}

    made = db.atomic(picking.create_pick_job, ["SO-1", "SO-2"], "batch")
    assert [(s["location"], s["sku"], s["quantity"], s["tote"], s["order_number"]) for s in made["stops"]] == [
        ("P-01", "SKU-A", 3, "T-01", "SO-1"), ("P-01", "SKU-A", 2, "T-02", "SO-2"), ("P-02", "SKU-B", 1, "T-01", "SO-1")]
    assert status("SO-1") == status("SO-2") == "PICKING"
    first = pick_and_pack(made["id"], [("P-01", "SKU-A", 3, "T-01"), ("P-01", "SKU-A", 2, "T-02"),
                                       ("P-02", "SKU-B", 1, "T-01")], "SO-1", {"SKU-A": 3, "SKU-B": 1})
    second = db.atomic(packing.pack_order, "SO-2", items={"SKU-A": 2}, package=BOX)
    with db.reading() as session:
        assert picking.get_pick_job(session, made["id"])["status"] == "done"
        jobs = {j.id: j for j in session.scalars(select(LabelJob))}
    # the label jobs ran at the commit, against the simulator: one shipment each
    for job, number in ((first, "SO-1"), (second, "SO-2")):
        assert jobs[job.id].status == "done", jobs[job.id].error
        [shipment] = [o for o in control(sim, "GET", "orders")["orders"] if o["order_number"] == number][0]["shipments"]
        assert jobs[job.id].tracking_numbers == shipment["tracking_numbers"]
    # packed, not shipped yet: the stock is in the totes, promised to the orders
    assert status("SO-1") == status("SO-2") == "PACKED"
    assert balances() == {("SKU-A", "P-01"): (5, 0), ("SKU-A", "S-01"): (6, 0), ("SKU-B", "P-02"): (3, 0),
                          ("SKU-A", "T-01"): (3, 3), ("SKU-B", "T-01"): (1, 1), ("SKU-A", "T-02"): (2, 2)}

    # Starshipit's order_shipped (and its Printed tracking webhook) for each label
    assert relay() == ["order_shipped", "tracking:Printed"] * 2
    assert status("SO-1") == status("SO-2") == "SHIPPED"
    assert shipped_from("SO-1") == {("SKU-A", "T-01"): 3, ("SKU-B", "T-01"): 1}
    assert shipped_from("SO-2") == {("SKU-A", "T-02"): 2}
    assert balances() == {("SKU-A", "P-01"): (5, 0), ("SKU-A", "S-01"): (6, 0), ("SKU-B", "P-02"): (3, 0)}
    assert tote_free("T-01") and tote_free("T-02")
    with db.reading() as session:
        tracking = {o.order_number: o.tracking_numbers for o in session.scalars(select(Order))}
    assert tracking == {"SO-1": jobs[first.id].tracking_numbers, "SO-2": jobs[second.id].tracking_numbers}
    # the same events again change nothing
    relay.seen = 0
    relay()
    assert balances() == {("SKU-A", "P-01"): (5, 0), ("SKU-A", "S-01"): (6, 0), ("SKU-B", "P-02"): (3, 0)}
    assert status("SO-1") == status("SO-2") == "SHIPPED"
    assert_clean()


def test_hybrid_one_warehouse_picks_in_the_wms_the_other_in_starshipit(wms, sim):
    products()
    db.atomic(create_warehouse, code="SYD", name="Sydney")
    build(stock=[("SKU-A", "P-01", 10), ("SKU-B", "P-02", 5)], totes=("T-01", "T-02"))
    build("SYD", stock=[("SKU-A", "SYD-P-01", 4), ("SKU-A", "SYD-S-01", 8), ("SKU-B", "SYD-P-02", 3)])
    db.atomic(routing.replace_rules, [
        {"name": "Sydney ships from Starshipit", "match": {"warehouse": "SYD"}, "outcome": "STARSHIPIT"},
        {"name": "MAIN picks in the WMS", "match": {"warehouse": "MAIN"}, "outcome": "WMS"},
    ])
    client = wms.test_client()
    relay = Relay(sim, client)
    new_order(sim, relay, "M-1", SKU_A=4, SKU_B=2)
    new_order(sim, relay, "M-2", SKU_A=1)
    new_order(sim, relay, "S-1", "SYD", SKU_A=6)
    new_order(sim, relay, "S-2", "SYD", SKU_A=1, SKU_B=2)
    with db.reading() as session:
        routed = {o.order_number: (o.route, session.get(Warehouse, o.warehouse_id).code)
                  for o in session.scalars(select(Order))}
    assert routed == {"M-1": ("WMS", "MAIN"), "M-2": ("WMS", "MAIN"), "S-1": ("STARSHIPIT", "SYD"),
                      "S-2": ("STARSHIPIT", "SYD")}
    assert status("M-1") == status("M-2") == "ALLOCATED" and status("S-1") == status("S-2") == "PENDING"
    assert balances("MAIN") == {("SKU-A", "P-01"): (10, 5), ("SKU-B", "P-02"): (5, 2)}
    assert balances("SYD") == {("SKU-A", "SYD-P-01"): (4, 0), ("SKU-A", "SYD-S-01"): (8, 0),
                               ("SKU-B", "SYD-P-02"): (3, 0)}  # nothing allocated for Starshipit's orders

    # MAIN: batch-picked and packed in the WMS, labelled through the simulator
    made = db.atomic(picking.create_pick_job, ["M-1", "M-2"], "batch")
    pick_and_pack(made["id"], [("P-01", "SKU-A", 4, "T-01"), ("P-01", "SKU-A", 1, "T-02"),
                               ("P-02", "SKU-B", 2, "T-01")], "M-1", {"SKU-A": 4, "SKU-B": 2})
    db.atomic(packing.pack_order, "M-2", items={"SKU-A": 1}, package=BOX)
    # SYD: Starshipit picks and ships its orders itself
    control(sim, "POST", "orders/S-1/ship")
    control(sim, "POST", "orders/S-2/ship")
    assert relay() == ["order_shipped", "tracking:Printed"] * 4
    assert {n: status(n) for n in ("M-1", "M-2", "S-1", "S-2")} == dict.fromkeys(("M-1", "M-2", "S-1", "S-2"),
                                                                                  "SHIPPED")
    assert shipped_from("M-1") == {("SKU-A", "T-01"): 4, ("SKU-B", "T-01"): 2}
    assert shipped_from("M-2") == {("SKU-A", "T-02"): 1}
    assert shipped_from("S-1") == {("SKU-A", "SYD-P-01"): 4, ("SKU-A", "SYD-S-01"): 2}  # pick face first
    assert shipped_from("S-2") == {("SKU-A", "SYD-S-01"): 1, ("SKU-B", "SYD-P-02"): 2}
    assert balances("MAIN") == {("SKU-A", "P-01"): (5, 0), ("SKU-B", "P-02"): (3, 0)}
    assert balances("SYD") == {("SKU-A", "SYD-S-01"): (5, 0), ("SKU-B", "SYD-P-02"): (1, 0)}
    assert tote_free("T-01") and tote_free("T-02")
    with db.reading() as session:
        sku_a = session.scalars(select(Product).where(Product.sku == "SKU-A")).one()
        total = session.execute(select(StockLevel.on_hand).where(StockLevel.product_id == sku_a.id)).scalars().all()
    assert sum(total) == 10 == (10 + 4 + 8) - (4 + 1) - (6 + 1 + 0)
    assert_clean()
