"""Errors the warehouse logic raises for bad requests; pages and the API turn them into 4xx."""
from __future__ import annotations


class WmsError(Exception):
    """A request the warehouse cannot carry out, with a machine-readable code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(WmsError):
    status = 404
    code = "not_found"


class Conflict(WmsError):
    status = 409
    code = "conflict"


class ValidationFailed(WmsError):
    status = 400
    code = "validation_error"
