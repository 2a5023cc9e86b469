"""Replenishment's rules over plain data: when a pick face needs stock, how much, from where.

- A pick face needs replenishing when its on-hand is below its minimum (strictly: at the
  minimum it is still full enough).
- A task brings it up to its maximum: maximum minus on-hand, at most one movement's worth
  (bounds.MAX_MOVEMENT), and at most what storage holds free.
- Oldest stock first. The ledger knows when stock arrived at a location, not how old each unit
  is, so "oldest" means: stock leaves a location first in, first out, so the units still there
  are the latest arrivals, and the oldest of them came with the earliest inbound movement that
  the location's on-hand still covers (walking its inbound movements newest first, the one at
  which their running total reaches on-hand). A location whose oldest unit arrived earlier goes
  first; equal or unknown ages go by location code. The arrival is at that location (a putaway
  or transfer into storage), which follows the supplier's receipt by hours in practice.
- A partial completion: the task is done with what was moved, and the rest (up to the
  maximum, as it stands after the move) is a new open task.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app import bounds
from app.errors import ValidationFailed


def min_max(minimum, maximum) -> tuple[int, int]:
    """A pick face's minimum and maximum, as typed or sent: 0 <= min < max <= MAX_BALANCE."""
    low = bounds.whole(minimum, "min", minimum=0, maximum=bounds.MAX_BALANCE - 1, label="min")
    high = bounds.whole(maximum, "max", minimum=1, maximum=bounds.MAX_BALANCE, label="max")
    if low >= high:
        raise ValidationFailed(f"max must be more than min ({low:,}); it is {high:,}", field="max")
    return low, high


def below_minimum(on_hand: int, minimum: int) -> bool:
    return on_hand < minimum


def quantity_to_fill(on_hand: int, maximum: int) -> int:
    """Units that bring a pick face up to its maximum, at most one movement's worth."""
    return max(0, min(maximum - on_hand, bounds.MAX_MOVEMENT))


@dataclass(frozen=True)
class Arrival:
    """An inbound movement: its id (the ledger's order), when, and how many units."""

    movement_id: int
    at: datetime | None
    quantity: int


def oldest_arrival(inbound_newest_first: Iterable[Arrival], on_hand: int) -> Arrival | None:
    """The inbound movement that brought the oldest unit still at a location holding `on_hand`
    (first in, first out): the one at which the running total, newest first, reaches on_hand.
    None when nothing is held; the earliest one given when they do not add up to on_hand."""
    if on_hand <= 0:
        return None
    covered, last = 0, None
    for arrival in inbound_newest_first:
        covered += arrival.quantity
        last = arrival
        if covered >= on_hand:
            return arrival
    return last


@dataclass(frozen=True)
class Source:
    """A storage location holding free stock of the product."""

    location_id: int
    code: str
    free: int  # on hand minus allocated
    oldest: Arrival | None = None


def by_age(sources: Iterable[Source]) -> list[Source]:
    """Oldest stock first (the earliest arrival still covered), then by code; those without free
    stock are left out."""
    def key(source: Source):
        known = source.oldest is not None
        return (not known, source.oldest.movement_id if known else 0, source.code, source.location_id)

    return sorted((s for s in sources if s.free > 0), key=key)


@dataclass(frozen=True)
class Leg:
    """Take `quantity` from one source."""

    source: Source
    quantity: int


def plan(sources: Iterable[Source], wanted: int) -> list[Leg]:
    """Where `wanted` units come from: the oldest stock first, each source emptied of its free
    stock before the next; fewer than wanted when storage holds less."""
    legs, left = [], wanted
    for source in by_age(sources):
        if left <= 0:
            break
        take = min(source.free, left)
        legs.append(Leg(source, take))
        left -= take
    return legs


def rest_after(task_quantity: int, moved: int, on_hand_after: int, maximum: int | None) -> int:
    """What is left to do after `moved` of a task's quantity: the rest of the task, but no more
    than brings the pick face to its maximum as it stands (no rule any more: the rest of the
    task)."""
    rest = task_quantity - moved
    if maximum is not None:
        rest = min(rest, maximum - on_hand_after)
    return max(0, rest)
