"""Problem reports: a picker reports damaged, missing or found stock from any scan page (the
"Report a problem" link of partials/report_problem.html brings the page's location and product);
a manager approves the adjustment each proposes, or rejects it (app.problem_reports)."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from app import bounds, db
from app import problem_reports as problems
from app.errors import WmsError
from app.models import Role
from app.security import requires
from app.web.site import current_warehouse, current_warehouse_code

bp = Blueprint("problems", __name__, url_prefix="/problems")

FIELDS = ("kind", "location", "product", "quantity", "note")
PREFILL_MAX = bounds.BARCODE_MAX  # characters of ?location= / ?product= put back into a field
BACK_MAX = 2000  # characters of the address the back link goes to
STATUS_TABS = (("open", "Waiting"), ("approved", "Approved"), ("rejected", "Rejected"), ("all", "All"))
PAGE_SIZE = 50
MINE = 10  # a picker's own latest reports shown under the form


def _back() -> str | None:
    """The scan page the picker came from (?back=, a path on this site), or None."""
    value = request.values.get("back", "")
    if (isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\"))
            and len(value) <= BACK_MAX and bounds.bad_character(value) is None and "\\" not in value
            and not value.startswith(url_for("problems.new"))):
        return value
    return None


def _prefill(name: str) -> str:
    value = request.args.get(name, "")
    value = value.strip()[:PREFILL_MAX]
    return "" if bounds.bad_character(value) is not None else value


def _new_page(values: dict, *, error: WmsError | None = None, done=None, status: int = 200):
    with db.reading() as session:
        site = current_warehouse(session, "")
        mine = problems.reports_by(session, current_user.id, limit=MINE)
    page = render_template("problems/new.html", values=values, error=error, done=done, site=site, mine=mine,
                           kinds=problems.KIND_WORDS, back=_back())
    return page, status


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.PICKER)
def new():
    """The report form (prefilled from ?location=&product=); posting it makes an OPEN report."""
    if request.method == "GET":
        values = {name: "" for name in FIELDS}
        values.update(location=_prefill("location"), product=_prefill("product"), kind=_prefill("kind").lower())
        return _new_page(values)
    values = {name: request.form.get(name, "") for name in FIELDS}
    try:
        done = db.atomic(problems.report_problem, kind=values["kind"], location=values["location"],
                         product=values["product"], quantity=values["quantity"], note=values["note"],
                         warehouse=current_warehouse_code(""), user_id=current_user.id)
    except WmsError as error:
        return _new_page(values, error=error, status=error.status)
    kept = {name: "" for name in FIELDS}
    kept["location"] = values["location"].strip()[:PREFILL_MAX]
    return _new_page(kept, done=done)


# ---- managers ----------------------------------------------------------------------------------


def _status() -> str:
    value = request.args.get("status", "open")
    return value if value in {key for key, _ in STATUS_TABS} else "open"


def _page_number() -> int:
    value = request.args.get("page", "1").strip()
    return min(max(int(value), 1), 10_000) if value.isascii() and value.isdigit() and len(value) <= 5 else 1


def _index_page(*, error: WmsError | None = None, done=None, status_code: int = 200):
    status, page = _status(), _page_number()
    with db.reading() as session:
        site = current_warehouse(session)
        rows = problems.list_reports(session, warehouse=site, status=status, limit=PAGE_SIZE + 1,
                                     offset=(page - 1) * PAGE_SIZE)
        waiting = problems.open_count(session, site.id)
    context = dict(site=site, rows=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE, page=page, status=status,
                   tabs=STATUS_TABS, waiting=waiting, error=error, done=done)
    return render_template("problems/index.html", **context), status_code


@bp.get("/")
@requires(Role.MANAGER)
def index():
    """The current warehouse's reports (or ?warehouse=): those waiting, oldest first, by default."""
    return _index_page()


def _decided(report_id: int, decide, **values):
    """Approve or reject: the report's card (htmx) or the list again, in words either way."""
    try:
        row = db.atomic(decide, report_id, user_id=current_user.id, **values)
    except WmsError as error:
        if request.htmx:
            try:
                with db.reading() as session:
                    row = problems.get_report(session, report_id)
            except WmsError:
                row = None
            return render_template("problems/_report.html", row=row, error=error, values=values), error.status
        return _index_page(error=error, status_code=error.status)
    if request.htmx:
        return render_template("problems/_report.html", row=row, just_decided=True), 200, {"HX-Trigger": "problem-decided"}
    return _index_page(done=row)


@bp.post("/<int:report_id>/approve")
@requires(Role.MANAGER)
def approve(report_id: int):
    """Post the report's adjustment (the quantity may be changed) and mark it approved."""
    return _decided(report_id, problems.approve, quantity=request.form.get("quantity", ""),
                    note=request.form.get("note", ""))


@bp.post("/<int:report_id>/reject")
@requires(Role.MANAGER)
def reject(report_id: int):
    """Close the report without moving anything; the reason is kept for the picker."""
    return _decided(report_id, problems.reject, reason=request.form.get("reason", ""))
