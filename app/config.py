"""Configuration read from the environment, one place for every setting."""
from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _default_database_url() -> str:
    INSTANCE_DIR.mkdir(exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'wms.sqlite3'}"


def from_environment() -> dict:
    """Every setting the app reads, with its default."""
    env = os.environ.get
    return {
        "DATABASE_URL": env("DATABASE_URL") or _default_database_url(),
        "REDIS_URL": env("REDIS_URL") or None,
        "RQ_QUEUE": env("RQ_QUEUE", "wms"),
        "SECRET_KEY": env("SECRET_KEY") or _dev_secret_key(),
        "STARSHIPIT_API_URL": env("STARSHIPIT_API_URL", "https://api.starshipit.com"),
        "STARSHIPIT_API_KEY": env("STARSHIPIT_API_KEY", ""),
        "STARSHIPIT_SUBSCRIPTION_KEY": env("STARSHIPIT_SUBSCRIPTION_KEY", ""),
        "STARSHIPIT_WEBHOOK_SECRET": env("STARSHIPIT_WEBHOOK_SECRET", ""),
        "STARSHIPIT_RATE_LIMIT": float(env("STARSHIPIT_RATE_LIMIT", "2")),
        "STARSHIPIT_POLL_SECONDS": float(env("STARSHIPIT_POLL_SECONDS", "60")),
        "INBOX_STALE_SECONDS": float(env("INBOX_STALE_SECONDS", "60")),
        "ALLOCATE_PARTIALLY": env("ALLOCATE_PARTIALLY", ""),  # app.outbound.allocation (a Setting row wins)
        "ALLOCATION_AWAITING_REFRESH_SECONDS": float(env("ALLOCATION_AWAITING_REFRESH_SECONDS", "1")),
        # app.outbound.labels (blank: its defaults, 120 / 3 / 1)
        "LABEL_LEASE_SECONDS": env("LABEL_LEASE_SECONDS", ""),
        "LABEL_ROUNDS": env("LABEL_ROUNDS", ""),
        "LABEL_BACKOFF_SECONDS": env("LABEL_BACKOFF_SECONDS", ""),
        "LOGIN_RATE_LIMIT": env("LOGIN_RATE_LIMIT", "10 per minute"),
        "TRUSTED_PROXIES": _proxy_count(env("TRUSTED_PROXIES", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "SCAN_DELAY_MS": int(env("WMS_SCAN_DELAY_MS", "0") or 0),  # app.web.slow: tests only, every POST waits
    }


def _proxy_count(value: str) -> int:
    """TRUSTED_PROXIES: how many proxies in front of the app set X-Forwarded-* headers."""
    try:
        count = int(value.strip())
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(f"TRUSTED_PROXIES must be a whole number of proxies, 0 or more, not {value!r}")
    return count


def _dev_secret_key() -> str:
    """A per-instance random key kept under instance/ so sessions survive restarts."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
    return path.read_text().strip()
