"""The outbound dashboard (managers, on a tablet): orders per stage and route, shipped today, and
each picker's picks today. Figures from app.outbound.dashboard."""
from __future__ import annotations

from flask import Blueprint, render_template

from app import db
from app.models import Role
from app.outbound import dashboard
from app.security import requires
from app.web.site import current_warehouse, shown_zone

bp = Blueprint("outbound", __name__, url_prefix="/outbound")


@bp.get("/")
@requires(Role.MANAGER)
def index():
    zone = shown_zone()  # "today" is the day the page's times are shown in
    with db.reading() as session:
        site = current_warehouse(session)
        figures = dashboard.outbound_figures(session, site.id, zone=zone)
    return render_template("outbound/index.html", site=site, **figures)
