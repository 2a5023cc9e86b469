"""The failed-events page on a phone: events whose bodies carry 5,000-character texts (no spaces
to break at) never make the page wider than the screen, with every payload and, for an admin,
the technical detail unfolded; the reason reads in words."""
from __future__ import annotations

import json
import re

import httpx

from tests.browser.conftest import PHONE, sign_in_page

LONG = "X" * 5000


def _send(server, body: dict) -> None:
    answer = httpx.post(f"{server.url}/webhooks/starshipit", content=json.dumps(body).encode(),
                        headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code in (200, 202), answer.text


def test_failed_events_with_5000_character_texts_fit_a_phone(live_wms, phone):
    server, _app = live_wms
    _send(server, {"event": "order_created", "event_id": "evt-long-1", "order": {
        "order_number": "SO-LONG-1", "reference": LONG, "destination": {"name": LONG},
        "items": [{"sku": "SKU-A", "quantity": 1e30, "description": LONG}]}})
    _send(server, {"event": "order_created", "event_id": "evt-long-2", "order": {
        "order_number": "SO-LONG-2", "items": [{"sku": LONG, "quantity": 1}]}})
    _send(server, {"event": "order_created", "event_id": "evt-long-3", "order": {
        "order_number": "SO-LONG-3", "warehouse": "W" * 32}})  # stored, then fails when applied
    sign_in_page(phone, server.url, "admin")
    phone.goto(f"{server.url}/orders/failed-events")
    assert phone.locator('[data-testid="failed-event"]').count() == 3
    for summary in phone.locator("article details summary").all():
        summary.click()
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"
    reasons = phone.locator('[data-testid="event-error"]').all_inner_texts()
    assert any("1,000,000" in reason for reason in reasons)
    assert any("at most 64" in reason for reason in reasons)
    assert not any(re.search(r"\b[A-Z][A-Za-z]*(Error|Exception)\b", reason) for reason in reasons)
