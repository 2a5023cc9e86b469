"""API: bearer tokens on every route, the token's last use recorded cheaply, JSON for every error."""
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from app import db
from app.models import ApiToken, Product
from app.timeutil import utcnow


def last_used():
    with db.reading() as session:
        return session.exec(select(ApiToken.last_used_at)).one()


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer wms_wrong"}],
)
def test_every_api_route_answers_401_json_without_a_valid_token(app, client, headers):
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<[^>]*>", "X-1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, json={}, headers=headers)
            assert response.status_code == 401, f"{method} {path}"
            assert response.get_json()["error"]["code"] == "unauthorized"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            checked += 1
    assert checked >= 15


def test_nothing_is_created_without_a_token(client):
    response = client.post("/api/v1/products", json={"sku": "X", "name": "X"})
    assert response.status_code == 401
    with db.reading() as session:
        assert session.exec(select(Product)).first() is None


def test_a_deactivated_token_is_refused(api):
    def deactivate(session):
        session.exec(select(ApiToken)).one().active = False

    db.atomic(deactivate)
    assert api.get("/api/v1/warehouses").status_code == 401


def test_use_of_a_token_is_recorded_at_most_once_a_minute(api):
    assert last_used() is None
    api.get("/api/v1/warehouses")
    first = last_used()
    assert first is not None
    api.get("/api/v1/warehouses")
    assert last_used() == first  # no write for a use within the minute

    def age(session):
        session.exec(select(ApiToken)).one().last_used_at = utcnow() - timedelta(minutes=2)

    db.atomic(age)
    api.get("/api/v1/warehouses")
    assert last_used().replace(tzinfo=None) > (utcnow() - timedelta(minutes=1)).replace(tzinfo=None)


def test_unknown_api_paths_are_404_json(api):
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_wrong_method_is_405_json_and_says_which_methods_the_address_takes(api):
    response = api.delete("/api/v1/warehouses")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert api.get("/api/v1/warehouses/MAIN/default").headers["Allow"] == "OPTIONS, POST"


def test_a_signed_in_browser_session_does_not_open_the_api_and_gets_no_cookie(manager, api):
    assert manager.get("/").status_code == 200  # signed in on the pages
    response = manager.get("/api/v1/warehouses")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
    answered = api.get("/api/v1/warehouses")
    assert answered.status_code == 200
    assert "Set-Cookie" not in answered.headers
