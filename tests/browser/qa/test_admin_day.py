"""An admin's day, on a phone and on a tablet: sign in; manage a user (create a picker, make them a
manager, set a password, have the app make one, deactivate them); manage an API token (made and
shown once, used by an integration, revoked). Each step is a screenshot
(`qa/admin/<device>/<nn>-<step>.png`); what each step did is asserted on the page, in the users'
table, and against the API with the token."""
from __future__ import annotations

import httpx
from sqlmodel import select

from app import accounts, db
from app.models import ApiToken, User


def user_row(app, username: str) -> User:
    with app.app_context(), db.reading() as session:
        return session.exec(select(User).where(User.username == username)).one()


def signs_in(app, username: str, password: str) -> bool:
    with app.app_context(), db.reading() as session:
        return accounts.authenticate(session, username, password) is not None


def test_an_admin_signs_in_and_finds_users(day):
    walk = day("admin", 1)
    page = walk.page
    assert page.locator("h1").inner_text() == "Hello, admin"
    assert page.locator("a.tile", has_text="Users").first.is_visible()
    walk.shot("home")


def test_an_admin_creates_a_user_changes_their_role_and_password_and_deactivates_them(qa_stack, day, device):
    app = qa_stack.app
    name = f"pat-{device.name}"
    walk = day("admin", 10)
    page = walk.page
    page.locator("a.tile", has_text="Users").first.click()
    page.wait_for_url("**/users/")
    walk.shot("users")

    # Create a picker.
    page.get_by_test_id("new-user").click()
    page.get_by_test_id("username").fill(name)
    page.get_by_test_id("role-picker").select_option("picker")
    page.get_by_test_id("password").fill("first-password-typed")
    walk.shot("new-user")
    page.get_by_test_id("create-user").click()
    page.get_by_test_id("flash-ok").wait_for()
    assert page.get_by_test_id("user-role").inner_text() == "picker"
    assert page.get_by_test_id("user-status").inner_text() == "active"
    user_page = page.url
    walk.shot("created")
    assert signs_in(app, name, "first-password-typed")

    # Make them a manager.
    page.get_by_test_id("role-form").get_by_test_id("role-picker").select_option("manager")
    page.get_by_test_id("save-role").click()
    page.locator("[data-testid=flash-ok]", has_text=f"{name} is a manager now").wait_for()
    assert page.get_by_test_id("user-role").inner_text() == "manager"
    walk.shot("role-changed")
    assert user_row(app, name).role == "manager"

    # A password typed by the admin, then one the app makes (shown once).
    page.get_by_test_id("new-password").fill("second-password-typed")
    page.get_by_test_id("set-password").click()
    page.locator("[data-testid=flash-ok]", has_text=f"{name}'s password is the one you typed now").wait_for()
    walk.shot("password-set")
    assert signs_in(app, name, "second-password-typed") and not signs_in(app, name, "first-password-typed")
    page.get_by_test_id("make-password").click()
    made = page.get_by_test_id("made-password").inner_text().strip()
    assert len(made) == 14
    walk.shot("password-made")
    assert signs_in(app, name, made) and not signs_in(app, name, "second-password-typed")
    page.goto(user_page)
    assert page.get_by_test_id("made-password").count() == 0 and made not in page.content()  # shown once

    # Deactivate: they can no longer sign in.
    page.get_by_test_id("deactivate").click()  # the confirmation is accepted (conftest)
    page.get_by_test_id("reactivate").wait_for()
    assert page.get_by_test_id("user-status").inner_text() == "deactivated"
    walk.shot("deactivated")
    row = user_row(app, name)
    assert (row.role, row.active) == ("manager", False)
    assert not signs_in(app, name, made)


def test_an_admin_makes_an_api_token_sees_it_used_and_revokes_it(qa_stack, day, device):
    app = qa_stack.app
    name = f"shop-sync-{device.name}"
    walk = day("admin", 20)
    page = walk.page
    page.goto(f"{walk.url}/users/")
    page.get_by_test_id("api-tokens").click()
    page.get_by_test_id("token-name").fill(name)
    walk.shot("tokens")
    page.get_by_test_id("make-token").click()
    token = page.get_by_test_id("issued-token").inner_text().strip()
    walk.shot("token-shown-once")

    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{walk.url}/api/v1/warehouses", headers=bearer, timeout=30).status_code == 200
    page.goto(f"{walk.url}/users/tokens")
    assert token not in page.content()
    row = page.locator("[data-testid=token]", has_text=name)
    assert row.get_by_test_id("last-used").inner_text() != "never"
    assert row.get_by_test_id("token-status").inner_text() == "active"
    walk.shot("token-used")

    row.get_by_test_id("revoke").click()  # the confirmation is accepted (conftest)
    page.locator(f"text={name} is revoked").wait_for()
    assert page.locator("[data-testid=token]", has_text=name).get_by_test_id("token-status").inner_text() == "revoked"
    walk.shot("token-revoked")
    assert httpx.get(f"{walk.url}/api/v1/warehouses", headers=bearer, timeout=30).status_code == 401
    with app.app_context(), db.reading() as session:
        assert session.exec(select(ApiToken.active).where(ApiToken.name == name)).one() is False
