"""Jobs for replenishment: check one pick face after a movement took it below its minimum; check
every pick face of a warehouse (a manager's button). Enqueued by name from app.replenishment.

Both expect an app context: `wms worker` runs jobs inside one; without Redis they run in-process.
"""
from __future__ import annotations


def check_pick_face(product_id: int, location_id: int) -> str:
    """Create the pick face's open task if it is below its minimum and has none: what it found
    (app.replenishment's CREATED, ALREADY_OPEN, FULL_ENOUGH, NOTHING_IN_STORAGE, NO_RULE)."""
    from app import replenishment

    replenishment.clear_wake(int(product_id), int(location_id))  # before reading: see wake_check
    return replenishment.run_check(int(product_id), int(location_id))


def check_warehouse(warehouse_id: int) -> dict:
    """Check every pick face of a warehouse: how many rules, how many below their minimum, and
    how many tasks were created, already open, or could not be for want of stock in storage."""
    from app import replenishment

    return replenishment.check_warehouse(int(warehouse_id))
