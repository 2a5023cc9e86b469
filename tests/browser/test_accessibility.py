"""Every page of every role passes axe-core with no serious or critical violation, and shows where
the keyboard is.

For the picker, the manager and the admin in turn (one server each), every page the role can reach
(tests/support/crawl.py: the same walk as the 360 px layout test) is opened on a 390 x 844 phone in
light mode and checked by axe-core (tests/support/accessibility.py: every rule it has that is not
experimental: WCAG 2.x A and AA, colour contrast included, every field labelled, every button
named, and its best practices); then a representative set of the role's pages, scan pages
included, again in dark mode: the picker's on the phone, the manager's and the admin's on their
tablet (1024 x 1366, where tables are tables and the menu a side bar; the 360 px layout test
already checks contrast on a phone in dark mode for every page the admin reaches). The sign-in page is checked before signing in. On every page each
control the keyboard reaches, focused in turn, draws a focus ring.

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
