"""Routing rules as plain data: which rule routes an order, and what a rule may say. No database."""
from __future__ import annotations

import pytest

from app import bounds
from app.errors import ValidationFailed
from app.outbound.routing import check_item, check_match, route_for

ORDER = {"warehouse": "AKL", "channel": "Shopify", "reference": "WEB-1001", "country": "NZ", "account": "Main store",
         "skus": ["TEE-S", "MUG-1"]}


def rule(name, match, outcome="WMS", enabled=True):
    return {"name": name, "enabled": enabled, "match": match, "outcome": outcome}


def test_no_rules_leaves_the_order_to_starshipit():
    assert route_for([], ORDER) == ("STARSHIPIT", None)


def test_an_empty_match_routes_every_order():
    assert route_for([rule("all", {})], ORDER) == ("WMS", "all")


def test_the_first_enabled_rule_that_matches_wins():
    rules = [rule("off", {}, "STARSHIPIT", enabled=False), rule("chc", {"warehouse": "CHC"}, "STARSHIPIT"),
             rule("akl", {"warehouse": "AKL"}), rule("later", {}, "STARSHIPIT")]
    assert route_for(rules, ORDER) == ("WMS", "akl")


def test_a_disabled_rule_is_skipped_and_the_default_applies():
    assert route_for([rule("akl", {"warehouse": "AKL"}, enabled=False)], ORDER) == ("STARSHIPIT", None)


@pytest.mark.parametrize("match", [
    {"warehouse": "akl"}, {"channel": "SHOPIFY"}, {"reference_prefix": "web-"}, {"country": "nz"},
    {"account": "MAIN STORE"}, {"skus_any": ["mug-1", "OTHER"]}, {"skus_all": ["tee-s", "MUG-1", "HAT"]},
    {"warehouse": "AKL", "channel": "shopify", "country": "NZ"},
])
def test_each_key_holds_ignoring_case(match):
    assert route_for([rule("r", match)], ORDER) == ("WMS", "r")


@pytest.mark.parametrize("match", [
    {"warehouse": "CHC"}, {"channel": "eBay"}, {"reference_prefix": "SHOP-"}, {"country": "AU"},
    {"account": "Other store"}, {"skus_any": ["HAT"]}, {"skus_all": ["TEE-S"]},
    {"warehouse": "AKL", "country": "AU"},  # every key must hold
])
def test_a_key_that_does_not_hold_fails_the_rule(match):
    assert route_for([rule("r", match)], ORDER) == ("STARSHIPIT", None)


@pytest.mark.parametrize("match", [{"channel": "Shopify"}, {"country": "NZ"}, {"account": "Main store"},
                                   {"reference_prefix": "W"}, {"skus_all": ["TEE-S"]}, {"skus_any": ["TEE-S"]}])
def test_a_fact_the_order_lacks_never_matches(match):
    bare = {"warehouse": "AKL", "channel": None, "reference": None, "country": None, "account": None, "skus": []}
    assert route_for([rule("r", match)], bare) == ("STARSHIPIT", None)


def test_skus_all_means_every_sku_of_the_order_is_listed():
    listed = rule("only", {"skus_all": ["TEE-S", "MUG-1"]})
    assert route_for([listed], {**ORDER, "skus": ["TEE-S"]}) == ("WMS", "only")
    assert route_for([listed], {**ORDER, "skus": ["TEE-S", "HAT"]}) == ("STARSHIPIT", None)


def test_a_rule_is_cleaned_as_stored():
    assert check_item({"name": "  Pilot ", "match": {"warehouse": " akl ", "skus_any": ["A", "a", "B"]},
                       "outcome": "wms"}) == {
        "name": "Pilot", "enabled": True, "match": {"warehouse": "AKL", "skus_any": ["A", "B"]}, "outcome": "WMS"}


@pytest.mark.parametrize("raw, field", [
    ({"match": {}, "outcome": "WMS"}, "items.2.name"),
    ({"name": "x" * (bounds.ROUTING_RULE_NAME_MAX + 1), "match": {}, "outcome": "WMS"}, "items.2.name"),
    ({"name": "A\x00B", "match": {}, "outcome": "WMS"}, "items.2.name"),
    ({"name": "r", "match": {}, "outcome": "SHIP"}, "items.2.outcome"),
    ({"name": "r", "match": {}}, "items.2.outcome"),
    ({"name": "r", "match": [], "outcome": "WMS"}, "items.2.match"),
    ({"name": "r", "outcome": "WMS"}, "items.2.match"),
    ({"name": "r", "match": {"colour": "red"}, "outcome": "WMS"}, "items.2.match.colour"),
    ({"name": "r", "match": {"country": 64}, "outcome": "WMS"}, "items.2.match.country"),
    ({"name": "r", "match": {"country": ""}, "outcome": "WMS"}, "items.2.match.country"),
    ({"name": "r", "match": {"country": "N" * 201}, "outcome": "WMS"}, "items.2.match.country"),
    ({"name": "r", "match": {"warehouse": "A B"}, "outcome": "WMS"}, "items.2.match.warehouse"),
    ({"name": "r", "match": {"skus_any": "TEE-S"}, "outcome": "WMS"}, "items.2.match.skus_any"),
    ({"name": "r", "match": {"skus_all": []}, "outcome": "WMS"}, "items.2.match.skus_all"),
    ({"name": "r", "match": {"skus_any": ["OK", 7]}, "outcome": "WMS"}, "items.2.match.skus_any.1"),
    ({"name": "r", "match": {"skus_any": [f"S{n}" for n in range(bounds.MAX_SKUS_PER_MATCH + 1)]},
      "outcome": "WMS"}, "items.2.match.skus_any"),
    ({"name": "r", "match": {}, "outcome": "WMS", "enabled": "yes"}, "items.2.enabled"),
    ({"name": "r", "match": {}, "outcome": "WMS", "priority": 1}, "items.2.priority"),
])
def test_a_rule_that_breaks_a_bound_is_refused_naming_its_field(raw, field):
    with pytest.raises(ValidationFailed) as refused:
        check_item(raw, "items.2")
    assert refused.value.field == field
    assert len(refused.value.message) < 300


def test_a_match_is_named_as_a_form_names_it_without_a_prefix():
    with pytest.raises(ValidationFailed) as refused:
        check_match({"country": "\x1b"}, "match")
    assert refused.value.field == "match.country"
