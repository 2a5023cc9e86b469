"""Orders, inbox events and discrepancies written straight into the tables, for the page and API
tests (the webhook and event processing have tests of their own)."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.models import (
    Discrepancy,
    InboxEvent,
    LocationType,
    Movement,
    MovementType,
    Order,
    OrderLine,
    OrderTimelineEntry,
)
from app.timeutil import utcnow
from app.warehouses import create_location, get_warehouse, virtual_location


def add_order(order_number: str, *, status: str = "PENDING", customer: str = "Ada Lovelace", reference: str | None = None,
              lines: tuple = (("SKU-1", 2),), unknown: tuple = (), warehouse: str | None = None, starshipit_id: int | None = None) -> int:
    def write(session):
        site = get_warehouse(session, warehouse)
        order = Order(
            order_number=order_number, starshipit_order_id=starshipit_id, reference=reference, warehouse_id=site.id,
            status=status, destination={"name": customer, "city": "Auckland", "country": "NZ"},
        )
        session.add(order)
        session.flush()
        for sku, quantity in lines:
            session.add(OrderLine(order_id=order.id, sku=sku, quantity=quantity, unknown_sku=sku in unknown))
        session.flush()
        return order.id

    return db.atomic(write)


def set_status(order_number: str, status: str) -> None:
    def write(session):
        order = session.exec(select(Order).where(Order.order_number == order_number)).one()
        order.status = status
        order.updated_at = utcnow()

    db.atomic(write)


def stocked_order(order_number: str = "SO-100") -> None:
    """An order for 5 x WIDGET: 2 allocated at A-01, 1 picked to PACK-1, 1 already shipped."""

    def write(session):
        site = get_warehouse(session)
        product = create_product(session, sku="WIDGET", name="Widget")
        shelf = create_location(session, warehouse=site, code="A-01", type=LocationType.PICK)
        pack = create_location(session, warehouse=site, code="PACK-1", type=LocationType.PACKING)
        supplier = virtual_location(session, site.id, LocationType.SUPPLIER)
        customer = virtual_location(session, site.id, LocationType.CUSTOMER)
        ledger.post(session, type=MovementType.RECEIPT, product_id=product.id, quantity=10, from_location=supplier, to_location=shelf)
        order = Order(order_number=order_number, starshipit_order_id=777, reference="REF-9", warehouse_id=site.id,
                      status="PARTIALLY_SHIPPED", carrier_name="NZ Post", tracking_numbers=["TRK123"],
                      destination={"name": "Grace Hopper", "street": "1 Queen St", "city": "Auckland", "country": "NZ"})
        session.add(order)
        session.flush()
        line = OrderLine(order_id=order.id, sku="WIDGET", product_id=product.id, quantity=5, shipped_quantity=1)
        mystery = OrderLine(order_id=order.id, sku="MYSTERY", quantity=1, unknown_sku=True)
        session.add_all([line, mystery])
        session.flush()
        ledger.allocate(session, product_id=product.id, location=shelf, quantity=2, reference=order_number, order_line_id=line.id)
        picked = ledger.allocate(session, product_id=product.id, location=shelf, quantity=1, reference=order_number, order_line_id=line.id)
        ledger.post(session, type=MovementType.PICK, product_id=product.id, quantity=1, from_location=shelf, to_location=pack,
                    reference=order_number, allocation=picked)
        picked.picked = True  # what the picking work marks once the units reach packing
        ledger.post(session, type=MovementType.SHIPMENT, product_id=product.id, quantity=1, from_location=shelf,
                    to_location=customer, reference=order_number)
        session.add(OrderTimelineEntry(order_id=order.id, kind="order_created", message="Order received from Starshipit",
                                       occurred_at=utcnow() - timedelta(minutes=5)))
        session.add(OrderTimelineEntry(order_id=order.id, kind="warning", message="SKU MYSTERY is not in the catalogue"))

    db.atomic(write)


def add_event(dedup_key: str, *, status: str = "failed", event_type: str = "order_created", order_number: str | None = "SO-1",
              payload: dict | str | None = None, error: str | None = "boom: no such warehouse", attempts: int = 5) -> int:
    def write(session):
        body = payload if payload is not None else {"event": event_type, "event_id": dedup_key, "order": {"order_number": order_number}}
        event = InboxEvent(dedup_key=dedup_key, kind="order", event_type=event_type, order_number=order_number,
                           payload=body if isinstance(body, str) else json.dumps(body), status=status, attempts=attempts,
                           last_error=error if status == "failed" else None)
        session.add(event)
        session.flush()
        return event.id

    return db.atomic(write)


def add_discrepancy(sku: str = "WIDGET", *, quantity: int = 3, cause: str = "shortfall", reference: str | None = "SO-100",
                    status: str = "open") -> int:
    def write(session):
        site = get_warehouse(session)
        item = Discrepancy(sku=sku, warehouse_id=site.id, quantity=quantity, cause=cause, reference=reference, status=status)
        session.add(item)
        session.flush()
        return item.id

    return db.atomic(write)


def read(fn):
    with db.reading() as session:
        return fn(session)


def discrepancy(discrepancy_id: int) -> Discrepancy:
    return read(lambda s: s.get(Discrepancy, discrepancy_id))


def event(event_id: int) -> InboxEvent:
    return read(lambda s: s.get(InboxEvent, event_id))


def movements(reference: str) -> list[Movement]:
    return read(lambda s: list(s.exec(select(Movement).where(Movement.reference == reference))))

