"""A manager walks every form the pages offer, on a phone, and types hostile values into each field
in turn: numbers too large, negative and not numbers at all, nothing, 5,000 characters (plain and an
unbroken Unicode run), a NUL and an escape character. Every answer is a page or a partial in words,
never a 5xx nor a Python exception's text; no page grows wider than the phone; a refusal changes
nothing; no value a field can never take is stored; stock changes only for values the warehouse
accepts, and the ledger stays whole.

The forms are found by following the links a manager can follow from the home page, not listed by
hand (MUST_REACH only proves the walk reached the forms that must be there). The browser's own
checks (maxlength, required, type=number, pattern) are taken off first, as any client can: the
server's answers are what is tested. One exception: an address too long for gunicorn (its own bare
414 or 431 page) is fine when the field's maxlength would have stopped a person, or the field is a
forged option or hidden field, as only a forged request gets there. One browser page is used
throughout: the next value goes into the form as the last answer left it when the form is still
there, as a person would go on. The WMS runs under gunicorn on SQLite, as in production.
"""
from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import text as sql

from app import bounds, db, ledger, settings_store
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import LabelJob
from app.orders import inbox
from app.orders.discrepancies import raise_discrepancy
from app.orders.payloads import read_webhook
from app.warehouses import create_location, get_warehouse
from tests.browser.conftest import PHONE, sign_in_page
from tests.support.processes import free_port

WIDTH = PHONE["width"] + 1  # a pixel of rounding

LONG_W = "W" * 5000
LONG_UNICODE = "Ωжß語🙂" * 1000  # 5,000 characters without a place to break
NUL = "A\x00B"
ESCAPE = "A\x1bB"
NUMBER_VALUES = ["9223372036854775807", "-1", "1e20", "NaN", "abc", "", LONG_W, LONG_UNICODE, NUL, ESCAPE]
TEXT_VALUES = ["", "-1", "9223372036854775807", LONG_W, LONG_UNICODE, NUL, ESCAPE]
CHOICE_VALUES = ["", LONG_W, NUL]  # a select's option or a hidden field, forged
# No field of any form may store these; what shows that one was stored.
NEVER_STORED = {LONG_W: LONG_W[:200], LONG_UNICODE: LONG_UNICODE[:200], NUL: "\x00", ESCAPE: "\x1b"}

# What a Python exception looks like on a page: a traceback, a driver's name, a class name.
EXCEPTION_TEXT = re.compile(
    r"(?i:traceback|psycopg|sqlalchemy|sqlite3)|Error:|\b[A-Z][A-Za-z]*(?:Error|Exception|Failed)\b"
)
WORDS = "[data-testid=field-error], [data-testid=flash-error], [data-testid^=error-], [data-testid=import-report]"
LONGEST_MESSAGE = 400  # characters: an echo of what was typed is cut short (bounds.shown)

SKU = "SKU-WALK-1"
EDITED_SKU = "AAA-EDIT-1"  # first in the product list: the edit page the walk finds
SHELF = "A-01-01-01"
PICK_FACE = "A-01-01-02"
EDITED_BIN = "A-00-00-01"  # first in the location list: the edit page the walk finds
DISCREPANCIES = 8
# -- outbound (issue 9): a product and a bin of their own, so that the orders' allocations never touch
#    the stock the other forms move; a tote per order (build_outbound) --
OUT_SKU = "SKU-WALK-OUT"
OUT_BIN = "B-01-01-01"
TOTES = {"SO-WALK-TOTES": "TOTE-WALK-A", "SO-WALK-PICKING": "TOTE-WALK-B", "SO-WALK-PICKED": "TOTE-WALK-C",
         "SO-WALK-PACKED": "TOTE-WALK-D"}

# The forms the walk must reach (their actions, ids as {}); it may find more.
MUST_REACH = {
    "/products/", "/products/new", "/products/{}/edit", "/products/import",
    "/locations/", "/locations/new", "/locations/{}/edit", "/locations/warehouses", "/locations/labels",
    "/inventory/", "/inventory/locations", "/inventory/history", "/inventory/adjust", "/moves/",
    "/orders/live", "/orders/discrepancies/{}/resolve", "/orders/failed-events/{}/retry",
    "/orders/failed-events/{}/dismiss", "/admin/settings", "/admin/settings/test",
    # -- replenishment (issue 8) --
    "/replenishment/rules", "/replenishment/rules/import", "/replenishment/rules/check",
    "/replenishment/rules/{}/remove", "/replenishment/tasks/{}/complete",
}
# -- stocktakes (issue 8): opening counts, suggestions, the count pages, review and approval --
MUST_REACH |= {"/stocktakes/", "/stocktakes/suggestions", "/count/go", "/count/{}", "/count/{}/close",
               "/stocktakes/{}/recount", "/stocktakes/{}/approve", "/stocktakes/{}/cancel"}
