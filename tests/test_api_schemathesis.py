"""Schemathesis reads /api/v1/openapi.json from the WMS under a real gunicorn (with a bearer token),
then fuzzes every operation it lists, with valid and invalid requests, against a warehouse with a
little stock, and holds each answer to the document: never a 5xx, always a documented status,
content type and schema; invalid requests refused and valid ones not refused for their shape;
a 405 that says what the address takes.

It runs on the default test database (scripts/test.sh runs it again on PostgreSQL) and prints what
it sent (`pytest -s` shows the line), for the record in bench/README.md.
"""
from __future__ import annotations

import os
from collections import Counter
from fnmatch import fnmatchcase

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app import db
from app.accounts import create_token
from app.catalog import create_product
from app.inventory import adjust_stock
from app.inbound.purchase_orders import create_purchase_order
from app.warehouses import create_location, create_warehouse, get_warehouse
from tests import orders_data
from tests.support.processes import start_wms

# Generated requests per operation and mode (valid, invalid) in the fuzzing phase, and the seed
# (the same requests each run); WMS_SCHEMATHESIS_EXAMPLES / _SEED explore further.
EXAMPLES = int(os.environ.get("WMS_SCHEMATHESIS_EXAMPLES", "40"))
SEED = int(os.environ.get("WMS_SCHEMATHESIS_SEED", "20261207"))
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "valid_requests_are_refused_only_by_documented_rules",
    "ignored_auth",
    "unsupported_method",
    "allow_header_conformance",
]
# Seconds an answer may take, for the document and each fuzzed request: schemathesis's own 10 s
# ran out fetching the document from a fresh gunicorn on a 2-core machine at load 10 (the test
# files run side by side); a slow answer is not what this test checks.
PATIENCE = 60
# What the seeded warehouse holds, for schemathesis to send now and then instead of random text,
# so that look-ups also find real rows and stock really moves.
KNOWN = ["SKU-1", "SKU-2", "WIDGET", "9300000000011", "A-01", "B-01", "P-01", "LOC-P01", "DOCK", "PACK-1",
         "N-01", "MAIN", "NORTH", "PO-1", "SO-100"]


@schemathesis.check
def valid_requests_are_refused_only_by_documented_rules(ctx, response, case):
    """positive_data_acceptance (a request that fits the document is not refused as malformed),
    except for a 400 naming a field whose rule the operation states in its x-rules: a rule across
    fields or against what is stored, which a JSON Schema cannot say."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 400 and refused_by_a_stated_rule(case, response):
            return None
        raise


def refused_by_a_stated_rule(case, response) -> bool:
    try:
        field = response.json()["error"].get("field") or ""
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return any(fnmatchcase(field, rule["field"]) for rule in case.operation.definition.raw.get("x-rules", []))


def seed_warehouse() -> None:
    orders_data.stocked_order("SO-100")  # WIDGET at A-01 and PACK-1, allocated, picked and shipped

    def build(session):
        main = get_warehouse(session)
        create_product(session, sku="SKU-1", name="Widget", barcodes=["9300000000011"])
        create_product(session, sku="SKU-2", name="Gadget", weight=0.5)
        create_location(session, warehouse=main, code="B-01", type="storage", zone="B", pick_sequence=1)
        create_location(session, warehouse=main, code="P-01", type="pick", barcode="LOC-P01", zone="P")
        create_location(session, warehouse=main, code="DOCK", type="receiving")
        north = create_warehouse(session, code="NORTH", name="North")
        create_location(session, warehouse=north, code="N-01", type="storage")
        adjust_stock(session, sku="SKU-1", location="B-01", quantity=500, reason="found")
        create_purchase_order(session, po_number="PO-1", supplier="Acme", warehouse=None, lines=[("SKU-1", 10)])

    db.atomic(build)
    orders_data.add_event("evt-1")
    orders_data.add_discrepancy("WIDGET", reference="SO-100")


@pytest.fixture
def served(app, tmp_path):
    """The seeded default test database, served by gunicorn as in production; a token for it."""
    seed_warehouse()
    token = db.atomic(create_token, "schemathesis")
    wms = start_wms(app.config["DATABASE_URL"], tmp_path, workers=2)
    yield wms, token
    wms.stop()


def fuzz(url: str, token: str) -> tuple[Counter, list[str], set[str], set[str]]:
    """Run every phase but the stateful one: the answers by status, the failures, the operations
    fuzzed and the operations the document lists."""
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {token}"},
        "request-timeout": PATIENCE,
        "generation": {
            "max-examples": EXAMPLES,
            "mode": "all",
            "dictionaries": {"string": {"dictionary": "known", "probability": 0.3}},
        },
        "dictionaries": {"known": {"values": KNOWN}},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    })
    schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json", config=config, timeout=PATIENCE,
                                           headers={"Authorization": f"Bearer {token}"})
    documented = {f"{method.upper()} {path}" for path, item in schema.raw_schema["paths"].items() for method in item}
    answers: Counter = Counter()
    failures: list[str] = []
    operations = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            operations.add(event.recorder.label)
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    answers[interaction.response.status_code] += 1
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    if node.status == Status.FAILURE and node.failure_info is not None:
                        failure = node.failure_info.failure
                        failures.append(f"{event.recorder.label} ({event.phase}): {node.name}: {failure.title}\n"
                                        f"{failure.message}\n{node.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError):
            failures.append(f"{event.label}: schemathesis could not go on: {event.info.message}")
        elif isinstance(event, events.FatalError):
            failures.append(f"schemathesis stopped: {event.exception!r}")
    return answers, failures, operations, documented


def test_every_operation_answers_as_its_document_says_under_fuzzing(served):
    wms, token = served
    answers, failures, operations, documented = fuzz(wms.url, token)
    server_errors = sum(n for status, n in answers.items() if status >= 500)
    print(f"\nschemathesis: {sum(answers.values())} requests to {len(operations)} operations, {server_errors} answered "
          f"5xx; by status: {dict(sorted(answers.items()))}")
    assert operations == documented - {"GET /api/v1/openapi.json"}  # schemathesis skips the document it read
    unique = list(dict.fromkeys(failures))
    assert not unique, f"{len(unique)} findings:\n\n" + "\n\n".join(unique[:30])
    assert server_errors == 0
    assert "Traceback" not in wms.output()
