"""Signed webhook bodies never answer 500 and nothing they say is lost: what cannot be stored or
identified safely is a 400 naming the field, with nothing stored; what the warehouse's rules refuse
about an identifiable event's content is stored failed at once, with a reason in words, and listed
on the failed-events page. On SQLite and PostgreSQL; Starshipit's API is the simulator."""
from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from app import db
from app.models import InboxEvent, OrderLine
from app.settings_store import save
from simulator.server import Simulator
from tests.conftest import sign_in
from tests.test_order_events import build_floor, order_body, order_state, send
from tests.test_webhook_receiver import SECRET, post, sign

# A Python exception's text as it would show: a class name such as ValueError or StarshipitError.
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception|Failed)\b|Traceback|\bNotFound\b")


@pytest.fixture
def signed(any_db_app):
    db.atomic(save, "STARSHIPIT_WEBHOOK_SECRET", SECRET)
    build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
    return any_db_app


def deliver(app, raw: bytes):
    return post(app.test_client(), raw, **{"X-Starshipit-Signature": sign(raw)})


def events() -> list[InboxEvent]:
    with db.reading() as session:
        return list(session.exec(select(InboxEvent).order_by(InboxEvent.id)))


def body_with(**order) -> bytes:
    return json.dumps(order_body("order_created", **order)).encode()


def raw_with_order(order_json: str) -> bytes:
    return ('{"event": "order_created", "event_id": "evt-raw", "occurred_at": "2026-11-24T04:30:00Z", "order": '
            + order_json + "}").encode()


DEEP = 10_000

DOOR = [
    pytest.param(b'{"event": "order_created", "order": ' + b"[" * DEEP + b"]" * DEEP + b"}", "body", "levels deep",
                 id="nested-10000-deep"),
    pytest.param(b"[" * DEEP + b"]" * DEEP, "body", "levels deep", id="nested-10000-deep-array"),
    pytest.param(b'{"a": ' * DEEP + b"1" + b"}" * DEEP, "body", "levels deep", id="nested-10000-deep-objects"),
    pytest.param(body_with(number="SO-\x00"), "order.order_number", "control character", id="nul-in-order-number"),
    pytest.param(body_with(order_id=2**70), "order.order_id", "whole number from 1", id="order-id-2**70"),
    pytest.param(body_with(reference="web\x00SO-1"), "order.reference", "control character", id="nul-in-reference"),
    pytest.param(body_with(order_id=0), "order.order_id", "whole number from 1", id="order-id-0"),
    pytest.param(body_with(order_id="twelve"), "order.order_id", "whole number", id="order-id-text"),
    pytest.param(body_with(number="SO-" + "9" * 48), "order.order_number", "at most 50", id="order-number-51"),
    pytest.param(body_with(number="SO-\n1"), "order.order_number", "line break", id="line-break-in-order-number"),
    pytest.param(body_with(destination={"name": "Ada\ud800"}), "order.destination.name", "lone surrogate",
                 id="lone-surrogate"),
    pytest.param(body_with(destination={"na\x1bme": "Ada"}), "order.destination", "a key in",
                 id="control-character-in-a-key"),
    pytest.param(body_with(channel="Shop\x7f"), "order.channel", "control character", id="del-in-channel"),
    pytest.param(raw_with_order('{"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": NaN}]}'),
                 "order.items[0].quantity", "not a finite number", id="nan"),
    pytest.param(raw_with_order('{"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": -Infinity}]}'),
                 "order.items[0].quantity", "not a finite number", id="infinity"),
    pytest.param(raw_with_order('{"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": 1e400}]}'),
                 "order.items[0].quantity", "not a finite number", id="overflows-to-infinity"),
    pytest.param(raw_with_order('{"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": '
                                + "9" * 5000 + "}]}"), "body", "digits", id="5000-digit-number"),
    pytest.param(json.dumps(order_body("order_created", event_id="e" * 129)).encode(), "event_id", "at most 128",
                 id="event-id-too-long"),
    pytest.param(json.dumps(order_body("order_created", at="0001-01-01T00:00:00+05:00")).encode(), "occurred_at",
                 "RFC 3339", id="occurred-at-before-year-1"),
    pytest.param(json.dumps({"order_number": "SO-\x00", "tracking_status": "Printed"}).encode(), "order_number",
                 "control character", id="tracking-nul-in-order-number"),
    pytest.param(json.dumps({"order_number": "SO-1", "tracking_status": "P" * 33}).encode(), "tracking_status",
                 "at most 32", id="tracking-status-too-long"),
    pytest.param(b'{"event": "order_created", "order": {"order_number": "SO-1"}} trailing', "body", "not valid JSON",
                 id="trailing-garbage"),
]


