"""The users and API tokens pages (an admin's): every route refused to pickers and managers and sent
to sign in when anonymous; users created, given a role, a new password (typed, or made and shown
once), deactivated (signed out at their next page) and reactivated; nobody deactivates or demotes
themselves and the last active admin stays one; an API token shown once, only its sha256 kept,
refused by the API once revoked, its last use shown. Every refusal in words, 4xx, nothing changed."""
from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import text
from sqlmodel import select

from app import accounts, db
from app.errors import Conflict
from app.models import ApiToken, User
from app.timeutil import local_text
from tests.conftest import PASSWORD, make_app, sign_in

HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "a-brand-new-password"
HOSTILE = ["", "-1", "A\x00B", "A\x1bB", "W" * 5000, "Ωжß語🙂" * 1000]


def users() -> dict[str, tuple[str, bool, str]]:
    """Every user: name -> (role, active, password hash)."""
    with db.reading() as session:
        return {u.username: (u.role, u.active, u.password_hash) for u in session.exec(select(User))}


def tokens() -> list[tuple]:
    with db.reading() as session:
        return [(t.id, t.name, t.token_hash, t.active, t.last_used_at) for t in session.exec(select(ApiToken))]


def user_id(name: str) -> int:
    with db.reading() as session:
        return session.exec(select(User.id).where(User.username == name)).one()


def add_user(name: str, role: str = "picker", password: str = PASSWORD) -> int:
    return db.atomic(accounts.create_user, username=name, role=role, password=password).id


def signs_in(app, name: str, password: str):
    """A fresh client signed in as name (or None when the sign-in is refused)."""
    client = app.test_client()
    answer = client.post("/login", data={"username": name, "password": password})
    return client if answer.status_code == 302 else None


def said(response) -> str:
    return response.get_data(as_text=True)


def words_of(response) -> str:
    """The refusal a page shows (field or flash), as text."""
    found = re.findall(r'data-testid="(?:field-error|flash-error)"[^>]*>([^<]*)<', said(response))
    assert found, said(response)[:2000]
    return " ".join(found)


# ---- who may open what ------------------------------------------------------------------------


def every_users_route(app, user: int, token: int):
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("users."):
            continue
        values = {"user_id": user, "token_id": token}
        values = {name: values[name] for name in rule.arguments}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, adapter.build(rule.endpoint, values, method=method)


def test_every_users_route_is_for_admins_only_pickers_and_managers_get_403(app, picker, manager):
    target = add_user("dana")
    token = db.atomic(accounts.issue_token, "shop").id
    before = users(), tokens()
    routes = list(every_users_route(app, target, token))
    assert len(routes) >= 10
    for client in (picker, manager):
        for method, url in routes:
            for headers in ({}, HTMX):
                answer = client.open(url, method=method, headers=headers,
                                     data={"username": "x-new", "role": "admin", "password": NEW_PASSWORD, "name": "n"})
                assert answer.status_code == 403, f"{method} {url} {headers}"
    assert (users(), tokens()) == before


def test_every_users_route_sends_an_anonymous_request_to_sign_in(app, client):
    target = add_user("dana")
    token = db.atomic(accounts.issue_token, "shop").id
    before = users(), tokens()
    for method, url in every_users_route(app, target, token):
        answer = client.open(url, method=method, data={"role": "admin", "password": NEW_PASSWORD, "name": "n"})
        assert answer.status_code == 302 and answer.headers["Location"].split("?")[0].endswith("/login"), url
        partial = client.open(url, method=method, headers=HTMX)
        assert partial.status_code == 401 and partial.headers["HX-Redirect"].endswith("/login"), url
    assert (users(), tokens()) == before


def test_an_admin_sees_users_in_the_menu_and_on_home_and_others_do_not(admin, manager, picker):
    assert 'href="/users/"' in said(admin.get("/"))
    for client in (manager, picker):
        assert 'href="/users/"' not in said(client.get("/"))


# ---- the list ---------------------------------------------------------------------------------


