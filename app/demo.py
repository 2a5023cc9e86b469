"""Demo data: a believable warehouse to click through (wms seed-demo).

One warehouse with receiving, three storage zones of racking, a pick-face
zone walked in pick sequence, packing and shipping benches and quarantine;
a few hundred products with EAN-13 barcodes; stock received from suppliers
against purchase orders and replenished to pick faces, all through the
ledger, so `wms check-ledger` is clean from the first minute.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from app import db, ledger
from app.accounts import create_user
from app.catalog import create_product
from app.models import LocationType, MovementType, Product, PurchaseOrder, PurchaseOrderLine, User
from app.replenishment import set_rule
from app.timeutil import utcnow
from app.warehouses import create_location, create_warehouse, get_warehouse, virtual_location

DEMO_USERS = (("admin", "admin", "admin-demo-1"), ("manager", "manager", "manager-demo-1"), ("picker", "picker", "picker-demo-1"))

ADJECTIVES = "Classic Organic Compact Deluxe Everyday Rugged Slim Premium Mini Heavy-duty Bamboo Merino Recycled Travel Studio".split()
NOUNS = (
    "Water Bottle|Coffee Mug|Desk Lamp|Phone Case|Yoga Mat|Tote Bag|Notebook|Beanie|Scarf|Socks|Tea Towel|Candle|"
    "Cutting Board|Lunch Box|Backpack|Cable Organiser|Plant Pot|Throw Blanket|Wallet|Sunglasses|Drink Coaster|Apron|"
    "Pillow Cover|Keyring|Puzzle|Dog Lead|Soap Bar|Hand Cream|Shaker|Bike Light"
).split("|")
COLOURS = "Black White Navy Sage Sand Rust Charcoal Olive Sky Coral".split()
SUPPLIERS = ("Pacific Goods Ltd", "Southern Cross Supply", "Kiwi Homewares", "Tasman Textiles")


def ean13(body12: str) -> str:
    digits = [int(d) for d in body12]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return body12 + str(check)


def seed(product_count: int = 300, random_seed: int = 7) -> Iterator[str]:
    """Fill an empty database; yields lines to print. Refuses a database that has products."""
    rng = random.Random(random_seed)
    with db.reading() as session:
        if session.exec(select(func.count()).select_from(Product)).one():
            yield "the database already has products: demo data not added"
            yield from _sign_ins()
            return
    db.atomic(_users)
    locations = db.atomic(_warehouse)
    yield f"warehouse MAIN with {locations} locations"
    products = db.atomic(_products, product_count, rng)
    yield f"{products} products with barcodes"
    movements = db.atomic(_stock, rng)
    yield f"{movements} stock movements posted through the ledger"
    yield from _sign_ins()


def _sign_ins() -> Iterator[str]:
    yield "demo sign-ins (name / password):"
    for name, role, password in DEMO_USERS:
        yield f"  {name} / {password}   ({role})"


def _users(session: Session) -> None:
    for name, role, password in DEMO_USERS:
        if not session.exec(select(User).where(User.username == name)).first():
            create_user(session, username=name, password=password, role=role)


def _warehouse(session: Session) -> int:
    try:
        site = get_warehouse(session)
    except Exception:
        site = create_warehouse(session, code="MAIN", name="Main warehouse")
    count = 0

    def add(code: str, kind: LocationType, zone: str | None = None, sequence: int | None = None) -> None:
        nonlocal count
        create_location(session, warehouse=site, code=code, type=kind, zone=zone, pick_sequence=sequence)
        count += 1

    for n in range(1, 4):
        add(f"RECV-{n:02d}", LocationType.RECEIVING, "DOCK")
    for zone in ("A", "B", "C"):
        for aisle in range(1, 5):
            for bay in range(1, 11):
                for level in range(1, 4):
                    add(f"{zone}{aisle:02d}-{bay:02d}-{level}", LocationType.STORAGE, zone)
    sequence = 0
    for aisle in range(1, 4):
        for bay in range(1, 21):
            sequence += 10
            add(f"P{aisle:02d}-{bay:02d}", LocationType.PICK, "PICK", sequence)
    for n in range(1, 5):
        add(f"PACK-{n:02d}", LocationType.PACKING, "PACK")
    add("SHIP-01", LocationType.SHIPPING, "DOCK")
    add("QUAR-01", LocationType.QUARANTINE, "QA")
    return count


def _products(session: Session, count: int, rng: random.Random) -> int:
    made = 0
    names = set()
    while made < count:
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} - {rng.choice(COLOURS)}"
        if name in names:
            continue
        names.add(name)
        made += 1
        sku = f"SKU-{1000 + made}"
        create_product(
            session,
            sku=sku,
            name=name,
            barcodes=[ean13(f"94{made:010d}")],
            weight=round(rng.uniform(0.05, 2.5), 3),
        )
    return made


def _stock(session: Session, rng: random.Random) -> int:
    from app.models import Location

    site = get_warehouse(session)
    supplier = virtual_location(session, site.id, LocationType.SUPPLIER)
    storage = list(session.exec(select(Location).where(Location.warehouse_id == site.id, Location.type == "storage")))
    picks = list(
        session.exec(
            select(Location).where(Location.warehouse_id == site.id, Location.type == "pick").order_by(Location.pick_sequence)
        )
    )
    products = list(session.exec(select(Product).order_by(Product.id)))
    movements = 0
    received = PurchaseOrder(po_number="PO-1000", supplier=SUPPLIERS[0], warehouse_id=site.id, status="received")
    session.add(received)
    session.flush()
    for index, product in enumerate(products):
        quantity = rng.choice((12, 24, 36, 48, 60, 96))
        bin_ = storage[index % len(storage)]
        session.add(
            PurchaseOrderLine(
                purchase_order_id=received.id, product_id=product.id, quantity_ordered=quantity, quantity_received=quantity
            )
        )
        ledger.post(
            session, type=MovementType.RECEIPT, product_id=product.id, quantity=quantity,
            from_location=supplier, to_location=bin_, reference=received.po_number,
        )
        movements += 1
        if index < len(picks) * 2:
            face = picks[index % len(picks)]
            ledger.post(
                session, type=MovementType.REPLENISHMENT, product_id=product.id, quantity=quantity // 4,
                from_location=bin_, to_location=face,
            )
            movements += 1
            # A min/max at every stocked pick face: the simulator's shipments soon call for refills.
            set_rule(session, sku=product.sku, location=face.code, min=max(1, quantity // 8), max=quantity // 2)
    for number, supplier_name in enumerate(SUPPLIERS[1:], start=1):
        # Due from three days ago (late, marked on the list) to a few days ahead.
        expected = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=4 * number - 7)
        order = PurchaseOrder(po_number=f"PO-{1000 + number}", supplier=supplier_name, warehouse_id=site.id,
                              status="open", expected_at=expected)
        session.add(order)
        session.flush()
        for product in rng.sample(products, 8):
            session.add(PurchaseOrderLine(purchase_order_id=order.id, product_id=product.id, quantity_ordered=rng.choice((24, 48, 72))))
    session.flush()
    return movements
