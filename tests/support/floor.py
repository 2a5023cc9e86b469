"""What the browser tests of the floor share (taken out of tests/browser/test_inbound_on_a_phone.py,
where they were first written): a keyboard-wedge scan, a screenshot in the test artifacts folder
(`test-artifacts/`, or the folder WMS_TEST_ARTIFACTS names; git-ignored), the phone's buzzes kept
for the test, and what the pages did read back through the app's own functions (stock, the ledger's
movements, the ledger's check). Also a call to the Starshipit simulator's `/_sim/` controls."""
from __future__ import annotations

import os
from pathlib import Path

import httpx

from app import db, ledger
from app.inventory import movement_history, stock_summary

ROOT = Path(__file__).resolve().parents[2]

# navigator.vibrate as the pages call it (a refusal buzzes twice: [120, 60, 120]), kept for the test.
RECORD_BUZZES = """
window.__buzzes = [];
Object.defineProperty(navigator, "vibrate", {
  configurable: true,
  value: function (pattern) { window.__buzzes.push(pattern); return true; },
});
"""
REFUSAL_BUZZ = [120, 60, 120]


def artifacts() -> Path:
    """The test artifacts folder (made if missing)."""
    folder = Path(os.environ.get("WMS_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def snap(page, name: str) -> None:
    """A screenshot of the whole page as it is now, named by test and step (a name with slashes
    lands in subfolders)."""
    path = artifacts() / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def scan(page, *codes: str) -> None:
    """What a keyboard-wedge scanner sends into the focused field: each code's characters at full
    speed, then Enter."""
    page.keyboard.type("".join(f"{code}\n" for code in codes), delay=0)


def on_hand(app, sku: str) -> dict[str, int]:
    with app.app_context(), db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, sku)["locations"]}


def movements(app, **filters) -> list[tuple]:
    """(type, sku, from, to, quantity, reference) of the ledger's movements, oldest first."""
    with app.app_context(), db.reading() as session:
        rows = movement_history(session, limit=500, **filters)
    return [(m["type"], m["sku"], m["from_location"], m["to_location"], m["quantity"], m["reference"])
            for m in reversed(rows)]


def ledger_is_clean(app) -> bool:
    with app.app_context(), db.reading() as session:
        return ledger.check(session) == []


def sim_call(sim, verb: str, where: str, **body) -> dict:
    """One call to the simulator's test controls (`/_sim/orders`, `/_sim/faults`...)."""
    answer = httpx.request(verb, f"{sim.url}/_sim/{where}", json=body or None, timeout=10)
    assert answer.status_code < 300, answer.text
    return answer.json()
