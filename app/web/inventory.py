"""Stock: by product and by location, a SKU's movement history, and manager adjustments."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import func
from sqlmodel import select

from app import bounds, db, reason_codes
from app.availability import available, serves_orders
from app.catalog import find_product, get_product
from app.errors import NotFound, ValidationFailed, WmsError
from app.inventory import adjust_stock, movement_history, stock_at_location, stock_by_product, stock_summary
from app.models import Location, MovementType, Role, StockLevel, Warehouse
from app.security import requires
from app.warehouses import list_warehouses
from app.web.locations import find_locations
from app.web.products import page_number
from app.web.site import current_warehouse, current_warehouse_code

bp = Blueprint("inventory", __name__, url_prefix="/inventory")

PAGE_SIZE = 50
HISTORY_PAGE = 50
MOVEMENT_TYPES = sorted(value for name, value in vars(MovementType).items() if name.isupper())


@bp.get("/")
@requires(Role.PICKER)
def index():
    query = request.args.get("q", "").strip()
    page = page_number()
    with db.reading() as session:
        rows = stock_by_product(session, query, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    context = dict(rows=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE, page=page, query=query)
    template = "inventory/_by_product.html" if request.htmx else "inventory/index.html"
    return render_template(template, **context)


def _units_by_location(session, location_ids: list[int]) -> dict[int, tuple[int, int]]:
    rows = session.exec(
        select(StockLevel.location_id, func.count(), func.sum(StockLevel.on_hand))
        .where(StockLevel.location_id.in_(location_ids), StockLevel.on_hand > 0)
        .group_by(StockLevel.location_id)
    )
    return {location_id: (int(skus), int(units or 0)) for location_id, skus, units in rows}


def _asked_warehouse() -> str | None:
    """The ?warehouse= a page was opened with (kept on its links), or None: the current one."""
    return bounds.scan(request.args.get("warehouse", ""), "warehouse").upper() or None


@bp.get("/locations")
@requires(Role.PICKER)
def by_location():
    """The locations of the current warehouse (or ?warehouse=CODE) with what each holds."""
    query = request.args.get("q", "").strip()
    page = page_number()
    asked = _asked_warehouse()
    with db.reading() as session:
        site = current_warehouse(session, asked or "")
        places = find_locations(session, site.id, query=query, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
        units = _units_by_location(session, [p.id for p in places])
    context = dict(
        site=site, places=places[:PAGE_SIZE], units=units, has_next=len(places) > PAGE_SIZE, page=page, query=query,
        asked=asked, serves_orders=serves_orders,
    )
    template = "inventory/_by_location.html" if request.htmx else "inventory/by_location.html"
    return render_template(template, **context)


@bp.get("/locations/<int:location_id>")
@requires(Role.PICKER)
def location(location_id: int):
    with db.reading() as session:
        place = session.get(Location, location_id)
        if place is None:
            raise NotFound(f"no location {location_id}")
        site = session.get(Warehouse, place.warehouse_id)
        rows = stock_at_location(session, place.id)
    return render_template("inventory/location.html", place=place, site=site, rows=rows, available=available,
                           serves_orders=serves_orders)


def _history_filters() -> dict:
    args = request.args
    filters = {
        "sku": bounds.scan(args.get("sku", ""), "sku", label="SKU"),
        "type": args.get("type", "").strip(),
        "location": bounds.scan(args.get("location", ""), "location"),
        "reference": bounds.scan(args.get("reference", ""), "reference"),
        "warehouse": _asked_warehouse() or "",
        "before_id": None,
    }
    if filters["type"] and filters["type"] not in MOVEMENT_TYPES:
        raise ValidationFailed(f"type must be one of {', '.join(MOVEMENT_TYPES)}", field="type")
    before = args.get("before_id", "").strip()
    if before:
        filters["before_id"] = bounds.whole(before, "before_id", minimum=1, maximum=bounds.MAX_STARSHIPIT_ID,
                                            label="before_id (a movement number)")
    return filters


def _location_for_filter(session, site: Warehouse, code: str) -> Location:
    """Any location of the warehouse (virtual ones too) by code or barcode."""
    code = bounds.scan(code, "location")
    place = session.exec(
        select(Location)
        .where(Location.warehouse_id == site.id,
               (Location.code == code.upper()) | (func.lower(Location.barcode) == func.lower(code)))
        .order_by(Location.id)
    ).first()
    if place is None:
        raise NotFound(f"no location {bounds.shown(code)}", field="location")
    return place


@bp.get("/history")
@requires(Role.PICKER)
def history():
    """Movements newest first in the current warehouse (or the one filtered on), for one SKU or
    all, with filters; page on with before_id."""
    filters = _history_filters()
    with db.reading() as session:
        site = current_warehouse(session, filters["warehouse"])
        warehouses = list_warehouses(session)
        summary = stock_summary(session, filters["sku"]) if filters["sku"] else None
        product = get_product(session, filters["sku"]) if filters["sku"] else None
        location_id = _location_for_filter(session, site, filters["location"]).id if filters["location"] else None
        movements = movement_history(
            session, sku=filters["sku"] or None, type=filters["type"] or None, reference=filters["reference"] or None,
            location_id=location_id, before_id=filters["before_id"], limit=HISTORY_PAGE + 1, warehouse_id=site.id,
        )
    context = dict(
        filters=filters, summary=summary, product=product, types=MOVEMENT_TYPES, site=site, warehouses=warehouses,
        movements=movements[:HISTORY_PAGE], next_before=movements[HISTORY_PAGE - 1]["id"] if len(movements) > HISTORY_PAGE else None,
    )
    template = "inventory/_history.html" if request.htmx else "inventory/history.html"
    return render_template(template, **context)


def _adjust(session, *, location, product, quantity, reason, reference, user_id, warehouse):
    """One adjustment in one transaction: the product may be scanned by barcode or GTIN."""
    return adjust_stock(
        session, sku=find_product(session, product).sku, location=location, quantity=quantity, reason=reason,
        reference=reference or None, user_id=user_id, warehouse=warehouse,
    )


def _adjust_page(values: dict, *, error: WmsError | None = None, done: str | None = None):
    """The adjust form: the current warehouse's name and the active reason codes (read from the table)."""
    with db.reading() as session:
        site = current_warehouse(session, "")
        reasons = [(row.code, row.label) for row in reason_codes.list_codes(session, active_only=True)]
    return render_template("inventory/adjust.html", values=values, reasons=reasons, site=site, error=error, done=done)


@bp.route("/adjust", methods=["GET", "POST"])
@requires(Role.MANAGER)
def adjust():
    """Add or remove stock at a location of the current warehouse, with an active reason code."""
    values = {"location": "", "product": "", "quantity": "", "reason": "", "reference": ""}
    if request.method == "GET":
        return _adjust_page(values)
    values = {key: request.form.get(key, "").strip() for key in values}
    try:
        posted = db.atomic(_adjust, **values, user_id=current_user.id, warehouse=current_warehouse_code(""))
    except WmsError as error:
        return _adjust_page(values, error=error), error.status
    added = posted.movement.to_location_id in posted.balances  # stock came in (a physical place gained)
    place = posted.to_code if added else posted.from_code
    message = (
        f"{'+' if added else '-'}{posted.movement.quantity} × {posted.sku} ({posted.product_name}) at {place}, "
        f"{posted.movement.reason}. On hand there now: {posted.on_hand}."
    )
    kept = {"location": values["location"], "product": "", "quantity": "", "reason": posted.movement.reason,
            "reference": ""}
    return _adjust_page(kept, done=message)
