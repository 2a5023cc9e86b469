"""Reading Starshipit's webhook bodies: the two kinds (order events, tracking updates) and the
order object inside them.

Two layers, so that nothing a webhook says is lost and nothing unsafe is stored:

- The door (`read_webhook`) refuses, with a ValidationFailed naming the field (the webhook answers
  400 and stores nothing), what cannot be stored or identified safely: a body that is not UTF-8
  JSON, NaN/Infinity or a number too large for a float, nesting deeper than MAX_DEPTH, a body that
  is not an object, neither kind of event, an unknown order event, a control character or a broken
  (lone surrogate) character in any string or key, and an identity field out of its bounds
  (event_id, occurred_at, order.order_id, order.order_number, a tracking update's order_number and
  tracking_status).
- The content (`order_data`, `shipment_items`): what the warehouse's rules refuse in an event that
  passed the door (no order object, items that are not a list, a quantity out of 0 to
  bounds.MAX_LINE_QUANTITY, a missing SKU, a bad shipment block, ...) raises ValidationFailed
  naming the field. The door runs these too and hands the refusal back as `Incoming.problem`: the
  webhook stores such an event failed at once, with a sentence saying why, for the failed-events
  page. Applying an event reads its stored body with the same functions, so an event that could
  never apply fails at once there too.

Line breaks and tabs: allowed in any string value at the door (an address, a description or a
note may be multi-line, and a field the WMS does not read must not cost the whole event); keys,
identity fields and codes (SKU, warehouse) are one line. Descriptive text the WMS keeps on one line
(reference, channel, carrier, status) has its line breaks and tabs turned into spaces and is cut to
its column's length; a description keeps its line breaks.

Decisions (API-FACTS.md leaves them open):
- A line's ordered quantity is the item's `quantity`; `quantity_to_ship` is what Starshipit still
  has to ship, so `quantity - quantity_to_ship` is what it has shipped so far (cumulative).
  Items repeating a SKU are merged into one line.
- An order event without `occurred_at` is dated when it was received; a tracking update's
  `last_updated_date` that is not a readable time is too (its format is Starshipit's, not ours).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime

from app import bounds
from app.errors import ValidationFailed, WmsError
from app.timeutil import parse_timestamp, utcnow

ORDER_EVENTS = ("order_created", "order_changed", "order_deleted", "order_shipped")
SHIPPING_TRACKING_STATUSES = frozenset({"Printed", "Dispatched"})
DEDUP_KEY_MAX = 128  # the inbox's dedup_key column
EVENT_ID_MAX = DEDUP_KEY_MAX  # an event id is the dedup key as it is
TRACKING_STATUS_MAX = 32  # the inbox's event_type column
TIMESTAMP_MAX = 64
MAX_DEPTH = 32  # arrays and objects inside each other; Starshipit's bodies need 4
# Column lengths of what the mirror keeps (app.models.orders): longer descriptive text is cut.
REFERENCE_MAX = 200
CHANNEL_MAX = 64
CARRIER_MAX = 100
STATUS_MAX = 32
DESCRIPTION_MAX = 300
TRACKING_NUMBER_MAX = 64


@dataclass(frozen=True)
class Incoming:
    """One webhook, read and checked, ready for the inbox. `problem`: why its content can never
    apply (stored failed at once), or None."""

    kind: str  # "order" or "tracking"
    event_type: str  # order_created ... or the tracking status
    dedup_key: str
    order_number: str | None
    starshipit_order_id: int | None
    occurred_at: datetime | None
    problem: WmsError | None = None


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


# ---- the door -------------------------------------------------------------------------------


def read_webhook(raw: bytes, header_event_id: str | None = None) -> tuple[Incoming, dict]:
    """The body of POST /webhooks/starshipit, told apart by its fields. Raises ValidationFailed
    for what the door refuses; a content problem comes back as `Incoming.problem`."""
    body, clean = read_body(raw)
    if "event" in body:
        return read_order_event(body, raw, header_event_id, strings_checked=clean), body
    if "tracking_status" in body and "order_number" in body:
        return read_tracking(body, raw, header_event_id), body
    raise ValidationFailed(
        "the body is neither an order event (event, order) nor a tracking update (order_number, tracking_status)",
        code="unknown_payload", field="body",
    )


class _NonFinite:
    """A number JSON can write but no column can hold (NaN, Infinity, 1e400), kept as written
    until the walk names its field; the reader notes that it met one."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text
        _reading.met_non_finite = True


