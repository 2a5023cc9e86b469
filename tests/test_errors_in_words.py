"""Errors in words: whatever goes wrong, a page says what happened and what to do; a Python
exception's text is never shown except to an admin, folded away; machines get JSON; a database
refusing a value is a 400 or a 409, never a 500.

Unexpected errors are provoked by routes this test file adds to its own app (the real app has
no route that fails on purpose); database refusals come from real constraints."""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import text as sql

from app import db
from app.models import Role, Warehouse
from app.security import requires
from tests.conftest import PASSWORD, _seed_basics, make_app

PYTHON_TEXT = ("Traceback", "ValueError", "RuntimeError", "IntegrityError", "DataError", "OperationalError",
               "psycopg", "sqlite3", "sqlalchemy", "werkzeug", "secret internal text", "Error:")
REFERENCE = re.compile(r"tell your admin the reference ([A-Z2-9]{8})\.")


def _boom():
    raise ValueError("secret internal text 42")


def _boom_after_saving():
    db.atomic(lambda session: session.add(Warehouse(code="SAVED", name="Saved before the failure")))
    raise RuntimeError("secret internal text after commit")


def _duplicate_code():
    db.atomic(lambda session: session.execute(sql("INSERT INTO warehouse (code, name, is_default) "
                                                  "VALUES ('MAIN', 'Again', false)")))
    return "inserted"


def _out_of_range():
    def write(session):
        session.execute(sql("CREATE TEMPORARY TABLE IF NOT EXISTS counted (units INTEGER CHECK (units >= 0))"))
        session.execute(sql("INSERT INTO counted (units) VALUES (-1)"))

    db.atomic(write)
    return "inserted"


def _too_long():
    db.atomic(lambda session: session.execute(sql("INSERT INTO warehouse (code, name, is_default) "
                                                  "VALUES (:code, 'Long', false)"), {"code": "W" * 500}))
    return "inserted"


def _add_failing_routes(app) -> None:
    for path, view in (("/_test/boom", _boom), ("/_test/boom-after-saving", _boom_after_saving),
                       ("/_test/duplicate", _duplicate_code), ("/_test/out-of-range", _out_of_range),
                       ("/_test/too-long", _too_long)):
        app.add_url_rule(path, endpoint=view.__name__, view_func=requires(Role.PICKER)(view), methods=["GET", "POST"])


def _app_on(database_url: str, **config):
    app = make_app(database_url, PROPAGATE_EXCEPTIONS=False, **config)
    _add_failing_routes(app)
    return app


@pytest.fixture
def failing_app(request):
    """The app as in production (exceptions become pages), with routes that fail."""
    from tests.conftest import DEFAULT_TEST_DATABASE

    app = _app_on(request.getfixturevalue(f"{DEFAULT_TEST_DATABASE}_url"))
    with app.app_context():
        _seed_basics()
        yield app
    app.extensions["wms.engine"].dispose()


@pytest.fixture
def failing_any_db_app(database_url):
    app = _app_on(database_url)
    with app.app_context():
        _seed_basics()
        yield app
    app.extensions["wms.engine"].dispose()


def signed_in(app, role: str):
    client = app.test_client()
    assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code == 302
    return client


def page_of(response) -> str:
    return response.get_data(as_text=True)


def assert_in_words(page: str) -> None:
    for python in PYTHON_TEXT:
        assert python not in page, python


# ---- anything unexpected: a 500 in words, with a reference --------------------------------------

def test_an_unexpected_error_is_a_500_page_in_words_with_a_reference_in_the_log(failing_app, caplog):
    caplog.set_level(logging.ERROR)
    response = signed_in(failing_app, "manager").get("/_test/boom")
    page = page_of(response)
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in page
    assert "Something went wrong on our side and nothing was changed. Try again; if it keeps happening" in page
    reference = REFERENCE.search(page).group(1)
    assert f'data-testid="error-reference">{reference}<' in page
    assert_in_words(page)
    assert 'data-testid="error-detail"' not in page
    [record] = [r for r in caplog.records if reference in r.getMessage()]
    assert "GET /_test/boom" in record.getMessage() and record.exc_info[0] is ValueError


