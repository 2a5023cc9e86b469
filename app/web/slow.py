"""A slower server for the scan pages' burst tests: every POST waits SCAN_DELAY_MS milliseconds
(env WMS_SCAN_DELAY_MS) before it is handled, so a handheld's burst of scans outruns the answers as
it does on a busy server or a slow network. Tests only; with the default 0 no hook is installed."""
from __future__ import annotations

import time

from flask import Flask, request


def register(app: Flask) -> None:
    delay = int(app.config.get("SCAN_DELAY_MS") or 0)
    if delay <= 0:
        return

    @app.before_request
    def _slow_down_posts():
        if request.method == "POST":
            time.sleep(delay / 1000)
