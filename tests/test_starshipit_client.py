"""The WMS's Starshipit client against the simulator over real HTTP: every endpoint, the envelope,
auth failures, 429 with Retry-After, retries on 5xx, timeouts and refused connections."""
from __future__ import annotations

import base64
import time

import httpx
import pytest

from app import db
from app.settings_store import save
from app.starshipit.client import RateLimiter, StarshipitClient, StarshipitError, client_from_settings
from simulator import Simulator
from tests.support.processes import free_port


@pytest.fixture
def sim():
    simulator = Simulator(api_key="key-1", subscription_key="sub-1", seed=11).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def control(sim):
    with httpx.Client(base_url=sim.url, timeout=10) as client:
        yield client


def make_client(sim, **options) -> StarshipitClient:
    options.setdefault("rate_limit", 0)
    options.setdefault("backoff", 0.01)
    return StarshipitClient(sim.url, options.pop("api_key", "key-1"), options.pop("subscription_key", "sub-1"), **options)


@pytest.fixture
def client(sim):
    with make_client(sim) as starshipit:
        yield starshipit


def order(number: str, *items: tuple[str, int]) -> dict:
    return {"order_number": number, "destination": {"name": "Kiri Ngata", "city": "Wellington", "country": "NZ"},
            "items": [{"sku": sku, "quantity": quantity} for sku, quantity in items or (("MUG-1", 1),)]}


def statuses_seen(starshipit: StarshipitClient) -> list[tuple[int, float, str]]:
    """Record (status, time, Retry-After) of every response the client receives."""
    seen: list = []
    starshipit._http.event_hooks["response"].append(
        lambda response: seen.append((response.status_code, time.monotonic(), response.headers.get("Retry-After"))))
    return seen


def test_create_get_by_id_and_by_number(client):
    created = client.create_order(order("W-1", ("MUG-1", 2)))
    assert created["order_id"] and created["status"] == "Unshipped"
    assert client.get_order(order_id=created["order_id"])["order_number"] == "W-1"
    by_number = client.get_order(order_number="W-1")
    assert by_number["order_id"] == created["order_id"]
    assert [(i["sku"], i["quantity"]) for i in by_number["items"]] == [("MUG-1", 2)]


def test_import_sends_fifty_orders_per_call(client):
    seen = statuses_seen(client)
    created = client.import_orders([order(f"IMP-{n}") for n in range(120)])
    assert [o["order_number"] for o in created] == [f"IMP-{n}" for n in range(120)]
    assert len(seen) == 3


def test_listings_page_filter_by_time_and_iterate_every_page(client, control):
    for n in range(7):
        client.create_order(order(f"L-{n}"))
    first = client.unshipped_orders(limit=3)
    assert first.total_pages == 3 and [o["order_number"] for o in first.orders] == ["L-0", "L-1", "L-2"]
    assert [o["order_number"] for o in client.unshipped_orders(limit=3, page=3).orders] == ["L-6"]
    assert [o["order_number"] for o in client.iter_unshipped(limit=2)] == [f"L-{n}" for n in range(7)]
    ids = client.unshipped_orders(limit=250, ids_only=True).orders
    assert set(ids[0]) == {"order_id", "order_number"}

    since = client.get_order(order_number="L-4")["last_updated_date"]
    assert [o["order_number"] for o in client.iter_unshipped(since=since)] == ["L-4", "L-5", "L-6"]
    shipped = client.get_order(order_number="L-5")
    client.create_shipment(shipped["order_id"])
    assert [o["order_number"] for o in client.iter_shipped()] == ["L-5"]
    assert "L-5" not in [o["order_number"] for o in client.iter_unshipped()]
    with pytest.raises(ValueError):
        client.unshipped_orders(limit=251)


def test_update_an_unshipped_order_and_only_status_on_a_printed_one(client):
    created = client.create_order(order("U-1", ("MUG-1", 1)))
    updated = client.update_order({"order_id": created["order_id"], "items": [{"sku": "TEE-M", "quantity": 2}],
                                   "reference": "changed"})
    assert [(i["sku"], i["quantity"]) for i in updated["items"]] == [("TEE-M", 2)] and updated["reference"] == "changed"
    client.create_shipment(created["order_id"])
    with pytest.raises(StarshipitError) as refused:
        client.update_order({"order_id": created["order_id"], "items": [{"sku": "TEE-M", "quantity": 9}]})
    assert refused.value.status == 400 and "status change" in refused.value.errors[0]["message"]
    assert client.update_order({"order_id": created["order_id"], "status": "Delivered"})["status"] == "Delivered"


def test_delete_an_unshipped_order_but_not_a_shipped_one(client):
    gone = client.create_order(order("D-1"))
    client.delete_order(gone["order_id"])
    with pytest.raises(StarshipitError) as missing:
        client.get_order(order_id=gone["order_id"])
    assert missing.value.status == 404
    shipped = client.create_order(order("D-2"))
    client.create_shipment(shipped["order_id"])
    with pytest.raises(StarshipitError, match="Only unshipped orders"):
        client.delete_order(shipped["order_id"])


