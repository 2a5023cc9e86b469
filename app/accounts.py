"""Users, passwords and API tokens: the use cases the admin pages (app/web/users.py) and the `wms`
command (app/cli.py) both call.

An admin creates users, sets their role, resets their password (typed, or made here and shown
once), deactivates and reactivates them; a deactivated user is signed out at their next request
(app.security's user loader refuses an inactive user) and cannot sign in. Nobody deactivates or
demotes themselves, and the last active admin is never deactivated or demoted (`admin_change_refusal`,
a plain rule over plain facts). An API token is shown once, when it is made: only its sha256 is kept.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import bounds
from app.bounds import shown
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import ApiToken, Role, User
from app.timeutil import utcnow

MIN_PASSWORD = 8
MAX_USER_LIST = 200  # users one page of the list shows (a warehouse has tens)
MAX_TOKEN_LIST = 500  # tokens the tokens page shows, active first
# A password the app makes: 3 groups of 4 from letters and digits nobody mixes up when it is read out
# (no 0/o, 1/l/i): 31**12, about 59 bits.
_PASSWORD_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"
# Checked against when the user does not exist, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


# ---- rules over plain values (tests/test_users_rules.py) ---------------------------------------


def check_password(password) -> str:
    """A new password as kept (never stripped: spaces are the person's), or the refusal in words."""
    if not isinstance(password, str):
        raise ValidationFailed("a password must be text", field="password")
    if len(password) > bounds.PASSWORD_MAX:
        raise ValidationFailed(f"a password has at most {bounds.PASSWORD_MAX} characters; that one has "
                               f"{len(password):,}", field="password")
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    if bounds.bad_character(password) is not None:
        raise ValidationFailed("a password cannot contain a control character; type it again", field="password")
    if not password.strip():
        raise ValidationFailed("a password cannot be only spaces", field="password")
    return password


def check_role(role) -> Role:
    if not isinstance(role, str) or role.strip().lower() not in set(Role):
        raise ValidationFailed(f"role must be one of {', '.join(Role)}", field="role")
    return Role(role.strip().lower())


def check_username(username) -> str:
    return bounds.code(username, "username", max_length=bounds.USERNAME_MAX, label="user name").lower()


def make_password() -> str:
    """A password to read out or copy once: xxxx-xxxx-xxxx."""
    letters = [secrets.choice(_PASSWORD_LETTERS) for _ in range(12)]
    return "-".join("".join(letters[n:n + 4]) for n in (0, 4, 8))


def admin_change_refusal(*, username: str, by_self: bool, is_active_admin: bool, stays_active_admin: bool,
                         other_active_admins: int, change: str) -> str | None:
    """Why changing a user's role or status is refused, or None. `change` is "deactivate" or
    "demote" (a role below admin); `by_self`: the admin is changing their own account."""
    if stays_active_admin or not is_active_admin:
        return None  # an admin stays an admin, or the user was no active admin: no admin is lost
    if by_self:
        if change == "deactivate":
            return "you cannot deactivate yourself: another admin must do it"
        return "you cannot take away your own admin role: another admin must do it"
    if other_active_admins < 1:
        what = "cannot be deactivated" if change == "deactivate" else "must stay an admin"
        return f"{shown(username)} is the last active admin and {what}: make another user admin first"
    return None


# ---- users -----------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def create_user(session: Session, *, username: str, password: str, role: str = Role.PICKER) -> User:
    username = check_username(username)
    role = check_role(role)
    password = check_password(password)
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"user {shown(username)} already exists", field="username")
    user = User(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    name = (username or "").strip().lower() if isinstance(username, str) else ""
    usable = 0 < len(name) <= bounds.USERNAME_MAX and bounds.bad_character(name) is None
    user = session.exec(select(User).where(User.username == name)).first() if usable else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.active or not check_password_hash(user.password_hash, password or ""):
        return None
    return user


def list_users(session: Session, query: str = "", *, limit: int = MAX_USER_LIST, offset: int = 0) -> list[User]:
    """Users whose name holds `query` (any case), active first, then by name."""
    typed = bounds.scan(query, "q", label="search")[: bounds.SEARCH_MAX].lower()
    statement = select(User)
    if typed:
        pattern = "%" + typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(User.username.like(pattern, escape="\\"))
    statement = statement.order_by(User.active.desc(), User.username).offset(offset).limit(limit)
    return list(session.exec(statement))


def get_user(session: Session, user_id, *, lock: bool = False) -> User:
    number = bounds.row_id(user_id, "id", label="user")
    statement = select(User).where(User.id == number)
    if lock:
        statement = statement.with_for_update()
    user = session.exec(statement).first()
    if user is None:
        raise NotFound(f"there is no user {number}", field="id")
    return user


def find_user(session: Session, username) -> User:
    """The user a name names (the command line names users so)."""
    name = check_username(username)
    user = session.exec(select(User).where(User.username == name)).first()
    if user is None:
        raise NotFound(f"there is no user {shown(name)}", field="username")
    return user


def _locked_with_the_admins(session: Session, user_id) -> tuple[User, int]:
    """The user, locked together with every active admin in one statement, in id order (so two
    admins changing each other at once queue instead of deadlocking), and how many active admins
    there are besides the user."""
    number = bounds.row_id(user_id, "id", label="user")
    rows = session.exec(
        select(User).where(or_(User.id == number, and_(User.role == Role.ADMIN, User.active)))
        .order_by(User.id).with_for_update()
    ).all()
    user = next((row for row in rows if row.id == number), None)
    if user is None:
        raise NotFound(f"there is no user {number}", field="id")
    return user, sum(1 for row in rows if row.id != number and row.role == Role.ADMIN and row.active)


def _refuse_losing_an_admin(user: User, others: int, *, actor_id: int | None, role: str, active: bool,
                            change: str) -> None:
    refusal = admin_change_refusal(
        username=user.username, by_self=actor_id is not None and actor_id == user.id,
        is_active_admin=user.role == Role.ADMIN and user.active, stays_active_admin=role == Role.ADMIN and active,
        other_active_admins=others, change=change)
    if refusal:
        raise Conflict(refusal, field="role" if change == "demote" else "active")


def set_role(session: Session, user_id, role, *, actor_id: int | None = None) -> User:
    """Give a user another role. `actor_id`: the admin doing it (None from the command line)."""
    role = check_role(role)
    user, others = _locked_with_the_admins(session, user_id)
    if user.role == role:
        return user
    _refuse_losing_an_admin(user, others, actor_id=actor_id, role=role, active=user.active, change="demote")
    user.role = role
    session.flush()
    return user


def set_active(session: Session, user_id, active: bool, *, actor_id: int | None = None) -> User:
    """Deactivate a user (signed out at their next request, and cannot sign in) or reactivate one."""
    user, others = _locked_with_the_admins(session, user_id)
    if user.active == bool(active):
        raise Conflict(f"{shown(user.username)} is already {'active' if active else 'deactivated'}",
                       field="active")
    if not active:
        _refuse_losing_an_admin(user, others, actor_id=actor_id, role=user.role, active=False, change="deactivate")
    user.active = bool(active)
    session.flush()
    return user


@dataclass(frozen=True)
class PasswordReset:
    user: User
    made: str | None  # the password the app made, to be shown once; None when the admin typed one


def reset_password(session: Session, user_id, password: str | None = None) -> PasswordReset:
    """Give a user a new password: the one typed, or (password None) one made here, returned once."""
    made = make_password() if password is None else None
    password = check_password(made or password)
    user = get_user(session, user_id, lock=True)
    user.password_hash = hash_password(password)
    session.flush()
    return PasswordReset(user=user, made=made)


def active_admins(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)).one()


