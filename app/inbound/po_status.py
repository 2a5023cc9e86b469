"""What a purchase order's status is and may become, and when it is late (no database).

    DRAFT --open--> OPEN --receipts--> PARTIALLY_RECEIVED --receipts--> RECEIVED
    DRAFT, OPEN (nothing received) --cancel--> CANCELLED
    OPEN, PARTIALLY_RECEIVED --close (short)--> CLOSED

Receiving moves a PO between OPEN, PARTIALLY_RECEIVED and RECEIVED by what its lines hold
(`status_after_receipt`); a reversed receipt moves it back the same way. CLOSED and CANCELLED are
final, and what was not received on them never comes. Only OPEN and PARTIALLY_RECEIVED orders are
still expected: their lines count as incoming, can be received against, and can be late.

A line is given as a pair (ordered, received).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from app.bounds import shown
from app.errors import Conflict
from app.models.inbound import OPEN_PO_STATUSES
from app.models.inbound import PurchaseOrderStatus as Status

STATUSES = tuple(Status)
EXPECTED = tuple(OPEN_PO_STATUSES)  # still coming: incoming, receivable, can be late
EDITABLE = (Status.DRAFT, Status.OPEN)  # lines, supplier, expected date, tolerance and note can change
FINAL = (Status.RECEIVED, Status.CLOSED, Status.CANCELLED)
CONFLICT_CODE = "purchase_order_status"  # the API's error code when an action does not fit the status
RECEIVING_CODE = "purchase_order_closed"  # ... when a receipt does not (the code receipts have always had)

Lines = Iterable[tuple[int, int]]


class Action(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    CANCEL = "cancel"


# What each action needs and leads to, and how a person says it.
_FROM = {
    Action.OPEN: (Status.DRAFT,),
    Action.CLOSE: (Status.OPEN, Status.PARTIALLY_RECEIVED),
    Action.CANCEL: (Status.DRAFT, Status.OPEN),
}
_TO = {Action.OPEN: Status.OPEN, Action.CLOSE: Status.CLOSED, Action.CANCEL: Status.CANCELLED}
_ONLY = {
    Action.OPEN: "only a draft can be opened",
    Action.CLOSE: "only an open or partially received one can be closed",
    Action.CANCEL: "only a draft or an open one with nothing received can be cancelled",
}


def label(status: str) -> str:
    """A status as people read it: "partially received"."""
    return str(status).replace("_", " ")


def parse(value, *, allowed: Iterable[str] = STATUSES) -> Status | None:
    """A status as written by a person or a program, ignoring case ("OPEN", "Partially_Received");
    None when it is not one of `allowed`."""
    if not isinstance(value, str) or not value.isascii():
        return None
    wanted = value.lower()
    return next((Status(s) for s in allowed if s == wanted), None)


def still_to_come(ordered: int, received: int) -> int:
    """Units of a line not received yet (never below zero: an over-receipt expects nothing more)."""
    return max(ordered - received, 0)


def incoming(status: str, ordered: int, received: int) -> int:
    """Units of a line that count as incoming stock: what is still to come, on an expected order."""
    return still_to_come(ordered, received) if status in EXPECTED else 0


def received_any(lines: Lines) -> bool:
    return any(received > 0 for _ordered, received in lines)


def status_from_lines(lines: Lines) -> Status:
    """An expected order's status by what its lines hold: RECEIVED when every line has all it
    ordered, PARTIALLY_RECEIVED when any has some, else OPEN."""
    counts = list(lines)
    if counts and all(received >= ordered for ordered, received in counts):
        return Status.RECEIVED
    if received_any(counts):
        return Status.PARTIALLY_RECEIVED
    return Status.OPEN


def status_after_receipt(status: str, lines: Lines) -> Status:
    """The status once a receipt (or its reversal) has changed the lines' received counts.
    OPEN, PARTIALLY_RECEIVED and RECEIVED follow the lines; DRAFT, CLOSED and CANCELLED keep
    theirs (a receipt is refused on them, see `receiving_refusal`; a reversal on a closed order
    leaves it closed)."""
    status = Status(status)
    if status in EXPECTED or status == Status.RECEIVED:
        return status_from_lines(lines)
    return status


def refresh_status(order, lines) -> bool:
    """Set `order.status` from its line rows (objects with quantity_ordered and quantity_received)
    after a receipt or a reversal; True when it changed."""
    new = status_after_receipt(order.status, [(line.quantity_ordered, line.quantity_received) for line in lines])
    changed = new != order.status
    order.status = new
    return changed


def receiving_refusal(status: str, po_number: str) -> Conflict | None:
    """Why stock cannot be received against an order with this status (a Conflict to raise), or None."""
    if status in EXPECTED:
        return None
    why = "it is still a draft: open it first" if status == Status.DRAFT else f"it is {label(status)}"
    return Conflict(f"purchase order {shown(po_number)} cannot be received against: {why}",
                    code=RECEIVING_CODE, field="po_number")


def can(action: Action, status: str, lines: Lines = ()) -> bool:
    return refusal(action, status, lines, "") is None


def refusal(action: Action, status: str, lines: Lines, po_number: str) -> Conflict | None:
    """Why `action` cannot be done to an order with this status and lines (a Conflict), or None."""
    action = Action(action)
    counts = list(lines)
    if action == Action.CANCEL and status in EXPECTED and (status != Status.OPEN or received_any(counts)):
        return Conflict(f"purchase order {shown(po_number)} has stock received against it: close it short instead "
                        "of cancelling it", code=CONFLICT_CODE, field="po_number")
    if status not in _FROM[action]:
        return Conflict(f"purchase order {shown(po_number)} is {label(status)}: {_ONLY[action]}",
                        code=CONFLICT_CODE, field="po_number")
    return None


def after(action: Action, status: str, lines: Lines, po_number: str) -> Status:
    """The status `action` leads to; raises Conflict when the order's status does not allow it."""
    counts = list(lines)
    problem = refusal(action, status, counts, po_number)
    if problem is not None:
        raise problem
    return _TO[Action(action)]


def edit_refusal(status: str, po_number: str) -> Conflict | None:
    """Why an order can no longer be edited (a Conflict), or None while it is a draft or open."""
    if status in EDITABLE:
        return None
    return Conflict(f"purchase order {shown(po_number)} is {label(status)}: only a draft or an open one can be "
                    "changed", code=CONFLICT_CODE, field="po_number")


def is_late(status: str, expected_on: date | None, today: date) -> bool:
    """Late: still expected (open or partially received) and the expected day has passed (a PO
    due today is not late until tomorrow). Days are UTC days, as every time the WMS keeps."""
    return expected_on is not None and status in EXPECTED and today > expected_on