def test_each_unexpected_error_gets_its_own_reference(failing_app):
    manager = signed_in(failing_app, "manager")
    first, second = (REFERENCE.search(page_of(manager.get("/_test/boom"))).group(1) for _ in range(2))
    assert first != second


def test_an_admin_sees_the_exception_folded_away_a_manager_and_a_picker_do_not(failing_app):
    page = page_of(signed_in(failing_app, "admin").get("/_test/boom"))
    detail = page.split('<details class="technical" data-testid="error-detail">', 1)[1].split("</details>", 1)[0]
    assert "<summary>Technical detail (admins only)</summary>" in detail
    assert "builtins.ValueError: secret internal text 42" in detail and "Traceback" not in detail
    assert REFERENCE.search(page)
    for role in ("manager", "picker"):
        assert_in_words(page_of(signed_in(failing_app, role).get("/_test/boom")))


def test_a_json_client_gets_json_with_the_reference_and_no_detail(failing_app):
    response = signed_in(failing_app, "admin").get("/_test/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500 and response.is_json
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "reference"} and error["code"] == "internal_error"
    assert re.fullmatch(r"[A-Z2-9]{8}", error["reference"]) and error["reference"] in error["message"]
    assert_in_words(page_of(response))


def test_an_htmx_request_gets_a_flash_for_the_message_area(failing_app):
    response = signed_in(failing_app, "manager").post("/_test/boom", headers={"HX-Request": "true"})
    page = page_of(response)
    assert response.status_code == 500
    assert response.headers["HX-Retarget"] == "#flash" and response.headers["HX-Reswap"] == "innerHTML"
    assert page.startswith('<div class="flash flash-error" data-testid="flash-error">Something went wrong on our side')
    assert REFERENCE.search(page) and "<html" not in page
    assert_in_words(page)


def test_an_htmx_admin_gets_the_detail_in_the_flash(failing_app):
    page = page_of(signed_in(failing_app, "admin").post("/_test/boom", headers={"HX-Request": "true"}))
    assert 'data-testid="flash-detail"' in page and "secret internal text 42" in page


def test_a_failure_after_something_was_saved_says_to_check_before_doing_it_again(failing_app):
    page = page_of(signed_in(failing_app, "manager").post("/_test/boom-after-saving"))
    assert ("Something went wrong on our side, and what you asked may already have been saved: check before you do "
            "it again.") in page
    assert "nothing was changed" not in page and REFERENCE.search(page)
    with db.reading() as session:
        assert session.get(Warehouse, 2).code == "SAVED"
    # the next request starts afresh
    assert "nothing was changed" in page_of(signed_in(failing_app, "manager").get("/_test/boom"))


def test_when_even_the_error_page_fails_a_plain_page_still_says_it_in_words(failing_app, caplog):
    manager = signed_in(failing_app, "manager")
    db.atomic(lambda session: session.execute(sql("ALTER TABLE app_user RENAME TO app_user_gone")))
    try:
        response = manager.get("/")  # loading the signed-in user fails, on the error page too
    finally:
        db.atomic(lambda session: session.execute(sql("ALTER TABLE app_user_gone RENAME TO app_user")))
    page = page_of(response)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Something went wrong on our side and nothing was changed" in page and REFERENCE.search(page)
    assert_in_words(page)


def test_in_testing_and_debugging_an_unexpected_error_still_reaches_the_developer(sqlite_url):
    app = make_app(sqlite_url)  # TESTING, PROPAGATE_EXCEPTIONS unset: Flask's own rule
    _add_failing_routes(app)
    with app.app_context():
        _seed_basics()
        with pytest.raises(ValueError, match="secret internal text 42"):
            signed_in(app, "manager").get("/_test/boom")
    app.extensions["wms.engine"].dispose()


