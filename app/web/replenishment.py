"""Replenishment pages: pickers' task list and the scan page of one task (source, product,
quantity, pick face); managers' min/max per pick face (set one, import a CSV, remove one) and
the check of every pick face on demand."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app import db, replenishment
from app.catalog import find_product
from app.errors import ValidationFailed, WmsError
from app.models import Role
from app.replenishment_import import COLUMNS, import_rules
from app.security import requires
from app.warehouses import find_location
from app.web.products import page_number
from app.web.scan_labels import check_answer
from app.web.site import current_warehouse
from app.web.uploads import import_page

bp = Blueprint("replenishment", __name__, url_prefix="/replenishment")

PAGE_SIZE = 50
SCANS = ("from_location", "product", "quantity", "to_location")
ASK = {"from_location": "scan the location you take the stock from", "product": "scan the product",
       "quantity": "type how many you move", "to_location": "scan the pick face you fill"}
RULE_FIELDS = ("sku", "location", "min", "max")
STATUS_TABS = (("open", "Open"), ("done", "Done"), ("cancelled", "Cancelled"))


# ---- pickers: the tasks --------------------------------------------------------------------


@bp.get("/")
@requires(Role.PICKER)
def tasks():
    status = request.args.get("status", "open").strip().lower() or "open"
    page = page_number()
    with db.reading() as session:
        site = current_warehouse(session)
        found = replenishment.list_tasks(session, site.id, status=status, limit=PAGE_SIZE + 1,
                                         offset=(page - 1) * PAGE_SIZE)
    return render_template("replenishment/tasks.html", tasks=found[:PAGE_SIZE], site=site, status=status,
                           tabs=STATUS_TABS, page=page, has_next=len(found) > PAGE_SIZE)


def _task_page(task_id: int, values: dict | None = None, error: WmsError | None = None, done=None, status: int = 200):
    with db.reading() as session:
        task = replenishment.describe_task(session, task_id)
        following = _next_task(session, task)
    values = values or {"quantity": str(task["legs"][0]["quantity"] if task["legs"] else task["quantity"])}
    template = "replenishment/_task.html" if request.htmx else "replenishment/task.html"
    return render_template(template, task=task, values=values, error=error, done=done, following=following), status


def _next_task(session, task: dict) -> dict | None:
    """The oldest other open task of the task's warehouse, to go on to."""
    site_id = current_warehouse(session, task["warehouse"]).id
    return next((t for t in replenishment.list_tasks(session, site_id, limit=2) if t["id"] != task["id"]), None)


@bp.get("/tasks/<int:task_id>")
@requires(Role.PICKER)
def task(task_id: int):
    return _task_page(task_id)


@bp.post("/tasks/<int:task_id>/complete")
@requires(Role.PICKER)
def complete(task_id: int):
    values = {name: request.form.get(name, "").strip() for name in SCANS}
    try:
        for name in SCANS:
            if not values[name]:
                raise ValidationFailed(ASK[name], field=name)
        done = db.atomic(replenishment.complete_task, task_id, user_id=current_user.id,
                         client_id=request.headers.get("X-Client-Id"), **values)
    except WmsError as error:
        return _task_page(task_id, values, error, status=error.status)
    return _task_page(task_id, done=done)


@bp.get("/tasks/<int:task_id>/scan")
@requires(Role.PICKER)
def scan(task_id: int):
    """What a scan on a task's page names, for instant feedback: {"label": "..."} or a 4xx error."""
    kind = request.args.get("kind", "")
    code = request.args.get("code", "")
    with db.reading() as session:
        task = replenishment.describe_task(session, task_id)
        site = current_warehouse(session, task["warehouse"])
        if kind in ("from_location", "to_location"):
            try:
                place = find_location(session, site.id, code)
            except WmsError as error:
                error.field = kind
                raise
            if kind == "to_location" and place.code != task["to_location"]:
                raise ValidationFailed(f"this task fills {task['to_location']}, not {place.code}", field=kind)
            return jsonify(label=f"{place.code} · {place.type}")
        if kind == "product":
            product = find_product(session, code)
            if product.sku != task["sku"]:
                raise ValidationFailed(f"this task is for {task['sku']}, not {product.sku}", field="product")
            return jsonify(check_answer(f"{product.sku} · {product.name}", kind, code))
    raise ValidationFailed("kind must be from_location, product or to_location", field="kind")


# ---- managers: min/max per pick face --------------------------------------------------------


def _rules_page(values: dict | None = None, error: WmsError | None = None, status: int = 200):
    page = page_number()
    with db.reading() as session:
        site = current_warehouse(session)
        rules = replenishment.list_rules(session, site.id, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render_template("replenishment/rules.html", rules=rules[:PAGE_SIZE], site=site, values=values or {},
                           error=error, page=page, has_next=len(rules) > PAGE_SIZE), status


@bp.get("/rules")
@requires(Role.MANAGER)
def rules():
    return _rules_page()


@bp.post("/rules")
@requires(Role.MANAGER)
def save_rule():
    values = {name: request.form.get(name, "").strip() for name in RULE_FIELDS}
    warehouse = request.form.get("warehouse", "")
    try:
        saved = replenishment.save_rule(warehouse=warehouse or None, **values)
    except WmsError as error:
        return _rules_page(values, error, status=error.status)
    rule = saved.rule
    flash(f"{rule['sku']} at {rule['location']}: min {rule['min']:,}, max {rule['max']:,} "
          f"{'set' if saved.created else 'changed'}.", "ok")
    return redirect(url_for("replenishment.rules", warehouse=rule["warehouse"]))


@bp.post("/rules/<int:rule_id>/remove")
@requires(Role.MANAGER)
def remove_rule(rule_id: int):
    removed = db.atomic(replenishment.remove_rule, rule_id)
    replenishment.rules_changed()
    message = f"The rule for {removed['sku']} at {removed['location']} is removed"
    if removed["cancelled_task"]:
        message += f"; its open task {removed['cancelled_task']} is cancelled"
    flash(message + ".", "ok")
    return redirect(url_for("replenishment.rules", warehouse=request.args.get("warehouse") or None))


@bp.post("/rules/check")
@requires(Role.MANAGER)
def check():
    with db.reading() as session:
        site = current_warehouse(session, request.form.get("warehouse", ""))
    summary = replenishment.start_check(site.id)
    if summary is None:
        flash(f"Checking every pick face of {site.code}: new tasks appear on the task list in a moment.", "ok")
    else:
        flash(f"Checked {_count(summary['pick_faces'], 'pick face')} of {site.code}: {summary['below_minimum']:,} "
              f"below their minimum; {_count(summary['created'], 'task')} created, {summary['already_open']:,} already "
              f"open, {summary['nothing_in_storage']:,} with nothing in storage to bring.", "ok")
    return redirect(url_for("replenishment.rules", warehouse=site.code))


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@bp.route("/rules/import", methods=["GET", "POST"])
@requires(Role.MANAGER)
def import_csv():
    with db.reading() as session:
        site = current_warehouse(session, request.form.get("warehouse", "") if request.method == "POST" else None)
    return import_page("replenishment/import.html", lambda text: import_rules(text, warehouse=site.code), site=site,
                       columns=COLUMNS)
