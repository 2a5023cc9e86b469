"""The OpenAPI document is generated from the routes: valid in shape, complete, behind the token."""
import re

import pytest

from app import bounds

API_RULE = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(api):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _resolve(document, ref):
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_document_is_openapi_3_in_shape(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert document["security"] == [{"bearerAuth": []}]
    for path, item in document["paths"].items():
        assert path.startswith("/api/v1/")
        assert set(item) <= HTTP_METHODS
        for method, op in item.items():
            assert op["responses"], f"{method} {path} has no responses"
            assert op["operationId"]
            for parameter in op.get("parameters", []):
                assert parameter["in"] in {"path", "query"} and parameter["name"] and "schema" in parameter
                if parameter["in"] == "path":
                    assert parameter["required"] is True
                    assert "{" + parameter["name"] + "}" in path
    operation_ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    for ref in _refs(document):
        _resolve(document, ref)


def test_every_api_rule_is_listed_and_declared(app, document):
    listed = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = API_RULE.sub(r"{\1}", rule.rule)
        assert path in document["paths"], f"{rule.rule} is missing from the document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = document["paths"][path].get(method.lower())
            assert op is not None, f"{method} {rule.rule} is missing"
            assert not op.get("x-undeclared"), f"{method} {rule.rule} has no @operation"
            success = [code for code in op["responses"] if code.startswith("2")]
            assert len(success) == 1
            assert "$ref" in op["responses"][success[0]]["content"]["application/json"]["schema"]
            assert op["responses"]["401"] == {"$ref": "#/components/responses/401"}
            listed += 1
    assert listed >= 15


def test_request_bodies_and_answers_come_from_the_models(document):
    adjust = document["paths"]["/api/v1/stock/adjustments"]["post"]
    body = _resolve(document, adjust["requestBody"]["content"]["application/json"]["schema"]["$ref"])
    assert set(body["required"]) == {"sku", "location", "quantity", "reason"}
    assert body["properties"]["quantity"]["type"] == "integer"
    assert body["properties"]["reason"]["pattern"] == bounds.code_pattern(bounds.REASON_CODE_MAX)  # codes are data
    assert body["additionalProperties"] is False
    answer = _resolve(document, adjust["responses"]["201"]["content"]["application/json"]["schema"]["$ref"])
    assert set(answer["properties"]) == {"movement_id", "on_hand"}
    assert {"400", "401", "404", "409"} <= set(adjust["responses"])
    error = _resolve(document, "#/components/responses/409")["content"]["application/json"]["schema"]
    assert _resolve(document, error["$ref"])["required"] == ["error"]

    movements = document["paths"]["/api/v1/movements"]["get"]
    names = {p["name"]: p for p in movements["parameters"]}
    assert {"sku", "reference", "limit", "before_id"} <= set(names)
    assert names["limit"]["in"] == "query" and names["limit"]["required"] is False


def test_document_needs_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def _body(document, path, method="post"):
    ref = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return _resolve(document, ref)["properties"]


def _parameters(document, path, method="get"):
    return {p["name"]: p for p in document["paths"][path][method].get("parameters", [])}


def _without_null(schema):
    options = [option for option in schema.get("anyOf", [schema]) if option != {"type": "null"}]
    assert len(options) == 1
    return options[0]


def test_the_document_states_the_bounds_the_code_enforces(document):
    adjust = _body(document, "/api/v1/stock/adjustments")["quantity"]
    assert (adjust["type"], adjust["minimum"], adjust["maximum"]) == (
        "integer", -bounds.MAX_MOVEMENT, bounds.MAX_MOVEMENT
    )
    assert adjust["not"] == {"const": 0}
    transfer = _body(document, "/api/v1/stock/transfers")["quantity"]
    assert (transfer["minimum"], transfer["maximum"]) == (1, bounds.MAX_MOVEMENT)

    product = _body(document, "/api/v1/products")
    assert product["sku"]["pattern"] == bounds.code_pattern(bounds.SKU_MAX)
    assert product["name"]["pattern"] == bounds.text_pattern(bounds.PRODUCT_NAME_MAX)
    assert product["barcodes"]["maxItems"] == bounds.BARCODES_PER_PRODUCT
    assert product["barcodes"]["items"]["pattern"] == bounds.code_pattern(bounds.BARCODE_MAX)
    assert _without_null(product["weight"]) == {"type": "number", "minimum": 0, "maximum": bounds.MAX_WEIGHT_KG}

    location = _body(document, "/api/v1/locations")
    assert location["code"]["pattern"] == bounds.code_pattern(bounds.LOCATION_CODE_MAX, not_first="@")
    sequence = _without_null(location["pick_sequence"])
    assert (sequence["minimum"], sequence["maximum"]) == (0, bounds.MAX_PICK_SEQUENCE)

    order = _body(document, "/api/v1/purchase-orders")
    assert (order["lines"]["minItems"], order["lines"]["maxItems"]) == (1, bounds.MAX_PO_LINES)
    for path in ("/api/v1/products", "/api/v1/locations"):
        assert _parameters(document, path)["offset"]["schema"]["maximum"] == bounds.MAX_OFFSET
    assert _parameters(document, "/api/v1/movements")["before_id"]["schema"]["maximum"] == bounds.MAX_ROW_ID


def test_parameters_are_text_the_code_checks_or_row_ids_never_null(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            for parameter in op.get("parameters", []):
                schema = parameter["schema"]
                assert "anyOf" not in schema and schema.get("type") != "null", f"{method} {path} {parameter['name']}"
                if parameter["in"] == "path" and schema.get("type") == "integer":  # a row's id
                    assert (schema["minimum"], schema["maximum"]) == (1, bounds.MAX_ROW_ID), f"{method} {path}"
                elif parameter["in"] == "path":
                    assert schema["pattern"] == bounds.scan_pattern(), f"{method} {path} {parameter['name']}"
    events = _parameters(document, "/api/v1/events")["status"]["schema"]
    assert events["enum"] == ["pending", "processed", "failed", "ignored"] and "" not in events["enum"]


def test_rules_the_schema_cannot_say_are_stated_in_words_and_by_field(document):
    transfer = document["paths"]["/api/v1/stock/transfers"]["post"]
    assert [rule["field"] for rule in transfer["x-rules"]] == ["to_location", "reason"]
    assert transfer["x-rules"][0] == {"field": "to_location", "refused": "it names the same location as from_location"}
    assert "quarantine" in transfer["x-rules"][1]["refused"]
    assert "400 also when to_location: it names the same location as from_location." in transfer["description"]
    purchase_order = document["paths"]["/api/v1/purchase-orders"]["post"]
    assert [rule["field"] for rule in purchase_order["x-rules"]] == ["lines.*.sku"]
    adjustment = document["paths"]["/api/v1/stock/adjustments"]["post"]
    assert adjustment["x-rules"] == [{"field": "reason", "refused": "it is not an active reason code (unknown, or retired)"}]
