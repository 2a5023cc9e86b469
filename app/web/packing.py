"""Packing on a phone or at the bench: scan the tote (or the order), scan every item into the box
(wrong or extra items refused at once, a done mark per line), choose the box and its weight, then
"Pack and print": the order is PACKED and its label job queued; the label page shows the label.

The box being packed lives in the page (hidden `line` inputs, "SKU:units"), as the receipt being
scanned does on the receiving page: each scan is one small request that sends it along.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from app import db
from app.errors import ValidationFailed, WmsError
from app.models import Role
from app.outbound import labels, packing
from app.security import requires
from app.web.receiving import tally_from
from app.web.site import current_warehouse

bp = Blueprint("packing", __name__, url_prefix="/packing")


@bp.get("/")
@requires(Role.PICKER)
def index():
    """Scan a tote or type an order number, or choose one of the picked orders."""
    typed = request.args.get("scan", "")
    error = None
    with db.reading() as session:
        site = current_warehouse(session)
        if typed.strip():
            try:
                order = packing.find_to_pack(session, site.id, typed)
                return redirect(url_for("packing.pack_page", order_number=order.order_number))
            except WmsError as refused:
                error = refused
                error.field = "scan"
        orders = packing.packable_orders(session, site.id)
    return render_template("packing/index.html", site=site, orders=orders, typed=typed, error=error), \
        (error.status if error else 200)


def _page(session, order_number: str, **context) -> dict:
    order = packing.get_order(session, order_number)
    context.setdefault("tally", [])
    lines = packing.packing_list(session, order)
    return dict(order=order, lines=lines, lines_by_sku={line.sku: line for line in lines},
                totes=sorted({tote for line in lines for tote in line.totes}),
                sizes=labels.list_sizes(session, active_only=True), **context)


@bp.get("/<path:order_number>")
@requires(Role.PICKER)
def pack_page(order_number: str):
    with db.reading() as session:
        context = _page(session, order_number)
        try:
            packing.require_packable(context["order"])
        except WmsError as error:
            context["error"] = error
    return render_template("packing/order.html", **context)


@bp.post("/<path:order_number>/scan")
@requires(Role.PICKER)
def scan(order_number: str):
    """One item into the box: its line for the log and the box re-drawn, or why not."""
    product = request.form.get("product", "")
    quantity = request.form.get("quantity", "") or "1"
    try:
        tally = tally_from(request.form.getlist("line"))
        with db.reading() as session:
            scanned = packing.check_scan(session, order_number, product=product, quantity=quantity,
                                         packed=dict(tally))
    except WmsError as error:
        answer = {"error": error, "product": product}
        if request.htmx:
            return render_template("packing/_scan.html", answer=answer), error.status
        with db.reading() as session:
            return render_template("packing/order.html", **_page(session, order_number, answer=answer)), error.status
    box = dict(tally)
    box[scanned.sku] = scanned.packed
    answer = {"scanned": scanned}
    if request.htmx:
        return render_template("packing/_scan.html", answer=answer, tally=list(box.items()),
                               lines_by_sku={line.sku: line for line in scanned.lines})
    with db.reading() as session:
        return render_template("packing/order.html", **_page(session, order_number, answer=answer,
                                                              tally=list(box.items())))


@bp.post("/<path:order_number>/pack")
@requires(Role.PICKER)
def pack(order_number: str):
    """Close the box: refused in words unless it holds exactly what was picked; then the label."""
    values = request.form.getlist("line")
    form = request.form
    try:
        tally = tally_from(values)
        if not tally:
            raise ValidationFailed("scan every item into the box before packing", field="lines")
        package = _package(form)
        db.atomic(packing.pack_order, order_number, items=dict(tally), package=package,
                  user_id=current_user.id, client_id=request.headers.get("X-Client-Id"))
    except WmsError as error:
        with db.reading() as session:
            try:
                kept = tally_from(values)
            except WmsError:
                kept = []
            context = _page(session, order_number, tally=kept, error=error, box=form.get("box", ""),
                            weight=form.get("weight", ""))
        return render_template("packing/order.html", **context), error.status
    return redirect(url_for("labels.page", order_number=order_number))


def _package(form) -> dict | None:
    """The box from the form: a kept size by name (with the weight typed, or its default), or
    none (Starshipit's default package) with no weight needed."""
    name = form.get("box", "").strip()
    weight = form.get("weight", "").strip() or None
    if not name:
        return None if weight is None else {"name": "", "weight": weight}
    return {"name": name, **({"weight": weight} if weight is not None else {})}
