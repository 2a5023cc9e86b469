"""The simulator's HTTP server: Starshipit's API under /api/ and a control API under /_sim/.

`Simulator(...).start()` serves in background threads (tests); `serve_forever()` blocks (CLI).
"""
from __future__ import annotations

import json
import math
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from simulator.delivery import Deliverer
from simulator.scenarios import DEFAULT_SKUS, Scenarios
from simulator.store import ApiError, Store


class RateLimiter:
    """A token bucket per subscription key: `rate` requests a second, bursts up to `rate`."""

    def __init__(self, rate: float):
        self.rate = rate
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """0 when the request may pass, else the seconds to wait (Retry-After)."""
        if not self.rate:
            return 0
        with self._lock:
            now = time.monotonic()
            tokens, last = self._buckets.get(key, (self.rate, now))
            tokens = min(self.rate, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))


class Simulator:
    def __init__(self, port: int = 0, host: str = "127.0.0.1", wms_url: str | None = None, secret: str = "",
                 api_key: str = "", subscription_key: str = "", rate_limit: float = 0, skus=None,
                 seed: int | None = None, senders: int = 4, attempts: int = 4, backoff: float = 0.2,
                 verbose: bool = False):
        self.api_key = api_key
        self.subscription_key = subscription_key
        self.limiter = RateLimiter(rate_limit)
        self.verbose = verbose
        self.faults: list[dict] = []
        self._faults_lock = threading.Lock()
        self.success_as_number = False  # answer "success": 1, as some clients have seen
        self._capture: list | None = None
        self._replay_lock = threading.Lock()
        self.deliverer = Deliverer(self.webhook_url(wms_url), secret, senders=senders, attempts=attempts,
                                   backoff=backoff)
        self.store = Store(emit=self._emit, seed=seed, api_key=api_key)
        self.scenarios = Scenarios(self.store, skus or DEFAULT_SKUS, seed)
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._demo_stop = threading.Event()

    def take_fault(self, method: str, path: str) -> dict:
        """The first queued fault that applies to this request (its method and path, when it names
        them), taken off the queue; {} when none does."""
        with self._faults_lock:
            for index, fault in enumerate(self.faults):
                if (fault.get("method") or method) == method and (fault.get("path") or path) == path:
                    return self.faults.pop(index)
        return {}

    @staticmethod
    def webhook_url(wms_url: str | None) -> str | None:
        return wms_url.rstrip("/") + "/webhooks/starshipit" if wms_url else None

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        host = self.httpd.server_address[0]
        return f"http://{host}:{self.port}"

    def start(self) -> "Simulator":
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.1,), name="simulator-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self._demo_stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.deliverer.stop()

    # ---- events ------------------------------------------------------------------------------
    def _emit(self, event: dict) -> None:
        if self._capture is not None:
            self._capture.append(event)
        else:
            self.deliverer.submit(event)

    def replay(self, orders: int, seed: int = 1, duplicate_rate: float = 0.0, shuffle: bool = False,
               skus=None, ship_rate: float = 0.7, partial_rate: float = 0.1, change_rate: float = 0.2,
               delete_rate: float = 0.05, prefix: str | None = None, tracking: bool = False) -> dict:
        """N orders through their lives; their whole event stream delivered with repeats, maybe shuffled.
        Only order events unless `tracking`: the Printed tracking webhooks are left out by default."""
        with self._replay_lock:
            self._capture = []
            try:
                prefix = self.scenarios.replay(orders, seed, ship_rate, partial_rate, change_rate, delete_rate,
                                               skus, prefix)
                events = [e for e in self._capture if tracking or e["kind"] == "order"]
            finally:
                self._capture = None
        rng = random.Random(seed)
        stream = []
        for event in events:
            stream.append(event)
            copies = 1
            while copies < 4 and rng.random() < duplicate_rate:
                stream.append(event)
                copies += 1
        if shuffle:
            rng.shuffle(stream)
        for event in stream:
            self.deliverer.submit(event)
        return {"prefix": prefix, "orders": orders, "events": len(events), "deliveries": len(stream)}

    # ---- demo ----------------------------------------------------------------------------------
    def start_demo(self, interval: float = 5.0, ship_rate: float = 0.6) -> None:
        """A fresh order every `interval` seconds; some earlier ones get shipped and tracked."""

        def loop():
            rng = random.Random()
            waiting: list[str] = []
            travelling: list[tuple[str, int]] = []  # shipped orders and how far their parcel got
            journey = ("Dispatched", "InTransit", "OutForDelivery", "Delivered")
            while not self._demo_stop.wait(interval):
                try:
                    if travelling and rng.random() < 0.25:
                        number, step = travelling.pop(0)
                        self.store.advance_tracking(number, journey[step])
                        if step + 1 < len(journey):
                            travelling.append((number, step + 1))
                    elif waiting and rng.random() < ship_rate:
                        number = waiting.pop(0)
                        self.store.ship(order_number=number)
                        travelling.append((number, 0))
                    else:
                        order = self.scenarios.new_order(prefix="DEMO-")
                        waiting.append(order["order_number"])
                        if rng.random() < 0.1:
                            self.scenarios.change(order["order_number"])
                except ApiError:
                    continue

        threading.Thread(target=loop, name="simulator-demo", daemon=True).start()


