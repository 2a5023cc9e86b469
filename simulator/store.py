"""The simulated Starshipit account: orders, shipments and tracking, held in memory.

Every change goes through one lock and reports an event (order events and tracking webhooks)
to `emit`, which the simulator hands to the webhook sender.
"""
from __future__ import annotations

import base64
import copy
import math
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from simulator.pdf import label_pdf

ORDER_STATUSES = ("Unshipped", "Saved", "Printed", "Delivered")
TRACKING_STATUSES = (
    "Printed", "Dispatched", "InTransit", "OutForDelivery", "Delivered", "PickupInStore",
    "AttemptedDelivery", "Exception", "AwaitingCollection", "Cancelled",
)
CARRIERS = (
    # carrier code, carrier name, service code, tracking prefix
    ("NZPost", "NZ Post", "CPOLP", "NZ"),
    ("CourierPost", "CourierPost", "CPOLE", "CP"),
    ("AusPost", "Australia Post", "7E55", "AP"),
    ("StarTrack", "StarTrack", "EXP", "ST"),
    ("DHL", "DHL Express", "P", "JD"),
)
MAX_IMPORT = 50
MAX_LIMIT = 250


class ApiError(Exception):
    """An application error: HTTP status and the envelope's errors list."""

    def __init__(self, status: int, message: str, details: str = ""):
        super().__init__(message)
        self.status = status
        self.errors = [{"message": message, "details": details}]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ApiError(400, "since_last_updated is not an RFC 3339 date", value) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class Record:
    order: dict
    created: int  # sequence number, for creation order
    updated: datetime
    deleted: bool = False
    shipments: list[dict] = field(default_factory=list)
    tracking_status: str | None = None
    tracking_events: list[dict] = field(default_factory=list)

    @property
    def shipped_any(self) -> bool:
        return bool(self.shipments)

    @property
    def remaining(self) -> dict[str, int]:
        left: dict[str, int] = {}
        for item in self.order["items"]:
            if item["quantity_to_ship"] > 0:
                left[item["sku"]] = left.get(item["sku"], 0) + item["quantity_to_ship"]
        return left


