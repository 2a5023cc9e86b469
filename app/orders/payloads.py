"""Reading Starshipit's webhook bodies: the two kinds (order events, tracking updates) and the
order object inside them. Anything that does not fit raises ValidationFailed with a clear message.

Decisions (API-FACTS.md leaves them open):
- A line's ordered quantity is the item's `quantity`; `quantity_to_ship` is what Starshipit still
  has to ship, so `quantity - quantity_to_ship` is what it has shipped so far (cumulative).
  Items repeating a SKU are merged into one line.
- An order event without `occurred_at` is dated when it was received.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from app.errors import ValidationFailed
from app.timeutil import parse_timestamp, utcnow

ORDER_EVENTS = ("order_created", "order_changed", "order_deleted", "order_shipped")
SHIPPING_TRACKING_STATUSES = frozenset({"Printed", "Dispatched"})
DEDUP_KEY_MAX = 128


@dataclass(frozen=True)
class Incoming:
    """One webhook, read and checked, ready for the inbox."""

    kind: str  # "order" or "tracking"
    event_type: str  # order_created ... or the tracking status
    dedup_key: str
    order_number: str
    starshipit_order_id: int | None
    occurred_at: datetime | None


@dataclass
class LineData:
    sku: str
    quantity: int
    description: str | None = None
    shipped: int | None = None  # quantity - quantity_to_ship, when the sender says


@dataclass
class OrderData:
    order_number: str
    order_id: int | None = None
    reference: str | None = None
    destination: dict = field(default_factory=dict)
    channel: str | None = None
    carrier_name: str | None = None
    warehouse_code: str | None = None
    status: str | None = None
    last_updated: str | None = None
    lines: list[LineData] = field(default_factory=list)


def read_webhook(raw: bytes, header_event_id: str | None = None) -> tuple[Incoming, dict]:
    """The body of POST /webhooks/starshipit, told apart by its fields."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("the body is not valid JSON", code="malformed_json") from None
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object", code="unknown_payload")
    if "event" in body:
        return read_order_event(body, raw, header_event_id), body
    if "tracking_status" in body and "order_number" in body:
        return read_tracking(body, raw, header_event_id), body
    raise ValidationFailed(
        "the body is neither an order event (event, order) nor a tracking update (order_number, tracking_status)",
        code="unknown_payload",
    )


def read_order_event(body: dict, raw: bytes, header_event_id: str | None = None) -> Incoming:
    event = body.get("event")
    if event not in ORDER_EVENTS:
        raise ValidationFailed(f"event must be one of {', '.join(ORDER_EVENTS)}, not {event!r}", field="event")
    if not isinstance(body.get("order"), dict):
        raise ValidationFailed("an order event needs an order object", field="order")
    order = order_data(body["order"])
    occurred_raw = body.get("occurred_at")
    occurred_at = parse_timestamp(occurred_raw) if occurred_raw not in (None, "") else utcnow()
    if occurred_at is None:
        raise ValidationFailed(f"occurred_at is not an RFC 3339 time: {occurred_raw!r}", field="occurred_at")
    if event == "order_shipped":
        shipment_items(body)  # validates
    event_id = _event_id(body.get("event_id"), header_event_id)
    key = event_id or "sha256:" + _digest(event, order.order_id, occurred_raw, raw)
    return Incoming("order", event, dedup_key(key), order.order_number, order.order_id, occurred_at)


def read_tracking(body: dict, raw: bytes, header_event_id: str | None = None) -> Incoming:
    order_number = _text(body.get("order_number"), "order_number", 50, required=True)
    status = body.get("tracking_status")
    if not isinstance(status, str) or not status.strip():
        raise ValidationFailed("tracking_status must be a word such as Printed", field="tracking_status")
    updated_raw = body.get("last_updated_date")
    occurred_at = parse_timestamp(updated_raw) or utcnow()
    event_id = _event_id(body.get("event_id"), header_event_id)
    key = event_id or "sha256:" + _digest("tracking:" + status, order_number, updated_raw, raw)
    return Incoming("tracking", status.strip()[:32], dedup_key(key), order_number, None, occurred_at)


def dedup_key(key: str) -> str:
    """Keys longer than the column are replaced by their digest, the same every time."""
    if len(key) <= DEDUP_KEY_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _event_id(body_id, header_id) -> str | None:
    for value in (body_id, header_id):
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def _digest(event, order_id, occurred_at, raw: bytes) -> str:
    digest = hashlib.sha256()
    for part in (str(event), str(order_id), str(occurred_at)):
        digest.update(part.encode() + b"\x00")
    digest.update(raw)
    return digest.hexdigest()


