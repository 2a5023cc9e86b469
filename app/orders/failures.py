"""Why an inbox event did not apply, in words a manager can act on, and whether trying again can
ever help.

Two kinds of failure:
- terminal: the event can never apply as it is (its content breaks the warehouse's rules, it
  names a warehouse the WMS does not have, Starshipit has no such order, the database refuses a
  value). It fails at once: tried again it would fail the same way.
- passing: the database, Redis or Starshipit could not be reached or answered with a server
  error, or something unexpected went wrong. It is tried again after a backoff, a bounded number
  of times (app.orders.inbox.RETRY_INTERVALS).

`explain` gives the sentence for the failed-events page (no exception class names, no SQL) and,
apart, the technical detail (the exception's type and text) that only an admin sees.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.bounds import bad_character, shown
from app.errors import NotFound, WmsError

DETAIL_MAX = 4000  # characters of technical detail kept


@dataclass(frozen=True)
class Failure:
    terminal: bool
    reason: str  # what happened and what to do, in words
    detail: str  # the exception's type and text, for an admin

    def __post_init__(self) -> None:  # both are stored: no control character (PostgreSQL refuses NUL)
        object.__setattr__(self, "reason", storable(self.reason))
        object.__setattr__(self, "detail", storable(self.detail)[:DETAIL_MAX])


def storable(text: str) -> str:
    """`text` with every character no text column may hold (line breaks and tabs aside) as "?"."""
    if bad_character(text, multiline=True) is None:
        return text
    return "".join("?" if bad_character(character, multiline=True) else character for character in text)


def what(kind: str, event_type: str, order_number: str | None) -> str:
    """The event in a few words: "order_created for order SO-1", "Printed update for order SO-1"."""
    subject = f"order {shown(order_number)}" if order_number else "an order it does not name"
    if kind == "tracking":
        return f"The {shown(event_type)} tracking update for {subject}"
    return f"The {shown(event_type)} event for {subject}"


def detail_of(error: BaseException) -> str:
    name = type(error).__name__
    if isinstance(error, WmsError):
        where = f", field {error.field}" if error.field else ""
        text = f"{name} ({error.code}{where}): {error.message}"
    else:
        text = f"{name}: {error}"
    return text


def explain(error: BaseException, *, kind: str, event_type: str, order_number: str | None) -> Failure:
    """The failure as a sentence and whether it is terminal."""
    event = what(kind, event_type, order_number)
    detail = detail_of(error)
    status = _starshipit_status(error)
    if status is not _NOT_STARSHIPIT:
        return Failure(*_starshipit(status, event, order_number), detail)
    if isinstance(error, NotFound) and error.field == "warehouse":
        return Failure(True, f"{event} names a warehouse the WMS does not have ({_message(error)}). "
                             "Add that warehouse, then retry this event; or correct the order's warehouse in "
                             "Starshipit and dismiss this one.", detail)
    if isinstance(error, WmsError) and _about_content(error):
        return Failure(True, f"{event} cannot be applied: {_message(error)}. Correct the order in Starshipit "
                             "(the corrected order comes in as a new event), then dismiss this one.", detail)
    if isinstance(error, WmsError):  # the warehouse lacks something the event needs
        return Failure(True, f"{event} cannot be applied: {_message(error)}. Fix that in the WMS, then retry this "
                             "event; or dismiss it.", detail)
    if isinstance(error, ValueError):
        return Failure(True, f"{event} cannot be applied: part of it is not what the WMS expects "
                             "(the technical detail says which). Correct the order in Starshipit and dismiss this "
                             "event, or retry it once the WMS is updated.", detail)
    family = _family(error)
    if family == "refused":
        return Failure(True, f"{event} cannot be applied: the database refused a value in it as out of bounds. "
                             "Correct the order in Starshipit (the corrected order comes in as a new event), then "
                             "dismiss this one.", detail)
    if family == "database":
        return Failure(False, f"{event} was not applied because the database could not be reached.", detail)
    if family == "redis":
        return Failure(False, f"{event} was not applied because Redis (the job queue) could not be reached.", detail)
    return Failure(False, f"{event} was not applied because of an unexpected error in the WMS (the technical "
                          "detail says which).", detail)


def pending_reason(failure: Failure, next_try_at) -> str:
    """The sentence while tries are left."""
    return f"{failure.reason} It is tried again at {next_try_at.strftime('%H:%M:%S')} UTC; nothing needs doing."


def final_reason(failure: Failure, attempts: int) -> str:
    """The sentence once the event has failed for good."""
    if failure.terminal:
        return failure.reason
    return f"{failure.reason} It was tried {attempts} times. Retry it once the cause is gone, or dismiss it."


def _about_content(error: WmsError) -> bool:
    """Whether the refusal is about what Starshipit sent (a field of the body), not the warehouse."""
    field = error.field or ""
    return field.split(".")[0].split("[")[0] in ("body", "event", "order", "shipment", "order_number")


def _message(error: WmsError) -> str:
    return error.message.rstrip(". ")


_NOT_STARSHIPIT = object()


def _starshipit_status(error: BaseException):
    from app.starshipit.client import StarshipitError

    if isinstance(error, StarshipitError):
        return error.status
    return _NOT_STARSHIPIT


def _starshipit(status: int | None, event: str, order_number: str | None) -> tuple[bool, str]:
    """(terminal, reason) for Starshipit's answer when the WMS fetched the order's lines."""
    order = f"order {shown(order_number)}" if order_number else "the order"
    if status == 404:
        return True, (f"{event} cannot ship anything: Starshipit has no {order} (its API answered 404, not "
                      "found, when the WMS asked for the order's lines). Dismiss this event; if Starshipit does "
                      "have the order, check the Starshipit API URL on the settings page, then retry it.")
    if status in (401, 403):
        return False, (f"{event} was not applied: Starshipit refused the WMS's API keys (HTTP {status}) when it "
                       f"asked for {order}'s lines. Check the Starshipit keys on the settings page.")
    if status is None or status in (408, 429) or status >= 500:
        answer = "could not be reached" if status is None else f"answered with an error (HTTP {status})"
        return False, f"{event} was not applied: Starshipit {answer} when the WMS asked for {order}'s lines."
    return True, (f"{event} cannot be applied: Starshipit refused the WMS's request for {order}'s lines "
                  f"(HTTP {status}; the technical detail has its answer). Dismiss this event, or retry it once "
                  "the order reads correctly in Starshipit.")


def _family(error: BaseException) -> str:
    """"refused" (the database refused a value: never better on a retry), "database" (it could
    not be reached), "redis", or "other"."""
    from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

    if isinstance(error, (IntegrityError, DataError)):
        return "refused"
    if isinstance(error, DBAPIError):
        return "database"
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is a dependency
        RedisError = ()  # noqa: N806
    if isinstance(error, RedisError):
        return "redis"
    return "other"
