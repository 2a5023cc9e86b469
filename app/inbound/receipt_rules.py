"""How much of a purchase order line may still be received (no database).

Over-receipt is refused unless a tolerance allows it: a percentage of what was ordered, the
purchase order's own when it has one, else the product's, else none. The allowed extra is rounded
down to whole units (10% of 5 ordered allows no extra unit; 10% of 10 allows one).
"""
from __future__ import annotations

from dataclasses import dataclass

from app.inbound.po_status import still_to_come


def tolerance_percent(order_tolerance: int | None, product_tolerance: int | None) -> int:
    """The tolerance that applies: the PO's wins over the product's; none is 0."""
    if order_tolerance is not None:
        return order_tolerance
    return product_tolerance or 0


def most_receivable(ordered: int, tolerance: int) -> int:
    """The most units a line may have received in all: what was ordered plus its tolerance."""
    return ordered + ordered * tolerance // 100


@dataclass(frozen=True)
class LineRoom:
    """One purchase order line as a receipt sees it."""

    ordered: int
    received: int
    tolerance: int  # percent

    @property
    def most(self) -> int:
        return most_receivable(self.ordered, self.tolerance)

    @property
    def room(self) -> int:
        """Units that may still be received on this line, tolerance included."""
        return max(self.most - self.received, 0)

    @property
    def to_come(self) -> int:
        return still_to_come(self.ordered, self.received)

    def refusal(self, quantity: int) -> str | None:
        """Why `quantity` more cannot be received, in words, or None when it can."""
        if quantity <= self.room:
            return None
        allowance = f"a {self.tolerance}% tolerance" if self.tolerance else "no over-receipt tolerance"
        more = f"at most {self.room:,} more" if self.room else "no more"
        return (f"{self.ordered:,} ordered and {self.received:,} received: {quantity:,} more would be "
                f"{self.received + quantity:,}, past {self.most:,} ({allowance}); {more} can be received")
