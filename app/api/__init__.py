"""JSON API v1 for integrators: bearer tokens, errors as {"error": {"code", "message"}}."""
from __future__ import annotations

from flask import Blueprint, g, request

from app import db
from app.accounts import token_owner
from app.errors_web import error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_API_ENDPOINTS: set[str] = set()  # every API endpoint, the OpenAPI document too, needs a token


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
    return None


def _unauthorized(message: str):
    response = error_response(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="wms"'
    return response


from app.api import routes  # noqa: E402,F401  (registers the endpoints)
