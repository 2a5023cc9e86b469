"""Moving stock by scanning: from-location, product, quantity, to-location, confirm; a reason too
when the to-location is a quarantine location. Moves are made in the person's current warehouse."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import func
from sqlmodel import select

from app import db, reason_codes
from app.errors import WmsError
from app.inventory import transfer_stock
from app.models import Location, LocationType, Role
from app.security import requires
from app.web.scan_labels import check_answer, label_scan
from app.web.site import current_warehouse, current_warehouse_code

bp = Blueprint("moves", __name__, url_prefix="/moves")

FIELDS = ("from_location", "product", "quantity", "to_location", "reason")


def _quarantine_scans(session, warehouse_id: int) -> list[str]:
    """What a scan of each quarantine location of the warehouse reads (its code and barcode, in
    lower case): the page asks for a reason as soon as the to-location scanned is one of them."""
    rows = session.exec(
        select(func.lower(Location.code), func.lower(Location.barcode))
        .where(Location.warehouse_id == warehouse_id, Location.type == LocationType.QUARANTINE, Location.active)
    )
    return sorted({scan for row in rows for scan in row if scan})


def _page(values: dict, *, error: WmsError | None = None, done: str | None = None):
    with db.reading() as session:
        site = current_warehouse(session, "")
        quarantine = _quarantine_scans(session, site.id)
        reasons = [(row.code, row.label) for row in reason_codes.list_codes(session, active_only=True)]
    return render_template("moves/index.html", values=values, error=error, done=done, site=site,
                           quarantine=quarantine, reasons=reasons)


@bp.get("/")
@requires(Role.PICKER)
def index():
    return _page({"quantity": "1"})


@bp.get("/check")
@requires(Role.PICKER)
def check():
    """What a scan names, for instant feedback: {"label": "..."} or a 4xx error."""
    with db.reading() as session:
        label = label_scan(session, current_warehouse(session, "").id, request.args.get("kind", ""),
                           request.args.get("code", ""), reason_hint=True)
    return jsonify(check_answer(label, request.args.get("kind", ""), request.args.get("code", "")))


@bp.post("/")
@requires(Role.PICKER)
def move():
    values = {name: request.form.get(name, "").strip() for name in FIELDS}
    try:
        posted = db.atomic(
            transfer_stock, sku=values["product"], from_location=values["from_location"],
            to_location=values["to_location"], quantity=values["quantity"], reason=values["reason"] or None,
            warehouse=current_warehouse_code(""), user_id=current_user.id, client_id=request.headers.get("X-Client-Id"),
        )
    except WmsError as error:
        if request.htmx:
            return render_template("partials/flash.html", kind="error", message=error.message), error.status
        return _page(values, error=error), error.status
    why = f", {posted.movement.reason}" if posted.movement.reason else ""
    message = (
        f"Moved {posted.movement.quantity} × {posted.sku} ({posted.product_name}) {posted.from_code} → {posted.to_code}"
        f"{why}. Now {posted.on_hand} at {posted.to_code}."
    )
    if request.htmx:
        return render_template("partials/flash.html", kind="ok", message=message)
    return _page({"quantity": "1"}, done=message)
