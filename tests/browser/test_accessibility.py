"""Every page of every role passes axe-core with no serious or critical violation, and shows where
the keyboard is.

For the picker, the manager and the admin in turn (one server each), every page the role can reach
(tests/support/crawl.py: the same walk as the 360 px layout test) is opened on a 390 x 844 phone in
light mode and checked by axe-core (tests/support/accessibility.py: every rule it has that is not
experimental: WCAG 2.x A and AA, colour contrast included, every field labelled, every button
named, and its best practices); then a representative set of the role's pages, scan pages
included, again in dark mode: the picker's on the phone, the manager's and the admin's on their
tablet (1024 x 1366, where tables are tables and the menu a side bar; the 360 px layout test
already checks contrast on a phone in dark mode for every page the admin reaches). The sign-in page
is checked before signing in. On every page each control the keyboard reaches, focused in turn,
draws a focus ring.

A violation whose impact is serious or critical fails the test; the minor and moderate ones are
printed as a summary (run with -s to see it).
"""
from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, sign_in_page
from tests.browser.test_every_form_refuses_hostile_values import build_floor
from tests.support import crawl
from tests.support.accessibility import NO_FOCUS_RING, Findings, run_axe
from tests.support.layout import artifacts

TABLET = {"width": 1024, "height": 1366}
# Pages checked again in dark mode, where the role reaches them: lists, forms, scan pages, a detail.
DARK = ["/", "/moves/", "/products/", "/products/new", "/locations/", "/inventory/", "/inventory/adjust",
        "/orders/", "/orders/failed-events", "/orders/discrepancies", "/purchase-orders/",
        "/purchase-order/PO-WALK-PART", "/receiving/", "/putaway/", "/count/", "/replenishment/", "/picking/",
        "/packing/", "/problems/", "/problems/new", "/stocktakes/", "/admin/settings", "/users/", "/users/tokens"]


def check(page, where: str, findings: Findings, focus_problems: list[str]) -> None:
    findings.add(where, run_axe(page))
    for html in page.evaluate(NO_FOCUS_RING):
        focus_problems.append(f"{where}: no focus ring on {html}")


@pytest.mark.parametrize("role", ["picker", "manager", "admin"])
def test_every_page_of_a_role_passes_axe_core_in_light_and_dark_mode_with_focus_shown(live_wms, chromium, role):
    server, app = live_wms
    build_floor(app)
    context = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2,
                                   color_scheme="light")
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(30_000)
    page = context.new_page()
    findings, focus_problems, problems = Findings(), [], []
    try:
        if role == "picker":  # the sign-in page, as anyone first sees it
            crawl.visit(page, server.url + "/login")
            check(page, "anyone /login", findings, focus_problems)
        sign_in_page(page, server.url, role)
        opened = crawl.walk(page, server.url, app, role, problems,
                            lambda path: check(page, f"{role} {path}", findings, focus_problems))
        page.emulate_media(color_scheme="dark")
        if role != "picker":  # a manager's device is a tablet: its tables and side bar are checked there
            page.set_viewport_size(TABLET)
        dark = [path for path in DARK if path in opened]
        for path in dark:
            status, _kind = crawl.visit(page, server.url + path)
            assert status == 200, path
            assert page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
            check(page, f"{role} {path} (dark)", findings, focus_problems)
        page.screenshot(path=str(artifacts("accessibility") / f"{role}-last-page-dark.png"), full_page=True)
    finally:
        context.close()
    print(f"\n{role}: {len(opened)} pages in light mode, {len(dark)} in dark mode")
    print(findings.summary())
    assert len(opened) > 10 and len(dark) > 5, sorted(opened)
    assert not problems, "\n".join(problems)
    assert not findings.failing, f"{len(findings.failing)} serious or critical:\n" + "\n".join(findings.failing)
    assert not focus_problems, "\n".join(focus_problems)


SCAN_SETTLED = ("() => window.scanner && window.scanner.waiting === 0"
                " && !document.querySelector('[data-testid=scan-log] li[data-state=pending]')")


def scan(page, *codes: str) -> None:
    """What a keyboard-wedge scanner sends: each code, then Enter."""
    page.keyboard.type("".join(f"{code}\n" for code in codes), delay=10)


