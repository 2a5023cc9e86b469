"""What stock is available: the one rule every figure uses.

Stock is available where it is on hand, less what is allocated there, in a location orders may be
served from. A quarantine location's stock is on hand but never available (damaged, held for
inspection, returned and not yet checked). The stock pages, the API's /stock/<sku>, the by-product
totals and allocation all ask here, in Python (`available`) or in SQL (`available_sql`), so the rule
cannot drift between them.
"""
from __future__ import annotations

from sqlalchemy import case, literal
from sqlalchemy.sql.elements import ColumnElement

from app.models import LocationType

# Location types whose stock is on hand but never available.
NOT_AVAILABLE_TYPES = frozenset({LocationType.QUARANTINE})


def serves_orders(location_type: str | None) -> bool:
    """Whether stock in a location of this type can be available (allocated to an order)."""
    return location_type not in NOT_AVAILABLE_TYPES


def available(location_type: str | None, on_hand: int, allocated: int) -> int:
    """Units of one balance that are available: on hand less allocated, none in quarantine."""
    return on_hand - allocated if serves_orders(location_type) else 0


def available_sql(location_type: ColumnElement, on_hand: ColumnElement, allocated: ColumnElement) -> ColumnElement:
    """`available` as a SQL expression over a balance's columns (sum it for totals)."""
    held_back = sorted(str(t) for t in NOT_AVAILABLE_TYPES)
    return case((location_type.in_(held_back), literal(0)), else_=on_hand - allocated)