def _handler(sim: Simulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes
        server_version = "StarshipitSimulator/1.0"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            if sim.verbose:
                super().log_message(format, *args)

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_PUT(self):
            self._dispatch("PUT")

        def do_DELETE(self):
            self._dispatch("DELETE")

        def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
            late, self._late = getattr(self, "_late", None), None
            if late:  # an "after" fault: what was asked is done; the answer waits, or is this status
                if late.get("delay"):
                    time.sleep(late["delay"])
                if late.get("status"):
                    status, body, headers = late["status"], {"statusCode": late["status"],
                                                             "message": "Simulated server error"}, None
            if sim.success_as_number and body.get("success") is True:
                body = {**body, "success": 1}
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw.strip():
                return {}
            try:
                return json.loads(raw)
            except ValueError:
                raise ApiError(400, "The request body is not valid JSON") from None

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            path = parts.path.rstrip("/") or "/"
            try:
                if path.startswith("/api/"):
                    self._api(method, path, query)
                elif path.startswith("/_sim/") or path == "/_sim":
                    self._control(method, path, query)
                else:
                    self._send(404, {"statusCode": 404, "message": "Resource not found"})
            except ApiError as error:
                self._send(error.status, {"success": False, "errors": error.errors})
            except (ValueError, TypeError, KeyError) as error:  # a badly typed field in the request
                self._send(400, {"success": False, "errors": [{"message": "Invalid request", "details": str(error)}]})
            except Exception as error:  # a simulator bug: answer like a server would, keep serving
                self._send(500, {"success": False, "errors": [{"message": "Internal error", "details": repr(error)}]})

        # ---- Starshipit's API ------------------------------------------------------------------
        def _api(self, method: str, path: str, query: dict) -> None:
            api_key = self.headers.get("StarShipIT-Api-Key", "")
            subscription = self.headers.get("Ocp-Apim-Subscription-Key", "")
            if (sim.api_key and api_key != sim.api_key) or (sim.subscription_key and subscription != sim.subscription_key):
                return self._send(401, {"statusCode": 401, "message": "Access denied due to invalid subscription key. "
                                        "Make sure to provide a valid key for an active subscription."})
            wait = sim.limiter.take(subscription or api_key)
            if wait:
                return self._send(429, {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {wait} seconds."},
                                  {"Retry-After": str(wait)})
            fault = sim.take_fault(method, path)
            if fault.get("after"):  # carried out first, then the answer is late (or never read)
                self._late = fault
            else:
                if fault.get("delay"):
                    time.sleep(fault["delay"])
                if fault.get("status"):
                    self._body()
                    status = fault["status"]
                    return self._send(status, {"statusCode": status, "message": "Simulated server error"})
            store = sim.store
            route = (method, path)
            if route == ("POST", "/api/orders"):
                body = self._body()
                order = store.create(body.get("order") if isinstance(body, dict) else None)
                return self._send(200, {"order": order, "success": True})
            if route == ("POST", "/api/orders/import"):
                body = self._body()
                orders = store.import_orders(body.get("orders") if isinstance(body, dict) else None)
                return self._send(200, {"orders": orders, "success": True})
            if route == ("GET", "/api/orders"):
                order = store.get(query.get("order_id"), query.get("order_number"))
                return self._send(200, {"order": order, "success": True})
            if method == "GET" and path in ("/api/orders/unshipped", "/api/orders/shipped"):
                page = store.listing(path.endswith("/shipped"), query.get("since_last_updated"), query.get("limit"),
                                     query.get("page"), query.get("ids_only", "").lower() in ("true", "1"))
                return self._send(200, {**page, "success": True})
            if route == ("PUT", "/api/orders"):
                body = self._body()
                order = store.update(body.get("order") if isinstance(body, dict) else None)
                return self._send(200, {"order": order, "success": True})
            if route == ("DELETE", "/api/orders/delete"):
                if not query.get("order_id"):
                    raise ApiError(400, "order_id is required")
                store.delete(query["order_id"])
                return self._send(200, {"success": True})
            if route == ("POST", "/api/orders/shipment"):
                body = self._body()
                if not isinstance(body, dict) or not body.get("order_id"):
                    raise ApiError(400, "order_id is required")
                answer = store.ship(order_id=body["order_id"], reprint=bool(body.get("reprint")),
                                    carrier=body.get("carrier"), carrier_service_code=body.get("carrier_service_code"),
                                    packages=body.get("packages"))
                return self._send(200, {**answer, "success": True})
            if route == ("GET", "/api/track"):
                if not query.get("order_number"):
                    raise ApiError(400, "order_number is required")
                return self._send(200, {"results": store.track(query["order_number"]), "success": True})
            self._send(404, {"statusCode": 404, "message": "Resource not found"})

        # ---- control API (no auth) -------------------------------------------------------------
        def _control(self, method: str, path: str, query: dict) -> None:
            store, scenarios, deliverer = sim.store, sim.scenarios, sim.deliverer
            segments = [unquote(s) for s in path.split("/")[2:]]
            body = self._body() if method in ("POST", "PUT", "DELETE") else {}
            if not isinstance(body, dict):
                raise ApiError(400, "the body must be a JSON object")
            head = segments[0] if segments else ""
            if head == "health":
                return self._send(200, {"ok": True, "orders": len(store.all_orders()), "pending": deliverer.pending})
            if head == "orders" and len(segments) == 1:
                if method == "GET":
                    return self._send(200, {"orders": store.all_orders()})
                return self._send(201, {"order": scenarios.new_order(body, prefix=body.pop("prefix", "SIM-"))})
            if head == "orders" and len(segments) >= 2:
                number = segments[1]
                action = segments[2] if len(segments) > 2 else ""
                if action == "" and method == "GET":
                    return self._send(200, {"order": store.get(order_number=number)})
                if (action == "" and method == "DELETE") or action == "delete":
                    order = store.get(order_number=number)
                    return self._send(200, {"order": store.delete(order["order_id"])})
                if action == "ship":
                    items = body.get("items")
                    if body.get("partial") and items is None:
                        items = scenarios.partial_items(number)
                    answer = store.ship(order_number=number, items=items, carrier=body.get("carrier"))
                    order = store.get(order_number=number)
                    return self._send(200, {**answer, "order": order})
                if action == "change":
                    return self._send(200, {"order": scenarios.change(number, body or None)})
                if action == "tracking":
                    return self._send(200, {"results": store.advance_tracking(number, body.get("status"))})
            if head == "pause":
                deliverer.pause()
                return self._send(200, deliverer.snapshot(len(deliverer.records)))
            if head == "resume":
                deliverer.resume()
                return self._send(200, deliverer.snapshot(len(deliverer.records)))
            if head == "lose":
                deliverer.lose(int(body.get("count", 1)))
                return self._send(200, {"lose_next": deliverer.lose_next})
            if head == "faults":
                if method == "POST":
                    fault = {"status": int(body["status"]) if body.get("status") else None,
                             "delay": float(body.get("delay") or 0), "after": bool(body.get("after")),
                             "method": str(body.get("method") or "").upper() or None,
                             "path": str(body.get("path") or "") or None}
                    if not fault["status"] and not fault["delay"]:
                        fault["status"] = 500
                    sim.faults.extend([dict(fault) for _ in range(int(body.get("count", 1)))])
                elif method == "DELETE":
                    sim.faults.clear()
                return self._send(200, {"faults": list(sim.faults)})
            if head == "deliveries":
                return self._send(200, deliverer.snapshot(int(query.get("since", 0)),
                                                         query.get("bodies", "") in ("1", "true")))
            if head == "wait":
                idle = deliverer.wait_idle(float(query.get("timeout", 30)))
                return self._send(200, {"idle": idle, "pending": deliverer.pending})
            if head == "skus":
                if method == "POST":
                    skus = body.get("skus")
                    if not isinstance(skus, list) or not skus or not all(isinstance(s, str) and s for s in skus):
                        raise ApiError(400, "skus must be a non-empty list of strings")
                    scenarios.skus = list(skus)
                return self._send(200, {"skus": scenarios.skus})
            if head == "expected":
                return self._send(200, store.expected(query.get("prefix", "")))
            if head == "replay" and method == "POST":
                options = {k: body[k] for k in ("seed", "duplicate_rate", "shuffle", "skus", "ship_rate",
                                                "partial_rate", "change_rate", "delete_rate", "prefix", "tracking")
                           if k in body}
                return self._send(200, sim.replay(int(body.get("orders", 10)), **options))
            if head == "config":
                if method == "POST":
                    if "order_events" in body:
                        store.order_events = bool(body["order_events"])
                    if "tracking_webhooks" in body:
                        store.tracking_webhooks = bool(body["tracking_webhooks"])
                    if "rate_limit" in body:
                        sim.limiter = RateLimiter(float(body["rate_limit"]))
                    if "wms_url" in body:
                        deliverer.target_url = sim.webhook_url(body["wms_url"])
                    if "success_as_number" in body:
                        sim.success_as_number = bool(body["success_as_number"])
                    if "secret" in body:
                        deliverer.secret = str(body["secret"])
                return self._send(200, {"order_events": store.order_events, "tracking_webhooks": store.tracking_webhooks,
                                        "rate_limit": sim.limiter.rate, "webhook_url": deliverer.target_url,
                                        "success_as_number": sim.success_as_number})
            self._send(404, {"error": f"no control endpoint {method} {path}"})

    return Handler
