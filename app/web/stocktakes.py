"""Stocktakes on the floor: managers open counts (a zone, a list, the cycle-count suggestions),
review variances, order recounts and approve; pickers count locations on a phone, blind.

A picker's pages and answers (the count list, the count page, each scan's answer) never carry what
the ledger expects, unless the stocktake was opened not blind.
"""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import db, stocktakes
from app.errors import ValidationFailed, WmsError
from app.models import Role
from app.security import requires
from app.stocktakes import counting
from app.web.site import current_warehouse

bp = Blueprint("stocktakes", __name__)

DEFAULT_DAYS = 30
DEFAULT_SUGGESTIONS = 20
_SEPARATORS = re.compile(r"[\s,;]+")


def _codes(values: list[str]) -> list[str]:
    """Location codes as a form sends them (checkboxes, or codes typed or scanned into a box, one
    per line or separated by commas), each once (case ignored), in order."""
    codes: dict[str, str] = {}
    for value in values:
        for code in _SEPARATORS.split(value):
            if code:
                codes.setdefault(code.upper(), code)
    return list(codes.values())


def _blind() -> bool:
    """The form's "blind" box (ticked unless the manager untick it)."""
    return request.form.get("blind", "") == "yes"


# ---- managers: the list, opening a count, suggestions ------------------------------------------


@bp.get("/stocktakes/")
@requires(Role.MANAGER)
def index():
    return _index()


def _index(error: WmsError | None = None, values: dict | None = None, status: int = 200):
    with db.reading() as session:
        site = current_warehouse(session)
        context = {
            "site": site,
            "rows": stocktakes.list_stocktakes(session, site.id),
            "zones": stocktakes.zones(session, site.id),
        }
    return render_template("stocktakes/index.html", error=error, values=values or {}, **context), status


@bp.post("/stocktakes/")
@requires(Role.MANAGER)
def open_count():
    form = request.form
    values = {"zone": form.get("zone", ""), "locations": form.get("locations", ""), "how": form.get("how", "list")}
    try:
        if values["how"] not in ("zone", "list"):
            raise ValidationFailed("open a count of a zone or of a list of locations", field="how")
        if not form.get("warehouse", "").strip():  # the page names its warehouse: never the default by accident
            raise ValidationFailed("the form names no warehouse: reload the page and try again", field="warehouse")
        if values["how"] == "zone":
            opened = db.atomic(stocktakes.open_stocktake, zone=values["zone"], warehouse=form.get("warehouse", ""),
                               blind=_blind(), user_id=current_user.id)
        else:
            opened = db.atomic(stocktakes.open_stocktake, locations=_codes(form.getlist("locations")),
                               warehouse=form.get("warehouse", ""), blind=_blind(), user_id=current_user.id)
    except WmsError as error:
        if error.field and error.field.startswith("locations."):
            error.field = "locations"
        return _index(error, values, error.status)
    count = len(opened["locations"])
    flash(f"Stocktake {opened['id']} opened: {count} location{'s' if count != 1 else ''} to count"
          f"{', blind' if opened['blind'] else ''}.", "ok")
    return redirect(url_for("stocktakes.detail", stocktake_id=opened["id"]))


@bp.get("/stocktakes/suggestions")
@requires(Role.MANAGER)
def suggestions():
    values = {"days": request.args.get("days", str(DEFAULT_DAYS)),
              "limit": request.args.get("limit", str(DEFAULT_SUGGESTIONS))}
    error, found = None, []
    with db.reading() as session:
        site = current_warehouse(session)
        try:
            found = stocktakes.suggest_locations(session, site, days=values["days"], limit=values["limit"])
        except ValidationFailed as refused:
            error = refused
    return render_template("stocktakes/suggestions.html", site=site, values=values, error=error,
                           suggestions=found), error.status if error else 200


# ---- managers: one stocktake -------------------------------------------------------------------


@bp.get("/stocktakes/<int:stocktake_id>")
@requires(Role.MANAGER)
def detail(stocktake_id: int):
    return _detail(stocktake_id)


def _detail(stocktake_id: int, *, approved=None, error: WmsError | None = None, status: int = 200):
    with db.reading() as session:
        shown = stocktakes.describe(session, stocktake_id, hide_while_counting=False)
    by_location: dict[str, list[dict]] = {}
    for line in shown["lines"]:
        by_location.setdefault(line["location"], []).append(line)
    changes = [line["variance"] for line in shown["lines"] if line["variance"]]
    summary = {
        "closed": sum(1 for place in shown["locations"] if place["status"] == "closed"),
        "up": sum(v for v in changes if v > 0),
        "down": -sum(v for v in changes if v < 0),
        "lines": len(shown["lines"]),
        "varying": len(changes),
    }
    return render_template("stocktakes/detail.html", stocktake=shown, by_location=by_location, summary=summary,
                           approved=approved, error=error), status


