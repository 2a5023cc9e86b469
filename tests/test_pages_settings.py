"""The Starshipit settings page: keys saved, secrets never shown back, the webhook URL, a
connection test against the Starshipit simulator."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app import db, settings_store
from app.models import Setting

FORM = {
    "STARSHIPIT_API_URL": "https://api.example.test",
    "STARSHIPIT_API_KEY": "key-1234567890-ABCD",
    "STARSHIPIT_SUBSCRIPTION_KEY": "sub-0987654321-WXYZ",
    "STARSHIPIT_WEBHOOK_SECRET": "whsec-super-secret-9876",
    "STARSHIPIT_RATE_LIMIT": "20",
}


def text(response) -> str:
    return response.get_data(as_text=True)


def saved(key: str) -> str:
    with db.reading() as session:
        return settings_store.effective(session, key)


def stored_rows() -> dict:
    with db.reading() as session:
        return {row.key: row.value for row in session.exec(select(Setting))}


def test_manager_saves_the_starshipit_settings(manager):
    response = manager.post("/admin/settings", data=FORM)
    assert response.status_code == 200 and "Saved." in text(response)
    for key, value in FORM.items():
        assert saved(key) == value


def test_secrets_are_never_shown_back_in_full(manager):
    manager.post("/admin/settings", data=FORM)
    for page in (text(manager.get("/admin/settings")), text(manager.post("/admin/settings", data=FORM, headers={"HX-Request": "true"}))):
        for key in settings_store.SECRET_KEYS:
            assert FORM[key] not in page
            assert FORM[key][:-4] not in page
            assert settings_store.masked(FORM[key]) in page
        assert "https://api.example.test" in page


def test_a_blank_secret_keeps_the_saved_one(manager):
    manager.post("/admin/settings", data=FORM)
    blank = dict(FORM, STARSHIPIT_API_KEY="", STARSHIPIT_SUBSCRIPTION_KEY="", STARSHIPIT_WEBHOOK_SECRET="   ",
                 STARSHIPIT_RATE_LIMIT="2")
    response = manager.post("/admin/settings", data=blank, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Saved." in text(response)
    for key in settings_store.SECRET_KEYS:
        assert saved(key) == FORM[key]
    assert saved("STARSHIPIT_RATE_LIMIT") == "2"


def test_a_new_secret_replaces_the_old(manager):
    manager.post("/admin/settings", data=FORM)
    manager.post("/admin/settings", data=dict(FORM, STARSHIPIT_WEBHOOK_SECRET="another-secret-1111"))
    assert saved("STARSHIPIT_WEBHOOK_SECRET") == "another-secret-1111"


def test_saving_the_same_values_changes_nothing(manager):
    manager.post("/admin/settings", data=FORM)
    response = manager.post("/admin/settings", data=dict(FORM, STARSHIPIT_API_KEY=""))
    assert "Nothing changed." in text(response)


@pytest.mark.parametrize(
    "change",
    [
        {"STARSHIPIT_API_URL": "api.starshipit.com"},
        {"STARSHIPIT_API_URL": "ftp://api.starshipit.com"},
        {"STARSHIPIT_API_URL": ""},
        {"STARSHIPIT_RATE_LIMIT": "5"},
        {"STARSHIPIT_RATE_LIMIT": ""},
        {"STARSHIPIT_API_KEY": "k" * 2001},
    ],
)
def test_bad_settings_are_refused_and_nothing_is_saved(manager, change):
    before = stored_rows()
    response = manager.post("/admin/settings", data=dict(FORM, **change), headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#flash" and 'data-testid="flash-error"' in text(response)
    assert stored_rows() == before


def test_the_page_shows_the_webhook_url_to_paste_into_starshipit(manager):
    page = text(manager.get("/admin/settings"))
    assert '>http://localhost/webhooks/starshipit<' in page


def test_the_environment_values_show_until_saved_in_the_app(app, manager):
    app.config["STARSHIPIT_API_KEY"] = "env-key-abcdefgh-5555"
    page = text(manager.get("/admin/settings"))
    assert "env-key-abcdefgh-5555" not in page and settings_store.masked("env-key-abcdefgh-5555") in page


def test_admins_may_use_the_settings_page(admin):
    assert admin.get("/admin/settings").status_code == 200
    assert admin.post("/admin/settings", data=FORM).status_code == 200


def test_pickers_cannot_see_or_change_settings(picker):
    assert picker.get("/admin/settings").status_code == 403
    assert picker.post("/admin/settings", data=FORM, headers={"HX-Request": "true"}).status_code == 403
    assert picker.post("/admin/settings/test").status_code == 403
    assert stored_rows() == {}


@pytest.fixture
def simulator():
    """The Starshipit simulator, expecting the keys of FORM."""
    from simulator.server import Simulator

    sim = Simulator(api_key=FORM["STARSHIPIT_API_KEY"], subscription_key=FORM["STARSHIPIT_SUBSCRIPTION_KEY"]).start()
    yield sim.url
    sim.stop()


def test_test_connection_says_when_starshipit_answers(manager, simulator):
    manager.post("/admin/settings", data=dict(FORM, STARSHIPIT_API_URL=simulator))
    response = manager.post("/admin/settings/test", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "flash-ok" in text(response) and "Connected to Starshipit" in text(response)


def test_test_connection_shows_the_error_for_a_wrong_key(manager, simulator):
    manager.post("/admin/settings", data=dict(FORM, STARSHIPIT_API_URL=simulator, STARSHIPIT_API_KEY="wrong-key-0000000"))
    response = manager.post("/admin/settings/test", headers={"HX-Request": "true"})
    assert "flash-error" in text(response) and "Could not reach Starshipit" in text(response)
    assert "wrong-key-0000000" not in text(response)
