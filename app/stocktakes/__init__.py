"""Stocktakes and cycle counts: a manager opens a count of some locations, pickers count them on a
phone (blind by default: what the ledger expects never reaches them), the manager reviews the
variances, orders recounts and approves.

- opening.py: open a stocktake (a list of locations, a zone), cycle-count suggestions, cancel.
- counting.py: a picker's (or the API's) counts: record a count, close a location, the picker's view.
- review.py: what a manager or an integrator sees of a stocktake; recounts.
- approval.py: approval: each variance posted through the count location, discrepancies cleared.
- places.py: finding a stocktake and its locations, shared by the above.

Every count line keeps `expected`: the ledger's on-hand at the location at the moment the product
was counted (read in the count's own transaction). Approval posts counted - expected against the
balance as it is then, so stock moved after the count is kept (app/variances.py says how a removal
larger than what is left is handled).
"""
from app.stocktakes.approval import Approved, approve
from app.stocktakes.counting import (
    close_location,
    count_list,
    location_sheet,
    record_count,
    start_location,
)
from app.stocktakes.opening import (
    cancel_stocktake,
    open_stocktake,
    suggest_locations,
    zones,
)
from app.stocktakes.review import describe, list_stocktakes, recount

__all__ = [
    "Approved",
    "approve",
    "cancel_stocktake",
    "close_location",
    "count_list",
    "describe",
    "list_stocktakes",
    "location_sheet",
    "open_stocktake",
    "record_count",
    "recount",
    "start_location",
    "suggest_locations",
    "zones",
]
