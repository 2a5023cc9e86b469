"""Turning errors into answers: JSON for machines, words on the page for people. Never a 500
for bad input: warehouse errors and ledger refusals are 4xx and change nothing; a database
refusing a value is a 400 or a 409 in words.

Whatever no rule translated is a 500 that says what happened and what to do, with a short
reference that is also in the log; the exception's type and text are shown to signed-in admins
only, folded away. No page ever shows a Python exception's text to anyone else.
"""
from __future__ import annotations

import secrets

from flask import Flask, current_app, g, has_request_context, jsonify, make_response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import event
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from app.bounds import shown
from app.errors import WmsError
from app.ledger import LedgerError
from app.models import Role

REFERENCE_LENGTH = 8
_REFERENCE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to mix up when read out
DETAIL_MAX = 2000  # characters of an exception's text kept for an admin
_COMMITTED = "wms_committed"  # set on `g` when this request committed a transaction (any: a token's last use too)

# What each HTTP error means to a person, and what to do about it.
HTTP_WORDS = {
    400: "The request could not be understood, so nothing was changed. Go back, reload the page and try again.",
    401: "Sign in first, then try again.",
    403: "Your role cannot open this page or do this. Ask a manager or an admin if you need it.",
    404: "There is nothing at this address. Check the address, or start again from the home page.",
    405: "This address does not take a {method} request, so nothing was changed. Go back and use the page's own "
         "buttons.",
    413: "That was too large to send (at most {limit}), so nothing was changed. Send a smaller file, or split it.",
    429: "Too many tries in a short time. Wait a minute, then try again.",
}
# The same for a program (the API, the webhook): what to change in the request.
MACHINE_WORDS = {
    400: "The request could not be understood, so nothing was changed: check its body and headers.",
    404: "There is nothing at this address: check the path (the API is described at /api/v1/openapi.json).",
    405: "This address does not take a {method} request, so nothing was changed.",
    413: "The request is too large (at most {limit}), so nothing was changed: send less at a time.",
    429: "Too many requests in a short time: wait, then try again.",
}
HEADINGS = {400: "That did not work", 401: "Sign in first", 403: "Not for your role", 404: "Not found",
            405: "That did not work", 409: "That clashes with something saved", 413: "Too large",
            422: "That did not work", 429: "Too many tries", 500: "Something went wrong"}


