"""Who may do what: sign-in, roles on every route, CSRF, the sign-in rate limit.

Every endpoint is closed by default. A page opens itself to a role with
`@requires(Role.X)`; an endpoint without a declared role answers 403 to
everybody, so a forgotten decorator fails closed. Public endpoints (login,
static files) are listed here; the webhook and the API authenticate
themselves (signature, bearer token) and are listed as machine endpoints.

The sign-in limit (app.sign_in_limit says what it counts) is Flask-Limiter's, with its counters
where every web worker sees them: in Redis when REDIS_URL is set, otherwise in the app's database
(app.limiter_storage). Never in each process's memory: gunicorn's workers would each count alone.
"""
from __future__ import annotations

import hmac
from functools import wraps

from flask import Flask, abort, current_app, jsonify, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import bindparam
from sqlmodel import select

from app import db, limiter_storage
from app.models import User

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
DATABASE_STORAGE = limiter_storage.DatabaseStorage.STORAGE_SCHEME[0] + "://"

PUBLIC_ENDPOINTS = {"static", "auth.login", "pwa.service_worker", "pwa.manifest"}
# Blueprints that check their own credentials (bearer token, webhook signature).
MACHINE_BLUEPRINTS = {"api", "webhooks"}


def requires(role: str):
    """Open a view to signed-in users with at least this role."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)

        wrapper.required_role = role
        return wrapper

    return decorate


def machine_endpoint(endpoint: str | None) -> bool:
    return bool(endpoint) and endpoint.split(".", 1)[0] in MACHINE_BLUEPRINTS


def people_only_sessions(app: Flask) -> None:
    """Cookie sessions for people's pages only (call once the blueprints are registered)."""
    sessions = _PeopleOnlySessions()
    sessions.machine_paths = tuple(app.blueprints[name].url_prefix.rstrip("/") + "/" for name in MACHINE_BLUEPRINTS)
    app.session_interface = sessions


class _PeopleOnlySessions(SecureCookieSessionInterface):
    """The signed session cookie, for people's pages only: a request to the API or the webhook
    gets Flask's null session (nothing read, nothing written, and any write is an error), so a
    machine never signs in by cookie and its requests skip the cookie work. The session is
    opened before the URL is matched, hence the path prefixes (the blueprints' url_prefix)."""

    machine_paths: tuple[str, ...] = ()

    def open_session(self, app, request):
        if request.path.startswith(self.machine_paths):
            return None
        return super().open_session(app, request)


def _guard():
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS or machine_endpoint(endpoint):
        return None
    if not current_user.is_authenticated:
        if request.headers.get("HX-Request"):
            # htmx cannot follow a redirect into a full page: ask it to load the login page.
            response = jsonify(error={"code": "unauthenticated", "message": "sign in first"})
            response.status_code = 401
            response.headers["HX-Redirect"] = url_for("auth.login")
            return response
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    view = current_app.view_functions.get(endpoint)
    role = getattr(view, "required_role", None)
    if role is None or not current_user.has_role(role):
        abort(403)
    return None


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """Every signed-in request asks this first: a statement built once (`session.get` builds its
    query each time, which cost a scan a tenth of its CPU). The session names the user and the
    mark of the password it signed in with (User.get_id): a deactivated user, or a session from
    before a password reset, is signed out."""
    user_id, _, mark = (session_id or "").partition(".")
    if not user_id.isdigit() or not mark:
        return None  # a session from before sessions carried the mark: sign in again
    with db.reading() as session:
        user = session.exec(_USER_BY_ID, params={"id": int(user_id)}).first()
        if user is None or not user.active or not hmac.compare_digest(mark, user.password_mark()):
            return None
        return user


_USER_BY_ID = select(User).where(User.id == bindparam("id"))


def init_app(app: Flask) -> None:
    app.before_request(_guard)  # before CSRF, so an anonymous request is sent to sign in
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or DATABASE_STORAGE)
    # The refusal sets its own Retry-After, from the same reading as the words it shows
    # (app/web/auth.py); the X-RateLimit-* headers would cost two more reads of the counter.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
    # Limits are declared on routes only (the sign-in form's), and a decorated route checks its
    # own limit when it is called: the app-wide hook would only make every other request (the
    # webhook's too) pay Flask-Limiter's per-request work, about 0.2 ms.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
