"""GET and PUT /api/v1/routing-rules, POST /api/v1/orders/<n>/route, and an order's route and rule
on GET /api/v1/orders/<n>."""
from __future__ import annotations

import pytest

from tests import orders_data as data

RULES = [
    {"name": "Pilot", "match": {"warehouse": "main", "skus_any": ["MUG-1", "mug-1", "TEE"]}, "outcome": "WMS"},
    {"name": "Rest", "enabled": False, "match": {}, "outcome": "STARSHIPIT"},
]


def test_the_list_is_replaced_and_read_back_in_order(api):
    assert api.get("/api/v1/routing-rules").get_json() == {"items": []}
    response = api.put("/api/v1/routing-rules", json={"items": RULES})
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert [{key: item[key] for key in ("position", "name", "enabled", "match", "outcome")} for item in items] == [
        {"position": 1, "name": "Pilot", "enabled": True, "match": {"warehouse": "MAIN", "skus_any": ["MUG-1", "TEE"]},
         "outcome": "WMS"},
        {"position": 2, "name": "Rest", "enabled": False, "match": {}, "outcome": "STARSHIPIT"},
    ]
    assert api.get("/api/v1/routing-rules").get_json()["items"] == items


@pytest.mark.parametrize("items, field", [
    ([{"name": "x", "match": {"country": "\u0000"}, "outcome": "WMS"}], "items.0.match.country"),
    ([{"name": "x", "match": {"colour": "red"}, "outcome": "WMS"}], "items.0.match.colour"),
    ([{"name": "x", "match": {}, "outcome": "LATER"}], "items.0.outcome"),
    ([{"name": "x", "match": {"skus_all": []}, "outcome": "WMS"}], "items.0.match.skus_all"),
    ([{"name": "x", "match": {}, "outcome": "WMS"}, {"name": "X", "match": {}, "outcome": "WMS"}], "items.1.name"),
    ([{"name": "x", "match": {"warehouse": "NOWHERE"}, "outcome": "WMS"}], "items.0.match.warehouse"),
])
def test_a_bad_item_is_a_400_naming_its_field_and_nothing_changes(api, items, field):
    api.put("/api/v1/routing-rules", json={"items": RULES})
    response = api.put("/api/v1/routing-rules", json={"items": items})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert [item["name"] for item in api.get("/api/v1/routing-rules").get_json()["items"]] == ["Pilot", "Rest"]


def test_an_order_shows_its_route_and_is_routed_by_hand(api):
    data.add_order("SO-1")
    assert api.get("/api/v1/orders/SO-1").get_json()["route"] == "STARSHIPIT"
    response = api.post("/api/v1/orders/SO-1/route", json={"outcome": "WMS"})
    assert response.status_code == 200
    assert response.get_json() == {"order_number": "SO-1", "route": "WMS", "rule": None, "routed_by_hand": True,
                                   "status": "PENDING"}
    answer = api.get("/api/v1/orders/SO-1").get_json()
    assert (answer["route"], answer["rule"]) == ("WMS", None)


def test_routing_a_shipped_order_by_hand_is_a_409_in_words(api):
    data.add_order("SO-2", status="SHIPPED")
    response = api.post("/api/v1/orders/SO-2/route", json={"outcome": "WMS"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "route_fixed" and "can no longer change" in error["message"]


def test_routing_an_unknown_order_is_a_404_and_a_bad_outcome_a_400(api):
    assert api.post("/api/v1/orders/NOPE/route", json={"outcome": "WMS"}).status_code == 404
    data.add_order("SO-3")
    response = api.post("/api/v1/orders/SO-3/route", json={"outcome": "wms"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "outcome"
