"""Managers' outbound routing: the ordered rules (add, edit, move up and down, enable, disable,
delete), the tester ("which rule would route this order"), and routing one order by hand from its
page. Every change is one use case of app.outbound.routing."""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import db
from app.errors import WmsError
from app.models import ROUTES, Role
from app.orders import queries
from app.outbound import routing
from app.security import requires
from app.warehouses import list_warehouses

bp = Blueprint("routing", __name__, url_prefix="/routing")

TEXT_FIELDS, SKU_FIELDS = routing.TEXT_KEYS, routing.LIST_KEYS  # the form's boxes of a rule's match
RULE_FIELDS = ("name", "outcome", "enabled", *TEXT_FIELDS, *SKU_FIELDS)
TEST_FIELDS = ("order_number", *routing.FACT_KEYS)
_LIST_INDEX = re.compile(r"\.\d+$")


def _form_field(field: str | None) -> str | None:
    """The form's name for a field the use case names (match.skus_any.3 -> skus_any)."""
    if field is None:
        return None
    return _LIST_INDEX.sub("", field.removeprefix("match."))


def _rule_from_form(form) -> tuple[dict, dict]:
    """(what the form says, as typed: for the form again; the rule for the use case)."""
    values = {name: form.get(name, "") for name in RULE_FIELDS if name != "enabled"}
    values["enabled"] = form.get("enabled") is not None
    match: dict = {}
    for name in TEXT_FIELDS:
        if values[name].strip():
            match[name] = values[name]
    for name in SKU_FIELDS:
        skus = routing.sku_words(values[name])
        if skus or values[name].strip():
            match[name] = skus
    return values, {"name": values["name"], "enabled": values["enabled"], "match": match, "outcome": values["outcome"]}


def _values_of(rule: dict) -> dict:
    match = rule["match"]
    values = {name: match.get(name, "") for name in TEXT_FIELDS}
    values.update({name: "\n".join(match.get(name, [])) for name in SKU_FIELDS})
    return {**values, "name": rule["name"], "outcome": rule["outcome"], "enabled": rule["enabled"]}


def _page(*, values=None, error: WmsError | None = None, form: str | None = None, test=None, found=None,
          status: int = 200):
    with db.reading() as session:
        rules = routing.list_rules(session)
        warehouses = [w.code for w in list_warehouses(session)]
    if error is not None:
        error.field = _form_field(error.field)
    return render_template(
        "routing/index.html", rules=rules, warehouses=warehouses, routes=ROUTES, keys=routing.KEY_LABELS,
        values=values or {"enabled": True, "outcome": "WMS"}, error=error, error_form=form, test=test or {},
        found=found,
    ), status


@bp.get("/")
@requires(Role.MANAGER)
def index():
    return _page()


@bp.post("/rules")
@requires(Role.MANAGER)
def add_rule():
    values, rule = _rule_from_form(request.form)
    try:
        saved = db.atomic(routing.save_rule, None, rule)
    except WmsError as error:
        return _page(values=values, error=error, form="rule", status=error.status)
    flash(f"Rule {saved['name']} added as number {saved['position']}.", "ok")
    return redirect(url_for("routing.index"))


def _edit_page(rule_id: int, values=None, error: WmsError | None = None, status: int = 200):
    if values is None:
        with db.reading() as session:
            values = _values_of(routing.get_rule(session, rule_id))
    if error is not None:
        error.field = _form_field(error.field)
    with db.reading() as session:
        warehouses = [w.code for w in list_warehouses(session)]
    return render_template("routing/edit.html", rule_id=rule_id, values=values, error=error, warehouses=warehouses,
                           routes=ROUTES, keys=routing.KEY_LABELS), status


@bp.get("/rules/<int:rule_id>/edit")
@requires(Role.MANAGER)
def edit_rule(rule_id: int):
    return _edit_page(rule_id)


@bp.post("/rules/<int:rule_id>/edit")
@requires(Role.MANAGER)
def save_rule(rule_id: int):
    values, rule = _rule_from_form(request.form)
    try:
        saved = db.atomic(routing.save_rule, rule_id, rule)
    except WmsError as error:
        return _edit_page(rule_id, values, error, status=error.status)
    flash(f"Rule {saved['name']} saved.", "ok")
    return redirect(url_for("routing.index"))


@bp.post("/rules/<int:rule_id>/up")
@requires(Role.MANAGER)
def move_up(rule_id: int):
    db.atomic(routing.move_rule, rule_id, -1)
    return redirect(url_for("routing.index"))


@bp.post("/rules/<int:rule_id>/down")
@requires(Role.MANAGER)
def move_down(rule_id: int):
    db.atomic(routing.move_rule, rule_id, 1)
    return redirect(url_for("routing.index"))


@bp.post("/rules/<int:rule_id>/enable")
@requires(Role.MANAGER)
def enable(rule_id: int):
    rule = db.atomic(routing.set_enabled, rule_id, True)
    flash(f"Rule {rule['name']} enabled.", "ok")
    return redirect(url_for("routing.index"))


@bp.post("/rules/<int:rule_id>/disable")
@requires(Role.MANAGER)
def disable(rule_id: int):
    rule = db.atomic(routing.set_enabled, rule_id, False)
    flash(f"Rule {rule['name']} disabled: orders skip it.", "ok")
    return redirect(url_for("routing.index"))


@bp.post("/rules/<int:rule_id>/delete")
@requires(Role.MANAGER)
def delete(rule_id: int):
    rule = db.atomic(routing.delete_rule, rule_id)
    flash(f"Rule {rule['name']} deleted.", "ok")
    return redirect(url_for("routing.index"))


@bp.post("/test")
@requires(Role.MANAGER)
def test():
    """Which rule would route this order: an order number, or facts typed."""
    typed = {name: request.form.get(name, "") for name in TEST_FIELDS}
    facts = {name: value for name, value in typed.items() if value.strip()}
    try:
        with db.reading() as session:
            found = routing.which_rule(session, facts)
    except WmsError as error:
        return _page(test=typed, error=error, form="test", status=error.status)
    return _page(test=typed, found=found)


@bp.post("/orders/<path:order_number>")
@requires(Role.MANAGER)
def reroute(order_number: str):
    """A manager routes one order by hand from its page."""
    try:
        routed = db.atomic(routing.reroute, order_number, request.form.get("outcome", ""), current_user.id)
    except WmsError as error:
        with db.reading() as session:
            detail = queries.order_detail(session, order_number)
        return render_template("orders/detail.html", route_error=error, **detail), error.status
    flash(f"Order {routed['order_number']} is routed {routed['route']} by hand.", "ok")
    return redirect(url_for("orders.detail", order_number=routed["order_number"]))
