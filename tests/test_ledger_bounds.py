"""The ledger refuses what is out of range whoever calls it, and the database refuses it too when a
bug goes around the ledger (migration 0002's CHECK constraints), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import func, select

from app import bounds, db, ledger
from app.catalog import create_product, get_product
from app.inventory import adjust_stock, receive_stock, transfer_stock
from app.models import Movement, StockLevel
from app.warehouses import create_location, find_location, get_warehouse


@pytest.fixture
def floor(any_db_app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget")
        for code in ("A-01", "B-01"):
            create_location(session, warehouse=site, code=code, type="storage")
        adjust_stock(session, sku="SKU-1", location="A-01", quantity=10, reason="found")

    db.atomic(build)
    return any_db_app


def ids(session, code: str) -> tuple[int, int]:
    return get_product(session, "SKU-1").id, find_location(session, get_warehouse(session).id, code).id


def balance(code: str) -> int:
    with db.reading() as session:
        product_id, location_id = ids(session, code)
        row = session.exec(select(StockLevel.on_hand).where(
            StockLevel.product_id == product_id, StockLevel.location_id == location_id)).first()
        return row or 0


def movements() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def set_on_hand_behind_the_ledgers_back(code: str, on_hand: int) -> None:
    """Raw SQL, as a bug would: for setting up a balance near the maximum."""
    def write(session):
        product_id, location_id = ids(session, code)
        ledger.lock(session, [(product_id, location_id)])  # the row, made if need be
        session.execute(text("UPDATE stock_level SET on_hand = :h WHERE product_id = :p AND location_id = :l"),
                        {"h": on_hand, "p": product_id, "l": location_id})

    db.atomic(write)


@pytest.mark.parametrize("quantity", [0, -1, bounds.MAX_MOVEMENT + 1, 2**63, 1.0, True, "5"])
def test_the_ledger_itself_refuses_a_quantity_out_of_range(floor, quantity):
    def post(session):
        product_id, source = ids(session, "A-01")
        _, target = ids(session, "B-01")
        site = get_warehouse(session)
        places = {loc.id: loc for loc in (find_location(session, site.id, "A-01"), find_location(session, site.id, "B-01"))}
        ledger.move(session, type="transfer", product_id=product_id, quantity=quantity,
                    from_location=places[source], to_location=places[target])

    before = movements()
    with pytest.raises(ledger.InvalidMovement, match="from 1 to 1,000,000"):
        db.atomic(post)
    assert movements() == before and balance("A-01") == 10


def test_the_use_cases_refuse_a_quantity_out_of_range_with_the_field_named(floor):
    for call in (
        lambda s: adjust_stock(s, sku="SKU-1", location="A-01", quantity="9223372036854775807", reason="found"),
        lambda s: transfer_stock(s, sku="SKU-1", from_location="A-01", to_location="B-01", quantity=1_000_001),
        lambda s: receive_stock(s, sku="SKU-1", location="A-01", quantity="1e20"),
    ):
        with pytest.raises(Exception) as caught:
            db.atomic(call)
        assert getattr(caught.value, "field", None) == "quantity"
    assert balance("A-01") == 10


@pytest.mark.parametrize("how", ["receipt", "adjustment", "transfer"])
def test_no_balance_goes_past_its_maximum_and_the_refusal_names_the_place(floor, how):
    target = "B-01" if how == "transfer" else "A-01"
    set_on_hand_behind_the_ledgers_back(target, bounds.MAX_BALANCE - 5)
    calls = {
        "receipt": lambda q: lambda s: receive_stock(s, sku="SKU-1", location="A-01", quantity=q),
        "adjustment": lambda q: lambda s: adjust_stock(s, sku="SKU-1", location="A-01", quantity=q, reason="found"),
        "transfer": lambda q: lambda s: transfer_stock(s, sku="SKU-1", from_location="A-01", to_location="B-01",
                                                       quantity=q),
    }
    before = movements()
    with pytest.raises(ledger.BalanceLimit, match=f"{target} holds 2,147,483,642 .* one location can hold"):
        db.atomic(calls[how](6))
    assert movements() == before
    db.atomic(calls[how](5))  # what still fits
    assert balance(target) == bounds.MAX_BALANCE


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stock_level SET on_hand = 2147483648",
        "UPDATE stock_level SET on_hand = -1",
        "UPDATE stock_level SET allocated = on_hand + 1",
        "INSERT INTO movement (type, product_id, from_location_id, to_location_id, quantity, created_at) "
        "SELECT 'transfer', product_id, location_id, location_id, 1000001, CURRENT_TIMESTAMP FROM stock_level",
        "INSERT INTO movement (type, product_id, from_location_id, to_location_id, quantity, created_at) "
        "SELECT 'transfer', product_id, location_id, location_id, 0, CURRENT_TIMESTAMP FROM stock_level",
        "UPDATE product SET weight = -1",
        "UPDATE product SET weight = 100001",
        "UPDATE product SET sku = ''",
        "UPDATE location SET pick_sequence = 2000000001",
    ],
)
def test_the_database_refuses_out_of_range_values_written_with_raw_sql(floor, statement):
    """A CHECK constraint (or, on PostgreSQL, the 32-bit column itself) refuses it."""
    with pytest.raises((IntegrityError, DataError)):
        db.atomic(lambda session: session.execute(text(statement)))
    assert balance("A-01") == 10
    with db.reading() as session:
        assert ledger.check(session) == []
