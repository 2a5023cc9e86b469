"""Scans made offline on a phone: Chromium taken offline (Playwright's context.set_offline), 10 moves
scanned on the move page through the page's own scanner script, each kept on the phone by the
service worker (answered "queued", counted in the header); a page visited before reads offline as a
saved copy, marked as such; back online, the 10 are sent in order and applied once (the ledger
checked), and an 11th, whose stock another person moved away meanwhile, is reported on the page as a
conflict in the server's words. The same queue sent again twice (once with a CSRF token the server
refuses: the service worker asks for this session's) applies nothing more.

The moves form a chain (L-01 -> L-02, L-02 -> L-03, ... L-10 -> L-11, one unit each, where only L-01
holds stock), so they apply only if they arrive in the order they were scanned. Screenshots go to
the test artifacts folder."""
from __future__ import annotations

import os
import re
from pathlib import Path

from sqlmodel import func, select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock, stock_summary, transfer_stock
from app.models import ClientAction, Movement
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import sign_in_page
from tests.support.processes import ROOT

CHAIN = [f"L-{number:02}" for number in range(1, 12)]  # L-01 ... L-11: 10 moves along it


def artifacts() -> Path:
    folder = Path(os.environ.get("WMS_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "offline-scans"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def snap(page, name: str) -> None:
    page.screenshot(path=str(artifacts() / f"{name}.png"), full_page=True)


def build_floor(app):
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])
            create_product(session, sku="SKU-2", name="Red gadget")
            for code in CHAIN + ["X-01", "X-02", "X-03"]:
                create_location(session, warehouse=site, code=code, type="storage", zone=code[0])

        db.atomic(build)
        db.atomic(adjust_stock, sku="SKU-1", location="L-01", quantity=5, reason="found")
        db.atomic(adjust_stock, sku="SKU-2", location="X-01", quantity=1, reason="found")


def on_hand(app, sku: str) -> dict:
    with app.app_context(), db.reading() as session:
        return {row["location"]: row["on_hand"] for row in stock_summary(session, sku)["locations"] if row["on_hand"]}


def ledger_state(app) -> tuple:
    with app.app_context(), db.reading() as session:
        assert ledger.check(session) == []
        movements = session.exec(select(func.count()).select_from(Movement)).one()
        ids = sorted(session.exec(select(ClientAction.client_id)).all())
    return movements, ids


def scan(page, *codes: str) -> None:
    """What a keyboard-wedge scanner sends: each code at full speed, then Enter."""
    page.keyboard.type("".join(f"{code}\n" for code in codes), delay=0)


