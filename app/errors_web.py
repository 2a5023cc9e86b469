"""Turning errors into answers: JSON for machines, an on-page message for people. Never a 500
for bad input: warehouse errors and ledger refusals are 4xx and change nothing."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.errors import WmsError
from app.ledger import InsufficientStock, LedgerError


def wants_json() -> bool:
    path = request.path
    return path.startswith("/api/") or path.startswith("/webhooks/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, code: str, message: str, field: str | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if field:
            body["error"]["field"] = field
        response = jsonify(body)
        response.status_code = status
        return response
    if request.headers.get("HX-Request"):
        html = render_template("partials/flash.html", kind="error", message=message)
        return html, status, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(WmsError)
    def _wms_error(error: WmsError):
        return error_response(error.status, error.code, error.message, error.field)

    @app.errorhandler(LedgerError)
    def _ledger_error(error: LedgerError):
        status = 409 if isinstance(error, InsufficientStock) else 400
        return error_response(status, error.code, str(error))

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return error_response(400, "csrf_failed", "the form expired or was not sent from this site; reload and try again")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(error.code or 500, code, error.description or error.name)
