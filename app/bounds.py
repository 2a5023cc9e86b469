"""Every bound the warehouse keeps, stated once.

The ledger and the use cases check values with these functions, whichever entrypoint called
them; the models take their column lengths from these constants; migration 0002 writes the same
bounds into the database as CHECK constraints; the API's schemas, the page forms, the CSV
importer and the webhook reader import them rather than restating them. A refusal is a
ValidationFailed naming the field, in words a person can act on; what the person typed is echoed
back cut to a readable length (`shown`).

Each checker takes what an entrypoint has (a JSON value or a form's text) and hands back the clean
value or raises.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime

from app.errors import ValidationFailed

# ---- numbers --------------------------------------------------------------------------------

MAX_MOVEMENT = 1_000_000  # units in one movement (and in one order or purchase order line)
MAX_BALANCE = 2_147_483_647  # units one balance (product at a location) may hold: a 32-bit column
MAX_LINE_QUANTITY = MAX_MOVEMENT
MAX_COUNT = MAX_MOVEMENT  # units counted of one product at one location
MAX_PICK_SEQUENCE = 2_000_000_000
MAX_WEIGHT_KG = 100_000.0
MAX_DIMENSION_M = 100.0  # a length, width or height, in metres (as Starshipit's packages)
MAX_STARSHIPIT_ID = 2**63 - 1  # Starshipit's order_id: a 64-bit column
MAX_OFFSET = 10_000_000  # how far a list may be paged
MAX_PO_LINES = 1000  # lines on one purchase order
MAX_TOLERANCE_PERCENT = 100  # over-receipt a manager may allow on a PO or product, % of what was ordered
MAX_STOCKTAKE_LOCATIONS = 5_000  # locations one stocktake counts
MAX_CYCLE_DAYS = 3_650  # a cycle count's "not counted for N days" (and its look-back for movers)
FIRST_YEAR, LAST_YEAR = 2000, 2999  # a date a person gives (a PO's expected date) is in these years

# ---- text (characters) ----------------------------------------------------------------------

SKU_MAX = 64
PRODUCT_NAME_MAX = 300
BARCODE_MAX = 128
BARCODES_PER_PRODUCT = 50
LOCATION_CODE_MAX = 64
ZONE_MAX = 32
WAREHOUSE_CODE_MAX = 32
WAREHOUSE_NAME_MAX = 200
REFERENCE_MAX = 64  # a movement's reference (order number, PO number, note)
PO_NUMBER_MAX = 50
SUPPLIER_MAX = 200
ORDER_NUMBER_MAX = 50  # Starshipit: 1-50 characters
NOTE_MAX = 1000
USERNAME_MAX = 64
TOKEN_NAME_MAX = 100
PASSWORD_MAX = 200
REASON_CODE_MAX = 32  # an adjustment's reason code (the movement's reason column)
REASON_LABEL_MAX = 100
SHOWN_MAX = 40  # characters of a person's input echoed back in a message
SEARCH_MAX = 100  # characters a search or filter box takes (its value travels in the address)
GS1_SEPARATOR = "\x1d"  # FNC1 as a keyboard-wedge scanner sends it inside a GS1-128 scan

# Characters no text field may hold: C0 controls and DEL (tab and newlines only where a field is
# multi-line), C1 controls, and lone surrogates (JSON can carry them; no database can store them).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_WHOLE = re.compile(r"[+-]?\d+")


def shown(value, limit: int = SHOWN_MAX) -> str:
    """What a person sent, fit to repeat in a message: one line, at most `limit` characters."""
    text = _CONTROL_OR_BREAK.sub("?", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bad_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character no text field may hold, or None."""
    found = (_CONTROL if multiline else _CONTROL_OR_BREAK).search(text)
    return found.group() if found else None


def text(value, field: str, *, max_length: int, required: bool = True, label: str | None = None,
         multiline: bool = False) -> str | None:
    """Text as stored: surrounding whitespace dropped, no control characters, within max_length.
    Blank is None, or refused when required."""
    label = label or field.replace("_", " ")
    if value is None:
        value = ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationFailed(f"{label} must be text", field=field)
    cleaned = str(value).strip()
    if not cleaned:
        if required:
            raise ValidationFailed(f"{label} is required", field=field)
        return None
    if bad_character(cleaned, multiline=multiline) is not None:
        raise ValidationFailed(f"{label} contains a control character; type or scan it again", field=field)
    if len(cleaned) > max_length:
        raise ValidationFailed(f"{label} is {len(cleaned):,} characters long; at most {max_length} are allowed",
                               field=field)
    return cleaned


