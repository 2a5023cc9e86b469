"""The Starshipit settings page: every field checked, the connection tested with the NEW values
before anything is saved (against the Starshipit simulator), secrets never shown back, what
Starshipit answered said in words, the technical detail for admins only."""
from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from app import db, settings_store
from app.errors import ValidationFailed
from app.models import Setting
from simulator import Simulator
from tests.support.processes import free_port

KEYS = {
    "STARSHIPIT_API_KEY": "key-1234567890-ABCD",
    "STARSHIPIT_SUBSCRIPTION_KEY": "sub-0987654321-WXYZ",
}
PYTHON_TEXT = ("Traceback", "StarshipitError", "httpx", "ConnectError", "Exception", "Error:")


@pytest.fixture
def simulator():
    """The Starshipit simulator, expecting the keys of KEYS."""
    sim = Simulator(api_key=KEYS["STARSHIPIT_API_KEY"], subscription_key=KEYS["STARSHIPIT_SUBSCRIPTION_KEY"]).start()
    yield sim
    sim.stop()


@pytest.fixture
def form(simulator) -> dict:
    """A settings form that works: the simulator's URL and keys."""
    return {"STARSHIPIT_API_URL": simulator.url, **KEYS, "STARSHIPIT_WEBHOOK_SECRET": "whsec-super-secret-9876",
            "STARSHIPIT_RATE_LIMIT": "20"}


def text(response) -> str:
    return response.get_data(as_text=True)


def saved(key: str) -> str:
    with db.reading() as session:
        return settings_store.effective(session, key)


def stored_rows() -> dict:
    with db.reading() as session:
        return {row.key: row.value for row in session.exec(select(Setting))}


def store(**values) -> None:
    """Settings saved behind the page's back (as if a key were revoked in Starshipit later)."""
    def write(session):
        for key, value in values.items():
            settings_store.save(session, key, value)

    db.atomic(write)


def sim_control(simulator, path: str, **body) -> None:
    answer = httpx.post(f"{simulator.url}/_sim/{path}", json=body, timeout=5)
    assert answer.status_code < 300, answer.text


def assert_in_words(page: str) -> None:
    for python in PYTHON_TEXT:
        assert python not in page


# ---- saving: only what Starshipit answers to -----------------------------------------------------

def test_manager_saves_the_settings_when_starshipit_answers(manager, form):
    response = manager.post("/admin/settings", data=form)
    assert response.status_code == 200
    assert "Saved." in text(response) and "Connected to Starshipit: no unshipped orders right now." in text(response)
    for key, value in form.items():
        assert saved(key) == value


