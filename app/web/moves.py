"""Moving stock by scanning: from-location, product, quantity, to-location, confirm."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user

from app import db
from app.catalog import find_product
from app.errors import ValidationFailed, WmsError
from app.inventory import transfer_stock
from app.ledger import LedgerError
from app.models import Role
from app.security import requires
from app.warehouses import find_location, get_warehouse
from app.web.inventory import refusal

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
            _move, sku=values["product"], from_location=values["from_location"], to_location=values["to_location"],
            quantity=values["quantity"], user_id=current_user.id,
        )
    except (WmsError, LedgerError) as error:
        status, message = refusal(error)
        if request.htmx:
            return render_template("partials/flash.html", kind="error", message=message), status
        return render_template("moves/index.html", values=values, error=message), status
    product, source, target, posted_move = posted
    message = (
        f"Moved {posted_move.movement.quantity} × {product.sku} ({product.name}) {source} → {target}. "
        f"Now {posted_move.on_hand} at {target}."
    )
    if request.htmx:
        return render_template("partials/flash.html", kind="ok", message=message)
    return render_template("moves/index.html", values={"quantity": "1"}, done=message)


def _move(session, *, sku, from_location, to_location, quantity, user_id):
    posted = transfer_stock(
        session, sku=sku, from_location=from_location, to_location=to_location, quantity=quantity, user_id=user_id
    )
    site = get_warehouse(session)
    return (
        find_product(session, sku),
        find_location(session, site.id, from_location).code,
        find_location(session, site.id, to_location).code,
        posted,
    )
