"""An admin keeps the reason codes on a phone: every form of the page (add, rename, retire, make
active again, delete) is walked with hostile values, as tests/browser/test_every_form_refuses_hostile_values.py
walks a manager's forms (that walk signs in as a manager, who cannot open this page): every answer
in words, never a 5xx nor an exception's text, phone-wide; a refusal changes nothing; no value a
code or label can never take is stored."""
from __future__ import annotations

from contextlib import closing

from app import db, reason_codes
from tests.browser import test_every_form_refuses_hostile_values as walking
from tests.browser.conftest import sign_in_page

FORMS = {"/reason-codes/", "/reason-codes/label", "/reason-codes/retire", "/reason-codes/reactivate",
         "/reason-codes/delete"}


def test_every_reason_code_form_refuses_hostile_values_in_words_on_a_phone(live_wms, phone, sqlite_url, monkeypatch):
    server, app = live_wms
    with app.app_context():  # a retired code, so that the forms for retired codes are on the page too
        db.atomic(reason_codes.add, code="typo", label="Typo")
        db.atomic(reason_codes.set_active, "typo", False)
    monkeypatch.setitem(walking.BASE_VALUES, "/reason-codes/", {"code": "walk-{n}", "label": "Walked reason"})
    sign_in_page(phone, server.url, "admin")
    with closing(walking.Database(app, sqlite_url)) as database:
        walk = walking.Walk(phone, server.url, database)
        url = f"{server.url}/reason-codes/"
        seen = len(walk.responses)
        response = phone.goto(url, wait_until="domcontentloaded")
        walk.look("GET /reason-codes/", seen, response.status)
        forms = {}
        for found in phone.evaluate(walking.FORMS_JS):
            form = walking.Form.read(url, found)
            if form.action in FORMS:
                forms.setdefault(form.signature, form)
        assert {form.action for form in forms.values()} == FORMS
        for form in sorted(forms.values(), key=lambda f: f.action == "/reason-codes/delete"):
            walking.walk_form(walk, form)
    assert walk.problems == [], (f"{len(walk.problems)} problems in {walk.steps} submissions:\n"
                                 + "\n".join(walk.problems))
    with app.app_context(), db.reading() as session:
        kept = {row.code: row for row in reason_codes.list_codes(session)}
    assert {"found", "damaged", "lost", "correction", "count", "expired", "returned", "typo"} <= set(kept)
    assert all(len(code) <= 32 and len(row.label) <= 100 for code, row in kept.items())