# -- warehouses (issue 8): the header's warehouse switcher, on every page once there are two --
MUST_REACH |= {"/warehouse"}
# -- warehouse time zone (issue 10): each warehouse's time zone form on the warehouses page --
MUST_REACH |= {"/locations/warehouses/MAIN/time-zone"}
# -- purchase orders (issue 8): the list, create, import; a draft's pages and a partly received one's (PO
# numbers without digits, so that the walk opens both) --
MUST_REACH |= {"/purchase-orders/", "/purchase-orders/new", "/purchase-orders/import",
               "/purchase-order/PO-WALK-DRAFT/edit", "/purchase-order/PO-WALK-DRAFT/open",
               "/purchase-order/PO-WALK-DRAFT/cancel", "/purchase-order/PO-WALK-PART/close"}
# -- outbound routing (issue 9): the rules' forms, the tester, and an order's route form --
MUST_REACH |= {"/routing/rules", "/routing/test", "/routing/rules/{}/edit", "/routing/rules/{}/up",
               "/routing/rules/{}/down", "/routing/rules/{}/enable", "/routing/rules/{}/disable",
               "/routing/rules/{}/delete", "/routing/orders/{}"}
# -- outbound (issue 9): a pick job's tote form (SO-WALK-TOTES: its tote not scanned yet) and another's
# pick and short forms (SO-WALK-PICKING), taking a job, releasing jobs; a picked order's packing forms
# (scan an item, Pack and print); a packed order's label page (Retry of its failed reprint, Reprint);
# the box sizes' forms --
MUST_REACH |= {"/picking/{}/totes", "/picking/{}/pick", "/picking/{}/short", "/picking/{}/take", "/picking/release",
               "/packing/", "/packing/SO-WALK-PICKED/scan", "/packing/SO-WALK-PICKED/pack",
               "/order/SO-WALK-PACKED/label/retry", "/order/SO-WALK-PACKED/label/reprint",
               "/package-sizes/", "/package-sizes/{}/edit", "/package-sizes/{}/retire"}
# -- problem reports (issue 10): a picker's report form (the manager's home links it too) --
MUST_REACH |= {"/problems/new"}
NOT_WALKED = {"/logout"}
# Pages opened each, not once per shape of address: a pick job's page shows the tote form until its
# totes are scanned, then the stop with the pick and short forms.
EACH_PAGE = {"/picking/{}"}
# Links to what is no page of ours: the label PDF (the browser's own PDF viewer, no form, not laid out
# for a phone: the label page opens it in a tab of its own to print).
NOT_PAGES = ("/label/pdf",)

# Forms that change stock, and which hostile values each field may take with the rest valid (each
# such submission posts exactly one movement); every other value must post none.
STOCK_FORMS = {
    "/inventory/adjust": {"quantity": {"-1"}, "reference": {"", "-1", "9223372036854775807"}},
    "/moves/": {},
    "/orders/discrepancies/{}/resolve": {"note": {"-1", "9223372036854775807"}, "quantity": {"-1"}},
    "/replenishment/tasks/{}/complete": {},  # replenishment (issue 8): no hostile scan completes the task
    # -- picking (issue 9): a blank quantity is one unit (a scan), picked location -> tote; a short
    #    pick writes the book down, and no hostile value may --
    "/picking/{}/pick": {"quantity": {""}},
    "/picking/{}/short": {},
}
# Valid values for the other fields while one is hostile ({n}: a number new on each submission).
BASE_VALUES = {
    "/products/new": {"sku": "WALK-{n}", "name": "Walked product", "barcodes": "", "weight": "2"},
    "/locations/new": {"code": "WALK-{n}", "type": "storage", "zone": "W", "pick_sequence": "", "barcode": ""},
    "/locations/warehouses": {"code": "WH{n}", "name": "Walked warehouse"},
    "/inventory/adjust": {"location": SHELF, "product": SKU, "quantity": "1", "reason": "found", "reference": ""},
    "/moves/": {"from_location": SHELF, "product": SKU, "quantity": "1", "to_location": PICK_FACE},
    "/orders/discrepancies/{}/resolve": {"note": "Counted the shelf", "location": SHELF, "quantity": "1"},
    # -- stocktakes (issue 8): a scan of the walked product at the shelf being counted --
    "/count/{}": {"product": SKU, "quantity": "1"},
    # -- replenishment (issue 8): a task to fill PICK_FACE from SHELF, and a rule there --
    "/replenishment/tasks/{}/complete": {"from_location": SHELF, "product": SKU, "to_location": PICK_FACE},
    "/replenishment/rules": {"sku": SKU, "location": PICK_FACE, "min": "5", "max": "20"},
    # -- purchase orders (issue 8): a new order of one line of the walked product --
    "/purchase-orders/new": {"po_number": "PO-WALK-{n}", "supplier": "Walked supplier", "sku-0": SKU, "quantity-0": "1"},
    # -- outbound (issue 9): SO-WALK-PICKING's stop (500 units: the walk's valid picks never finish it);
    #    one unit found when its stop needs more (what a short is); one unit into the box; box sizes
    #    with a new name each --
    "/picking/{}/pick": {"location": OUT_BIN, "sku": OUT_SKU, "quantity": "1", "tote": TOTES["SO-WALK-PICKING"]},
    "/picking/{}/short": {"found": "1"},
    "/packing/SO-WALK-PICKED/scan": {"product": OUT_SKU, "quantity": "1"},
    "/package-sizes/": {"name": "Walked box {n}", "length_cm": "40", "width_cm": "30", "height_cm": "20",
                        "default_weight_kg": "1.5"},
    "/package-sizes/{}/edit": {"name": "Walked carton {n}", "length_cm": "40", "width_cm": "30", "height_cm": "20",
                               "default_weight_kg": "0.5"},
    # -- problem reports (issue 10): a report of one unit found at the shelf (it moves nothing until a
    #    manager approves it; the kind is a radio button, which the walk leaves as it is) --
    "/problems/new": {"location": SHELF, "product": SKU, "quantity": "1", "note": ""},
    # Another field wrong as well, so that a value passing its own check never reaches Starshipit.
    "/admin/settings": {"STARSHIPIT_API_URL": "not a web address"},
}
# What gunicorn answers itself when a request line or its headers are too long (limit_request_line
# 4094, limit_request_field_size 8190 bytes): a 5,000-character value in a GET form's address, or
# in the address htmx pushed and sends back as HX-Current-URL.
GUNICORN_LIMITS = {414: "414 URI Too Long", 431: "431 Request Header Fields Too Large"}
SUBMIT = "button[type=submit], button:not([type]), input[type=submit]"