class Store:
    def __init__(self, emit=None, seed: int | None = None, account_name: str = "Main store", api_key: str = ""):
        self.lock = threading.RLock()
        self.emit = emit or (lambda event: None)
        self.rng = random.Random(seed)
        self.account = {"api_key_hint": api_key[-4:] if api_key else "", "name": account_name}
        self.order_events = True
        self.tracking_webhooks = True
        self._records: dict[int, Record] = {}
        self._numbers: dict[str, int] = {}
        self._next_id = 100001 + self.rng.randrange(0, 800000, 1000)
        self._sequence = 0
        self._last_time = datetime.now(UTC)

    # ---- time and events -------------------------------------------------------------------
    def _now(self) -> datetime:
        """A clock that never repeats or goes back, so each order's events have increasing times."""
        now = datetime.now(UTC)
        self._last_time = max(now, self._last_time + timedelta(milliseconds=1))
        return self._last_time

    def _order_event(self, kind: str, record: Record, at: datetime, shipment: dict | None = None) -> None:
        if not self.order_events:
            return
        body = {
            "event": kind,
            "event_id": "evt_" + uuid.uuid4().hex,
            "occurred_at": rfc3339(at),
            "account": dict(self.account),
            "order": self.public(record),
        }
        if shipment is not None:
            body["shipment"] = shipment
        self.emit({"kind": "order", "event": kind, "event_id": body["event_id"],
                   "order_number": record.order["order_number"], "body": body})

    def _tracking_event(self, record: Record, status: str, at: datetime, tracking_number: str | None = None) -> None:
        order = record.order
        record.tracking_status = status
        record.tracking_events.append({"event_datetime": rfc3339(at), "status": status, "details": _details(status)})
        if not self.tracking_webhooks:
            return
        last = record.shipments[-1] if record.shipments else {}
        body = {
            "order_number": order["order_number"],
            "order_reference": order.get("reference", ""),
            "carrier_name": order.get("carrier_name", ""),
            "carrier_service": order.get("carrier_service_code", ""),
            "shipment_date": last.get("shipment_date", rfc3339(at)),
            "tracking_number": tracking_number or (last.get("tracking_numbers") or [""])[0],
            "tracking_status": status,
            "last_updated_date": rfc3339(at),
        }
        self.emit({"kind": "tracking", "event": "tracking:" + status, "event_id": "evt_" + uuid.uuid4().hex,
                   "order_number": order["order_number"], "body": body})

    # ---- reading ---------------------------------------------------------------------------
    def public(self, record: Record) -> dict:
        order = copy.deepcopy(record.order)
        order["last_updated_date"] = rfc3339(record.updated)
        return order

    def _find(self, order_id=None, order_number=None) -> Record:
        if order_id not in (None, ""):
            try:
                record = self._records.get(int(order_id))
            except (TypeError, ValueError):
                raise ApiError(400, "order_id must be a number", str(order_id)) from None
        elif order_number not in (None, ""):
            record = self._records.get(self._numbers.get(str(order_number), -1))
        else:
            raise ApiError(400, "order_id or order_number is required")
        if record is None or record.deleted:
            raise ApiError(404, "Order not found", f"order_id={order_id} order_number={order_number}")
        return record

    def get(self, order_id=None, order_number=None) -> dict:
        with self.lock:
            return self.public(self._find(order_id, order_number))

    def listing(self, shipped: bool, since=None, limit=None, page=None, ids_only=False) -> dict:
        try:
            limit = 50 if limit in (None, "") else int(limit)
            page = 1 if page in (None, "") else int(page)
        except ValueError:
            raise ApiError(400, "limit and page must be numbers") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(400, f"limit must be between 1 and {MAX_LIMIT}", str(limit))
        if page < 1:
            raise ApiError(400, "page must be 1 or more", str(page))
        since_at = parse_time(since) if since else None
        with self.lock:
            chosen = [
                r for r in self._records.values()
                if not r.deleted
                and (r.shipped_any if shipped else r.order["status"] in ("Unshipped", "Saved"))
                and (since_at is None or r.updated >= since_at)
            ]
            chosen.sort(key=lambda r: (r.updated, r.order["order_id"]))
            window = chosen[(page - 1) * limit: page * limit]
            if ids_only:
                orders = [{"order_id": r.order["order_id"], "order_number": r.order["order_number"]} for r in window]
            else:
                orders = [self.public(r) for r in window]
        return {"orders": orders, "total_pages": math.ceil(len(chosen) / limit)}

    def all_orders(self) -> list[dict]:
        with self.lock:
            records = sorted(self._records.values(), key=lambda r: r.created)
            return [dict(self.public(r), deleted=r.deleted, shipments=copy.deepcopy(r.shipments)) for r in records]

    # ---- orders ----------------------------------------------------------------------------
    def _normalise(self, raw, existing: Record | None = None) -> dict:
        if not isinstance(raw, dict):
            raise ApiError(400, "order must be an object")
        number = raw.get("order_number", existing.order["order_number"] if existing else None)
        if not isinstance(number, str) or not 1 <= len(number.strip()) <= 50:
            raise ApiError(400, "order_number is required and must be 1-50 characters", repr(number))
        number = number.strip()
        taken = self._numbers.get(number)
        if taken is not None and not self._records[taken].deleted and (existing is None or taken != existing.order["order_id"]):
            raise ApiError(200, "Order number already exists", number)
        order = copy.deepcopy(existing.order) if existing else {
            "order_id": None, "order_number": number, "order_date": rfc3339(self._now()), "reference": "",
            "carrier": "", "carrier_name": "", "carrier_service_code": "", "shipping_method": "",
            "status": "Unshipped", "destination": {}, "items": [], "packages": [],
        }
        order["order_number"] = number
        for key in ("order_date", "reference", "carrier", "carrier_name", "carrier_service_code",
                    "shipping_method", "warehouse", "channel"):
            if key in raw:
                order[key] = "" if raw[key] is None else str(raw[key])
        if "status" in raw:
            if raw["status"] not in ORDER_STATUSES:
                raise ApiError(400, "status must be one of " + ", ".join(ORDER_STATUSES), str(raw["status"]))
            order["status"] = raw["status"]
        if "destination" in raw:
            if not isinstance(raw["destination"], dict):
                raise ApiError(400, "destination must be an object")
            order["destination"] = {**order.get("destination", {}), **raw["destination"]}
        if "items" in raw:
            order["items"] = self._items(raw["items"])
        if "packages" in raw:
            if not isinstance(raw["packages"], list):
                raise ApiError(400, "packages must be a list")
            order["packages"] = copy.deepcopy(raw["packages"])
        return order

    def _items(self, raw) -> list[dict]:
        if not isinstance(raw, list):
            raise ApiError(400, "items must be a list")
        items = []
        for position, item in enumerate(raw, start=1):
            if not isinstance(item, dict):
                raise ApiError(400, f"item {position} must be an object")
            sku = item.get("sku")
            quantity = item.get("quantity")
            if not isinstance(sku, str) or not sku.strip():
                raise ApiError(400, f"item {position}: sku is required")
            if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or quantity <= 0 or int(quantity) != quantity:
                raise ApiError(400, f"item {position}: quantity must be a positive whole number", repr(quantity))
            items.append({
                "item_id": int(item.get("item_id") or 0) or self.rng.randrange(10**6, 10**7),
                "sku": sku.strip(),
                "description": str(item.get("description") or sku.strip()),
                "quantity": int(quantity),
                "quantity_to_ship": int(quantity),
                "weight": float(item.get("weight") or 0.5),
                "value": float(item.get("value") or 10.0),
                "barcode": str(item.get("barcode") or ""),
            })
        return items

    def _add(self, order: dict) -> Record:
        order["order_id"] = self._next_id
        self._next_id += 1
        self._sequence += 1
        record = Record(order=order, created=self._sequence, updated=self._now())
        self._records[order["order_id"]] = record
        self._numbers[order["order_number"]] = order["order_id"]
        return record

    def create(self, raw) -> dict:
        with self.lock:
            record = self._add(self._normalise(raw))
            self._order_event("order_created", record, record.updated)
            return self.public(record)

    def import_orders(self, raws) -> list[dict]:
        if not isinstance(raws, list) or not raws:
            raise ApiError(400, "orders must be a non-empty list")
        if len(raws) > MAX_IMPORT:
            raise ApiError(400, f"At most {MAX_IMPORT} orders per import", f"got {len(raws)}")
        with self.lock:
            orders = [self._normalise(raw) for raw in raws]
            numbers = [order["order_number"] for order in orders]
            if len(set(numbers)) != len(numbers):
                raise ApiError(200, "Order number repeated in the import")
            created = []
            for order in orders:
                record = self._add(order)
                self._order_event("order_created", record, record.updated)
                created.append(self.public(record))
            return created

    def update(self, raw) -> dict:
        if not isinstance(raw, dict):
            raise ApiError(400, "order must be an object")
        with self.lock:
            record = self._find(raw.get("order_id"), None if raw.get("order_id") else raw.get("order_number"))
            if record.shipped_any or record.order["status"] in ("Printed", "Delivered"):
                extra = set(raw) - {"order_id", "order_number", "status"}
                if extra:
                    raise ApiError(400, "A printed or shipped order only accepts a status change",
                                   "not allowed: " + ", ".join(sorted(extra)))
                if "status" not in raw:
                    raise ApiError(400, "A printed or shipped order only accepts a status change")
                if raw["status"] not in ORDER_STATUSES:
                    raise ApiError(400, "status must be one of " + ", ".join(ORDER_STATUSES))
                record.order["status"] = raw["status"]
            else:
                record.order = self._normalise({k: v for k, v in raw.items() if k != "order_id"}, record)
                self._numbers = {n: i for n, i in self._numbers.items() if i != record.order["order_id"]}
                self._numbers[record.order["order_number"]] = record.order["order_id"]
            record.updated = self._now()
            self._order_event("order_changed", record, record.updated)
            return self.public(record)

    def delete(self, order_id) -> dict:
        with self.lock:
            record = self._find(order_id, None)
            if record.shipped_any or record.order["status"] not in ("Unshipped", "Saved"):
                raise ApiError(400, "Only unshipped orders can be deleted", record.order["status"])
            record.deleted = True
            record.updated = self._now()
            self._order_event("order_deleted", record, record.updated)
            return self.public(record)

    # ---- shipments and tracking ------------------------------------------------------------
    def ship(self, order_id=None, order_number=None, reprint=False, items=None, carrier=None,
             carrier_service_code=None, packages=None) -> dict:
        with self.lock:
            record = self._find(order_id, order_number)
            order = record.order
            if reprint:
                if not record.shipments:
                    raise ApiError(200, "No labels to reprint: the order has no shipment")
                last = record.shipments[-1]
                return self._shipment_answer(record, last)
            remaining = record.remaining
            if not remaining:
                raise ApiError(200, "Order has already been shipped", order["order_number"])
            chosen = self._shipment_items(remaining, items)
            sized = [self._package(p, n) for n, p in enumerate(packages)] if isinstance(packages, list) else []
            if carrier or not order.get("carrier"):
                code, name, service, _ = next((c for c in CARRIERS if c[0] == carrier), self.rng.choice(CARRIERS))
                order["carrier"], order["carrier_name"] = code, name
                order["carrier_service_code"] = carrier_service_code or service
            elif carrier_service_code:
                order["carrier_service_code"] = carrier_service_code
            prefix = next((c[3] for c in CARRIERS if c[0] == order["carrier"]), "SS")
            package_count = len(packages) if isinstance(packages, list) and packages else 1
            tracking_numbers = [f"{prefix}{self.rng.randrange(10**11, 10**12)}" for _ in range(package_count)]
            labels = [
                base64.b64encode(label_pdf(order["order_number"], number, order["carrier_name"],
                                           tuple(f"{i['quantity']} x {i['sku']}" for i in chosen))).decode()
                for number in tracking_numbers
            ]
            at = self._now()
            for item in order["items"]:
                for shipped in chosen:
                    if shipped["sku"] == item["sku"]:
                        take = min(shipped["quantity"] - shipped.get("_taken", 0), item["quantity_to_ship"])
                        item["quantity_to_ship"] -= take
                        shipped["_taken"] = shipped.get("_taken", 0) + take
            chosen = [{"sku": i["sku"], "quantity": i["quantity"]} for i in chosen]
            for position, number in enumerate(tracking_numbers):
                sizes = {"weight": round(sum(i["weight"] * i["quantity"] for i in order["items"]), 3),
                         "length": 0.3, "width": 0.2, "height": 0.1}
                sizes.update(sized[position] if position < len(sized) else {})
                order["packages"].append({**sizes, "tracking_number": number, "labels": []})
            shipment = {"carrier_name": order["carrier_name"], "tracking_numbers": tracking_numbers,
                        "items": chosen, "labels": labels, "label_types": ["PDF"] * len(labels),
                        "shipment_date": rfc3339(at)}
            record.shipments.append(shipment)
            if not record.remaining:
                order["status"] = "Printed"
            record.updated = at
            self._order_event("order_shipped", record, at, {
                "carrier_name": shipment["carrier_name"], "tracking_numbers": tracking_numbers, "items": chosen})
            self._tracking_event(record, "Printed", at, tracking_numbers[0])
            return self._shipment_answer(record, shipment)

    @staticmethod
    def _package(package, position: int) -> dict:
        """A package the shipment request gives: weight (kg), length, width, height (metres)."""
        if not isinstance(package, dict):
            raise ApiError(400, f"packages[{position}] must be an object")
        sizes = {}
        for key in ("weight", "length", "width", "height"):
            value = package.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 10**6:
                raise ApiError(400, f"packages[{position}].{key} must be a positive number", repr(value))
            sizes[key] = float(value)
        return sizes

    @staticmethod
    def _shipment_items(remaining: dict[str, int], items) -> list[dict]:
        if items is None:
            return [{"sku": sku, "quantity": quantity} for sku, quantity in remaining.items()]
        if not isinstance(items, list) or not items:
            raise ApiError(400, "shipment items must be a non-empty list")
        totals: dict[str, int] = {}
        for item in items:
            sku, quantity = (item or {}).get("sku"), (item or {}).get("quantity")
            if sku not in remaining:
                raise ApiError(400, f"{sku} has nothing left to ship on this order")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
                raise ApiError(400, f"{sku}: quantity must be a positive whole number")
            totals[sku] = totals.get(sku, 0) + quantity
            if totals[sku] > remaining[sku]:
                raise ApiError(400, f"{sku}: only {remaining[sku]} left to ship")
        return [{"sku": sku, "quantity": quantity} for sku, quantity in totals.items()]

    @staticmethod
    def _shipment_answer(record: Record, shipment: dict) -> dict:
        return {
            "order_id": record.order["order_id"], "order_number": record.order["order_number"],
            "carrier_name": shipment["carrier_name"], "tracking_numbers": list(shipment["tracking_numbers"]),
            "labels": list(shipment["labels"]), "label_types": list(shipment["label_types"]),
        }

    def advance_tracking(self, order_number: str, status: str) -> dict:
        if status not in TRACKING_STATUSES:
            raise ApiError(400, "tracking status must be one of " + ", ".join(TRACKING_STATUSES), str(status))
        with self.lock:
            record = self._find(None, order_number)
            at = self._now()
            if status == "Delivered" and record.shipped_any:
                record.order["status"] = "Delivered"
            record.updated = at
            self._tracking_event(record, status, at)
            return self.track(order_number)

    def track(self, order_number) -> dict:
        with self.lock:
            record = self._find(None, order_number)
            last = record.shipments[-1] if record.shipments else {}
            return {
                "order_number": record.order["order_number"], "order_status": record.order["status"],
                "carrier_name": record.order.get("carrier_name", ""),
                "tracking_number": (last.get("tracking_numbers") or [""])[0],
                "tracking_status": record.tracking_status or "",
                "tracking_events": copy.deepcopy(record.tracking_events),
            }

    # ---- what the WMS should end up with ---------------------------------------------------
    def expected(self, prefix: str = "") -> dict:
        with self.lock:
            orders, shipped = {}, {}
            for record in sorted(self._records.values(), key=lambda r: r.created):
                order = record.order
                if not order["order_number"].startswith(prefix):
                    continue
                if record.deleted:
                    status = "CANCELLED"
                elif record.shipped_any:
                    status = "PARTIALLY_SHIPPED" if record.remaining else "SHIPPED"
                else:
                    status = "PENDING"
                lines: dict[str, int] = {}
                for item in order["items"]:
                    lines[item["sku"]] = lines.get(item["sku"], 0) + item["quantity"]
                shipped_here: dict[str, int] = {}
                for shipment in record.shipments:
                    for item in shipment["items"]:
                        shipped_here[item["sku"]] = shipped_here.get(item["sku"], 0) + item["quantity"]
                        shipped[item["sku"]] = shipped.get(item["sku"], 0) + item["quantity"]
                orders[order["order_number"]] = {
                    "order_id": order["order_id"], "status": status,
                    "lines": [{"sku": sku, "quantity": q, "shipped": shipped_here.get(sku, 0)} for sku, q in lines.items()],
                }
            return {"orders": orders, "shipped_by_sku": dict(sorted(shipped.items()))}


def _details(status: str) -> str:
    return {
        "Printed": "Label printed", "Dispatched": "Picked up by courier", "InTransit": "In transit",
        "OutForDelivery": "Out for delivery", "Delivered": "Delivered", "Exception": "Delivery exception",
    }.get(status, status)
