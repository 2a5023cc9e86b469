"""The API's field types. Each checks a value with app.bounds (the rule and the words the pages,
the CSV importer and the webhook reader use) and describes itself in the OpenAPI document from
the same constants and patterns, so the document says exactly what is enforced.

Bodies are JSON, read strictly: text must be a JSON string and a number a JSON number (120.0 is
the whole number 120, as JSON Schema counts it; "3", 1.5 and true are not). Query strings and URL
parts are text, so there "10" and "10.0" are 10. A refusal is a pydantic error of type RULE whose
message is the domain's sentence; app.api.spec.explain answers it as is.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import PlainValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from app import bounds
from app.errors import ValidationFailed

RULE = "wms_rule"
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")  # a number as a JSON Schema tool writes it


def shown_json(value: Any) -> str:
    """A JSON value as the client wrote it, cut to a readable length."""
    try:
        return bounds.shown(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        return bounds.shown(value)


def _field(schema: dict, check: Callable[[Any, str, str, bool], Any], *, nullable: bool, description: str | None,
           label: str | None):
    """Annotated metadata: validate with check(value, field, label, from_json); document schema."""
    document = {"anyOf": [schema, {"type": "null"}]} if nullable else dict(schema)
    if description:
        document["description"] = description

    def validate(value, info: ValidationInfo):
        if value is None and nullable:
            return None
        field = info.field_name or "value"
        try:
            return check(value, field, label or field.replace("_", " "), info.mode == "json")
        except ValidationFailed as error:
            raise PydanticCustomError(RULE, "{message}", {"message": error.message}) from None

    return PlainValidator(validate), WithJsonSchema(document)


# ---- numbers --------------------------------------------------------------------------------


def _number(value, label: str, from_json: bool, kind: str = "a whole number"):
    """A JSON number as it came, or query text read as a number: an int when whole, else a Decimal."""
    if from_json:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationFailed(f"{label} must be {kind}, not {shown_json(value)}")
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = Decimal(value)
        if number.adjusted() > 30:  # far past any bound; never build a number of a million digits
            return -(10**31) if number < 0 else 10**31
        return int(number) if number == number.to_integral_value() else number
    raise ValidationFailed(f"{label} must be {kind}, not {bounds.shown(value)!r}")


def whole(check: Callable[..., int | None], minimum: int, maximum: int, *, zero: bool = True, nullable: bool = False,
          description: str | None = None) -> Any:
    """A whole number from minimum to maximum (not 0 unless zero), checked by `check(value, field)`
    from app.bounds, documented as a JSON Schema integer with the same bounds."""
    schema: dict = {"type": "integer", "minimum": minimum, "maximum": maximum}
    if not zero:
        schema["not"] = {"const": 0}

    def checked(value, field, label, from_json):
        number = _number(value, label, from_json)
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if not isinstance(number, int):
            raise ValidationFailed(f"{label} must be a whole number, not {shown_json(value)}")
        return check(number, field)

    return Annotated[int | None if nullable else int,
                     *_field(schema, checked, nullable=nullable, description=description, label=None)]


def row_id(*, nullable: bool = False, description: str | None = None) -> Any:
    """The id of a row (bounds.row_id): a whole number from 1 to bounds.MAX_ROW_ID."""
    return whole(between(1, bounds.MAX_ROW_ID), 1, bounds.MAX_ROW_ID, nullable=nullable, description=description)


def between(minimum: int, maximum: int) -> Callable[[Any, str], int]:
    """A checker for a whole number the API alone bounds (a page size): bounds.whole's words."""
    return lambda value, field: bounds.whole(value, field, minimum=minimum, maximum=maximum)


def measure(check: Callable[[Any, str], float | None], maximum: float, *, nullable: bool = True,
            description: str | None = None) -> Any:
    """A finite number from 0 to maximum, checked by `check(value, field)` from app.bounds."""
    schema = {"type": "number", "minimum": 0, "maximum": maximum}

    def checked(value, field, label, from_json):
        return check(_number(value, label, from_json, "a number"), field)

    return Annotated[float | None if nullable else float,
                     *_field(schema, checked, nullable=nullable, description=description, label=None)]


