"""CSRF: with protection on, a form POST or an htmx POST without the token is refused (400) and
changes nothing; with the form field or htmx's X-CSRFToken header it goes through."""
import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import Movement, Product
from app.warehouses import create_location, get_warehouse
from tests.conftest import PASSWORD, _seed_basics, make_app

MOVE = {"from_location": "A-01", "product": "SKU-1", "quantity": "1", "to_location": "B-01"}


@pytest.fixture
def protected_app(sqlite_url):
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        _seed_basics()

        def build(session):
            site = get_warehouse(session)
            create_product(session, sku="SKU-1", name="Blue widget")
            create_location(session, warehouse=site, code="A-01", type="storage")
            create_location(session, warehouse=site, code="B-01", type="storage")

        db.atomic(build)
        db.atomic(adjust_stock, sku="SKU-1", location="A-01", quantity=5, reason="found")
        yield app
    app.extensions["wms.engine"].dispose()


def token_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def signed_in(protected_app):
    """A manager signed in through the real form (the login form carries its own token)."""
    client = protected_app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "manager", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def movements() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Movement)).one()


def products() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Product)).one()


def test_a_form_post_without_the_token_is_refused_and_changes_nothing(signed_in):
    response = signed_in.post("/products/new", data={"sku": "SKU-2", "name": "Red gadget"})
    assert response.status_code == 400
    assert "the form expired" in response.get_data(as_text=True)
    assert products() == 1


def test_an_htmx_post_without_the_token_is_refused_and_changes_nothing(signed_in):
    response = signed_in.post("/moves/", data=MOVE, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "the form expired" in response.get_data(as_text=True)
    assert movements() == 1


def test_a_wrong_token_is_refused(signed_in):
    response = signed_in.post("/moves/", data=MOVE, headers={"HX-Request": "true", "X-CSRFToken": "forged"})
    assert response.status_code == 400
    assert movements() == 1


def test_a_form_post_with_the_token_field_works(signed_in):
    token = token_from(signed_in.get("/products/new").get_data(as_text=True))
    response = signed_in.post("/products/new", data={"sku": "SKU-2", "name": "Red gadget", "csrf_token": token})
    assert response.status_code == 302
    assert products() == 2


def test_an_htmx_post_with_the_header_from_the_page_works(signed_in):
    page = signed_in.get("/moves/").get_data(as_text=True)
    header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    response = signed_in.post("/moves/", data=MOVE, headers={"HX-Request": "true", "X-CSRFToken": header_token})
    assert response.status_code == 200
    assert 'data-testid="flash-ok"' in response.get_data(as_text=True)
    assert movements() == 2
