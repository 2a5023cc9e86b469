"""The warehouse a person is working in: kept in their session, switchable from the header,
the default warehouse until they choose one. Pages that list per warehouse start from it and take
?warehouse=CODE to look at another.

The header's switcher (a select, shown only when there is more than one warehouse) posts to
POST /warehouse, which keeps the choice and goes back to the page it was on."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, redirect, request, session as cookie, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from werkzeug.exceptions import HTTPException

from app import bounds, db
from app.errors import ValidationFailed, WmsError
from app.models import Role, Warehouse
from app.security import requires
from app.timeutil import isoformat, local_text, locale_for, time_zone
from app.warehouses import get_warehouse, list_warehouses

SESSION_KEY = "warehouse"  # the warehouse's id
CODE_KEY = "warehouse_code"  # and its code, so that a page can name it to a use case without a look-up
NEXT_MAX = 2000  # characters of the address the switcher goes back to

bp = Blueprint("site", __name__)


def current_warehouse(session: Session, code: str | None = None) -> Warehouse:
    """The warehouse named by `code` (or the request's ?warehouse=), else the person's current
    one, else the default warehouse; a current warehouse that no longer exists falls back too."""
    asked = code if code is not None else request.args.get("warehouse", "")
    if asked and asked.strip():
        return get_warehouse(session, asked)
    kept = cookie.get(SESSION_KEY)
    if kept:
        found = session.get(Warehouse, kept) if isinstance(kept, int) else None
        if found is not None:
            return found
    return get_warehouse(session)


def current_warehouse_code(code: str | None = None) -> str | None:
    """What to pass as `warehouse=` to a use case for the warehouse `current_warehouse` means,
    without a look-up when the session knows its code: a code, or None for the default."""
    asked = code if code is not None else request.args.get("warehouse", "")
    if isinstance(asked, str) and asked.strip():
        return asked
    kept_code = cookie.get(CODE_KEY)
    if isinstance(kept_code, str) and kept_code:
        return kept_code
    if cookie.get(SESSION_KEY):  # chosen before the code was kept too
        with db.reading() as session:
            return current_warehouse(session, "").code
    return None


def choose_warehouse(warehouse: Warehouse) -> None:
    """Make this the person's current warehouse."""
    cookie[SESSION_KEY] = warehouse.id
    cookie[CODE_KEY] = warehouse.code


# ---- the header's switcher ------------------------------------------------------------------


def _back_here() -> str:
    """The address of the page being drawn, to come back to after switching (without its own
    ?warehouse=, which would override the choice); home when it cannot be opened again."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "warehouse"]
    path = request.path
    if request.method != "GET":
        try:
            current_app.url_map.bind("").match(path, method="GET")
        except HTTPException:
            return url_for("home.index")
        args = []
    return path + ("?" + urlencode(args) if args else "")


def warehouse_menu() -> dict | None:
    """What the header's switcher shows: every warehouse, the one this page is about, and where
    to come back to; None when there is only one (or the database cannot say: an error page)."""
    if not current_user.is_authenticated:
        return None
    try:
        with db.reading() as session:
            warehouses = list_warehouses(session)
            if len(warehouses) < 2:
                return None
            try:
                shown = current_warehouse(session)
            except WmsError:  # this page's ?warehouse= names none: the current one
                shown = current_warehouse(session, "")
            return {"warehouses": [(w.code, w.name) for w in warehouses], "current": shown.code, "back": _back_here()}
    except SQLAlchemyError:
        current_app.logger.warning("the warehouse switcher is left out: the database did not answer", exc_info=True)
        return None


@bp.app_context_processor
def _switcher():
    return {"warehouse_menu": warehouse_menu}


def _safe_next(value) -> str:
    """A path on this site to go back to; home for anything else (another site, a scheme, noise)."""
    if (isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\"))
            and len(value) <= NEXT_MAX and bounds.bad_character(value) is None and "\\" not in value):
        return value
    return url_for("home.index")


@bp.post("/warehouse")
@requires(Role.PICKER)
def choose():
    """Switch the current warehouse (the header's select), then back to the page it was on."""
    code = bounds.scan(request.form.get("warehouse", ""), "warehouse")
    if not code:
        raise ValidationFailed("choose a warehouse", field="warehouse")
    with db.reading() as session:
        site = get_warehouse(session, code)
    choose_warehouse(site)
    return redirect(_safe_next(request.form.get("next")))


# ---- times, as the warehouse reads them ---------------------------------------------------------
# A page shows every time in the time zone of the warehouse it is about (the person's current one,
# or the page's ?warehouse=), set by a manager on the warehouses page. Until a manager sets it, the
# reader's browser zone is used (app.js keeps it in the BROWSER_ZONE_COOKIE cookie), and failing
# that UTC, said as such. The browser's zone is never saved as the warehouse's on its own: a phone
# set to a traveller's or a contractor's zone must not move every time on the floor; the warehouses
# page offers it in the box for a manager to save with one tap instead.

BROWSER_ZONE_COOKIE = "tz"


def _time_setting() -> tuple:
    """(zone or None for UTC, zone's name, locale, whose zone: "warehouse", "browser" or "utc"),
    worked out once per request."""
    found = getattr(g, "_wms_time_setting", None)
    if found is not None:
        return found
    name, whose = None, "utc"
    if current_user.is_authenticated:
        try:
            with db.reading() as session:
                try:
                    site = current_warehouse(session)
                except WmsError:  # this page's ?warehouse= names none: the current one
                    site = current_warehouse(session, "")
                name = site.time_zone
        except (WmsError, SQLAlchemyError):
            name = None
        whose = "warehouse" if time_zone(name) else "utc"
    if whose == "utc":
        browser = request.cookies.get(BROWSER_ZONE_COOKIE, "")
        if time_zone(browser) is not None:
            name, whose = browser, "browser"
    languages = [language for language, _quality in request.accept_languages]
    found = (time_zone(name), name if whose != "utc" else "UTC", locale_for(languages), whose)
    g._wms_time_setting = found
    return found


def shown_zone():
    """The time zone this request's pages show times in (the warehouse's, else the browser's), or
    None for UTC."""
    return _time_setting()[0]


def _shown_time(value, kind: str) -> Markup:
    if value is None or value == "":
        return Markup("—")
    zone, name, locale, whose = _time_setting()
    text = local_text(value, zone, locale, kind)
    if whose == "utc" and kind != "date":
        text += " UTC"
    stamp = isoformat(value) if isinstance(value, datetime) else str(value)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(stamp, name, text)


@bp.app_template_filter("local_time")
def local_time_filter(value) -> Markup:
    """{{ moment | local_time }}: date and time in the warehouse's zone, e.g. "3 Dec 2026, 7:30 am"."""
    return _shown_time(value, "datetime")


@bp.app_template_filter("local_date")
def local_date_filter(value) -> Markup:
    """{{ moment | local_date }}: the day in the warehouse's zone (a date is shown as it is)."""
    return _shown_time(value, "date")


@bp.app_template_filter("local_clock")
def local_clock_filter(value) -> Markup:
    """{{ moment | local_clock }}: the time of day in the warehouse's zone."""
    return _shown_time(value, "time")


@bp.app_context_processor
def _time_zone_shown():
    return {"time_zone_shown": lambda: _time_setting()[1]}