# ---- a database refusing a value is bad input: 400 or 409 ----------------------------------------

def test_a_check_constraint_refusal_is_a_400_in_words(failing_any_db_app):
    manager = signed_in(failing_any_db_app, "manager")
    response = manager.post("/_test/out-of-range")
    page = page_of(response)
    assert response.status_code == 400
    assert "A value is outside what the warehouse can store" in page and "nothing was saved" in page
    assert_in_words(page)
    json = manager.post("/_test/out-of-range", headers={"Accept": "application/json"})
    assert json.status_code == 400 and json.get_json()["error"]["code"] == "validation_error"


def test_a_duplicate_is_a_409_in_words(failing_any_db_app):
    response = signed_in(failing_any_db_app, "manager").post("/_test/duplicate")
    page = page_of(response)
    assert response.status_code == 409
    assert "That clashes with something already saved" in page and "<h1>That clashes with something saved</h1>" in page
    assert_in_words(page)


@pytest.mark.postgres
def test_a_value_too_long_for_its_column_is_a_400_in_words(postgres_url):
    app = _app_on(postgres_url)
    with app.app_context():
        _seed_basics()
        response = signed_in(app, "manager").post("/_test/too-long")
        assert response.status_code == 400 and "too large, too long or not allowed" in page_of(response)
        assert_in_words(page_of(response))
        admin = page_of(signed_in(app, "admin").post("/_test/too-long"))
        assert "StringDataRightTruncation" in admin  # psycopg's own words, for an admin
    app.extensions["wms.engine"].dispose()


# ---- HTTP errors in words -------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("get", "/picking/99999999999999999999"),  # beyond what SQLite's driver can send
    ("post", "/picking/9223372036854775808/pick"),
    ("get", "/picking/2147483648"),  # beyond PostgreSQL's 32-bit ids
])
def test_an_address_naming_an_id_no_row_can_have_is_a_404_in_words(failing_any_db_app, method, path):
    response = getattr(signed_in(failing_any_db_app, "manager"), method)(path, data={"location": "A"})
    assert response.status_code == 404
    assert "There is nothing at this address" in page_of(response)
    assert_in_words(page_of(response))


@pytest.mark.parametrize(
    ("role", "method", "path", "status", "heading", "words"),
    [
        ("manager", "get", "/no/such/page", 404, "Not found", "There is nothing at this address"),
        ("manager", "get", "/admin/settings/test", 405, "That did not work", "does not take a GET request"),
        ("picker", "get", "/admin/settings", 403, "Not for your role", "Your role cannot open this page"),
    ],
)
def test_http_errors_say_what_happened_and_what_to_do(failing_app, role, method, path, status, heading, words):
    response = getattr(signed_in(failing_app, role), method)(path)
    page = page_of(response)
    assert response.status_code == status
    assert f"<h1>{heading}</h1>" in page and words in page
    assert "The requested URL" not in page and "not allowed for the requested URL" not in page  # werkzeug's own
    assert_in_words(page)


def test_a_request_too_large_says_the_limit(sqlite_url):
    app = _app_on(sqlite_url, MAX_CONTENT_LENGTH=64 * 1024)
    with app.app_context():
        _seed_basics()
        response = signed_in(app, "manager").post("/admin/settings", data={"STARSHIPIT_API_URL": "x" * 100_000})
        assert response.status_code == 413
        assert "That was too large to send (at most 64 KB), so nothing was changed" in page_of(response)
        assert_in_words(page_of(response))
    app.extensions["wms.engine"].dispose()


def test_an_api_client_gets_http_errors_as_json_in_words(failing_app):
    response = failing_app.test_client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "There is nothing at this address: "
                                             "check the path (the API is described at /api/v1/openapi.json)."}}
    wrong_method = failing_app.test_client().delete("/webhooks/starshipit")
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"] == {
        "code": "method_not_allowed", "message": "This address does not take a DELETE request, so nothing was changed."}
