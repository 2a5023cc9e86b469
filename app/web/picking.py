"""Picking on a phone: the open pick jobs (take one), a job's walk (scan the totes, then at each
stop the location, the product and the tote; a short button), and a manager's release of allocated
orders as pick jobs (app.outbound.picking does the work)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from app import db
from app.errors import WmsError
from app.models import Role
from app.outbound import picking
from app.security import requires
from app.web.site import current_warehouse, current_warehouse_code

bp = Blueprint("picking", __name__, url_prefix="/picking")

PICK_FIELDS = ("location", "sku", "quantity", "tote")
RELEASE_FIELDS = ("rule", "carrier", "older_than_minutes", "mode", "batch_size", "limit")


@bp.get("/")
@requires(Role.PICKER)
def index():
    """The warehouse's open pick jobs, oldest first."""
    context, code = {"site": None, "jobs": []}, 200
    try:
        with db.reading() as session:
            context["site"] = current_warehouse(session)
            context["jobs"] = picking.list_jobs(session, warehouse=context["site"].code)
    except WmsError as error:
        context["error"], code = error, error.status
    return render_template("picking/index.html", **context), code


@bp.post("/<int:job_id>/take")
@requires(Role.PICKER)
def take(job_id: int):
    try:
        db.atomic(picking.take_job, job_id, current_user.id)
    except WmsError as error:
        with db.reading() as session:
            site = current_warehouse(session)
            jobs = picking.list_jobs(session, warehouse=site.code)
        return render_template("picking/index.html", site=site, jobs=jobs, error=error), error.status
    return redirect(url_for("picking.job", job_id=job_id))


def _job_page(job_id: int, *, error=None, answer=None, values=None, status: int = 200):
    with db.reading() as session:
        job = picking.get_pick_job(session, job_id)
    return render_template("picking/job.html", job=job, error=error, answer=answer, values=values or {}), status


@bp.get("/<int:job_id>")
@requires(Role.PICKER)
def job(job_id: int):
    """A job's walk: the totes to scan first, then the stop to pick and the scan form."""
    return _job_page(job_id)


@bp.get("/<int:job_id>/stop")
@requires(Role.PICKER)
def stop(job_id: int):
    """The current stop and the job's stops (htmx refreshes it after each pick)."""
    with db.reading() as session:
        found = picking.get_pick_job(session, job_id)
    return render_template("picking/_stop.html", job=found)


def _answered(job_id: int, kind: str, run, values: dict):
    """Run a scan's use case; htmx gets a line for the log (a pick's answer carries the stop to pick
    now, swapped into #stop out of band; other scans ask the page to refresh it), a plain form the
    page again."""
    try:
        done = db.atomic(run)
    except WmsError as error:
        if request.htmx:
            return render_template("picking/_answer.html", error=error, values=values, kind=kind), error.status
        return _job_page(job_id, error=error, values=values, status=error.status)
    if request.htmx:
        if kind == "pick":  # the answer carries the stop to pick now (#stop, out of band): no refresh asked
            walk = {"id": job_id, "stops": done["stops"], "next_stop": done["next_stop"]}
            return render_template("picking/_answer.html", done=done, kind=kind, walk=walk)
        headers = {"HX-Trigger": "pick-done"}
        if kind == "tote" and all(t["scanned"] for t in done["totes"]):
            headers = {"HX-Redirect": url_for("picking.job", job_id=job_id)}
        return render_template("picking/_answer.html", done=done, kind=kind), 200, headers
    return _job_page(job_id, answer={"done": done, "kind": kind})


@bp.post("/<int:job_id>/totes")
@requires(Role.PICKER)
def tote(job_id: int):
    """The picker scanned a tote's label at the start."""
    values = {"tote": request.form.get("tote", "")}
    return _answered(job_id, "tote",
                     lambda session: picking.confirm_tote(session, job_id, values["tote"], current_user.id), values)


@bp.post("/<int:job_id>/pick")
@requires(Role.PICKER)
def pick(job_id: int):
    """One pick: location, product, quantity (blank: one unit per scan) and tote."""
    values = {name: request.form.get(name, "") for name in PICK_FIELDS}
    quantity = values["quantity"].strip() or "1"

    def run(session):
        return picking.record_pick(session, job_id, location=values["location"], sku=values["sku"],
                                   quantity=quantity, tote=values["tote"], user_id=current_user.id,
                                   client_id=request.headers.get("X-Client-Id"))

    return _answered(job_id, "pick", run, values)


@bp.post("/<int:job_id>/short")
@requires(Role.PICKER)
def short(job_id: int):
    """The location holds less than the stop needs: how many are there."""
    values = {name: request.form.get(name, "") for name in ("location", "sku", "found")}

    def run(session):
        return picking.record_short(session, job_id, location=values["location"], sku=values["sku"],
                                    found=values["found"], user_id=current_user.id,
                                    client_id=request.headers.get("X-Client-Id"))

    return _answered(job_id, "short", run, values)


@bp.route("/release", methods=["GET", "POST"])
@requires(Role.MANAGER)
def release():
    """A manager releases allocated orders as pick jobs, by filter."""
    source = request.form if request.method == "POST" else request.args
    values = {name: source.get(name, "").strip() for name in RELEASE_FIELDS}
    values["mode"] = values["mode"] or "batch"
    values["batch_size"] = values["batch_size"] or str(picking.DEFAULT_BATCH)
    filters = {"rule": values["rule"] or None, "carrier": values["carrier"] or None,
               "older_than_minutes": values["older_than_minutes"] or None, "limit": values["limit"] or None}
    warehouse = current_warehouse_code()
    context, code = {"values": values, "matching": [], "released": None, "error": None, "site": None}, 200
    try:
        if request.method == "POST":
            context["released"] = db.atomic(picking.release_pick_jobs, warehouse=warehouse, mode=values["mode"],
                                            batch_size=values["batch_size"], user_id=current_user.id, **filters)
        with db.reading() as session:
            context["site"] = current_warehouse(session)
            context["matching"] = picking.releasable(session, warehouse=context["site"].code, **filters)
    except WmsError as error:
        context["error"], code = error, error.status
    return render_template("picking/release.html", **context), code
