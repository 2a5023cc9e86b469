"""Scans are forgiving where the floor needs it: SKUs, barcodes and location codes are found
ignoring case and surrounding whitespace, and any GS1 form of a product's GTIN finds it; and
because look-ups ignore case, two SKUs or barcodes may not differ only in case. SQLite and
PostgreSQL."""
from __future__ import annotations

import pytest

from app import db
from app.catalog import create_product, find_product, get_product
from app.errors import Conflict, ValidationFailed
from app.inventory import adjust_stock, stock_summary, transfer_stock
from app.warehouses import create_location, find_location, get_warehouse


@pytest.fixture
def floor(any_db_app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="Abc-1", name="Widget", barcodes=["9506000134352", "Box-Code-7"])
        create_location(session, warehouse=site, code="A-01", type="storage", barcode="Loc-A01")
        create_location(session, warehouse=site, code="B-01", type="pick")
        adjust_stock(session, sku="Abc-1", location="A-01", quantity=10, reason="found")

    db.atomic(build)
    return any_db_app


@pytest.mark.parametrize(
    "scan",
    ["Abc-1", "abc-1", " ABC-1\t", "box-code-7", "9506000134352", "09506000134352", "0109506000134352",
     "]C10109506000134352", "(01)09506000134352(17)270101(10)LOT-9", "]C11010LOT-9\x1d0109506000134352"],
)
def test_a_product_is_found_by_any_case_spacing_or_gs1_form(floor, scan):
    with db.reading() as session:
        assert find_product(session, scan).sku == "Abc-1"


def test_a_upc_a_scan_finds_the_product_saved_with_its_ean_13(floor):
    db.atomic(create_product, sku="UPC-1", name="American item", barcodes=["0012345678905"])
    with db.reading() as session:
        assert find_product(session, "012345678905").sku == "UPC-1"


def test_moves_and_adjustments_take_the_forgiving_scans(floor):
    posted = db.atomic(transfer_stock, sku="(01)09506000134352", from_location=" loc-a01 ", to_location="b-01",
                       quantity=3)
    assert (posted.sku, posted.from_code, posted.to_code, posted.on_hand) == ("Abc-1", "A-01", "B-01", 3)
    db.atomic(adjust_stock, sku=" abc-1 ", location="a-01", quantity=-1, reason="damaged")
    with db.reading() as session:
        summary = stock_summary(session, "ABC-1")
        assert summary["sku"] == "Abc-1" and summary["on_hand"] == 9
        assert find_location(session, get_warehouse(session).id, "LOC-a01").code == "A-01"
        assert get_product(session, "aBc-1").sku == "Abc-1"


@pytest.mark.parametrize(
    "sku, barcodes, message",
    [
        ("ABC-1", [], "product Abc-1 already exists"),
        ("NEW-1", ["BOX-CODE-7"], "belongs to another product"),
        ("NEW-1", ["0009506000134352"[2:]], "same GTIN"),  # the GTIN-14 form of Abc-1's EAN-13
        ("NEW-1", ["abc-1"], "another product's SKU"),
    ],
)
def test_a_sku_or_barcode_differing_only_in_case_or_form_is_refused(floor, sku, barcodes, message):
    with pytest.raises(Conflict, match=message):
        db.atomic(create_product, sku=sku, name="Clash", barcodes=barcodes)


def test_a_scan_with_a_control_character_is_refused_in_words_not_sent_to_the_database(floor):
    with db.reading() as session:
        with pytest.raises(ValidationFailed, match="control character"):
            find_product(session, "ABC\x00-1")
        with pytest.raises(ValidationFailed, match="control character"):
            find_location(session, get_warehouse(session).id, "A-\x0001")


def test_a_code_is_measured_in_the_capitals_it_is_kept_in(floor):
    """ß becomes SS in capitals: 33 of them are 66 characters, over a location code's 64."""
    with pytest.raises(ValidationFailed, match="at most 64") as caught:
        db.atomic(lambda s: create_location(s, warehouse=get_warehouse(s), code="ß" * 33, type="storage"))
    assert caught.value.field == "code"