FORMS_JS = """() => Array.from(document.forms).map((form, index) => {
  const skip = ['checkbox', 'radio', 'submit', 'button', 'reset', 'image'];
  const named = Array.from(form.elements).filter((el) => el.name && el.name !== 'csrf_token'
    && ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) && !skip.includes(el.type));
  const hx = form.getAttribute('hx-post') || form.getAttribute('hx-get');
  return {
    index,
    method: (form.getAttribute('hx-post') ? 'post' : hx ? 'get' : form.method).toLowerCase(),
    path: new URL(hx || form.action, location.href).pathname,
    htmx: !!hx,
    trigger: form.getAttribute('hx-trigger') || '',
    scan: form.hasAttribute('data-scan-form'),
    buttons: Array.from(form.querySelectorAll('""" + SUBMIT + """')).filter((b) => b.offsetParent !== null && !b.disabled).length,
    fields: named.map((el) => ({
      name: el.name, tag: el.tagName.toLowerCase(), type: el.type, inputmode: el.getAttribute('inputmode') || '',
      live: el.hasAttribute('hx-get'), maxlength: el.tagName === 'SELECT' ? null : el.maxLength, value: el.value,
    })),
  };
})"""

# Takes the browser's own checks off a form, opens its folded parts (and the folds it is in), marks it,
# sets values, and forgets earlier answers (htmx's, and messages and scans left on a page used again).
PREPARE_JS = """([index, values]) => {
  document.querySelectorAll('[data-walk]').forEach((el) => el.removeAttribute('data-walk'));
  document.querySelectorAll('""" + WORDS + """, #move-log li').forEach((el) => el.remove());
  if (window.scanner && window.scanner.held) window.scanner.acknowledge();  // a refusal holds the scan pages until OK
  const form = document.forms[index];
  form.setAttribute('data-walk', '1');
  form.noValidate = true;
  form.querySelectorAll('details').forEach((d) => { d.open = true; });
  for (let fold = form.closest('details'); fold; fold = fold.parentElement.closest('details')) fold.open = true;
  for (const el of form.elements) {
    ['maxlength', 'minlength', 'pattern', 'required', 'min', 'max', 'step'].forEach((a) => el.removeAttribute(a));
    if (el.tagName === 'INPUT' && ['number', 'url', 'email', 'date'].includes(el.type)) el.type = 'text';
  }
  for (const [name, value] of Object.entries(values)) {
    const el = form.elements[name];
    if (!el) continue;
    const known = el.tagName !== 'SELECT' || Array.from(el.options).some((o) => o.value === value);
    if (!known) el.add(new Option(value, value));
    el.value = value;
  }
  window.__walk = [];
}"""

# Every htmx answer, and whether it answered the form being walked.
WATCH_HTMX_JS = """
window.__walk = [];
document.addEventListener('htmx:afterRequest', (event) => {
  const config = event.detail.requestConfig || {};
  const elt = config.elt || event.detail.elt;
  window.__walk.push({mine: !!(elt && elt.closest && elt.closest('[data-walk]')), status: event.detail.xhr.status});
}, true);
"""

