"""How much a purchase order line may still take: tolerance and over-receipt (no database)."""
import pytest

from app.inbound.receipt_rules import LineRoom, most_receivable, tolerance_percent


def test_the_purchase_orders_tolerance_wins_over_the_products():
    assert tolerance_percent(5, 20) == 5
    assert tolerance_percent(0, 20) == 0
    assert tolerance_percent(None, 20) == 20
    assert tolerance_percent(None, None) == 0


@pytest.mark.parametrize("ordered, tolerance, most", [(10, 0, 10), (10, 10, 11), (5, 10, 5), (19, 10, 20), (7, 100, 14)])
def test_the_tolerance_allows_whole_units_rounded_down(ordered, tolerance, most):
    assert most_receivable(ordered, tolerance) == most


def test_a_line_takes_what_is_still_to_come_and_no_more_without_a_tolerance():
    line = LineRoom(ordered=10, received=6, tolerance=0)
    assert (line.room, line.to_come) == (4, 4)
    assert line.refusal(4) is None
    assert line.refusal(5) == ("10 ordered and 6 received: 5 more would be 11, past 10 (no over-receipt tolerance); "
                               "at most 4 more can be received")


def test_within_the_tolerance_an_over_receipt_is_taken_and_nothing_more_is_expected():
    line = LineRoom(ordered=10, received=10, tolerance=20)
    assert (line.room, line.to_come) == (2, 0)
    assert line.refusal(2) is None
    assert "past 12 (a 20% tolerance); at most 2 more" in line.refusal(3)
    full = LineRoom(ordered=10, received=12, tolerance=20)
    assert full.room == 0 and "no more can be received" in full.refusal(1)
