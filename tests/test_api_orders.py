"""GET /api/v1/orders/<order_number>, /api/v1/events, /api/v1/discrepancies: shapes and errors."""
from __future__ import annotations

import pytest

from tests import orders_data as data


def test_an_order_with_its_lines_allocated_picked_shipped(api):
    data.stocked_order("SO-100")
    response = api.get("/api/v1/orders/SO-100")
    assert response.status_code == 200
    assert response.get_json() == {
        "order_number": "SO-100",
        "starshipit_order_id": 777,
        "status": "PARTIALLY_SHIPPED",
        "warehouse": "MAIN",
        "route": "STARSHIPIT",
        "rule": None,
        "lines": [
            {"sku": "WIDGET", "quantity": 5, "allocated": 2, "picked": 1, "shipped": 1},
            {"sku": "MYSTERY", "quantity": 1, "allocated": 0, "picked": 0, "shipped": 0},
        ],
        "tote": [],
    }


def test_an_order_number_with_a_slash(api):
    data.add_order("WEB/7", lines=(("A", 1),))
    assert api.get("/api/v1/orders/WEB/7").get_json()["order_number"] == "WEB/7"


def test_an_unknown_order_is_a_json_404(api):
    response = api.get("/api/v1/orders/NOPE")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_events_newest_first_with_every_field(api):
    first = data.add_event("evt-1", status="processed", error=None)
    second = data.add_event("evt-2", status="failed")
    response = api.get("/api/v1/events")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["id"] for item in items] == [second, first]
    assert set(items[0]) == {"id", "dedup_key", "kind", "event_type", "order_number", "status", "attempts",
                             "last_error", "received_at", "processed_at"}
    assert items[0]["status"] == "failed" and items[0]["last_error"] == "boom: no such warehouse"
    assert items[0]["received_at"].endswith("Z") and items[0]["processed_at"] is None


@pytest.mark.parametrize("status", ["pending", "processed", "failed", "ignored"])
def test_events_filtered_by_status(api, status):
    for each in ("pending", "processed", "failed", "ignored"):
        data.add_event(f"evt-{each}", status=each)
    items = api.get(f"/api/v1/events?status={status}").get_json()["items"]
    assert [item["dedup_key"] for item in items] == [f"evt-{status}"]


def test_events_limit(api):
    for n in range(5):
        data.add_event(f"evt-{n}")
    items = api.get("/api/v1/events?limit=2").get_json()["items"]
    assert [item["dedup_key"] for item in items] == ["evt-4", "evt-3"]


@pytest.mark.parametrize(
    "query", ["status=lost", "status=FAILED!", "status=", "limit=0", "limit=501", "limit=many", "limit=", "limit=2.5"]
)
def test_bad_event_queries_are_400_naming_the_parameter(api, query):
    response = api.get(f"/api/v1/events?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["field"] == query.split("=")[0]


def test_a_limit_written_as_a_float_is_that_whole_number(api):
    for n in range(3):
        data.add_event(f"evt-{n}")
    assert len(api.get("/api/v1/events?limit=2.0").get_json()["items"]) == 2


def test_an_order_number_with_a_control_character_is_400_naming_it(api):
    response = api.get("/api/v1/orders/SO%00100")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "order_number"


def test_discrepancies_with_their_shape_and_status_filter(api):
    open_id = data.add_discrepancy("WIDGET", quantity=3, reference="SO-100")
    resolved_id = data.add_discrepancy("GHOST", quantity=1, cause="unknown_sku", reference="SO-101", status="resolved")
    everything = api.get("/api/v1/discrepancies").get_json()["items"]
    assert [item["id"] for item in everything] == [resolved_id, open_id]
    assert everything[1] == {"id": open_id, "sku": "WIDGET", "warehouse": "MAIN", "quantity": 3, "cause": "shortfall",
                             "reference": "SO-100", "status": "open"}
    assert [i["id"] for i in api.get("/api/v1/discrepancies?status=open").get_json()["items"]] == [open_id]
    assert [i["id"] for i in api.get("/api/v1/discrepancies?status=resolved").get_json()["items"]] == [resolved_id]


def test_an_unknown_discrepancy_status_is_400(api):
    assert api.get("/api/v1/discrepancies?status=closed").status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/orders/SO-1", "/api/v1/events", "/api/v1/discrepancies"])
def test_a_token_is_needed(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_the_endpoints_are_in_the_openapi_document(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/orders/{order_number}", "/api/v1/events", "/api/v1/discrepancies"} <= set(paths)
