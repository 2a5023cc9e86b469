"""The home page: what each role needs first."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from app import db
from app.models import Role
from app.security import requires
from app.web.dashboard import home_figures

bp = Blueprint("home", __name__)


@bp.route("/")
@requires(Role.PICKER)
def index():
    with db.reading() as session:
        figures = home_figures(session) if current_user.has_role(Role.MANAGER) else None
    return render_template("home/index.html", figures=figures)
