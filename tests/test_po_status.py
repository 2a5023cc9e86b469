"""A purchase order's statuses, transitions and lateness: plain rules, no database."""
from datetime import date

import pytest

from app.errors import Conflict
from app.inbound import po_status
from app.inbound.po_status import (
    Action,
    after,
    can,
    is_late,
    parse,
    refresh_status,
    status_after_receipt,
)
from app.models import PurchaseOrderStatus as S

NOTHING_IN = [(10, 0), (4, 0)]
SOME_IN = [(10, 6), (4, 0)]
ALL_IN = [(10, 10), (4, 4)]


@pytest.mark.parametrize("lines, expected", [
    (NOTHING_IN, S.OPEN),
    (SOME_IN, S.PARTIALLY_RECEIVED),
    ([(10, 10), (4, 0)], S.PARTIALLY_RECEIVED),
    (ALL_IN, S.RECEIVED),
    ([(10, 12), (4, 4)], S.RECEIVED),  # over-received within a tolerance: received
])
def test_receiving_moves_an_open_order_by_what_its_lines_hold(lines, expected):
    assert status_after_receipt(S.OPEN, lines) == expected
    assert status_after_receipt(S.PARTIALLY_RECEIVED, lines) == expected


def test_a_reversed_receipt_moves_a_received_order_back():
    assert status_after_receipt(S.RECEIVED, SOME_IN) == S.PARTIALLY_RECEIVED
    assert status_after_receipt(S.RECEIVED, NOTHING_IN) == S.OPEN


@pytest.mark.parametrize("status", [S.DRAFT, S.CLOSED, S.CANCELLED])
def test_receipts_never_change_a_draft_closed_or_cancelled_order(status):
    assert status_after_receipt(status, ALL_IN) == status


def test_refresh_status_reads_line_rows_and_says_whether_it_changed():
    class Row:
        def __init__(self, ordered, received):
            self.quantity_ordered, self.quantity_received = ordered, received

    class Order:
        status = S.OPEN

    order = Order()
    assert refresh_status(order, [Row(10, 3)]) is True and order.status == S.PARTIALLY_RECEIVED
    assert refresh_status(order, [Row(10, 4)]) is False and order.status == S.PARTIALLY_RECEIVED


@pytest.mark.parametrize("action, status, lines, expected", [
    (Action.OPEN, S.DRAFT, NOTHING_IN, S.OPEN),
    (Action.CLOSE, S.OPEN, NOTHING_IN, S.CLOSED),
    (Action.CLOSE, S.PARTIALLY_RECEIVED, SOME_IN, S.CLOSED),
    (Action.CANCEL, S.DRAFT, NOTHING_IN, S.CANCELLED),
    (Action.CANCEL, S.OPEN, NOTHING_IN, S.CANCELLED),
])
def test_allowed_transitions(action, status, lines, expected):
    assert can(action, status, lines)
    assert after(action, status, lines, "PO-1") == expected


@pytest.mark.parametrize("action, status, lines", [
    (Action.OPEN, S.OPEN, NOTHING_IN),
    (Action.OPEN, S.CANCELLED, NOTHING_IN),
    (Action.CLOSE, S.DRAFT, NOTHING_IN),
    (Action.CLOSE, S.RECEIVED, ALL_IN),
    (Action.CLOSE, S.CLOSED, SOME_IN),
    (Action.CLOSE, S.CANCELLED, NOTHING_IN),
    (Action.CANCEL, S.PARTIALLY_RECEIVED, SOME_IN),
    (Action.CANCEL, S.RECEIVED, ALL_IN),
    (Action.CANCEL, S.CLOSED, SOME_IN),
    (Action.CANCEL, S.OPEN, SOME_IN),  # stock came in (a status out of step): close it short instead
])
def test_refused_transitions_are_conflicts_naming_the_order(action, status, lines):
    assert not can(action, status, lines)
    with pytest.raises(Conflict) as refused:
        after(action, status, lines, "PO-1")
    assert refused.value.code == po_status.CONFLICT_CODE and refused.value.field == "po_number"
    assert "PO-1" in refused.value.message


def test_only_drafts_and_open_orders_can_be_edited():
    editable = {status for status in po_status.STATUSES if po_status.edit_refusal(status, "PO-1") is None}
    assert editable == {S.DRAFT, S.OPEN}


def test_only_open_and_partially_received_orders_can_be_received_against():
    assert po_status.receiving_refusal(S.OPEN, "PO-1") is None
    assert po_status.receiving_refusal(S.PARTIALLY_RECEIVED, "PO-1") is None
    for status in (S.DRAFT, S.RECEIVED, S.CLOSED, S.CANCELLED):
        refusal = po_status.receiving_refusal(status, "PO-1")
        assert refusal.status == 409 and refusal.code == "purchase_order_closed", status
    assert "open it first" in po_status.receiving_refusal(S.DRAFT, "PO-1").message


def test_incoming_is_what_is_still_to_come_on_an_expected_order_only():
    assert po_status.incoming(S.OPEN, 10, 0) == 10
    assert po_status.incoming(S.PARTIALLY_RECEIVED, 10, 6) == 4
    assert po_status.incoming(S.PARTIALLY_RECEIVED, 10, 12) == 0  # over-received: nothing more
    for status in (S.DRAFT, S.RECEIVED, S.CLOSED, S.CANCELLED):
        assert po_status.incoming(status, 10, 6) == 0, status


TODAY = date(2026, 12, 2)


@pytest.mark.parametrize("status, expected_on, late", [
    (S.OPEN, date(2026, 12, 1), True),
    (S.PARTIALLY_RECEIVED, date(2026, 11, 1), True),
    (S.OPEN, TODAY, False),  # due today: not late until tomorrow
    (S.OPEN, date(2026, 12, 3), False),
    (S.OPEN, None, False),  # no expected day: never late
    (S.DRAFT, date(2026, 12, 1), False),  # not expected yet
    (S.RECEIVED, date(2026, 12, 1), False),
    (S.CLOSED, date(2026, 12, 1), False),
    (S.CANCELLED, date(2026, 12, 1), False),
])
def test_an_order_is_late_when_still_expected_past_its_day(status, expected_on, late):
    assert is_late(status, expected_on, TODAY) is late


@pytest.mark.parametrize("typed, found", [
    ("open", S.OPEN), ("OPEN", S.OPEN), ("Partially_Received", S.PARTIALLY_RECEIVED), ("cancelled", S.CANCELLED),
    ("", None), ("opened", None), ("partially received", None), ("ſcancelled", None), (None, None), (3, None),
])
def test_statuses_are_read_ignoring_case(typed, found):
    assert parse(typed) == found


def test_a_new_order_starts_as_draft_or_open_only():
    assert parse("DRAFT", allowed=(S.DRAFT, S.OPEN)) == S.DRAFT
    assert parse("received", allowed=(S.DRAFT, S.OPEN)) is None
