"""Replenishment's rules over plain data: when a pick face needs stock, how much, from where
(oldest stock first), and what a partial completion leaves. No database."""
from __future__ import annotations

from datetime import datetime

import pytest

from app import bounds
from app.errors import ValidationFailed
from app.replenishment_rules import (
    Arrival,
    Source,
    below_minimum,
    by_age,
    min_max,
    oldest_arrival,
    plan,
    quantity_to_fill,
    rest_after,
)


def arrival(movement_id: int, quantity: int) -> Arrival:
    return Arrival(movement_id, datetime(2026, 11, movement_id), quantity)


def test_a_pick_face_needs_stock_only_below_its_minimum():
    assert below_minimum(4, 5)
    assert not below_minimum(5, 5)
    assert not below_minimum(6, 5)
    assert below_minimum(0, 1)
    assert not below_minimum(0, 0)


def test_a_task_brings_the_pick_face_up_to_its_maximum_within_one_movement():
    assert quantity_to_fill(3, 20) == 17
    assert quantity_to_fill(0, 20) == 20
    assert quantity_to_fill(25, 20) == 0
    assert quantity_to_fill(0, bounds.MAX_BALANCE) == bounds.MAX_MOVEMENT


@pytest.mark.parametrize(("low", "high"), [(0, 1), (5, 20), ("5", " 20 "), (bounds.MAX_BALANCE - 1, bounds.MAX_BALANCE)])
def test_min_and_max_within_bounds_are_taken(low, high):
    assert min_max(low, high) == (int(low), int(high))


@pytest.mark.parametrize(
    ("low", "high", "field"),
    [(-1, 5, "min"), (5, 5, "max"), (6, 5, "max"), (0, 0, "max"), ("x", 5, "min"), (1, "", "max"), (1.5, 3, "min"),
     (0, bounds.MAX_BALANCE + 1, "max"), (True, 3, "min")],
)
def test_min_and_max_out_of_bounds_or_crossed_are_refused_naming_the_field(low, high, field):
    with pytest.raises(ValidationFailed) as refused:
        min_max(low, high)
    assert refused.value.field == field


def test_the_oldest_unit_at_a_location_came_with_the_earliest_inbound_movement_its_stock_still_covers():
    newest_first = [arrival(9, 4), arrival(6, 10), arrival(2, 30)]
    assert oldest_arrival(newest_first, 3).movement_id == 9  # all from the latest arrival
    assert oldest_arrival(newest_first, 4).movement_id == 9
    assert oldest_arrival(newest_first, 5).movement_id == 6  # one unit of the second-latest
    assert oldest_arrival(newest_first, 14).movement_id == 6
    assert oldest_arrival(newest_first, 15).movement_id == 2
    assert oldest_arrival(newest_first, 0) is None
    assert oldest_arrival(newest_first, 999).movement_id == 2  # more held than arrived: the earliest known
    assert oldest_arrival([], 5) is None


def test_oldest_stock_goes_first_then_by_code_and_empty_sources_are_left_out():
    sources = [
        Source(1, "S-03", free=10, oldest=arrival(7, 10)),
        Source(2, "S-01", free=10, oldest=arrival(3, 10)),
        Source(3, "S-02", free=0, oldest=arrival(1, 10)),  # all allocated
        Source(4, "S-00", free=5, oldest=None),  # age unknown: last
        Source(5, "S-04", free=5, oldest=arrival(3, 10)),  # same arrival as S-01 (cannot be, but): by code
    ]
    assert [s.code for s in by_age(sources)] == ["S-01", "S-04", "S-03", "S-00"]


def test_a_plan_takes_the_oldest_stock_first_and_no_more_than_storage_holds():
    sources = [Source(1, "S-NEW", free=30, oldest=arrival(8, 30)), Source(2, "S-OLD", free=12, oldest=arrival(2, 12))]
    assert [(leg.source.code, leg.quantity) for leg in plan(sources, 20)] == [("S-OLD", 12), ("S-NEW", 8)]
    assert [(leg.source.code, leg.quantity) for leg in plan(sources, 10)] == [("S-OLD", 10)]
    assert sum(leg.quantity for leg in plan(sources, 100)) == 42
    assert plan([], 10) == []
    assert plan(sources, 0) == []


def test_a_partial_completion_leaves_the_rest_up_to_the_maximum_as_it_stands():
    # a task of 15 for a pick face of max 20: 5 moved, the face now holds 10 -> 10 more fill it
    assert rest_after(15, 5, on_hand_after=10, maximum=20) == 10
    # the face was refilled meanwhile: only what still fits
    assert rest_after(15, 5, on_hand_after=18, maximum=20) == 2
    assert rest_after(15, 5, on_hand_after=25, maximum=20) == 0
    assert rest_after(15, 15, on_hand_after=20, maximum=20) == 0
    assert rest_after(15, 5, on_hand_after=10, maximum=None) == 10  # the rule was removed: the rest of the task
