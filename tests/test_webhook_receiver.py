"""POST /webhooks/starshipit: signatures, validation, the inbox and its dedup, the answers, and the
hand-off to RQ when Redis is configured (a real Redis, db 5, flushed before and after): the inbox
woken, one drain job for a burst of events."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import uuid

import pytest
from sqlmodel import select

from app import db
from app.models import InboxEvent, Order
from app.settings_store import save
from tests.conftest import flushed_redis, make_app
from tests.test_order_events import (
    assert_ledger_clean,
    build_floor,
    on_hand,
    order_body,
    order_state,
    send,
)

SECRET = "whsec-test-1234"
REDIS_TEST_URL = "redis://127.0.0.1:6379/5"


def sign(raw: bytes, secret: str = SECRET, *, hex_digest: bool = False) -> str:
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    return digest.hex() if hex_digest else base64.b64encode(digest).decode()


def post(client, raw: bytes, **headers):
    return client.post("/webhooks/starshipit", data=raw, headers={"Content-Type": "application/json", **headers})


def stored():
    with db.reading() as session:
        return session.exec(select(InboxEvent)).all()


@pytest.fixture
def signed(app):
    db.atomic(save, "STARSHIPIT_WEBHOOK_SECRET", SECRET)
    build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
    return app


def test_a_correct_base64_signature_is_accepted(signed):
    raw = json.dumps(order_body("order_created")).encode()
    response = post(signed.test_client(), raw, **{"X-Starshipit-Signature": sign(raw)})
    assert response.status_code == 202
    assert order_state()["status"] == "PENDING"


def test_a_hex_signature_is_accepted_too(signed):
    raw = json.dumps(order_body("order_created")).encode()
    response = post(signed.test_client(), raw, **{"X-Starshipit-Signature": sign(raw, hex_digest=True)})
    assert response.status_code == 202


@pytest.mark.parametrize(
    "signature",
    [None, "", "not-a-signature", "wrong-secret", "body-changed"],
)
def test_a_wrong_or_missing_signature_is_401_and_nothing_is_stored(signed, signature):
    raw = json.dumps(order_body("order_created")).encode()
    headers = {}
    if signature == "wrong-secret":
        headers["X-Starshipit-Signature"] = sign(raw, "another-secret")
    elif signature == "body-changed":
        headers["X-Starshipit-Signature"] = sign(raw + b" ")
    elif signature is not None:
        headers["X-Starshipit-Signature"] = signature
    response = post(signed.test_client(), raw, **headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert stored() == []
    assert order_state() is None


def test_without_a_secret_set_unsigned_webhooks_are_accepted(app):
    assert send(app.test_client(), order_body("order_created")).status_code == 202


@pytest.mark.parametrize(
    "raw, field, message",
    [
        (b"{not json", "body", "not valid JSON"),
        (b"\xff\xfe\x00", "body", "not UTF-8"),
        (b"[1, 2]", "body", "JSON object"),
        (b'{"hello": "world"}', "body", "neither"),
        (b'{"event": "order_exploded", "order": {"order_number": "X"}}', "event", "event must be one of"),
        (b'{"event": "order_created", "occurred_at": "yesterday", "order": {"order_number": "X"}}', "occurred_at",
         "RFC 3339"),
        (b'{"order_number": "X", "tracking_status": 7}', "tracking_status", "tracking_status"),
    ],
)
def test_bodies_that_cannot_be_stored_or_identified_are_400_naming_the_field_and_nothing_is_stored(
        signed, raw, field, message):
    response = post(signed.test_client(), raw, **{"X-Starshipit-Signature": sign(raw)})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert message in error["message"] and error["field"] == field
    assert stored() == []


@pytest.mark.parametrize(
    "raw, field, message",
    [
        (b'{"event": "order_created"}', "order", "order object"),
        (b'{"event": "order_created", "order": {"items": []}}', "order.order_number", "order_number is required"),
        (b'{"event": "order_created", "order": {"order_number": "X", "items": [{"sku": "A", "quantity": -1}]}}',
         "order.items[0].quantity", "whole number"),
        (b'{"event": "order_shipped", "order": {"order_number": "X"}, "shipment": {"items": "all"}}', "shipment.items",
         "must be a list"),
    ],
)
def test_signed_events_whose_content_can_never_apply_are_stored_failed_with_the_reason(signed, raw, field, message):
    response = post(signed.test_client(), raw, **{"X-Starshipit-Signature": sign(raw)})
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["received"], answer["duplicate"], answer["status"]) == (True, False, "failed")
    assert message in answer["error"]["message"] and answer["error"]["field"] == field
    (event,) = stored()
    assert (event.status, event.dedup_key) == ("failed", answer["dedup_key"])
    assert message in event.last_error
    repeat = post(signed.test_client(), raw, **{"X-Starshipit-Signature": sign(raw)})
    assert (repeat.status_code, repeat.get_json()["duplicate"]) == (200, True)
    assert len(stored()) == 1


def test_tracking_webhooks_are_answered_200_new_or_repeated(signed):
    client = signed.test_client()
    send_signed = lambda body: post(client, body, **{"X-Starshipit-Signature": sign(body)})  # noqa: E731
    created = json.dumps(order_body("order_created")).encode()
    send_signed(created)
    tracking = json.dumps({
        "order_number": "SO-1", "order_reference": "web SO-1", "carrier_name": "NZ Post", "carrier_service": "CPOLE",
        "shipment_date": "2026-11-24T05:00:00Z", "tracking_number": "NZ123", "tracking_status": "InTransit",
        "last_updated_date": "2026-11-24T06:00:00Z",
    }).encode()
    assert send_signed(tracking).status_code == 200
    assert send_signed(tracking).status_code == 200
    events = stored()
    assert sorted((e.kind, e.event_type, e.status) for e in events) == [
        ("order", "order_created", "processed"), ("tracking", "InTransit", "processed")]
    assert order_state()["status"] == "PENDING"  # InTransit only goes on the timeline


def test_dedup_uses_the_event_id_header_when_the_body_has_none(app):
    client = app.test_client()
    body = order_body("order_created")
    del body["event_id"]
    first = send(client, body, headers={"X-Starshipit-Event-Id": "hdr-1"})
    body["order"]["reference"] = "changed but same id"
    second = send(client, body, headers={"X-Starshipit-Event-Id": "hdr-1"})
    assert (first.status_code, second.status_code) == (202, 200)
    assert [e.dedup_key for e in stored()] == ["hdr-1"]


def test_without_any_id_an_identical_body_is_a_duplicate_and_a_different_one_is_not(app):
    client = app.test_client()
    body = order_body("order_created")
    del body["event_id"]
    assert send(client, body).status_code == 202
    assert send(client, body).status_code == 200
    body["occurred_at"] = "2026-11-24T07:00:00Z"
    assert send(client, body).status_code == 202
    assert len(stored()) == 2 and all(e.dedup_key.startswith("sha256:") for e in stored())


def test_concurrent_duplicates_store_one_event_and_apply_it_once(any_db_app):
    build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
    db.atomic(lambda s: None)
    raw = json.dumps(order_body("order_shipped")).encode()
    answers: list[int] = []
    barrier = threading.Barrier(6)

    def deliver():
        with any_db_app.app_context():
            client = any_db_app.test_client()
            barrier.wait()
            answers.append(post(client, raw).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200] * 5 + [202]
    assert len(stored()) == 1
    assert order_state()["status"] == "SHIPPED"
    assert on_hand("SKU-A", "P-01") == (7, 0)
    assert on_hand("SKU-B", "P-02") == (8, 0)
    assert_ledger_clean()


@pytest.fixture
def redis_db():
    with flushed_redis(REDIS_TEST_URL) as connection:
        yield connection


@pytest.mark.redis
def test_with_redis_the_web_only_stores_and_a_wms_worker_burst_applies_it(sqlite_url, redis_db):
    app = make_app(sqlite_url, REDIS_URL=REDIS_TEST_URL)
    with app.app_context():
        from tests.conftest import _seed_basics

        _seed_basics()
        build_floor({("SKU-A", "P-01"): 10, ("SKU-B", "P-02"): 10})
        client = app.test_client()
        assert send(client, order_body("order_created", event_id="evt-r1")).status_code == 202
        assert send(client, order_body("order_shipped", event_id="evt-r2", at="2026-11-24T05:00:00Z")).status_code == 202
        assert [e.status for e in stored()] == ["pending", "pending"]
        assert order_state() is None  # the web process applied nothing
        assert redis_db.llen("rq:queue:wms") == 1  # one drain for both events
        assert redis_db.get("wms:inbox:wake") == b"1"

        env = dict(os.environ, DATABASE_URL=sqlite_url, REDIS_URL=REDIS_TEST_URL, SECRET_KEY="x")
        worker = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "wms"), "worker", "--burst"],
            env=env, capture_output=True, text=True, timeout=120,
        )
        assert worker.returncode == 0, worker.stderr
        assert [e.status for e in stored()] == ["processed", "processed"]
        assert order_state()["status"] == "SHIPPED"
        assert on_hand("SKU-A", "P-01") == (7, 0)
        assert_ledger_clean()
    app.extensions["wms.engine"].dispose()


def test_the_webhook_needs_no_sign_in_or_csrf_token(app):
    from tests.conftest import make_app as _make

    strict = _make(app.config["DATABASE_URL"], WTF_CSRF_ENABLED=True)
    with strict.app_context():
        response = send(strict.test_client(), order_body("order_created", number="SO-" + uuid.uuid4().hex[:6]))
        assert response.status_code == 202
    strict.extensions["wms.engine"].dispose()
    with db.reading() as session:
        assert len(session.exec(select(Order)).all()) == 1


def test_the_webhook_reads_and_sets_no_session_cookie(signed):
    raw = json.dumps(order_body("order_created")).encode()
    client = signed.test_client()
    client.set_cookie("session", "not-a-signed-session")
    response = post(client, raw, **{"X-Starshipit-Signature": sign(raw)})
    assert response.status_code == 202
    assert "Set-Cookie" not in response.headers