def both_modes(page, where: str, findings: Findings) -> None:
    """axe-core on the page as it is now, in light mode and in dark mode, once the scan's colour flash
    has faded (it lies over the page while it does)."""
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        findings.add(f"{where} ({scheme})", run_axe(page))
        page.screenshot(path=str(artifacts("accessibility") / f"{where.replace(' ', '-')}-{scheme}.png"))
    page.emulate_media(color_scheme="light")


def test_scan_feedback_the_hold_the_offline_queue_and_refusals_pass_axe_core(live_wms, phone):
    """What a page shows only after something happens: a scan applied and one refused (the log's
    lines, the hold with its OK and ACK code), a move kept offline (the queue in the header, its panel
    open), and a form answered with a refusal under its field: each checked in light and dark mode."""
    server, app = live_wms
    build_floor(app)
    findings = Findings()
    sign_in_page(phone, server.url, "picker")
    phone.goto(f"{server.url}/moves/")
    phone.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    phone.reload()
    phone.locator("form[data-scanner][data-ready]").wait_for(state="attached")
    phone.locator("#from_location").focus()
    scan(phone, "A-01-01-01", "SKU-WALK-1", "A-01-01-02")  # applied
    phone.wait_for_function(SCAN_SETTLED)
    scan(phone, "A-01-01-01", "SKU-WALK-1", "NOWHERE")  # refused: the hold
    hold = phone.get_by_test_id("scan-hold")
    hold.wait_for()
    phone.wait_for_function(SCAN_SETTLED)
    log = phone.get_by_test_id("scan-log")
    assert log.locator("li[data-state=ok]").count() == 1 and log.locator("li[data-state=error]").count() >= 1
    both_modes(phone, "picker move-refused", findings)
    phone.get_by_test_id("scan-ack").tap()
    hold.wait_for(state="hidden")

    phone.context.set_offline(True)
    phone.locator("#from_location").focus()
    scan(phone, "A-01-01-01", "SKU-WALK-1", "A-01-01-02")  # kept on the phone
    log.locator("li[data-state=queued]").wait_for()
    phone.get_by_test_id("offline-queue").click()
    phone.get_by_test_id("offline-panel").wait_for()
    both_modes(phone, "picker move-offline", findings)
    phone.get_by_test_id("offline-close").click()
    phone.context.set_offline(False)
    phone.get_by_test_id("offline-queue").wait_for(state="hidden")

    phone.goto(f"{server.url}/problems/new")
    phone.get_by_test_id("kind-damaged").check()
    phone.get_by_test_id("problem-location").fill("NOWHERE")
    phone.get_by_test_id("problem-product").fill("SKU-WALK-1")
    phone.get_by_test_id("problem-quantity").fill("1")
    phone.get_by_test_id("problem-send").click()
    phone.locator("[data-testid=field-error], [data-testid=flash-error]").first.wait_for()
    both_modes(phone, "picker problem-refused", findings)
    print("\n" + findings.summary())
    assert not findings.failing, f"{len(findings.failing)} serious or critical:\n" + "\n".join(findings.failing)


def test_the_checks_find_what_they_look_for(chromium):
    """axe-core and the focus-ring check, on a page made wrong on purpose: an unlabelled field, a
    button without a name, grey text on white, and a control whose focus ring is taken away."""
    page = chromium.new_page()
    try:
        page.set_content('<!doctype html><html lang="en"><head><title>Wrong</title>'
                         "<style>:focus-visible { outline: 3px solid blue; } .bare:focus { outline: none; }</style>"
                         '</head><body><main><h1>Wrong</h1><input type="text"><button></button>'
                         '<p style="color: #aaa; background: #fff">faint</p>'
                         '<a href="#x">ringed</a> <button class="bare">bare</button></main></body></html>')
        found = {(v["id"], v["impact"]) for v in run_axe(page)}
        assert {("label", "critical"), ("button-name", "critical"), ("color-contrast", "serious")} <= found
        assert page.evaluate(NO_FOCUS_RING) == ['<button class="bare">bare</button>']
    finally:
        page.close()
