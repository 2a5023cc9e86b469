"""Stock on the floor: adjustments, transfers, receipts, and the figures people look up.

Every change here goes through app.ledger; these functions find the product
and locations, choose the virtual side and the movement type, and check the
request. Each takes the session of the caller's transaction (app.db.atomic).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func
from sqlmodel import Session, select

from app import bounds, ledger, reason_codes, scans
from app.availability import available, available_sql
from app.bounds import shown
from app.catalog import by_gtin, get_product
from app.client_actions import claim
from app.db import driver_rows
from app.errors import NotFound, ValidationFailed
from app.inbound.incoming import incoming_by_product, incoming_by_warehouse, incoming_total
from app.models import (
    PHYSICAL_TYPES,
    Location,
    LocationType,
    Movement,
    MovementType,
    Product,
    StockLevel,
    Warehouse,
)
from app.timeutil import isoformat
from app.warehouses import usable_location, virtual_location

@dataclass
class Posted:
    """A stock change made, with what a page or the API shows of it (no look-up needed after)."""

    movement: ledger.Moved
    on_hand: int  # on hand at the location the request named, afterwards
    balances: dict[int, ledger.Balance] | None = None  # location_id -> (on_hand, allocated) afterwards
    sku: str | None = None
    product_name: str | None = None
    from_code: str | None = None  # the location codes, physical or virtual (@SUPPLIER ...)
    to_code: str | None = None


# -- finding the warehouse, product and locations of a request in one query --------------
#
# Same rules and messages as app.warehouses.get_warehouse / find_location and
# app.catalog.get_product / find_product (codes, SKUs and barcodes ignoring case and surrounding
# whitespace; a GTIN scan falls back to catalog.by_gtin), but one round trip instead of four or five:
# the rows come back as plain rows (id, code, type, warehouse_id, active, name), which is all
# app.ledger needs of a location.

_PHYSICAL_SQL = ", ".join(f"'{t}'" for t in sorted(str(t) for t in PHYSICAL_TYPES))


@lru_cache(maxsize=None)
def _floor_query(by_warehouse_code: bool, by_barcode: bool, places: int, with_virtual: bool, with_reason: bool = False):
    site = (
        "(SELECT id FROM warehouse WHERE code = :warehouse)"
        if by_warehouse_code
        else "(SELECT id FROM warehouse ORDER BY is_default DESC, id LIMIT 1)"
    )
    columns = "CAST({role} AS VARCHAR(16)) AS role, {id} AS id, CAST({code} AS VARCHAR(64)) AS code, " \
        "CAST({type} AS VARCHAR(16)) AS type, {warehouse_id} AS warehouse_id, {active} AS active, " \
        "CAST({name} AS VARCHAR(300)) AS name"
    parts = [
        "SELECT " + columns.format(role="'warehouse'", id="id", code="code", type="NULL", warehouse_id="id",
                                   active="is_default", name="name") + f" FROM warehouse WHERE id = {site}",
        "SELECT " + columns.format(role="'sku'", id="id", code="sku", type="NULL", warehouse_id="NULL",
                                   active="active", name="name") + " FROM product WHERE lower(sku) = lower(:product)",
    ]
    if by_barcode:
        parts.append(
            "SELECT " + columns.format(role="'barcode'", id="product.id", code="product.sku", type="NULL",
                                       warehouse_id="NULL", active="product.active", name="product.name")
            + " FROM product JOIN product_barcode ON product_barcode.product_id = product.id"
            " WHERE lower(product_barcode.barcode) = lower(:product)"
        )
    for number in range(places):
        # By code, then by barcode: two selects, not one with an OR, so that each uses its own
        # (warehouse_id, ...) index even under a generic plan (the OR made PostgreSQL filter
        # every location of the warehouse).
        for match in (f"code = :code{number}", f"lower(barcode) = lower(:scan{number})"):
            parts.append(
                "SELECT " + columns.format(role=f"'place{number}'", id="id", code="code", type="type",
                                           warehouse_id="warehouse_id", active="active", name="NULL")
                + f" FROM location WHERE warehouse_id = {site} AND {match} AND type IN ({_PHYSICAL_SQL})"
            )
    if with_virtual:
        parts.append(
            "SELECT " + columns.format(role="'virtual'", id="id", code="code", type="type",
                                       warehouse_id="warehouse_id", active="active", name="NULL")
            + f" FROM location WHERE warehouse_id = {site} AND type = :kind"
        )
    if with_reason:  # the reason code given (app.reason_codes): name is its label
        parts.append(
            "SELECT " + columns.format(role="'reason'", id="0", code="code", type="NULL", warehouse_id="NULL",
                                       active="active", name="label") + " FROM reason_code WHERE code = :reason"
        )
    return " UNION ALL ".join(parts) + " ORDER BY id"


class _Found(NamedTuple):
    """A row of the query: a warehouse, a product (code = SKU) or a location."""

    role: str
    id: int
    code: str
    type: str | None
    warehouse_id: int | None
    active: bool
    name: str | None


@dataclass
class _Floor:
    """What one request names, found in one query; each accessor raises the usual error."""

    session: Session
    rows: dict[str, object]
    warehouse_code: str | None
    product_scan: str
    product_typed: str
    place_scans: tuple[str, ...]
    kind: str | None
    reason_given: str = ""

    @classmethod
    def find(cls, session, *, warehouse, product, by_barcode, places, kind=None, reason=None):
        typed, product = product, bounds.scan(product, "product" if by_barcode else "sku")
        scans = tuple(bounds.scan(place, "location") for place in places)
        reason = reason_codes.given(reason)
        params = {"product": product, "kind": str(kind) if kind else None}
        if reason:
            params["reason"] = reason
        warehouse = bounds.scan(warehouse, "warehouse")
        if warehouse:
            params["warehouse"] = warehouse.upper()
        for number, scan in enumerate(scans):
            params[f"code{number}"], params[f"scan{number}"] = scan.upper(), scan
        statement = _floor_query(bool(warehouse), by_barcode, len(scans), kind is not None, bool(reason))
        rows: dict[str, object] = {}
        for row in driver_rows(session.connection(), statement, params):  # ordered by id: the first one wins
            rows.setdefault(row[0], _Found(*row))
        return cls(session, rows, warehouse, product, typed, scans, kind, reason)

    def warehouse_id(self) -> int:
        site = self.rows.get("warehouse")
        if site is None:
            if self.warehouse_code:
                raise NotFound(f"no warehouse {shown(self.warehouse_code)}", field="warehouse")
            raise NotFound("no warehouse has been set up yet", field="warehouse")
        return site.id

    def product(self, *, by_barcode: bool):
        if not by_barcode:  # catalog.get_product
            found = self.rows.get("sku")
            if found is None:
                raise NotFound(f"no product {shown(self.product_scan)}" if self.product_scan else "no product given",
                               field="sku")
            return found
        if not self.product_scan:  # catalog.find_product
            raise ValidationFailed("scan or type a product", field="product")
        found = self.rows.get("sku") or self.rows.get("barcode")
        if found is None:
            product = by_gtin(self.session, self.product_scan)
            if product is not None:
                found = _Found("gtin", product.id, product.sku, None, None, product.active, product.name)
        if found is None:
            raise NotFound(f"no product with SKU or barcode {shown(self.product_scan)}", field="product")
        return found

    def place(self, number: int, field: str = "location"):
        scanned = self.place_scans[number]
        if not scanned:
            raise ValidationFailed("scan or type a location", field=field)
        return usable_location(self.rows.get(f"place{number}"), scanned, field)

    def virtual(self):
        found = self.rows.get("virtual")
        return found if found is not None else virtual_location(self.session, self.warehouse_id(), self.kind)

    def reason(self, given, *, why: str = "a reason is required") -> str | None:
        """The active reason code given (None when none was), or the refusal in words: `why` says
        why one is needed when it is and none was given."""
        if not self.reason_given:
            if why:
                raise reason_codes.missing(self.session, why)
            return None
        found = self.rows.get("reason")
        if found is None or not found.active:
            raise reason_codes.refusal(self.session, given, found is not None)
        return found.code


def adjust_stock(
    session: Session,
    *,
    sku: str,
    location: str,
    quantity,
    reason: str,
    warehouse: str | None = None,
    user_id: int | None = None,
    reference: str | None = None,
) -> Posted:
    """Add (quantity > 0) or remove (quantity < 0) stock at a location, with an active reason code
    (app.reason_codes; any case)."""
    typed_reason, reason = reason, reason_codes.given(reason)
    quantity = bounds.signed_quantity(quantity)
    reference = bounds.text(reference, "reference", max_length=bounds.REFERENCE_MAX, required=False)
    kind = LocationType.COUNT if reason == "count" else LocationType.ADJUSTMENT
    floor = _Floor.find(session, warehouse=warehouse, product=sku, by_barcode=False, places=[location], kind=kind,
                        reason=reason)
    reason = floor.reason(typed_reason)
    floor.warehouse_id()
    product = floor.product(by_barcode=False)
    place = floor.place(0)
    other = floor.virtual()
    source, target = (other, place) if quantity > 0 else (place, other)
    posting = ledger.move(
        session,
        type=MovementType.COUNT if reason == "count" else MovementType.ADJUSTMENT,
        product_id=product.id,
        quantity=abs(quantity),
        from_location=source,
        to_location=target,
        reason=reason,
        reference=reference,
        user_id=user_id,
    )
    return _posted(posting, place, product, source, target)


def _posted(posting: ledger.Posting, place, product, source, target) -> Posted:
    """What a page or the API shows of a posting: `place` is the location the request named."""
    return Posted(posting.movement, posting.balances[place.id].on_hand, posting.balances,
                  sku=product.code, product_name=product.name, from_code=source.code, to_code=target.code)


def transfer_stock(
    session: Session,
    *,
    sku: str,
    from_location: str,
    to_location: str,
    quantity,
    warehouse: str | None = None,
    user_id: int | None = None,
    type: str = MovementType.TRANSFER,
    reason: str | None = None,
    client_id: str | None = None,
) -> Posted:
    """Move free stock between two physical locations (sku may be a scanned barcode). Moving it
    into a quarantine location needs an active reason code; any move may give one. The movement
    keeps the reason. client_id: the phone's id of the scan (X-Client-Id), applied once."""
    claim(session, client_id, "move", user_id=user_id)
    quantity = scans.count_of(sku) or quantity
    quantity = bounds.quantity(quantity)
    floor = _Floor.find(session, warehouse=warehouse, product=sku, by_barcode=True, places=[from_location, to_location],
                        reason=reason)
    floor.warehouse_id()
    product = floor.product(by_barcode=True)
    source = floor.place(0, "from_location")
    target = floor.place(1, "to_location")
    if source.id == target.id:
        raise ValidationFailed("from and to are the same location", field="to_location")
    reason = floor.reason(reason, why=f"moving stock into quarantine ({target.code}) needs a reason"
                          if target.type == LocationType.QUARANTINE else "")
    posting = ledger.move(
        session, type=type, product_id=product.id, quantity=quantity, from_location=source, to_location=target,
        reason=reason, user_id=user_id,
    )
    return _posted(posting, target, product, source, target)


