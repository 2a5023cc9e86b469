"""Packing a picked WMS order: the packer scans the tote (or the order), scans every item into the
box, confirms the package, and the WMS asks Starshipit for the label (app.outbound.labels).

What must be in the box is what was picked for the order: its picked allocations (each sits in
the tote it was picked into, app.outbound.picking). A scan of a product the order has none of
picked, or one more than was picked, is refused; packing is refused (`pack_mismatch`) unless the
items packed are exactly what was picked. Packing moves no stock: the stock stays in its tote,
promised to the order, until Starshipit says the order shipped (app.orders.shipping takes it from
there).

The box being packed lives in the page, as the receipt being scanned does on the receiving page
(hidden "SKU:units" inputs): nothing is stored until "Pack and print".
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from app import bounds, scans
from app.bounds import shown
from app.catalog import find_product
from app.client_actions import claim
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Allocation, Location, LocationType, Order, OrderLine, OrderStatus, Product
from app.orders import mirror
from app.outbound import labels
from app.timeutil import utcnow


@dataclass(frozen=True)
class PackLine:
    """One SKU of an order as the packer sees it: what was picked, and into which totes."""

    sku: str
    name: str
    picked: int
    totes: tuple[str, ...]


@dataclass(frozen=True)
class PackScan:
    """One scan into the box: the SKU, what it added, and the box's count of it now."""

    sku: str
    name: str
    added: int
    packed: int
    picked: int
    lines: tuple[PackLine, ...] = ()  # the order's packing list, as the scan read it (for the page)

    @property
    def done(self) -> bool:
        return self.packed == self.picked


def _number(order_number) -> str:
    number = bounds.scan(order_number if isinstance(order_number, str) else "", "order_number",
                         label="order number")
    if not number:
        raise ValidationFailed("scan a tote or type an order number", field="order_number")
    return number


def get_order(session: Session, order_number, *, lock: bool = False) -> Order:
    number = _number(order_number)
    order = mirror.lock_existing(session, number) if lock else mirror.find_order(session, number)
    if order is None:
        raise NotFound(f"no order {shown(number)}", field="order_number")
    return order


def packing_list(session: Session, order: Order) -> list[PackLine]:
    """What must go in the box: per SKU, the units picked for the order and the totes they are in."""
    rows = session.execute(
        select(Product.sku, Product.name, Location.code, func.sum(Allocation.quantity))
        .select_from(OrderLine)
        .join(Allocation, Allocation.order_line_id == OrderLine.id)
        .join(Product, Product.id == Allocation.product_id)
        .join(Location, Location.id == Allocation.location_id)
        .where(OrderLine.order_id == order.id, Allocation.picked, Allocation.quantity > 0)
        .group_by(Product.sku, Product.name, Location.code)
        .order_by(Product.sku, Location.code)
    ).all()
    lines: dict[str, PackLine] = {}
    for sku, name, tote, units in rows:
        was = lines.get(sku)
        lines[sku] = PackLine(sku, name, (was.picked if was else 0) + int(units),
                              (was.totes if was else ()) + (tote,))
    return list(lines.values())


def find_to_pack(session: Session, warehouse_id: int, scanned) -> Order:
    """The order a packer's scan names: a tote's code or barcode (the one order whose picked stock
    is in it) or an order number."""
    code = _number(scanned)
    tote = session.scalars(
        select(Location).where(Location.warehouse_id == warehouse_id, Location.type == LocationType.TOTE,
                               (func.upper(Location.code) == code.upper()) | (func.lower(Location.barcode) == code.lower()))
    ).first()
    if tote is None:
        return get_order(session, code)
    numbers = list(session.scalars(
        select(Order.order_number).distinct()
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Allocation, Allocation.order_line_id == OrderLine.id)
        .where(Allocation.location_id == tote.id, Allocation.picked, Allocation.quantity > 0)
        .order_by(Order.order_number)
    ))
    if not numbers:
        raise NotFound(f"tote {tote.code} holds nothing picked for an order", field="order_number")
    if len(numbers) > 1:
        raise Conflict(f"tote {tote.code} holds orders {', '.join(numbers)}: scan the order's number",
                       code="tote_shared", field="order_number")
    return get_order(session, numbers[0])


