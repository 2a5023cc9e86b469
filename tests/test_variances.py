"""Count variances and cycle-count suggestions: plain data, no database."""
from datetime import UTC, datetime, timedelta

import pytest

from app import variances
from app.bounds import MAX_BALANCE, MAX_MOVEMENT
from app.variances import ALLOCATED, NO_ROOM, STOCK_LEFT, Candidate, Plan, plan

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def test_a_variance_is_counted_minus_expected():
    assert variances.variance(12, 10) == 2
    assert variances.variance(7, 10) == -3
    assert variances.variance(0, 0) == 0


def test_a_count_that_matches_posts_nothing():
    assert plan(expected=10, counted=10, on_hand=4, allocated=4) == Plan(0, 0)


def test_units_found_are_added_whatever_moved_since():
    assert plan(expected=10, counted=12, on_hand=3, allocated=3) == Plan(2, 2)


def test_units_missing_are_taken_off_the_balance_as_it_is_now():
    # counted 7 when the ledger held 10; 20 more arrived since: 30 - 3 = 27 stays
    assert plan(expected=10, counted=7, on_hand=30, allocated=0) == Plan(-3, -3)


def test_a_removal_past_what_is_left_after_stock_left_posts_what_is_there_and_names_the_rest():
    # counted 7 of 10; then 8 left: 2 on hand now, so 2 come off and 1 cannot
    assert plan(expected=10, counted=7, on_hand=2, allocated=0) == Plan(-3, -2, 1, STOCK_LEFT)


def test_a_removal_of_allocated_units_stops_at_the_free_stock():
    assert plan(expected=10, counted=3, on_hand=10, allocated=5) == Plan(-7, -5, 2, ALLOCATED)


def test_a_location_emptied_after_the_count_takes_nothing_off():
    assert plan(expected=5, counted=0, on_hand=0, allocated=0) == Plan(-5, 0, 5, STOCK_LEFT)


def test_an_addition_stops_at_what_one_balance_can_hold():
    assert plan(expected=0, counted=10, on_hand=MAX_BALANCE - 4, allocated=0) == Plan(10, 4, 6, NO_ROOM)


def test_what_was_not_posted_is_explained_in_words():
    words = variances.explain(Plan(-3, -2, 1, STOCK_LEFT), sku="SKU-1", location="A-01", expected=10, counted=7,
                              on_hand=2, allocated=0)
    assert "SKU-1 was counted at 7 in A-01 when the ledger held 10" in words
    assert "only 2 could be taken off and 1 were not" in words and "count A-01 again" in words
    assert "allocated to orders" in variances.explain(Plan(-7, -5, 2, ALLOCATED), sku="S", location="L", expected=10,
                                                      counted=3, on_hand=10, allocated=5)
    assert variances.explain(Plan(2, 2), sku="S", location="L", expected=1, counted=3, on_hand=1, allocated=0) == ""


@pytest.mark.parametrize("quantity, expected", [
    (1, [1]),
    (MAX_MOVEMENT, [MAX_MOVEMENT]),
    (MAX_MOVEMENT + 1, [MAX_MOVEMENT, 1]),
    (2 * MAX_MOVEMENT + 5, [MAX_MOVEMENT, MAX_MOVEMENT, 5]),
])
def test_a_large_adjustment_is_split_into_movements_the_ledger_takes(quantity, expected):
    assert variances.pieces(quantity) == expected
    assert sum(variances.pieces(quantity)) == quantity


# ---- suggestions ------------------------------------------------------------------------------


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def codes(found) -> list[str]:
    return [suggestion.code for suggestion in found]


def test_locations_counted_recently_are_not_suggested_unless_they_hold_a_discrepancy():
    candidates = [
        Candidate("RECENT", days_ago(3), moves_out=50),
        Candidate("RECENT-BAD", days_ago(3), open_discrepancies=1),
        Candidate("DUE", days_ago(30)),
        Candidate("NEVER", None),
    ]
    assert set(codes(variances.suggest(candidates, now=NOW, days=30, limit=10))) == {"RECENT-BAD", "DUE", "NEVER"}


def test_suggestions_rank_discrepancies_then_fast_movers_then_the_longest_uncounted():
    candidates = [
        Candidate("OLD-SLOW", days_ago(400), moves_out=0),
        Candidate("NEVER-SLOW", None, moves_out=0),
        Candidate("FAST", days_ago(40), moves_out=90),
        Candidate("MEDIUM", None, moves_out=10),
        Candidate("ONE-DISCREPANCY", days_ago(1), moves_out=0, open_discrepancies=1),
        Candidate("TWO-DISCREPANCIES", days_ago(60), moves_out=1, open_discrepancies=2),
        Candidate("A-TIE", days_ago(40), moves_out=10),
    ]
    found = variances.suggest(candidates, now=NOW, days=30, limit=10)
    assert codes(found) == ["TWO-DISCREPANCIES", "ONE-DISCREPANCY", "FAST", "MEDIUM", "A-TIE", "NEVER-SLOW", "OLD-SLOW"]


def test_suggestions_stop_at_the_limit_and_say_why_each_is_there():
    candidates = [Candidate(f"L-{n:02}", None, moves_out=n) for n in range(10)]
    found = variances.suggest(candidates, now=NOW, days=7, limit=3)
    assert codes(found) == ["L-09", "L-08", "L-07"]
    assert found[0].reasons == ("never counted", "9 moves out in 7 days")
    one = variances.suggest([Candidate("X", days_ago(31), moves_out=1, open_discrepancies=1)], now=NOW, days=1, limit=1)
    assert one[0].reasons == ("1 open discrepancy", "counted 31 days ago", "1 move out in 1 day")


def test_a_location_counted_exactly_n_days_ago_is_due():
    found = variances.suggest([Candidate("EDGE", days_ago(30))], now=NOW, days=30, limit=5)
    assert codes(found) == ["EDGE"]
    assert variances.suggest([Candidate("EDGE", days_ago(29))], now=NOW, days=30, limit=5) == []