def receive_stock(
    session: Session,
    *,
    sku: str,
    location: str,
    quantity,
    warehouse: str | None = None,
    user_id: int | None = None,
    reference: str | None = None,
) -> Posted:
    """Stock arriving from a supplier into a location (sku may be a scanned barcode). Receiving
    against a purchase order is app.inbound.receiving's: it passes the PO number as reference."""
    quantity = scans.count_of(sku) or quantity
    quantity = bounds.quantity(quantity)
    reference = bounds.text(reference, "reference", max_length=bounds.REFERENCE_MAX, required=False)
    floor = _Floor.find(
        session, warehouse=warehouse, product=sku, by_barcode=True, places=[location], kind=LocationType.SUPPLIER
    )
    floor.warehouse_id()
    product = floor.product(by_barcode=True)
    place = floor.place(0)
    supplier = floor.virtual()
    posting = ledger.move(
        session,
        type=MovementType.RECEIPT,
        product_id=product.id,
        quantity=quantity,
        from_location=supplier,
        to_location=place,
        reference=reference,
        user_id=user_id,
    )
    return _posted(posting, place, product, supplier, place)


def stock_summary(session: Session, sku: str) -> dict:
    """One product's stock: totals, every location that holds some (one query), and what is still
    expected per warehouse (a second query, only when some is)."""
    typed = bounds.scan(sku, "sku", label="SKU")
    rows = session.execute(_summary_statement(), {"sku": typed}).all()
    if not rows:
        raise NotFound(f"no product {shown(typed)}", field="sku")
    held = [row for row in rows if row.location is not None]
    on_hand = sum(row.on_hand for row in held)
    allocated = sum(row.allocated for row in held)
    return {
        "sku": rows[0].sku,
        "on_hand": on_hand,
        "allocated": allocated,
        "available": sum(available(row.type, row.on_hand, row.allocated) for row in held),  # quarantine: none
        "incoming": int(rows[0].incoming),
        "incoming_by_warehouse": incoming_by_warehouse(session, rows[0].product_id) if rows[0].incoming else [],
        "locations": [
            {"warehouse": row.warehouse, "location": row.location, "type": row.type, "on_hand": row.on_hand,
             "allocated": row.allocated}
            for row in held
        ],
    }


