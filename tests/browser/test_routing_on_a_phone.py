"""The routing pages on a 360 px phone: the rule list (long names, many SKUs), a rule's edit page,
a refusal under its field, the tester's answer, and an order's page with its route form fit
without sideways scrolling, every button and field big enough for a thumb (a screenshot of each
under the test artifacts)."""
from __future__ import annotations

from app import db
from app.outbound import routing
from tests import orders_data as data
from tests.browser.conftest import sign_in_page
from tests.browser.test_inbound_on_a_phone import snap
from tests.support.layout import TOO_SMALL

LONG_NAME = "Auckland pilot for the Shopify channel and the big mugs"
SKUS = [f"MUG-LONG-SKU-{n:06d}" for n in range(30)]


def problems_on(page, what: str) -> list[str]:
    """What does not fit on the page as it is now (a screenshot of it under the test artifacts)."""
    snap(page, "routing-" + what.strip("/").replace("/", "-").replace("<", "").replace(">", "").replace(" ", "-"))
    found = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 360:
        found.append(f"{what}: {width} px wide")
    found += [f"{what}: {height:.0f} px tall {html}" for html, height in page.evaluate(TOO_SMALL)]
    return found


def test_the_routing_pages_fit_a_360_px_phone(live_wms, small_phone):
    server, app = live_wms
    with app.app_context():
        rules = db.atomic(routing.replace_rules, [
            {"name": LONG_NAME, "match": {"warehouse": "MAIN", "country": "nz", "skus_any": SKUS},
             "outcome": "WMS"},
            {"name": "Rest", "enabled": False, "match": {}, "outcome": "STARSHIPIT"},
        ])
        data.add_order("SO-PHONE-1", lines=((SKUS[0], 1),))
    page = small_phone
    sign_in_page(page, server.url, "manager")
    problems = []
    page.goto(server.url + "/routing/")
    problems += problems_on(page, "/routing/")
    page.fill("#tester input[name=order_number]", "SO-PHONE-1")
    page.click("#tester button[type=submit]")
    assert "by rule" in page.inner_text("[data-testid=routing-answer]")
    problems += problems_on(page, "/routing/test")
    page.fill("#add-rule input[name=name]", "")
    page.eval_on_selector("#add-rule", "form => form.noValidate = true")
    page.click("#add-rule button[type=submit]")
    assert "name is required" in page.inner_text("#add-rule [data-testid=field-error]")
    problems += problems_on(page, "/routing/rules refused")
    page.goto(server.url + f"/routing/rules/{rules[0]['id']}/edit")
    problems += problems_on(page, "/routing/rules/<id>/edit")
    page.goto(server.url + "/order/SO-PHONE-1")
    problems += problems_on(page, "/order/SO-PHONE-1")
    page.select_option("[data-testid=reroute] select", "WMS")
    page.click("[data-testid=reroute] button[type=submit]")
    assert "by hand" in page.inner_text("[data-testid=order-route]")
    assert problems == []