def test_save_says_how_many_unshipped_orders_starshipit_listed(manager, form, simulator):
    for _ in range(3):
        sim_control(simulator, "orders")
    response = manager.post("/admin/settings", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "3 unshipped orders are waiting" in text(response)


def test_secrets_are_never_shown_back_in_full(manager, form):
    manager.post("/admin/settings", data=form)
    for page in (text(manager.get("/admin/settings")), text(manager.post("/admin/settings", data=form, headers={"HX-Request": "true"}))):
        for key in settings_store.SECRET_KEYS:
            assert form[key] not in page
            assert form[key][:-4] not in page
            assert settings_store.masked(form[key]) in page
        assert form["STARSHIPIT_API_URL"] in page


def test_a_blank_secret_keeps_the_saved_one_and_is_what_save_tests_with(manager, form):
    manager.post("/admin/settings", data=form)
    blank = dict(form, STARSHIPIT_API_KEY="", STARSHIPIT_SUBSCRIPTION_KEY="", STARSHIPIT_WEBHOOK_SECRET="   ",
                 STARSHIPIT_RATE_LIMIT="2")
    response = manager.post("/admin/settings", data=blank, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Saved." in text(response) and "Connected to Starshipit" in text(response)
    for key in settings_store.SECRET_KEYS:
        assert saved(key) == form[key]
    assert saved("STARSHIPIT_RATE_LIMIT") == "2"


def test_a_new_webhook_secret_replaces_the_old(manager, form):
    manager.post("/admin/settings", data=form)
    manager.post("/admin/settings", data=dict(form, STARSHIPIT_WEBHOOK_SECRET="another-secret-1111"))
    assert saved("STARSHIPIT_WEBHOOK_SECRET") == "another-secret-1111"


def test_saving_the_same_values_changes_nothing(manager, form):
    manager.post("/admin/settings", data=form)
    response = manager.post("/admin/settings", data=dict(form, STARSHIPIT_API_KEY=""))
    assert response.status_code == 200 and "Nothing changed." in text(response)


def test_a_wrong_key_is_not_saved_and_the_page_says_starshipit_refused_it(manager, form):
    manager.post("/admin/settings", data=form)
    before = stored_rows()
    response = manager.post("/admin/settings", data=dict(form, STARSHIPIT_API_KEY="wrong-key-0000000",
                                                         STARSHIPIT_WEBHOOK_SECRET="new-secret-never-saved"),
                            headers={"HX-Request": "true"})
    page = text(response)
    assert response.status_code == 422 and 'id="settings-form"' in page
    assert "Nothing was saved. Starshipit refused the keys (HTTP 401)" in page
    assert "Access denied due to invalid subscription key" in page  # what Starshipit said, quoted
    assert "wrong-key-0000000" not in page and "Not saved: secrets are never shown back" in page
    assert stored_rows() == before  # the webhook secret, valid on its own, was not saved either
    assert_in_words(page)


def test_an_unreachable_url_is_not_saved(manager, form):
    nobody = f"http://127.0.0.1:{free_port()}"
    response = manager.post("/admin/settings", data=dict(form, STARSHIPIT_API_URL=nobody))
    page = text(response)
    assert response.status_code == 422
    assert f"Nothing was saved. Could not reach 127.0.0.1:{nobody.rsplit(':', 1)[1]}" in page
    assert "Check the API URL" in page and f'value="{nobody}"' in page  # what was typed, to correct it
    assert stored_rows() == {}
    assert_in_words(page)


def test_a_server_error_from_starshipit_is_not_saved(manager, form, simulator):
    sim_control(simulator, "faults", status=503, count=5)
    response = manager.post("/admin/settings", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "Starshipit answered with a server error (HTTP 503)" in text(response)
    assert "Try again in a few minutes" in text(response)
    assert stored_rows() == {}
    assert_in_words(text(response))


def test_a_rate_limited_answer_is_not_saved(manager, form, simulator):
    sim_control(simulator, "faults", status=429, count=2)
    response = manager.post("/admin/settings", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 422 and "(HTTP 429, too many requests)" in text(response)
    assert stored_rows() == {}


def test_a_server_that_is_not_starshipit_is_not_saved(manager, form, simulator):
    response = manager.post("/admin/settings", data=dict(form, STARSHIPIT_API_URL=simulator.url + "/not-the-api"))
    assert response.status_code == 422
    assert "answered, but not like Starshipit (HTTP 404): check the API URL" in text(response)
    assert stored_rows() == {}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"STARSHIPIT_API_URL": "api.starshipit.com"}, "STARSHIPIT_API_URL", "must start with https://"),
        ({"STARSHIPIT_API_URL": "ftp://api.starshipit.com"}, "STARSHIPIT_API_URL", "must start with https://"),
        ({"STARSHIPIT_API_URL": "javascript:alert(1)"}, "STARSHIPIT_API_URL", "must start with https://"),
        ({"STARSHIPIT_API_URL": ""}, "STARSHIPIT_API_URL", "Type the Starshipit API URL"),
        ({"STARSHIPIT_API_URL": "https://"}, "STARSHIPIT_API_URL", "is not a valid host"),
        ({"STARSHIPIT_API_URL": "https://api starshipit.com"}, "STARSHIPIT_API_URL", "cannot contain spaces"),
        ({"STARSHIPIT_API_URL": "https://api_starshipit.com"}, "STARSHIPIT_API_URL", "is not a valid host"),
        ({"STARSHIPIT_API_URL": "https://-api.starshipit.com"}, "STARSHIPIT_API_URL", "is not a valid host"),
        ({"STARSHIPIT_API_URL": "https://api..starshipit.com"}, "STARSHIPIT_API_URL", "is not a valid host"),
        ({"STARSHIPIT_API_URL": "http://300.1.1.1"}, "STARSHIPIT_API_URL", "is not a valid host"),
        ({"STARSHIPIT_API_URL": "http://[::1"}, "STARSHIPIT_API_URL", "is not a valid host"),
        ({"STARSHIPIT_API_URL": "https://user:pw@api.starshipit.com"}, "STARSHIPIT_API_URL", "user name or password"),
        ({"STARSHIPIT_API_URL": "https://api.starshipit.com/?x=1"}, "STARSHIPIT_API_URL", "?query or #fragment"),
        ({"STARSHIPIT_API_URL": "https://api.starshipit.com#top"}, "STARSHIPIT_API_URL", "?query or #fragment"),
        ({"STARSHIPIT_API_URL": "https://api.starshipit.com:99999"}, "STARSHIPIT_API_URL", "from 1 to 65535"),
        ({"STARSHIPIT_API_URL": "https://api.starshipit.com:0"}, "STARSHIPIT_API_URL", "from 1 to 65535"),
        ({"STARSHIPIT_API_URL": "https://api.starshipit.com:https"}, "STARSHIPIT_API_URL", "from 1 to 65535"),
        ({"STARSHIPIT_RATE_LIMIT": "5"}, "STARSHIPIT_RATE_LIMIT", "2 (developer) or 20 (production)"),
        ({"STARSHIPIT_RATE_LIMIT": ""}, "STARSHIPIT_RATE_LIMIT", "2 (developer) or 20 (production)"),
        ({"STARSHIPIT_API_KEY": "k" * 2001}, "STARSHIPIT_API_KEY", "2,001 characters long; at most 2,000"),
        ({"STARSHIPIT_API_KEY": "key with spaces"}, "STARSHIPIT_API_KEY", "without spaces"),
        ({"STARSHIPIT_SUBSCRIPTION_KEY": "clé-1234"}, "STARSHIPIT_SUBSCRIPTION_KEY", "letters, digits and punctuation"),
        ({"STARSHIPIT_WEBHOOK_SECRET": "line\x00break"}, "STARSHIPIT_WEBHOOK_SECRET", "control character"),
    ],
)
def test_a_bad_field_is_named_under_the_field_and_nothing_is_saved_or_tested(manager, form, simulator, change, field,
                                                                               words):
    sim_control(simulator, "faults", status=500, count=1)  # a connection test would use this up
    response = manager.post("/admin/settings", data=dict(form, **change), headers={"HX-Request": "true"})
    page = text(response)
    assert response.status_code == 400
    assert 'id="settings-form"' in page and "Nothing was saved: correct the fields marked below." in page
    error = page.split(f'data-testid="error-{field}">', 1)[1].split("</span>", 1)[0]
    assert words in error.replace("&#39;", "'")
    assert stored_rows() == {}
    assert len(httpx.get(f"{simulator.url}/_sim/faults").json()["faults"]) == 1  # Starshipit was not asked
    assert_in_words(page)


