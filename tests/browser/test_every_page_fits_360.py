"""Every page of every role fits a 360 px phone, and a handful of them in dark mode at 200% zoom.

For the picker, the manager and the admin (in dark mode, checked as below) in turn, every page
the role can reach is opened at 360 x 740: the pages found by following links from the home page (as the hostile-form walk finds
its forms), plus every GET route of the app that needs no argument. On each page: no sideways
scrolling; no button, field, tab, menu entry or pager link under 44 px tall; and the menu button
opens a menu listing exactly the sections the role may use (the home tiles, then any navigation
entry without a tile, whose page exists), which then fits the phone too and closes on Escape.

Dark mode and 200% zoom: a manager's tablet (1024 x 1366) at 200% browser zoom lays pages out in a
512 x 683 CSS-pixel window at two device pixels per CSS pixel: that is what zooming does (the
media queries and the layout see a window half as wide), so the window is set to exactly that.
device_scale_factor alone would only sharpen the pixels and leave the layout as it is (it proves
nothing about zoom); CSS `zoom` on the root would shrink the layout without telling the media
queries. A 390 px phone with large text is the phone's window with the default text size doubled
(what Android's and Chrome's text-size settings change: the root font size that the page's rem
sizes follow). Both with prefers-color-scheme: dark. On each: no sideways scrolling, nothing cut
off past the window's edge or clipped by its box, no two controls overlapping, text in AA contrast
against what is behind it. Screenshots go to test-artifacts/every-page-fits-360/.
"""
from __future__ import annotations

import pytest

from app.models.users import ROLE_RANK, Role
from app.web import HOME_TILES, NAV_ITEMS
from tests.browser.conftest import sign_in_page
from tests.browser.test_every_form_refuses_hostile_values import build_floor
from tests.support import crawl
from tests.support.crawl import visit
from tests.support.layout import CUT_OR_OVERLAPPING, LOW_CONTRAST, PAGE_WIDTH, TOO_SMALL, artifacts

WIDTH = 360
ROLES = ("picker", "manager", "admin")

MENU_SECTIONS = """() => Array.from(document.querySelectorAll('[data-testid=menu] a[data-section]'))
  .filter((a) => a.getClientRects().length > 0).map((a) => a.dataset.section)"""
MENU_OPEN = "() => !!document.querySelector('details[data-menu]')?.open"


def sections_of(app, role: str) -> list[str]:
    """The endpoints the menu must list for a role, in order."""
    rank = ROLE_RANK[Role(role)]
    tiles = [entry[0] for entry in HOME_TILES]
    listed = [entry for entry in HOME_TILES] + [entry for entry in NAV_ITEMS if entry[0] not in tiles]
    return [entry[0] for entry in listed
            if entry[0] in app.view_functions and rank >= ROLE_RANK[Role(entry[2])]]


def check_page(page, role: str, path: str, sections: list[str], problems: list[str], dark: bool = False) -> None:
    if dark:  # every page in dark mode too: whole, and readable
        for what, html in page.evaluate(CUT_OR_OVERLAPPING):
            problems.append(f"{role} {path} (dark): {what}: {html}")
        for html, ratio, colour, behind in page.evaluate(LOW_CONTRAST):
            problems.append(f"{role} {path} (dark): contrast {ratio} ({colour} on rgb({behind})): {html}")
    width = page.evaluate(PAGE_WIDTH)
    if width > WIDTH:
        problems.append(f"{role} {path}: {width} px wide")
    for html, height in page.evaluate(TOO_SMALL):
        problems.append(f"{role} {path}: {height:.0f} px tall {html}")
    button = page.get_by_test_id("menu-button")
    if not button.count():
        problems.append(f"{role} {path}: no menu button")
        return
    button.click()
    if not page.evaluate(MENU_OPEN):
        problems.append(f"{role} {path}: the menu did not open")
        return
    listed = page.evaluate(MENU_SECTIONS)
    if listed != sections:
        problems.append(f"{role} {path}: the menu lists {listed}, not {sections}")
    width = page.evaluate(PAGE_WIDTH)
    if width > WIDTH:
        problems.append(f"{role} {path}: {width} px wide with the menu open")
    for html, height in page.evaluate(TOO_SMALL):
        problems.append(f"{role} {path}: with the menu open, {height:.0f} px tall {html}")
    page.keyboard.press("Escape")
    if page.evaluate(MENU_OPEN):
        problems.append(f"{role} {path}: Escape did not close the menu")


def walk_role(page, base: str, app, role: str, problems: list[str], dark: bool = False) -> set[str]:
    """Every page a role reaches (tests/support/crawl.py), each checked; the paths opened."""
    sections = sections_of(app, role)
    return crawl.walk(page, base, app, role, problems,
                      lambda path: check_page(page, role, path, sections, problems, dark))


def test_every_page_of_every_role_fits_a_360_px_phone_with_its_menu(live_wms, small_phone):
    server, app = live_wms
    build_floor(app)
    problems: list[str] = []
    reached = {}
    for role in ROLES:
        small_phone.context.clear_cookies()
        # the admin, who reaches every page, walks in dark mode: every page is checked in it too
        small_phone.emulate_media(color_scheme="dark" if role == "admin" else "light")
        sign_in_page(small_phone, server.url, role)
        reached[role] = walk_role(small_phone, server.url, app, role, problems, dark=role == "admin")
    small_phone.screenshot(path=str(artifacts("every-page-fits-360") / "last-page-360.png"), full_page=True)
    print({role: len(paths) for role, paths in reached.items()}, "pages opened")
    # the walk reached each role's own pages
    assert {"/moves/", "/products/", "/locations/"} <= reached["picker"], sorted(reached["picker"])
    assert {"/purchase-orders/", "/locations/warehouses", "/admin/settings"} <= reached["manager"]
    assert "/reason-codes/" in reached["admin"] or "/reason-codes" in reached["admin"], sorted(reached["admin"])
    assert len(reached["manager"]) > len(reached["picker"]) > 10
    assert not problems, "\n".join(problems)


