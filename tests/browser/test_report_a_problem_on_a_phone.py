"""A picker reports a problem from a scan page on a 390 x 844 phone (issue 10): on the move page,
"Report a problem" opens the report form with a way back; 2 damaged units of a product at a shelf are
reported by scanning (keyboard-wedge bursts), and the picker reads "Reported: waiting for a manager"
while nothing has moved. A manager on a tablet (a second browser context, signed in beside the
picker) opens "Problem reports" from the home page, sees the report waiting with what it proposes
(move the 2 units to the quarantine location) and approves it in place; the stock figures move
accordingly (8 on the shelf, 2 in quarantine, 8 available), the ledger stays whole, and the picker's
form lists the report as approved. Each step is saved as a screenshot in the test artifacts folder.
"""
from __future__ import annotations

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock, stock_summary
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import PHONE, _touch_page, sign_in_page
from tests.browser.test_inbound_on_a_phone import ledger_is_clean, movements, on_hand, scan, snap
from tests.support.layout import PAGE_WIDTH, TOO_SMALL

SKU, BARCODE = "PR-MUG", "9312345000048"
SHELF, QUARANTINE = "A-01", "QUAR-01"
TABLET = {"width": 1024, "height": 1366}


def build_floor(app) -> None:
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku=SKU, name="Enamel mug", barcodes=[BARCODE])
            create_location(session, warehouse=site, code=SHELF, type="storage", zone="A", pick_sequence=1)
            create_location(session, warehouse=site, code=QUARANTINE, type="quarantine", zone="QA")

        db.atomic(build)
        db.atomic(adjust_stock, sku=SKU, location=SHELF, quantity=10, reason="found")


def fits(page, width: int) -> list:
    """What is wrong with the page's layout at this width: sideways scroll, targets under 44 px."""
    wrong = [f"{page.evaluate(PAGE_WIDTH)} px wide"] if page.evaluate(PAGE_WIDTH) > width + 1 else []
    return wrong + [f"{height:.0f} px tall: {html}" for html, height in page.evaluate(TOO_SMALL)]


def test_a_picker_reports_damaged_stock_and_a_manager_approves_it(live_wms, phone, chromium):
    server, app = live_wms
    build_floor(app)
    before = movements(app)

    # 1. The picker, on the move page, taps "Report a problem".
    sign_in_page(phone, server.url, "picker")
    phone.goto(f"{server.url}/moves/")
    link = phone.get_by_test_id("report-problem")
    assert link.is_visible()
    snap(phone, "problem-01-move-page")
    link.click()
    phone.wait_for_url(lambda url: "/problems/new?" in url)
    assert phone.get_by_test_id("problem-back").get_attribute("href") == "/moves/"
    assert fits(phone, PHONE["width"]) == []
    snap(phone, "problem-02-form")

    # 2. Damaged; the shelf and the mug scanned; 2 units; a note; sent.
    phone.get_by_test_id("kind-damaged").check()
    phone.get_by_test_id("problem-location").focus()
    scan(phone, SHELF)  # Enter in a field submits nothing while the form is incomplete (required fields)
    phone.get_by_test_id("problem-product").focus()
    phone.keyboard.type(BARCODE, delay=0)
    phone.get_by_test_id("problem-quantity").fill("2")
    phone.get_by_test_id("problem-note").fill("Two mugs chipped, box crushed")
    snap(phone, "problem-03-filled")
    phone.get_by_test_id("problem-send").click()
    done = phone.get_by_test_id("flash-ok")
    done.wait_for()
    assert "Reported: waiting for a manager." in done.inner_text()
    assert phone.locator("[data-testid=my-report][data-status=open]").count() == 1
    assert fits(phone, PHONE["width"]) == []
    snap(phone, "problem-04-reported")
    assert phone.get_by_test_id("problem-back").get_attribute("href") == "/moves/"  # still a way back
    assert movements(app) == before  # nothing moved
    assert on_hand(app, SKU) == {SHELF: 10}

    # 3. The manager, on a tablet beside the picker, opens the reports from the home page.
    context = _touch_page(chromium, TABLET)
    try:
        tablet = context.new_page()
        sign_in_page(tablet, server.url, "manager")
        tablet.locator("a.tile", has_text="Problem reports").click()
        tablet.wait_for_url("**/problems/")
        card = tablet.get_by_test_id("problem-report")
        assert card.count() == 1
        assert f"Move 2 units from {SHELF} to quarantine {QUARANTINE} (reason: damaged)" in \
            card.get_by_test_id("problem-proposal").inner_text()
        assert card.get_by_test_id("problem-on-hand").inner_text() == "10"
        assert "Two mugs chipped, box crushed" in card.inner_text()
        assert fits(tablet, TABLET["width"]) == []
        snap(tablet, "problem-05-manager-list")

        # 4. Approved as reported: the card answers in place.
        card.get_by_test_id("problem-approve").click()
        tablet.locator("[data-testid=problem-report][data-status=approved]").wait_for()
        approved = tablet.get_by_test_id("problem-report")
        assert "Approved: the stock is adjusted." in approved.inner_text()
        assert approved.get_by_test_id("problem-on-hand").inner_text() == "8"
        tablet.locator("[data-testid=problems-waiting]", has_text="0 waiting").wait_for()  # the count follows
        snap(tablet, "problem-06-approved")

        # 5. The stock figures as the manager reads them.
        tablet.goto(f"{server.url}/inventory/history?sku={SKU}")
        assert tablet.get_by_test_id("on-hand").inner_text() == "10"  # still on hand: 2 of it in quarantine
        snap(tablet, "problem-07-stock")
    finally:
        context.close()

    with app.app_context(), db.reading() as session:
        summary = stock_summary(session, SKU)
    assert (summary["on_hand"], summary["available"]) == (10, 8)
    assert on_hand(app, SKU) == {SHELF: 8, QUARANTINE: 2}
    moved = movements(app)[len(before):]
    assert moved == [("transfer", SKU, SHELF, QUARANTINE, 2, None)]
    assert ledger_is_clean(app)

    # 6. The picker opens the form again: the report is listed as approved.
    phone.goto(f"{server.url}/problems/new")
    assert phone.locator("[data-testid=my-report][data-status=approved]").count() == 1
    snap(phone, "problem-08-picker-sees-approved")


def test_the_problem_pages_fit_a_360_px_phone_with_long_words_and_refusals(live_wms, small_phone):
    server, app = live_wms
    build_floor(app)
    with app.app_context():
        from app import problem_reports

        db.atomic(problem_reports.report_problem, kind="missing", location=SHELF, product=SKU, quantity=1,
                  note="Ωжß語🙂" * 200)
    width = 360
    sign_in_page(small_phone, server.url, "picker")
    small_phone.goto(f"{server.url}/problems/new?location={SHELF}&product={'W' * 128}&back=/moves/")
    small_phone.get_by_test_id("kind-missing").check()
    small_phone.get_by_test_id("problem-quantity").fill("999999")
    small_phone.get_by_test_id("problem-send").click()
    small_phone.get_by_test_id("field-error").first.wait_for()
    assert fits(small_phone, width) == []
    snap(small_phone, "problem-360-01-refused")

    small_phone.context.clear_cookies()
    sign_in_page(small_phone, server.url, "manager")
    small_phone.goto(f"{server.url}/problems/")
    small_phone.locator("summary", has_text="Reject instead").click()
    assert fits(small_phone, width) == []
    snap(small_phone, "problem-360-02-manager-list")
