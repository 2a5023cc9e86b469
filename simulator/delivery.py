"""Webhook delivery to the WMS: signed, asynchronous, retried with backoff, and recorded.

Events wait in a queue ordered by when they are next due; sender threads post them. Delivery can
be paused, and the next N events can be "lost" (recorded as lost, never sent), as a real network
and a real Starshipit sometimes do.
"""
from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time

import httpx


def sign(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, raw body)): the X-Starshipit-Signature header."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Deliverer:
    def __init__(self, target_url: str | None, secret: str = "", senders: int = 4, attempts: int = 4,
                 backoff: float = 0.2, timeout: float = 10.0):
        self.target_url = target_url
        self.secret = secret
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.paused = False
        self.lose_next = 0
        self.records: list[dict] = []
        self._queue: list = []  # (due, tiebreak, record)
        self._counter = itertools.count()
        self._in_flight = 0
        self._condition = threading.Condition()
        self._stopping = False
        self._threads = [threading.Thread(target=self._run, name=f"webhook-sender-{n}", daemon=True)
                         for n in range(senders)]
        for thread in self._threads:
            thread.start()

    # ---- queueing --------------------------------------------------------------------------
    def submit(self, event: dict) -> dict:
        """Queue one delivery of an event (submit the same event twice to send a duplicate)."""
        body = event.get("raw") or json.dumps(event["body"], separators=(",", ":")).encode()
        event["raw"] = body
        record = {
            "delivery": len(self.records) + 1, "event_id": event["event_id"], "event": event["event"],
            "kind": event["kind"], "order_number": event.get("order_number"), "state": "pending",
            "attempts": [], "body": event["body"], "_raw": body,
        }
        with self._condition:
            self.records.append(record)
            record["delivery"] = len(self.records)
            if self.lose_next > 0:
                self.lose_next -= 1
                record["state"] = "lost"
                return record
            if not self.target_url:
                record["state"] = "no-target"
                return record
            heapq.heappush(self._queue, (time.monotonic(), next(self._counter), record))
            self._condition.notify()
        return record

    def pause(self) -> None:
        with self._condition:
            self.paused = True

    def resume(self) -> None:
        with self._condition:
            self.paused = False
            self._condition.notify_all()

    def lose(self, count: int) -> None:
        with self._condition:
            self.lose_next += count

    @property
    def pending(self) -> int:
        with self._condition:
            return len(self._queue) + self._in_flight

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once nothing is queued or in flight (paused deliveries count as queued)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending == 0:
                return True
            time.sleep(0.02)
        return False

    def snapshot(self, since: int = 0, bodies: bool = False) -> dict:
        hidden = ("_raw",) if bodies else ("_raw", "body")
        with self._condition:
            rows = [{k: v for k, v in r.items() if k not in hidden} for r in self.records[since:]]
            rows = [dict(r, attempts=list(r["attempts"])) for r in rows]
            return {"pending": len(self._queue) + self._in_flight, "paused": self.paused,
                    "lose_next": self.lose_next, "count": len(self.records), "deliveries": rows}

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    # ---- sending ---------------------------------------------------------------------------
    def _next(self):
        with self._condition:
            while not self._stopping:
                if self._queue and not self.paused:
                    due = self._queue[0][0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        self._in_flight += 1
                        return heapq.heappop(self._queue)[2]
                    self._condition.wait(wait)
                else:
                    self._condition.wait(0.2)
            return None

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while (record := self._next()) is not None:
                try:
                    self._attempt(client, record)
                finally:
                    with self._condition:
                        self._in_flight -= 1

    def _attempt(self, client: httpx.Client, record: dict) -> None:
        headers = {"Content-Type": "application/json", "X-Starshipit-Event-Id": record["event_id"],
                   "User-Agent": "starshipit-simulator"}
        if self.secret:
            headers["X-Starshipit-Signature"] = sign(self.secret, record["_raw"])
        started = time.time()
        try:
            response = client.post(self.target_url, content=record["_raw"], headers=headers)
            attempt = {"status": response.status_code, "answer": response.text[:500], "at": started}
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError as error:
            attempt = {"status": None, "error": f"{type(error).__name__}: {error}", "at": started}
            ok = False
        with self._condition:
            record["attempts"].append(attempt)
            if ok:
                record["state"] = "delivered"
            elif len(record["attempts"]) >= self.attempts:
                record["state"] = "failed"
            else:
                record["state"] = "retrying"
                due = time.monotonic() + self.backoff * 2 ** (len(record["attempts"]) - 1)
                heapq.heappush(self._queue, (due, next(self._counter), record))
                self._condition.notify()
