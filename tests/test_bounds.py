"""The bounds every entrypoint shares (app.bounds), as plain functions: no database, no app."""
from __future__ import annotations

import math

import pytest

from app import bounds
from app.errors import ValidationFailed
from app.scans import gtin_of


def refusal(check, *args, **kwargs) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        check(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize("given, expected", [(1, 1), ("7", 7), (" +12 ", 12), (12.0, 12), ("1000000", 1_000_000)])
def test_a_quantity_is_a_whole_number_from_1_to_a_million(given, expected):
    assert bounds.quantity(given) == expected


@pytest.mark.parametrize(
    "given",
    [0, -1, 1_000_001, "9223372036854775807", "1e20", 1e20, 1.5, "1.5", "two", "", None, True, float("nan"),
     float("inf"), "9" * 5000, [], {}],
)
def test_anything_else_is_refused_naming_the_field(given):
    error = refusal(bounds.quantity, given)
    assert error.field == "quantity"
    assert len(error.message) < 120  # a sentence, never the 5,000 characters sent


def test_an_adjustment_is_signed_and_never_zero():
    assert bounds.signed_quantity("-3") == -3
    assert "cannot be zero" in refusal(bounds.signed_quantity, "0").message
    assert "from -1,000,000 to 1,000,000" in refusal(bounds.signed_quantity, -1_000_001).message


@pytest.mark.parametrize("given", ["inf", "-inf", "nan", "1e400", -0.5, 100_001, "heavy", 10**400, True])
def test_a_weight_is_finite_from_0_to_100000_kg(given):
    assert refusal(bounds.weight_kg, given).field == "weight"


def test_a_weight_may_be_blank_or_a_number_of_kilograms():
    assert bounds.weight_kg("") is None and bounds.weight_kg(None) is None
    assert bounds.weight_kg("0.25") == 0.25 and bounds.weight_kg(100_000) == 100_000.0
    assert math.isfinite(bounds.weight_kg("1e-300"))


def test_a_pick_sequence_is_blank_or_0_to_two_billion():
    assert bounds.pick_sequence(" ") is None and bounds.pick_sequence("0") == 0
    assert bounds.pick_sequence(2_000_000_000) == 2_000_000_000
    assert "from 0 to 2,000,000,000" in refusal(bounds.pick_sequence, "99999999999999999999").message


def test_a_count_may_be_zero():
    assert bounds.count("0") == 0
    assert refusal(bounds.count, -1).field == "counted"


def test_text_is_trimmed_and_refuses_control_characters_and_overlong_values():
    assert bounds.text("  Blue widget ", "name", max_length=300) == "Blue widget"
    assert bounds.text("", "note", max_length=10, required=False) is None
    assert "required" in refusal(bounds.text, "  ", "name", max_length=300).message
    assert "control character" in refusal(bounds.text, "a\x00b", "name", max_length=300).message
    assert "control character" in refusal(bounds.text, "a\ud800", "name", max_length=300).message
    assert "5,000 characters long; at most 300" in refusal(bounds.text, "x" * 5000, "name", max_length=300).message
    assert bounds.text("line one\nline two", "note", max_length=100, multiline=True) == "line one\nline two"
    assert "control character" in refusal(bounds.text, "line one\nline two", "name", max_length=100).message


def test_a_code_has_no_spaces_inside():
    assert bounds.code(" A-01 ", "code", max_length=64) == "A-01"
    assert "cannot contain spaces" in refusal(bounds.code, "A 01", "code", max_length=64).message


def test_a_scan_is_trimmed_and_a_control_character_refused():
    assert bounds.scan("  sku-1\t", "product") == "sku-1"
    assert bounds.scan(None, "product") == ""
    assert refusal(bounds.scan, "SKU\x00", "product").field == "product"


def test_shown_cuts_what_a_person_sent_to_one_short_line():
    assert bounds.shown("x" * 5000) == "x" * 39 + "…"
    assert bounds.shown("a\nb\x00") == "a?b?"


@pytest.mark.parametrize(
    "scan, gtin",
    [
        ("9506000134352", "09506000134352"),  # EAN-13
        ("012345678905", "00012345678905"),  # UPC-A
        ("09506000134352", "09506000134352"),  # GTIN-14
        ("0109506000134352103456", "09506000134352"),  # GS1-128, raw, with a lot
        ("]C10109506000134352", "09506000134352"),  # GS1-128 with its symbology identifier
        ("(01)09506000134352(10)ABC", "09506000134352"),  # as printed under the bars
        ("SKU-1", None),
        ("9506000134353", None),  # wrong check digit
        ("", None),
        ("9" * 5000, None),
    ],
)
def test_a_scan_carries_a_gtin_in_any_of_its_forms(scan, gtin):
    assert gtin_of(scan) == gtin
