"""People who sign in, and tokens for machines that call the API."""
from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class Role(StrEnum):
    PICKER = "picker"
    MANAGER = "manager"
    ADMIN = "admin"


ROLE_RANK = {Role.PICKER: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class User(UserMixin, SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(f"length(username) BETWEEN 1 AND {bounds.USERNAME_MAX}", name="ck_app_user_username_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=bounds.USERNAME_MAX)
    password_hash: str = Field(max_length=256)
    role: str = Field(default=Role.PICKER, max_length=16)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    def get_id(self) -> str:  # flask-login: what a signed-in session keeps of its user
        """"<id>.<password mark>": a new password changes the mark, so every session signed in
        with the old one ends at its next request (app.security._load_user)."""
        return f"{self.id}.{self.password_mark()}"

    def password_mark(self) -> str:
        """A short one-way mark of the password hash (the session cookie can be read, if not
        forged): it tells whether the password changed, and nothing about the password."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint(f"length(name) BETWEEN 1 AND {bounds.TOKEN_NAME_MAX}", name="ck_api_token_name_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=bounds.TOKEN_NAME_MAX)
    token_hash: str = Field(unique=True, max_length=64)  # sha256 hex of the token
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


class Setting(SQLModel, table=True):
    """Key/value settings a manager changes in the app (Starshipit keys and the like)."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=2000)
    updated_at: datetime = Field(default_factory=utcnow)
