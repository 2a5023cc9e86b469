"""An order's label page: the label job's progress while Starshipit is asked (polled every second),
the error in Starshipit's words with Retry, and once done the tracking numbers, the label PDF to
print and Reprint. The pack step queues the job (app.outbound.labels.request_label)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import bounds, db
from app.errors import WmsError
from app.models import Role
from app.outbound import labels
from app.security import requires

bp = Blueprint("labels", __name__)


def _render(order_number: str, *, error: WmsError | None = None, status: int = 200):
    with db.reading() as session:
        context = labels.label_page(session, order_number)
    template = "labels/_job.html" if request.htmx and error is None else "labels/page.html"
    return render_template(template, error=error, **context), status


@bp.get("/order/<path:order_number>/label")
@requires(Role.PICKER)
def page(order_number: str):
    """The whole page; the job's panel alone when htmx polls it."""
    return _render(order_number)


@bp.get("/order/<path:order_number>/label/pdf")
@requires(Role.PICKER)
def pdf(order_number: str):
    """The label PDF, inline, to view and print (?n=2 for a shipment's second package)."""
    number = bounds.whole(request.args.get("n", "1"), "n", minimum=1, maximum=bounds.MAX_ROW_ID, label="label number")
    with db.reading() as session:
        number_shown, data = labels.order_label(session, order_number, number)
    response = current_app.response_class(data, mimetype="application/pdf")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in number_shown)[:60]
    response.headers["Content-Disposition"] = f'inline; filename="label-{safe}{"-" + str(number) if number > 1 else ""}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/order/<path:order_number>/label/retry")
@requires(Role.PICKER)
def retry(order_number: str):
    try:
        job = db.atomic(labels.retry_label_job, request.form.get("job", ""), user_id=current_user.id,
                        order_number=order_number)
    except WmsError as error:
        return _render(order_number, error=error, status=error.status)
    flash(f"Asking Starshipit again (label job {job.id}): the order is checked first, so no second label is made.",
          "ok")
    return redirect(url_for("labels.page", order_number=order_number))


@bp.post("/order/<path:order_number>/label/reprint")
@requires(Role.PICKER)
def reprint(order_number: str):
    try:
        db.atomic(labels.reprint_label, order_number, user_id=current_user.id)
    except WmsError as error:
        return _render(order_number, error=error, status=error.status)
    flash("Asking Starshipit to reprint the label.", "ok")
    return redirect(url_for("labels.page", order_number=order_number))
