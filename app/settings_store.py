"""Settings a manager can change in the app, falling back to the environment.

The Starshipit keys and webhook secret live here: the settings page writes
them, the API client and the webhook read them through `effective()`.

The webhook reads its secret through `cached_effective()` on every request: the value is kept
in this process for CACHE_SECONDS. Saving a setting here clears this process's cache (at once
and again when the transaction commits); other processes (the other gunicorn workers) see the
new value within CACHE_SECONDS, so for up to that long after a secret changes a webhook signed
with the old secret may still be accepted by another process, or one signed with the new secret
refused (Starshipit retries it).

The settings page checks the Starshipit settings here before anything is saved
(`starshipit_from_form`): the API URL is http(s) with a valid host, the keys can be sent as HTTP
headers, the rate limit is one of Starshipit's tiers. `save_starshipit` writes what changed.
"""
from __future__ import annotations

import ipaddress
import re
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from flask import current_app
from sqlalchemy import event
from sqlmodel import Session

from app.bounds import bad_character, shown
from app.errors import ValidationFailed
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
HEADER_KEYS = frozenset({"STARSHIPIT_API_KEY", "STARSHIPIT_SUBSCRIPTION_KEY"})  # sent as HTTP headers
NAMES = {  # each setting as a message names it
    "STARSHIPIT_API_URL": "the API URL",
    "STARSHIPIT_API_KEY": "the API key",
    "STARSHIPIT_SUBSCRIPTION_KEY": "the subscription key",
    "STARSHIPIT_WEBHOOK_SECRET": "the webhook secret",
    "STARSHIPIT_RATE_LIMIT": "the rate limit",
}
RATE_LIMITS = ("2", "20")  # Starshipit's developer and production tiers, requests per second
VALUE_MAX = Setting.__table__.c.value.type.length  # characters one setting may hold
EXAMPLE_URL = "https://api.starshipit.com"
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_HEADER_TEXT = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces
CACHE_SECONDS = 2.0
_CACHE_LOCK = threading.Lock()


def effective(session: Session, key: str) -> str:
    """The value saved in the app if any, otherwise the environment's."""
    row = session.get(Setting, key)
    if row is not None and row.value != "":
        return row.value
    value = current_app.config.get(key, "")
    return "" if value is None else str(value)


def cached_effective(key: str, read_session) -> str:
    """`effective(key)`, read at most once every CACHE_SECONDS by this process (per app).
    `read_session` is a context manager giving a session (app.db.reading)."""
    cache = _cache()
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[1] > now:
        return hit[0]
    with read_session() as session:
        value = effective(session, key)
    with _CACHE_LOCK:
        cache[key] = (value, now + CACHE_SECONDS)
    return value


def clear_cache() -> None:
    with _CACHE_LOCK:
        _cache().clear()


def _cache() -> dict:
    return current_app.extensions.setdefault("wms.settings_cache", {})


def save(session: Session, key: str, value: str) -> None:
    if key not in STARSHIPIT_KEYS:
        raise KeyError(key)
    clear_cache()
    cache = _cache()
    event.listen(session, "after_commit", lambda _session: _clear(cache), once=True)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=utcnow()))
    else:
        row.value, row.updated_at = value, utcnow()
    session.flush()


class SettingsRefused(ValidationFailed):
    """Some fields of the settings form are wrong: `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)
        self.errors = errors


def starshipit_from_form(session: Session, form) -> dict[str, str]:
    """The Starshipit settings a form asks for, checked: every key with the value it would have once
    saved (a blank secret keeps the saved one). Raises SettingsRefused naming every wrong field."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    checks = {"STARSHIPIT_API_URL": api_url, "STARSHIPIT_RATE_LIMIT": rate_limit}
    for key in STARSHIPIT_KEYS:
        try:
            if key in SECRET_KEYS:
                values[key] = secret(form.get(key), key) or effective(session, key)
            else:
                values[key] = checks[key](form.get(key))
        except ValidationFailed as refusal:
            errors[key] = refusal.message
    if errors:
        raise SettingsRefused(errors)
    return values


def saved_starshipit(session: Session) -> dict[str, str]:
    """The Starshipit settings in force now (saved in the app, else the environment's)."""
    return {key: effective(session, key) for key in STARSHIPIT_KEYS}