def order_data(order: dict) -> OrderData:
    """The order object of an event or of the API, checked."""
    if not isinstance(order, dict):
        raise ValidationFailed("the order must be an object", field="order")
    destination = order.get("destination") or {}
    if not isinstance(destination, dict):
        raise ValidationFailed("destination must be an object", field="destination")
    items = order.get("items")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ValidationFailed("items must be a list", field="items")
    lines: dict[str, LineData] = {}
    for index, item in enumerate(items):
        line = _line(item, index)
        if line.sku in lines:
            merged = lines[line.sku]
            merged.quantity += line.quantity
            if merged.shipped is not None and line.shipped is not None:
                merged.shipped += line.shipped
            else:
                merged.shipped = None
        else:
            lines[line.sku] = line
    return OrderData(
        order_number=_text(order.get("order_number"), "order_number", 50, required=True),
        order_id=_order_id(order.get("order_id")),
        reference=_text(order.get("reference"), "reference", 200),
        destination=destination,
        channel=_text(order.get("channel"), "channel", 64),
        carrier_name=_text(order.get("carrier_name") or order.get("carrier"), "carrier_name", 100),
        warehouse_code=_text(order.get("warehouse"), "warehouse", 32),
        status=_text(order.get("status"), "status", 32),
        last_updated=_text(order.get("last_updated_date"), "last_updated_date", 64),
        lines=list(lines.values()),
    )


def _line(item, index: int) -> LineData:
    where = f"items[{index}]"
    if not isinstance(item, dict):
        raise ValidationFailed(f"{where} must be an object", field="items")
    sku = _text(item.get("sku"), f"{where}.sku", 64, required=True)
    raw_quantity = item.get("quantity")
    if raw_quantity is None:
        raw_quantity = item.get("quantity_to_ship")
    quantity = _count(raw_quantity, f"{where}.quantity")
    shipped = None
    if item.get("quantity_to_ship") is not None and item.get("quantity") is not None:
        to_ship = _count(item["quantity_to_ship"], f"{where}.quantity_to_ship")
        if to_ship > quantity:
            raise ValidationFailed(f"{where}: quantity_to_ship {to_ship} is more than quantity {quantity}")
        shipped = quantity - to_ship
    description = item.get("description")
    description = str(description)[:300] if description not in (None, "") else None
    return LineData(sku=sku, quantity=quantity, description=description, shipped=shipped)


def shipment_items(body: dict) -> dict[str, int] | None:
    """What one shipment carried, per SKU; None when it does not say (every line in full)."""
    shipment = body.get("shipment")
    if shipment is None:
        return None
    if not isinstance(shipment, dict):
        raise ValidationFailed("shipment must be an object", field="shipment")
    items = shipment.get("items")
    if items is None:
        return None
    if not isinstance(items, list):
        raise ValidationFailed("shipment.items must be a list", field="shipment")
    totals: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationFailed(f"shipment.items[{index}] must be an object", field="shipment")
        sku = _text(item.get("sku"), f"shipment.items[{index}].sku", 64, required=True)
        totals[sku] = totals.get(sku, 0) + _count(item.get("quantity"), f"shipment.items[{index}].quantity")
    return totals


def tracking_numbers(body: dict) -> list[str]:
    shipment = body.get("shipment") if isinstance(body.get("shipment"), dict) else {}
    numbers = shipment.get("tracking_numbers") or []
    if isinstance(body.get("tracking_number"), str):
        numbers = [body["tracking_number"]]
    return [str(n)[:64] for n in numbers if isinstance(n, (str, int)) and str(n).strip()] if isinstance(numbers, list) else []


def _text(value, name: str, limit: int, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise ValidationFailed(f"{name} is required", field=name)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationFailed(f"{name} must be text", field=name)
    text = str(value).strip()
    if required and not text:
        raise ValidationFailed(f"{name} is required", field=name)
    if required and len(text) > limit:
        raise ValidationFailed(f"{name} is longer than {limit} characters", field=name)
    return text[:limit] or None


def _count(value, name: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationFailed(f"{name} must be a whole number, zero or more, not {value!r}", field=name)
    return value


def _order_id(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"order_id must be a number, not {value!r}", field="order_id")
    return value
