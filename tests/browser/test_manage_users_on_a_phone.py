"""An admin manages users and API tokens on a 390 x 844 phone (issue 10): creates a picker, makes
them a new password (shown once), the picker signs in with it on their own phone, the admin
deactivates them and the picker's next page is the sign-in page; then an API token made, seen once,
and revoked (the API refuses it). Each step is saved as a screenshot in the test artifacts folder
(`test-artifacts/`, or WMS_TEST_ARTIFACTS). The users pages also fit a 360 px phone with thumb-sized
targets, and every form of theirs is walked with hostile values as
tests/browser/test_every_form_refuses_hostile_values.py walks a manager's forms (an admin's pages
are out of that walk's reach)."""
from __future__ import annotations

from contextlib import closing

import httpx
from sqlmodel import select

from app import accounts, db
from app.models import ApiToken, User
from tests.browser import test_every_form_refuses_hostile_values as walking
from tests.browser.conftest import PHONE, _touch_page, sign_in_page
from tests.browser.test_inbound_on_a_phone import snap
from tests.support.layout import TOO_SMALL

STEP = "manage-users"
PATIENCE_MS = 30_000  # how long a step may wait on a machine busy with other test runs (never asserted)


def fits(page, width: int) -> list[str]:
    """What keeps the page from fitting a phone this wide: sideways scrolling, targets under 44 px."""
    problems = []
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        problems.append(f"{page.url}: {scroll} px wide")
    problems += [f"{page.url}: {height:.0f} px tall {html}" for html, height in page.evaluate(TOO_SMALL)]
    return problems


def test_an_admin_manages_a_picker_and_an_api_token_on_a_phone(live_wms, phone, chromium):
    server, app = live_wms
    base = server.url
    phone.set_default_timeout(PATIENCE_MS)
    phone.on("dialog", lambda dialog: dialog.accept())  # "Deactivate pat?", "Revoke shop-sync?"
    problems = []

    # 1. The admin signs in; Users is on the home page.
    sign_in_page(phone, base, "admin")
    assert phone.locator('a[href="/users/"]').count() >= 1
    phone.goto(f"{base}/users/")
    snap(phone, f"{STEP}-01-users-list")
    problems += fits(phone, PHONE["width"])

    # 2. A new picker.
    phone.get_by_test_id("new-user").click()
    phone.get_by_test_id("username").fill("Pat")
    phone.get_by_test_id("role-picker").select_option("picker")
    phone.get_by_test_id("password").fill("first-password-typed")
    snap(phone, f"{STEP}-02-new-user-form")
    problems += fits(phone, PHONE["width"])
    phone.get_by_test_id("create-user").click()
    phone.wait_for_selector("[data-testid=flash-ok]")
    assert phone.get_by_test_id("user-role").inner_text() == "picker"
    assert phone.get_by_test_id("user-status").inner_text() == "active"
    user_page = phone.url
    snap(phone, f"{STEP}-03-picker-created")
    problems += fits(phone, PHONE["width"])

    # 3. A password made by the app, shown once.
    phone.get_by_test_id("make-password").click()
    made = phone.get_by_test_id("made-password").inner_text().strip()
    assert len(made) == 14
    snap(phone, f"{STEP}-04-password-shown-once")
    phone.goto(user_page)
    assert phone.get_by_test_id("made-password").count() == 0 and made not in phone.content()

    # 4. The picker signs in with it on their own phone.
    picker_context = _touch_page(chromium, PHONE)
    picker_context.set_default_timeout(PATIENCE_MS)
    try:
        pat = picker_context.new_page()
        pat.goto(f"{base}/login")
        pat.fill("input[name=username]", "pat")
        pat.fill("input[name=password]", made)
        pat.click("button[type=submit]")
        pat.wait_for_url(f"{base}/")
        pat.goto(f"{base}/moves/")
        assert pat.url == f"{base}/moves/"
        snap(pat, f"{STEP}-05-picker-signed-in")

        # 5. The admin deactivates the picker.
        phone.get_by_test_id("deactivate").click()
        phone.wait_for_selector("[data-testid=reactivate]")
        assert phone.get_by_test_id("user-status").inner_text() == "deactivated"
        snap(phone, f"{STEP}-06-picker-deactivated")

        # 6. The picker's next page is the sign-in page, and signing in again is refused.
        pat.goto(f"{base}/inventory/")
        assert pat.url.split("?")[0] == f"{base}/login"
        snap(pat, f"{STEP}-07-picker-sent-to-sign-in")
        pat.fill("input[name=username]", "pat")
        pat.fill("input[name=password]", made)
        pat.click("button[type=submit]")
        pat.wait_for_selector("text=That name and password do not match.")
        snap(pat, f"{STEP}-08-picker-sign-in-refused")
    finally:
        picker_context.close()

    # 7. An API token: made, shown once, revoked.
    phone.goto(f"{base}/users/")
    phone.get_by_test_id("api-tokens").click()
    phone.get_by_test_id("token-name").fill("shop-sync")
    phone.get_by_test_id("make-token").click()
    token = phone.get_by_test_id("issued-token").inner_text().strip()
    snap(phone, f"{STEP}-09-token-shown-once")
    problems += fits(phone, PHONE["width"])
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{base}/api/v1/warehouses", headers=bearer, timeout=10).status_code == 200
    phone.goto(f"{base}/users/tokens")
    assert token not in phone.content()
    row = phone.locator("[data-testid=token]", has_text="shop-sync")
    assert row.get_by_test_id("last-used").inner_text() != "never"
    snap(phone, f"{STEP}-10-token-listed-last-used")
    row.get_by_test_id("revoke").click()
    phone.wait_for_selector("text=shop-sync is revoked")
    assert row.get_by_test_id("token-status").inner_text() == "revoked"
    snap(phone, f"{STEP}-11-token-revoked")
    assert httpx.get(f"{base}/api/v1/warehouses", headers=bearer, timeout=10).status_code == 401

    assert problems == []
    with app.app_context(), db.reading() as session:
        pat_row = session.exec(select(User).where(User.username == "pat")).one()
        assert (pat_row.role, pat_row.active) == ("picker", False)
        assert session.exec(select(ApiToken.active).where(ApiToken.name == "shop-sync")).one() is False


