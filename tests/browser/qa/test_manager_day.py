"""A manager's day, on a phone and on a tablet: sign in; resolve a discrepancy (stock shipped that was
not on hand), correcting the shelf's stock; retry a failed event once its cause is fixed; approve a stocktake's count; approve a
picker's problem report; release allocated orders as pick jobs. What the manager acts on arrives as
it does in production: orders and shipments by Starshipit's order events, the count and the report
made through the pickers' use cases. Each step is a screenshot (`qa/manager/<device>/<nn>-<step>.png`);
what each step did is asserted on the page and, where stock moved, in the ledger."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from app import db, problem_reports, stocktakes
from app.catalog import create_product
from app.inventory import adjust_stock, stock_summary
from app.models import Discrepancy, InboxEvent
from app.outbound import packing, picking, routing
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests.browser.qa.conftest import TAGS, ean13
from tests.support.floor import ledger_is_clean, movements, on_hand
from tests.test_order_events import order_body, send

QUARANTINE = "QUAR-01"


class Floor:
    """One device's codes on the manager's floor, and what the set-up made for it."""

    def __init__(self, tag: str, offset: int):
        self.tag = tag
        self.mug, self.cap, self.hat = f"{tag}-MUG", f"{tag}-CAP", f"{tag}-HAT"
        self.barcode = {self.mug: ean13(offset), self.cap: ean13(offset + 1), self.hat: ean13(offset + 2)}
        self.shelf, self.short_shelf, self.count_at, self.pick_face = (
            f"{tag}-S-01", f"{tag}-S-02", f"{tag}-C-01", f"{tag}-P-01")
        self.totes = [f"{tag}-T-{number}" for number in (1, 2, 3)]
        self.rule = f"{tag} shop"
        self.to_release = {f"{tag}-WEB-1": 1, f"{tag}-WEB-2": 2}  # order: mugs
        self.shipped, self.lost_warehouse, self.lost_order = f"{tag}-SO-9", f"{tag}N", f"{tag}-NORTH-1"
        self.discrepancy_id = self.event_id = self.stocktake_id = 0


def build(app) -> dict[str, Floor]:
    floors = {device: Floor(tag, offset) for (device, tag), offset in zip(TAGS.items(), (50, 60))}
    with app.app_context():
        def write(session):
            site = get_warehouse(session)
            create_location(session, warehouse=site, code=QUARANTINE, type="quarantine", zone="QA")
            for f in floors.values():
                create_product(session, sku=f.mug, name="Enamel mug", barcodes=[f.barcode[f.mug]])
                create_product(session, sku=f.cap, name="Wool cap", barcodes=[f.barcode[f.cap]])
                create_product(session, sku=f.hat, name="Sun hat", barcodes=[f.barcode[f.hat]])
                create_location(session, warehouse=site, code=f.pick_face, type="pick", zone=f.tag, pick_sequence=10)
                for number, code in enumerate((f.shelf, f.short_shelf, f.count_at), start=1):
                    create_location(session, warehouse=site, code=code, type="storage", zone=f.tag,
                                    pick_sequence=100 + number)
                for code in f.totes:
                    create_location(session, warehouse=site, code=code, type="tote", zone="TOTES")

        db.atomic(write)
        db.atomic(routing.replace_rules, [{"name": f.rule, "match": {"reference_prefix": f"{f.tag.lower()} web"},
                                           "outcome": "WMS"} for f in floors.values()])
        client = app.test_client()
        picker_id = _user_id("picker")
        for f in floors.values():
            for sku, location, quantity in ((f.mug, f.shelf, 10), (f.mug, f.pick_face, 10), (f.hat, f.short_shelf, 1),
                                            (f.cap, f.count_at, 6)):
                db.atomic(adjust_stock, sku=sku, location=location, quantity=quantity, reason="found")
            # Starshipit ships 3 hats while 1 is on hand: 2 from nowhere, a discrepancy.
            items = [{"sku": f.hat, "quantity": 3}]
            for event in ("order_created", "order_shipped"):
                answer = send(client, order_body(event, f.shipped, items=items, reference=f"shop {f.shipped}"))
                assert answer.status_code in (200, 202), answer.get_data(as_text=True)
            # An order for a warehouse the WMS does not have yet: failed, in words.
            answer = send(client, order_body("order_created", f.lost_order, items=[{"sku": f.mug, "quantity": 1}],
                                             warehouse=f.lost_warehouse))
            assert answer.status_code in (200, 202), answer.get_data(as_text=True)
            # Two orders routed to the WMS by the device's rule, allocated at arrival.
            for number, mugs in f.to_release.items():
                answer = send(client, order_body("order_created", number, items=[{"sku": f.mug, "quantity": mugs}],
                                                 reference=f"{f.tag.lower()} web {number}"))
                assert answer.status_code in (200, 202), answer.get_data(as_text=True)
            # A picker counted C-01 (5 caps of 6) and closed it; a picker reported a damaged mug.
            f.stocktake_id = db.atomic(stocktakes.open_stocktake, locations=[f.count_at])["id"]
            db.atomic(stocktakes.record_count, f.stocktake_id, location=f.count_at, product=f.cap, counted=5,
                      user_id=picker_id)
            db.atomic(stocktakes.close_location, f.stocktake_id, f.count_at, user_id=picker_id)
            db.atomic(problem_reports.report_problem, kind="damaged", location=f.shelf, product=f.mug, quantity=1,
                      note=f"{f.tag}: mug chipped", user_id=picker_id)
            with db.reading() as session:
                f.discrepancy_id = session.exec(select(Discrepancy.id).where(Discrepancy.reference == f.shipped)).one()
                f.event_id = session.exec(select(InboxEvent.id).where(InboxEvent.order_number == f.lost_order)).one()
                for number in f.to_release:
                    assert packing.get_order(session, number).status == "ALLOCATED", number
    return floors


def _user_id(name: str) -> int:
    from app.models import User

    with db.reading() as session:
        return session.exec(select(User.id).where(User.username == name)).one()


@pytest.fixture(scope="module")
def floor(qa_stack):
    return build(qa_stack.app)


def test_a_manager_signs_in_and_finds_the_day_s_work(day):
    walk = day("manager", 1)
    page = walk.page
    assert page.locator("h1").inner_text() == "Hello, manager"
    for tile in ("Discrepancies", "Failed events", "Problem reports", "Stocktakes", "Release picks"):
        assert page.locator("a.tile", has_text=tile).first.is_visible(), tile
    walk.shot("home")


def test_a_manager_resolves_a_discrepancy(qa_stack, floor, day, device):
    f, app = floor[device.name], qa_stack.app
    walk = day("manager", 10)
    page = walk.page
    page.goto(f"{walk.url}/orders/discrepancies")
    card = page.locator(f"#discrepancy-{f.discrepancy_id}")
    assert card.get_by_test_id("discrepancy-status").inner_text() == "open"
    assert f.hat in card.inner_text() and "shortfall" in card.inner_text() and f.shipped in card.inner_text()
    walk.shot("discrepancies")
    # The shelf counted: the 2 hats had been there all along (a receipt put on the wrong shelf's label).
    card.locator("textarea[name=note]").fill("Counted the shelf: 2 more hats were there, received under a wrong label")
    card.locator("summary", has_text="Correct the stock too").click()
    card.locator("input[name=location]").fill(f.short_shelf)
    card.locator("input[name=quantity]").fill("2")
    walk.shot("note-written")
    card.get_by_role("button", name="Resolve").click()
    resolved = page.locator(f"#discrepancy-{f.discrepancy_id}")
    resolved.get_by_test_id("flash-ok").wait_for()
    assert resolved.get_by_test_id("discrepancy-status").inner_text() == "resolved"
    assert "by manager" in resolved.inner_text()
    walk.shot("resolved")
    with app.app_context(), db.reading() as session:
        item = session.get(Discrepancy, f.discrepancy_id)
        assert item.status == "resolved" and item.note.startswith("Counted the shelf")
    [(_kind, sku, _source, to, quantity, _reference)] = movements(app, reference=f"discrepancy-{f.discrepancy_id}")
    assert (sku, to, quantity) == (f.hat, f.short_shelf, 2)
    assert on_hand(app, f.hat).get(f.short_shelf) == 2  # 1 shipped of the 1 on hand, then 2 found
    assert ledger_is_clean(app)


def test_a_manager_retries_a_failed_event_once_its_cause_is_fixed(qa_stack, floor, day, device):
    f, app = floor[device.name], qa_stack.app
    walk = day("manager", 20)
    page = walk.page
    page.goto(f"{walk.url}/orders/failed-events")
    event = page.locator(f"#event-{f.event_id}")
    reason = event.get_by_test_id("event-error").inner_text()
    assert f"no warehouse {f.lost_warehouse}" in reason and "Add that warehouse, then retry" in reason
    walk.shot("failed-events")
    with app.app_context():  # the cause fixed: the warehouse added
        db.atomic(create_warehouse, code=f.lost_warehouse, name=f"North ({device.name})")
    event.get_by_role("button", name="Retry").click()
    done = page.locator(f"#event-{f.event_id}[data-testid=flash-ok]")
    done.wait_for()
    assert f"Event {f.event_id} queued again." in done.inner_text()
    walk.shot("retried")
    with app.app_context(), db.reading() as session:
        assert session.get(InboxEvent, f.event_id).status == "processed"
        order = packing.get_order(session, f.lost_order)
        assert get_warehouse(session, f.lost_warehouse).id == order.warehouse_id
    page.goto(f"{walk.url}/orders/failed-events")
    assert page.locator(f"#event-{f.event_id}").count() == 0
    page.goto(f"{walk.url}/order/{f.lost_order}")
    assert f.lost_order in page.locator("h1").inner_text()
    walk.shot("order-applied")


def test_a_manager_approves_a_stocktake_count(qa_stack, floor, day, device):
    f, app = floor[device.name], qa_stack.app
    walk = day("manager", 30)
    page = walk.page
    page.goto(f"{walk.url}/stocktakes/{f.stocktake_id}")
    line = page.locator(f"[data-testid=stocktake-line][data-sku={f.cap}]")
    assert (line.get_by_test_id("line-expected").inner_text(), line.get_by_test_id("line-counted").inner_text(),
            line.get_by_test_id("line-variance").inner_text()) == ("6", "5", "-1")
    assert page.get_by_test_id("units-down").inner_text() == "1"
    walk.shot("count-to-approve")
    page.get_by_test_id("approve").click()
    approved = page.get_by_test_id("approval").get_by_test_id("flash-ok")
    approved.wait_for()
    assert "Approved: 1 count adjustment posted" in approved.inner_text()
    walk.shot("approved")
    assert on_hand(app, f.cap)[f.count_at] == 5
    assert [(kind, sku, source, quantity) for kind, sku, source, _to, quantity, _ref
            in movements(app, type="count", sku=f.cap)] == [("count", f.cap, f.count_at, 1)]
    assert ledger_is_clean(app)


def test_a_manager_approves_a_picker_s_problem_report(qa_stack, floor, day, device):
    f, app = floor[device.name], qa_stack.app
    walk = day("manager", 40)
    page = walk.page
    page.locator("a.tile", has_text="Problem reports").click()
    page.wait_for_url("**/problems/")
    card = page.get_by_test_id("problem-report").filter(has_text=f"{f.tag}: mug chipped")
    proposal = card.get_by_test_id("problem-proposal").inner_text()
    assert f"from {f.shelf} to quarantine {QUARANTINE} (reason: damaged)" in proposal
    walk.shot("reports")
    card.get_by_test_id("problem-approve").click()
    approved = page.locator("[data-testid=problem-report][data-status=approved]").filter(has_text=f"{f.tag}: mug chipped")
    approved.wait_for()
    assert "Approved: the stock is adjusted." in approved.inner_text()
    walk.shot("approved")
    mugs = on_hand(app, f.mug)
    assert (mugs[f.shelf], mugs[QUARANTINE]) == (9, 1)
    assert movements(app, type="transfer", sku=f.mug) == [("transfer", f.mug, f.shelf, QUARANTINE, 1, None)]
    with app.app_context(), db.reading() as session:
        assert stock_summary(session, f.mug)["available"] == 20 - 1 - sum(f.to_release.values())
    assert ledger_is_clean(app)


def test_a_manager_releases_allocated_orders_as_a_pick_job(qa_stack, floor, day, device):
    f, app = floor[device.name], qa_stack.app
    walk = day("manager", 50)
    page = walk.page
    page.goto(f"{walk.url}/picking/release")
    page.locator("form[data-testid=release-filter] input[name=rule]").fill(f.rule)
    page.get_by_test_id("release-preview").click()
    page.wait_for_url(re.compile(r"/picking/release\?"))
    matching = page.get_by_test_id("matching").inner_text()
    assert all(number in matching for number in f.to_release)
    assert page.get_by_test_id("matching").locator("li").count() == len(f.to_release)
    walk.shot("matching")
    page.get_by_test_id("release-mode").select_option("batch")
    page.get_by_test_id("release-confirm").click()
    released = page.get_by_test_id("released")
    released.wait_for()
    assert "2 order(s) released in 1 job(s)" in released.inner_text()
    walk.shot("released")
    job_id = int(re.search(r"#(\d+)", released.inner_text()).group(1))
    with app.app_context(), db.reading() as session:
        job = picking.get_pick_job(session, job_id)
    assert sorted(t["order_number"] for t in job["totes"]) == sorted(f.to_release)
    assert page.get_by_test_id("matching").locator("li").count() == 0  # nothing left to release
