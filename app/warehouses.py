"""Warehouses and locations: creating them and finding them by code or scan.

Codes are kept in capitals; a location is found by its code or its barcode, ignoring case and
surrounding whitespace."""
from __future__ import annotations

from sqlalchemy import bindparam, func, or_
from sqlmodel import Session, select

from app import bounds
from app.bounds import shown
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import PHYSICAL_TYPES, VIRTUAL_TYPES, Location, LocationType, Warehouse
from app.models.warehouse import TIME_ZONE_MAX
from app.timeutil import time_zone

VIRTUAL_CODE_PREFIX = "@"


def create_warehouse(session: Session, *, code: str, name: str) -> Warehouse:
    code = _capitals(code, "code", bounds.WAREHOUSE_CODE_MAX, "warehouse code")
    name = bounds.text(name, "name", max_length=bounds.WAREHOUSE_NAME_MAX, label="warehouse name")
    if session.exec(select(Warehouse).where(Warehouse.code == code)).first():
        raise Conflict(f"warehouse {shown(code)} already exists", field="code")
    is_first = session.exec(select(func.count()).select_from(Warehouse)).one() == 0
    warehouse = Warehouse(code=code, name=name, is_default=is_first)
    session.add(warehouse)
    session.flush()
    for kind in sorted(VIRTUAL_TYPES):
        session.add(Location(warehouse_id=warehouse.id, code=VIRTUAL_CODE_PREFIX + kind.upper(), type=kind))
    session.flush()
    return warehouse


def set_default_warehouse(session: Session, code: str) -> Warehouse:
    warehouse = get_warehouse(session, code)
    for other in session.exec(select(Warehouse).where(Warehouse.is_default)):
        other.is_default = False
    warehouse.is_default = True
    session.flush()
    return warehouse


def set_time_zone(session: Session, code: str, name: str | None) -> Warehouse:
    """Set the time zone a warehouse's pages show times in: an IANA name exactly as listed
    ("Pacific/Auckland"); blank clears it (pages then follow the reader's browser, else UTC)."""
    warehouse = get_warehouse(session, code)
    name = bounds.text(name, "time_zone", max_length=TIME_ZONE_MAX, required=False, label="time zone")
    if name is not None and time_zone(name) is None:
        raise ValidationFailed(f"{shown(name)} is not a time zone; choose one from the list, such as "
                               "Pacific/Auckland or Australia/Sydney", field="time_zone")
    warehouse.time_zone = name
    session.flush()
    return warehouse


def get_warehouse(session: Session, code: str | None = None) -> Warehouse:
    """The warehouse with this code, or the default warehouse when code is empty."""
    code = bounds.scan(code, "warehouse")
    if code:
        warehouse = session.exec(select(Warehouse).where(Warehouse.code == str(code).upper())).first()
        if warehouse is None:
            raise NotFound(f"no warehouse {shown(code)}", field="warehouse")
        return warehouse
    warehouse = session.exec(select(Warehouse).where(Warehouse.is_default)).first()
    if warehouse is None:
        warehouse = session.exec(select(Warehouse).order_by(Warehouse.id)).first()
    if warehouse is None:
        raise NotFound("no warehouse has been set up yet", field="warehouse")
    return warehouse


def list_warehouses(session: Session) -> list[Warehouse]:
    return list(session.exec(select(Warehouse).order_by(Warehouse.code)))


def virtual_location(session: Session, warehouse_id: int, kind: LocationType) -> Location:
    location = session.exec(
        select(Location).where(Location.warehouse_id == warehouse_id, Location.type == kind)
    ).first()
    if location is None:  # a warehouse made before this kind existed
        location = Location(warehouse_id=warehouse_id, code=VIRTUAL_CODE_PREFIX + kind.upper(), type=kind)
        session.add(location)
        session.flush()
    return location


def _clean_location_fields(code, type, barcode, zone, pick_sequence):
    """The fields of a location as stored; pick_sequence may be a number or typed text."""
    code = _capitals(code, "code", bounds.LOCATION_CODE_MAX, "location code")
    if code.startswith(VIRTUAL_CODE_PREFIX):
        raise ValidationFailed(f"location codes cannot start with {VIRTUAL_CODE_PREFIX}", field="code")
    if type not in PHYSICAL_TYPES:
        allowed = ", ".join(sorted(PHYSICAL_TYPES))
        raise ValidationFailed(f"location type must be one of {allowed}", field="type")
    pick_sequence = bounds.pick_sequence(pick_sequence)
    barcode = bounds.code(barcode, "barcode", max_length=bounds.BARCODE_MAX, required=False) or code
    zone = _capitals(zone, "zone", bounds.ZONE_MAX, "zone", required=False)
    return code, str(type), barcode, zone, pick_sequence


