"""The manager's routing page: add, edit, move, enable, disable, delete rules, the tester, and
routing one order by hand from its page; refusals under their field; pickers are kept out; with
CSRF on, a form without its token changes nothing."""
from __future__ import annotations

import re

import pytest

from app import db
from app.outbound import routing
from tests import orders_data as data
from tests.conftest import PASSWORD, _seed_basics, make_app

RULE = {"name": "Pilot", "outcome": "WMS", "enabled": "on", "warehouse": "MAIN", "channel": "", "reference_prefix": "",
        "country": "nz", "account": "", "skus_any": "MUG-1, TEE\nHAT", "skus_all": ""}


def rules():
    with db.reading() as session:
        return routing.list_rules(session)


def test_a_picker_may_not_open_or_change_the_rules(picker):
    assert picker.get("/routing/").status_code == 403
    assert picker.post("/routing/rules", data=RULE).status_code == 403
    assert rules() == []


def test_a_manager_adds_a_rule_and_sees_it_in_the_list(manager):
    home = manager.get("/").get_data(as_text=True)
    assert 'href="/routing/"' in home
    response = manager.post("/routing/rules", data=RULE, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Rule Pilot added as number 1" in page
    assert [(r["name"], r["enabled"], r["match"], r["outcome"]) for r in rules()] == [
        ("Pilot", True, {"warehouse": "MAIN", "country": "nz", "skus_any": ["MUG-1", "TEE", "HAT"]}, "WMS")]


@pytest.mark.parametrize("field, value, words", [
    ("name", "", "name is required"),
    ("country", "A\x00B", "control character"),
    ("skus_any", "OK " + "W" * 80, "SKU 2"),
    ("outcome", "LATER", "WMS or STARSHIPIT"),
    ("warehouse", "NOWHERE", "no warehouse NOWHERE"),
])
def test_a_refused_rule_is_said_under_its_field_and_nothing_is_saved(manager, field, value, words):
    response = manager.post("/routing/rules", data={**RULE, field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'<span class="field-error" id="([a-z_]+)-error"[^>]*>([^<]*)</span>', page)
    assert error is not None and error.group(1) == field and words in error.group(2)
    assert rules() == []


def test_a_manager_edits_moves_disables_and_deletes_rules(manager):
    manager.post("/routing/rules", data=RULE)
    manager.post("/routing/rules", data={**RULE, "name": "Everything else", "outcome": "STARSHIPIT", "warehouse": "",
                                         "country": "", "skus_any": ""})
    first, second = (r["id"] for r in rules())
    assert manager.get(f"/routing/rules/{first}/edit").status_code == 200
    manager.post(f"/routing/rules/{first}/edit", data={**RULE, "country": "AU"})
    manager.post(f"/routing/rules/{second}/up")
    manager.post(f"/routing/rules/{first}/disable")
    assert [(r["id"], r["position"], r["enabled"], r["match"].get("country")) for r in rules()] == [
        (second, 1, True, None), (first, 2, False, "AU")]
    manager.post(f"/routing/rules/{first}/enable")
    manager.post(f"/routing/rules/{second}/delete")
    assert [(r["id"], r["position"], r["enabled"]) for r in rules()] == [(first, 1, True)]
    assert manager.post("/routing/rules/999/up").status_code == 404


def test_the_tester_names_the_rule_for_an_order_or_typed_facts(manager):
    manager.post("/routing/rules", data=RULE)
    data.add_order("SO-7", lines=(("HAT", 1),))
    page = manager.post("/routing/test", data={"order_number": "SO-7"}).get_data(as_text=True)
    assert re.search(r"route <strong>WMS</strong>,\s*by rule <strong>Pilot</strong>", page)
    page = manager.post("/routing/test", data={"warehouse": "main", "country": "AU"}).get_data(as_text=True)
    assert "by default (no enabled rule matches)" in page
    response = manager.post("/routing/test", data={"order_number": "W" * 5000})
    assert response.status_code == 404 and 'id="order_number-error"' in response.get_data(as_text=True)


def test_a_manager_routes_an_order_by_hand_on_its_page_and_a_picker_cannot(manager, picker):
    data.add_order("SO-1")
    page = manager.get("/order/SO-1").get_data(as_text=True)
    assert 'data-testid="reroute"' in page and "by default" in page
    assert 'data-testid="reroute"' not in picker.get("/order/SO-1").get_data(as_text=True)
    assert picker.post("/routing/orders/SO-1", data={"outcome": "WMS"}).status_code == 403
    response = manager.post("/routing/orders/SO-1", data={"outcome": "WMS"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "routed WMS by hand" in page and re.search(r'data-testid="order-route"><span class="badge">WMS</span>\s*by hand', page)


def test_routing_a_shipped_order_by_hand_is_refused_in_words(manager):
    data.add_order("SO-2", status="SHIPPED")
    response = manager.post("/routing/orders/SO-2", data={"outcome": "WMS"})
    assert response.status_code == 409
    assert "can no longer change" in response.get_data(as_text=True)


@pytest.fixture
def protected(sqlite_url):
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        _seed_basics()
        yield app
    app.extensions["wms.engine"].dispose()


def test_with_csrf_on_a_rule_posted_without_its_token_changes_nothing(protected):
    client = protected.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    client.post("/login", data={"username": "manager", "password": PASSWORD, "csrf_token": token})
    assert client.post("/routing/rules", data=RULE).status_code == 400
    assert rules() == []
    page = client.get("/routing/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/routing/rules", data={**RULE, "csrf_token": token}).status_code == 302
    assert [r["name"] for r in rules()] == ["Pilot"]
