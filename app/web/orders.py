"""Orders mirrored from Starshipit: the live dashboard, one order, failed events, discrepancies."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import db
from app.errors import WmsError
from app.models import DiscrepancyStatus, Role
from app.orders import queries
from app.outbound import allocation
from app.orders.discrepancies_admin import resolve_discrepancy
from app.security import requires
from app.warehouses import list_warehouses

bp = Blueprint("orders", __name__)

LIVE_ID = "order-live"
FILTERS_ID = "order-filters"


@bp.route("/orders/")
@requires(Role.PICKER)
def index():
    filters = queries.parse_filters(request.args)
    with db.reading() as session:
        live = _live_context(session, filters)
        warehouses = list_warehouses(session)
    return render_template("orders/index.html", warehouses=warehouses, statuses=queries.STATUSES, **live)


@bp.route("/orders/live")
@requires(Role.PICKER)
def live():
    """The counts and the list, polled every 2 s and fetched as the search box changes."""
    filters = queries.parse_filters(request.args)
    with db.reading() as session:
        context = _live_context(session, filters)
    headers = {}
    if request.headers.get("HX-Trigger") == FILTERS_ID:  # the person changed a filter: keep it in the address
        headers["HX-Replace-Url"] = url_for("orders.index", **filters.params())
    return render_template("orders/_live.html", **context), 200, headers


def _live_context(session, filters: queries.OrderFilters) -> dict:
    return {
        "many_warehouses": queries.warehouse_count(session) > 1,
        "filters": filters,
        "counts": queries.status_counts(session, filters.warehouse),
        "page": queries.list_orders(session, filters),
    }


@bp.route("/order/<path:order_number>")
@requires(Role.PICKER)
def detail(order_number: str):
    return render_template("orders/detail.html", **_detail(order_number))


def _detail(order_number: str) -> dict:
    """The order page's context: the order, and where each line's allocated units are."""
    with db.reading() as session:
        detail = queries.order_detail(session, order_number)
        held = allocation.order_allocations(session, detail["order"])
    detail["held_at"] = {line["sku"]: line["locations"] for line in held["lines"]}
    detail["can_allocate"] = allocation.refusal(detail["order"].route, detail["order"].status) is None
    return detail


@bp.post("/order/<path:order_number>/allocate")
@requires(Role.MANAGER)
def allocate(order_number: str):
    """A manager's "Allocate now" on a WMS order's page."""
    try:
        done = db.atomic(allocation.allocate_now, order_number)
    except WmsError as error:
        try:
            context = _detail(order_number)
        except WmsError:
            raise error from None  # no such order: the error page says so
        return render_template("orders/detail.html", allocate_error=error, **context), error.status
    if done["status"] == "ALLOCATED":
        flash(f"Order {done['order_number']} is allocated.", "ok")
    else:
        short = [line["sku"] for line in done["lines"] if line["allocated"] < line["quantity"]]
        flash(f"Order {done['order_number']} is awaiting stock ({', '.join(short)}): it is allocated as soon as "
              "stock arrives.", "warn")
    return redirect(url_for("orders.detail", order_number=done["order_number"]))


# ---- failed events (managers) --------------------------------------------------------------


@bp.route("/orders/failed-events")
@requires(Role.MANAGER)
def failed_events():
    with db.reading() as session:
        events = queries.failed_events(session)
    return render_template("orders/failed_events.html", events=events)


@bp.route("/orders/failed-events/<int:event_id>/retry", methods=["POST"])
@requires(Role.MANAGER)
def retry_event(event_id: int):
    from app.orders import inbox

    db.atomic(inbox.retry_event, event_id)
    inbox.enqueue_processing(event_id)
    return _event_done(event_id, f"Event {event_id} queued again.")


@bp.route("/orders/failed-events/<int:event_id>/dismiss", methods=["POST"])
@requires(Role.MANAGER)
def dismiss_event(event_id: int):
    from app.orders import inbox

    db.atomic(inbox.dismiss_event, event_id, current_user.id)
    return _event_done(event_id, f"Event {event_id} dismissed.")


def _event_done(event_id: int, message: str):
    if request.htmx:
        return render_template("orders/_event_done.html", event_id=event_id, message=message)
    return redirect(url_for("orders.failed_events"))


# ---- discrepancies (managers) --------------------------------------------------------------


@bp.route("/orders/discrepancies")
@requires(Role.MANAGER)
def discrepancies():
    status = request.args.get("status", DiscrepancyStatus.OPEN)
    with db.reading() as session:
        rows = queries.list_discrepancies(session, status or None)
    return render_template("orders/discrepancies.html", rows=rows, status=status)


@bp.route("/orders/discrepancies/<int:discrepancy_id>/resolve", methods=["POST"])
@requires(Role.MANAGER)
def resolve(discrepancy_id: int):
    form = request.form
    db.atomic(
        resolve_discrepancy,
        discrepancy_id,
        user_id=current_user.id,
        note=form.get("note", ""),
        correction_location=form.get("location", ""),
        correction_quantity=form.get("quantity", ""),
    )
    if not request.htmx:
        return redirect(url_for("orders.discrepancies"))
    with db.reading() as session:
        (row,) = queries.list_discrepancies(session, only_id=discrepancy_id)
    return render_template("orders/_discrepancy.html", row=row, just_resolved=True)

