"""Box sizes, kept by a manager: the packages a packer chooses from when a label is printed (add,
edit, retire, make active again). Sizes in centimetres; Starshipit is sent metres."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app import db
from app.errors import WmsError
from app.models import Role
from app.outbound import labels
from app.security import requires

bp = Blueprint("package_sizes", __name__, url_prefix="/package-sizes")

ADD_FORM = "+new"  # `failed` when the add form is at fault
FIELDS = ("name", "length_cm", "width_cm", "height_cm", "default_weight_kg")


def _typed() -> dict:
    return {key: request.form.get(key, "") for key in FIELDS}


def _page(*, error: WmsError | None = None, failed: str | None = None, typed: dict | None = None, status: int = 200):
    """The list with a form per size; `failed` is the form the error is about (ADD_FORM or a size's
    id as text), whose fields keep what was typed and show the message under the right field."""
    with db.reading() as session:
        sizes = labels.list_sizes(session)
    new = typed if failed == ADD_FORM and typed else {key: "" for key in FIELDS}
    return render_template("package_sizes/index.html", sizes=sizes, error=error, failed=failed, typed=typed or {},
                           new=new, add_form=ADD_FORM, fields=FIELDS), status


@bp.get("/")
@requires(Role.MANAGER)
def index():
    return _page()


@bp.post("/")
@requires(Role.MANAGER)
def add():
    typed = _typed()
    try:
        size = db.atomic(labels.add_size, **typed)
    except WmsError as error:
        return _page(error=error, failed=ADD_FORM, typed=typed, status=error.status)
    flash(f"Box size {size.name} added: packers can choose it now.", "ok")
    return redirect(url_for("package_sizes.index"))


@bp.post("/<size_id>/edit")
@requires(Role.MANAGER)
def edit(size_id: str):
    typed = _typed()
    try:
        size = db.atomic(labels.update_size, size_id, **typed)
    except WmsError as error:
        return _page(error=error, failed=size_id, typed=typed, status=error.status)
    flash(f"Box size {size.name} saved; labels printed before keep the sizes they were sent with.", "ok")
    return redirect(url_for("package_sizes.index"))


def _set_active(size_id: str, active: bool, done: str):
    try:
        size = db.atomic(labels.set_size_active, size_id, active)
    except WmsError as error:
        return _page(error=error, failed=size_id, status=error.status)
    flash(done.format(name=size.name), "ok")
    return redirect(url_for("package_sizes.index"))


@bp.post("/<size_id>/retire")
@requires(Role.MANAGER)
def retire(size_id: str):
    return _set_active(size_id, False, "{name} is retired: packers no longer see it; labels that used it keep it.")


@bp.post("/<size_id>/reactivate")
@requires(Role.MANAGER)
def reactivate(size_id: str):
    return _set_active(size_id, True, "{name} is active again.")
