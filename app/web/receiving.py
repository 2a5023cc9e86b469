"""Receiving a purchase order by scanning, on a phone: choose the PO, scan the receiving location,
scan products (each scan adds one, a typed quantity adds many), confirm. Managers also reverse
receipts and sort out receiving exceptions.

The receipt being scanned lives in the page (hidden `line` inputs, "SKU:units", rendered by the
server): each scan is one small request that sends it along, and the server answers with the
scan's line for the log and the receipt re-rendered. Nothing is stored until Confirm.
"""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app import bounds, db
from app.bounds import shown
from app.errors import ValidationFailed, WmsError
from app.inbound import receiving
from app.inbound.purchase_orders import get_purchase_order
from app.models import Role, Warehouse
from app.security import requires
from app.warehouses import find_location, get_warehouse
from app.web.scan_labels import scan_check_answer
from app.web.site import current_warehouse

bp = Blueprint("receiving", __name__, url_prefix="/receiving")


# ---- the receipt being scanned, as the page keeps it --------------------------------------------


def tally_from(values: list[str]) -> list[tuple[str, int]]:
    """The receipt being scanned from the page's `line` inputs ("SKU:units"), in scan order."""
    if len(values) > bounds.MAX_PO_LINES:
        raise ValidationFailed(f"a receipt has at most {bounds.MAX_PO_LINES:,} lines", field="lines")
    tally: dict[str, int] = {}
    for number, value in enumerate(values):
        sku, colon, units = value.rpartition(":")
        if not colon:
            raise ValidationFailed(f"line {shown(value)} is not SKU:units", field=f"lines.{number}")
        sku = bounds.code(sku, f"lines.{number}.sku", max_length=bounds.SKU_MAX, label="SKU")
        tally[sku] = tally.get(sku, 0) + bounds.quantity(units, f"lines.{number}.quantity", label="quantity")
    return list(tally.items())


# ---- choosing the purchase order ---------------------------------------------------------------


@bp.get("/")
@requires(Role.PICKER)
def index():
    """Scan or type a PO number, or choose one of the warehouse's open POs."""
    typed = request.args.get("po", "")
    error = None
    with db.reading() as session:
        site = current_warehouse(session)
        if typed.strip():
            try:
                order = get_purchase_order(session, typed)
                return redirect(url_for("receiving.receive_page", po_number=order.po_number))
            except WmsError as refused:
                error = refused
                error.field = "po"
        orders = receiving.receivable_orders(session, site.id)
    status = error.status if error else 200
    return render_template("receiving/index.html", site=site, orders=orders, typed=typed, error=error), status


def _page(session, po_number: str, **context):
    """What the scan page shows of a PO."""
    order = get_purchase_order(session, po_number)
    site = session.get(Warehouse, order.warehouse_id)
    place = receiving.default_location(session, site.id)
    show_receipts = current_user.has_role(Role.MANAGER)
    context.setdefault("location", place.code if place else "")
    context.setdefault("tally", [])
    lines = receiving.progress(session, order)
    return dict(
        order=order, site=site, lines=lines, lines_by_sku={line["sku"]: line for line in lines},
        receipts=receiving.receipts_of(session, order) if show_receipts else [], **context,
    )


@bp.get("/po/<path:po_number>")
@requires(Role.PICKER)
def receive_page(po_number: str):
    """The scan page; ?location= (the location form, without JavaScript) chooses where to receive."""
    typed = request.args.get("location", "")
    with db.reading() as session:
        context = _page(session, po_number)
        if not typed.strip():
            return render_template("receiving/po.html", **context)
        try:
            place = find_location(session, context["site"].id, typed)
        except WmsError as error:
            return render_template("receiving/po.html", **{**context, "location": typed, "error": error}), error.status
        return render_template("receiving/po.html", **{**context, "location": place.code})


@bp.get("/check")
@requires(Role.PICKER)
def check():
    """What a location scan (or, with kind=product, a product scan) names, for instant feedback:
    {"label": "..."} (and "quantity" for a GS1 label that counts its units) or a 4xx error."""
    with db.reading() as session:
        site = get_warehouse(session, request.args.get("warehouse", ""))
        answer = scan_check_answer(session, site.id, request.args.get("kind", "") or "location",
                                   request.args.get("code", ""))
    return jsonify(answer)


# ---- scanning ------------------------------------------------------------------------------------


