"""The rules about users that need no database (app.accounts): the password rule the pages and the
CLI share, roles and user names as typed, the passwords the app makes, and when a change of role or
status is refused (nobody demotes or deactivates themselves; the last active admin stays one)."""
from __future__ import annotations

import re

import pytest

from app import accounts, bounds
from app.errors import ValidationFailed


@pytest.mark.parametrize("password", ["eight ch", "correct horse battery staple", " spaced out ", "Ωжß語🙂Ωжß",
                                      "x" * bounds.PASSWORD_MAX])
def test_a_password_of_8_to_200_visible_characters_is_kept_as_typed(password):
    assert accounts.check_password(password) == password  # spaces kept: they are the person's


@pytest.mark.parametrize(("password", "words"), [
    ("", "at least 8 characters"),
    ("seven c", "at least 8 characters"),
    ("-1", "at least 8 characters"),
    ("x" * (bounds.PASSWORD_MAX + 1), "at most 200 characters; that one has 201"),
    ("W" * 5000, "that one has 5,000"),
    ("long enough\x00", "control character"),
    ("long enough\x1b", "control character"),
    ("long\nenough", "control character"),
    (" " * 12, "only spaces"),
    (None, "must be text"),
    (12345678, "must be text"),
])
def test_a_password_outside_the_rule_is_refused_in_words(password, words):
    with pytest.raises(ValidationFailed, match=words) as refused:
        accounts.check_password(password)
    assert refused.value.field == "password"


@pytest.mark.parametrize(("typed", "role"), [("picker", "picker"), (" Manager ", "manager"), ("ADMIN", "admin")])
def test_a_role_is_read_in_any_case(typed, role):
    assert accounts.check_role(typed) == role


@pytest.mark.parametrize("typed", ["", "owner", "admin\x00", "W" * 5000, None, 3])
def test_a_role_that_does_not_exist_is_refused(typed):
    with pytest.raises(ValidationFailed, match="role must be one of picker, manager, admin"):
        accounts.check_role(typed)


def test_a_user_name_is_kept_in_lower_case_and_bounded():
    assert accounts.check_username("  Dana.Smith ") == "dana.smith"
    for typed, words in (("", "required"), ("two words", "spaces"), ("x" * 65, "at most 64"), ("a\x00b", "control")):
        with pytest.raises(ValidationFailed, match=words):
            accounts.check_username(typed)


def test_a_made_password_is_three_groups_of_four_unmistakable_characters_and_passes_the_rule():
    made = {accounts.make_password() for _ in range(200)}
    assert len(made) == 200
    for password in made:
        assert re.fullmatch(r"[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){2}", password)
        assert accounts.check_password(password) == password


def refusal(**facts):
    given = dict(username="dana", by_self=False, is_active_admin=True, stays_active_admin=False,
                 other_active_admins=1, change="deactivate")
    return accounts.admin_change_refusal(**{**given, **facts})


def test_an_admin_may_deactivate_or_demote_another_admin_while_one_stays():
    assert refusal() is None
    assert refusal(change="demote") is None


def test_nobody_deactivates_or_demotes_themselves_even_with_other_admins():
    assert refusal(by_self=True, other_active_admins=5) == "you cannot deactivate yourself: another admin must do it"
    assert refusal(by_self=True, change="demote") == ("you cannot take away your own admin role: another admin must "
                                                       "do it")


def test_the_last_active_admin_is_never_deactivated_nor_demoted():
    assert refusal(other_active_admins=0) == ("dana is the last active admin and cannot be deactivated: make another "
                                              "user admin first")
    assert refusal(other_active_admins=0, change="demote") == ("dana is the last active admin and must stay an admin: "
                                                               "make another user admin first")


def test_changes_that_lose_no_admin_are_never_refused():
    assert refusal(is_active_admin=False, other_active_admins=0) is None  # a picker, a manager, an inactive admin
    assert refusal(by_self=True, stays_active_admin=True, other_active_admins=0) is None  # admin stays admin


def test_a_refusal_echoes_a_name_cut_to_a_readable_length():
    words = refusal(username="x" * 500, other_active_admins=0)
    assert len(words) < 200 and "…" in words