# ---- API tokens ------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    token: str  # shown once; only its digest is stored


def issue_token(session: Session, name) -> IssuedToken:
    """Make an API token; the token itself is in the answer only, its sha256 in the database."""
    name = bounds.text(name, "name", max_length=bounds.TOKEN_NAME_MAX, label="token name")
    token = "wms_" + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_hash=_digest(token))
    session.add(row)
    session.flush()
    return IssuedToken(id=row.id, name=row.name, token=token)


def create_token(session: Session, name: str) -> str:
    """Make an API token and return it; only its digest is stored."""
    return issue_token(session, name).token


def list_tokens(session: Session, *, limit: int = MAX_TOKEN_LIST) -> list[ApiToken]:
    """Active tokens first, newest first."""
    return list(session.exec(select(ApiToken).order_by(ApiToken.active.desc(), ApiToken.id.desc()).limit(limit)))


def revoke_token(session: Session, token_id) -> ApiToken:
    """Revoke a token: the API answers 401 to it from now on. Its row stays, to show when it was used."""
    number = bounds.row_id(token_id, "id", label="token")
    row = session.exec(select(ApiToken).where(ApiToken.id == number).with_for_update()).first()
    if row is None:
        raise NotFound(f"there is no API token {number}", field="id")
    if not row.active:
        raise Conflict(f"the token {shown(row.name)} is already revoked", field="id")
    row.active = False
    session.flush()
    return row


def token_owner(session: Session, token: str) -> ApiToken | None:
    if not token:
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.active)).first()
    return row


def touch_token(session: Session, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = utcnow()