# What a person sees: the text, how wide the page is, and each message in words.
SEEN_JS = """(selector) => ({
  text: document.body ? document.body.textContent : '',
  width: document.documentElement.scrollWidth,
  messages: Array.from(document.querySelectorAll(selector))
    .filter((el) => el.getClientRects().length > 0)
    .map((el) => [el.getAttribute('data-testid'), el.innerText]),
})"""


def shape(path: str) -> str:
    """A path with every segment that holds a digit (an id, a SKU, an order number) as {}."""
    return "/".join("{}" if any(c.isdigit() for c in segment) else segment for segment in path.split("/"))


def said(value: str) -> str:
    """A value named in a report."""
    return f"{value[:12]!r}… ({len(value):,} characters)" if len(value) > 40 else repr(value)


@dataclass
class Form:
    page: str
    action: str  # the path it answers at, ids as {}
    method: str
    kind: str  # plain, live (a search box: Enter opens the full page), htmx, scan (the move page's queue)
    trigger: str
    buttons: int
    fields: list[dict]
    files: list[str] = field(default_factory=list)
    initial: dict = field(default_factory=dict)  # what its fields held when the walk found it

    @property
    def signature(self) -> str:
        return f"{self.method} {self.action} {','.join(f['name'] for f in self.fields)}"

    @classmethod
    def read(cls, page_url: str, found: dict) -> Form:
        kind = "scan" if found["scan"] else "htmx" if found["htmx"] else (
            "live" if any(f["live"] for f in found["fields"]) else "plain")
        fields = [f for f in found["fields"] if f["type"] != "file"]
        files = [f["name"] for f in found["fields"] if f["type"] == "file"]
        return cls(page_url, shape(found["path"]), found["method"], kind, found["trigger"], found["buttons"], fields,
                   files, {f["name"]: f["value"] for f in fields})


def value_set(form: Form, spec: dict) -> list[str]:
    if spec["tag"] == "select" or spec["type"] == "hidden":
        return CHOICE_VALUES
    if spec["type"] == "number" or spec["inputmode"] in ("numeric", "decimal"):
        return NUMBER_VALUES
    if form.files:  # a pasted CSV: each hostile value as the whole text, then in every column
        return TEXT_VALUES + [hostile_csv()]
    return TEXT_VALUES


def hostile_csv() -> str:
    """A header, rows each with one hostile cell, and one row far too wide."""
    rows = ["sku,name,barcodes,weight"]
    for n, value in enumerate(NUMBER_VALUES):
        cell = value.replace('"', '""')
        rows += [f'"{cell}",Hostile {n},,1', f'CSV-{n}-A,"{cell}",,1', f'CSV-{n}-B,Hostile,"{cell}",1',
                 f'CSV-{n}-C,Hostile,,"{cell}"']
    rows.append("CSV-WIDE,Too,many,fields," + LONG_W)
    return "\n".join(rows)


# ---- the warehouse the walk starts from ------------------------------------------------------


