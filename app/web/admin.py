"""Settings a manager keeps: the Starshipit keys, the webhook secret, the rate limit.

"Save" checks every field, then asks Starshipit with the new values, and saves them only when
Starshipit answers: a wrong URL or key never goes live. What Starshipit answered is said in words;
the technical detail is folded away for an admin."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from sqlmodel import Session
from werkzeug.routing import BuildError

from app import db, settings_store
from app.errors_web import for_admin
from app.models import Role
from app.security import requires
from app.starshipit import connection

bp = Blueprint("admin", __name__, url_prefix="/admin")

FIELDS = {
    "STARSHIPIT_API_URL": "Starshipit API URL",
    "STARSHIPIT_API_KEY": "API key (StarShipIT-Api-Key)",
    "STARSHIPIT_SUBSCRIPTION_KEY": "Subscription key (Ocp-Apim-Subscription-Key)",
    "STARSHIPIT_WEBHOOK_SECRET": "Webhook secret",
    "STARSHIPIT_RATE_LIMIT": "Rate limit (requests per second)",
}


def _shown(session: Session, form=None) -> dict:
    """What the form shows: what was typed (secrets never), else the settings in force, secrets masked."""
    shown = {}
    for key in FIELDS:
        value = settings_store.effective(session, key)
        if key in settings_store.SECRET_KEYS:
            shown[key] = settings_store.masked(value)
        elif form is not None:
            shown[key] = (form.get(key) or "").strip()
        elif key == "STARSHIPIT_RATE_LIMIT":
            shown[key] = value[:-2] if value.endswith(".0") else value
        else:
            shown[key] = value
    return shown


def _webhook_url() -> str:
    try:
        return url_for("webhooks.starshipit", _external=True)
    except BuildError:
        return request.url_root.rstrip("/") + "/webhooks/starshipit"


def _render(template: str, *, form=None, errors: dict | None = None, result: dict | None = None,
            connection_result: dict | None = None):
    """The page or its form. `form`: what was posted (re-shown when nothing was saved); `result`:
    the flash above the form; `connection_result`: the Test connection answer."""
    with db.reading() as session:
        shown = _shown(session, form)
    retype = {key for key in settings_store.SECRET_KEYS if form is not None and (form.get(key) or "").strip()}
    return render_template(
        template, fields=FIELDS, shown=shown, secrets=settings_store.SECRET_KEYS,
        rate_limits=settings_store.RATE_LIMITS, webhook_url=_webhook_url(), errors=errors or {},
        retype=retype, result=result, connection_result=connection_result,
    )


def _said(answer: connection.Answer, prefix: str = "") -> dict:
    return {"kind": "ok" if answer.ok else "error", "message": prefix + answer.words,
            "flash_detail": for_admin(answer.detail)}


@bp.route("/settings", methods=["GET", "POST"])
@requires(Role.MANAGER)
def settings():
    if request.method == "GET":
        return _render("admin/settings.html")
    template = "admin/_settings_form.html" if request.htmx else "admin/settings.html"
    try:
        outcome = connection.save_if_it_answers(request.form)
    except settings_store.SettingsRefused as refused:
        result = {"kind": "error", "message": "Nothing was saved: correct the fields marked below.",
                  "flash_detail": None}
        return _render(template, form=request.form, errors=refused.errors, result=result), 400
    if not outcome.saved:
        return _render(template, form=request.form, result=_said(outcome.answer, "Nothing was saved. ")), 422
    done = "Saved. " if outcome.changed else "Nothing changed. "
    return _render(template, result=_said(outcome.answer, done))


@bp.route("/settings/test", methods=["POST"])
@requires(Role.MANAGER)
def test_connection():
    """Ask Starshipit for one unshipped order with the saved settings, and say what it answered."""
    said = _said(connection.check_saved())
    if request.htmx:
        return render_template("partials/flash.html", **said)
    return _render("admin/settings.html", connection_result=said)