def scan(value, field: str, *, label: str | None = None) -> str:
    """What was typed or scanned to look something up (a SKU, barcode, code, number): surrounding
    whitespace dropped; "" when nothing usable was given; a control character refused (a scanner
    misconfigured to send them, or a hostile request: no database may be asked for it), except the
    group separator GS1-128 scanners send between fields."""
    if not isinstance(value, str):
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else ""
    cleaned = value.strip()
    if bad_character(cleaned.replace(GS1_SEPARATOR, "")) is not None:
        raise ValidationFailed(f"{label or field.replace('_', ' ')} contains a control character; "
                               "scan or type it again", field=field)
    return cleaned


def status_filter(value, field: str, statuses) -> str | None:
    """A list's status filter as typed, in any case: one of `statuses`, or None (every status) when
    blank or "all"."""
    typed = scan(value, field).lower()
    if not typed or typed == "all":
        return None
    if typed not in statuses:
        raise ValidationFailed(f"{field.replace('_', ' ')} must be one of {', '.join(statuses)}, "
                               f"not {shown(value)!r}", field=field)
    return typed


def code(value, field: str, *, max_length: int, required: bool = True, label: str | None = None) -> str | None:
    """A code or barcode: text without spaces inside."""
    cleaned = text(value, field, max_length=max_length, required=required, label=label)
    if cleaned is not None and any(c.isspace() for c in cleaned):
        raise ValidationFailed(f"{label or field.replace('_', ' ')} cannot contain spaces", field=field)
    return cleaned


def whole(value, field: str, *, minimum: int, maximum: int, label: str | None = None,
          zero: bool = True) -> int:
    """A whole number from minimum to maximum (and not 0 unless `zero`), given as a JSON number or
    typed text ("12", " +3 ", "-2"). 12.0 is 12; 1.5, "1e3", "" and True are refused."""
    label = label or field.replace("_", " ")
    number = _as_whole(value)
    if number is None:
        raise ValidationFailed(f"{label} must be a whole number, not {shown(value)!r}" if value not in ("", None)
                               else f"{label} is required", field=field)
    if number == 0 and not zero:
        raise ValidationFailed(f"{label} cannot be zero: it must be {_range(minimum, maximum, zero)}", field=field)
    if number < minimum or number > maximum:
        raise ValidationFailed(f"{label} must be {_range(minimum, maximum, zero)}", field=field)
    return number


