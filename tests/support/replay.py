"""What the end-to-end tests share: a floor stocked for the simulator's replay, the inbox's counts,
and the check that the WMS ended where the simulator says it should."""
from __future__ import annotations

import subprocess

import httpx
from sqlalchemy import func
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import Discrepancy, InboxEvent, Order, OrderLine, Product, StockLevel
from app.warehouses import create_location, get_warehouse
from tests.support.processes import BIN, wms_env

PICK_FACE_STOCK = 1000
STORAGE_STOCK = 2000
STOCK_PER_SKU = PICK_FACE_STOCK + STORAGE_STOCK  # enough that no replay runs short


def stock_the_floor(session, skus: list[str]) -> None:
    """Each SKU a product with a pick face (P-nn, in pick order) and a storage bin (S-nn), stocked."""
    site = get_warehouse(session)
    for number, sku in enumerate(skus, start=1):
        create_product(session, sku=sku, name=f"Replay product {number}")
        create_location(session, warehouse=site, code=f"P-{number:02d}", type="pick", pick_sequence=number)
        create_location(session, warehouse=site, code=f"S-{number:02d}", type="storage")
        adjust_stock(session, sku=sku, location=f"P-{number:02d}", quantity=PICK_FACE_STOCK, reason="found")
        adjust_stock(session, sku=sku, location=f"S-{number:02d}", quantity=STORAGE_STOCK, reason="found")


def inbox_counts(app) -> dict[str, int]:
    with app.app_context(), db.reading() as session:
        return dict(session.exec(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)).all())


def assert_wms_matches_simulator(app, sim_url: str, database_url: str, prefix: str, *, orders: int,
                                 skus: list[str]) -> None:
    """Every replayed order's status and shipped quantities, and every SKU's stock, equal what the
    simulator shipped; no discrepancy; the ledger clean, also by `wms check-ledger`."""
    expected = httpx.get(f"{sim_url}/_sim/expected", params={"prefix": prefix}, timeout=30).json()
    assert len(expected["orders"]) == orders
    with app.app_context(), db.reading() as session:
        statuses = dict(session.exec(
            select(Order.order_number, Order.status).where(Order.order_number.startswith(prefix))
        ).all())
        shipped_lines: dict[str, dict[str, int]] = {}
        for number, sku, shipped in session.exec(
            select(Order.order_number, OrderLine.sku, OrderLine.shipped_quantity).join(OrderLine, OrderLine.order_id == Order.id)
        ):
            if shipped:
                shipped_lines.setdefault(number, {})
                shipped_lines[number][sku] = shipped_lines[number].get(sku, 0) + shipped
        on_hand = dict(session.exec(
            select(Product.sku, func.sum(StockLevel.on_hand)).join(StockLevel, StockLevel.product_id == Product.id)
            .group_by(Product.sku)
        ).all())
        discrepancies = session.exec(select(func.count()).select_from(Discrepancy)).one()
        drifts = ledger.check(session)

    wrong_status = {number: (statuses.get(number, "missing"), want["status"]) for number, want in expected["orders"].items()
                    if statuses.get(number) != want["status"]}
    assert wrong_status == {}, f"{len(wrong_status)} orders differ (have, want): {dict(list(wrong_status.items())[:10])}"
    wrong_lines = {}
    for number, want in expected["orders"].items():
        want_lines = {line["sku"]: line["shipped"] for line in want["lines"] if line["shipped"]}
        if shipped_lines.get(number, {}) != want_lines:
            wrong_lines[number] = (shipped_lines.get(number, {}), want_lines)
    assert wrong_lines == {}, f"shipped quantities differ: {dict(list(wrong_lines.items())[:10])}"
    shipped = expected["shipped_by_sku"]
    assert sum(shipped.values()) > 0
    assert {sku: STOCK_PER_SKU - int(on_hand.get(sku, 0)) for sku in skus} == {sku: shipped.get(sku, 0) for sku in skus}
    assert discrepancies == 0
    assert drifts == []
    check = subprocess.run([str(BIN / "wms"), "check-ledger"], env=wms_env(database_url), capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, check.stderr