@lru_cache(maxsize=None)
def _summary_statement():
    """The product by SKU, what is still expected on open and partially received purchase orders
    (app.inbound.incoming), and one row per location holding some (none: one row of NULLs).
    Built once: the lookup is on the API's hot path."""
    incoming = incoming_total(Product.id)
    return (
        select(
            Product.sku,
            Product.id.label("product_id"),
            incoming.label("incoming"),
            Warehouse.code.label("warehouse"),
            Location.code.label("location"),
            Location.type,
            StockLevel.on_hand,
            StockLevel.allocated,
        )
        .select_from(Product)
        .outerjoin(StockLevel, and_(StockLevel.product_id == Product.id, StockLevel.on_hand > 0))
        .outerjoin(Location, Location.id == StockLevel.location_id)
        .outerjoin(Warehouse, Warehouse.id == Location.warehouse_id)
        .where(func.lower(Product.sku) == func.lower(bindparam("sku")))
        .order_by(Warehouse.code, Location.code)
    )


def stock_by_product(session: Session, query: str = "", *, limit: int = 50, offset: int = 0) -> list[dict]:
    """Totals per product (on hand, allocated, available, incoming), for the inventory page."""
    from app.catalog import search_products

    products = search_products(session, query, limit=limit, offset=offset)
    ids = [p.id for p in products]
    free = func.sum(available_sql(Location.type, StockLevel.on_hand, StockLevel.allocated))  # quarantine: none
    totals = {
        pid: (int(h or 0), int(a or 0), int(f or 0))
        for pid, h, a, f in session.exec(
            select(StockLevel.product_id, func.sum(StockLevel.on_hand), func.sum(StockLevel.allocated), free)
            .join(Location, Location.id == StockLevel.location_id)
            .where(StockLevel.product_id.in_(ids))
            .group_by(StockLevel.product_id)
        )
    }
    incoming = incoming_by_product(session, ids)
    result = []
    for product in products:
        on_hand, allocated, free = totals.get(product.id, (0, 0, 0))
        result.append(
            {
                "product": product,
                "on_hand": on_hand,
                "allocated": allocated,
                "available": free,
                "incoming": incoming.get(product.id, 0),
            }
        )
    return result