def build_floor(app) -> None:
    """Products, locations, stock, open discrepancies, two failed events, and a Starshipit URL on
    this machine where nothing listens (nothing the walk presses may reach the internet)."""
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku=SKU, name="Walked widget", barcodes=["9300000000011"], weight=1.5)
            create_product(session, sku=EDITED_SKU, name="Edited on the walk", weight=2)
            create_location(session, warehouse=site, code=EDITED_BIN, type="storage", zone="A", pick_sequence=0)
            create_location(session, warehouse=site, code=SHELF, type="storage", zone="A", pick_sequence=1)
            create_location(session, warehouse=site, code=PICK_FACE, type="pick", zone="A", pick_sequence=2)
            settings_store.save(session, "STARSHIPIT_API_URL", f"http://127.0.0.1:{free_port()}")

        db.atomic(build)
        db.atomic(adjust_stock, sku=SKU, location=SHELF, quantity=100, reason="found", reference="OPENING")

        def discrepancies(session):
            site = get_warehouse(session)
            for n in range(DISCREPANCIES):
                raise_discrepancy(session, sku=SKU, warehouse_id=site.id, quantity=2, cause="shortfall",
                                  reference=f"SO-{n + 1}")

        db.atomic(discrepancies)
        # -- warehouses (issue 8): a second warehouse, so that every page has the header's switcher --
        from app.warehouses import create_warehouse

        db.atomic(create_warehouse, code="WALK-NORTH", name="Walked second warehouse")
        # -- stocktakes (issue 8): an open blind count of SHELF and PICK_FACE, so the walk reaches the
        #    count pages (it closes the first location only: approval stays refused, cancel is walked) --
        from app.stocktakes import open_stocktake

        db.atomic(open_stocktake, locations=[SHELF, PICK_FACE])
        # -- replenishment (issue 8): min 5, max 20 at the empty PICK_FACE: an open task from SHELF --
        from app import replenishment

        replenishment.save_rule(sku=SKU, location=PICK_FACE, min=5, max=20)
        # -- purchase orders (issue 8): a draft, and an order late since 2001 with 2 of its 5 received --
        from app.inbound.purchase_orders import create_purchase_order
        from app.inbound.receiving import receive

        db.atomic(create_purchase_order, po_number="PO-WALK-DRAFT", supplier="Seeded", lines=[(SKU, 5)],
                  status="draft")
        db.atomic(create_purchase_order, po_number="PO-WALK-PART", supplier="Seeded", lines=[(SKU, 5)],
                  expected_at="2001-01-01")
        db.atomic(receive, po_number="PO-WALK-PART", location=SHELF, lines=[(SKU, 2)])
        for n in (1, 2):  # a line of 1e30 units: stored failed at once, as the webhook stores it
            order = {"order_id": 5000 + n, "order_number": f"SO-WALK-{n}", "status": "Unshipped",
                     "items": [{"sku": SKU, "quantity": 1e30}]}
            raw = json.dumps({"event": "order_created", "event_id": f"evt-walk-{n}",
                              "occurred_at": "2026-11-24T04:30:00Z", "order": order}).encode()
            incoming, _body = read_webhook(raw)
            db.atomic(inbox.store, incoming, raw.decode())
        # -- outbound routing (issue 9): two rules (one disabled), so the walk reaches each rule's forms,
        #    and a pending order, so it reaches the order page's route form --
        from app.outbound import routing
        from tests.orders_data import add_order

        db.atomic(routing.replace_rules, [
            {"name": "Walked pilot", "match": {"warehouse": "MAIN"}, "outcome": "WMS"},
            {"name": "Walked rest", "enabled": False, "match": {}, "outcome": "STARSHIPIT"},
        ])
        add_order("SO-WALK-ROUTE-9", lines=((SKU, 1),))
        build_outbound(app)


def arrive(number: str, quantity: int, order_id: int) -> None:
    """An order as Starshipit's webhook brings it: stored in the inbox and applied (routed WMS by the
    pilot rule, allocated in-process once applied)."""
    from app.orders import processing

    order = {"order_id": order_id, "order_number": number, "status": "Unshipped",
             "items": [{"sku": OUT_SKU, "quantity": quantity}]}
    raw = json.dumps({"event": "order_created", "event_id": f"evt-{number}", "occurred_at": "2026-11-24T04:30:00Z",
                      "order": order}).encode()
    incoming, _body = read_webhook(raw)
    event_id = db.atomic(inbox.store, incoming, raw.decode())
    assert processing.process(event_id) == "processed", number


def build_outbound(app) -> None:
    """Outbound (issue 9), through its use cases: OUT_SKU's 1,000 units at OUT_BIN, a box size, and
    four WMS orders, one tote each (every tote in use, so that a release on the walk finds none free):
    SO-WALK-TOTES in a pick job whose tote is not scanned yet (the tote form); SO-WALK-PICKING in a
    job whose tote is scanned, a stop of 500 units (the pick and short forms; the walk's valid picks
    never use it up); SO-WALK-PICKED picked in full (its packing page); SO-WALK-PACKED packed and
    labelled by the simulator, then reprinted against the port where nothing listens, which failed
    (its label page: Retry and Reprint). Order numbers without digits, so that the walk opens each
    order's page."""
    from app.outbound import labels, packing, picking
    from simulator import Simulator

    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku=OUT_SKU, name="Walked outbound widget", weight=1)
            create_location(session, warehouse=site, code=OUT_BIN, type="storage", zone="B", pick_sequence=3)
            for code in TOTES.values():
                create_location(session, warehouse=site, code=code, type="tote", zone="TOTES")
            labels.add_size(session, name="Walked carton", length_cm="40", width_cm="30", height_cm="20",
                            default_weight_kg="0.5")
            adjust_stock(session, sku=OUT_SKU, location=OUT_BIN, quantity=1000, reason="found", reference="OPENING")

        db.atomic(build)
        simulator = Simulator(seed=9).start()
        with db.reading() as session:
            dead_url = settings_store.effective(session, "STARSHIPIT_API_URL")
        try:
            db.atomic(settings_store.save, "STARSHIPIT_API_URL", simulator.url)
            created = httpx.post(f"{simulator.url}/_sim/orders", timeout=10,
                                 json={"order_number": "SO-WALK-PACKED", "items": [{"sku": OUT_SKU, "quantity": 1}]})
            created.raise_for_status()
            for number, quantity, order_id in (("SO-WALK-TOTES", 1, 6001), ("SO-WALK-PICKING", 500, 6002),
                                               ("SO-WALK-PICKED", 2, 6003),
                                               ("SO-WALK-PACKED", 1, created.json()["order"]["order_id"])):
                arrive(number, quantity, order_id)
                job = db.atomic(picking.create_pick_job, [number], "single", [TOTES[number]])
                if number == "SO-WALK-TOTES":
                    continue
                db.atomic(picking.confirm_tote, job["id"], TOTES[number])
                if number == "SO-WALK-PICKING":
                    continue
                db.atomic(picking.record_pick, job["id"], location=OUT_BIN, sku=OUT_SKU, quantity=quantity,
                          tote=TOTES[number])
            label = db.atomic(packing.pack_order, "SO-WALK-PACKED", items={OUT_SKU: 1},
                              package={"name": "Walked carton"})
        finally:
            db.atomic(settings_store.save, "STARSHIPIT_API_URL", dead_url)
            simulator.stop()
        reprint = db.atomic(labels.reprint_label, "SO-WALK-PACKED")
        with db.reading() as session:
            assert session.get(LabelJob, label.id).status == "done", session.get(LabelJob, label.id).error
            assert session.get(LabelJob, reprint.id).status == "failed"


