"""Every page a role can reach, opened one after another in one browser page: shared by the browser
tests that check something on every page (tests/browser/test_every_page_fits_360.py for layout,
tests/browser/test_accessibility.py for axe-core).

The pages are those found by following links from the home page (as the hostile-form walk finds its
forms), plus every GET route of the app that needs no argument; one page per shape of address (ids,
SKUs and order numbers as {}, and the names of the query's fields).
"""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

SKIPPED = ("/static/", "/api/", "/webhooks/", "/logout", "/sw.js", "/manifest", "/_sim/")
NOT_PAGES = ("/label/pdf",)  # the label PDF: the browser's own viewer, opened in a tab to print
PAGE_LIMIT = 150  # pages per role (one per shape of address)


def shape(path: str) -> str:
    """A path with every segment that holds a digit (an id, a SKU, an order number) as {}."""
    return "/".join("{}" if any(c.isdigit() for c in segment) else segment for segment in path.split("/"))


def routes_without_arguments(app) -> list[str]:
    """Every GET page of the app that needs nothing in its address."""
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.rule.startswith(SKIPPED):
            continue
        found.append(rule.rule)
    return sorted(set(found))


def visit(page, url: str) -> tuple[int, str]:
    """Open a page: (status, what it is: "page", or the content type of anything else, htmx's
    fragments included)."""
    response = page.goto(url, wait_until="domcontentloaded")
    kind = response.headers.get("content-type", "")
    if "text/html" in kind and response.text().lstrip()[:15].lower() == "<!doctype html>":
        kind = "page"
    return response.status, kind


def walk(page, base: str, app, role: str, problems: list[str], check: Callable[[str], None],
         limit: int = PAGE_LIMIT) -> set[str]:
    """Open every page the signed-in role reaches and call check(path) on each while it is shown;
    a page that answers 5xx is a problem. Returns the paths opened (with their query)."""
    queue = [base + "/"] + [base + path for path in routes_without_arguments(app)]
    seen, opened = set(), set()
    while queue and len(seen) < limit:
        url = queue.pop(0)
        parts = urlsplit(url)
        key = (shape(parts.path), tuple(sorted({name for name, _ in parse_qsl(parts.query)})))
        if key in seen:
            continue
        seen.add(key)
        status, kind = visit(page, url)
        if status >= 500:
            problems.append(f"{role} {parts.path}: HTTP {status}")
            continue
        if status >= 400 or kind != "page":
            continue  # a page the role may not open, or no page (a fragment htmx fetches, a file)
        opened.add(parts.path + (f"?{parts.query}" if parts.query else ""))
        check(parts.path + (f"?{parts.query}" if parts.query else ""))
        for href in page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)"):
            target = urlsplit(href)
            if (target.netloc == parts.netloc and not target.path.startswith(SKIPPED)
                    and not target.path.endswith(NOT_PAGES)):
                queue.append(href.split("#")[0])
    return opened
