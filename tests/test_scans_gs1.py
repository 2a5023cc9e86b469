"""GS1 scans read without a database (app.scans): the GTIN (AI 01, or 02 on a pallet label), lot
(10), expiry (17), serial (21) and count (30 or 37), in every form a scanner or a person sends them
(raw with the group separator, behind the ]C1 / ]d2 / ]Q3 symbology identifier, as printed with
parentheses); check digits that do not add up, garbage and overlong input read as nothing; and
the count a use case may take (count_of), refused in words when it is 0 or past one scan's bound.
"""
from __future__ import annotations

from datetime import date

import pytest

from app import bounds
from app.errors import ValidationFailed
from app.scans import NOTHING, Scan, count_of, gtin_of, read_scan

GS = "\x1d"  # what a scanner sends for FNC1 after a field of variable length
GTIN = "09506000134352"  # GS1's own example GTIN (EAN-13 9506000134352)


def raw(*fields: str) -> str:
    """An element string as a scanner sends it: each variable-length field but the last ends in GS
    (the test writes the fixed-length ones without it, as a printer does)."""
    return "".join(fields)


LABEL = Scan(gtin=GTIN, lot="LOT-7", expiry=date(2027, 3, 31), serial="SN123", count=12)
FORMS = {
    "raw with GS separators": f"01{GTIN}10LOT-7{GS}17270331" f"21SN123{GS}3712",
    "GS1-128 behind ]C1": f"]C101{GTIN}10LOT-7{GS}17270331" f"21SN123{GS}3712",
    "GS1 DataMatrix behind ]d2": f"]d201{GTIN}17270331" f"10LOT-7{GS}21SN123{GS}3712",
    "GS1 QR behind ]Q3": f"]Q301{GTIN}3712{GS}10LOT-7{GS}17270331" f"21SN123",
    "printed with parentheses": f"(01){GTIN}(10)LOT-7(17)270331(21)SN123(37)12",
    "printed with spaces": f"(01) {GTIN} (10) LOT-7 (17) 270331 (21) SN123 (37) 12",
    "with the scanner's trailing newline": f"]C101{GTIN}10LOT-7{GS}17270331" f"21SN123{GS}3712\n",
}


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_a_gs1_label_reads_the_same_gtin_lot_expiry_serial_and_count(form):
    assert read_scan(FORMS[form]) == LABEL
    assert gtin_of(FORMS[form]) == GTIN
    assert count_of(FORMS[form]) == 12


@pytest.mark.parametrize(
    "scan, expected",
    [
        (f"01{GTIN}", Scan(gtin=GTIN)),
        (f"01{GTIN}10ABC-123", Scan(gtin=GTIN, lot="ABC-123")),
        (f"(01){GTIN}(10)ABC-123", Scan(gtin=GTIN, lot="ABC-123")),
        (f"01{GTIN}17261231", Scan(gtin=GTIN, expiry=date(2026, 12, 31))),
        (f"(01){GTIN}(17)261231", Scan(gtin=GTIN, expiry=date(2026, 12, 31))),
        (f"01{GTIN}17270200", Scan(gtin=GTIN, expiry=date(2027, 2, 28))),  # day 00: the month's last day
        (f"01{GTIN}21SERIAL-9", Scan(gtin=GTIN, serial="SERIAL-9")),
        (f"(01){GTIN}(21)SERIAL-9", Scan(gtin=GTIN, serial="SERIAL-9")),
        (f"01{GTIN}3005", Scan(gtin=GTIN, count=5)),  # AI 30: variable count of items
        (f"(01){GTIN}(30)5", Scan(gtin=GTIN, count=5)),
        (f"01{GTIN}3724", Scan(gtin=GTIN, count=24)),  # AI 37: count of items in a logistic unit
        (f"(01){GTIN}(37)00000024", Scan(gtin=GTIN, count=24)),
        (f"02{GTIN}3748", Scan(gtin=GTIN, count=48)),  # a pallet label: the GTIN of the items inside
        (f"(02){GTIN}(37)48", Scan(gtin=GTIN, count=48)),
        (f"]C110LOT-1{GS}01{GTIN}", Scan(gtin=GTIN, lot="LOT-1")),  # the lot first, ended by GS
    ],
)
def test_each_application_identifier_is_read(scan, expected):
    assert read_scan(scan) == expected


@pytest.mark.parametrize(
    "scan, gtin",
    [
        ("9506000134352", GTIN),  # EAN-13
        ("036000291452", "00036000291452"),  # UPC-A
        ("96385074", "00000096385074"),  # EAN-8
        (GTIN, GTIN),  # GTIN-14
        ("]E09506000134352", GTIN),  # EAN-13 behind its symbology identifier
    ],
)
def test_a_plain_barcode_carries_its_gtin_and_nothing_else(scan, gtin):
    assert read_scan(scan) == Scan(gtin=gtin)
    assert count_of(scan) is None