def _as_whole(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        typed = value.strip()
        if _WHOLE.fullmatch(typed):
            digits = typed.lstrip("+-").lstrip("0") or "0"
            if len(digits) > 30:  # far past any bound; int() of thousands of digits is refused anyway
                return -(10**30) if typed.startswith("-") else 10**30
            return int(typed)
    return None


def _range(minimum: int, maximum: int, zero: bool) -> str:
    if minimum == -maximum and not zero:
        return f"a whole number from -{maximum:,} to {maximum:,}, not 0"
    if minimum == 0 and not zero:
        return f"a whole number from 1 to {maximum:,}"
    return f"a whole number from {minimum:,} to {maximum:,}"


def quantity(value, field: str = "quantity", *, maximum: int = MAX_MOVEMENT, label: str | None = None) -> int:
    """Units moved, ordered or received: a whole number from 1 to `maximum`."""
    return whole(value, field, minimum=1, maximum=maximum, label=label)


def signed_quantity(value, field: str = "quantity", *, label: str | None = None) -> int:
    """An adjustment: + adds, - removes, never 0, at most MAX_MOVEMENT either way."""
    return whole(value, field, minimum=-MAX_MOVEMENT, maximum=MAX_MOVEMENT, zero=False, label=label)


def count(value, field: str = "counted", *, label: str | None = None) -> int:
    """Units counted of one product at one location: 0 to MAX_COUNT."""
    return whole(value, field, minimum=0, maximum=MAX_COUNT, label=label)


def tolerance_percent(value, field: str = "tolerance_percent", *, label: str | None = None) -> int | None:
    """An over-receipt tolerance: blank (none set) or a whole percent from 0 to MAX_TOLERANCE_PERCENT."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return whole(value, field, minimum=0, maximum=MAX_TOLERANCE_PERCENT, label=label or "tolerance (%)")


_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
DAY_PATTERN = "^2[0-9]{3}-[0-9]{2}-[0-9]{2}$"  # with JSON Schema's format "date": exactly what `day` takes
assert (FIRST_YEAR, LAST_YEAR) == (2000, 2999), "DAY_PATTERN states these years"


def day(value, field: str, *, label: str | None = None, required: bool = False) -> date | None:
    """A calendar date written YYYY-MM-DD (as a date field sends it), from FIRST_YEAR to LAST_YEAR.
    Blank is None, or refused when required."""
    label = label or field.replace("_", " ")
    if isinstance(value, date) and not isinstance(value, datetime):
        found = value
    elif value is None or isinstance(value, str):
        typed = (value or "").strip()
        if not typed:
            if required:
                raise ValidationFailed(f"{label} is required", field=field)
            return None
        written = _DAY.fullmatch(typed)
        if written is None:
            raise ValidationFailed(f"{label} must be a date written YYYY-MM-DD, not {shown(typed)!r}", field=field)
        try:
            found = date(*(int(part) for part in written.groups()))
        except ValueError:
            raise ValidationFailed(f"{label} {typed} is not a day of the calendar", field=field) from None
    else:
        raise ValidationFailed(f"{label} must be a date written YYYY-MM-DD, not {shown(value)!r}", field=field)
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise ValidationFailed(f"{label} must be from {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31", field=field)
    return found


def pick_sequence(value, field: str = "pick_sequence") -> int | None:
    """A location's place in the pick walk: blank (none) or 0 to MAX_PICK_SEQUENCE."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return whole(value, field, minimum=0, maximum=MAX_PICK_SEQUENCE)


def measure(value, field: str, *, maximum: float, unit: str, label: str | None = None) -> float | None:
    """A finite number from 0 to `maximum` (blank: None), given as a JSON number or typed text."""
    label = label or field.replace("_", " ")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, (int, float)):
        number = float(value) if not isinstance(value, int) or abs(value) < 10**20 else math.inf
    else:
        try:
            number = float(str(value).strip())
        except (TypeError, ValueError, OverflowError):
            number = None
    if number is None or not math.isfinite(number):
        raise ValidationFailed(f"{label} must be a number of {unit}, not {shown(value)!r}", field=field)
    if number < 0 or number > maximum:
        raise ValidationFailed(f"{label} must be from 0 to {maximum:,g} {unit}", field=field)
    return number


def weight_kg(value, field: str = "weight") -> float | None:
    return measure(value, field, maximum=MAX_WEIGHT_KG, unit="kg")


def dimension_m(value, field: str) -> float | None:
    return measure(value, field, maximum=MAX_DIMENSION_M, unit="metres")


def offset(value, field: str = "offset") -> int:
    return whole(value, field, minimum=0, maximum=MAX_OFFSET)


MAX_ROW_ID = 2**31 - 1  # the largest id a request may name: ids are 32-bit columns


def row_id(value, field: str, *, label: str | None = None) -> int:
    """The id of a row a request names (a receipt, a task, a stocktake): 1 to MAX_ROW_ID."""
    return whole(value, field, minimum=1, maximum=MAX_ROW_ID, label=label)

# ---- the same rules as JSON Schema patterns --------------------------------------------------
# The API's OpenAPI document states what `code`, `text` and `scan` accept as a `pattern` (read the
# same way by ECMA-262, as JSON Schema says, and by Python's re), so a client's validator accepts
# exactly what these checkers accept. Lone surrogates are left out of the classes: ECMA-262 cannot
# name them, and neither a JSON reader nor a URL decoder in front of these checkers hands one over.

# What str.strip() drops (every character whose isspace() is true), the characters
# `bad_character` refuses on one line, and the characters that are neither, as ECMA-262 classes.
_SPACES = r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_LINE_CONTROLS = r"\u0000-\u001f\u007f-\u009f"
_INVISIBLE = r"\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # both together
_SPACE = f"[{_SPACES}]"
_VISIBLE = f"[^{_INVISIBLE}]"


