"""Starshipit's order API, from the WMS's side: one client for every endpoint we use.

Both auth headers on every request; the `success`/`errors` envelope checked (HTTP 200 with
`success: false` is an error too); 429 waits for `Retry-After`; 5xx, timeouts and dropped
connections are retried a bounded number of times with backoff; a token bucket keeps this
process under the account's rate limit (2 requests/s on a developer subscription, 20 in production).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

MAX_IMPORT = 50
MAX_PAGE_SIZE = 250


class StarshipitError(Exception):
    """Starshipit said no (or could not be reached): `status` is the HTTP status if any, `errors` its list."""

    def __init__(self, message: str, status: int | None = None, errors: list | None = None):
        self.status = status
        self.errors = errors or []
        details = "; ".join(
            " - ".join(str(part) for part in (e.get("message"), e.get("details")) if part) if isinstance(e, dict) else str(e)
            for e in self.errors
        )
        super().__init__(f"{message}: {details}" if details else message)
        self.message = message


class RateLimiter:
    """A thread-safe token bucket: `rate` requests a second, at most `burst` at once. 0 means unlimited."""

    def __init__(self, rate: float, burst: float = 1.0):
        self.rate = float(rate)
        self.burst = max(1.0, float(burst))
        self._tokens = self.burst
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if self.rate <= 0:
            return
        with self._lock:  # callers queue here, each leaving with one token
            while True:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                time.sleep((1 - self._tokens) / self.rate)


_shared_limiters: dict[tuple, RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(base_url: str, subscription_key: str, rate: float) -> RateLimiter:
    """One bucket per account and rate in this process, however many clients are made."""
    key = (base_url, subscription_key, float(rate))
    with _shared_lock:
        if key not in _shared_limiters:
            _shared_limiters[key] = RateLimiter(rate)
        return _shared_limiters[key]


@dataclass
class Page:
    orders: list[dict]
    total_pages: int
    page: int = 1
    raw: dict = field(default_factory=dict, repr=False)


def _timestamp(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class StarshipitClient:
    def __init__(self, base_url: str, api_key: str, subscription_key: str, *, rate_limit: float = 2.0,
                 limiter: RateLimiter | None = None, timeout: float = 10.0, max_retries: int = 3,
                 backoff: float = 0.5, max_throttled: int = 5, max_retry_after: float = 60.0,
                 transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter or RateLimiter(rate_limit)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_throttled = max_throttled
        self.max_retry_after = max_retry_after
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, transport=transport,
            headers={"StarShipIT-Api-Key": api_key, "Ocp-Apim-Subscription-Key": subscription_key,
                     "Content-Type": "application/json", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "StarshipitClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- the transport: limits, retries, envelope ------------------------------------------
    def request(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None) -> dict:
        """One API call, retried as needed; the response body when Starshipit says success."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        failures = throttled = 0
        while True:
            self.limiter.acquire()
            try:
                response = self._http.request(method, path, params=params, json=body)
            except httpx.TransportError as error:  # timeouts, refused and dropped connections
                failures += 1
                if failures > self.max_retries:
                    raise StarshipitError(f"Starshipit unreachable ({method} {path}): {_transport_words(error)}") from error
                time.sleep(self.backoff * 2 ** (failures - 1))
                continue
            if response.status_code == 429:
                throttled += 1
                if throttled > self.max_throttled:
                    raise self._error(response, method, path)
                time.sleep(self._retry_after(response))
                continue
            if response.status_code >= 500:
                failures += 1
                if failures > self.max_retries:
                    raise self._error(response, method, path)
                time.sleep(self.backoff * 2 ** (failures - 1))
                continue
            return self._envelope(response, method, path)

    def _retry_after(self, response: httpx.Response) -> float:
        value = response.headers.get("Retry-After", "").strip()
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError):
                seconds = 1.0
        return min(max(seconds, 0.0), self.max_retry_after)

    @staticmethod
    def _json(response: httpx.Response):
        try:
            return response.json()
        except ValueError:
            return None

    def _error(self, response: httpx.Response, method: str, path: str) -> StarshipitError:
        data = self._json(response)
        errors: list = []
        if isinstance(data, dict):
            errors = data.get("errors") or ([{"message": data["message"]}] if data.get("message") else [])
        elif response.text:
            errors = [{"message": response.text[:300]}]
        return StarshipitError(f"Starshipit {method} {path} failed with HTTP {response.status_code}",
                               response.status_code, errors if isinstance(errors, list) else [errors])

    def _envelope(self, response: httpx.Response, method: str, path: str) -> dict:
        if not response.is_success:
            raise self._error(response, method, path)
        data = self._json(response)
        if not isinstance(data, dict):
            raise StarshipitError(f"Starshipit {method} {path} answered with something that is not a JSON object",
                                  response.status_code)
        success = data.get("success")
        if success is True or (type(success) is int and success == 1) or success in ("true", "True"):
            return data
        errors = data.get("errors") or [{"message": "success was not true"}]
        raise StarshipitError(f"Starshipit {method} {path} refused", response.status_code,
                              errors if isinstance(errors, list) else [errors])

    # ---- orders ---------------------------------------------------------------------------
    def create_order(self, order: dict) -> dict:
        return self.request("POST", "/api/orders", body={"order": order})["order"]

    def import_orders(self, orders: list[dict]) -> list[dict]:
        """Create many orders, 50 per call; the created orders as Starshipit returns them."""
        created: list[dict] = []
        for start in range(0, len(orders), MAX_IMPORT):
            answer = self.request("POST", "/api/orders/import", body={"orders": orders[start:start + MAX_IMPORT]})
            created += answer.get("orders") or []
        return created

    def get_order(self, order_id: int | None = None, order_number: str | None = None) -> dict:
        if order_id is None and not order_number:
            raise ValueError("get_order needs order_id or order_number")
        params = {"order_id": order_id} if order_id is not None else {"order_number": order_number}
        return self.request("GET", "/api/orders", params=params)["order"]

    def _listing(self, which: str, since, page: int, limit: int, ids_only: bool) -> Page:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be 1-{MAX_PAGE_SIZE}")
        params = {"since_last_updated": _timestamp(since), "page": page, "limit": limit,
                  "ids_only": "true" if ids_only else None}
        answer = self.request("GET", f"/api/orders/{which}", params=params)
        return Page(answer.get("orders") or [], int(answer.get("total_pages") or 0), page, answer)

    def unshipped_orders(self, since=None, page: int = 1, limit: int = 50, ids_only: bool = False) -> Page:
        return self._listing("unshipped", since, page, limit, ids_only)

    def shipped_orders(self, since=None, page: int = 1, limit: int = 50, ids_only: bool = False) -> Page:
        return self._listing("shipped", since, page, limit, ids_only)

    def _every(self, which: str, since, limit: int, ids_only: bool) -> Iterator[dict]:
        page = 1
        while True:
            result = self._listing(which, since, page, limit, ids_only)
            yield from result.orders
            if not result.orders or page >= result.total_pages:
                return
            page += 1

    def iter_unshipped(self, since=None, limit: int = MAX_PAGE_SIZE, ids_only: bool = False) -> Iterator[dict]:
        """Every unshipped order updated since `since`, across all pages."""
        return self._every("unshipped", since, limit, ids_only)

    def iter_shipped(self, since=None, limit: int = MAX_PAGE_SIZE, ids_only: bool = False) -> Iterator[dict]:
        """Every shipped order updated since `since`, across all pages."""
        return self._every("shipped", since, limit, ids_only)

    def update_order(self, order: dict) -> dict:
        if not order.get("order_id"):
            raise ValueError("update_order needs the order's order_id")
        return self.request("PUT", "/api/orders", body={"order": order})["order"]

    def delete_order(self, order_id: int) -> None:
        self.request("DELETE", "/api/orders/delete", params={"order_id": order_id})

    # ---- labels and tracking --------------------------------------------------------------
    def create_shipment(self, order_id: int, reprint: bool = False, carrier: str | None = None,
                        carrier_service_code: str | None = None, packages: list[dict] | None = None) -> dict:
        """Labels for an order: order_id, order_number, carrier_name, tracking_numbers, labels (base64 PDF)."""
        body: dict = {"order_id": order_id}
        if reprint:
            body["reprint"] = True
        for key, value in (("carrier", carrier), ("carrier_service_code", carrier_service_code), ("packages", packages)):
            if value is not None:
                body[key] = value
        answer = self.request("POST", "/api/orders/shipment", body=body)
        return {k: v for k, v in answer.items() if k not in ("success", "errors")}

    def track(self, order_number: str) -> dict:
        return self.request("GET", "/api/track", params={"order_number": order_number})["results"]