def test_the_list_shows_each_users_role_and_status_and_search_narrows_it(admin):
    add_user("dana")
    db.atomic(accounts.set_active, add_user("old-hand"), False)
    page = said(admin.get("/users/"))
    assert page.index('data-testid="user-search"') < page.index('data-testid="users"')  # search first
    rows = dict(re.findall(r'data-username="([^"]+)">.*?data-testid="status">(\w+)<', page, re.S))
    assert rows == {"admin": "active", "dana": "active", "manager": "active", "picker": "active",
                    "old-hand": "deactivated"}
    assert list(rows)[-1] == "old-hand"  # active users first
    assert re.search(r'data-username="manager">.*?data-testid="role">manager<', page, re.S)

    found = admin.get("/users/?q=AN", headers=HTMX)  # the active search's partial: any case
    assert found.status_code == 200 and "<html" not in said(found)
    assert set(re.findall(r'data-username="([^"]+)"', said(found))) == {"dana", "manager", "old-hand"}
    assert 'data-testid="no-results"' in said(admin.get("/users/?q=nobody"))


@pytest.mark.parametrize("query", ["A\x00B", "A\x1bB"])
def test_a_search_with_a_control_character_is_refused_in_words(admin, query):
    answer = admin.get("/users/", query_string={"q": query})
    assert answer.status_code == 400
    assert "control character" in words_of(answer)


# ---- create -------------------------------------------------------------------------------------


def test_an_admin_creates_a_picker_who_signs_in_with_that_password(app, admin):
    answer = admin.post("/users/new", data={"username": " Dana ", "role": "picker", "password": NEW_PASSWORD})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/users/{user_id('dana')}"
    assert "dana can sign in now" in said(admin.get(answer.headers["Location"]))
    assert users()["dana"][:2] == ("picker", True)
    dana = signs_in(app, "dana", NEW_PASSWORD)
    assert dana is not None and dana.get("/inventory/adjust").status_code == 403  # a picker


@pytest.mark.parametrize(("typed", "words"), [
    ({"username": "manager"}, "already exists"),
    ({"username": "two words"}, "cannot contain spaces"),
    ({"username": ""}, "user name is required"),
    ({"password": "short"}, "at least 8 characters"),
    ({"password": " " * 10}, "only spaces"),
    ({"password": "W" * 5000}, "at most 200"),
    ({"password": "long-enough\x00"}, "control character"),
    ({"role": "owner"}, "role must be one of picker, manager, admin"),
    ({"role": ""}, "role must be one of"),
] + [({"username": value}, "") for value in HOSTILE if value != "-1"] + [({"role": value}, "role must be one of") for value in HOSTILE]
  + [({"password": value}, "") for value in HOSTILE])
def test_create_refuses_in_words_and_creates_nobody(admin, typed, words):
    before = users()
    answer = admin.post("/users/new", data={"username": "newcomer", "role": "picker", "password": NEW_PASSWORD, **typed})
    assert 400 <= answer.status_code < 500
    assert words in words_of(answer)
    assert users() == before
    if typed.get("username", "").strip() and len(typed.get("username", "")) < 100:
        assert f'value="{typed["username"]}"' in said(answer) or "\x00" in typed["username"]  # kept for retyping


# ---- set role ---------------------------------------------------------------------------------


def test_an_admin_makes_a_picker_a_manager_from_their_next_page(app, admin):
    dana = add_user("dana")
    client = signs_in(app, "dana", PASSWORD)
    assert client.get("/inventory/adjust").status_code == 403
    answer = admin.post(f"/users/{dana}/role", data={"role": "manager"})
    assert answer.status_code == 302
    assert "dana is a manager now" in said(admin.get(answer.headers["Location"]))
    assert users()["dana"][0] == "manager"
    assert client.get("/inventory/adjust").status_code == 200


@pytest.mark.parametrize("role", HOSTILE + ["owner", "root"])
def test_a_role_that_does_not_exist_is_refused_in_words(admin, role):
    dana = add_user("dana")
    before = users()
    answer = admin.post(f"/users/{dana}/role", data={"role": role})
    assert answer.status_code == 400
    assert "role must be one of picker, manager, admin" in words_of(answer)
    assert users() == before


def test_an_admin_cannot_demote_or_deactivate_themselves(admin):
    me = user_id("admin")
    add_user("second-admin", "admin")  # not the last admin either: the self rule alone refuses
    own_page = said(admin.get(f"/users/{me}"))
    assert 'data-testid="not-yourself"' in own_page and 'data-testid="deactivate"' not in own_page
    before = users()
    demoted = admin.post(f"/users/{me}/role", data={"role": "manager"})
    assert demoted.status_code == 409
    assert "you cannot take away your own admin role" in words_of(demoted)
    deactivated = admin.post(f"/users/{me}/deactivate")
    assert deactivated.status_code == 409
    assert "you cannot deactivate yourself" in words_of(deactivated)
    assert users() == before
    assert admin.get("/users/").status_code == 200  # still an admin, still signed in


