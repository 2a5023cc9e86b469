"""POST /api/v1/orders/<order_number>/allocate: the answer's shape, the 409s in words, 404 for an
unknown order, no 500 on junk; GET /api/v1/orders/<n> shows each line's allocated and picked."""
from __future__ import annotations

import pytest

from app import db
from app.inventory import adjust_stock
from tests.test_allocation import floor, wms_order


@pytest.fixture
def stocked(app):
    floor([("SKU-A", "S-01", 4), ("SKU-A", "P-01", 1), ("SKU-B", "S-02", 1)])
    return app


def test_allocate_answers_status_and_where_each_line_is_held(stocked, api):
    wms_order("SO-1", [("SKU-A", 3), ("SKU-B", 1)])
    response = api.post("/api/v1/orders/SO-1/allocate")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ALLOCATED", "lines": [
        {"sku": "SKU-A", "quantity": 3, "allocated": 3,
         "locations": [{"location": "P-01", "quantity": 1}, {"location": "S-01", "quantity": 2}]},
        {"sku": "SKU-B", "quantity": 1, "allocated": 1, "locations": [{"location": "S-02", "quantity": 1}]},
    ]}
    order = api.get("/api/v1/orders/SO-1").get_json()
    assert [(line["sku"], line["allocated"], line["picked"]) for line in order["lines"]] == [("SKU-A", 3, 0), ("SKU-B", 1, 0)]
    assert order["status"] == "ALLOCATED" and order["route"] == "WMS"


def test_an_order_short_of_stock_awaits_it_holding_nothing(stocked, api):
    wms_order("SO-1", [("SKU-B", 2)])
    response = api.post("/api/v1/orders/SO-1/allocate")
    assert response.status_code == 200
    assert response.get_json() == {"status": "AWAITING_STOCK", "lines": [
        {"sku": "SKU-B", "quantity": 2, "allocated": 0, "locations": []}]}
    db.atomic(adjust_stock, sku="SKU-B", location="S-01", quantity=1, reason="found")  # arrives: allocated
    assert api.get("/api/v1/orders/SO-1").get_json()["status"] == "ALLOCATED"


@pytest.mark.parametrize("route, status, code", [
    ("STARSHIPIT", "PENDING", "not_wms_order"),
    ("WMS", "SHIPPED", "order_shipped"),
    ("WMS", "PARTIALLY_SHIPPED", "order_shipped"),
    ("WMS", "CANCELLED", "order_cancelled"),
    ("WMS", "PICKING", "picking_started"),
])
def test_orders_that_cannot_be_allocated_are_409_in_words(stocked, api, route, status, code):
    wms_order("SO-9", route=route, status=status)
    response = api.post("/api/v1/orders/SO-9/allocate")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == code and "SO-9" in error["message"]


def test_unknown_orders_and_junk_are_4xx_never_500(stocked, api):
    assert api.post("/api/v1/orders/NOPE/allocate").status_code == 404
    assert api.get("/api/v1/orders/SO-1/allocate").status_code == 405
    for junk in ("%00", "x" * 51, "%E2%80%8B", "a%0Ab"):
        response = api.post(f"/api/v1/orders/{junk}/allocate")
        assert 400 <= response.status_code < 500, (junk, response.status_code)
    response = api.post("/api/v1/orders/NOPE/allocate", json={"unexpected": True})
    assert 400 <= response.status_code < 500


def test_an_order_number_with_a_slash_is_allocated(stocked, api):
    wms_order("SO/7", [("SKU-A", 1)])
    response = api.post("/api/v1/orders/SO/7/allocate")
    assert response.status_code == 200 and response.get_json()["status"] == "ALLOCATED"
    assert api.get("/api/v1/orders/SO/7").get_json()["lines"][0]["allocated"] == 1


def test_allocate_needs_a_token(stocked, client):
    wms_order("SO-1")
    assert client.post("/api/v1/orders/SO-1/allocate").status_code == 401
