"""What a count means, and which locations to count next: plain data in, plain data out.

A count is a snapshot: `expected` is what the ledger held at the location when the product was
counted. Approval posts the variance (counted - expected) as it stands against the balance *now*,
so stock that moved in or out after the count is kept. When stock left after the count, or is
promised to orders, a removal can be larger than what is free at the location now; the ledger
never takes a balance below zero or below what is allocated, so `plan` posts what can be posted
and names the rest (`not_posted`, with the reason), for a discrepancy a manager resolves.

Cycle-count suggestions rank candidate locations (see `suggest`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.bounds import MAX_BALANCE, MAX_MOVEMENT

# Why part of a variance could not be posted.
STOCK_LEFT = "stock_left"  # the removal is more than is on hand now: stock left after the count
ALLOCATED = "allocated"  # the units are on hand but promised to orders (allocated), so not free
NO_ROOM = "no_room"  # an addition past what one balance can hold


def variance(counted: int, expected: int) -> int:
    """Counted minus what the ledger held at count time: + found, - missing."""
    return counted - expected


@dataclass(frozen=True)
class Plan:
    """What approval posts for one counted line."""

    variance: int  # counted - expected at count time
    post: int  # the signed quantity to post now through the count location (0: nothing)
    not_posted: int = 0  # units of the variance that cannot be posted (always >= 0)
    reason: str | None = None  # STOCK_LEFT, ALLOCATED or NO_ROOM when not_posted > 0


def plan(*, expected: int, counted: int, on_hand: int, allocated: int, max_balance: int = MAX_BALANCE) -> Plan:
    """The posting for a line counted at `counted` when the ledger held `expected`, given the
    balance there now (on_hand, allocated). A removal takes at most the free stock now; an
    addition at most the room left."""
    change = variance(counted, expected)
    if change > 0:
        room = max(0, max_balance - on_hand)
        post = min(change, room)
        return Plan(change, post, change - post, NO_ROOM if post < change else None)
    if change < 0:
        free = max(0, on_hand - allocated)
        take = min(-change, free)
        missing = -change - take
        reason = None
        if missing:
            reason = STOCK_LEFT if on_hand < -change else ALLOCATED
        return Plan(change, -take, missing, reason)
    return Plan(0, 0)


def explain(plan_: Plan, *, sku: str, location: str, expected: int, counted: int, on_hand: int,
            allocated: int) -> str:
    """Why part of a variance was not posted, in words for the manager (empty when all was)."""
    if not plan_.not_posted:
        return ""
    counted_words = f"{sku} was counted at {counted:,} in {location} when the ledger held {expected:,}"
    if plan_.reason == STOCK_LEFT:
        return (f"{counted_words}; stock left {location} after the count and it now holds {on_hand:,}, so only "
                f"{-plan_.post:,} could be taken off and {plan_.not_posted:,} were not. Stock that left after the "
                f"count means more was there than counted: count {location} again.")
    if plan_.reason == ALLOCATED:
        return (f"{counted_words}; {allocated:,} of the {on_hand:,} there now are allocated to orders, so only "
                f"{-plan_.post:,} could be taken off and {plan_.not_posted:,} were not: those orders will be short "
                f"at {location}.")
    return (f"{counted_words}; {location} can hold at most {MAX_BALANCE:,} of one product, so "
            f"{plan_.not_posted:,} were not added.")


def pieces(quantity: int, most: int = MAX_MOVEMENT) -> list[int]:
    """A quantity (any size, > 0) as movements of at most `most` units each."""
    whole, rest = divmod(quantity, most)
    return [most] * whole + ([rest] if rest else [])


# ---- cycle-count suggestions ------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A location that could be counted, with what the suggestion weighs."""

    code: str
    last_counted: datetime | None  # when a count of it was last approved; None: never
    moves_out: int = 0  # movements out of it in the look-back window
    open_discrepancies: int = 0  # open discrepancies of products it holds


@dataclass(frozen=True)
class Suggestion:
    code: str
    reasons: tuple[str, ...]


def suggest(candidates: Iterable[Candidate], *, now: datetime, days: int, limit: int) -> list[Suggestion]:
    """The locations to count next, most urgent first, at most `limit`.

    A location is suggested when it has not been counted for `days` days (or never), or when it
    holds a product with an open discrepancy. Ranked by: open discrepancies first (more first),
    then fastest movers (more movements out in the window first: each pick is a chance to go
    wrong), then longest since counted (never counted first), then by code."""
    due_before = now - timedelta(days=days)
    chosen = [c for c in candidates
              if c.open_discrepancies > 0 or c.last_counted is None or c.last_counted <= due_before]
    never = datetime.min.replace(tzinfo=now.tzinfo)
    chosen.sort(key=lambda c: (-c.open_discrepancies, -c.moves_out, c.last_counted or never, c.code))
    return [Suggestion(c.code, _reasons(c, now, days)) for c in chosen[:limit]]


def _reasons(candidate: Candidate, now: datetime, days: int) -> tuple[str, ...]:
    reasons = []
    if candidate.open_discrepancies:
        n = candidate.open_discrepancies
        reasons.append(f"{n} open discrepanc{'y' if n == 1 else 'ies'}")
    if candidate.last_counted is None:
        reasons.append("never counted")
    else:
        ago = (now - candidate.last_counted).days
        reasons.append(f"counted {ago} day{'' if ago == 1 else 's'} ago")
    if candidate.moves_out:
        n = candidate.moves_out
        reasons.append(f"{n} move{'' if n == 1 else 's'} out in {days} day{'' if days == 1 else 's'}")
    return tuple(reasons)
