"""Putting received stock away by scanning: the stock's location, the product, (how many) and
where it goes; the warehouse's tasks below, oldest first."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user

from app import db
from app.errors import WmsError
from app.inbound import putaway
from app.models import Role
from app.security import requires
from app.warehouses import get_warehouse
from app.web.products import page_number
from app.web.scan_labels import check_answer, label_scan
from app.web.site import current_warehouse

bp = Blueprint("putaway", __name__, url_prefix="/putaway")

FIELDS = ("task", "from_location", "product", "quantity", "location")
STATUS_TABS = (("open", "To do"), ("done", "Done"), ("all", "All"))
PAGE_SIZE = 50  # tasks a page (a phone scrolls through 50 cards; search finds the rest)


def _listed(session, status: str, query: str, page: int = 1) -> dict:
    site = current_warehouse(session)
    tasks = putaway.list_tasks(session, warehouse=site, status=status, query=query, limit=PAGE_SIZE + 1,
                               offset=(page - 1) * PAGE_SIZE)
    return {"site": site, "tasks": tasks[:PAGE_SIZE], "has_next": len(tasks) > PAGE_SIZE, "page": page,
            "status": status, "query": query, "tabs": STATUS_TABS}


@bp.get("/")
@requires(Role.PICKER)
def index():
    """The scan form (for the task chosen with ?task=, else whichever fits the scans) and the
    warehouse's tasks; with htmx asking for #tasks, the tasks only."""
    status = request.args.get("status", "open") or "open"
    query = request.args.get("q", "")
    chosen = request.args.get("task", "")
    page = page_number()
    context = {"site": None, "tasks": [], "status": status, "query": query, "task": None, "values": {},
               "tabs": STATUS_TABS, "page": page, "has_next": False}
    code = 200
    try:
        with db.reading() as session:
            context["site"] = current_warehouse(session)
            context.update(_listed(session, status, query, page))
            context["task"] = putaway.open_task(session, chosen) if chosen.strip() else None
    except WmsError as error:
        context["error"], code = error, error.status
    template = "putaway/_tasks.html" if request.htmx and request.headers.get("HX-Target") == "tasks" else "putaway/index.html"
    return render_template(template, **context), code


@bp.get("/check")
@requires(Role.PICKER)
def check():
    """What a scan names, for instant feedback: {"label": "..."} or a 4xx error."""
    with db.reading() as session:
        site = get_warehouse(session, request.args.get("warehouse", ""))
        label = label_scan(session, site.id, request.args.get("kind", ""), request.args.get("code", ""))
    return jsonify(check_answer(label, request.args.get("kind", ""), request.args.get("code", "")))


@bp.post("/")
@requires(Role.PICKER)
def put():
    values = {name: request.form.get(name, "") for name in FIELDS}
    try:
        with db.reading() as session:
            site = current_warehouse(session)
        done = db.atomic(
            putaway.put_away, warehouse=site.code, task=values["task"].strip() or None,
            from_location=values["from_location"], product=values["product"], quantity=values["quantity"].strip() or None,
            location=values["location"], user_id=current_user.id, client_id=request.headers.get("X-Client-Id"),
        )
    except WmsError as error:
        if request.htmx:
            return render_template("putaway/_answer.html", error=error, values=values), error.status
        with db.reading() as session:
            context = _listed(session, "open", "")
        return render_template("putaway/index.html", error=error, values=values, task=None, **context), error.status
    if request.htmx:
        return render_template("putaway/_answer.html", done=done), 200, {"HX-Trigger": "putaway-done"}
    with db.reading() as session:
        context = _listed(session, "open", "")
    return render_template("putaway/index.html", done=done, values={}, task=None, **context)