TABLES = ("product", "product_barcode", "warehouse", "location", "setting", "stock_level", "movement", "allocation",
          "discrepancy", "inbox_event", "sales_order", "order_line")
TABLES += ("purchase_order", "purchase_order_line")  # purchase orders (issue 8)
TABLES += ("reason_code",)  # reason codes (issue 8; an admin's forms: tests/browser/test_reason_codes_on_a_phone.py)
TABLES += ("routing_rule",)  # outbound routing (issue 9)
TABLES += ("pick_job", "pick_tote", "pick_stop", "package_size", "label_job")  # outbound (issue 9)


class Database:
    """What the walk reads from the WMS's SQLite file: whether anything was committed since the
    last look (SQLite's data_version, on a connection of its own), the rows, the ledger."""

    def __init__(self, app, sqlite_url: str):
        self.app = app
        self.watch = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
        self._seen: tuple[int, dict, int] | None = None  # (version, rows, movements) as last read

    def snapshot(self) -> tuple[int, dict, int]:
        """(version, rows, movements) now, read again only when something was committed since the
        last read: most submissions are refused and change nothing, and reading every table before
        each of the walk's thousand-odd submissions was much of its time. The version is taken
        before the rows, so a commit between the two only makes the next snapshot read again."""
        version = self.version()
        if self._seen is None or self._seen[0] != version:
            with self.app.app_context(), db.reading() as session:
                movements = session.execute(sql("SELECT count(*) FROM movement")).scalar_one()
            self._seen = (version, self.rows(), movements)
        return self._seen

    def close(self) -> None:
        self.watch.close()

    def version(self) -> int:
        return self.watch.execute("PRAGMA data_version").fetchone()[0]

    def rows(self) -> dict:
        with self.app.app_context(), db.reading() as session:
            return {table: session.execute(sql(f"SELECT * FROM {table} ORDER BY 1")).all() for table in TABLES}

    def stock(self) -> tuple[int, list, list]:
        """(movements, the ledger's differences, balances outside their bounds)."""
        with self.app.app_context(), db.reading() as session:
            movements = session.execute(sql("SELECT count(*) FROM movement")).scalar_one()
            outside = session.execute(
                sql("SELECT product_id, location_id, on_hand, allocated FROM stock_level "
                    "WHERE on_hand < 0 OR on_hand > :most OR allocated < 0 OR allocated > on_hand"),
                {"most": bounds.MAX_BALANCE},
            ).all()
            return movements, ledger.check(session), outside


# ---- the walk ---------------------------------------------------------------------------------


@dataclass
class Before:
    version: int
    rows: dict
    movements: int
    responses: int