@pytest.mark.parametrize("raw, field, words", DOOR)
def test_signed_bodies_that_cannot_be_stored_safely_are_400_naming_the_field_and_nothing_is_stored(
        signed, raw, field, words):
    response = deliver(signed, raw)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field
    assert words in error["message"]
    assert not EXCEPTION_NAME.search(error["message"])
    assert len(error["message"]) < 300  # an echo is cut, never the whole body
    assert events() == []


@pytest.mark.parametrize("quantity", [1e30, 10**30, 1_000_001, -1, 2.5, "lots"])
def test_a_line_quantity_out_of_bounds_is_stored_failed_with_a_reason_never_pending(signed, quantity):
    raw = body_with(items=[{"sku": "SKU-A", "quantity": quantity}])
    response = deliver(signed, raw)
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["status"], answer["error"]["field"]) == ("failed", "order.items[0].quantity")
    (event,) = events()
    assert (event.status, event.order_number, event.attempts) == ("failed", "SO-1", 0)
    assert "order.items[0].quantity must be a whole number" in event.last_error
    assert "Correct the order in Starshipit" in event.last_error and not EXCEPTION_NAME.search(event.last_error)
    assert order_state() is None  # nothing applied


def test_an_order_event_without_an_order_is_stored_failed_with_a_reason(signed):
    raw = json.dumps({"event": "order_shipped", "event_id": "evt-no-order", "occurred_at": "2026-11-24T04:30:00Z"}).encode()
    response = deliver(signed, raw)
    assert response.status_code == 200
    assert response.get_json()["error"]["field"] == "order"
    (event,) = events()
    assert (event.status, event.dedup_key, event.order_number) == ("failed", "evt-no-order", None)
    assert "order object" in event.last_error and not EXCEPTION_NAME.search(event.last_error)


@pytest.mark.parametrize(
    "order, field",
    [
        ({"order_number": "SO-1", "items": {"sku": "SKU-A"}}, "order.items"),
        ({"order_number": "SO-1", "items": [{"quantity": 2}]}, "order.items[0].sku"),
        ({"order_number": "SO-1", "items": [{"sku": "SKU\nA", "quantity": 2}]}, "order.items[0].sku"),
        ({"order_number": "SO-1", "items": ["SKU-A"]}, "order.items[0]"),
        ({"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": 3, "quantity_to_ship": 4}]},
         "order.items[0].quantity_to_ship"),
        ({"order_number": "SO-1", "items": [{"sku": "SKU-A", "quantity": 600_000}, {"sku": "SKU-A", "quantity": 600_000}]},
         "order.items[1].quantity"),
        ({"order_number": "SO-1", "destination": "Wellington"}, "order.destination"),
        ({"order_number": "SO-1", "warehouse": "MAIN 2"}, "order.warehouse"),
        ({"items": []}, "order.order_number"),
    ],
)
def test_content_the_warehouse_refuses_is_stored_failed_naming_the_field(signed, order, field):
    raw = json.dumps({"event": "order_created", "event_id": "evt-content", "order": order}).encode()
    response = deliver(signed, raw)
    error = response.get_json()["error"]
    assert (response.status_code, error["field"]) == (200, field)
    (event,) = events()
    assert event.status == "failed" and error["message"] in event.last_error
    assert not EXCEPTION_NAME.search(event.last_error)


def test_a_bad_shipment_block_is_stored_failed(signed):
    raw = json.dumps(order_body("order_shipped", shipment={"items": [{"sku": "SKU-A", "quantity": 1e30}]})).encode()
    answer = deliver(signed, raw).get_json()
    assert (answer["status"], answer["error"]["field"]) == ("failed", "shipment.items[0].quantity")
    assert [e.status for e in events()] == ["failed"]


