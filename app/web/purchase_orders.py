"""Purchase orders, for managers: the list (status, search, late ones marked), one order with its
lines and actions (open, close short, cancel), create and edit while DRAFT or OPEN, CSV import."""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import bounds, db
from app.errors import ValidationFailed, WmsError
from app.inbound import po_status
from app.inbound.po_import import COLUMNS as CSV_COLUMNS
from app.inbound.po_import import import_purchase_orders_csv
from app.inbound.purchase_orders import (
    cancel_purchase_order,
    close_purchase_order,
    create_purchase_order,
    list_purchase_orders,
    open_purchase_order,
    order_page,
    summarize,
    update_purchase_order,
)
from app.models import Role
from app.security import requires
from app.warehouses import list_warehouses
from app.web.products import page_number
from app.web.site import current_warehouse
from app.web.uploads import import_page

bp = Blueprint("purchase_orders", __name__)

PAGE_SIZE = 50
BLANK_ROWS = 3  # empty line rows a new order starts with
_ROW_KEY = re.compile(r"[0-9]{1,4}")
_LINE_FIELD = re.compile(r"lines\.([0-9]+)\.(sku|quantity)")


# ---- the list ---------------------------------------------------------------------------------


def _filters() -> dict:
    args = request.args
    return {
        "q": args.get("q", ""),
        "status": args.get("status", "").strip(),
        "late": args.get("late") == "1",
    }


@bp.get("/purchase-orders/")
@requires(Role.MANAGER)
def index():
    filters = _filters()
    page = page_number()
    error = None
    rows, has_next = [], False
    with db.reading() as session:
        site = current_warehouse(session)
        warehouses = list_warehouses(session)
        status = po_status.parse(filters["status"]) if filters["status"] else None
        try:
            if filters["status"] and status is None:
                raise ValidationFailed(f"status must be one of {', '.join(po_status.STATUSES)}", field="status")
            orders = list_purchase_orders(session, status=status, warehouse_id=site.id, query=filters["q"],
                                          late_only=filters["late"], limit=PAGE_SIZE + 1,
                                          offset=(page - 1) * PAGE_SIZE)
            rows, has_next = summarize(session, orders[:PAGE_SIZE]), len(orders) > PAGE_SIZE
        except WmsError as failure:
            error = failure
    context = dict(rows=rows, has_next=has_next, page=page, filters=filters, site=site, warehouses=warehouses,
                   statuses=po_status.STATUSES, label=po_status.label, error=error)
    template = "purchase_orders/_results.html" if request.htmx else "purchase_orders/index.html"
    return render_template(template, **context), error.status if error else 200


# ---- one order ----------------------------------------------------------------------------------


@bp.get("/purchase-order/<path:po_number>")
@requires(Role.MANAGER)
def detail(po_number: str):
    with db.reading() as session:
        view = order_page(session, po_number)
    return render_template("purchase_orders/detail.html", label=po_status.label, **view)


@bp.post("/purchase-order/<path:po_number>/open")
@requires(Role.MANAGER)
def open_order(po_number: str):
    order = db.atomic(open_purchase_order, po_number, user_id=current_user.id)
    flash(f"Purchase order {order.po_number} is open: its lines are expected now.", "ok")
    return redirect(url_for("purchase_orders.detail", po_number=order.po_number))


# Close short and cancel: the GET shows what the action does and asks; the POST does it.
CONFIRM = {
    "close": (close_purchase_order, "Close {po} short",
              "What was not received stops counting as incoming and cannot be received any more.",
              "Purchase order {po} is closed: what was not received is no longer expected."),
    "cancel": (cancel_purchase_order, "Cancel {po}",
               "Nothing on it will be expected or received.", "Purchase order {po} is cancelled."),
}


def _confirm(po_number: str, action: str):
    change, title, meaning, done = CONFIRM[action]
    if request.method == "POST":
        order = db.atomic(change, po_number, user_id=current_user.id)
        flash(done.format(po=order.po_number), "ok")
        return redirect(url_for("purchase_orders.detail", po_number=order.po_number))
    with db.reading() as session:
        view = order_page(session, po_number)
    refusal = po_status.refusal(po_status.Action(action), view["order"].status,
                                [(line["ordered"], line["received"]) for line in view["lines"]], view["order"].po_number)
    return render_template("purchase_orders/confirm.html", action=action, title=title.format(po=view["po"]["po_number"]),
                           meaning=meaning, refusal=refusal, label=po_status.label, **view)


@bp.route("/purchase-order/<path:po_number>/close", methods=["GET", "POST"])
@requires(Role.MANAGER)
def close_order(po_number: str):
    return _confirm(po_number, "close")


@bp.route("/purchase-order/<path:po_number>/cancel", methods=["GET", "POST"])
@requires(Role.MANAGER)
def cancel_order(po_number: str):
    return _confirm(po_number, "cancel")


# ---- create and edit ----------------------------------------------------------------------------


def _rows_from_form(form) -> list[dict]:
    """The line rows as typed, in the page's order: {key, sku, quantity}."""
    rows = []
    for name in form:
        key = name[4:] if name.startswith("sku-") else None
        if key is not None and _ROW_KEY.fullmatch(key):
            rows.append({"key": key, "sku": form.get(name, "").strip(), "quantity": form.get(f"quantity-{key}", "").strip()})
            if len(rows) > bounds.MAX_PO_LINES:
                break
    return rows


def _lines_of(rows: list[dict]) -> tuple[list[tuple[str, str]], list[str]]:
    """The rows that hold something, as (sku, quantity) lines, and the key of each."""
    filled = [row for row in rows if row["sku"] or row["quantity"]]
    return [(row["sku"], row["quantity"]) for row in filled], [row["key"] for row in filled]


