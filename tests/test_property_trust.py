"""Property: no input, through any entrypoint that can change stock, corrupts stock or answers 5xx.

Hypothesis throws integers (huge ones too), floats (NaN, infinities), strings (empty, control
characters, 5,000 characters, look-alike digits) and JSON of the wrong type at the adjust and move
pages, the JSON API's stock, product, location and purchase-order routes, the CSV importer and the
webhook reader, mixed with values that are valid, so that some requests succeed. After every
request:
- the answer is never a 5xx;
- a refusal (4xx) changed nothing (balances, movements, products, locations, purchase orders,
  inbox events);
- the ledger is clean (`wms check-ledger`'s check) and every balance and movement is inside its
  bounds; no inbox event is left pending.
On SQLite and PostgreSQL. The number of requests sent and of 5xx answers is printed (pytest -s).
"""
from __future__ import annotations

import json
import os
from collections import Counter
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app import bounds, db, ledger
from app.accounts import create_token
from app.catalog import create_product
from app.inventory import adjust_stock
from app.warehouses import create_location, get_warehouse
from tests.conftest import ApiClient, sign_in

EXAMPLES = int(os.environ.get("WMS_PROPERTY_EXAMPLES", "300"))  # per database; each example is one request
SENT: Counter = Counter()

SKUS = ["SKU-1", "sku-1", " SKU-2 ", "9300000000011", "(01)09300000000011", "NOPE"]
PLACES = ["A-01", "a-01", " B-01 ", "P-01", "Z-99", "@ADJUSTMENT"]
AWKWARD = [
    "9223372036854775807", "-9223372036854775809", "2147483648", "1000001", "1e20", "1e400", "-1e400", "NaN",
    "nan", "inf", "-0", "0", " 5 ", "+7", "0x10", "1_000", "١٢", "²", "1.5", "5.0", "", " ", "\x00", "A\x00B",
    "\ud800", "\u202e", "W" * 5000, "🙂" * 300, "<script>alert(1)</script>", "' OR 1=1 --", "%s%n", "../..",
]
anything_typed = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.text(max_size=40),
    st.sampled_from(AWKWARD + SKUS + PLACES),
)


def mostly(good, bad):
    """Three draws in four from `good`: enough valid requests get through to change stock."""
    return st.integers(0, 3).flatmap(lambda n: bad if n == 0 else good)