class Walk:
    def __init__(self, page, base_url: str, database: Database):
        self.page, self.base, self.database = page, base_url, database
        self.responses: list[tuple[int, str, str, bool]] = []  # status, method, URL, a page's own address
        self.problems: list[str] = []
        self.steps = 0
        self.counter = 0
        self.fresh = False  # open the next form on a freshly loaded page
        page.on("response", self._answered)
        page.on("dialog", lambda dialog: dialog.accept())
        page.add_init_script(WATCH_HTMX_JS)

    def _answered(self, response) -> None:
        request = response.request
        own = request.is_navigation_request() and request.frame == self.page.main_frame
        self.responses.append((response.status, request.method, response.url, own))

    # -- finding the forms --

    def discover(self, limit: int = 120) -> list[Form]:
        """Every form on every page reachable by links from the home page (one page per shape of
        address, each of EACH_PAGE's), each kind of form once. Each page is checked as it is opened."""
        queue, seen, forms = [self.base + "/"], set(), {}
        while queue and len(seen) < limit:
            url = queue.pop(0)
            parts = urlsplit(url)
            path = parts.path if shape(parts.path) in EACH_PAGE else shape(parts.path)
            key = (path, tuple(sorted({name for name, _ in parse_qsl(parts.query)})))
            if key in seen:
                continue
            seen.add(key)
            before = len(self.responses)
            response = self.page.goto(url, wait_until="domcontentloaded")
            self.look(f"GET {parts.path}", before, response.status)
            for found in self.page.evaluate(FORMS_JS):
                form = Form.read(url, found)
                if form.action not in NOT_WALKED:
                    forms.setdefault(form.signature, form)
            for href in self.page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)"):
                target = urlsplit(href)
                if (target.netloc == parts.netloc and not target.path.startswith(("/static/", "/api/", "/webhooks/"))
                        and not target.path.endswith(NOT_PAGES)):
                    queue.append(href.split("#")[0])
        return list(forms.values())

    # -- one submission --

    def open(self, form: Form, hostile: str | None):
        """The form ready on its page (the page as the last answer left it when the form is on it,
        else freshly opened), its fields as found with valid values in the others: its index, or
        None when it is gone."""
        for fresh in (self.fresh, True):
            self.fresh = False
            if fresh or urlsplit(self.page.url).path != urlsplit(form.page).path:
                self.page.goto(form.page, wait_until="domcontentloaded")
            for found in self.page.evaluate(FORMS_JS):
                if Form.read(form.page, found).signature == form.signature:
                    self.counter += 1
                    base = {name: text.format(n=self.counter)
                            for name, text in BASE_VALUES.get(form.action, {}).items() if name != hostile}
                    self.page.evaluate(PREPARE_JS, [found["index"], {**form.initial, **base}])
                    return found["index"]
        return None

    def submit(self, form: Form, spec: dict | None, value: str | None, what: str, *, file=None) -> None:
        """Fill one field with a value (or send a file, or press a form without fields), submit as
        a person would, and check the answer."""
        name = spec["name"] if spec else None
        index = self.open(form, name)
        if index is None:
            self.problems.append(f"{what}: the form is no longer on {form.page}")
            return
        self.steps += 1
        before = Before(*self.database.snapshot(), len(self.responses))
        walked = self.page.locator("form[data-walk]")
        typed = spec is not None and spec["tag"] in ("input", "textarea") and spec["type"] != "hidden"
        box = walked.locator(f'[name="{name}"]') if typed else None
        if file is not None:
            walked.locator(f'input[type=file][name="{file[0]}"]').set_input_files(
                {"name": "products.csv", "mimeType": "text/csv", "buffer": file[1]})
        elif spec is not None and not typed:
            self.page.evaluate(PREPARE_JS, [index, {name: value}])

        if form.kind == "scan":
            status = self.scan(walked, box, name, value, what) if typed else self.navigate(walked, form)
        elif form.kind == "htmx":
            status = self.htmx(walked, form, box, value, typed and form.initial.get(name) != value)
        else:
            if typed:
                box.fill(value)
            status = self.navigate(walked, form, box if form.kind == "live" else None)
        self.check(form, what, status, before, spec, value)

    def scan(self, walked, box, name: str, value: str, what: str):
        """The move page: scans queue a move sent in the background; the log shows its answer."""
        box.fill(value)
        if not value.strip():  # the page asks for the missing scan and sends nothing
            walked.locator("button[type=submit]").click()
            focused = self.page.evaluate("document.activeElement && document.activeElement.name")
            if focused != name:
                self.problems.append(f"{what}: left blank, the move page did not ask for it (focus on {focused})")
            return "kept"
        logged = self.page.locator("#move-log li").count()
        with self.page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/moves/")) as answer:
            walked.locator("#to_location").press("Enter")  # the scanner's Enter after the last scan
        self.page.wait_for_function(f"document.querySelectorAll('#move-log li').length > {logged}"
                                    " && !document.querySelector('#move-log li[data-state=pending]')")  # answered
        return answer.value.status

    def htmx(self, walked, form: Form, box, value: str, changes: bool):
        """An htmx form: its button, or a filter answering as the person types (or submitted)."""
        if box is not None:
            box.fill(value)
        if form.buttons:
            walked.locator(SUBMIT).first.click()
        elif not (changes and "input" in form.trigger):  # nothing typed changed: submit it
            self.page.evaluate("document.querySelector('form[data-walk]').requestSubmit()")
        self.page.wait_for_function("window.__walk.some((answer) => answer.mine)")
        return next(answer["status"] for answer in self.page.evaluate("window.__walk") if answer["mine"])

    def navigate(self, walked, form: Form, box=None):
        """A plain form: its button (Enter in a search box); the status of the form's own answer."""
        seen = len(self.responses)
        with self.page.expect_event("domcontentloaded"):  # of the new page (an htmx history push is none)
            if box is not None:
                box.press("Enter")
            elif form.buttons:
                walked.locator(SUBMIT).first.click()
            else:
                self.page.evaluate("document.querySelector('form[data-walk]').requestSubmit()")
        return next(code for code, _method, _url, page_address in self.responses[seen:] if page_address)

    # -- what every answer must be --

    def look(self, what: str, since: int, status) -> dict:
        """What every page must be, whatever was asked: no 5xx, no exception text, phone-wide."""
        seen = self.page.evaluate(SEEN_JS, WORDS)
        problems = [f"{method} {url[:100]} answered {code}"
                    for code, method, url, _own in self.responses[since:] if code >= 500]
        match = EXCEPTION_TEXT.search(seen["text"])
        if match:
            around = seen["text"][max(match.start() - 60, 0):match.end() + 60]
            problems.append(f"Python exception text on the page: …{bounds.shown(around, 140)}")
        if seen["width"] > WIDTH:
            problems.append(f"the page is {seen['width']:,} px wide (answer {status})")
        self.problems += [f"{what}: {problem}" for problem in problems]
        return seen

    def check(self, form: Form, what: str, status, before: Before, spec: dict | None, value: str | None) -> None:
        name = spec["name"] if spec else None
        if status in GUNICORN_LIMITS:  # its own bare page, before the app; the next step opens a fresh page
            self.fresh = True
            typed = spec is not None and spec["tag"] in ("input", "textarea") and spec["type"] != "hidden"
            if not typed or 0 <= spec["maxlength"] < len(value):
                return  # a forged option or hidden field, or one longer than maxlength: no person gets here
            self.problems.append(f"{what}: a person who types this gets gunicorn's bare "
                                 f"'{GUNICORN_LIMITS[status]}' page (no viewport: 980 px wide on a phone) instead of "
                                 "the app's words; the field has no maxlength to stop it")
            return
        seen = self.look(what, before.responses, status)
        problems = []
        refused = status == "kept" or 400 <= status < 500
        if refused and status != "kept" and not seen["messages"]:
            problems.append(f"refused ({status}) without a message in words on the page")
        for testid, words in seen["messages"]:
            if len(words) > LONGEST_MESSAGE and testid != "import-report":
                problems.append(f"a message {len(words):,} characters long: {bounds.shown(words, 80)}")
        version, rows, _movements = self.database.snapshot()
        if before.version != version:
            changed = {table: set(rows[table]) - set(before.rows[table])
                       for table in TABLES if rows[table] != before.rows[table]}
            if refused:
                problems.append(f"refused ({status}) yet changed {', '.join(changed) or 'the database'}")
            needle = NEVER_STORED.get(value)
            stored = [table for table, new in changed.items()
                      if needle and any(needle in str(cell) for row in new for cell in row)]
            if stored:
                problems.append(f"answered {status} and stored it in {', '.join(stored)}")
        if form.action in STOCK_FORMS:
            movements, drifts, outside = self.database.stock()
            expected = 1 if value in STOCK_FORMS[form.action].get(name, set()) else 0
            if movements - before.movements != expected:
                posted = movements - before.movements
                problems.append(f"{posted} movements posted, {expected} expected (answer {status})")
            if drifts or outside:
                problems.append(f"the ledger: differences {drifts}, balances out of bounds {outside}")
        self.problems += [f"{what}: {problem}" for problem in problems]


