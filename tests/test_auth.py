"""Signing in: hashed passwords, safe cookies, a rate limit, safe redirects."""
from sqlmodel import select

from app import db
from app.accounts import create_user
from app.models import User
from tests.conftest import PASSWORD, make_app


def test_passwords_are_stored_as_scrypt_hashes_never_in_clear(app, client):
    db.atomic(create_user, username="new-picker", password=PASSWORD, role="picker")
    with db.reading() as session:
        user = session.exec(select(User).where(User.username == "new-picker")).one()
    assert user.password_hash.startswith("scrypt:32768:8:1$")  # werkzeug's cost, not the tests' seeded one
    assert PASSWORD not in user.password_hash
    assert client.post("/login", data={"username": "new-picker", "password": PASSWORD}).status_code == 302


def test_wrong_password_is_refused_with_a_message_and_no_session(client):
    response = client.post("/login", data={"username": "picker", "password": "wrong-password"})
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client):
    response = client.post("/login", data={"username": "picker", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_sign_in_attempts_are_rate_limited(sqlite_url):
    app = make_app(sqlite_url, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        client = app.test_client()
        answers = [client.post("/login", data={"username": "x", "password": "y"}).status_code for _ in range(4)]
    app.extensions["wms.engine"].dispose()
    assert answers == [401, 401, 401, 429]


def test_sign_in_only_redirects_to_this_site(client):
    response = client.post("/login?next=https://evil.example/", data={"username": "picker", "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/?page=2", data={"username": "picker", "password": PASSWORD})
    assert response.headers["Location"] == "/?page=2"


def test_a_deactivated_user_cannot_sign_in(client):
    def deactivate(session):
        session.exec(select(User).where(User.username == "picker")).one().active = False

    db.atomic(deactivate)
    response = client.post("/login", data={"username": "picker", "password": PASSWORD})
    assert response.status_code == 401


def test_signing_out_ends_the_session(picker):
    assert picker.post("/logout").status_code == 302
    assert picker.get("/").status_code == 302


def test_a_picker_sees_no_manager_tiles_and_a_manager_sees_figures(picker, manager):
    assert "Warehouse at a glance" not in picker.get("/").get_data(as_text=True)
    assert "Warehouse at a glance" in manager.get("/").get_data(as_text=True)
