"""Where the keyboard's focus is, as the browser tests check it.

A page's `autofocus` lands at the browser's next rendering step, which on a busy machine can come
after the load event Playwright waits for; a field focused by htmx lands when its swap settles. So a
test waits for the field it expects, up to Playwright's `expect` timeout, and a failure names the
element that has the focus instead."""
from __future__ import annotations

from playwright.sync_api import expect


def assert_focus_on(page, name: str) -> None:
    """The field named `name` has the keyboard's focus (now, or within `expect`'s timeout)."""
    expect(page.locator(":focus"), f"the focus should be on the field named {name!r}").to_have_attribute("name", name)