# ---- text -----------------------------------------------------------------------------------


def _text_only(value, label: str):
    if not isinstance(value, str):
        raise ValidationFailed(f"{label} must be text, not {shown_json(value)}")
    return value


def code(max_length: int, *, required: bool = True, nullable: bool = False, not_first: str = "",
         description: str | None = None, label: str | None = None) -> Any:
    """A code or barcode (bounds.code): no spaces inside, no control characters, up to max_length
    characters once surrounding whitespace is dropped. The leading characters in `not_first` are
    refused by the warehouse logic and stated in the pattern."""
    schema = {"type": "string", "pattern": bounds.code_pattern(max_length, required=required, not_first=not_first)}

    def checked(value, field, label_, from_json):
        return bounds.code(_text_only(value, label_), field, max_length=max_length, required=required, label=label_)

    return Annotated[str | None if nullable or not required else str,
                     *_field(schema, checked, nullable=nullable, description=description, label=label)]


def text(max_length: int, *, required: bool = True, nullable: bool = False, description: str | None = None,
         label: str | None = None) -> Any:
    """One line of text (bounds.text): no control characters, up to max_length characters once
    surrounding whitespace is dropped."""
    schema = {"type": "string", "pattern": bounds.text_pattern(max_length, required=required)}

    def checked(value, field, label_, from_json):
        return bounds.text(_text_only(value, label_), field, max_length=max_length, required=required, label=label_)

    return Annotated[str | None if nullable or not required else str,
                     *_field(schema, checked, nullable=nullable, description=description, label=label)]


def lookup(*, nullable: bool = False, description: str | None = None, label: str | None = None) -> Any:
    """What a request names to look something up (bounds.scan): surrounding whitespace dropped, no
    control characters, not blank. Anything else is looked up and is a 404 when nothing has it."""
    schema = {"type": "string", "pattern": bounds.scan_pattern()}

    def checked(value, field, label_, from_json):
        scanned = bounds.scan(_text_only(value, label_), field, label=label_)
        if not scanned:
            raise ValidationFailed(f"{label_} is required", field=field)
        return scanned

    return Annotated[str | None if nullable else str,
                     *_field(schema, checked, nullable=nullable, description=description, label=label)]


# ---- dates and choices ----------------------------------------------------------------------


def day(*, nullable: bool = True, description: str | None = None) -> Any:
    """A calendar day (bounds.day) written exactly YYYY-MM-DD: JSON Schema's format "date", in the
    years bounds.DAY_PATTERN states."""
    schema = {"type": "string", "format": "date", "pattern": bounds.DAY_PATTERN}

    def checked(value, field, label_, from_json):
        text_ = _text_only(value, label_)
        if re.fullmatch(bounds.DAY_PATTERN, text_) is None:  # exactly: no spaces around, as the schema says
            raise ValidationFailed(f"{label_} must be a date written YYYY-MM-DD, not {shown_json(value)}")
        return bounds.day(text_, field, label=label_)

    return Annotated[date | None if nullable else date,
                     *_field(schema, checked, nullable=nullable, description=description, label=None)]


def choice(values: tuple[str, ...], *, nullable: bool = False, description: str | None = None) -> Any:
    """One of `values` (lower-case words), written in any case ("OPEN", "Open"): the lower-case
    value. The pattern spells each letter both ways, so the document says exactly that."""
    spelled = "|".join("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in v) for v in values)
    schema = {"type": "string", "pattern": f"^(?:{spelled})$"}

    def checked(value, field, label_, from_json):
        text_ = _text_only(value, label_)
        if not (text_.isascii() and text_.lower() in values):
            raise ValidationFailed(f"{label_} must be one of {', '.join(values)} (any case), not {shown_json(value)}")
        return text_.lower()

    return Annotated[str | None if nullable else str,
                     *_field(schema, checked, nullable=nullable, description=description, label=None)]
