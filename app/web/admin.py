"""Settings a manager keeps: the Starshipit keys, the webhook secret, the rate limit."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, render_template, request, url_for
from sqlmodel import Session
from werkzeug.routing import BuildError

from app import db, settings_store
from app.errors import ValidationFailed
from app.models import Role
from app.security import requires

bp = Blueprint("admin", __name__, url_prefix="/admin")

RATE_LIMITS = ("2", "20")  # Starshipit's developer and production tiers, requests per second
FIELDS = {
    "STARSHIPIT_API_URL": "Starshipit API URL",
    "STARSHIPIT_API_KEY": "API key (StarShipIT-Api-Key)",
    "STARSHIPIT_SUBSCRIPTION_KEY": "Subscription key (Ocp-Apim-Subscription-Key)",
    "STARSHIPIT_WEBHOOK_SECRET": "Webhook secret",
    "STARSHIPIT_RATE_LIMIT": "Rate limit (requests per second)",
}


def save_starshipit_settings(session: Session, form) -> list[str]:
    """Check the whole form, then save it; a blank secret keeps the saved one. Returns the
    keys that changed."""
    url = (form.get("STARSHIPIT_API_URL") or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed("the API URL must start with https:// (or http://) and name a host", field="STARSHIPIT_API_URL")
    rate = (form.get("STARSHIPIT_RATE_LIMIT") or "").strip()
    if rate.endswith(".0"):
        rate = rate[:-2]
    if rate not in RATE_LIMITS:
        raise ValidationFailed("the rate limit is 2 (developer) or 20 (production) requests per second", field="STARSHIPIT_RATE_LIMIT")
    values = {"STARSHIPIT_API_URL": url, "STARSHIPIT_RATE_LIMIT": rate}
    for key in sorted(settings_store.SECRET_KEYS):
        secret = (form.get(key) or "").strip()
        if len(secret) > 2000:
            raise ValidationFailed(f"{FIELDS[key]} is too long", field=key)
        if secret:
            values[key] = secret
    changed = []
    for key, value in values.items():
        if settings_store.effective(session, key) != value:
            settings_store.save(session, key, value)
            changed.append(key)
    return changed


def _shown(session: Session) -> dict:
    """What the form shows: plain settings in full, secrets masked."""
    shown = {}
    for key in FIELDS:
        value = settings_store.effective(session, key)
        if key in settings_store.SECRET_KEYS:
            shown[key] = settings_store.masked(value)
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


def _render(template: str, message: str | None = None):
    with db.reading() as session:
        shown = _shown(session)
    return render_template(
        template, fields=FIELDS, shown=shown, secrets=settings_store.SECRET_KEYS,
        rate_limits=RATE_LIMITS, webhook_url=_webhook_url(), message=message,
    )


@bp.route("/settings", methods=["GET", "POST"])
@requires(Role.MANAGER)
def settings():
    if request.method == "GET":
        return _render("admin/settings.html")
    changed = db.atomic(save_starshipit_settings, request.form)
    message = "Saved." if changed else "Nothing changed."
    return _render("admin/_settings_form.html" if request.htmx else "admin/settings.html", message)


@bp.route("/settings/test", methods=["POST"])
@requires(Role.MANAGER)
def test_connection():
    """Ask Starshipit for one unshipped order with the saved keys, and say what happened."""
    from app.starshipit.client import client_from_settings

    try:
        with db.reading() as session:
            client = client_from_settings(session, timeout=5.0, max_retries=1, max_throttled=1, max_retry_after=2.0)
        with client:
            page = client.unshipped_orders(limit=1)
    except Exception as error:  # noqa: BLE001  (any failure is the answer the manager asked for)
        message, kind = f"Could not reach Starshipit: {error}", "error"
    else:
        waiting = "unshipped orders are waiting" if page.orders else "no unshipped orders right now"
        message, kind = f"Connected to Starshipit: {waiting}.", "ok"
    return render_template("partials/flash.html", kind=kind, message=message)
