"""The pages people use: one blueprint module per area of the warehouse."""
from __future__ import annotations

from flask import Flask


from app import bounds
from app.models import Role

# (endpoint, label, lowest role): the top navigation; entries whose page does not exist are left out.
NAV_ITEMS = [
    ("moves.index", "Move", Role.PICKER),
    ("inventory.index", "Stock", Role.PICKER),
    ("products.index", "Products", Role.PICKER),
    ("locations.index", "Locations", Role.PICKER),
    ("orders.index", "Orders", Role.PICKER),
    ("picking.index", "Pick", Role.PICKER),
    ("problems.new", "Report a problem", Role.PICKER),
    ("problems.index", "Problem reports", Role.MANAGER),
    ("admin.settings", "Settings", Role.MANAGER),
    ("users.index", "Users", Role.ADMIN),
]

HOME_TILES = [
    ("moves.index", "Move stock", Role.PICKER, "Scan from, product, quantity, to"),
    ("inventory.index", "Stock", Role.PICKER, "On hand, allocated, available, incoming"),
    ("products.index", "Products", Role.PICKER, "Find by SKU, name or barcode"),
    ("locations.index", "Locations", Role.PICKER, "Bins, zones and labels"),
    ("receiving.index", "Receive", Role.PICKER, "Scan a purchase order's stock in"),
    ("putaway.index", "Put away", Role.PICKER, "Take received stock to its place"),
    ("stocktakes.count_index", "Count", Role.PICKER, "Count the locations of a stocktake"),
    ("picking.index", "Pick", Role.PICKER, "Pick orders into totes, stop by stop"),
    ("packing.index", "Pack", Role.PICKER, "Scan a tote, check each item, print the label"),
    ("replenishment.tasks", "Replenish", Role.PICKER, "Fill pick faces from storage"),
    ("problems.new", "Report a problem", Role.PICKER, "Damaged, missing or found stock, for a manager to approve"),
    ("inventory.adjust", "Adjust stock", Role.MANAGER, "Found, damaged, lost, corrections"),
    ("problems.index", "Problem reports", Role.MANAGER, "Pickers' reports waiting for approval"),
    ("purchase_orders.index", "Purchase orders", Role.MANAGER, "What suppliers are sending, and when"),
    ("stocktakes.index", "Stocktakes", Role.MANAGER, "Counts, variances, recounts and approval"),
    ("replenishment.rules", "Pick face min/max", Role.MANAGER, "When and how far to refill pick faces"),
    ("outbound.index", "Outbound", Role.MANAGER, "Orders by stage and route, pickers' rates today"),
    ("routing.index", "Outbound routing", Role.MANAGER, "Which orders the WMS picks and packs"),
    ("picking.release", "Release picks", Role.MANAGER, "Allocated orders into pick jobs and totes"),
    ("package_sizes.index", "Box sizes", Role.MANAGER, "The boxes packers choose for a label"),
    ("reason_codes.index", "Reason codes", Role.ADMIN, "The reasons an adjustment may give"),
    ("orders.index", "Orders", Role.PICKER, "Orders mirrored from Starshipit"),
    ("orders.discrepancies", "Discrepancies", Role.MANAGER, "Shipped stock that was not on hand"),
    ("orders.failed_events", "Failed events", Role.MANAGER, "Webhooks that could not be applied"),
    ("admin.settings", "Settings", Role.MANAGER, "Starshipit keys and webhook secret"),
    ("users.index", "Users", Role.ADMIN, "Who signs in, their roles; API tokens"),
]


def register(app: Flask) -> None:
    from app.web import auth, home, pwa, slow

    for module in (auth, home, pwa):
        app.register_blueprint(module.bp)
    _register_optional(app)
    slow.register(app)  # SCAN_DELAY_MS: a slower server for the scan pages' burst tests (0: nothing)

    @app.context_processor
    def _navigation():
        return {
            "nav_items": NAV_ITEMS,
            "home_tiles": HOME_TILES,
            "has_endpoint": lambda name: name in app.view_functions,
            "bounds": bounds,
        }


def _register_optional(app: Flask) -> None:
    """Areas added by later work register here (see each module's `bp`)."""
    import importlib

    for name in ("site", "products", "locations", "inventory", "moves", "orders", "admin", "purchase_orders",
                 "receiving", "putaway", "stocktakes", "replenishment", "reason_codes", "routing", "offline",
                 "labels", "package_sizes", "picking", "packing", "outbound", "users", "problems"):
        try:
            module = importlib.import_module(f"app.web.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"app.web.{name}":
                raise
            continue
        app.register_blueprint(module.bp)