def test_shipment_returns_tracking_numbers_and_pdf_labels_and_reprint_returns_the_same(client):
    created = client.create_order(order("S-1", ("MUG-1", 1), ("TEE-M", 2)))
    shipment = client.create_shipment(created["order_id"], carrier="NZPost")
    assert shipment["order_number"] == "S-1" and shipment["carrier_name"] == "NZ Post"
    assert len(shipment["tracking_numbers"]) == 1 and shipment["label_types"] == ["PDF"]
    pdf = base64.b64decode(shipment["labels"][0])
    assert pdf.startswith(b"%PDF-") and b"(Order S-1)" in pdf
    assert f"(Tracking {shipment['tracking_numbers'][0]})".encode() in pdf
    assert client.create_shipment(created["order_id"], reprint=True) == shipment
    assert client.get_order(order_id=created["order_id"])["status"] == "Printed"
    with pytest.raises(StarshipitError, match="already been shipped") as again:
        client.create_shipment(created["order_id"])
    assert again.value.status == 200


def test_track_reports_the_tracking_status_and_events(client, control):
    created = client.create_order(order("T-1"))
    shipment = client.create_shipment(created["order_id"])
    control.post("/_sim/orders/T-1/tracking", json={"status": "InTransit"})
    results = client.track("T-1")
    assert results["order_number"] == "T-1" and results["tracking_number"] == shipment["tracking_numbers"][0]
    assert results["tracking_status"] == "InTransit"
    assert [e["status"] for e in results["tracking_events"]] == ["Printed", "InTransit"]


def test_success_false_on_http_200_is_raised_with_its_errors(client):
    client.create_order(order("DUP-1"))
    with pytest.raises(StarshipitError) as duplicate:
        client.create_order(order("DUP-1"))
    assert duplicate.value.status == 200
    assert duplicate.value.errors == [{"message": "Order number already exists", "details": "DUP-1"}]
    assert "Order number already exists" in str(duplicate.value)


def test_success_as_the_number_one_is_accepted(client, control):
    control.post("/_sim/config", json={"success_as_number": True})
    assert client.create_order(order("N-1"))["order_number"] == "N-1"


def test_wrong_keys_raise_a_clear_401(sim):
    with make_client(sim, api_key="nope") as starshipit:
        with pytest.raises(StarshipitError) as denied:
            starshipit.unshipped_orders()
    assert denied.value.status == 401 and "Access denied" in str(denied.value)


def test_too_many_requests_wait_for_retry_after_and_then_succeed(sim, control):
    control.post("/_sim/config", json={"rate_limit": 2})
    with make_client(sim) as starshipit:
        seen = statuses_seen(starshipit)
        for _ in range(4):
            assert starshipit.unshipped_orders().total_pages == 0
    throttled = [n for n, (status, _, _) in enumerate(seen) if status == 429]
    assert throttled, "the simulator never throttled"
    for n in throttled:
        _, at, retry_after = seen[n]
        assert seen[n + 1][1] - at >= float(retry_after) - 0.05
    assert [status for status, _, _ in seen].count(200) == 4


def test_client_side_rate_limit_keeps_under_the_servers_limit(sim, control):
    control.post("/_sim/config", json={"rate_limit": 2})
    with make_client(sim, rate_limit=2) as starshipit:
        seen = statuses_seen(starshipit)
        for _ in range(4):
            starshipit.unshipped_orders()
    assert [status for status, _, _ in seen] == [200] * 4


def test_rate_limiter_spaces_requests_across_threads():
    import threading

    limiter, times = RateLimiter(50), []
    lock = threading.Lock()

    def take():
        limiter.acquire()
        with lock:
            times.append(time.monotonic())

    threads = [threading.Thread(target=take) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times.sort()
    assert all(later - earlier >= 1 / 50 - 0.005 for earlier, later in zip(times, times[1:]))


def test_server_errors_are_retried_then_given_up(client, control):
    created = client.create_order(order("R-1"))
    control.post("/_sim/faults", json={"status": 503, "count": 2})
    seen = statuses_seen(client)
    assert client.get_order(order_id=created["order_id"])["order_number"] == "R-1"
    assert [status for status, _, _ in seen] == [503, 503, 200]
    control.post("/_sim/faults", json={"status": 500, "count": 10})
    with pytest.raises(StarshipitError) as failed:
        client.get_order(order_id=created["order_id"])
    assert failed.value.status == 500 and len(seen) == 3 + 4
    control.delete("/_sim/faults")


def test_timeouts_are_retried(sim, control):
    with make_client(sim, timeout=0.3) as starshipit:
        starshipit.create_order(order("TO-1"))
        control.post("/_sim/faults", json={"delay": 1.0, "count": 1})
        assert starshipit.get_order(order_number="TO-1")["order_number"] == "TO-1"


def test_an_unreachable_starshipit_raises_after_bounded_retries():
    attempts = []
    starshipit = StarshipitClient(f"http://127.0.0.1:{free_port()}", "k", "s", rate_limit=0, backoff=0.01,
                                  max_retries=2)
    starshipit._http.event_hooks["request"].append(attempts.append)
    with starshipit, pytest.raises(StarshipitError, match="unreachable"):
        starshipit.track("X")
    assert len(attempts) == 3


def test_client_from_settings_uses_the_saved_keys_and_rate(app, sim):
    def configure(session):
        save(session, "STARSHIPIT_API_URL", sim.url)
        save(session, "STARSHIPIT_API_KEY", "key-1")
        save(session, "STARSHIPIT_SUBSCRIPTION_KEY", "sub-1")
        save(session, "STARSHIPIT_RATE_LIMIT", "20")

    db.atomic(configure)
    with db.reading() as session:
        starshipit = client_from_settings(session)
        again = client_from_settings(session)
    with starshipit, again:
        assert starshipit.limiter is again.limiter and starshipit.limiter.rate == 20
        assert starshipit.create_order(order("CFG-1"))["order_number"] == "CFG-1"
