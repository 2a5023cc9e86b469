"""The `wms` command keeps users and tokens with the same use cases as the admin pages: a forgotten
admin password reset from the command line, the last active admin kept, a token listed (never shown)
and revoked."""
from __future__ import annotations

import re

from app import db
from app.accounts import issue_token
from tests.conftest import make_app
from tests.test_cli import wms


def test_the_command_line_resets_a_password_and_keeps_the_last_admin(sqlite_url):
    assert wms(sqlite_url, "create-user", "boss", "--role", "admin", "--password", "first-password").returncode == 0

    for refused in (("deactivate-user", "boss"), ("set-role", "boss", "manager")):
        result = wms(sqlite_url, *refused)
        assert result.returncode != 0
        assert "boss is the last active admin" in result.stderr

    made = wms(sqlite_url, "reset-password", "Boss")
    assert made.returncode == 0, made.stderr
    password = re.fullmatch(r"new password for boss: (\S+)\n", made.stdout).group(1)
    unknown = wms(sqlite_url, "reset-password", "nobody", "--password", "whatever-long")
    assert unknown.returncode != 0 and "there is no user nobody" in unknown.stderr
    short = wms(sqlite_url, "reset-password", "boss", "--password", "short")
    assert short.returncode != 0 and "at least 8 characters" in short.stderr

    app = make_app(sqlite_url)
    client = app.test_client()
    assert client.post("/login", data={"username": "boss", "password": "first-password"}).status_code == 401
    assert client.post("/login", data={"username": "boss", "password": password}).status_code == 302
    app.extensions["wms.engine"].dispose()


def test_the_command_line_lists_tokens_without_showing_them_and_revokes_one(sqlite_url):
    app = make_app(sqlite_url)
    with app.app_context():
        issued = db.atomic(issue_token, "shop-sync")
    listed = wms(sqlite_url, "list-tokens")
    assert listed.returncode == 0, listed.stderr
    assert re.fullmatch(rf"{issued.id}\tactive\t\S+ \S+\tnever\tshop-sync\n", listed.stdout)
    assert issued.token not in listed.stdout

    revoked = wms(sqlite_url, "revoke-token", str(issued.id))
    assert revoked.returncode == 0 and f"token {issued.id} (shop-sync) is revoked" in revoked.stdout
    again = wms(sqlite_url, "revoke-token", str(issued.id))
    assert again.returncode != 0 and "already revoked" in again.stderr
    assert "\trevoked\t" in wms(sqlite_url, "list-tokens").stdout

    answer = app.test_client().get("/api/v1/warehouses", headers={"Authorization": f"Bearer {issued.token}"})
    assert answer.status_code == 401
    app.extensions["wms.engine"].dispose()
