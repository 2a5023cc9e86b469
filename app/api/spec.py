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
from werkzeug.routing import PathConverter

from app.api.fields import RULE, shown_json
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
    path: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    tag: str = "api"
    summary: str = ""
    description: str = ""
    rules: dict[str, str] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    also: dict[str, dict] = field(default_factory=dict)  # other media types of the answer: {type: schema}


def operation(
    *,
    response: type[BaseModel],
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    path: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    tag: str = "api",
    field_names: dict[str, str] | None = None,
    rules: dict[str, str] | None = None,
    also: dict[str, dict] | None = None,
):
    """Declare a route's request and answer. The view gets `body=` and/or `query=`
    (validated model instances) beside its URL arguments, and returns an instance of
    `response` or a dict of its shape; it is answered with `status`. `path` is a model of
    the URL arguments: the view gets them checked and cleaned. Bad JSON, wrong types,
    missing or unknown fields, and values out of bounds answer 400 before the view runs.
    `field_names` renames the field of an app.errors error to the request's name for it
    (e.g. {"product": "sku"} where the warehouse logic calls it product).
    `rules` lists what the warehouse logic refuses with a 400 although the request fits the
    schema (a rule across fields or against what is stored): {field: "when ..."}, `*` standing
    for a list index; the document states them (x-rules and the description).
    `also` declares other media types the success answer may have, {media type: JSON Schema}
    (a PDF: {"application/pdf": {"type": "string", "format": "binary"}}): for those the view
    returns a Flask response of that mimetype, sent as it is."""

    def decorate(view):
        doc = (view.__doc__ or "").strip()
        summary, _, description = doc.partition("\n")
        op = Operation(
            response=response,
            status=status,
            body=body,
            query=query,
            path=path,
            errors=tuple(sorted(set(errors) | ({400} if body or query or path else set()))),
            tag=tag,
            summary=summary.strip(),
            description=" ".join(description.split()),
            rules=dict(rules or {}),
            also=dict(also or {}),
        )

        @wraps(view)
        def wrapper(**url_args):
            if path is not None:
                url_args.update(_validated(path, url_args, part="path").model_dump())
            if query is not None:  # an empty value is a value: "?status=" is checked, not dropped
                url_args["query"] = _validated(query, request.args.to_dict(), part="query")
            if body is not None:
                url_args["body"] = _validated(body, request.get_data(), json=True)
            try:
                result = view(**url_args)
            except WmsError as error:
                if field_names and error.field in field_names:
                    error.field = field_names[error.field]
                raise
            if isinstance(result, current_app.response_class) and result.mimetype in op.also:
                result.status_code = status
                return result
            if not isinstance(result, response):
                result = response.model_validate(result)
            return current_app.response_class(result.model_dump_json(), status=status, mimetype="application/json")

        wrapper.openapi = op
        return wrapper

    return decorate


def _validated(model: type[BaseModel], data, *, json: bool = False, part: str = "request body") -> BaseModel:
    try:
        return model.model_validate_json(data or b"") if json else model.model_validate(data)
    except ValidationError as error:
        message, where = explain(error, part)
        raise ValidationFailed(message, field=where) from None


def explain(error: ValidationError, part: str) -> tuple[str, str | None]:
    """The first problem, said plainly, and the field it is about (dotted path)."""
    problems = error.errors(include_url=False)
    first = problems[0]
    kind, where = first["type"], ".".join(str(p) for p in first["loc"]) or None
    got, ctx = first.get("input"), first.get("ctx", {})
    if kind == "json_invalid":
        message = f"the {part} is not valid JSON ({ctx.get('error', 'unreadable')})"
    elif where is None:
        message = f"the {part} must be a JSON object"
    elif kind == RULE:  # refused by app.bounds, in its words (the field names where)
        message = first["msg"]
    elif kind == "missing":
        message = f"{where} is required"
    elif kind == "extra_forbidden":
        message = f"{where} is not a field this request takes"
    elif kind == "literal_error":
        message = f"{where} must be {ctx.get('expected')}, not {shown_json(got)}"
    elif kind in ("list_type", "model_type", "dict_type", "model_attributes_type"):
        message = f"{where} must be a JSON {'array' if kind == 'list_type' else 'object'}, not {shown_json(got)}"
    elif kind == "too_short":
        message = f"{where} needs at least {ctx.get('min_length')} item{'s' if ctx.get('min_length') != 1 else ''}"
    elif kind == "too_long":
        message = f"{where} has more than {ctx.get('max_length'):,} items"
    else:
        message = f"{where}: {first['msg'][:1].lower()}{first['msg'][1:]}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return message, where


# ---- the OpenAPI document ---------------------------------------------------------------


class PathExceptConverter(PathConverter):
    """`<path_except(adjustments, transfers):sku>`: a path argument that is not one of the names
    given, so that GET /stock/adjustments is not the stock of a SKU called "adjustments" where the
    document, as OpenAPI reads paths (concrete before templated), lists POST only."""

    def __init__(self, map, *reserved: str):
        super().__init__(map)
        self.regex = f"(?!(?:{'|'.join(re.escape(name) for name in reserved)})$)" + PathConverter.regex

_PATH_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_CONVERTER_TYPES = {"int": "integer", "float": "number"}


def _parameter(name: str, where: str, required: bool, schema: dict) -> dict:
    """A path or query parameter: text, never null (left out instead), its default shown."""
    parameter = {"name": name, "in": where, "required": required}
    schema = {key: value for key, value in schema.items() if key != "title" and (key, value) != ("default", None)}
    options = [option for option in schema.get("anyOf", ()) if option != {"type": "null"}]
    if len(options) == 1:
        del schema["anyOf"]
        schema = {**options[0], **schema}
    if "description" in schema:
        parameter["description"] = schema.pop("description")
    parameter["schema"] = schema
    return parameter


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
        declared_path = op.path.model_json_schema().get("properties", {}) if op.path else {}
        parameters = [
            _parameter(name, "path", True, declared_path.get(name, {"type": _CONVERTER_TYPES.get(conv, "string")}))
            for conv, name in _PATH_ARG.findall(rule.rule)
        ]
        if op.query:
            query_schema = op.query.model_json_schema()
            for name, prop in query_schema.get("properties", {}).items():
                parameters.append(_parameter(name, "query", name in query_schema.get("required", ()), prop))
        responses = {
            str(op.status): {
                "description": HTTPStatus(op.status).phrase,
                "content": {"application/json": {"schema": ref[op.response]},
                            **{kind: {"schema": schema} for kind, schema in op.also.items()}},
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
            description = " ".join(
                [op.description] + [f"400 also when {where}: {when}." for where, when in op.rules.items()]
            ).strip()
            if description:
                entry["description"] = description
            if op.rules:
                entry["x-rules"] = [{"field": where, "refused": when} for where, when in op.rules.items()]
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