READ_QUEUE = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("wms-offline");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const read = db.transaction("queue").objectStore("queue").getAll();
    read.onsuccess = () => { db.close(); resolve(read.result); };
    read.onerror = () => reject(read.error);
  };
})"""

# The same stored scans put back in the queue (new places at its end), as a phone replaying them would.
PUT_BACK = """(entries) => new Promise((resolve, reject) => {
  const open = indexedDB.open("wms-offline");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction("queue", "readwrite");
    for (const entry of entries) { const copy = Object.assign({}, entry); delete copy.seq; tx.objectStore("queue").add(copy); }
    tx.oncomplete = () => { db.close(); resolve(entries.length); };
    tx.onerror = () => reject(tx.error);
  };
})"""

RECORD_RESULTS = """() => {
  window.__results = [];
  document.addEventListener("wms:offline-result", (event) => window.__results.push(event.detail));
}"""


def test_ten_moves_scanned_offline_are_applied_once_in_order_and_a_conflict_is_reported(live_wms, phone):
    server, app = live_wms
    build_floor(app)
    context = phone.context
    sign_in_page(phone, server.url, "picker")

    # Online: the stock page (read later offline), then the move page, controlled by the service worker.
    phone.goto(f"{server.url}/inventory/")
    phone.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    phone.reload()  # a visit the service worker saw: its copy is kept
    assert phone.get_by_test_id("offline-copy").count() == 0
    phone.goto(f"{server.url}/moves/")
    phone.wait_for_function("navigator.serviceWorker.controller !== null")
    phone.locator("form[data-ready]").wait_for(state="attached")
    assert phone.get_by_test_id("offline-queue").is_hidden()  # nothing waits: no count in the header
    before = ledger_state(app)

    context.set_offline(True)
    for source, target in zip(CHAIN, CHAIN[1:]):
        scan(phone, source, "SKU-1", target)
    scan(phone, "X-01", "SKU-2", "X-02")  # the 11th: its stock is moved away below, meanwhile
    log = phone.get_by_test_id("scan-log")
    phone.wait_for_function("document.querySelectorAll('[data-testid=scan-log] li[data-state=queued]').length === 10")
    queued = log.locator("li[data-state=queued]")
    assert queued.count() == 10  # the log keeps the last 10
    assert log.locator("li[data-state=error]").count() == 0
    assert "Saved on this phone" in queued.first.inner_text()
    header = phone.get_by_test_id("offline-queue")
    header.wait_for()
    phone.wait_for_function("document.querySelector('[data-offline-count]').textContent === '11'")
    snap(phone, "1-eleven-scans-queued-offline")
    assert ledger_state(app) == before  # nothing reached the server

    # Meanwhile another person moves the 11th scan's stock away.
    with app.app_context():
        db.atomic(transfer_stock, sku="SKU-2", from_location="X-01", to_location="X-03", quantity=1)

    # A page visited before reads offline, marked as a saved copy.
    phone.goto(f"{server.url}/inventory/")
    banner = phone.get_by_test_id("offline-copy")
    assert re.search(r"Offline: saved copy from \d\d:\d\d", banner.inner_text())
    assert "SKU-1" in phone.locator("main").inner_text()
    phone.wait_for_function("document.querySelector('[data-offline-count]').textContent === '11'")
    snap(phone, "2-stock-page-offline-saved-copy")
    stored = phone.evaluate(READ_QUEUE)
    assert len(stored) == 11 and len({entry["clientId"] for entry in stored}) == 11
    assert [entry["entries"] for entry in stored][0]  # the form's fields, kept to send again

    # Back online: the page tells the service worker, which sends the 11 in order.
    phone.goto(f"{server.url}/moves/")  # (the saved copy: still offline)
    phone.evaluate(RECORD_RESULTS)
    context.set_offline(False)
    phone.get_by_test_id("offline-conflicts-button").wait_for()
    phone.get_by_test_id("offline-queue").wait_for(state="hidden")
    assert on_hand(app, "SKU-1") == {"L-01": 4, "L-11": 1}  # all 10, in order, once
    assert on_hand(app, "SKU-2") == {"X-03": 1}
    movements, ids = ledger_state(app)
    assert movements == before[0] + 1 + 10  # the other person's move and the 10
    assert ids == sorted(entry["clientId"] for entry in stored[:10])
    results = phone.evaluate("window.__results")
    assert [r["result"] for r in results] == ["applied"] * 10 + ["conflict"]

    # The conflict on the page, in the server's words, until the picker dismisses it.
    phone.get_by_test_id("offline-conflicts-button").tap()
    conflict = phone.get_by_test_id("offline-conflict")
    assert conflict.count() == 1
    words = conflict.inner_text()
    assert "SKU-2" in words and "X-01" in words
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    snap(phone, "3-back-online-one-conflict")

    # The same queue sent again, twice over: nothing more is applied. The first time with a CSRF
    # token the server refuses (another session's): the service worker asks for this session's.
    stale = [{**entry, "entries": [[name, "stale" if name == "csrf_token" else value] for name, value in entry["entries"]],
              "headers": [[name, "stale" if name.lower() == "x-csrftoken" else value] for name, value in entry["headers"]]}
             for entry in stored]
    asked = []
    context.on("request", lambda request: asked.append(request.url) if "/offline/csrf-token" in request.url else None)
    phone.evaluate(PUT_BACK, stale + stored)
    phone.get_by_test_id("offline-send").tap()
    phone.wait_for_function("window.__results.length === 11 + 22")
    again = [r["result"] for r in phone.evaluate("window.__results")[11:]]
    assert again == (["already"] * 10 + ["conflict"]) * 2
    assert len(asked) == 1  # once for the queue
    assert all("Already saved" in r["message"] for r in phone.evaluate("window.__results")[11:21])
    assert ledger_state(app) == (movements, ids)
    assert on_hand(app, "SKU-1") == {"L-01": 4, "L-11": 1}
    phone.wait_for_function("document.querySelectorAll('[data-testid=offline-conflict]').length === 3")
    for _ in range(3):
        phone.get_by_test_id("offline-dismiss").first.tap()
    phone.get_by_test_id("offline-conflicts-button").wait_for(state="hidden")
    snap(phone, "4-replayed-twice-nothing-more-applied")

    # Online, the stock page comes from the server again: no saved copy.
    phone.goto(f"{server.url}/inventory/")
    assert phone.get_by_test_id("offline-copy").count() == 0


def test_a_receive_scan_made_offline_is_refused_not_kept_as_it_only_checks_against_the_po(live_wms, phone):
    # The receive page adds what the server answers to the receipt on the page: a scan kept offline
    # would be missing from the receipt confirmed later, so the picker is told to scan it again.
    server, app = live_wms
    build_floor(app)
    with app.app_context():
        from app.inbound.purchase_orders import create_purchase_order

        db.atomic(create_purchase_order, po_number="PO-1", supplier="Acme", lines=[("SKU-1", 10)])
    context = phone.context
    sign_in_page(phone, server.url, "picker")
    phone.goto(f"{server.url}/receiving/po/PO-1")
    phone.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    phone.reload()
    phone.locator("form[data-ready]").first.wait_for(state="attached")
    phone.get_by_test_id("scan-product").focus()

    context.set_offline(True)
    scan(phone, "SKU-1")
    refused = phone.get_by_test_id("scan-log").locator("li[data-state=error]")
    refused.wait_for()
    assert "no connection" in refused.inner_text().lower()
    assert phone.get_by_test_id("scan-log").locator("li[data-state=queued]").count() == 0
    assert phone.evaluate(READ_QUEUE) == []
    assert phone.get_by_test_id("offline-queue").is_hidden()
    snap(phone, "5-receive-scan-offline-refused")
    context.set_offline(False)