def test_an_admin_demotes_and_deactivates_another_admin(app, admin):
    other = add_user("second-admin", "admin")
    assert admin.post(f"/users/{other}/role", data={"role": "manager"}).status_code == 302
    assert admin.post(f"/users/{other}/deactivate").status_code == 302
    assert users()["second-admin"][:2] == ("manager", False)


def test_the_last_active_admin_is_never_demoted_nor_deactivated(app):
    """Only reachable without an admin acting on another (the command line, or two admins at once):
    the use case refuses whoever asks."""
    admin_id = user_id("admin")
    for change, args in ((accounts.set_role, ("manager",)), (accounts.set_role, ("picker",)),
                         (accounts.set_active, (False,))):
        with pytest.raises(Conflict, match="admin is the last active admin"):
            db.atomic(change, admin_id, *args)
    assert users()["admin"][:2] == ("admin", True)

    # A deactivated admin does not count: the active one is still the last.
    db.atomic(accounts.set_active, add_user("away", "admin"), False)
    with pytest.raises(Conflict, match="last active admin"):
        db.atomic(accounts.set_active, admin_id, False)
    # With another active admin, the first may go.
    db.atomic(accounts.set_active, user_id("away"), True)
    assert db.atomic(accounts.set_role, admin_id, "manager").role == "manager"
    with pytest.raises(Conflict, match="away is the last active admin"):
        db.atomic(accounts.set_active, user_id("away"), False)


# ---- passwords --------------------------------------------------------------------------------


def test_an_admin_types_a_new_password_and_only_it_signs_in(app, admin):
    dana = add_user("dana")
    answer = admin.post(f"/users/{dana}/password", data={"password": NEW_PASSWORD})
    assert answer.status_code == 302
    page = said(admin.get(answer.headers["Location"]))
    assert "password is the one you typed" in page and NEW_PASSWORD not in page
    assert signs_in(app, "dana", PASSWORD) is None
    assert signs_in(app, "dana", NEW_PASSWORD) is not None


@pytest.mark.parametrize("password", HOSTILE + ["short", " " * 12])
def test_a_password_that_breaks_the_rule_is_refused_in_words_and_the_old_one_stays(app, admin, password):
    dana = add_user("dana")
    before = users()
    answer = admin.post(f"/users/{dana}/password", data={"password": password})
    assert answer.status_code == 400
    assert "password" in words_of(answer)
    assert users() == before
    assert signs_in(app, "dana", PASSWORD) is not None


def test_a_made_password_is_shown_once_never_cached_and_signs_in(app, admin):
    dana = add_user("dana")
    answer = admin.post(f"/users/{dana}/password/make")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    made = re.search(r'data-testid="made-password">([^<]+)<', said(answer)).group(1)
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", made)
    assert "Set-Cookie" not in answer.headers or made not in answer.headers["Set-Cookie"]
    assert made not in said(admin.get(f"/users/{dana}"))  # never again
    assert signs_in(app, "dana", PASSWORD) is None
    assert signs_in(app, "dana", made) is not None


# ---- deactivate and reactivate ----------------------------------------------------------------


def test_a_deactivated_user_is_signed_out_at_their_next_page_and_cannot_sign_in(app, admin):
    dana = add_user("dana")
    client = signs_in(app, "dana", PASSWORD)
    assert client.get("/moves/").status_code == 200
    answer = admin.post(f"/users/{dana}/deactivate")
    assert answer.status_code == 302
    assert "dana is deactivated" in said(admin.get(answer.headers["Location"]))
    next_page = client.get("/moves/")
    assert next_page.status_code == 302 and next_page.headers["Location"].startswith("/login")
    assert client.post("/moves/", headers=HTMX, data={}).status_code == 401
    assert signs_in(app, "dana", PASSWORD) is None

    again = admin.post(f"/users/{dana}/deactivate")
    assert again.status_code == 409 and "already deactivated" in words_of(again)

    assert admin.post(f"/users/{dana}/reactivate").status_code == 302
    assert users()["dana"][1] is True
    assert signs_in(app, "dana", PASSWORD) is not None


