"""Users and API tokens, kept by an admin: find a user, create one, set their role, reset their
password (typed, or made by the app and shown once), deactivate and reactivate them; make an API
token (shown once), revoke one, see when each was last used. The rules are app.accounts'; these
routes call one use case each and show its refusals in words."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from app import accounts, bounds, db
from app.errors import WmsError
from app.models import Role
from app.security import requires
from app.web.products import page_number

bp = Blueprint("users", __name__, url_prefix="/users")

PAGE_SIZE = 50
ROLES = [str(role) for role in Role]
# What each role may do, for the role picker.
ROLE_HINTS = {
    Role.PICKER: "the scan pages: move, receive, put away, count, pick, pack",
    Role.MANAGER: "what a picker does, and adjusts stock, purchase orders, stocktakes, outbound",
    Role.ADMIN: "what a manager does, and users, API tokens, reason codes",
}
NOT_KEPT = {"Cache-Control": "no-store"}  # a page showing a password or token once is never cached


def _shown_once(html: str, status: int = 200):
    response = make_response(html, status)
    response.headers.update(NOT_KEPT)
    return response


# ---- the list ---------------------------------------------------------------------------------


@bp.get("/")
@requires(Role.ADMIN)
def index():
    query = request.args.get("q", "")
    query = query.strip() if isinstance(query, str) else ""
    page = page_number()
    error = None
    try:
        with db.reading() as session:
            users = accounts.list_users(session, query, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    except WmsError as refused:
        users, error = [], refused
    context = dict(users=users[:PAGE_SIZE], query=query[: bounds.SEARCH_MAX], page=page,
                   has_next=len(users) > PAGE_SIZE, error=error, me=current_user.id)
    template = "users/_results.html" if request.htmx else "users/index.html"
    return render_template(template, **context), error.status if error else 200


# ---- create -----------------------------------------------------------------------------------


def _new_page(typed: dict, error: WmsError | None = None, status: int = 200):
    return render_template("users/new.html", typed=typed, error=error, roles=ROLES, role_hints=ROLE_HINTS), status


@bp.get("/new")
@requires(Role.ADMIN)
def new():
    return _new_page({"username": "", "role": Role.PICKER})


@bp.post("/new")
@requires(Role.ADMIN)
def create():
    typed = {"username": request.form.get("username", ""), "role": request.form.get("role", "")}
    try:
        user = db.atomic(accounts.create_user, username=typed["username"], role=typed["role"],
                         password=request.form.get("password", ""))
    except WmsError as error:
        return _new_page(typed, error, error.status)
    flash(f"{user.username} can sign in now, as a {user.role}, with the password you typed.", "ok")
    return redirect(url_for("users.user", user_id=user.id))


# ---- one user ---------------------------------------------------------------------------------


def _user_page(user_id, *, error: WmsError | None = None, made: str | None = None, status: int = 200):
    """The user's page; `made`: a password the app just made, shown this once."""
    with db.reading() as session:
        user = accounts.get_user(session, user_id)
    html = render_template("users/user.html", user=user, error=error, made=made, roles=ROLES, role_hints=ROLE_HINTS,
                           me=current_user.id)
    return _shown_once(html, status) if made else (html, status)


@bp.get("/<user_id>")
@requires(Role.ADMIN)
def user(user_id: str):
    return _user_page(user_id)


def _change(user_id: str, action, done):
    """One change to the user; back to their page with `done(user)` said, or their page with the refusal."""
    try:
        changed = db.atomic(action)
    except WmsError as error:
        if error.field == "id":
            raise  # no such user: the error page says so
        return _user_page(user_id, error=error, status=error.status)
    _keep_signed_in(changed)
    flash(done(changed), "ok")
    return redirect(url_for("users.user", user_id=changed.id))


def _keep_signed_in(user) -> None:
    """An admin who changed their own password goes on signed in here (a new password ends every
    session signed in with the old one: app.security._load_user); their other sessions end."""
    if user.id == current_user.id:
        login_user(user)


@bp.post("/<user_id>/role")
@requires(Role.ADMIN)
def set_role(user_id: str):
    role = request.form.get("role", "")
    return _change(user_id, lambda session: accounts.set_role(session, user_id, role, actor_id=current_user.id),
                   lambda user: f"{user.username} is a {user.role} now; it counts from their next page.")


@bp.post("/<user_id>/password")
@requires(Role.ADMIN)
def set_password(user_id: str):
    password = request.form.get("password", "")
    return _change(user_id, lambda session: accounts.reset_password(session, user_id, password).user,
                   lambda user: f"{user.username}'s password is the one you typed now: tell them, and only them.")


@bp.post("/<user_id>/password/make")
@requires(Role.ADMIN)
def make_password(user_id: str):
    """A password the app makes, shown on the answer this once (never put in the session's cookie)."""
    reset = db.atomic(accounts.reset_password, user_id)
    _keep_signed_in(reset.user)
    return _user_page(reset.user.id, made=reset.made)


@bp.post("/<user_id>/deactivate")
@requires(Role.ADMIN)
def deactivate(user_id: str):
    return _change(user_id, lambda session: accounts.set_active(session, user_id, False, actor_id=current_user.id),
                   lambda user: f"{user.username} is deactivated: signed out at their next page, and cannot sign in.")


@bp.post("/<user_id>/reactivate")
@requires(Role.ADMIN)
def reactivate(user_id: str):
    return _change(user_id, lambda session: accounts.set_active(session, user_id, True, actor_id=current_user.id),
                   lambda user: f"{user.username} is active again and can sign in.")


# ---- API tokens -------------------------------------------------------------------------------


def _tokens_page(*, error: WmsError | None = None, issued: accounts.IssuedToken | None = None, name: str = "",
                 status: int = 200):
    with db.reading() as session:
        tokens = accounts.list_tokens(session)
    html = render_template("users/tokens.html", tokens=tokens, error=error, issued=issued, name=name)
    return _shown_once(html, status) if issued else (html, status)


@bp.get("/tokens")
@requires(Role.ADMIN)
def tokens():
    return _tokens_page()


@bp.post("/tokens")
@requires(Role.ADMIN)
def create_token():
    """The token is on this answer only: it is not kept anywhere it could be read again."""
    name = request.form.get("name", "")
    try:
        issued = db.atomic(accounts.issue_token, name)
    except WmsError as error:
        return _tokens_page(error=error, name=name, status=error.status)
    return _tokens_page(issued=issued, status=201)


@bp.post("/tokens/<token_id>/revoke")
@requires(Role.ADMIN)
def revoke_token(token_id: str):
    try:
        row = db.atomic(accounts.revoke_token, token_id)
    except WmsError as error:
        return _tokens_page(error=error, status=error.status)
    flash(f"The token {row.name} is revoked: the API refuses it from now on.", "ok")
    return redirect(url_for("users.tokens"))
