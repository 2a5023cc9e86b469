"""Locations and warehouses: bins by zone and type, labels to print, the default warehouse.

The list fits a hand: search first; a warehouse of more than a page of locations opens on its zones,
folded, each with its count and its types (opening one shows its first ZONE_PEEK locations; "all"
pages through the zone); a search, a zone or a type lists the locations found, a page at a time,
under their zones' headings."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import case, func, or_
from sqlmodel import select

from app import bounds, db
from app.errors import NotFound, ValidationFailed, WmsError
from app.models import PHYSICAL_TYPES, Location, Role, Warehouse
from app.security import requires
from app.warehouses import (
    create_location,
    create_warehouse,
    get_warehouse,
    list_warehouses,
    set_default_warehouse,
    set_time_zone,
    update_location,
)
from app.timeutil import time_zone_names
from app.web.barcodes import code128_svg
from app.web.products import page_number

bp = Blueprint("locations", __name__, url_prefix="/locations")

PAGE_SIZE = 50
ZONE_PEEK = 20  # locations shown when a folded zone is opened
NO_ZONE = "-"  # the zone filter's value for locations without a zone (a zone code is never a lone dash)
LOCATION_TYPES = sorted(str(t) for t in PHYSICAL_TYPES)


def _physical(statement, warehouse_id: int):
    return statement.where(Location.warehouse_id == warehouse_id, Location.type.in_(LOCATION_TYPES))


def find_locations(session, warehouse_id: int, *, zone: str = "", type: str = "", query: str = "", limit=None, offset=0):
    """Physical locations of a warehouse in walking order, filtered by zone, type and code or barcode."""
    statement = _physical(select(Location), warehouse_id)
    if zone == NO_ZONE:
        statement = statement.where(Location.zone.is_(None))
    elif zone:
        statement = statement.where(Location.zone == zone)
    if type:
        statement = statement.where(Location.type == type)
    if query:
        like = f"%{query}%"
        statement = statement.where(or_(Location.code.ilike(like), Location.barcode == query))
    statement = statement.order_by(Location.zone.is_(None), Location.zone, Location.pick_sequence, Location.code).offset(offset)
    if limit:
        statement = statement.limit(limit)
    return list(session.exec(statement))


def zones_of(session, warehouse_id: int) -> list[str]:
    statement = _physical(select(Location.zone).distinct(), warehouse_id).where(Location.zone.is_not(None))
    return sorted(session.exec(statement))


def zone_counts(session, warehouse_id: int) -> list[dict]:
    """Each zone of a warehouse (None: locations without one, last) with how many locations it holds,
    how many are inactive, and its types with their counts."""
    statement = _physical(
        select(Location.zone, Location.type, func.count(), func.sum(case((Location.active, 0), else_=1)))
        .group_by(Location.zone, Location.type), warehouse_id)
    zones: dict = {}
    for zone, kind, count, inactive in session.exec(statement):
        entry = zones.setdefault(zone, {"zone": zone, "count": 0, "inactive": 0, "types": []})
        entry["count"] += count
        entry["inactive"] += int(inactive or 0)
        entry["types"].append((kind, count))
    for entry in zones.values():
        entry["types"].sort(key=lambda pair: (-pair[1], pair[0]))
    return sorted(zones.values(), key=lambda entry: (entry["zone"] is None, entry["zone"] or ""))


def _filters() -> dict:
    type = request.args.get("type", "").strip()
    if type and type not in LOCATION_TYPES:
        raise ValidationFailed(f"type must be one of {', '.join(LOCATION_TYPES)}", field="type")
    return {
        "warehouse": bounds.scan(request.args.get("warehouse", ""), "warehouse").upper(),
        "zone": bounds.scan(request.args.get("zone", ""), "zone").upper(),
        "type": type,
        "q": bounds.scan(request.args.get("q", ""), "q", label="search"),
    }


@bp.get("/")
@requires(Role.PICKER)
def index():
    filters = _filters()
    page = page_number()
    peek = request.htmx and request.args.get("peek") == "1" and bool(filters["zone"])
    with db.reading() as session:
        site = get_warehouse(session, filters["warehouse"] or None)
        zones = zone_counts(session, site.id)
        total = sum(entry["count"] for entry in zones)
        folded = not (filters["zone"] or filters["type"] or filters["q"]) and total > PAGE_SIZE
        size = ZONE_PEEK if peek else PAGE_SIZE
        rows = [] if folded else find_locations(
            session, site.id, zone=filters["zone"], type=filters["type"], query=filters["q"],
            limit=size + 1, offset=0 if peek else (page - 1) * size,
        )
        context = dict(
            site=site, warehouses=list_warehouses(session), zones=[e["zone"] for e in zones if e["zone"]],
            zone_counts=zones, types=LOCATION_TYPES, folded=folded, total=total, no_zone=NO_ZONE,
            locations=rows[:size], has_next=len(rows) > size, page=page, filters=filters,
            zone_total=next((e["count"] for e in zones if (e["zone"] or NO_ZONE) == filters["zone"]), 0),
        )
    if peek:
        return render_template("locations/_zone.html", **context)
    template = "locations/_results.html" if request.htmx else "locations/index.html"
    return render_template(template, **context)


def _location_values() -> dict:
    form = request.form
    return {
        "code": form.get("code", "").strip(),
        "type": form.get("type", "storage"),
        "barcode": form.get("barcode", "").strip(),
        "zone": form.get("zone", "").strip(),
        "pick_sequence": form.get("pick_sequence", "").strip(),
        "active": form.get("active") == "1",
    }


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.MANAGER)
def new():
    warehouse_code = request.values.get("warehouse", "").strip().upper() or None
    with db.reading() as session:
        site = get_warehouse(session, warehouse_code)
    values = {"code": "", "type": "storage", "barcode": "", "zone": request.args.get("zone", ""), "pick_sequence": "", "active": True}
    if request.method == "POST":
        values = _location_values()

        def add(session):
            return create_location(
                session, warehouse=get_warehouse(session, site.code), code=values["code"], type=values["type"],
                barcode=values["barcode"], zone=values["zone"], pick_sequence=values["pick_sequence"],
            )

        try:
            location = db.atomic(add)
        except WmsError as error:
            return _form(site, values, error, None), error.status
        flash(f"Location {location.code} created.", "ok")
        return redirect(url_for("locations.index", warehouse=site.code, zone=location.zone))
    return _form(site, values, None, None)


def _form(site, values, error, location):
    return render_template("locations/form.html", site=site, values=values, error=error, location=location, types=LOCATION_TYPES)


def _get_location(session, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None or location.type not in LOCATION_TYPES:
        raise NotFound(f"no location {location_id}")
    return location


@bp.route("/<int:location_id>/edit", methods=["GET", "POST"])
@requires(Role.MANAGER)
def edit(location_id: int):
    with db.reading() as session:
        location = _get_location(session, location_id)
        site = session.get(Warehouse, location.warehouse_id)
    values = {
        "code": location.code, "type": location.type, "barcode": location.barcode or "", "zone": location.zone or "",
        "pick_sequence": "" if location.pick_sequence is None else str(location.pick_sequence), "active": location.active,
    }
    if request.method == "POST":
        values = _location_values()

        def change(session):
            return update_location(
                session, _get_location(session, location_id), code=values["code"], type=values["type"],
                barcode=values["barcode"], zone=values["zone"], pick_sequence=values["pick_sequence"],
                active=values["active"],
            )

        try:
            saved = db.atomic(change)
        except WmsError as error:
            return _form(site, values, error, location), error.status
        flash(f"Location {saved.code} saved.", "ok")
        return redirect(url_for("locations.index", warehouse=site.code, zone=saved.zone))
    return _form(site, values, None, location)


def _barcode_or_none(text: str):
    try:
        return code128_svg(text)
    except ValueError:
        return None


@bp.get("/labels")
@requires(Role.MANAGER)
def labels():
    """One printable label per location of a zone, each with a Code 128 barcode."""
    warehouse_code = request.args.get("warehouse", "").strip().upper() or None
    zone = request.args.get("zone", "").strip().upper()
    with db.reading() as session:
        site = get_warehouse(session, warehouse_code)
        zones = zones_of(session, site.id)
        if zone and zone not in zones:
            raise NotFound(f"no zone {zone} in warehouse {site.code}", field="zone")
        rows = find_locations(session, site.id, zone=zone) if zone else []
    items = [(location, _barcode_or_none(location.barcode or location.code)) for location in rows]
    return render_template("locations/labels.html", site=site, zones=zones, zone=zone, items=items)


@bp.route("/warehouses", methods=["GET", "POST"])
@requires(Role.MANAGER)
def warehouses():
    values = {"code": "", "name": ""}
    error = None
    status = 200
    if request.method == "POST":
        values = {"code": request.form.get("code", "").strip(), "name": request.form.get("name", "").strip()}
        try:
            created = db.atomic(create_warehouse, code=values["code"], name=values["name"])
        except WmsError as failure:
            error, status = failure, failure.status
        else:
            flash(f"Warehouse {created.code} added.", "ok")
            return redirect(url_for("locations.warehouses"))
    return _warehouses_page(values, error, status)


def _warehouses_page(values, error, status, zone_error=None, zone_values=None):
    with db.reading() as session:
        rows = list_warehouses(session)
    return render_template("locations/warehouses.html", warehouses=rows, values=values, error=error,
                           zone_error=zone_error, zone_values=zone_values or {},
                           time_zones=_listed_time_zones()), status


def _listed_time_zones() -> list[str]:
    """The zones offered in the box: Area/City names (the aliases kept for old systems left out,
    though typing one is accepted)."""
    return sorted(name for name in time_zone_names()
                  if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "Canada/", "Brazil/",
                                                         "Chile/", "Mexico/")))


@bp.post("/warehouses/<code>/time-zone")
@requires(Role.MANAGER)
def time_zone_of(code: str):
    """Set (or clear, with a blank) the time zone a warehouse's pages show times in."""
    typed = request.form.get("time_zone", "")
    try:
        warehouse = db.atomic(set_time_zone, code, typed)
    except WmsError as failure:
        return _warehouses_page({"code": "", "name": ""}, None, failure.status, zone_error=(code.upper(), failure),
                                zone_values={code.upper(): typed})
    if warehouse.time_zone:
        flash(f"{warehouse.code} shows times in {warehouse.time_zone} time.", "ok")
    else:
        flash(f"{warehouse.code} has no time zone set: pages follow each browser's.", "ok")
    return redirect(url_for("locations.warehouses"))


@bp.post("/warehouses/<code>/default")
@requires(Role.MANAGER)
def make_default(code: str):
    warehouse = db.atomic(set_default_warehouse, code)
    flash(f"{warehouse.code} is now the default warehouse.", "ok")
    return redirect(url_for("locations.warehouses"))