def stock_at_location(session: Session, location_id: int) -> list[tuple[Product, StockLevel]]:
    return list(
        session.exec(
            select(Product, StockLevel)
            .join(StockLevel, StockLevel.product_id == Product.id)
            .where(StockLevel.location_id == location_id, StockLevel.on_hand > 0)
            .order_by(Product.sku)
        )
    )


def movement_history(
    session: Session,
    *,
    sku: str | None = None,
    reference: str | None = None,
    type: str | None = None,
    location_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
    warehouse_id: int | None = None,
) -> list[dict]:
    """Movements newest first, filtered (warehouse_id: the movements in that warehouse; both sides
    of a movement are in one); page on with before_id (the last id seen)."""
    source = Location.__table__.alias("source")
    target = Location.__table__.alias("target")
    statement = (
        select(Movement, Product.sku, source.c.code, target.c.code)
        .join(Product, Product.id == Movement.product_id)
        .join(source, source.c.id == Movement.from_location_id)
        .join(target, target.c.id == Movement.to_location_id)
        .order_by(Movement.id.desc())
        .limit(max(1, min(int(limit), 500)))
    )
    if sku:
        statement = statement.where(Movement.product_id == get_product(session, sku).id)
    if reference:
        statement = statement.where(Movement.reference == reference)
    if type:
        statement = statement.where(Movement.type == type)
    if location_id:
        statement = statement.where((Movement.from_location_id == location_id) | (Movement.to_location_id == location_id))
    if warehouse_id:
        statement = statement.where(source.c.warehouse_id == warehouse_id)
    if before_id:
        statement = statement.where(Movement.id < before_id)
    return [
        {
            "id": m.id,
            "type": m.type,
            "sku": product_sku,
            "from_location": from_code,
            "to_location": to_code,
            "quantity": m.quantity,
            "reason": m.reason,
            "reference": m.reference,
            "created_at": isoformat(m.created_at),
        }
        for m, product_sku, from_code, to_code in session.exec(statement)
    ]