def _capitals(value, field: str, max_length: int, label: str, *, required: bool = True) -> str | None:
    """A code kept in capitals, its length checked as stored (capitals can be longer: ß is SS)."""
    return bounds.code(value.upper() if isinstance(value, str) else value, field, max_length=max_length,
                       required=required, label=label)


def create_location(
    session: Session,
    *,
    warehouse: Warehouse,
    code: str,
    type: str,
    barcode: str | None = None,
    zone: str | None = None,
    pick_sequence: int | None = None,
) -> Location:
    code, type, barcode, zone, pick_sequence = _clean_location_fields(code, type, barcode, zone, pick_sequence)
    _refuse_taken(session, warehouse.id, code, barcode)
    location = Location(
        warehouse_id=warehouse.id, code=code, type=type, barcode=barcode, zone=zone, pick_sequence=pick_sequence
    )
    session.add(location)
    session.flush()
    return location


def update_location(
    session: Session,
    location: Location,
    *,
    code: str,
    type: str,
    barcode: str | None,
    zone: str | None,
    pick_sequence: int | None,
    active: bool,
) -> Location:
    code, type, barcode, zone, pick_sequence = _clean_location_fields(code, type, barcode, zone, pick_sequence)
    _refuse_taken(session, location.warehouse_id, code, barcode, ignore_id=location.id)
    location.code, location.type, location.barcode = code, type, barcode
    location.zone, location.pick_sequence, location.active = zone, pick_sequence, active
    session.flush()
    return location


def _refuse_taken(session: Session, warehouse_id: int, code: str, barcode: str, ignore_id: int | None = None):
    clash = session.exec(
        select(Location).where(
            Location.warehouse_id == warehouse_id,
            or_(
                Location.code == code,
                func.lower(Location.barcode) == func.lower(barcode),
                func.lower(Location.barcode) == func.lower(code),
                Location.code == barcode.upper(),
            ),
            Location.id != (ignore_id or -1),
        )
    ).first()
    if clash is not None:
        raise Conflict(f"location {shown(clash.code)} already uses that code or barcode", field="code")


def find_location(session: Session, warehouse_id: int, scanned: str, *, field: str = "location") -> Location:
    """A physical location by its code or barcode, as typed or scanned (case and surrounding
    whitespace ignored); a refusal names `field` (the form's or body's name for it)."""
    scanned = bounds.scan(scanned, field)
    if not scanned:
        raise ValidationFailed("scan or type a location", field=field)
    location = session.exec(
        select(Location).where(*_named_by(warehouse_id, scanned.upper(), scanned)).order_by(Location.id)
    ).first()
    return usable_location(location, scanned, field)


def _named_by(warehouse_id, code, scanned) -> tuple:
    """The criteria of a physical location a scan names: its code (upper-cased) or its barcode
    (any case)."""
    return (
        Location.warehouse_id == warehouse_id,
        Location.type.in_([str(t) for t in PHYSICAL_TYPES]),
        or_(Location.code == code, func.lower(Location.barcode) == func.lower(scanned)),
    )


def location_id_by_scan(name: str, warehouse_id):
    """The id of the physical location a scan names, as `find_location` finds it, as a scalar
    subquery for a statement that reads it along with what else a scan needs (parameters from
    `location_scan_values(name, scanned)`; `warehouse_id` may be a column of that statement)."""
    return (select(Location.id).where(*_named_by(warehouse_id, bindparam(f"{name}_code"), bindparam(name)))
            .order_by(Location.id).limit(1).scalar_subquery())


def location_scan_values(name: str, scanned: str) -> dict:
    return {name: scanned, f"{name}_code": scanned.upper()}


def usable_location(location, scanned: str, field: str = "location"):
    """The location found for a scan (an object or row with code and active), or the error to show."""
    if location is None:
        raise NotFound(f"no location {shown(scanned)}", field=field)
    if not location.active:
        raise ValidationFailed(f"location {shown(location.code)} is inactive", field=field)
    return location
