"""The order page: what each line holds and where, and a manager's "Allocate now" on a WMS order
(POST with its CSRF token, the role checked on the server, refusals in words)."""
from __future__ import annotations

import re

from sqlmodel import select

from app import db
from app.models import Allocation
from tests.conftest import PASSWORD, _seed_basics, make_app
from tests.test_allocation import floor, wms_order


def test_a_manager_allocates_a_wms_order_from_its_page_and_sees_where_it_is_held(app, manager):
    floor([("SKU-A", "P-01", 1), ("SKU-A", "S-01", 5)])
    wms_order("SO-1", [("SKU-A", 3)])
    page = manager.get("/order/SO-1").get_data(as_text=True)
    assert 'data-testid="allocate"' in page and "Allocate now" in page
    response = manager.post("/order/SO-1/allocate")
    assert response.status_code == 302 and response.headers["Location"].endswith("/order/SO-1")
    page = manager.get("/order/SO-1").get_data(as_text=True)
    assert "Order SO-1 is allocated." in page
    assert re.search(r'data-testid="allocated-at">P-01 × 1, S-01 × 2<', page)
    assert 'data-testid="allocate"' not in page or "ALLOCATED" in page


def test_awaiting_stock_is_said_in_words(app, manager):
    floor()
    wms_order("SO-1", [("SKU-B", 2)])
    page = manager.post("/order/SO-1/allocate", follow_redirects=True).get_data(as_text=True)
    assert "awaiting stock (SKU-B)" in page and "AWAITING STOCK" in page


def test_pickers_see_no_button_and_are_refused_on_the_server(app, picker):
    floor([("SKU-A", "P-01", 5)])
    wms_order("SO-1")
    assert 'data-testid="allocate"' not in picker.get("/order/SO-1").get_data(as_text=True)
    assert picker.post("/order/SO-1/allocate").status_code == 403
    with db.reading() as session:
        assert session.exec(select(Allocation)).first() is None


def test_no_button_for_a_starshipit_or_shipped_order_and_a_forced_post_is_refused_in_words(app, manager):
    floor([("SKU-A", "P-01", 5)])
    wms_order("SO-S", route="STARSHIPIT")
    wms_order("SO-X", status="SHIPPED")
    for number in ("SO-S", "SO-X"):
        assert 'data-testid="allocate"' not in manager.get(f"/order/{number}").get_data(as_text=True)
    response = manager.post("/order/SO-S/allocate")
    assert response.status_code == 409
    assert "routed STARSHIPIT" in response.get_data(as_text=True)
    assert manager.post("/order/NOPE/allocate").status_code == 404


def test_the_button_posts_its_csrf_token_and_a_post_without_it_is_refused(sqlite_url):
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        _seed_basics()
        floor([("SKU-A", "P-01", 5)])
        wms_order("SO-1")
        client = app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        client.post("/login", data={"username": "manager", "password": PASSWORD, "csrf_token": token})
        page = client.get("/order/SO-1").get_data(as_text=True)
        form = page[page.index('data-testid="allocate"'):]
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        assert client.post("/order/SO-1/allocate").status_code == 400
        with db.reading() as session:
            assert session.exec(select(Allocation)).first() is None
        assert client.post("/order/SO-1/allocate", data={"csrf_token": token}).status_code == 302
        with db.reading() as session:
            assert session.exec(select(Allocation)).first().quantity == 1
    app.extensions["wms.engine"].dispose()