def wants_json() -> bool:
    path = request.path
    return path.startswith("/api/") or path.startswith("/webhooks/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, code: str, message: str, field: str | None = None, *,
                   reference: str | None = None, detail: str | None = None):
    """The error as JSON, as an htmx flash, or as a page (always a Response). `detail` (technical) is
    shown to admins only."""
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if field:
            body["error"]["field"] = field
        if reference:
            body["error"]["reference"] = reference
        response = jsonify(body)
        response.status_code = status
        return response
    detail = for_admin(detail)
    try:
        if request.headers.get("HX-Request"):
            html = render_template("partials/flash.html", kind="error", message=message, flash_detail=detail)
            return make_response(html, status, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
        html = render_template("error.html", status=status, heading=HEADINGS.get(status, HEADINGS[500]),
                               message=message, reference=reference, detail=detail)
        return make_response(html, status)
    except Exception:  # noqa: BLE001 - the page itself failed (the database may be down): say it plainly
        current_app.logger.exception("the error page could not be shown (reference %s)", reference)
        return make_response(_bare_page(message), status)


def _bare_page(message: str) -> str:
    return ('<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            '<title>Error · Starshipit WMS</title>'
            f'<p style="overflow-wrap:anywhere;font:17px system-ui,sans-serif;margin:1rem">{escape(message)}</p>'
            '<p style="font:17px system-ui,sans-serif;margin:1rem"><a href="/">Home</a></p>')


def for_admin(detail: str | None) -> str | None:
    """`detail` when a signed-in admin is asking, else None: technical text is for admins only."""
    if not detail:
        return None
    try:
        if current_user.is_authenticated and current_user.has_role(Role.ADMIN):
            return detail if len(detail) <= DETAIL_MAX else detail[: DETAIL_MAX - 1] + "…"
    except Exception:  # noqa: BLE001 - who is asking cannot be known (the database may be down)
        pass
    return None


def new_reference() -> str:
    return "".join(secrets.choice(_REFERENCE_LETTERS) for _ in range(REFERENCE_LENGTH))


def technical(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}: {error}"


def _note_commit(_session) -> None:
    if has_request_context():
        setattr(g, _COMMITTED, True)


def _propagate() -> bool:
    """Flask's own rule: exceptions propagate in debug and testing (unless PROPAGATE_EXCEPTIONS says
    otherwise), so a developer sees the traceback; in production they become the 500 page."""
    propagate = current_app.config.get("PROPAGATE_EXCEPTIONS")
    if propagate is None:
        propagate = current_app.testing or current_app.debug
    return bool(propagate)


def unexpected(error: BaseException, *, logged: bool = False):
    """A 500 in words, with a reference that is also in the log."""
    reference = new_reference()
    if not logged:
        current_app.logger.error("unexpected error on %s %s (reference %s)", request.method, request.path, reference,
                                 exc_info=error)
    else:
        current_app.logger.error("the error above on %s %s has reference %s", request.method, request.path, reference)
    if g.get(_COMMITTED):  # something was saved during this request: perhaps what was asked
        message = ("Something went wrong on our side, and what you asked may already have been saved: check before "
                   f"you do it again. If it keeps happening, tell your admin the reference {reference}.")
    else:
        message = ("Something went wrong on our side and nothing was changed. Try again; if it keeps happening, "
                   f"tell your admin the reference {reference}.")
    return error_response(500, "internal_error", message, reference=reference, detail=technical(error))


def _database_refusal(error: DataError | IntegrityError):
    """A value the database refused: bad input that slipped past the checks, never a 500."""
    current_app.logger.warning("database refused a value on %s %s: %s", request.method, request.path,
                               technical(error.orig if error.orig is not None else error))
    detail = technical(error.orig if error.orig is not None else error)
    if isinstance(error, DataError) or _is_check_violation(error):
        return error_response(400, "validation_error",
                              "A value is outside what the warehouse can store (too large, too long or not allowed), "
                              "so nothing was saved. Check what you typed and try again.", detail=detail)
    return error_response(409, "conflict",
                          "That clashes with something already saved (the same code twice, or something another "
                          "person changed at the same moment), so nothing was saved. Look it up and try again.",
                          detail=detail)


def _is_check_violation(error: IntegrityError) -> bool:
    if getattr(error.orig, "sqlstate", None) == "23514":  # PostgreSQL: check_violation
        return True
    return "CHECK constraint failed" in str(error.orig)  # SQLite


def _http_words(error: HTTPException) -> str:
    status = error.code or 500
    words = (MACHINE_WORDS.get(status) if wants_json() else None) or HTTP_WORDS.get(status)
    if words is None:
        return f"That did not work (HTTP {status}), so nothing was changed. Go back and try again."
    return words.format(method=shown(request.method), limit=_size(current_app.config.get("MAX_CONTENT_LENGTH")))


def _size(limit: int | None) -> str:
    if not limit:
        return "the limit"
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if limit >= size:
            return f"{limit / size:,.3g} {unit}"
    return f"{limit:,} bytes"


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _note_commit):
        event.listen(Session, "after_commit", _note_commit)

    @app.errorhandler(WmsError)
    def _wms_error(error: WmsError):
        return error_response(error.status, error.code, error.message, error.field)

    @app.errorhandler(LedgerError)
    def _ledger_error(error: LedgerError):
        return error_response(error.status, error.code, error.message, error.field)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return error_response(400, "csrf_failed", "Nothing was saved: the form expired or was not sent from this "
                                                  "site. Reload the page and try again.")

    @app.errorhandler(DataError)
    def _data_error(error: DataError):
        return _database_refusal(error)

    @app.errorhandler(IntegrityError)
    def _integrity_error(error: IntegrityError):
        return _database_refusal(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if (error.code or 500) >= 500:
            original = getattr(error, "original_exception", None)
            if original is not None:  # Flask has logged it already
                return unexpected(original, logged=True)
        code = (error.name or "error").lower().replace(" ", "_")
        response = error_response(error.code or 500, code, _http_words(error), detail=technical(error))
        if error.code == 405 and getattr(error, "valid_methods", None):  # RFC 9110: say what the address takes
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if _propagate():
            raise error
        return unexpected(error)