quantities = mostly(st.integers(min_value=-5, max_value=60), anything_typed)
json_values = st.one_of(
    anything_typed, st.booleans(), st.none(), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@pytest.fixture
def floor(any_db_app):
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Gadget")
        for code, kind in (("A-01", "storage"), ("B-01", "storage"), ("P-01", "pick")):
            create_location(session, warehouse=site, code=code, type=kind)
        adjust_stock(session, sku="SKU-1", location="A-01", quantity=50, reason="found")
        adjust_stock(session, sku="SKU-2", location="P-01", quantity=20, reason="found")

    db.atomic(build)
    app = any_db_app
    return {
        "manager": sign_in(app.test_client(), "manager"),
        "picker": sign_in(app.test_client(), "picker"),
        "api": ApiClient(app.test_client(), db.atomic(create_token, "property test")),
        "webhook": app.test_client(),
        "database": app.extensions["wms.engine"].dialect.name,
    }


_STATE = {
    "balances": "SELECT product_id, location_id, on_hand, allocated FROM stock_level ORDER BY id",
    "movements": "SELECT count(*) FROM movement",
    "products": "SELECT id, sku, name, weight FROM product ORDER BY id",
    "barcodes": "SELECT barcode FROM product_barcode ORDER BY id",
    "locations": "SELECT id, code, barcode, zone, pick_sequence FROM location ORDER BY id",
    "purchase_orders": "SELECT count(*) FROM purchase_order",
    "events": "SELECT count(*) FROM inbox_event",
}


def state() -> dict:
    with db.reading() as session:
        return {name: [tuple(row) for row in session.execute(text(sql))] for name, sql in _STATE.items()}


def assert_everything_in_bounds() -> None:
    with db.reading() as session:
        assert ledger.check(session) == []
        for on_hand, allocated in session.execute(text("SELECT on_hand, allocated FROM stock_level")):
            assert 0 <= allocated <= on_hand <= bounds.MAX_BALANCE
        low, high = session.execute(text("SELECT min(quantity), max(quantity) FROM movement")).one()
        assert 1 <= low <= high <= bounds.MAX_MOVEMENT
        pending = session.execute(text("SELECT count(*) FROM inbox_event WHERE status = 'pending'")).scalar()
        assert pending == 0


# ---- the entrypoints: each draws its values and sends one request -------------------------------


def form(client, path, values: dict, headers=None):
    """POST a form as a browser would, except that text no browser could encode (a lone surrogate)
    goes as the invalid UTF-8 bytes it becomes."""
    raw = urlencode({k: str(v).encode("utf-8", "surrogatepass") for k, v in values.items()})
    return client.post(path, data=raw, content_type="application/x-www-form-urlencoded", headers=headers or {})


def adjust_page(clients, draw):
    values = {"location": draw(mostly(st.sampled_from(PLACES), anything_typed)),
              "product": draw(mostly(st.sampled_from(SKUS), anything_typed)), "quantity": draw(quantities),
              "reason": draw(st.sampled_from(["found", "damaged", "count", "found", "stolen", ""])),
              "reference": draw(mostly(st.sampled_from(["", "ticket 7"]), anything_typed))}
    return form(clients["manager"], "/inventory/adjust", values)


def move_page(clients, draw):
    values = {"from_location": draw(mostly(st.sampled_from(PLACES), anything_typed)),
              "product": draw(mostly(st.sampled_from(SKUS), anything_typed)), "quantity": draw(quantities),
              "to_location": draw(mostly(st.sampled_from(PLACES), anything_typed))}
    headers = {"HX-Request": "true"} if draw(st.booleans()) else {}
    return form(clients["picker"], "/moves/", values, headers)


def api_route(clients, draw):
    path, body = draw(st.sampled_from([
        ("/api/v1/stock/adjustments", lambda: {"sku": draw(mostly(st.sampled_from(SKUS), json_values)), "location": draw(
            mostly(st.sampled_from(PLACES), json_values)), "quantity": draw(mostly(quantities, json_values)),
            "reason": "found"}),
        ("/api/v1/stock/transfers", lambda: {"sku": draw(mostly(st.sampled_from(SKUS), json_values)),
                                             "from_location": draw(st.sampled_from(PLACES)),
                                             "to_location": draw(mostly(st.sampled_from(PLACES), json_values)),
                                             "quantity": draw(mostly(quantities, json_values))}),
        ("/api/v1/stock/receipts", lambda: {"sku": draw(st.sampled_from(SKUS)), "location": draw(st.sampled_from(PLACES)),
                                            "quantity": draw(mostly(quantities, json_values))}),
        ("/api/v1/products", lambda: {"sku": draw(mostly(st.from_regex(r"\AP-[0-9]{1,4}\Z"), json_values)),
                                      "name": draw(mostly(st.just("Thing"), json_values)),
                                      "weight": draw(mostly(st.floats(0, 50), json_values)),
                                      "barcodes": draw(mostly(st.just([]), json_values))}),
        ("/api/v1/locations", lambda: {"code": draw(mostly(st.from_regex(r"\AL-[0-9]{1,4}\Z"), json_values)),
                                       "type": "storage", "pick_sequence": draw(mostly(st.integers(0, 99), json_values)),
                                       "zone": draw(mostly(st.just("Z"), json_values))}),
        ("/api/v1/purchase-orders", lambda: {"po_number": draw(mostly(st.from_regex(r"\APO-[0-9]{1,6}\Z"), json_values)),
                                             "supplier": "Acme",
                                             "lines": [{"sku": "SKU-1", "quantity": draw(mostly(quantities, json_values))}]}),
    ]))
    raw = json.dumps(body(), allow_nan=True).encode("utf-8", "surrogatepass")
    return clients["api"].post(path, data=raw, content_type="application/json")


def csv_import(clients, draw):
    cell = lambda: str(draw(mostly(st.sampled_from(["Thing", "2.5", ""]), anything_typed))).replace("\n", " ")  # noqa: E731
    rows = [f"{draw(mostly(st.sampled_from(['NEW-1', 'SKU-2']), st.text(max_size=8)))},{cell()},,{cell()}"
            for _ in range(2)]
    if draw(st.booleans()):
        rows.append(draw(st.text(max_size=60)))  # whatever the file holds
    text_ = "sku,name,barcodes,weight\n" + "\n".join(rows) + "\n"
    return form(clients["manager"], "/products/import", {"text": text_})


def webhook(clients, draw):
    event = draw(st.sampled_from(["order_created", "order_shipped", "order_changed", "order_deleted"]))
    number = draw(mostly(st.sampled_from(["SO-1", "SO-2"]), anything_typed))
    item = {"sku": draw(mostly(st.sampled_from(["SKU-1", "SKU-2", "UNKNOWN"]), json_values)),
            "quantity": draw(mostly(st.integers(0, 30), json_values))}
    body = {"event": event, "event_id": f"evt-{draw(st.integers(0, 10**6))}", "occurred_at": "2026-11-24T04:30:00Z",
            "order": {"order_id": draw(mostly(st.integers(1, 10**6), json_values)), "order_number": number,
                      "reference": draw(mostly(st.none(), anything_typed)), "items": [item]}}
    if draw(st.integers(0, 4)) == 0:
        body = draw(st.sampled_from([{"event": event}, [body], {"order_number": number, "tracking_status": 7}, body]))
    raw = json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
    return clients["webhook"].post("/webhooks/starshipit", data=raw, content_type="application/json")


ENTRYPOINTS = [adjust_page, move_page, api_route, csv_import, webhook]


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_input_at_any_entrypoint_answers_5xx_or_corrupts_stock(floor, data):
    entrypoint = data.draw(st.sampled_from(ENTRYPOINTS), label="entrypoint")
    before = state()
    response = entrypoint(floor, data.draw)
    SENT[floor["database"], "requests"] += 1
    if response.status_code >= 500:
        SENT[floor["database"], "5xx"] += 1
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    assert "Traceback" not in page and "psycopg" not in page and "sqlalchemy" not in page
    if response.status_code >= 400:
        assert state() == before, f"{entrypoint.__name__} refused ({response.status_code}) but changed something"
    assert_everything_in_bounds()


def test_report_how_many_requests_were_sent(capsys):
    """Prints what the property test sent (runs after it in file order)."""
    with capsys.disabled():
        for database in ("sqlite", "postgresql"):
            if SENT[database, "requests"]:
                print(f"\nproperty test on {database}: {SENT[database, 'requests']} requests, "
                      f"{SENT[database, '5xx']} answered 5xx")
