"""The pick-job API: create (201, 409 naming an order not allocated), read, picks (201; 409
wrong_location / wrong_sku / wrong_tote / over_pick, nothing moved), short (200 with what was
re-allocated), and GET /orders/<n> naming the order's totes and picked units."""
from __future__ import annotations

from app import db, ledger
from tests.test_allocation import allocate, floor, wms_order
from tests.test_picking import on_hand, totes


def setup():
    floor([("SKU-A", "P-01", 2), ("SKU-A", "S-01", 5), ("SKU-B", "P-02", 5)])
    totes("T-01", "T-02")
    wms_order("SO-1", [("SKU-A", 2), ("SKU-B", 1)])
    wms_order("SO-2", [("SKU-B", 1)])
    wms_order("SO-3", [("SKU-A", 99)])
    for number in ("SO-1", "SO-2", "SO-3"):
        allocate(number)


def test_a_batch_job_through_the_api(api):
    setup()
    refused = api.post("/api/v1/pick-jobs", json={"orders": ["SO-1", "SO-3"], "mode": "batch"})
    assert refused.status_code == 409 and "SO-3" in refused.get_json()["error"]["message"]
    assert api.post("/api/v1/pick-jobs", json={"orders": ["SO-1"], "mode": "sideways"}).status_code == 400
    made = api.post("/api/v1/pick-jobs", json={"orders": ["SO-1", "SO-2"], "mode": "batch", "totes": ["T-02", "T-01"]})
    assert made.status_code == 201, made.get_json()
    job = made.get_json()
    assert [(s["location"], s["sku"], s["quantity"], s["tote"], s["order_number"]) for s in job["stops"]] == [
        ("P-01", "SKU-A", 2, "T-02", "SO-1"), ("P-02", "SKU-B", 1, "T-02", "SO-1"), ("P-02", "SKU-B", 1, "T-01", "SO-2")]
    url = f"/api/v1/pick-jobs/{job['id']}"
    assert api.get(url).get_json()["id"] == job["id"]
    assert api.get("/api/v1/pick-jobs/999999").status_code == 404

    for body, code in (({"location": "S-01", "sku": "SKU-A", "quantity": 1, "tote": "T-02"}, "wrong_location"),
                       ({"location": "P-01", "sku": "SKU-B", "quantity": 1, "tote": "T-02"}, "wrong_sku"),
                       ({"location": "P-01", "sku": "SKU-A", "quantity": 1, "tote": "T-01"}, "wrong_tote"),
                       ({"location": "P-01", "sku": "SKU-A", "quantity": 3, "tote": "T-02"}, "over_pick")):
        answer = api.post(f"{url}/picks", json=body)
        assert answer.status_code == 409 and answer.get_json()["error"]["code"] == code
    assert on_hand("P-01") == 2 and on_hand("T-02") == 0

    picked = api.post(f"{url}/picks", json={"location": "P-01", "sku": "SKU-A", "quantity": 2, "tote": "T-02"})
    assert picked.status_code == 201 and picked.get_json()["picked"] == 2
    order = api.get("/api/v1/orders/SO-1").get_json()
    assert order["tote"] == ["T-02"] and order["status"] == "PICKING"
    assert {line["sku"]: line["picked"] for line in order["lines"]} == {"SKU-A": 2, "SKU-B": 0}

    short = api.post(f"{url}/short", json={"location": "P-02", "sku": "SKU-B", "found": 0})
    assert short.status_code == 200, short.get_json()
    answer = short.get_json()
    assert answer["written_off"] == 5 and answer["unfilled"] == [{"order_number": "SO-1", "sku": "SKU-B", "quantity": 1},
                                                                 {"order_number": "SO-2", "sku": "SKU-B", "quantity": 1}]
    assert answer["status"] == "done"
    assert api.get("/api/v1/orders/SO-1").get_json()["status"] == "AWAITING_STOCK"
    assert api.post(f"{url}/picks", json={"location": "P-02", "sku": "SKU-B", "quantity": 1,
                                          "tote": "T-01"}).get_json()["error"]["code"] == "job_closed"
    with db.reading() as session:
        assert ledger.check(session) == []


def test_a_short_pick_through_the_api_reallocates(api):
    setup()
    job = api.post("/api/v1/pick-jobs", json={"orders": ["SO-1"], "mode": "single"}).get_json()
    answer = api.post(f"/api/v1/pick-jobs/{job['id']}/short", json={"location": "P-01", "sku": "SKU-A", "found": 1})
    assert answer.status_code == 200
    assert answer.get_json()["reallocated"] == [{"location": "S-01", "quantity": 1, "tote": "T-01",
                                                 "order_number": "SO-1", "sku": "SKU-A"}]
    bad = api.post(f"/api/v1/pick-jobs/{job['id']}/short", json={"location": "P-01", "sku": "SKU-A", "found": -1})
    assert bad.status_code == 400
