"""Shared fixtures: real SQLite and PostgreSQL databases built by the migrations, an app per test,
signed-in clients per role, an API client with a bearer token.

PostgreSQL: TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) names a server
and an existing database to connect to; each test run makes its own database beside it, migrated
once, and empties every table between tests.
"""
from __future__ import annotations

import functools
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel
from werkzeug.security import generate_password_hash

from app import accounts, create_app, db
from app.accounts import create_token, create_user
from app.migrate import upgrade
from app.warehouses import create_warehouse
from tests.support.emptying import empty_tables

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct-horse-battery"
DEFAULT_TEST_DATABASE = os.environ.get("WMS_TEST_DATABASE", "sqlite")
assert DEFAULT_TEST_DATABASE in ("sqlite", "postgres"), "WMS_TEST_DATABASE is sqlite or postgres"
ROLES = ("picker", "manager", "admin")
_REAL_HASH_PASSWORD = accounts.hash_password
TEST_SCRYPT = "scrypt:1024:8:1"  # N, r, p: see _hash_once


# The longest test files first: scripts/test.sh runs two files at a time, and a long file collected
# late ran alone at the end (the hostile-form walk took the last 6 minutes of a 20-minute run).
LONGEST_FIRST = (
    "tests/browser/test_every_form_refuses_hostile_values.py",
    "tests/browser/test_accessibility.py",
    "tests/browser/test_every_page_fits_360.py",
    "tests/test_api_schemathesis.py",
    "tests/test_e2e_starshipit.py",
    "tests/test_ledger_stateful.py",
    "tests/browser/test_scan_bursts.py",
    "tests/test_allocation_concurrency.py",
)


def pytest_collection_modifyitems(config, items):
    first = {name: rank for rank, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: first.get(Path(str(item.fspath)).relative_to(config.rootpath).as_posix(), len(first)))


def _admin_engine():
    return create_engine(db.make_engine(POSTGRES_URL).url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "wms.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_database():
    """A database of this test run's own on the PostgreSQL server, migrated once."""
    name = f"wms_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    _SEEDED[url] = _seeded_rows(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# The rows the migrations seed (the reason codes of 0005), per database: put back after each emptying,
# so that every test starts from the database as migrated, as on SQLite.
_SEEDED: dict[str, dict] = {}


def _seeded_rows(url: str) -> dict:
    engine = db.make_engine(url)
    with engine.connect() as connection:
        rows = {table: [dict(row._mapping) for row in connection.execute(table.select())]
                for table in SQLModel.metadata.sorted_tables}
    engine.dispose()
    return {table: found for table, found in rows.items() if found}


@pytest.fixture
def postgres_url(postgres_database) -> str:
    engine = db.make_engine(postgres_database)
    with engine.begin() as connection:
        empty_tables(connection, SQLModel.metadata.sorted_tables)
        for table, rows in _SEEDED.get(postgres_database, {}).items():
            connection.execute(table.insert(), rows)
    engine.dispose()
    return postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


class IsolatedClient(FlaskClient):
    """A test client whose every request gets a fresh app context (and so a fresh `g`),
    as in production, even while a test holds an app context open around it."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@contextmanager
def flushed_redis(url: str):
    """A connection to a Redis database emptied before and after (each test file that needs Redis
    has a database number of its own)."""
    from redis import Redis

    connection = Redis.from_url(url)
    connection.flushdb()
    try:
        yield connection
    finally:
        connection.flushdb()
        connection.close()


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "LOGIN_RATE_LIMIT": "1000 per minute",
        # Sign-in attempts are counted in the test's own database, as in production without
        # Redis (even for an app given a REDIS_URL: the Redis storage's tests ask for it).
        "RATELIMIT_STORAGE_URI": "database://",
        "REDIS_URL": None,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app(request):
    """The app on the default test database: SQLite, or PostgreSQL when WMS_TEST_DATABASE=postgres
    (scripts/test.sh runs the page and API tests a second time that way)."""
    app = make_app(request.getfixturevalue(f"{DEFAULT_TEST_DATABASE}_url"))
    with app.app_context():
        _seed_basics()
        yield app
    app.extensions["wms.engine"].dispose()


@pytest.fixture
def any_db_app(database_url):
    """The app on SQLite and on PostgreSQL, in turn."""
    app = make_app(database_url)
    with app.app_context():
        _seed_basics()
        yield app
    app.extensions["wms.engine"].dispose()


def _seed_basics(*, production_cost: bool = False):
    """A default warehouse and one user per role. Their password is hashed once per test process,
    with scrypt at a test's cost (`_hash_once`), so that signing in still takes the production
    path (check_password_hash reads the cost from the stored hash) without scrypt's 0.1 s a try.
    `production_cost` hashes at werkzeug's own cost, for a test whose sign-ins must take as long as
    real ones (tests/test_sign_in_limit.py: ten at once spread over gunicorn's workers)."""

    def seed(session):
        create_warehouse(session, code="MAIN", name="Main warehouse")
        for role in ROLES:
            create_user(session, username=role, password=PASSWORD, role=role)

    with patch.object(accounts, "hash_password", functools.partial(_hash_once, production_cost=production_cost)):
        db.atomic(seed)


@functools.cache
def _hash_once(password: str, production_cost: bool) -> str:
    """TEST_SCRYPT is scrypt with N = 2**10 instead of werkzeug's 2**15 (about 100 ms a check here):
    tests sign in 1,000s of times, and what a check costs is not what they prove. Users made by
    accounts.create_user outside `_seed_basics` get the production cost (tests/test_auth.py), and
    `production_cost` asks accounts.hash_password itself, whatever it uses."""
    if production_cost:
        return _REAL_HASH_PASSWORD(password)
    return generate_password_hash(password, method=TEST_SCRYPT)


@pytest.fixture
def client(app):
    return app.test_client()


def sign_in(client, role: str = "picker"):
    response = client.post("/login", data={"username": role, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def picker(app):
    return sign_in(app.test_client(), "picker")


@pytest.fixture
def manager(app):
    return sign_in(app.test_client(), "manager")


@pytest.fixture
def admin(app):
    return sign_in(app.test_client(), "admin")


class ApiClient:
    """The Flask test client with a bearer token on every request."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.client.post(path, json=json, headers=self.headers, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.client.put(path, json=json, headers=self.headers, **kwargs)

    def delete(self, path, **kwargs):
        return self.client.delete(path, headers=self.headers, **kwargs)


@pytest.fixture
def api(app):
    token = db.atomic(create_token, "tests")
    return ApiClient(app.test_client(), token)
