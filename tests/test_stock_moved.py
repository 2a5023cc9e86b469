"""After a transaction that moved stock commits, the stock-moved listeners hear which balances it
left, once; a refused or rolled-back movement tells them nothing; a listener that fails never
undoes or breaks the movement."""
from __future__ import annotations

import pytest

from app import db, ledger
from app.catalog import create_product, get_product
from app.inventory import adjust_stock, transfer_stock
from app.warehouses import create_location, find_location, get_warehouse


@pytest.fixture
def heard(any_db_app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget")
        create_location(session, warehouse=site, code="A-01", type="storage")
        create_location(session, warehouse=site, code="P-01", type="pick")

    db.atomic(build)
    calls = []
    db.on_stock_moved(any_db_app, lambda balances: calls.append(dict(balances)))
    return calls


def ids(code):
    with db.reading() as session:
        return get_product(session, "SKU-1").id, find_location(session, get_warehouse(session).id, code).id


def test_a_committed_movement_is_heard_once_with_the_balances_it_left(heard):
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=10, reason="found")
    db.atomic(transfer_stock, sku="SKU-1", from_location="A-01", to_location="P-01", quantity=4)
    assert heard == [{ids("A-01"): 10}, {ids("A-01"): 6, ids("P-01"): 4}]


def test_a_refused_or_rolled_back_movement_is_not_heard(heard):
    with pytest.raises(ledger.InsufficientStock):
        db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=-1, reason="lost")

    def moves_then_fails(session):
        adjust_stock(session, sku="SKU-1", location="A-01", quantity=5, reason="found")
        raise RuntimeError("something after the movement went wrong")

    with pytest.raises(RuntimeError):
        db.atomic(moves_then_fails)
    assert heard == []


def test_a_failing_listener_leaves_the_movement_standing(any_db_app, heard):
    def broken(_balances):
        raise RuntimeError("listener bug")

    db.on_stock_moved(any_db_app, broken)
    posted = db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=3, reason="found")
    assert posted.on_hand == 3 and len(heard) == 1