def save_starshipit(session: Session, values: dict[str, str]) -> list[str]:
    """Save the checked settings; returns the keys whose value changed."""
    changed = []
    for key in STARSHIPIT_KEYS:
        if key in values and effective(session, key) != values[key]:
            save(session, key, values[key])
            changed.append(key)
    return changed


def api_url(value) -> str:
    """Starshipit's base URL: http or https, a valid host (a name of letters, digits, hyphens and
    dots, or an IP address), an optional port from 1 to 65535, an optional path; no spaces, user
    name or password, query or fragment. Handed back without a trailing slash."""
    field = "STARSHIPIT_API_URL"
    typed = "" if value is None else str(value).strip()
    if not typed:
        raise ValidationFailed(f"Type the Starshipit API URL, for example {EXAMPLE_URL}", field=field)
    if len(typed) > VALUE_MAX:
        raise ValidationFailed(f"The API URL is {len(typed):,} characters long; at most {VALUE_MAX:,} are allowed",
                               field=field)
    if bad_character(typed) is not None or any(c.isspace() for c in typed):
        raise ValidationFailed("The API URL cannot contain spaces or control characters", field=field)
    scheme, separator, _rest = typed.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        raise ValidationFailed(f"{shown(typed)!r} is not a web address: it must start with https:// (or http://), "
                               f"for example {EXAMPLE_URL}", field=field)
    try:
        parts = urlsplit(typed)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is not None and "@" in parts.netloc:
        raise ValidationFailed("The API URL cannot hold a user name or password (the part before @): "
                               "the keys have their own fields", field=field)
    if "?" in typed or "#" in typed:
        raise ValidationFailed(f"The API URL cannot have a ?query or #fragment: give only the address, "
                               f"for example {EXAMPLE_URL}", field=field)
    if parts is None or not _valid_host(host):
        named = host or (parts.netloc if parts is not None else typed.partition("://")[2])
        raise ValidationFailed(f"{shown(named or 'nothing')!r} is not a valid host: use a name of letters, digits, "
                               f"hyphens and dots (as in api.starshipit.com) or an IP address", field=field)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":"):
        raise ValidationFailed("The port after the host must be a number from 1 to 65535 (or leave it out)",
                               field=field)
    return urlunsplit((scheme.lower(), parts.netloc, parts.path.rstrip("/"), "", ""))


def _valid_host(host: str | None) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    return (len(name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)
            and not labels[-1].isdigit())  # 1.2.3 or 300.1.1.1 is no name, and no IP address either


def rate_limit(value) -> str:
    """Requests per second: Starshipit's developer (2) or production (20) tier."""
    typed = "" if value is None else str(value).strip()
    if typed.endswith(".0"):
        typed = typed[:-2]
    if typed not in RATE_LIMITS:
        raise ValidationFailed("Choose the rate limit of your Starshipit plan: 2 (developer) or 20 (production) "
                               "requests per second", field="STARSHIPIT_RATE_LIMIT")
    return typed


def secret(value, key: str) -> str | None:
    """A key or secret as typed, checked; None when left blank (keep the saved one)."""
    typed = "" if value is None else str(value).strip()
    if not typed:
        return None
    name = NAMES[key]
    if len(typed) > VALUE_MAX:
        raise ValidationFailed(f"{name.capitalize()} is {len(typed):,} characters long; at most {VALUE_MAX:,} "
                               "are allowed", field=key)
    if key in HEADER_KEYS and not _HEADER_TEXT.fullmatch(typed):
        raise ValidationFailed(f"{name.capitalize()} can only hold letters, digits and punctuation, without spaces: "
                               "copy it from Starshipit again", field=key)
    if bad_character(typed) is not None:
        raise ValidationFailed(f"{name.capitalize()} contains a control character: copy it again", field=key)
    return typed


def _clear(cache: dict) -> None:
    with _CACHE_LOCK:
        cache.clear()


def masked(value: str) -> str:
    """A secret as shown back to a person: never in full."""
    if not value:
        return ""
    return "•" * 8 + value[-4:] if len(value) > 8 else "•" * len(value)