def _on_the_page(error: WmsError, keys: list[str]) -> WmsError:
    """The error with its field named as the page names it: lines.2.sku is the third filled row's SKU box."""
    found = _LINE_FIELD.fullmatch(error.field or "")
    if found and int(found.group(1)) < len(keys):
        error.field = f"{found.group(2)}-{keys[int(found.group(1))]}"
    return error


def _form_values(rows: list[dict]) -> dict:
    form = request.form
    return {
        "po_number": form.get("po_number", "").strip(),
        "supplier": form.get("supplier", "").strip(),
        "warehouse": form.get("warehouse", "").strip(),
        "expected_at": form.get("expected_at", "").strip(),
        "tolerance_percent": form.get("tolerance_percent", "").strip(),
        "note": form.get("note", "").strip(),
        "rows": rows,
    }


def _blank_rows(start: int, count: int = BLANK_ROWS) -> list[dict]:
    return [{"key": str(n), "sku": "", "quantity": ""} for n in range(start, start + count)]


def _next_key(rows: list[dict]) -> int:
    return max((int(row["key"]) for row in rows), default=-1) + 1


def _render_form(values: dict, *, order=None, error=None, status=200):
    with db.reading() as session:
        warehouses = list_warehouses(session)
    # The fields this form shows an error under; any other error is said above the form.
    fields = ["supplier", "expected_at", "tolerance_percent", "note", "lines"]
    fields += [] if order else ["po_number"] + (["warehouse"] if len(warehouses) > 1 else [])
    fields += [f"{name}-{row['key']}" for row in values["rows"] for name in ("sku", "quantity")]
    return render_template("purchase_orders/form.html", values=values, order=order, error=error, warehouses=warehouses,
                           fields=fields, next_key=_next_key(values["rows"])), status


@bp.route("/purchase-orders/new", methods=["GET", "POST"])
@requires(Role.MANAGER)
def new():
    if request.method == "GET":
        with db.reading() as session:
            site = current_warehouse(session)
        values = {"po_number": "", "supplier": "", "warehouse": site.code, "expected_at": "", "tolerance_percent": "",
                  "note": "", "rows": _blank_rows(0)}
        return _render_form(values)
    rows = _rows_from_form(request.form)
    values = _form_values(rows)
    lines, keys = _lines_of(rows)
    try:
        order = db.atomic(
            create_purchase_order, po_number=values["po_number"], supplier=values["supplier"], lines=lines,
            warehouse=values["warehouse"] or None, expected_at=values["expected_at"],
            tolerance_percent=values["tolerance_percent"], note=values["note"], status=request.form.get("status", "open"),
        )
    except WmsError as error:
        return _render_form(values, error=_on_the_page(error, keys), status=error.status)
    flash(f"Purchase order {order.po_number} {'saved as a draft' if order.status == 'draft' else 'created and open'}.", "ok")
    return redirect(url_for("purchase_orders.detail", po_number=order.po_number))


@bp.route("/purchase-order/<path:po_number>/edit", methods=["GET", "POST"])
@requires(Role.MANAGER)
def edit(po_number: str):
    with db.reading() as session:
        view = order_page(session, po_number)
    order = view["order"]
    if not view["editable"]:
        refusal = po_status.edit_refusal(order.status, order.po_number)
        return render_template("purchase_orders/detail.html", label=po_status.label, error=refusal, **view), refusal.status
    if request.method == "GET":
        rows = [{"key": str(n), "sku": line["sku"], "quantity": str(line["ordered"])} for n, line in enumerate(view["lines"])]
        values = {"po_number": order.po_number, "supplier": order.supplier, "warehouse": view["po"]["warehouse"],
                  "expected_at": view["po"]["expected_at"] or "", "note": order.note or "",
                  "tolerance_percent": "" if order.tolerance_percent is None else str(order.tolerance_percent),
                  "rows": rows + _blank_rows(len(rows), 1)}
        return _render_form(values, order=order)
    rows = _rows_from_form(request.form)
    values = {**_form_values(rows), "po_number": order.po_number, "warehouse": view["po"]["warehouse"]}
    lines, keys = _lines_of(rows)
    try:
        db.atomic(update_purchase_order, order.po_number, supplier=values["supplier"], lines=lines,
                  expected_at=values["expected_at"], tolerance_percent=values["tolerance_percent"], note=values["note"])
    except WmsError as error:
        return _render_form(values, order=order, error=_on_the_page(error, keys), status=error.status)
    flash(f"Purchase order {order.po_number} saved.", "ok")
    return redirect(url_for("purchase_orders.detail", po_number=order.po_number))


@bp.get("/purchase-orders/line")
@requires(Role.MANAGER)
def line_row():
    """One more empty line row for the form (htmx), and the key the next one takes."""
    typed = request.args.get("next_row", "")
    if not _ROW_KEY.fullmatch(typed.strip()) or int(typed) >= bounds.MAX_PO_LINES * 2:
        raise ValidationFailed(f"a purchase order has at most {bounds.MAX_PO_LINES:,} lines: save it, then add more "
                               "from its page", field="lines")
    if not request.htmx:
        abort(404)
    key = int(typed)
    return render_template("purchase_orders/_line.html", row=_blank_rows(key, 1)[0], next_key=key + 1, fresh=True,
                           error=None)


# ---- CSV import ---------------------------------------------------------------------------------


@bp.route("/purchase-orders/import", methods=["GET", "POST"])
@requires(Role.MANAGER)
def import_csv():
    return import_page("purchase_orders/import.html", _import_orders, columns=CSV_COLUMNS)


def _import_orders(text: str):
    """The orders of the text, created in the warehouse the manager works in when a row names none."""
    with db.reading() as session:
        site = current_warehouse(session)
    return db.atomic(import_purchase_orders_csv, text, warehouse=site.code)
