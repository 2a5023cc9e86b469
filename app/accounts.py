"""Users, passwords and API tokens."""
from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import bounds
from app.bounds import shown
from app.errors import Conflict, ValidationFailed
from app.models import ApiToken, Role, User
from app.timeutil import utcnow

MIN_PASSWORD = 8
# Checked against when the user does not exist, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def create_user(session: Session, *, username: str, password: str, role: str = Role.PICKER) -> User:
    username = bounds.code(username, "username", max_length=bounds.USERNAME_MAX, label="user name").lower()
    if role not in set(Role):
        raise ValidationFailed(f"role must be one of {', '.join(Role)}", field="role")
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    if len(password) > bounds.PASSWORD_MAX:
        raise ValidationFailed(f"a password has at most {bounds.PASSWORD_MAX} characters", field="password")
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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, name: str) -> str:
    """Make an API token and return it; only its digest is stored."""
    name = bounds.text(name, "name", max_length=bounds.TOKEN_NAME_MAX, label="token name")
    token = "wms_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=_digest(token)))
    session.flush()
    return token


def token_owner(session: Session, token: str) -> ApiToken | None:
    if not token:
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.active)).first()
    return row


def touch_token(session: Session, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = utcnow()