@bp.post("/stocktakes/<int:stocktake_id>/recount")
@requires(Role.MANAGER)
def recount(stocktake_id: int):
    codes = _codes(request.form.getlist("locations"))
    try:
        if not codes:
            raise ValidationFailed("tick the locations to count again", field="locations")
        db.atomic(stocktakes.recount, stocktake_id, codes, user_id=current_user.id)
    except WmsError as error:
        return _detail(stocktake_id, error=error, status=error.status)
    flash(f"Recount ordered: {', '.join(codes)}. The last counter is asked to leave it to someone else.", "ok")
    return redirect(url_for("stocktakes.detail", stocktake_id=stocktake_id))


@bp.post("/stocktakes/<int:stocktake_id>/approve")
@requires(Role.MANAGER)
def approve(stocktake_id: int):
    try:
        approved = db.atomic(stocktakes.approve, stocktake_id, user_id=current_user.id)
    except WmsError as error:
        return _detail(stocktake_id, error=error, status=error.status)
    return _detail(stocktake_id, approved=approved)


@bp.post("/stocktakes/<int:stocktake_id>/cancel")
@requires(Role.MANAGER)
def cancel(stocktake_id: int):
    try:
        db.atomic(stocktakes.cancel_stocktake, stocktake_id)
    except WmsError as error:
        return _detail(stocktake_id, error=error, status=error.status)
    flash(f"Stocktake {stocktake_id} cancelled: nothing was posted.", "ok")
    return redirect(url_for("stocktakes.detail", stocktake_id=stocktake_id))


# ---- pickers: counting -------------------------------------------------------------------------


@bp.get("/count/")
@requires(Role.PICKER)
def count_index():
    return _count_index()


def _count_index(error: WmsError | None = None, scanned: str = "", status: int = 200):
    with db.reading() as session:
        site = current_warehouse(session)
        places = counting.count_list(session, site.id, current_user.id)
    return render_template("stocktakes/count_index.html", site=site, places=places, error=error,
                           scanned=scanned), status


@bp.get("/count/go")
@requires(Role.PICKER)
def count_go():
    """A scanned location: its count page."""
    scanned = request.args.get("location", "")
    try:
        with db.reading() as session:
            row_id = counting.find_for_count(session, current_warehouse(session).code, scanned)
    except WmsError as error:
        return _count_index(error, scanned, error.status)
    return redirect(url_for("stocktakes.count_location", row_id=row_id))


@bp.get("/count/<int:row_id>")
@requires(Role.PICKER)
def count_location(row_id: int):
    return _count_page(row_id)


def _count_page(row_id: int, *, error: WmsError | None = None, values: dict | None = None, done: str | None = None,
                status: int = 200):
    with db.reading() as session:
        sheet = counting.location_sheet(session, row_id, current_user.id)
    return render_template("stocktakes/count.html", sheet=sheet, error=error, values=values or {"quantity": "1"},
                           done=done), status


@bp.post("/count/<int:row_id>")
@requires(Role.PICKER)
def count_scan(row_id: int):
    """A scan (or a typed quantity) adds to the product's count here."""
    values = {"product": request.form.get("product", ""), "quantity": request.form.get("quantity", "1")}
    return _counted(row_id, values, add=values["quantity"])


@bp.post("/count/<int:row_id>/set")
@requires(Role.PICKER)
def count_set(row_id: int):
    """A corrected count of a product here: replaces what was counted."""
    values = {"product": request.form.get("product", ""), "counted": request.form.get("counted", "")}
    return _counted(row_id, values, counted=values["counted"])


def _counted(row_id: int, values: dict, *, add=None, counted=None):
    try:
        done = db.atomic(counting.record_count_at, row_id, product=values["product"], add=add, counted=counted,
                         user_id=current_user.id, client_id=request.headers.get("X-Client-Id"))
    except WmsError as error:
        if request.htmx:
            return render_template("stocktakes/_count_answer.html", error=error), error.status
        return _count_page(row_id, error=error, values={**values, "quantity": values.get("quantity", "1")},
                           status=error.status)
    if done.added is not None:
        message = f"+{done.added} {done.sku} ({done.name}): {done.counted} counted at {done.location}."
    else:
        message = f"{done.sku} ({done.name}) set to {done.counted} at {done.location}."
    if request.htmx:
        return render_template("stocktakes/_count_answer.html", done=done, message=message), 201
    return _count_page(row_id, done=message)


@bp.post("/count/<int:row_id>/start")
@requires(Role.PICKER)
def count_start(row_id: int):
    """Count a recount anyway (nobody else can)."""
    try:
        db.atomic(counting.start_location, row_id, user_id=current_user.id, alone=True)
    except WmsError as error:
        return _count_page(row_id, error=error, status=error.status)
    return redirect(url_for("stocktakes.count_location", row_id=row_id))


@bp.post("/count/<int:row_id>/close")
@requires(Role.PICKER)
def count_close(row_id: int):
    try:
        closed = db.atomic(counting.close_location_at, row_id, user_id=current_user.id)
    except WmsError as error:
        return _count_page(row_id, error=error, status=error.status)
    flash(f"{closed['location']} is counted and closed. Thank you.", "ok")
    return redirect(url_for("stocktakes.count_index"))

