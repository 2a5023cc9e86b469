"""The sign-in limit: what it counts, and how a refusal says when to try again.

Attempts are counted per client address AND the name tried (LOGIN_RATE_LIMIT, default 10 per
minute), so one person's typos never lock out a colleague signing in from the same address (a
warehouse behind one router, or everyone behind the proxy). An attempt is counted before the
password is checked, in one atomic increment shared by every worker (app.security picks the
storage), so however many requests arrive at once no more than the limit's worth of passwords
are ever checked. A successful sign-in then forgets the count for its address and name: the
person has just shown they know the password, so earlier typos stop counting against them and
a name shared by several scanners is never locked out by its own sign-ins. While the limit is
reached every attempt for that name from that address is refused, the right password too:
otherwise the limit would not limit guessing.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.bounds import USERNAME_MAX

ADDRESS_MAX = 64  # an IPv6 address with a zone fits easily; anything longer is not an address


def attempt_key() -> str:
    """The client's address and the name tried, as the limit counts them. The address is the
    one werkzeug's ProxyFix leaves after TRUSTED_PROXIES proxies. The name is normalised as
    `accounts.authenticate` looks it up; a name longer than any user's is cut (it cannot sign
    in, so cutting only makes such attempts share a count)."""
    address = (get_remote_address() or "unknown")[:ADDRESS_MAX]
    name = (request.form.get("username") or "").strip().lower()[: USERNAME_MAX + 1]
    return f"{address}|{name}"


def forgive(limiter: Limiter) -> None:
    """Forget this request's count (after a successful sign-in)."""
    current = limiter.current_limit
    if current is not None:
        limiter.limiter.clear(current.limit, *current.request_args)


@dataclass(frozen=True)
class Refusal:
    """When a refused client may try again."""

    seconds: int  # from now; also the Retry-After header
    at: datetime  # UTC

    @classmethod
    def of(cls, limiter: Limiter, now: float | None = None) -> Refusal:
        """The refusal for the limit this request broke."""
        now = time.time() if now is None else now
        current = limiter.current_limit
        reset = current.window.reset_time if current is not None else now + 1
        return cls.until(reset, now)

    @classmethod
    def until(cls, reset: float, now: float) -> Refusal:
        seconds = max(1, math.ceil(reset - now))
        return cls(seconds=seconds, at=datetime.fromtimestamp(now + seconds, UTC))

    @property
    def message(self) -> str:
        return (
            "Too many sign-in attempts for this name from this address. "
            f"Try again in {duration_in_words(self.seconds)}, at {self.at:%H:%M:%S} UTC."
        )


def duration_in_words(seconds: int) -> str:
    """42 -> "42 seconds", 90 -> "1 minute and 30 seconds", 3720 -> "1 hour and 2 minutes"."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        if rest:  # round the rest up to whole minutes
            minutes = math.ceil(rest / 60)
            if minutes == 60:
                hours, minutes = hours + 1, 0
        parts = [(hours, "hour"), (minutes, "minute")]
    else:
        parts = [(minutes, "minute"), (seconds, "second")]
    words = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return " and ".join(words) or "0 seconds"