def test_line_breaks_are_kept_where_a_field_may_be_multi_line_and_folded_where_it_is_one_line(signed):
    raw = body_with(reference="web\tSO-1\r\nrush",
                    destination={"name": "Ada", "street": "Flat 2\n10 Cuba St", "city": "Wellington"},
                    items=[{"sku": "SKU-A", "quantity": 1, "description": "Blue\nsize M"}])
    assert deliver(signed, raw).status_code == 202
    state = order_state()
    assert state["reference"] == "web SO-1 rush"
    assert state["destination"]["street"] == "Flat 2\n10 Cuba St"
    with db.reading() as session:
        assert session.exec(select(OrderLine)).one().description == "Blue\nsize M"


def test_brackets_inside_strings_are_not_nesting_and_escaped_pairs_are_whole_characters(signed):
    raw = body_with(reference="[" * 5000, destination={"name": "Ada 😀", "city": "Ōtautahi"})
    assert deliver(signed, raw).status_code == 202
    state = order_state()
    assert state["reference"] == "[" * 200  # cut to the column
    assert state["destination"]["name"] == "Ada 😀"


def test_a_failed_event_is_listed_for_a_manager_with_its_reason_and_never_pending(signed):
    deliver(signed, body_with(number="SO-BIG", items=[{"sku": "SKU-A", "quantity": 1e30}]))
    deliver(signed, json.dumps({"event": "order_created", "event_id": "evt-none"}).encode())
    page = sign_in(signed.test_client(), "manager").get("/orders/failed-events").get_data(as_text=True)
    assert page.count('data-testid="failed-event"') == 2
    assert "SO-BIG" in page and "order.items[0].quantity must be a whole number from 0 to 1,000,000" in page
    assert "failed on arrival" in page
    assert 'href="/order/SO-BIG"' not in page  # refused on arrival: the WMS never made that order
    assert [e.status for e in events()] == ["failed", "failed"]


@pytest.fixture
def starshipit(signed):
    sim = Simulator(port=0, seed=7).start()
    db.atomic(save, "STARSHIPIT_API_URL", sim.url)
    db.atomic(save, "STARSHIPIT_RATE_LIMIT", "0")
    yield sim
    sim.stop()


def test_a_printed_update_for_an_order_starshipit_does_not_have_fails_at_once_with_a_reason(signed, starshipit):
    raw = json.dumps({"order_number": "SO-GHOST", "carrier_name": "NZ Post", "tracking_number": "NZ1",
                      "tracking_status": "Printed", "last_updated_date": "2026-11-24T06:00:00Z"}).encode()
    response = deliver(signed, raw)
    assert response.status_code == 200  # stored, then tried in-process (no Redis): Starshipit answers 404
    (event,) = events()
    assert (event.status, event.attempts, event.next_try_at) == ("failed", 1, None)
    assert "Starshipit has no order SO-GHOST" in event.last_error and "404" in event.last_error
    assert not EXCEPTION_NAME.search(event.last_error)
    assert "StarshipitError" in event.error_detail
    page = sign_in(signed.test_client(), "manager").get("/orders/failed-events").get_data(as_text=True)
    assert "Starshipit has no order SO-GHOST" in page


def test_admin_sees_the_technical_detail_and_a_manager_does_not(signed):
    deliver(signed, body_with(warehouse="NOPE"))  # applied in-process: no such warehouse, failed at once
    (event,) = events()
    assert event.status == "failed" and event.error_detail.startswith("NotFound")
    as_manager = sign_in(signed.test_client(), "manager").get("/orders/failed-events").get_data(as_text=True)
    as_admin = sign_in(signed.test_client(), "admin").get("/orders/failed-events").get_data(as_text=True)
    assert "names a warehouse the WMS does not have" in as_manager and "Add that warehouse" in as_manager
    assert 'data-testid="event-detail"' not in as_manager and "NotFound" not in as_manager
    assert 'data-testid="event-detail"' in as_admin and "NotFound (not_found, field warehouse)" in as_admin
    reason = re.search(r'data-testid="event-error">([^<]*)<', as_admin).group(1)
    assert not EXCEPTION_NAME.search(reason)


def test_with_the_database_away_a_webhook_is_503_with_retry_after_never_500(tmp_path):
    from tests.conftest import make_app

    away = make_app(f"sqlite:///{tmp_path}/no-such-directory/wms.sqlite3")
    with away.app_context():
        response = send(away.test_client(), order_body("order_created"))
    away.extensions["wms.engine"].dispose()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "unavailable"
