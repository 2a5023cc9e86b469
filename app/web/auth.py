"""Signing in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user

from app import db
from app.accounts import authenticate
from app.errors_web import wants_json
from app.models import Role
from app.security import limiter, requires
from app.sign_in_limit import Refusal, attempt_key, forgive

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=attempt_key, methods=["POST"])
def login():
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(url_for("home.index"))
    error = None
    if request.method == "POST":
        with db.reading() as session:
            user = authenticate(session, request.form.get("username", ""), request.form.get("password", ""))
        if user is not None:
            forgive(limiter)
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")))
        error = "That name and password do not match."
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, username=request.form.get("username", "")), status


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(_error: RateLimitExceeded):
    """429 with Retry-After, saying in words when to try again: JSON for machines, the flash
    for htmx, the sign-in form again for a person (a colleague can still use it)."""
    refusal = Refusal.of(limiter)
    headers = {"Retry-After": str(refusal.seconds)}
    if wants_json():
        body = {"error": {"code": "too_many_sign_in_attempts", "message": refusal.message,
                          "retry_after": refusal.seconds}}
        return jsonify(body), 429, headers
    if request.headers.get("HX-Request"):
        html = render_template("partials/flash.html", kind="error", message=refusal.message)
        return html, 429, {**headers, "HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    page = render_template("auth/login.html", error=refusal.message, refusal=refusal,
                           username=request.form.get("username", ""))
    return page, 429, headers


@bp.route("/logout", methods=["POST"])
@requires(Role.PICKER)
def logout():
    logout_user()
    return redirect(url_for("auth.login"))
