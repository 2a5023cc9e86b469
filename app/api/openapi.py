"""GET /api/v1/openapi.json: the API described, generated from the routes and their models."""
from __future__ import annotations

from flask import current_app
from pydantic import ConfigDict

from app.api import bp
from app.api.schemas import Answer, Error
from app.api.spec import openapi_document, operation


class OpenApiDocument(Answer):
    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict
    paths: dict
    components: dict


@bp.get("/openapi.json")
@operation(response=OpenApiDocument, tag="meta")
def openapi_json():
    """This API described as OpenAPI 3.1, generated from the routes and their models."""
    document = current_app.extensions.get("wms.openapi")
    if document is None:  # the routes are fixed once the app serves requests
        document = current_app.extensions["wms.openapi"] = openapi_document(current_app, "api", Error)
    return document
