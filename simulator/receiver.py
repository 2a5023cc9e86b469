"""A tiny webhook catcher: records each POST, checks its signature, answers as told.

For tests and for trying the simulator without a WMS (`Receiver(secret).start()`).
"""
from __future__ import annotations

import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from simulator.delivery import sign


class Receiver:
    def __init__(self, secret: str = "", host: str = "127.0.0.1"):
        self.secret = secret
        self.received: list[dict] = []
        self.answers: list[int] = []  # statuses for the next requests; then 202
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, 0), self._handler())
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "Receiver":
        threading.Thread(target=self.httpd.serve_forever, args=(0.1,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def bodies(self, kind: str | None = None) -> list[dict]:
        """Bodies of correctly signed requests; `kind` an order event name or "tracking"."""
        with self._lock:
            found = [r["json"] for r in self.received if r["signature_ok"]]
        if kind == "tracking":
            return [b for b in found if "tracking_status" in b]
        return [b for b in found if kind is None or b.get("event") == kind]

    def wait_for(self, count: int, timeout: float = 10.0, kind: str | None = None) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.bodies(kind)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} webhooks ({kind or 'any'}), got {len(self.bodies(kind))}")

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, format, *args):  # noqa: A002
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                given = self.headers.get("X-Starshipit-Signature", "")
                ok = not receiver.secret or hmac.compare_digest(given, sign(receiver.secret, raw))
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = None
                with receiver._lock:
                    status = receiver.answers.pop(0) if receiver.answers else (202 if ok else 401)
                    receiver.received.append({"path": self.path, "headers": dict(self.headers), "raw": raw,
                                              "json": parsed, "signature_ok": ok, "answered": status})
                answer = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        return Handler