def test_every_wrong_field_is_named_at_once(manager, form):
    response = manager.post("/admin/settings", data=dict(form, STARSHIPIT_API_URL="nope", STARSHIPIT_RATE_LIMIT="7"))
    page = text(response)
    assert response.status_code == 400
    assert 'data-testid="error-STARSHIPIT_API_URL"' in page and 'data-testid="error-STARSHIPIT_RATE_LIMIT"' in page
    assert 'aria-invalid="true"' in page and 'value="nope"' in page


@pytest.mark.parametrize("typed", ["x" * 5000, "https://" + "x_" * 900, "ftp://" + "y" * 1900])
def test_a_long_url_is_never_echoed_in_full(manager, form, typed):
    response = manager.post("/admin/settings", data=dict(form, STARSHIPIT_API_URL=typed))
    error = text(response).split('data-testid="error-STARSHIPIT_API_URL">', 1)[1].split("</span>", 1)[0]
    assert response.status_code == 400 and len(error) < 250


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("https://api.starshipit.com/", "https://api.starshipit.com"),
        ("  HTTPS://api.starshipit.com  ", "https://api.starshipit.com"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://127.0.0.1:5001/starshipit/", "http://127.0.0.1:5001/starshipit"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://my-proxy.example.co.nz.", "https://my-proxy.example.co.nz."),
    ],
)
def test_api_urls_that_are_http_with_a_valid_host_are_accepted(typed, kept):
    assert settings_store.api_url(typed) == kept