# ---- dark mode and 200% zoom --------------------------------------------------------------------

REPRESENTATIVE = ["/", "/moves/", "/products/", "/locations/", "/locations/warehouses", "/inventory/",
                  "/orders/", "/purchase-orders/", "/purchase-order/PO-WALK-PART", "/putaway/", "/stocktakes/"]
ZOOMED_TABLET = {"viewport": {"width": 1024 // 2, "height": 1366 // 2}, "device_scale_factor": 2}
LARGE_TEXT_PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
LARGE_TEXT = "document.addEventListener('DOMContentLoaded', () => { document.documentElement.style.fontSize = '200%'; });"


@pytest.mark.parametrize("device", ["tablet-at-200-percent", "phone-with-large-text"])
def test_representative_pages_in_dark_mode_at_200_percent_zoom_are_whole_and_readable(live_wms, chromium, device):
    server, app = live_wms
    build_floor(app)
    options = ZOOMED_TABLET if device.startswith("tablet") else LARGE_TEXT_PHONE
    context = chromium.new_context(color_scheme="dark", has_touch=True, is_mobile=device.startswith("phone"), **options)
    context.set_default_navigation_timeout(30_000)
    if device.startswith("phone"):
        context.add_init_script(LARGE_TEXT)
    page = context.new_page()
    folder = artifacts("every-page-fits-360")
    problems: list[str] = []
    try:
        sign_in_page(page, server.url, "manager")
        window = options["viewport"]["width"]
        for path in REPRESENTATIVE:
            status, _kind = visit(page, server.url + path)
            assert status == 200, path
            dark = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
            if dark not in ("rgb(17, 20, 23)",):
                problems.append(f"{device} {path}: not dark ({dark})")
            width = page.evaluate(PAGE_WIDTH)
            if width > window:
                problems.append(f"{device} {path}: {width} px wide in a {window} px window")
            for what, html in page.evaluate(CUT_OR_OVERLAPPING):
                problems.append(f"{device} {path}: {what}: {html}")
            for html, ratio, colour, behind in page.evaluate(LOW_CONTRAST):
                problems.append(f"{device} {path}: contrast {ratio} ({colour} on rgb({behind})): {html}")
            name = path.strip("/").replace("/", "-") or "home"
            page.screenshot(path=str(folder / f"dark-{device}-{name}.png"), full_page=True)
        # the menu opens whole at this size too
        page.get_by_test_id("menu-button").click()
        assert page.evaluate(MENU_OPEN)
        for what, html in page.evaluate(CUT_OR_OVERLAPPING):
            problems.append(f"{device} menu: {what}: {html}")
        page.screenshot(path=str(folder / f"dark-{device}-menu.png"))
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_a_managers_tablet_shows_the_menu_in_full_beside_the_page(live_wms, chromium):
    """At 1024 px and wider the menu is a side bar, every section shown without a tap; keyboard users
    reach it by Tab with a visible focus ring."""
    server, app = live_wms
    context = chromium.new_context(viewport={"width": 1024, "height": 1366}, has_touch=True)
    context.set_default_navigation_timeout(30_000)
    page = context.new_page()
    try:
        sign_in_page(page, server.url, "manager")
        page.goto(server.url + "/products/")
        assert not page.get_by_test_id("menu-button").is_visible()
        assert page.evaluate(MENU_SECTIONS) == sections_of(app, "manager")
        menu = page.get_by_test_id("menu").bounding_box()
        main = page.locator("main").bounding_box()
        assert menu["x"] + menu["width"] <= main["x"] + 1  # beside the page, not over it
        assert page.evaluate(PAGE_WIDTH) <= 1024
        page.keyboard.press("Tab")  # the skip link first, then the menu's entries
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert page.evaluate("() => document.activeElement.closest('[data-testid=menu]') !== null")
        assert ring != "none"
        page.screenshot(path=str(artifacts("every-page-fits-360") / "tablet-1024-products.png"), full_page=True)
    finally:
        context.close()
    # without JavaScript too (the side bar is CSS: the closed <details> shows its content there)
    context = chromium.new_context(viewport={"width": 1024, "height": 1366}, java_script_enabled=False)
    context.set_default_navigation_timeout(30_000)
    page = context.new_page()
    try:
        sign_in_page(page, server.url, "manager")
        page.goto(server.url + "/orders/")
        assert not page.get_by_test_id("menu-button").is_visible()
        assert page.evaluate(MENU_SECTIONS) == sections_of(app, "manager")
    finally:
        context.close()


def test_the_menu_opens_from_the_keyboard_and_without_javascript(live_wms, chromium):
    server, app = live_wms
    for javascript in (True, False):
        context = chromium.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=javascript)
        context.set_default_navigation_timeout(30_000)
        page = context.new_page()
        try:
            sign_in_page(page, server.url, "picker")
            page.get_by_test_id("menu-button").focus()
            page.keyboard.press("Enter")
            assert page.evaluate(MENU_OPEN), javascript
            assert page.evaluate(MENU_SECTIONS) == sections_of(app, "picker")
            assert page.get_by_test_id("sign-out").is_visible()
            page.keyboard.press("Enter")  # the button again closes it
            assert not page.evaluate(MENU_OPEN), javascript
        finally:
            context.close()
