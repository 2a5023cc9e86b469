"""Settings a manager can change in the app, falling back to the environment.

The Starshipit keys and webhook secret live here: the settings page writes
them, the API client and the webhook read them through `effective()`.
"""
from __future__ import annotations

from flask import current_app
from sqlmodel import Session, select

from app.models import Setting
from app.timeutil import utcnow

STARSHIPIT_KEYS = (
    "STARSHIPIT_API_URL",
    "STARSHIPIT_API_KEY",
    "STARSHIPIT_SUBSCRIPTION_KEY",
    "STARSHIPIT_WEBHOOK_SECRET",
    "STARSHIPIT_RATE_LIMIT",
)
SECRET_KEYS = frozenset({"STARSHIPIT_API_KEY", "STARSHIPIT_SUBSCRIPTION_KEY", "STARSHIPIT_WEBHOOK_SECRET"})


def effective(session: Session, key: str) -> str:
    """The value saved in the app if any, otherwise the environment's."""
    row = session.get(Setting, key)
    if row is not None and row.value != "":
        return row.value
    value = current_app.config.get(key, "")
    return "" if value is None else str(value)


def save(session: Session, key: str, value: str) -> None:
    if key not in STARSHIPIT_KEYS:
        raise KeyError(key)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=utcnow()))
    else:
        row.value, row.updated_at = value, utcnow()
    session.flush()


def masked(value: str) -> str:
    """A secret as shown back to a person: never in full."""
    if not value:
        return ""
    return "•" * 8 + value[-4:] if len(value) > 8 else "•" * len(value)
