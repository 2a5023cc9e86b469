"""POST /webhooks/starshipit: Starshipit's order events and tracking updates.

Fast and durable: check the signature, read the body, store it in the inbox (one INSERT, repeats
ignored by their dedup key; on PostgreSQL one autocommit round trip, durable when it returns),
then hand it over: an order event wakes the inbox (one Redis `SET NX`; a drain job is enqueued
only when none is waiting, see app.orders.inbox.wake), a tracking update gets a job of its own.
The webhook secret is read through a per-process cache of a couple of seconds
(app.settings_store.CACHE_SECONDS). Nothing is applied here when Redis is configured; without
Redis the event is applied in-process after the commit.
Answers: 202 a new order event, 200 a repeat, 200 every tracking update (as Starshipit expects),
401 a wrong or missing signature while a secret is set, 400 a body of neither kind.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from flask import Blueprint, current_app, jsonify, request

from app import db
from app.errors import WmsError
from app.orders import inbox
from app.orders.payloads import read_webhook
from app.settings_store import cached_effective

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

SIGNATURE_HEADER = "X-Starshipit-Signature"
EVENT_ID_HEADER = "X-Starshipit-Event-Id"


def signature_ok(secret: str, raw: bytes, given: str | None) -> bool:
    """base64 (or hex) HMAC-SHA256 of the raw body, compared in constant time."""
    if not given:
        return False
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    given = given.strip()
    if given.lower().startswith("sha256="):
        given = given[7:]
    expected_b64 = base64.b64encode(digest).decode()
    ok_b64 = hmac.compare_digest(given.encode(), expected_b64.encode())
    ok_hex = hmac.compare_digest(given.lower().encode(), digest.hex().encode())
    return ok_b64 or ok_hex


def _error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


@bp.post("/starshipit")
def starshipit():
    raw = request.get_data(cache=False)
    secret = cached_effective("STARSHIPIT_WEBHOOK_SECRET", db.reading)
    if secret and not signature_ok(secret, raw, request.headers.get(SIGNATURE_HEADER)):
        return _error(401, "bad_signature", f"{SIGNATURE_HEADER} is missing or does not match the body")
    try:
        incoming, _body = read_webhook(raw, request.headers.get(EVENT_ID_HEADER))
    except WmsError as error:
        return _error(400, error.code, error.message)
    event_id = inbox.store_now(incoming, raw.decode("utf-8"))
    if event_id is not None:
        try:
            inbox.hand_over(event_id, incoming.kind)
        except Exception:  # noqa: BLE001 - stored durably; the poll's sweep hands it over again
            current_app.logger.exception("webhook event %s stored but not handed over", event_id)
    answer = {"received": True, "duplicate": event_id is None, "dedup_key": incoming.dedup_key}
    status = 202 if event_id is not None and incoming.kind == "order" else 200
    return jsonify(answer), status