def _float(text: str):
    number = float(text)
    return number if math.isfinite(number) else _NonFinite(text)


_DECODER = json.JSONDecoder(parse_float=_float, parse_constant=_NonFinite)
_reading = threading.local()  # met_non_finite: set by _NonFinite while this thread reads a body
_C1_CONTROL = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080-U+009F written as UTF-8


def _may_hold_refused(raw: bytes) -> bool:
    """Whether a string in the body may hold a character the walk refuses (or a line break): only
    through an escape, DEL or a C1 control written as it is, since JSON refuses raw control
    characters in strings and UTF-8 cannot carry a lone surrogate. Most bodies have none of these
    (a few byte searches), so most skip the walk over every string."""
    return b"\\" in raw or b"\x7f" in raw or (b"\xc2" in raw and _C1_CONTROL.search(raw) is not None)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(r"\[\]|\{\}")


def parse_body(raw: bytes) -> dict:
    """The body as a JSON object, refused (ValidationFailed, field "body" or the field's path)
    when it is not UTF-8 JSON, nests deeper than MAX_DEPTH, holds a non-finite number or a
    character no text may hold, or is not an object. See `read_body`."""
    return read_body(raw)[0]


def read_body(raw: bytes) -> tuple[dict, bool]:
    """`parse_body`, and whether every string in the body is known to be free of control
    characters, line breaks included (so readers of its fields need not look again)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationFailed(f"the body is not UTF-8 text (a bad byte at position {error.start})",
                               code="malformed_json", field="body") from None
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:
        _check_depth(text)
    _reading.met_non_finite = False
    try:
        body = _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise ValidationFailed(f"the body is not valid JSON: {error.msg.lower()} at line {error.lineno}, "
                               f"column {error.colno}", code="malformed_json", field="body") from None
    except ValueError:  # an integer of more digits than Python converts
        raise ValidationFailed("the body is not valid JSON: a number in it has thousands of digits",
                               code="malformed_json", field="body") from None
    suspect = _may_hold_refused(raw)
    if suspect or _reading.met_non_finite:
        _check_values(body)
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object", code="unknown_payload", field="body")
    return body, not suspect


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before the JSON reader (which recurses) sees it.
    The brackets outside strings, with innermost pairs taken away up to MAX_DEPTH times: nothing
    is left when the body is balanced and nests no deeper. Otherwise the depth is counted (a body
    that is only unbalanced is left for the reader to report)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    reduced = brackets
    for _ in range(MAX_DEPTH):
        reduced, removed = _EMPTY_PAIR.subn("", reduced)
        if not reduced:
            return
        if not removed:
            break
    depth = 0
    for bracket in brackets:
        depth = depth + 1 if bracket in "[{" else depth - 1
        if depth > MAX_DEPTH:
            raise ValidationFailed(f"the body nests arrays and objects more than {MAX_DEPTH} levels deep",
                                   code="too_deep", field="body")


def _check_values(value, root: str = "") -> None:
    """Every string (keys too) and number in `value`, without recursion: a control character
    (line breaks and tabs allowed in values, not in keys), a lone surrogate, or a number that is
    not finite is refused, naming where it is (`root`: the path of `value`; "" for the body)."""
    stack: list[tuple[str, object]] = [(root, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            _check_string(item, path or "body", multiline=True)
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                child_path = f"{path}.{bounds.shown(key)}" if path else bounds.shown(key)
                _check_string(key, path or "body", multiline=False, key=True)
                children.append((child_path, child))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(f"{path or 'body'}[{index}]", child) for index, child in enumerate(item)]))
        elif isinstance(item, _NonFinite) or (isinstance(item, float) and not math.isfinite(item)):
            written = item.text if isinstance(item, _NonFinite) else str(item)
            raise ValidationFailed(f"{path or 'body'} is not a finite number ({bounds.shown(written)})",
                                   code="bad_number", field=path or "body")


def _check_string(text: str, path: str, *, multiline: bool, key: bool = False) -> None:
    bad = bounds.bad_character(text, multiline=multiline)
    if bad is not None:
        where = f"a key in {path}" if key else path
        raise ValidationFailed(f"{where} holds {_character_name(bad)}, which the WMS cannot store; "
                               "correct it in Starshipit", code="bad_character", field=path)


def _one_line(value, name: str, max_length: int, *, required: bool) -> str | None:
    """An identity field or a code: text (or a whole number) on one line, surrounding whitespace
    dropped, at most max_length characters; blank is None, or refused when required."""
    if isinstance(value, str):
        text = value.strip()
    elif value is None:
        text = ""
    elif isinstance(value, int) and not isinstance(value, bool):
        if len(str(abs(value))) > max_length:
            raise ValidationFailed(f"{name} is longer than {max_length} characters", field=name)
        text = str(value)
    else:
        raise ValidationFailed(f"{name} must be text", field=name)
    if not text:
        if required:
            raise ValidationFailed(f"{name} is required", field=name)
        return None
    _check_string(text, name, multiline=False)
    if len(text) > max_length:
        raise ValidationFailed(f"{name} is {len(text):,} characters long; at most {max_length} are allowed", field=name)
    return text


def _character_name(character: str) -> str:
    if character in "\r\n":
        return "a line break"
    if character == "\t":
        return "a tab"
    code = ord(character)
    if 0xD800 <= code <= 0xDFFF:
        return f"a broken character (a lone surrogate, U+{code:04X})"
    return f"a control character (U+{code:04X})"


def read_order_event(body: dict, raw: bytes, header_event_id: str | None = None, *,
                     strings_checked: bool = False) -> Incoming:
    event = body.get("event")
    if not isinstance(event, str) or event not in ORDER_EVENTS:
        raise ValidationFailed(f"event must be one of {', '.join(ORDER_EVENTS)}, not {bounds.shown(event)!r}",
                               code="unknown_event", field="event")
    event_id = _event_id(body.get("event_id"), header_event_id)
    occurred_raw = body.get("occurred_at")
    occurred_at = _occurred_at(occurred_raw)
    order = body.get("order")
    order_number = order_id = None
    if isinstance(order, dict):  # its identity, refused at the door when out of bounds
        order_number = _order_number(order.get("order_number"), "order.order_number", required=False)
        order_id = starshipit_id(order.get("order_id"), "order.order_id")
    problem = None
    try:
        order_data(order, strings_checked=strings_checked)
        if event == "order_shipped":
            shipment_items(body)
    except ValidationFailed as error:
        problem = error
    key = event_id or "sha256:" + _digest(event, order_id, occurred_raw, raw)
    return Incoming("order", event, dedup_key(key), order_number, order_id, occurred_at, problem)


def read_tracking(body: dict, raw: bytes, header_event_id: str | None = None) -> Incoming:
    order_number = _order_number(body.get("order_number"), "order_number", required=True)
    status = body.get("tracking_status")
    if not isinstance(status, str):
        raise ValidationFailed("tracking_status must be a word such as Printed", field="tracking_status")
    status = _one_line(status, "tracking_status", TRACKING_STATUS_MAX, required=True)
    event_id = _event_id(body.get("event_id"), header_event_id)
    updated_raw = body.get("last_updated_date")
    occurred_at = readable_time(updated_raw) or utcnow()
    key = event_id or "sha256:" + _digest("tracking:" + status, order_number, updated_raw, raw)
    return Incoming("tracking", status, dedup_key(key), order_number, None, occurred_at)


def dedup_key(key: str) -> str:
    """Keys longer than the column are replaced by their digest, the same every time."""
    if len(key) <= DEDUP_KEY_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _event_id(body_id, header_id) -> str | None:
    """The body's event_id, else the X-Starshipit-Event-Id header: text or a whole number of at
    most EVENT_ID_MAX characters, on one line."""
    for value, name in ((body_id, "event_id"), (header_id, "X-Starshipit-Event-Id")):
        cleaned = _one_line(value, name, EVENT_ID_MAX, required=False)
        if cleaned:
            return cleaned
    return None


def _occurred_at(value) -> datetime:
    if value is None or value == "":
        return utcnow()
    moment = readable_time(value)
    if moment is None:
        raise ValidationFailed(f"occurred_at is not an RFC 3339 time such as 2026-11-24T04:30:00Z: "
                               f"{bounds.shown(value)!r}", field="occurred_at")
    return moment


def readable_time(value) -> datetime | None:
    if not isinstance(value, str) or len(value) > TIMESTAMP_MAX or bounds.bad_character(value) is not None:
        return None
    try:
        return parse_timestamp(value)
    except (OverflowError, ValueError):  # a time whose offset takes it past year 1 or 9999
        return None


def _order_number(value, name: str, *, required: bool) -> str | None:
    return _one_line(value, name, bounds.ORDER_NUMBER_MAX, required=required)


def starshipit_id(value, name: str = "order_id") -> int | None:
    """Starshipit's order_id: absent (None), or a whole number from 1 to bounds.MAX_STARSHIPIT_ID
    (a JSON number or digits)."""
    if value is None or value == "":
        return None
    return bounds.whole(value, name, minimum=1, maximum=bounds.MAX_STARSHIPIT_ID, label=name)


def _digest(event, order_id, occurred_at, raw: bytes) -> str:
    digest = hashlib.sha256()
    for part in (str(event), str(order_id), str(occurred_at)):
        digest.update(part.encode() + b"\x00")
    digest.update(raw)
    return digest.hexdigest()


# ---- the content ----------------------------------------------------------------------------


def order_data(order, where: str = "order", *, strings_checked: bool = False) -> OrderData:
    """The order object of an event, of the API or of a poll, checked against the warehouse's
    rules; ValidationFailed naming the field (`where` and the path inside the order).
    `strings_checked`: the door found no control character anywhere in the body, so the
    destination (kept as it comes) need not be walked again."""
    if not isinstance(order, dict):
        raise ValidationFailed(f"an order event needs an order object ({where})", field=where)
    order_number = _order_number(order.get("order_number"), f"{where}.order_number", required=True)
    order_id = starshipit_id(order.get("order_id"), f"{where}.order_id")
    destination = order.get("destination")
    if destination in (None, ""):
        destination = {}
    if not isinstance(destination, dict):
        raise ValidationFailed(f"{where}.destination must be an object", field=f"{where}.destination")
    if not strings_checked:
        _check_values(destination, f"{where}.destination")
    items = order.get("items")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ValidationFailed(f"{where}.items must be a list", field=f"{where}.items")
    lines: dict[str, LineData] = {}
    for index, item in enumerate(items):
        line = _line(item, f"{where}.items[{index}]")
        if line.sku in lines:
            merged = lines[line.sku]
            merged.quantity += line.quantity
            if merged.shipped is not None and line.shipped is not None:
                merged.shipped += line.shipped
            else:
                merged.shipped = None
            if merged.quantity > bounds.MAX_LINE_QUANTITY:
                raise ValidationFailed(
                    f"SKU {bounds.shown(line.sku)} is on several lines adding up to {merged.quantity:,} units; "
                    f"an order line holds at most {bounds.MAX_LINE_QUANTITY:,}", field=f"{where}.items[{index}].quantity")
        else:
            lines[line.sku] = line
    return OrderData(
        order_number=order_number,
        order_id=order_id,
        reference=descriptive(order.get("reference"), f"{where}.reference", REFERENCE_MAX),
        destination=destination,
        channel=descriptive(order.get("channel"), f"{where}.channel", CHANNEL_MAX),
        carrier_name=descriptive(order.get("carrier_name") or order.get("carrier"), f"{where}.carrier_name", CARRIER_MAX),
        warehouse_code=_warehouse_code(order.get("warehouse"), f"{where}.warehouse"),
        status=descriptive(order.get("status"), f"{where}.status", STATUS_MAX),
        last_updated=descriptive(order.get("last_updated_date"), f"{where}.last_updated_date", TIMESTAMP_MAX),
        lines=list(lines.values()),
    )


def _line(item, where: str) -> LineData:
    if not isinstance(item, dict):
        raise ValidationFailed(f"{where} must be an object", field=where)
    sku = _one_line(item.get("sku"), f"{where}.sku", bounds.SKU_MAX, required=True)
    raw_quantity = item.get("quantity")
    if raw_quantity is None:
        raw_quantity = item.get("quantity_to_ship")
    quantity = line_quantity(raw_quantity, f"{where}.quantity")
    shipped = None
    if item.get("quantity_to_ship") is not None and item.get("quantity") is not None:
        to_ship = line_quantity(item["quantity_to_ship"], f"{where}.quantity_to_ship")
        if to_ship > quantity:
            raise ValidationFailed(f"{where}: quantity_to_ship {to_ship:,} is more than quantity {quantity:,}",
                                   field=f"{where}.quantity_to_ship")
        shipped = quantity - to_ship
    description = descriptive(item.get("description"), f"{where}.description", DESCRIPTION_MAX, multiline=True)
    return LineData(sku=sku, quantity=quantity, description=description, shipped=shipped)


def _warehouse_code(value, name: str) -> str | None:
    code = _one_line(value, name, bounds.WAREHOUSE_CODE_MAX, required=False)
    if code is not None and any(character.isspace() for character in code):
        raise ValidationFailed(f"{name} is a warehouse code, which has no spaces: {bounds.shown(code)!r}", field=name)
    return code


def line_quantity(value, name: str) -> int:
    """Units on an order line or in a shipment: a whole number from 0 to bounds.MAX_LINE_QUANTITY."""
    return bounds.whole(value, name, minimum=0, maximum=bounds.MAX_LINE_QUANTITY, label=name)


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
        raise ValidationFailed("shipment.items must be a list", field="shipment.items")
    totals: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"shipment.items[{index}]"
        if not isinstance(item, dict):
            raise ValidationFailed(f"{where} must be an object", field=where)
        sku = _one_line(item.get("sku"), f"{where}.sku", bounds.SKU_MAX, required=True)
        totals[sku] = totals.get(sku, 0) + line_quantity(item.get("quantity"), f"{where}.quantity")
        if totals[sku] > bounds.MAX_LINE_QUANTITY:
            raise ValidationFailed(f"shipment.items add up to {totals[sku]:,} units of SKU {bounds.shown(sku)}; "
                                   f"at most {bounds.MAX_LINE_QUANTITY:,} ship on one line", field=f"{where}.quantity")
    return totals


def tracking_numbers(body: dict) -> list[str]:
    """The tracking numbers an event names (a tracking update's one, or the shipment's), each on
    one line and cut to TRACKING_NUMBER_MAX; anything else is left out."""
    shipment = body.get("shipment") if isinstance(body.get("shipment"), dict) else {}
    numbers = shipment.get("tracking_numbers") or []
    if isinstance(body.get("tracking_number"), str):
        numbers = [body["tracking_number"]]
    if not isinstance(numbers, list):
        return []
    kept = []
    for number in numbers:
        try:
            text = descriptive(number, "tracking_number", TRACKING_NUMBER_MAX)
        except ValidationFailed:
            continue
        if text:
            kept.append(text)
    return kept


def carrier_name(body: dict) -> str | None:
    """The carrier an event names (its shipment's, else its own), or None."""
    shipment = body.get("shipment") if isinstance(body.get("shipment"), dict) else {}
    for value in (shipment.get("carrier_name"), body.get("carrier_name")):
        try:
            name = descriptive(value, "carrier_name", CARRIER_MAX)
        except ValidationFailed:
            continue
        if name:
            return name
    return None


_BREAKS = re.compile(r"[\t\r\n]+")


def descriptive(value, name: str, limit: int, *, multiline: bool = False) -> str | None:
    """Descriptive text the mirror keeps (a reference, a carrier's name, a description): text or
    a number, no control character; line breaks and tabs become spaces unless `multiline`; cut to
    `limit` characters. Blank is None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValidationFailed(f"{name} must be text", field=name)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationFailed(f"{name} must be text", field=name)
    text = str(value) if multiline else _BREAKS.sub(" ", str(value))
    _check_string(text, name, multiline=multiline)
    return text.strip()[:limit].strip() or None
