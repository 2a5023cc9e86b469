"""The API's one pattern: `@operation(...)` declares what a route takes and answers,
checks requests against pydantic models, and feeds the OpenAPI document, which is
built from app.url_map and these declarations (never written by hand).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import wraps
from http import HTTPStatus

from flask import current_app, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from app.errors import ValidationFailed, WmsError

OPENAPI_VERSION = "3.1.0"
ERROR_DESCRIPTIONS = {
    400: "The request is malformed or breaks a rule; nothing changed",
    401: "No valid bearer token",
    404: "Something the request names does not exist; nothing changed",
    409: "The request conflicts with what is stored (duplicate, not enough stock); nothing changed",
}


@dataclass
class Operation:
    response: type[BaseModel]
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    tag: str = "api"
    summary: str = ""
    description: str = ""
    extra: dict = field(default_factory=dict)


def operation(
    *,
    response: type[BaseModel],
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    tag: str = "api",
    field_names: dict[str, str] | None = None,
):
    """Declare a route's request and answer. The view gets `body=` and/or `query=`
    (validated model instances) beside its URL arguments, and returns an instance of
    `response` or a dict of its shape; it is answered with `status`. Bad JSON, wrong
    types, missing or unknown fields answer 400 before the view runs.
    `field_names` renames the field of an app.errors error to the request's name for it
    (e.g. {"product": "sku"} where the warehouse logic calls it product)."""

    def decorate(view):
        doc = (view.__doc__ or "").strip()
        summary, _, description = doc.partition("\n")
        op = Operation(
            response=response,
            status=status,
            body=body,
            query=query,
            errors=tuple(sorted(set(errors) | ({400} if body or query else set()))),
            tag=tag,
            summary=summary.strip(),
            description=" ".join(description.split()),
        )

        @wraps(view)
        def wrapper(**url_args):
            if query is not None:
                url_args["query"] = _validated(query, {k: v for k, v in request.args.items() if v != ""})
            if body is not None:
                url_args["body"] = _validated(body, request.get_data(), json=True)
            try:
                result = view(**url_args)
            except WmsError as error:
                if field_names and error.field in field_names:
                    error.field = field_names[error.field]
                raise
            if not isinstance(result, response):
                result = response.model_validate(result)
            return current_app.response_class(result.model_dump_json(), status=status, mimetype="application/json")

        wrapper.openapi = op
        return wrapper

    return decorate


def _validated(model: type[BaseModel], data, *, json: bool = False) -> BaseModel:
    try:
        return model.model_validate_json(data or b"") if json else model.model_validate(data)
    except ValidationError as error:
        message, where = explain(error, "request body" if json else "query")
        raise ValidationFailed(message, field=where) from None


def explain(error: ValidationError, part: str) -> tuple[str, str | None]:
    """The first problem, said plainly, and the field it is about (dotted path)."""
    problems = error.errors(include_url=False)
    first = problems[0]
    kind, where = first["type"], ".".join(str(p) for p in first["loc"]) or None
    got = first.get("input")
    if kind == "json_invalid":
        message = f"the {part} is not valid JSON ({first.get('ctx', {}).get('error', 'unreadable')})"
    elif where is None:
        message = f"the {part} must be a JSON object"
    elif kind == "missing":
        message = f"{where} is required"
    elif kind == "extra_forbidden":
        message = f"{where} is not a field this request takes"
    elif kind.startswith("int_"):
        message = f"{where} must be a whole number, not {got!r}"
    elif kind == "string_type":
        message = f"{where} must be a string, not {got!r}"
    else:
        message = f"{where}: {first['msg'][:1].lower()}{first['msg'][1:]}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return message, where


# ---- the OpenAPI document ---------------------------------------------------------------

_PATH_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_CONVERTER_TYPES = {"int": "integer", "float": "number"}


def openapi_document(app, blueprint: str = "api", error_model: type[BaseModel] | None = None) -> dict:
    """The OpenAPI 3.1 document for every rule of the blueprint, from the declarations."""
    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint.startswith(blueprint + ".")), key=lambda r: r.rule
    )
    declared = [(rule, app.view_functions[rule.endpoint]) for rule in rules]
    models = {error_model: "serialization"} if error_model else {}
    for _, view in declared:
        op = getattr(view, "openapi", None)
        if op is None:  # listed, but marked: tests/test_api_openapi.py fails on it
            continue
        models.setdefault(op.response, "serialization")
        if op.body:
            models[op.body] = "validation"
    refs, schema = models_json_schema(list(models.items()), ref_template="#/components/schemas/{model}")
    ref = {model: refs[(model, mode)] for model, mode in models.items()}

    paths: dict[str, dict] = {}
    for rule, view in declared:
        path = _PATH_ARG.sub(r"{\2}", rule.rule)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        op: Operation | None = getattr(view, "openapi", None)
        if op is None:
            for method in methods:
                paths.setdefault(path, {})[method.lower()] = {
                    "operationId": rule.endpoint,
                    "x-undeclared": True,
                    "responses": {"default": {"description": "not declared with @operation"}},
                }
            continue
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": _CONVERTER_TYPES.get(conv, "string")}}
            for conv, name in _PATH_ARG.findall(rule.rule)
        ]
        if op.query:
            query_schema = op.query.model_json_schema()
            for name, prop in query_schema.get("properties", {}).items():
                parameter = {"name": name, "in": "query", "required": name in query_schema.get("required", ())}
                if "description" in prop:
                    parameter["description"] = prop["description"]
                parameter["schema"] = prop
                parameters.append(parameter)
        responses = {
            str(op.status): {
                "description": HTTPStatus(op.status).phrase,
                "content": {"application/json": {"schema": ref[op.response]}},
            }
        }
        for status in sorted(set(op.errors) | {401}):
            responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
        for method in methods:
            entry = {
                "operationId": rule.endpoint.split(".", 1)[1] + ("" if len(methods) == 1 else "_" + method.lower()),
                "tags": [op.tag],
                "summary": op.summary or rule.endpoint,
                "responses": responses,
            }
            if op.description:
                entry["description"] = op.description
            if parameters:
                entry["parameters"] = parameters
            if op.body:
                entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref[op.body]}}}
            paths.setdefault(path, {})[method.lower()] = entry

    error_ref = ref.get(error_model, {"type": "object"})
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Starshipit WMS API",
            "version": "1",
            "description": "Bearer-token JSON API. Every error is a 4xx with "
            '{"error": {"code", "message", "field"?}} and changes nothing.',
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "responses": {
                str(status): {"description": text, "content": {"application/json": {"schema": error_ref}}}
                for status, text in ERROR_DESCRIPTIONS.items()
            },
        },
    }
