"""JSON API v1 for integrators: bearer tokens, errors as {"error": {"code", "message"}}.

Adding an endpoint (the one pattern; app/api/stock.py is a full example):

    # app/api/orders.py  -- every module in this package is imported, nothing to register
    from app import bounds, db
    from app.api import bp, fields
    from app.api.spec import operation
    from app.api.schemas import Answer, Body, Path   # or models of your own, in your module

    class HoldIn(Body):                          # Body: strict JSON types, unknown fields refused
        reason: fields.text(bounds.NOTE_MAX)     # checked by app.bounds, documented from it

    class OrderPath(Path):
        order_number: fields.lookup(description="order number")

    class Held(Answer):
        order_number: str
        status: str

    @bp.post("/orders/<path:order_number>/hold")
    @operation(path=OrderPath, body=HoldIn, response=Held, status=200, errors=(404, 409), tag="orders")
    def hold_order(order_number: str, body: HoldIn):
        '''Put an order on hold.  <- first docstring line: the OpenAPI summary; the rest: description'''
        return db.atomic(orders.hold, order_number, reason=body.reason)   # a Held or a dict of its shape

- `@operation` goes under the `@bp.<method>` line. It validates `body` (the request
  JSON) and `query` (the query string; subclass schemas.Query) before the view runs and
  answers 400 {"error": {"code": "validation_error", "message", "field"}} when they do not
  fit; the view receives them as `body=` / `query=` besides its URL arguments.
- Raise app.errors (ValidationFailed 400, NotFound 404, Conflict 409) from the warehouse
  logic; app/errors_web.py answers them as JSON, and a value the database refuses (a race
  to create the same thing: 409; a CHECK: 400), in words. Ledger refusals are 409 (not
  enough stock, a balance past its maximum) or 400 (a movement that makes no sense).
- Every value a request carries is a field type of app/api/fields.py (bounds.code, text,
  lookup, whole, measure), so the document states exactly the bounds app.bounds enforces.
  `path=` checks the URL arguments the same way. A rule JSON Schema cannot state (across
  fields, or against what is stored) is declared with `rules=`: the document says it in words
  and in x-rules, and tests/test_api_schemathesis.py holds every other 400 to the schema.
- `errors=` lists the 4xx the route can answer (401, and 400 when it takes input, are added).
  `field_names={"product": "sku"}` renames an error's field to the name the request uses.
- What the view returns is checked against `response` (a dict is validated into it), so
  the document cannot drift from what is sent.
- /api/v1/openapi.json is generated from app.url_map and these declarations;
  tests/test_api_openapi.py fails on any /api/v1 route without @operation.
"""
from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime, timedelta

from flask import Blueprint, g, request

from app import db
from app.accounts import token_owner, touch_token
from app.api.spec import PathExceptConverter
from app.errors_web import error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.record_once(lambda state: state.app.url_map.converters.setdefault("path_except", PathExceptConverter))

PUBLIC_API_ENDPOINTS: set[str] = set()  # every API endpoint, the OpenAPI document too, needs a token
TOUCH_EVERY = timedelta(minutes=1)  # a token's last_used_at is written at most this often


@bp.before_request
def _require_token():
    if request.endpoint in PUBLIC_API_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized("send Authorization: Bearer <token>")
    with db.reading() as session:
        owner = token_owner(session, token.strip())
    if owner is None:
        return _unauthorized("that token is not valid")
    g.api_token_id = owner.id
    _note_use(owner.id, owner.last_used_at)
    return None


def _note_use(token_id: int, last_used_at: datetime | None) -> None:
    now = datetime.now(UTC)
    if last_used_at is not None and last_used_at.tzinfo is None:
        last_used_at = last_used_at.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    if last_used_at is None or now - last_used_at >= TOUCH_EVERY:
        db.atomic(touch_token, token_id)


def _unauthorized(message: str):
    response = error_response(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="wms"'
    return response


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")  # each module registers its routes on bp