def walk_form(walk: Walk, form: Form) -> None:
    where = f"{form.action} on {urlsplit(form.page).path}"
    for spec in form.fields:
        for value in value_set(form, spec):
            walk.submit(form, spec, value, f"{where}, {spec['name']} = {said(value)}")
    for name in form.files:
        for label, content in (("a file that is not UTF-8", b"sku,name\n\xff\xfe\x00bad,\x81\n"),
                               ("a CSV file of hostile rows", hostile_csv().encode())):
            walk.submit(form, None, None, f"{where}, {name} = {label}", file=(name, content))
    if not form.fields and not form.files:
        walk.submit(form, None, None, f"{where}, pressed")


def test_every_form_a_manager_reaches_refuses_hostile_values_in_words_on_a_phone(live_wms, phone, sqlite_url):
    server, app = live_wms
    build_floor(app)
    sign_in_page(phone, server.url, "manager")
    with closing(Database(app, sqlite_url)) as database:
        walk = Walk(phone, server.url, database)
        forms = walk.discover()
        reached = {form.action for form in forms}
        assert MUST_REACH <= reached, f"the walk did not reach {sorted(MUST_REACH - reached)}"

        # Stock forms first, while no walked form has made a hostile value name something real;
        # forms without fields last (retry, dismiss and test act on what the others leave).
        for form in sorted(forms, key=lambda f: (f.action not in STOCK_FORMS, not (f.fields or f.files))):
            walk_form(walk, form)

        _movements, drifts, outside = database.stock()
    assert drifts == [] and outside == []
    assert walk.problems == [], (f"{len(walk.problems)} problems in {walk.steps} submissions:\n"
                                 + "\n".join(walk.problems))
