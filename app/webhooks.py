"""POST /webhooks/starshipit: Starshipit's order events and tracking updates.

Fast and durable: check the signature, read the body, store it in the inbox (one INSERT, repeats
ignored by their dedup key; on PostgreSQL one autocommit round trip, durable when it returns),
then hand it over: an order event wakes the inbox (one Redis `SET NX`; a drain job is enqueued
only when none is waiting, see app.orders.inbox.wake), a tracking update gets a job of its own.
The webhook secret is read through a per-process cache of a couple of seconds
(app.settings_store.CACHE_SECONDS). Nothing is applied here when Redis is configured; without
Redis the event is applied in-process after the commit, and this blueprint starts the process's
inbox sweeper (app.orders.sweeper) on its first request, which retries what failed for a passing
reason.

Answers (JSON):
- 202 `{received, duplicate: false, dedup_key}`: a new order event;
- 200 the same for a tracking update (as Starshipit expects) and `{received, duplicate: true,
  dedup_key}` for a repeat;
- 200 `{received, duplicate: false, status: "failed", dedup_key, error: {code, message, field}}`:
  signed and identifiable, but its content can never apply (a quantity out of bounds, no order
  object, ...): stored failed at once, listed on the failed-events page;
- 400 `{error: {code, message, field}}`: what cannot be stored or identified safely (not UTF-8
  JSON, nested too deep, a control character, an identity field out of bounds, neither kind of
  event); nothing stored;
- 401 a wrong or missing signature while a secret is set; nothing stored;
- 503 the database could not store it just now (Starshipit sends it again); nothing stored.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError

from app import db
from app.errors import WmsError
from app.orders import inbox, sweeper
from app.orders.payloads import read_webhook
from app.settings_store import cached_effective

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

SIGNATURE_HEADER = "X-Starshipit-Signature"
EVENT_ID_HEADER = "X-Starshipit-Event-Id"
RETRY_AFTER_SECONDS = 5


@bp.before_app_request
def _start_sweeper() -> None:
    sweeper.ensure_started(current_app._get_current_object())


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


def _error(status: int, code: str, message: str, field: str | None):
    response = jsonify({"error": {"code": code, "message": message, "field": field}})
    response.status_code = status
    return response


def _unavailable(what: str):
    current_app.logger.exception("webhook not stored: the database did not answer (%s)", what)
    response = _error(503, "unavailable", "the WMS could not store the event just now; send it again shortly", None)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@bp.post("/starshipit")
def starshipit():
    raw = request.get_data(cache=False)
    try:
        secret = cached_effective("STARSHIPIT_WEBHOOK_SECRET", db.reading)
    except DBAPIError:
        return _unavailable("reading the webhook secret")
    if secret and not signature_ok(secret, raw, request.headers.get(SIGNATURE_HEADER)):
        return _error(401, "bad_signature", f"{SIGNATURE_HEADER} is missing or does not match the body",
                      SIGNATURE_HEADER)
    try:
        incoming, _body = read_webhook(raw, request.headers.get(EVENT_ID_HEADER))
    except WmsError as error:
        return _error(400, error.code, error.message, error.field)
    try:
        event_id = inbox.store_now(incoming, raw.decode("utf-8"))
    except DBAPIError:
        return _unavailable(f"storing event {incoming.dedup_key}")
    answer = {"received": True, "duplicate": event_id is None, "dedup_key": incoming.dedup_key}
    if event_id is None:
        return jsonify(answer), 200
    if incoming.problem is not None:
        problem = incoming.problem
        answer.update(status="failed", error={"code": problem.code, "message": problem.message, "field": problem.field})
        return jsonify(answer), 200
    try:
        inbox.hand_over(event_id, incoming.kind)
    except Exception:  # noqa: BLE001 - stored durably; a sweep hands it over again
        current_app.logger.exception("webhook event %s stored but not handed over", event_id)
    return jsonify(answer), 202 if incoming.kind == "order" else 200
