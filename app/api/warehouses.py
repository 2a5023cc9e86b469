"""Warehouses and their locations."""
from __future__ import annotations

from sqlmodel import select

from app import db
from app.api import bp, schemas
from app.api.spec import operation
from app.models import PHYSICAL_TYPES, Location, Warehouse
from app.warehouses import create_location, create_warehouse, get_warehouse, list_warehouses, set_default_warehouse


def _warehouse(row: Warehouse) -> dict:
    return {"code": row.code, "name": row.name, "is_default": row.is_default}


def _location(row: Location, warehouse_code: str) -> dict:
    return {
        "warehouse": warehouse_code,
        "code": row.code,
        "type": row.type,
        "barcode": row.barcode,
        "zone": row.zone,
        "pick_sequence": row.pick_sequence,
        "active": row.active,
    }


@bp.post("/warehouses")
@operation(body=schemas.WarehouseIn, response=schemas.Warehouse, status=201, errors=(409,), tag="warehouses")
def add_warehouse(body: schemas.WarehouseIn):
    """Create a warehouse.
    The first warehouse created is the default one."""
    return _warehouse(db.atomic(create_warehouse, code=body.code, name=body.name))


@bp.get("/warehouses")
@operation(response=schemas.WarehouseList, tag="warehouses")
def warehouses():
    """List the warehouses, marking the default one."""
    with db.reading() as session:
        return {"items": [_warehouse(w) for w in list_warehouses(session)]}


@bp.post("/warehouses/<path:code>/default")
@operation(path=schemas.WarehousePath, response=schemas.Warehouse, errors=(404,), tag="warehouses")
def make_default_warehouse(code: str):
    """Make this warehouse the default.
    Stock requests that name no warehouse use the default one."""
    return _warehouse(db.atomic(set_default_warehouse, code))


@bp.post("/locations")
@operation(body=schemas.LocationIn, response=schemas.Location, status=201, errors=(404, 409), tag="warehouses")
def add_location(body: schemas.LocationIn):
    """Create a physical location (bin, pick face, dock...) in a warehouse."""

    def create(session):
        site = get_warehouse(session, body.warehouse)
        fields = body.model_dump(exclude={"warehouse"})
        return _location(create_location(session, warehouse=site, **fields), site.code)

    return db.atomic(create)


@bp.get("/locations")
@operation(query=schemas.LocationQuery, response=schemas.LocationList, errors=(404,), tag="warehouses")
def locations(query: schemas.LocationQuery):
    """List physical locations, in pick order, filtered by warehouse, zone and type."""
    with db.reading() as session:
        statement = (
            select(Location, Warehouse.code)
            .join(Warehouse, Warehouse.id == Location.warehouse_id)
            .where(Location.type.in_([str(t) for t in PHYSICAL_TYPES]))
            .order_by(Warehouse.code, Location.zone, Location.pick_sequence, Location.code)
            .offset(query.offset)
            .limit(query.limit + 1)
        )
        if query.warehouse:
            statement = statement.where(Location.warehouse_id == get_warehouse(session, query.warehouse).id)
        if query.zone:
            statement = statement.where(Location.zone == query.zone.strip().upper())
        if query.type:
            statement = statement.where(Location.type == query.type)
        rows = session.exec(statement).all()
    more = len(rows) > query.limit
    return {
        "items": [_location(loc, code) for loc, code in rows[: query.limit]],
        "next_offset": query.offset + query.limit if more else None,
    }
