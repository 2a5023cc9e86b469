"""The rule of what is available, as plain data: on hand less allocated, none in quarantine."""
import pytest

from app.availability import NOT_AVAILABLE_TYPES, available, serves_orders
from app.models import PHYSICAL_TYPES, LocationType


@pytest.mark.parametrize("kind", sorted(PHYSICAL_TYPES - {LocationType.QUARANTINE}))
def test_stock_outside_quarantine_is_available_less_what_is_allocated(kind):
    assert serves_orders(kind)
    assert available(kind, 10, 3) == 7
    assert available(kind, 0, 0) == 0


def test_quarantine_stock_is_on_hand_but_never_available():
    assert not serves_orders(LocationType.QUARANTINE)
    assert available("quarantine", 10, 0) == 0
    assert available(LocationType.QUARANTINE, 10, 4) == 0


def test_quarantine_is_the_only_type_held_back():
    assert NOT_AVAILABLE_TYPES == {LocationType.QUARANTINE}