@bp.post("/po/<path:po_number>/scan")
@requires(Role.PICKER)
def scan(po_number: str):
    """One scan: what it adds to the receipt being scanned, or why it cannot (the log's line), with
    the receipt being scanned re-drawn."""
    product = request.form.get("product", "")
    quantity = request.form.get("quantity", "") or "1"
    try:
        tally = tally_from(request.form.getlist("line"))
        with db.reading() as session:
            scanned = receiving.check_scan(session, po_number=po_number, product=product, quantity=quantity,
                                           counted=dict(tally))
    except WmsError as error:
        answer = {"error": error, "product": product, "quantity": quantity, "po_number": po_number,
                  "can_record": error.code in receiving.EXCEPTION_KINDS}
        if request.htmx:
            return render_template("receiving/_scan.html", answer=answer), error.status
        with db.reading() as session:
            return render_template("receiving/po.html", **_page(session, po_number, answer=answer)), error.status
    counted = dict(tally)
    counted[scanned.sku] = scanned.counted  # a SKU already scanned keeps its place in the receipt
    answer = {"scanned": scanned, "po_number": po_number}
    if request.htmx:
        return render_template("receiving/_scan.html", answer=answer, tally=list(counted.items()),
                               lines_by_sku=scanned.lines)
    with db.reading() as session:
        return render_template("receiving/po.html", **_page(session, po_number, answer=answer,
                                                            tally=list(counted.items())))


@bp.post("/po/<path:po_number>/exceptions")
@requires(Role.PICKER)
def record_exception(po_number: str):
    """Keep a scan the PO could not take as a receiving exception, and go on."""
    form = request.form
    try:
        kept = db.atomic(receiving.record_exception, po_number=po_number, scanned=form.get("scanned", ""),
                         kind=form.get("kind", ""), quantity=form.get("quantity") or None,
                         note=form.get("note") or None, user_id=current_user.id)
    except WmsError as error:
        return render_template("partials/flash.html", kind="error", message=error.message), error.status
    message = f"Kept {shown(kept.scanned)} as receiving exception #{kept.id} for a manager. Scan on."
    if request.htmx:
        return render_template("partials/flash.html", kind="ok", message=message)
    flash(message, "ok")
    return redirect(url_for("receiving.receive_page", po_number=po_number))


# ---- confirming ----------------------------------------------------------------------------------


@bp.post("/po/<path:po_number>/confirm")
@requires(Role.PICKER)
def confirm(po_number: str):
    """Post the receipt scanned: every line in one transaction, or none."""
    location = request.form.get("location", "")
    values = request.form.getlist("line")
    template = "receiving/_panel.html" if request.htmx else "receiving/po.html"
    try:
        tally = tally_from(values)
        if not tally:
            raise ValidationFailed("scan at least one product before confirming", field="lines")
        done = db.atomic(receiving.receive, po_number=po_number, location=location, lines=tally,
                         user_id=current_user.id, client_id=request.headers.get("X-Client-Id"))
    except WmsError as error:
        with db.reading() as session:
            try:
                kept = tally_from(values)
            except WmsError:
                kept = []
            context = _page(session, po_number, location=location, tally=kept, error=error, oob=request.htmx)
        return render_template(template, **context), error.status
    message = (f"Received {done.units:,} units of {len(done.lines)} SKU{'s' if len(done.lines) != 1 else ''} into "
               f"{done.location}: receipt #{done.id}, {len(done.lines)} putaway task{'s' if len(done.lines) != 1 else ''}. "
               f"{done.po_number} is now {done.status.replace('_', ' ')}.")
    with db.reading() as session:
        context = _page(session, po_number, location=location, done=message, received=done)
    return render_template(template, **context)


# ---- managers: reversing receipts, receiving exceptions ------------------------------------------


@bp.post("/receipts/<int:receipt_id>/reverse")
@requires(Role.MANAGER)
def reverse(receipt_id: int):
    """Reverse a receipt; its PO's page again, with what was done or why it could not be."""
    try:
        reversed_ = db.atomic(receiving.reverse, receipt_id, user_id=current_user.id)
    except WmsError as error:
        with db.reading() as session:
            po_number = receiving.receipt_po_number(session, receipt_id)
            if request.htmx:
                return render_template("partials/flash.html", kind="error", message=error.message), error.status
            return render_template("receiving/po.html", **_page(session, po_number, error=error)), error.status
    units = sum(m["quantity"] for m in reversed_["movements"])
    flash(f"Receipt #{reversed_['id']} reversed: {units:,} units back to the supplier, "
          f"{len(reversed_['cancelled_tasks'])} putaway tasks cancelled. {reversed_['po_number']} is now "
          f"{reversed_['status'].replace('_', ' ')}.", "ok")
    return redirect(url_for("receiving.receive_page", po_number=reversed_["po_number"]))


@bp.get("/exceptions")
@requires(Role.MANAGER)
def exceptions():
    shown_status = request.args.get("status", "open")
    resolved = {"open": False, "resolved": True}.get(shown_status)
    with db.reading() as session:
        site = current_warehouse(session)
        rows = receiving.list_exceptions(session, site.id, resolved=resolved)
    return render_template("receiving/exceptions.html", site=site, rows=rows, status=shown_status)


@bp.post("/exceptions/<int:exception_id>/resolve")
@requires(Role.MANAGER)
def resolve_exception(exception_id: int):
    db.atomic(receiving.resolve_exception, exception_id, user_id=current_user.id)
    flash(f"Receiving exception #{exception_id} marked sorted out.", "ok")
    return redirect(url_for("receiving.exceptions", status=request.form.get("status", "open")))