def test_the_users_pages_fit_a_360_px_phone(live_wms, small_phone):
    server, app = live_wms
    with app.app_context():  # a long name, a deactivated user, tokens used and revoked
        long_name = "warehouse.night-shift.lead." + "x" * 37
        target = db.atomic(accounts.create_user, username=long_name, password="a-long-password", role="manager")
        db.atomic(accounts.set_active, target.id, False)
        db.atomic(accounts.issue_token, "W" * 100)
        db.atomic(accounts.revoke_token, db.atomic(accounts.issue_token, "old integration").id)
    small_phone.set_default_timeout(PATIENCE_MS)
    sign_in_page(small_phone, server.url, "admin")
    problems = []
    for path in ("/users/", "/users/new", f"/users/{target.id}", "/users/tokens"):
        assert small_phone.goto(server.url + path).status == 200, path
        problems += fits(small_phone, 360)
    assert problems == []


FORMS = {"/users/", "/users/new", "/users/{}/role", "/users/{}/password", "/users/{}/password/make",
         "/users/{}/deactivate", "/users/tokens", "/users/tokens/{}/revoke"}


def test_every_users_form_refuses_hostile_values_in_words_on_a_phone(live_wms, phone, sqlite_url, monkeypatch):
    server, app = live_wms
    with app.app_context():
        pat = db.atomic(accounts.create_user, username="pat", password="a-long-password", role="picker")
        db.atomic(accounts.issue_token, "walked-token")
    monkeypatch.setattr(walking, "TABLES", walking.TABLES + ("app_user", "api_token"))
    monkeypatch.setitem(walking.BASE_VALUES, "/users/new",
                        {"username": "walker-{n}", "role": "picker", "password": "a-long-password"})
    phone.set_default_timeout(PATIENCE_MS)
    sign_in_page(phone, server.url, "admin")
    with closing(walking.Database(app, sqlite_url)) as database:
        walk = walking.Walk(phone, server.url, database)
        forms = {}
        for path in ("/users/", "/users/new", f"/users/{pat.id}", "/users/tokens"):
            url = server.url + path
            seen = len(walk.responses)
            response = phone.goto(url, wait_until="domcontentloaded")
            walk.look(f"GET {path}", seen, response.status)
            for found in phone.evaluate(walking.FORMS_JS):
                form = walking.Form.read(url, found)
                if form.action in FORMS:
                    forms.setdefault(form.signature, form)
        assert {form.action for form in forms.values()} == FORMS
        # Forms without fields last: deactivate and revoke act on what the others leave.
        for form in sorted(forms.values(), key=lambda f: (not f.fields, f.action)):
            walking.walk_form(walk, form)
    assert walk.problems == [], (f"{len(walk.problems)} problems in {walk.steps} submissions:\n"
                                 + "\n".join(walk.problems))
    with app.app_context(), db.reading() as session:
        for user in session.exec(select(User)):
            assert 0 < len(user.username) <= 64 and "\x00" not in user.username and "\x1b" not in user.username
        assert session.exec(select(User.active).where(User.username == "admin")).one() is True
        for row in session.exec(select(ApiToken)):
            assert 0 < len(row.name) <= 100 and "\x00" not in row.name and "\x1b" not in row.name
