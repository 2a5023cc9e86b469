"""The Starshipit simulator: its API's shapes, the signed webhooks it sends, replay and expectations."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from simulator import Simulator
from simulator.delivery import sign
from simulator.pdf import label_pdf
from simulator.receiver import Receiver
from tests.support.processes import free_port, wait_for_port

SECRET = "whsec-test"
KEYS = {"StarShipIT-Api-Key": "key-1", "Ocp-Apim-Subscription-Key": "sub-1"}


@pytest.fixture
def receiver():
    catcher = Receiver(SECRET).start()
    yield catcher
    catcher.stop()


@pytest.fixture
def sim(receiver):
    simulator = Simulator(wms_url=receiver.url, secret=SECRET, api_key="key-1", subscription_key="sub-1",
                          seed=3, backoff=0.02).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def http(sim):
    with httpx.Client(base_url=sim.url, headers=KEYS, timeout=10) as client:
        yield client


def new_order(http, **fields) -> dict:
    answer = http.post("/_sim/orders", json=fields)
    assert answer.status_code == 201, answer.text
    return answer.json()["order"]


def wait_idle(http) -> None:
    assert http.get("/_sim/wait", params={"timeout": 10}).json()["idle"]


def test_order_events_are_signed_and_carry_the_contract_fields(sim, http, receiver):
    order = new_order(http, items=[{"sku": "MUG-1", "quantity": 2}], warehouse="MAIN")
    [event] = receiver.wait_for(1, kind="order_created")
    [raw] = [r for r in receiver.received if r["json"]["event_id"] == event["event_id"]]
    assert raw["path"] == "/webhooks/starshipit"
    digest = hmac.new(SECRET.encode(), raw["raw"], hashlib.sha256).digest()
    assert raw["headers"]["X-Starshipit-Signature"] == base64.b64encode(digest).decode()
    assert raw["headers"]["X-Starshipit-Event-Id"] == event["event_id"]
    assert event["event_id"].startswith("evt_")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", event["occurred_at"])
    assert event["account"]["name"] and event["account"]["api_key_hint"] == "ey-1"
    assert event["order"]["order_id"] == order["order_id"]
    assert event["order"]["order_number"] == order["order_number"]
    assert event["order"]["status"] == "Unshipped" and event["order"]["warehouse"] == "MAIN"
    assert event["order"]["destination"]["name"] and event["order"]["destination"]["country"]
    assert [(i["sku"], i["quantity"]) for i in event["order"]["items"]] == [("MUG-1", 2)]
    assert "shipment" not in event


def test_an_order_life_through_the_api_sends_created_changed_shipped_and_tracking(sim, http, receiver):
    created = http.post("/api/orders", json={"order": {"order_number": "A-1", "items": [
        {"sku": "MUG-1", "quantity": 1}, {"sku": "TEE-M", "quantity": 3}]}}).json()
    assert created["success"] is True
    order_id = created["order"]["order_id"]
    changed = http.put("/api/orders", json={"order": {"order_id": order_id, "items": [{"sku": "MUG-1", "quantity": 4}]}})
    assert changed.json()["order"]["items"][0]["quantity"] == 4
    shipment = http.post("/api/orders/shipment", json={"order_id": order_id}).json()
    assert shipment["success"] is True and shipment["order_number"] == "A-1"

    receiver.wait_for(1, kind="order_shipped")
    receiver.wait_for(1, kind="tracking")
    kinds = [b.get("event") for b in receiver.bodies() if "event" in b]
    assert sorted(kinds) == ["order_changed", "order_created", "order_shipped"]
    [shipped] = receiver.bodies("order_shipped")
    assert shipped["shipment"]["carrier_name"] == shipment["carrier_name"]
    assert shipped["shipment"]["tracking_numbers"] == shipment["tracking_numbers"]
    assert shipped["shipment"]["items"] == [{"sku": "MUG-1", "quantity": 4}]
    assert shipped["order"]["status"] == "Printed"
    [tracking] = receiver.bodies("tracking")
    assert set(tracking) == {"order_number", "order_reference", "carrier_name", "carrier_service", "shipment_date",
                             "tracking_number", "tracking_status", "last_updated_date"}
    assert tracking["tracking_status"] == "Printed" and tracking["tracking_number"] == shipment["tracking_numbers"][0]
    times = [datetime.fromisoformat(b["occurred_at"].replace("Z", "+00:00")) for b in receiver.bodies() if "event" in b]
    assert len(set(times)) == 3


def test_deleting_an_unshipped_order_sends_order_deleted_and_a_shipped_one_cannot_be_deleted(sim, http, receiver):
    keep, drop = new_order(http), new_order(http)
    assert http.delete("/api/orders/delete", params={"order_id": drop["order_id"]}).json() == {"success": True}
    [deleted] = receiver.wait_for(1, kind="order_deleted")
    assert deleted["order"]["order_number"] == drop["order_number"]
    http.post(f"/_sim/orders/{keep['order_number']}/ship", json={})
    refused = http.delete("/api/orders/delete", params={"order_id": keep["order_id"]})
    assert refused.status_code == 400 and refused.json()["success"] is False
    assert http.get("/api/orders", params={"order_id": drop["order_id"]}).status_code == 404


def test_partial_shipment_sends_only_the_shipped_items_and_a_later_one_completes_the_order(sim, http, receiver):
    order = new_order(http, items=[{"sku": "MUG-1", "quantity": 3}, {"sku": "TEE-M", "quantity": 1}])
    number = order["order_number"]
    first = http.post(f"/_sim/orders/{number}/ship", json={"items": [{"sku": "MUG-1", "quantity": 2}]}).json()
    assert first["order"]["status"] == "Unshipped"
    assert {i["sku"]: i["quantity_to_ship"] for i in first["order"]["items"]} == {"MUG-1": 1, "TEE-M": 1}
    assert http.get("/_sim/expected").json()["orders"][number]["status"] == "PARTIALLY_SHIPPED"
    second = http.post(f"/_sim/orders/{number}/ship", json={}).json()
    assert second["order"]["status"] == "Printed"
    shipments = [b["shipment"] for b in receiver.wait_for(2, kind="order_shipped")]
    assert [s["items"] for s in shipments] == [[{"sku": "MUG-1", "quantity": 2}],
                                               [{"sku": "MUG-1", "quantity": 1}, {"sku": "TEE-M", "quantity": 1}]]
    expected = http.get("/_sim/expected").json()
    assert expected["orders"][number]["status"] == "SHIPPED"
    assert expected["shipped_by_sku"] == {"MUG-1": 3, "TEE-M": 1}
    too_much = http.post(f"/_sim/orders/{number}/ship", json={})
    assert too_much.status_code == 200 and too_much.json()["success"] is False


def test_tracking_control_sends_the_status_and_delivered_shows_in_the_order(sim, http, receiver):
    number = new_order(http)["order_number"]
    http.post(f"/_sim/orders/{number}/ship", json={})
    for status in ("Dispatched", "Delivered"):
        assert http.post(f"/_sim/orders/{number}/tracking", json={"status": status}).status_code == 200
    statuses = [b["tracking_status"] for b in receiver.wait_for(3, kind="tracking")]
    assert sorted(statuses) == ["Delivered", "Dispatched", "Printed"]
    assert http.get("/api/orders", params={"order_number": number}).json()["order"]["status"] == "Delivered"
    track = http.get("/api/track", params={"order_number": number}).json()["results"]
    assert track["tracking_status"] == "Delivered"
    assert [e["status"] for e in track["tracking_events"]] == ["Printed", "Dispatched", "Delivered"]
    assert http.post(f"/_sim/orders/{number}/tracking", json={"status": "Teleported"}).status_code == 400


def test_headless_a_shipped_order_reads_back_with_its_status_and_items(sim, http):
    order = new_order(http, items=[{"sku": "MUG-1", "quantity": 2}])
    http.post(f"/_sim/orders/{order['order_number']}/ship", json={})
    read = http.get("/api/orders", params={"order_number": order["order_number"]}).json()
    assert read["success"] is True and read["order"]["status"] == "Printed"
    assert [(i["sku"], i["quantity"]) for i in read["order"]["items"]] == [("MUG-1", 2)]
    assert read["order"]["packages"][0]["tracking_number"]


def test_failed_deliveries_are_retried_and_recorded(sim, http, receiver):
    receiver.answers = [500, 503]
    new_order(http)
    receiver.wait_for(1)
    wait_idle(http)
    [delivery] = http.get("/_sim/deliveries").json()["deliveries"]
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 202]


def test_delivery_gives_up_after_its_attempts_when_the_wms_is_down(receiver):
    sim = Simulator(wms_url=f"http://127.0.0.1:{free_port()}", attempts=3, backoff=0.01).start()
    try:
        sim.scenarios.new_order()
        assert sim.deliverer.wait_idle(10)
        [delivery] = sim.deliverer.snapshot()["deliveries"]
        assert delivery["state"] == "failed" and len(delivery["attempts"]) == 3
        assert all(a["status"] is None and a["error"] for a in delivery["attempts"])
    finally:
        sim.stop()


def test_paused_delivery_holds_events_until_resumed(sim, http, receiver):
    http.post("/_sim/pause")
    new_order(http)
    state = http.get("/_sim/deliveries").json()
    assert state["paused"] and state["pending"] == 1 and receiver.received == []
    http.post("/_sim/resume")
    receiver.wait_for(1)


def test_lost_webhooks_are_never_sent_but_are_recorded(sim, http, receiver):
    http.post("/_sim/lose", json={"count": 1})
    lost, kept = new_order(http), new_order(http)
    [event] = receiver.wait_for(1)
    wait_idle(http)
    assert event["order"]["order_number"] == kept["order_number"]
    states = [d["state"] for d in http.get("/_sim/deliveries").json()["deliveries"]]
    assert states == ["lost", "delivered"]
    assert http.get("/api/orders", params={"order_number": lost["order_number"]}).json()["success"] is True


def test_replay_delivers_every_event_at_least_once_with_duplicates_and_shuffled(sim, http, receiver):
    http.post("/_sim/skus", json={"skus": ["A", "B", "C", "D"]})
    summary = http.post("/_sim/replay", json={"orders": 60, "seed": 5, "duplicate_rate": 0.3, "shuffle": True,
                                              "partial_rate": 0.3, "change_rate": 0.3, "delete_rate": 0.1}).json()
    assert summary["deliveries"] > summary["events"] >= 60
    receiver.wait_for(summary["deliveries"], timeout=30)
    wait_idle(http)
    bodies = receiver.bodies()
    assert len(bodies) == summary["deliveries"] and all("event" in b for b in bodies)
    unique = {b["event_id"]: b for b in bodies}
    assert len(unique) == summary["events"]
    sent = http.get("/_sim/deliveries").json()["deliveries"]
    assert {d["event_id"] for d in sent} == set(unique) and all(d["state"] == "delivered" for d in sent)

    per_order: dict[str, list[dict]] = {}
    for event in unique.values():
        per_order.setdefault(event["order"]["order_number"], []).append(event)
    assert any(
        [e["occurred_at"] for e in bodies if e["order"]["order_number"] == number]
        != sorted(e["occurred_at"] for e in bodies if e["order"]["order_number"] == number)
        for number in per_order
    ), "shuffle left every order's events in time order"

    expected = http.get("/_sim/expected", params={"prefix": summary["prefix"]}).json()
    assert set(expected["orders"]) == set(per_order) and len(per_order) == 60
    shipped_by_sku: dict[str, int] = {}
    for number, events in per_order.items():
        events.sort(key=lambda e: e["occurred_at"])
        kinds = [e["event"] for e in events]
        shipped: dict[str, int] = {}
        for event in events:
            for item in event.get("shipment", {}).get("items", []):
                shipped[item["sku"]] = shipped.get(item["sku"], 0) + item["quantity"]
                shipped_by_sku[item["sku"]] = shipped_by_sku.get(item["sku"], 0) + item["quantity"]
        final = {i["sku"]: i["quantity"] for i in events[-1]["order"]["items"]}
        want = expected["orders"][number]
        assert {line["sku"]: line["quantity"] for line in want["lines"]} == final
        assert {line["sku"]: line["shipped"] for line in want["lines"] if line["shipped"]} == shipped
        if "order_deleted" in kinds:
            assert want["status"] == "CANCELLED"
        elif not shipped:
            assert want["status"] == "PENDING"
        else:
            assert want["status"] == ("SHIPPED" if shipped == final else "PARTIALLY_SHIPPED")
    assert {want["status"] for want in expected["orders"].values()} == {
        "PENDING", "SHIPPED", "PARTIALLY_SHIPPED", "CANCELLED"}
    assert expected["shipped_by_sku"] == dict(sorted(shipped_by_sku.items()))
    assert set(shipped_by_sku) <= {"A", "B", "C", "D"}


def test_the_api_needs_both_keys_and_answers_in_the_gateway_shape(sim):
    for headers in ({}, {"StarShipIT-Api-Key": "key-1"}, {**KEYS, "StarShipIT-Api-Key": "wrong"}):
        answer = httpx.get(f"{sim.url}/api/orders/unshipped", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["statusCode"] == 401 and answer.json()["message"]
    assert httpx.get(f"{sim.url}/_sim/health").json()["ok"] is True


def test_over_the_rate_limit_the_api_answers_429_with_retry_after(receiver):
    sim = Simulator(rate_limit=2).start()
    try:
        answers = [httpx.get(f"{sim.url}/api/orders/unshipped") for _ in range(4)]
        assert [a.status_code for a in answers[:2]] == [200, 200]
        throttled = answers[2]
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
        assert re.fullmatch(r"Rate limit is exceeded\. Try again in \d+ seconds\.", throttled.json()["message"])
        assert throttled.json()["statusCode"] == 429
    finally:
        sim.stop()


def test_application_errors_use_the_envelope(sim, http):
    too_many = http.post("/api/orders/import", json={"orders": [{"order_number": f"I-{n}"} for n in range(51)]})
    assert too_many.status_code == 400
    assert too_many.json()["success"] is False and "50" in too_many.json()["errors"][0]["message"]
    bad = http.post("/api/orders", json={"order": {"order_number": "X", "items": [{"sku": "A", "quantity": 0}]}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["message"]
    assert http.post("/api/orders", content=b"{not json").status_code == 400
    listing = http.get("/api/orders/unshipped", params={"limit": 251})
    assert listing.status_code == 400 and listing.json()["success"] is False


def test_labels_are_valid_pdfs_naming_the_order_and_tracking_number():
    pdf = label_pdf("ORD-77", "NZ123456789012", "NZ Post")
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert b"(Order ORD-77)" in pdf and b"(Tracking NZ123456789012)" in pdf
    xref_at = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref_at:].startswith(b"xref\n0 6\n")
    offsets = [int(line[:10]) for line in pdf[xref_at:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj" % number)
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))
    stream = pdf.split(b"stream\n", 1)[1]
    assert stream[length:].startswith(b"\nendstream")


def test_signature_matches_hmac_sha256_base64():
    assert sign("secret", b"{}") == "dzJZAsrKgS3CWXM6rNBGtzgXNyx3e42VtAJkdHRRbhM="


def test_wms_simulator_command_serves_the_api_and_the_controls(tmp_path):
    port = free_port()
    skus = tmp_path / "skus.txt"
    skus.write_text("sku\nWIDGET-1\nWIDGET-2\n")
    env = dict(os.environ, STARSHIPIT_API_KEY="cli-key", STARSHIPIT_SUBSCRIPTION_KEY="cli-sub")
    command = [str(Path(sys.executable).parent / "wms"), "simulator", "--port", str(port), "--skus-file", str(skus),
               "--rate-limit", "20", "--seed", "4"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 20, process)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/orders/unshipped").status_code == 401
        order = httpx.post(f"{base}/_sim/orders", json={}).json()["order"]
        assert {i["sku"] for i in order["items"]} <= {"WIDGET-1", "WIDGET-2"}
        found = httpx.get(f"{base}/api/orders", params={"order_number": order["order_number"]},
                          headers={"StarShipIT-Api-Key": "cli-key", "Ocp-Apim-Subscription-Key": "cli-sub"})
        assert found.json()["order"]["order_id"] == order["order_id"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_demo_mode_keeps_creating_and_shipping_orders(receiver):
    sim = Simulator(wms_url=receiver.url, secret=SECRET, skus=["DEMO-SKU"]).start()
    try:
        sim.start_demo(interval=0.02)
        [shipped] = receiver.wait_for(1, kind="order_shipped")[:1]
        assert receiver.bodies("order_created")
        assert {i["sku"] for i in shipped["order"]["items"]} == {"DEMO-SKU"}
    finally:
        sim.stop()
