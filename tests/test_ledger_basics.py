"""The ledger's promises, one behaviour a test, on SQLite and PostgreSQL."""
import pytest
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock, transfer_stock
from app.models import LocationType, StockLevel
from app.warehouses import create_location, get_warehouse, virtual_location


@pytest.fixture
def floor(any_db_app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget", barcodes=["9300000000011"])
        for code, kind in (("A-01", "storage"), ("P-01", "pick"), ("PACK-1", "packing")):
            create_location(session, warehouse=site, code=code, type=kind)

    db.atomic(build)
    return any_db_app


def level(sku_location):
    with db.reading() as session:
        from app.catalog import get_product
        from app.warehouses import find_location

        site = get_warehouse(session)
        product = get_product(session, "SKU-1")
        place = find_location(session, site.id, sku_location)
        row = session.exec(
            select(StockLevel).where(StockLevel.product_id == product.id, StockLevel.location_id == place.id)
        ).first()
        return (row.on_hand, row.allocated) if row else (0, 0)


def test_adjustment_in_then_transfer_moves_stock_and_keeps_ledger_clean(floor):
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=10, reason="found")
    db.atomic(transfer_stock, sku="9300000000011", from_location="A-01", to_location="P-01", quantity=4)
    assert level("A-01") == (6, 0)
    assert level("P-01") == (4, 0)
    with db.reading() as session:
        assert ledger.check(session) == []


def test_removing_more_than_on_hand_is_refused_and_changes_nothing(floor):
    db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=3, reason="found")
    with pytest.raises(ledger.InsufficientStock):
        db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=-4, reason="lost")
    assert level("A-01") == (3, 0)


def test_allocated_stock_cannot_be_moved_freely_but_moves_with_its_allocation(floor):
    db.atomic(adjust_stock, sku="SKU-1", location="P-01", quantity=5, reason="found")

    def allocate_and_pick(session):
        site = get_warehouse(session)
        from app.catalog import get_product
        from app.warehouses import find_location

        product = get_product(session, "SKU-1")
        pick_face = find_location(session, site.id, "P-01")
        packing = find_location(session, site.id, "PACK-1")
        allocation = ledger.allocate(session, product_id=product.id, location=pick_face, quantity=3, reference="ORD-1")
        ledger.post(session, type="pick", product_id=product.id, quantity=3, from_location=pick_face,
                    to_location=packing, allocation=allocation, reference="ORD-1")
        customer = virtual_location(session, site.id, LocationType.CUSTOMER)
        ledger.post(session, type="shipment", product_id=product.id, quantity=2, from_location=packing,
                    to_location=customer, allocation=allocation, reference="ORD-1")

    db.atomic(allocate_and_pick)
    assert level("P-01") == (2, 0)
    assert level("PACK-1") == (1, 1)
    with pytest.raises(ledger.InsufficientStock):
        db.atomic(transfer_stock, sku="SKU-1", from_location="PACK-1", to_location="A-01", quantity=1)
    with db.reading() as session:
        assert ledger.check(session) == []


def test_stock_promised_to_an_order_cannot_be_adjusted_away_and_the_refusal_says_what_is_free(floor):
    db.atomic(adjust_stock, sku="SKU-1", location="P-01", quantity=5, reason="found")

    def promise(session):
        from app.catalog import get_product
        from app.warehouses import find_location

        site = get_warehouse(session)
        ledger.allocate(session, product_id=get_product(session, "SKU-1").id,
                        location=find_location(session, site.id, "P-01"), quantity=3, reference="ORD-2")

    db.atomic(promise)
    with pytest.raises(ledger.InsufficientStock, match=r"only 2 free at P-01 \(5 on hand, 3 allocated\), 3 asked"):
        db.atomic(adjust_stock, sku="SKU-1", location="P-01", quantity=-3, reason="damaged")
    assert level("P-01") == (5, 3)
    posted = db.atomic(adjust_stock, sku="SKU-1", location="P-01", quantity=-2, reason="damaged")
    assert posted.on_hand == 3
    assert level("P-01") == (3, 3)
    with db.reading() as session:
        assert ledger.check(session) == []


def test_many_reservations_at_once_count_what_the_earlier_ones_took_and_a_refusal_writes_nothing(floor):
    db.atomic(adjust_stock, sku="SKU-1", location="P-01", quantity=5, reason="found")

    def reserve(session, units):
        from app.catalog import get_product
        from app.warehouses import find_location

        product = get_product(session, "SKU-1")
        place = find_location(session, get_warehouse(session).id, "P-01")
        return ledger.allocate_many(session, [ledger.Reservation(product.id, place, n, f"ORD-{i}")
                                              for i, n in enumerate(units)])

    with pytest.raises(ledger.InsufficientStock, match=r"only 1 free at P-01, 2 asked"):
        db.atomic(reserve, [3, 1, 2])
    assert level("P-01") == (5, 0)
    assert db.atomic(reserve, [3, 2]) == 2
    assert level("P-01") == (5, 5)
    with db.reading() as session:
        assert ledger.check(session) == []
