"""Every route is closed to anonymous requests, except sign-in, static files and the PWA files.

The walk covers every rule in app.url_map and every method it answers, so a route added later
without protection fails here. The API answers 401 without a token; the webhook answers 401
without a signature while a secret is set.
"""
import pytest
from werkzeug.routing import IntegerConverter

from app.security import MACHINE_BLUEPRINTS, PUBLIC_ENDPOINTS
from tests.conftest import _seed_basics, make_app

OPEN_TO_ALL = {"static", "auth.login", "pwa.manifest", "pwa.service_worker"}


@pytest.fixture
def guarded_app(sqlite_url):
    app = make_app(sqlite_url, STARSHIPIT_WEBHOOK_SECRET="webhook-test-secret")
    with app.app_context():
        _seed_basics()
        yield app
    app.extensions["wms.engine"].dispose()


def every_route(app):
    """(endpoint, method, url) for every rule and method, with simple values for its converters."""
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        values = {
            name: 1 if isinstance(converter, IntegerConverter) else "x"
            for name, converter in rule._converters.items()
        }
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, adapter.build(rule.endpoint, values, method=method)


def test_the_walk_covers_the_pages_of_every_area(guarded_app):
    endpoints = {endpoint for endpoint, _, _ in every_route(guarded_app)}
    assert {"products.index", "locations.index", "inventory.index", "inventory.adjust", "moves.index"} <= endpoints


def test_every_route_refuses_an_anonymous_request(guarded_app):
    client = guarded_app.test_client()
    failures = []
    for endpoint, method, url in every_route(guarded_app):
        if endpoint in OPEN_TO_ALL:
            continue
        for headers in ({}, {"HX-Request": "true"}):
            response = client.open(url, method=method, headers=headers, data={})
            location = response.headers.get("Location", "")
            to_login = response.status_code in (301, 302, 303) and location.split("?")[0].endswith("/login")
            if not (to_login or response.status_code == 401):
                failures.append(f"{method} {url} {headers or ''} -> {response.status_code} {location}")
    assert failures == []


def test_the_webhook_refuses_a_missing_signature_while_a_secret_is_set(guarded_app):
    client = guarded_app.test_client()
    webhooks = [url for endpoint, method, url in every_route(guarded_app) if endpoint.startswith("webhooks.") and method == "POST"]
    for url in webhooks:
        response = client.post(url, json={"anything": 1})
        assert response.status_code == 401, url


def test_open_routes_answer_without_signing_in(guarded_app):
    client = guarded_app.test_client()
    assert client.get("/login").status_code == 200
    assert client.get("/manifest.webmanifest").status_code == 200
    assert client.get("/sw.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/scanner.js").status_code == 200
    assert PUBLIC_ENDPOINTS == OPEN_TO_ALL


def test_every_page_endpoint_declares_a_role(guarded_app):
    undeclared = [
        endpoint
        for endpoint, view in guarded_app.view_functions.items()
        if endpoint not in PUBLIC_ENDPOINTS
        and endpoint.split(".", 1)[0] not in MACHINE_BLUEPRINTS
        and getattr(view, "required_role", None) is None
    ]
    assert undeclared == []