def _escaped(characters: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in characters)


def text_pattern(max_length: int | None, *, required: bool = True, controls: str = _LINE_CONTROLS) -> str:
    """The pattern of what `text(..., max_length=max_length)` accepts on one line (max_length
    None: any length): surrounding whitespace, then 1 to max_length characters that start and end
    visible and hold none of `controls`. Not required: blank as well."""
    if max_length == 1:
        inner = _VISIBLE
    else:
        middle = "*" if max_length is None else f"{{0,{max_length - 2}}}"
        inner = f"{_VISIBLE}(?:[^{controls}]{middle}{_VISIBLE})?"
    return f"^{_SPACE}*(?:{inner}){'' if required else '?'}{_SPACE}*$"


def scan_pattern() -> str:
    """The pattern of what `scan` accepts when something was given: text of any length, with
    GS1_SEPARATOR allowed inside (strip() drops it at either end, as a space)."""
    separator = ord(GS1_SEPARATOR)
    assert 0 < separator < 0x1F
    controls = f"\\u0000-\\u{separator - 1:04x}\\u{separator + 1:04x}-\\u001f\\u007f-\\u009f"
    return text_pattern(None, controls=controls)


def code_pattern(max_length: int, *, required: bool = True, not_first: str = "") -> str:
    """The pattern of what `code(..., max_length=max_length)` accepts: surrounding whitespace, then
    1 to max_length visible characters (none of `not_first` first). Not required: blank as well."""
    first = f"[^{_INVISIBLE}{_escaped(not_first)}]" if not_first else _VISIBLE
    inner = first if max_length == 1 else f"{first}{_VISIBLE}{{0,{max_length - 1}}}"
    return f"^{_SPACE}*(?:{inner}){'' if required else '?'}{_SPACE}*$"


# ---- outbound routing (issue 9) -------------------------------------------------------------

MAX_ROUTING_RULES = 200  # rules in the ordered list
MAX_SKUS_PER_MATCH = 500  # SKUs one rule's skus_any or skus_all names
ROUTING_RULE_NAME_MAX = 100  # a rule's name (the order keeps the name of the rule that routed it)
ROUTE_MATCH_TEXT_MAX = 200  # a rule's channel, reference prefix, country or account


# ---- outbound labels (issue 9) ----------------------------------------------------------------

PACKAGE_NAME_MAX = 64  # a box size's name ("Small satchel", "Carton 40")
MAX_PACKAGE_CM = MAX_DIMENSION_M * 100  # a box's length, width or height, in centimetres (Starshipit: metres)
LABEL_ERROR_MAX = 2000  # what a failed label job keeps of Starshipit's words
LABEL_PROGRESS_MAX = 200  # the label job's progress line
MAX_LABEL_ATTEMPTS = 1_000_000  # runs of one label job


# ---- outbound picking (issue 9) ---------------------------------------------------------------

MAX_BATCH_ORDERS = 50  # orders (one tote each) in one batch pick job
MAX_RELEASE_ORDERS = 1_000  # orders one release of pick jobs takes
MAX_ORDER_AGE_MINUTES = 525_600  # a release's "allocated at least N minutes ago" (a year)
MAX_PICK_JOB_LIST = 200  # pick jobs a list shows

def package_cm(value, field: str, *, label: str | None = None) -> float:
    """A box's length, width or height in centimetres: a number above 0 and at most MAX_PACKAGE_CM."""
    label = label or f"{field.replace('_', ' ')} (cm)"
    number = measure(value, field, maximum=MAX_PACKAGE_CM, unit="cm", label=label)
    if number is None:
        raise ValidationFailed(f"{label} is required", field=field)
    if number <= 0:
        raise ValidationFailed(f"{label} must be more than 0 cm", field=field)
    return number


def package_m(value, field: str, *, label: str | None = None) -> float:
    """A package's length, width or height as Starshipit takes it, in metres: above 0, at most
    MAX_DIMENSION_M."""
    label = label or f"{field.replace('_', ' ')} (m)"
    number = measure(value, field, maximum=MAX_DIMENSION_M, unit="metres", label=label)
    if number is None:
        raise ValidationFailed(f"{label} is required", field=field)
    if number <= 0:
        raise ValidationFailed(f"{label} must be more than 0 metres", field=field)
    return number