def require_packable(order: Order) -> None:
    """Only a WMS order that is picked (every line in totes) is packed."""
    why = labels.refusal(order.route, order.status)
    if why is not None:
        code, words = why
        raise Conflict(f"order {order.order_number} {words}", code=code, field="order_number")
    if order.status == OrderStatus.PACKED:
        raise Conflict(f"order {order.order_number} is packed already: see its label", code="order_packed",
                       field="order_number")
    if order.status != OrderStatus.PICKED:
        state = str(order.status).lower().replace("_", " ")
        raise Conflict(f"order {order.order_number} is {state}: only a picked order is packed", code="not_picked",
                       field="order_number")


def check_scan(session: Session, order_number, *, product, quantity, packed: dict[str, int]) -> PackScan:
    """One scan into the box (`packed`: the box so far, SKU -> units): refused, in words, for a
    product the order has none of picked, or more units than were picked. Stores nothing."""
    order = get_order(session, order_number)
    require_packable(order)
    units = bounds.quantity(scans.count_of(product) or quantity, "quantity")
    item = find_product(session, product)
    listed = packing_list(session, order)
    line = next((line for line in listed if line.sku == item.sku), None)
    if line is None:
        raise Conflict(f"{item.sku} ({item.name}) is not in order {order.order_number}: keep it out of the box",
                       code="wrong_item", field="product")
    already = packed.get(item.sku, 0)
    if already + units > line.picked:
        raise Conflict(f"{already + units} {item.sku} would be {already + units - line.picked} more than the "
                       f"{line.picked} picked for order {order.order_number}", code="extra_item", field="product")
    return PackScan(item.sku, item.name, units, already + units, line.picked, tuple(listed))


def mismatch(picked: dict[str, int], packed: dict[str, int]) -> list[str]:
    """How the box differs from what was picked, in words (empty: it matches)."""
    words = []
    for sku in sorted(set(picked) | set(packed)):
        want, have = picked.get(sku, 0), packed.get(sku, 0)
        if have < want:
            words.append(f"{sku}: {have} packed of {want} picked")
        elif have > want:
            words.append(f"{sku}: {have} packed, only {want} picked" if want else f"{sku}: not in the order")
    return words


def items_from(items) -> dict[str, int]:
    """A box's items ([{sku, quantity}], SKUs in any case) as SKU -> units."""
    if not isinstance(items, list) or not items:
        raise ValidationFailed("items must list what is in the box: [{sku, quantity}]", field="items")
    if len(items) > bounds.MAX_PO_LINES:
        raise ValidationFailed(f"a box lists at most {bounds.MAX_PO_LINES:,} items", field="items")
    packed: dict[str, int] = {}
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationFailed("each item is {sku, quantity}", field=f"items.{number}")
        sku = bounds.code(item.get("sku"), f"items.{number}.sku", max_length=bounds.SKU_MAX, label="SKU").upper()
        packed[sku] = packed.get(sku, 0) + bounds.quantity(item.get("quantity"), f"items.{number}.quantity")
    return packed


def pack_order(session: Session, order_number, *, items: dict[str, int], package, user_id: int | None = None,
               client_id: str | None = None):
    """The box is closed: refused (409 pack_mismatch, each difference in words) unless it holds
    exactly what was picked; then the order is PACKED and its label job queued (run after the
    commit). Returns the label job. client_id: the phone's id of the box (X-Client-Id), applied once."""
    claim(session, client_id, "packed box", user_id=user_id)
    order = get_order(session, order_number, lock=True)
    require_packable(order)
    picked = {line.sku.upper(): line.picked for line in packing_list(session, order)}
    packed = {sku.upper(): units for sku, units in items.items()}
    differences = mismatch(picked, packed)
    if differences:
        raise Conflict(f"the box does not match what was picked for order {order.order_number}: "
                       + "; ".join(differences), code="pack_mismatch", field="items")
    order.status, order.updated_at = OrderStatus.PACKED, utcnow()
    mirror.note(session, order, "packed", f"packed: {sum(packed.values())} unit(s) of {len(packed)} SKU(s)")
    session.flush()
    return labels.request_label(session, order.order_number, package=package, user_id=user_id)


def packable_orders(session: Session, warehouse_id: int, *, limit: int = 50) -> list[Order]:
    """The warehouse's picked WMS orders, oldest first: the packing bench's queue."""
    return list(session.scalars(
        select(Order).where(Order.warehouse_id == warehouse_id, Order.route == "WMS",
                            Order.status == OrderStatus.PICKED)
        .order_by(Order.updated_at, Order.id).limit(limit)
    ))