@pytest.mark.parametrize(
    "scan",
    [
        "3712345678901",  # a valid EAN-13 from France (GS1 prefixes 300-379): reads as AI 37 too
        "3012345678902",  # ... and as AI 30
    ],
)
def test_a_plain_barcode_whose_digits_read_as_a_count_counts_nothing(scan):
    found = read_scan(scan)
    assert found.gtin == "0" + scan and found.count is None
    assert count_of(scan) is None


@pytest.mark.parametrize("scan", ["3712", "3005", "(37)12", "10LOT-1", "(10)LOT-1(37)5"])
def test_a_count_without_the_items_gtin_is_no_count(scan):
    """A SKU such as 3712 reads as AI 37 "12": without a GTIN it names no item, so it counts nothing."""
    assert read_scan(scan).gtin is None
    assert count_of(scan) is None


@pytest.mark.parametrize(
    "scan",
    [
        "9506000134353",  # EAN-13, last digit wrong
        "01095060001343533712",  # raw label, GTIN's check digit wrong
        "]C10109506000134353" + "3712",
        "(01)09506000134353(37)12",
        "(02)09506000134353(37)12",
    ],
)
def test_a_check_digit_that_does_not_add_up_reads_as_nothing(scan):
    """A misread: none of the label is believed, so its count cannot change a quantity either."""
    assert read_scan(scan) == NOTHING
    assert gtin_of(scan) is None and count_of(scan) is None


@pytest.mark.parametrize(
    "scan",
    [
        "", "   ", "\n", "hello", "SKU-1", "A-01", "(", "()", "(01)", "(01)123", "(99", "]C1", "]", "]C1(01)",
        "01", "0109506000134352" + "17261331",  # month 13
        "(01)09506000134352(17)261300x", "(01)09506000134352(37)123456789",
        f"{GS}{GS}{GS}", "01😀", "０１09506000134352", "\x00\x01",
    ],
)
def test_garbage_reads_as_nothing_and_never_raises(scan):
    assert read_scan(scan) == NOTHING
    assert gtin_of(scan) is None and count_of(scan) is None


@pytest.mark.parametrize("value", [None, 12, 9506000134352, 1.5, b"0109506000134352", ["01"], {"01": GTIN}])
def test_what_is_not_text_reads_as_nothing(value):
    assert read_scan(value) == NOTHING
    assert gtin_of(value) is None and count_of(value) is None


@pytest.mark.parametrize(
    "scan",
    [
        f"01{GTIN}10" + "A" * 300,
        f"(01){GTIN}(37)12" + " " * 10 + "x" * 250,
        f"01{GTIN}3712" + GS + "10" + "B" * 20 + GS + "91" + "C" * 90 + GS + "92" + "D" * 90,
        "9" * 10_000,
    ],
)
def test_overlong_input_reads_as_nothing_without_parsing_it(scan):
    assert len(scan.strip()) > 200
    assert read_scan(scan) == NOTHING
    assert count_of(scan) is None


def test_a_label_is_read_once_per_process_and_remembered():
    scan = f"]C101{GTIN}3799{GS}10CACHED"
    assert read_scan(scan) is read_scan(scan)
    assert read_scan(scan) == Scan(gtin=GTIN, lot="CACHED", count=99)


@pytest.mark.parametrize(
    "scan, count",
    [
        (f"(01){GTIN}(37)1", 1),
        (f"(01){GTIN}(37){bounds.MAX_MOVEMENT}", bounds.MAX_MOVEMENT),
        (f"01{GTIN}30{bounds.MAX_MOVEMENT:08d}", bounds.MAX_MOVEMENT),
    ],
)
def test_a_count_within_one_movements_bounds_is_the_quantity(scan, count):
    assert count_of(scan) == count


@pytest.mark.parametrize(
    "scan, words",
    [
        (f"(01){GTIN}(37)0", "this label counts 0 units; one scan takes 1 to 1,000,000"),
        (f"01{GTIN}3000000000", "this label counts 0 units"),
        (f"(01){GTIN}(37){bounds.MAX_MOVEMENT + 1}", "this label counts 1,000,001 units; one scan takes 1 to 1,000,000"),
        (f"(01){GTIN}(37)99999999", "this label counts 99,999,999 units"),
    ],
)
def test_a_count_of_zero_or_past_one_movements_bound_is_refused_in_words(scan, words):
    with pytest.raises(ValidationFailed) as refused:
        count_of(scan)
    assert words in refused.value.message and "scan the item's own barcode and type the quantity" in refused.value.message
    assert refused.value.status == 400 and refused.value.code == "label_count" and refused.value.field == "product"
    assert read_scan(scan).gtin == GTIN  # the product is still known: only its count is refused


def test_the_refusal_names_the_field_the_caller_gives():
    with pytest.raises(ValidationFailed) as refused:
        count_of(f"(01){GTIN}(37)0", "lines.3.sku")
    assert refused.value.field == "lines.3.sku"