def test_a_host_name_of_64_characters_in_one_label_is_refused():
    with pytest.raises(ValidationFailed, match="not a valid host"):
        settings_store.api_url(f"https://{'a' * 64}.example.com")
    assert settings_store.api_url(f"https://{'a' * 63}.example.com")


# ---- the Test connection button: the saved settings, in words ------------------------------------

def test_test_connection_says_when_starshipit_answers(manager, form):
    manager.post("/admin/settings", data=form)
    response = manager.post("/admin/settings/test", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-testid="flash-ok"' in text(response) and "Connected to Starshipit" in text(response)


def test_test_connection_says_in_words_that_a_saved_key_was_refused(manager, form):
    manager.post("/admin/settings", data=form)
    store(STARSHIPIT_API_KEY="revoked-key-0000000")
    response = manager.post("/admin/settings/test", headers={"HX-Request": "true"})
    page = text(response)
    assert 'data-testid="flash-error"' in page and "Starshipit refused the keys (HTTP 401)" in page
    assert "revoked-key-0000000" not in page and 'data-testid="flash-detail"' not in page
    assert_in_words(page)


def test_test_connection_without_htmx_shows_the_whole_page_with_the_answer(manager, form):
    manager.post("/admin/settings", data=form)
    response = manager.post("/admin/settings/test")
    assert response.status_code == 200 and "<h1>Starshipit settings</h1>" in text(response)
    assert 'id="connection-result"' in text(response) and "Connected to Starshipit" in text(response)


def test_an_admin_sees_the_technical_detail_folded_away_and_a_manager_does_not(admin, manager, form):
    manager.post("/admin/settings", data=form)
    store(STARSHIPIT_API_KEY="revoked-key-0000000")
    for_admin = text(admin.post("/admin/settings/test", headers={"HX-Request": "true"}))
    for_manager = text(manager.post("/admin/settings/test", headers={"HX-Request": "true"}))
    detail = for_admin.split('data-testid="flash-detail"', 1)[1]
    assert "<summary>Technical detail (admins only)</summary>" in detail
    assert "StarshipitError" in detail and "HTTP 401" in detail
    assert 'data-testid="flash-detail"' not in for_manager and "StarshipitError" not in for_manager
    saving = text(admin.post("/admin/settings", data=dict(form, STARSHIPIT_API_URL=f"http://127.0.0.1:{free_port()}")))
    assert 'data-testid="flash-detail"' in saving and "ConnectError" in saving


# ---- the rest of the page --------------------------------------------------------------------------

def test_the_page_shows_the_webhook_url_to_paste_into_starshipit(manager):
    page = text(manager.get("/admin/settings"))
    assert '>http://localhost/webhooks/starshipit<' in page


def test_the_environment_values_show_until_saved_in_the_app(app, manager):
    app.config["STARSHIPIT_API_KEY"] = "env-key-abcdefgh-5555"
    page = text(manager.get("/admin/settings"))
    assert "env-key-abcdefgh-5555" not in page and settings_store.masked("env-key-abcdefgh-5555") in page


def test_admins_may_use_the_settings_page(admin, form):
    assert admin.get("/admin/settings").status_code == 200
    assert admin.post("/admin/settings", data=form).status_code == 200


def test_pickers_cannot_see_or_change_settings(picker, form):
    assert picker.get("/admin/settings").status_code == 403
    assert picker.post("/admin/settings", data=form, headers={"HX-Request": "true"}).status_code == 403
    assert picker.post("/admin/settings/test").status_code == 403
    assert stored_rows() == {}
