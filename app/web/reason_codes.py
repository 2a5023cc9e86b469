"""Reason codes, kept by an admin: add, rename (the label), retire, make active again, and delete a
retired code no movement has used."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app import db, reason_codes
from app.errors import WmsError
from app.models import Role
from app.security import requires

bp = Blueprint("reason_codes", __name__, url_prefix="/reason-codes")


ADD_FORM = "+new"  # `failed` when the add form is at fault


def _page(*, error: WmsError | None = None, failed: str | None = None, new: dict | None = None, status: int = 200):
    """The list with a form per code; `failed` is the code whose form the error is about (ADD_FORM:
    the add form), so the message shows under the right field."""
    with db.reading() as session:
        rows = reason_codes.list_codes(session)
    return render_template("reason_codes/index.html", rows=rows, error=error, failed=failed,
                           kept_by_the_app=reason_codes.KEPT_BY_THE_APP,
                           new=new or {"code": "", "label": ""}, add_form=ADD_FORM), status


@bp.get("/")
@requires(Role.ADMIN)
def index():
    return _page()


@bp.post("/")
@requires(Role.ADMIN)
def add():
    new = {"code": request.form.get("code", ""), "label": request.form.get("label", "")}
    try:
        row = db.atomic(reason_codes.add, code=new["code"], label=new["label"])
    except WmsError as error:
        return _page(error=error, failed=ADD_FORM, new=new, status=error.status)
    flash(f"Reason code {row.code} ({row.label}) added: adjustments can give it now.", "ok")
    return redirect(url_for("reason_codes.index"))


def _change(action, done: str):
    """One change to the code the form names; back to the list, or the list with the refusal."""
    code = request.form.get("code", "")
    try:
        row = db.atomic(action, code)
    except WmsError as error:
        return _page(error=error, failed=code.strip().lower() if isinstance(code, str) else "", status=error.status)
    flash(done.format(code=row.code if hasattr(row, "code") else row, label=getattr(row, "label", "")), "ok")
    return redirect(url_for("reason_codes.index"))


@bp.post("/label")
@requires(Role.ADMIN)
def rename():
    label = request.form.get("label", "")
    return _change(lambda session, code: reason_codes.rename(session, code, label),
                   "{code} is now called {label}; the movements that name it keep the code.")


@bp.post("/retire")
@requires(Role.ADMIN)
def retire():
    return _change(lambda session, code: reason_codes.set_active(session, code, False),
                   "{code} is retired: adjustments can no longer give it; the movements that name it keep it.")


@bp.post("/reactivate")
@requires(Role.ADMIN)
def reactivate():
    return _change(lambda session, code: reason_codes.set_active(session, code, True),
                   "{code} is active again.")


@bp.post("/delete")
@requires(Role.ADMIN)
def delete():
    return _change(reason_codes.delete, "{code} is deleted.")
