"""Moving stock by scanning: from-location, product, quantity, to-location, confirm."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user

from app import db
from app.catalog import find_product
from app.errors import ValidationFailed, WmsError
from app.inventory import transfer_stock
from app.models import Role
from app.security import requires
from app.warehouses import find_location, get_warehouse

bp = Blueprint("moves", __name__, url_prefix="/moves")

FIELDS = ("from_location", "product", "quantity", "to_location")


@bp.get("/")
@requires(Role.PICKER)
def index():
    return render_template("moves/index.html", values={"quantity": "1"})


@bp.get("/check")
@requires(Role.PICKER)
def check():
    """What a scan names, for instant feedback: {"label": "..."} or a 4xx error."""
    kind = request.args.get("kind", "")
    code = request.args.get("code", "")
    with db.reading() as session:
        if kind == "location":
            place = find_location(session, get_warehouse(session).id, code)
            return jsonify(label=f"{place.code} · {place.type}" + (f" · zone {place.zone}" if place.zone else ""))
        if kind == "product":
            product = find_product(session, code)
            return jsonify(label=f"{product.sku} · {product.name}")
    raise ValidationFailed("kind must be location or product", field="kind")


@bp.post("/")
@requires(Role.PICKER)
def move():
    values = {name: request.form.get(name, "").strip() for name in FIELDS}
    try:
        posted = db.atomic(
            transfer_stock, sku=values["product"], from_location=values["from_location"],
            to_location=values["to_location"], quantity=values["quantity"], user_id=current_user.id,
        )
    except WmsError as error:
        if request.htmx:
            return render_template("partials/flash.html", kind="error", message=error.message), error.status
        return render_template("moves/index.html", values=values, error=error), error.status
    message = (
        f"Moved {posted.movement.quantity} × {posted.sku} ({posted.product_name}) {posted.from_code} → {posted.to_code}. "
        f"Now {posted.on_hand} at {posted.to_code}."
    )
    if request.htmx:
        return render_template("partials/flash.html", kind="ok", message=message)
    return render_template("moves/index.html", values={"quantity": "1"}, done=message)
