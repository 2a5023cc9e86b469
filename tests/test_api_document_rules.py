"""The patterns the OpenAPI document states (app.bounds.code_pattern, text_pattern, scan_pattern) accept exactly
what the checkers accept, read by Python's re and by the ECMA-262 engine of a JSON Schema validator."""
from __future__ import annotations

import re
import sys

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import bounds
from app.errors import ValidationFailed

# Text as a client can send it (JSON and URLs carry no lone surrogates), biased towards the
# characters the rules are about: spaces of every kind, controls, '@'.
TRICKY = "\x1d\t\n\x0b\x0c\r\x1c\x1f \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\x00\x7f\x9f@é"
texts = st.text(st.one_of(st.sampled_from(TRICKY), st.characters(codec="utf-8")), max_size=12)


def scanned(value) -> str:
    """A look-up as the API takes it: bounds.scan, and something must be given."""
    found = bounds.scan(value, "f")
    if not found:
        raise ValidationFailed("f is required", field="f")
    return found


def accepted(check, value) -> bool:
    try:
        check(value)
    except ValidationFailed:
        return False
    return True


def matches(pattern: str, value: str) -> tuple[bool, bool]:
    """(Python's re, the JSON Schema validator's ECMA-262 engine)."""
    schema = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    return re.search(pattern, value) is not None, schema.is_valid(value)


def test_the_space_class_is_exactly_what_strip_drops():
    spaces = {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}
    space = re.compile(f"[{bounds._SPACES}]")
    assert {c for c in map(chr, range(sys.maxunicode + 1)) if space.fullmatch(c)} == spaces


RULES = [
    ("code 8", lambda v: bounds.code(v, "f", max_length=8), bounds.code_pattern(8)),
    ("code 1", lambda v: bounds.code(v, "f", max_length=1), bounds.code_pattern(1)),
    ("code 8, optional", lambda v: bounds.code(v, "f", max_length=8, required=False),
     bounds.code_pattern(8, required=False)),
    ("text 8", lambda v: bounds.text(v, "f", max_length=8), bounds.text_pattern(8)),
    ("text 2", lambda v: bounds.text(v, "f", max_length=2), bounds.text_pattern(2)),
    ("text 8, optional", lambda v: bounds.text(v, "f", max_length=8, required=False),
     bounds.text_pattern(8, required=False)),
    ("scan", scanned, bounds.scan_pattern()),
]


@pytest.mark.parametrize("check, pattern", [rule[1:] for rule in RULES], ids=[rule[0] for rule in RULES])
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=texts)
def test_a_pattern_matches_exactly_what_its_checker_accepts(check, pattern, value):
    assert matches(pattern, value) == (accepted(check, value),) * 2


@pytest.mark.parametrize(
    "value, expected",
    [("A-01", True), ("  A-01\t", True), ("@X", False), (" @X", False), ("X@", True), ("A 1", False), ("", False)],
)
def test_a_location_code_pattern_refuses_a_leading_at_sign(value, expected):
    assert matches(bounds.code_pattern(64, not_first="@"), value) == (expected, expected)
