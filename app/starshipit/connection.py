"""Does an account answer like Starshipit? One listing of unshipped orders, told in words.

The settings page's "Test connection" asks with the saved settings (`check_saved`); its "Save"
asks with the new ones first and saves them only when Starshipit answers (`save_if_it_answers`),
so a wrong URL or key never goes live. Every answer is a sentence a manager can act on; what
exactly came back (status, Starshipit's own message, the connection error) is kept apart as
`detail`, for an admin.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from app import db, settings_store
from app.bounds import shown
from app.starshipit.client import StarshipitClient, StarshipitError

TIMEOUT_SECONDS = 5.0  # per attempt; a check makes at most two
DETAIL_MAX = 1000  # characters of technical detail kept for an admin
_NO_SUCCESS = [{"message": "success was not true"}]  # the client's words for a JSON answer without `success`


@dataclass(frozen=True)
class Answer:
    """What Starshipit answered: `ok` when it listed unshipped orders; `words` for anyone, `detail` for an admin."""

    ok: bool
    words: str
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    """What Save did: the answer it got, and which settings it saved (none unless the answer was ok)."""

    answer: Answer
    changed: list[str] = field(default_factory=list)

    @property
    def saved(self) -> bool:
        return self.answer.ok


def save_if_it_answers(form) -> Outcome:
    """Check the form, ask Starshipit with its values, and save them only if Starshipit answers.
    Raises settings_store.SettingsRefused (nothing asked, nothing saved) when a field is wrong."""
    with db.reading() as session:
        values = settings_store.starshipit_from_form(session, form)
    answer = check(values)  # outside any transaction: no lock is held while Starshipit thinks
    if not answer.ok:
        return Outcome(answer)
    return Outcome(answer, db.atomic(settings_store.save_starshipit, values))


def check_saved() -> Answer:
    with db.reading() as session:
        values = settings_store.saved_starshipit(session)
    return check(values)


def check(values: dict[str, str]) -> Answer:
    """Ask for one unshipped order with these settings (URL, keys, rate limit)."""
    url = values.get("STARSHIPIT_API_URL") or settings_store.EXAMPLE_URL
    host = shown(urlsplit(url).netloc or url, 60)
    try:
        rate = float(values.get("STARSHIPIT_RATE_LIMIT") or 2)
        client = StarshipitClient(
            url, values.get("STARSHIPIT_API_KEY", ""), values.get("STARSHIPIT_SUBSCRIPTION_KEY", ""),
            rate_limit=rate, timeout=TIMEOUT_SECONDS, max_retries=1, backoff=0.5, max_throttled=1,
            max_retry_after=2.0,
        )
        with client:
            page = client.unshipped_orders(limit=1)
    except StarshipitError as error:
        return _refused(error, host)
    except (httpx.InvalidURL, UnicodeError, ValueError) as error:  # saved values the form would refuse
        return Answer(False, "The saved API URL or keys cannot be sent as they are: type them again and save.",
                      _detail(error))
    orders = page.raw.get("orders")
    if not isinstance(orders, list):
        return Answer(False, f"{host} answered, but not like Starshipit (no list of orders came back): "
                             f"check the API URL; it is usually {settings_store.EXAMPLE_URL}.",
                      _cut(f"HTTP 200 with the fields {sorted(page.raw)}"))
    if not orders:
        waiting = "no unshipped orders right now"
    elif page.total_pages > 1:  # one order a page: the page count is the order count
        waiting = f"{page.total_pages:,} unshipped orders are waiting"
    else:
        waiting = "1 unshipped order is waiting"
    return Answer(True, f"Connected to Starshipit: {waiting}.",
                  f"GET /api/orders/unshipped answered HTTP 200 at {host}")


def _refused(error: StarshipitError, host: str) -> Answer:
    status = error.status
    said = _starshipit_said(error)
    detail = _detail(error)
    if status is None:
        return Answer(False, _unreachable(error.__cause__, host), detail)
    if status in (401, 403):
        return Answer(False, f"Starshipit refused the keys (HTTP {status}){said}: check the API key and the "
                             "subscription key (copy them again from Starshipit's API settings).", detail)
    if status == 429:
        return Answer(False, f"Starshipit is turning requests away for now (HTTP 429, too many requests){said}: "
                             "wait a minute and try again; check that the rate limit matches your Starshipit plan.",
                      detail)
    if status >= 500:
        return Answer(False, f"Starshipit answered with a server error (HTTP {status}): the problem is on its side. "
                             "Try again in a few minutes.", detail)
    if 200 <= status < 300 and error.errors and error.errors != _NO_SUCCESS:
        return Answer(False, f"Starshipit refused the request{said}: check the settings, or ask Starshipit's support.",
                      detail)
    if status == 400 and error.errors:
        return Answer(False, f"Starshipit refused the request (HTTP 400){said}: check the settings.", detail)
    return Answer(False, f"{host} answered, but not like Starshipit (HTTP {status}): check the API URL; it is "
                         f"usually {settings_store.EXAMPLE_URL}.", detail)


def _unreachable(cause: BaseException | None, host: str) -> str:
    if isinstance(cause, httpx.TimeoutException):
        return (f"Starshipit did not answer: nothing came back from {host} within {TIMEOUT_SECONDS:g} seconds. "
                "Check the API URL, or try again later.")
    if isinstance(cause, httpx.ConnectError) and "CERTIFICATE" in str(cause).upper():
        return (f"Could not connect safely to {host}: its certificate could not be verified, so nothing was sent. "
                "Check the API URL.")
    if isinstance(cause, httpx.ConnectError):
        return f"Could not reach {host}: there is no such host, or nothing answers there. Check the API URL."
    return f"Could not reach {host}: the connection failed. Check the API URL and try again."


def _starshipit_said(error: StarshipitError) -> str:
    """Starshipit's own message, quoted and cut short, when it gave one in its JSON envelope."""
    for item in error.errors:
        if isinstance(item, dict) and item.get("message") and item not in _NO_SUCCESS:
            words = " - ".join(str(part) for part in (item.get("message"), item.get("details")) if part)
            if "<" not in words:  # an HTML page is no message
                return f': "{shown(words, 160)}"'
    return ""


def _detail(error: BaseException) -> str:
    parts = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    if cause is not None and str(cause) not in str(error):
        parts.append(f"caused by {type(cause).__name__}: {cause}")
    return _cut("\n".join(parts))


def _cut(text: str) -> str:
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"