def _transport_words(error: httpx.TransportError) -> str:
    """What went wrong on the way, in words: the message reaches pages (a label job's error, the
    order's timeline), where an exception's class name or text is no message; the exception itself
    stays the StarshipitError's cause, for the technical detail."""
    said = str(error).lower()
    if isinstance(error, httpx.TimeoutException):
        return "Timeout: no answer came in time"
    if isinstance(error, httpx.ConnectError):
        if "certificate" in said:
            return "its certificate could not be verified, so nothing was sent"
        if "refused" in said:
            return "nothing answers at that address (connection refused)"
        return "could not connect: no such host, or nothing answers there"
    return "the connection failed before an answer came"


def client_from_settings(session, **options) -> StarshipitClient:
    """A client for the account configured in the app (settings page, else environment).
    Needs an app context; clients made this way in one process share one rate limiter."""
    from app.settings_store import effective

    base_url = effective(session, "STARSHIPIT_API_URL") or "https://api.starshipit.com"
    api_key = effective(session, "STARSHIPIT_API_KEY")
    subscription_key = effective(session, "STARSHIPIT_SUBSCRIPTION_KEY")
    try:
        rate = float(effective(session, "STARSHIPIT_RATE_LIMIT") or 2)
    except ValueError:
        rate = 2.0
    options.setdefault("limiter", shared_limiter(base_url, subscription_key or api_key, rate))
    return StarshipitClient(base_url, api_key, subscription_key, rate_limit=rate, **options)