@pytest.mark.parametrize("address", ["/users/0", "/users/-1", "/users/abc", "/users/99999999999999999999",
                                     "/users/2147483648", "/users/%00"])
def test_an_address_naming_no_user_is_refused_in_words(admin, address):
    before = users()
    for method, path in (("GET", address), ("POST", address + "/role"), ("POST", address + "/password"),
                         ("POST", address + "/password/make"), ("POST", address + "/deactivate"),
                         ("POST", address + "/reactivate")):
        answer = admin.open(path, method=method, data={"role": "picker", "password": NEW_PASSWORD})
        assert answer.status_code in (400, 404), f"{method} {path}: {answer.status_code}"
        assert "user" in said(answer).lower()
    assert users() == before


# ---- API tokens -------------------------------------------------------------------------------


def test_a_token_is_shown_once_only_its_sha256_is_kept_and_it_opens_the_api(app, admin):
    answer = admin.post("/users/tokens", data={"name": "shop-sync"})
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    token = re.search(r'data-testid="issued-token">([^<]+)<', said(answer)).group(1)
    assert token.startswith("wms_") and len(token) > 40

    [(token_id, name, digest, active, last_used)] = tokens()
    assert (name, active, last_used) == ("shop-sync", True, None)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    with db.engine().connect() as connection:  # the token itself is in no column of any table
        for table in ("api_token", "app_user", "setting"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                assert all(token not in str(cell) for cell in row), table
    listed = said(admin.get("/users/tokens"))
    assert token not in listed and "shop-sync" in listed

    api = app.test_client()
    assert api.get("/api/v1/warehouses", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_revoked_token_gets_401_from_the_api(app, admin):
    issued = db.atomic(accounts.issue_token, "shop-sync")
    bearer = {"Authorization": f"Bearer {issued.token}"}
    api = app.test_client()
    assert api.get("/api/v1/warehouses", headers=bearer).status_code == 200
    answer = admin.post(f"/users/tokens/{issued.id}/revoke")
    assert answer.status_code == 302
    page = said(admin.get("/users/tokens"))
    assert "shop-sync is revoked" in page
    assert re.search(rf'data-token-id="{issued.id}">.*?data-testid="token-status">revoked<', page, re.S)
    refused = api.get("/api/v1/warehouses", headers=bearer)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized"

    again = admin.post(f"/users/tokens/{issued.id}/revoke")
    assert again.status_code == 409 and "already revoked" in words_of(again)


def test_the_tokens_page_shows_when_each_token_was_last_used(app, admin):
    issued = db.atomic(accounts.issue_token, "shop-sync")
    row = re.compile(rf'data-token-id="{issued.id}">.*?data-testid="last-used">(?:<time [^>]*>)?([^<]+)<', re.S)
    assert row.search(said(admin.get("/users/tokens"))).group(1) == "never"
    app.test_client().get("/api/v1/warehouses", headers={"Authorization": f"Bearer {issued.token}"})
    [(_id, _name, _digest, _active, last_used)] = tokens()
    assert last_used is not None
    # in the warehouse's time zone (none set here: UTC, said), as every page shows times (app.timeutil)
    assert row.search(said(admin.get("/users/tokens"))).group(1) == local_text(last_used, None, "en") + " UTC"


@pytest.mark.parametrize("name", ["", "   ", "A\x00B", "A\x1bB", "W" * 5000, "Ωжß語🙂" * 1000])
def test_a_token_name_that_breaks_the_rule_is_refused_in_words_and_no_token_is_made(admin, name):
    answer = admin.post("/users/tokens", data={"name": name})
    assert answer.status_code == 400
    assert "token name" in words_of(answer)
    assert 'data-testid="issued-token"' not in said(answer)
    assert tokens() == []


@pytest.mark.parametrize("token_id", ["0", "-1", "abc", "99999999999999999999", "2147483647"])
def test_revoking_a_token_that_does_not_exist_is_refused_in_words(admin, token_id):
    db.atomic(accounts.issue_token, "shop-sync")
    before = tokens()
    answer = admin.post(f"/users/tokens/{token_id}/revoke")
    assert answer.status_code in (400, 404)
    assert "token" in words_of(answer)
    assert tokens() == before


# ---- CSRF -------------------------------------------------------------------------------------


@pytest.fixture
def protected_admin(sqlite_url):
    from tests.conftest import _seed_basics

    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        _seed_basics()
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', said(client.get("/login"))).group(1)
        client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
        yield app, client
    app.extensions["wms.engine"].dispose()


def test_every_users_form_carries_a_csrf_token_and_a_post_without_it_changes_nothing(protected_admin):
    app, client = protected_admin
    dana = add_user("dana")
    db.atomic(accounts.issue_token, "shop-sync")
    for page in ("/users/new", f"/users/{dana}", "/users/tokens"):
        html = said(client.get(page))
        forms = re.findall(r"<form method=\"post\".*?</form>", html, re.S)
        assert forms, page
        assert all('name="csrf_token"' in form for form in forms), page
    before = users(), tokens()
    for path, data in (("/users/new", {"username": "eve", "role": "admin", "password": NEW_PASSWORD}),
                       (f"/users/{dana}/role", {"role": "admin"}), (f"/users/{dana}/password", {"password": NEW_PASSWORD}),
                       (f"/users/{dana}/password/make", {}), (f"/users/{dana}/deactivate", {}),
                       ("/users/tokens", {"name": "forged"}), ("/users/tokens/1/revoke", {})):
        assert client.post(path, data=data).status_code == 400, path
    assert (users(), tokens()) == before
    token = re.search(r'name="csrf_token" value="([^"]+)"', said(client.get(f"/users/{dana}"))).group(1)
    assert client.post(f"/users/{dana}/role", data={"role": "manager", "csrf_token": token}).status_code == 302
    assert users()["dana"][0] == "manager"


# ---- two admins at once (PostgreSQL) ------------------------------------------------------------


@pytest.mark.postgres
def test_two_admins_demoting_each_other_at_once_leave_one_admin(postgres_url):
    """The last-admin rule holds under contention: while one admin's demotion of the other is in
    its transaction, the other's demotion of the first waits for the lock on the admins, then sees
    itself refused. Without the lock both would see two admins, and none would be left."""
    import threading

    from sqlmodel import Session

    from tests.conftest import _seed_basics

    app = make_app(postgres_url)
    with app.app_context():
        _seed_basics()
        first, boss = user_id("admin"), add_user("boss", "admin")
        with Session(db.engine(), expire_on_commit=False) as session:  # the first admin's request, mid-way
            accounts.set_role(session, boss, "manager", actor_id=first)
            outcome = {}

            def boss_demotes_the_first():
                with app.app_context():
                    try:
                        db.atomic(accounts.set_role, first, "manager", actor_id=boss)
                        outcome["boss"] = "done"
                    except Conflict as refused:
                        outcome["boss"] = refused.message

            other = threading.Thread(target=boss_demotes_the_first)
            other.start()
            waiting = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock'")
            with db.engine().connect() as watch:
                while watch.execute(waiting).scalar_one() == 0 and other.is_alive():
                    watch.rollback()
            session.commit()
        other.join()
        assert outcome["boss"] == "admin is the last active admin and must stay an admin: make another user admin first"
        assert {name: row[:2] for name, row in users().items() if name in ("admin", "boss")} == {
            "admin": ("admin", True), "boss": ("manager", True)}
    app.extensions["wms.engine"].dispose()


def test_a_new_password_signs_the_user_out_everywhere_but_keeps_the_admin_who_set_their_own(app, admin):
    dana = add_user("dana")
    phone = app.test_client()
    assert phone.post("/login", data={"username": "dana", "password": PASSWORD}).status_code == 302
    assert phone.get("/").status_code == 200
    admin.post(f"/users/{dana}/password", data={"password": NEW_PASSWORD})
    assert phone.get("/").status_code == 302  # the phone signed in with the old password: signed out
    tablet = sign_in(app.test_client(), "admin")  # the admin's other session
    with db.reading() as session:
        me = session.exec(select(User).where(User.username == "admin")).one().id
    assert admin.post(f"/users/{me}/password", data={"password": NEW_PASSWORD}).status_code == 302
    assert admin.get("/users/").status_code == 200  # where they set it: still signed in
    assert tablet.get("/users/").status_code == 302  # elsewhere: signed out
    assert admin.post(f"/users/{me}/password/make").status_code == 200
    assert admin.get("/users/").status_code == 200
