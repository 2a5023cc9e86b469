"""What a scan says, read with biip (a maintained GS1 parser).

A plain barcode (EAN-13, UPC-A, EAN-8, GTIN-14) carries a GTIN only. A GS1 label (a GS1-128,
GS1 DataMatrix or GS1 QR symbol) carries element strings, each an application identifier (AI)
and its value; the ones the warehouse reads are

    01  GTIN of the item             10  lot (batch)              17  expiry date (YYMMDD)
    02  GTIN of the items inside     21  serial number            30 or 37  count of units

in the forms a scanner or a person sends them: raw, with the group separator (GS, \\x1d) scanners
send for FNC1 after a field of variable length; behind a symbology identifier (]C1 GS1-128, ]d2
DataMatrix, ]Q3 QR, ]e0 DataBar); or as printed under the bars, "(01)09506000134352(37)12".

The GTIN is given as the 14 digits every form of it shares, so that a UPC-A scan finds the product
whose barcode was saved as its EAN-13, and a carton's GS1-128 label finds the item. A label's
count is the quantity of the scan (`count_of`): one scan of a carton labelled (37)12 moves,
receives, counts or picks 12 units.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import biip
from biip.gs1_messages import GS1Message

from app import bounds
from app.errors import ValidationFailed

_LONGEST = 200  # a GS1-128 symbol holds at most 48 characters; anything far longer is not one
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Scan:
    """What a scan carries: the GTIN as 14 digits, and what a GS1 label adds to it (None when
    absent). `count` is the label's as printed (0 and past any bound included): `count_of` is the
    quantity a use case may take."""

    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    count: int | None = None


NOTHING = Scan()


def read_scan(code) -> Scan:
    """What a scan carries; NOTHING for a scan that is no barcode of a GTIN (a SKU, a location
    code, garbage, an overlong text) or whose GTIN fails its check digit (misread: none of the
    label is believed)."""
    if not isinstance(code, str):
        return NOTHING
    return _read(code)


@lru_cache(maxsize=4096)
def _read(code: str) -> Scan:
    """Remembered per process for the last 4,096 scans: a picker scans the same barcode again and
    again (each unit counted or received is a scan), and parsing one cost a count scan a tenth of
    its CPU (bench/inbound.py)."""
    scan = code.strip()
    if not scan or len(scan) > _LONGEST or not (scan[0].isdigit() or scan[0] in "(]"):
        return NOTHING
    try:
        if scan.startswith("("):  # as printed: no spaces belong in it (not even in a lot)
            return _from_message(GS1Message.parse_hri(_SPACES.sub("", scan)))
        parsed = biip.parse(scan)
    except (biip.BiipException, ValueError, AttributeError, IndexError, TypeError):
        return NOTHING
    if parsed.gs1_message is not None and _names_an_item(parsed.gs1_message):
        return _from_message(parsed.gs1_message)
    # A plain barcode. Its digits may read as element strings too (an EAN-13 from France, 300-379,
    # reads as AI 30 or 37 and a "count"): a label counts only when an AI names its GTIN.
    return Scan(gtin=parsed.gtin.as_gtin_14()) if parsed.gtin is not None else NOTHING


def _names_an_item(message: GS1Message) -> bool:
    return any(element.ai.ai in ("01", "02") for element in message.element_strings)


def _from_message(message: GS1Message) -> Scan:
    elements = message.element_strings
    item = elements.get(ai="01") or elements.get(ai="02")
    if item is None or item.gtin is None:  # none, or a check digit that does not add up
        return NOTHING
    expiry, lot, serial = elements.get(ai="17"), elements.get(ai="10"), elements.get(ai="21")
    count = elements.get(ai="37") or elements.get(ai="30")
    return Scan(
        gtin=item.gtin.as_gtin_14(),
        lot=lot.value if lot is not None else None,
        expiry=expiry.date if expiry is not None else None,
        serial=serial.value if serial is not None else None,
        count=int(count.value) if count is not None else None,
    )


def gtin_of(scan) -> str | None:
    """The GTIN-14 a scan carries, or None when it carries none (a SKU, a location code...)."""
    return read_scan(scan).gtin


def count_of(code, field: str = "product") -> int | None:
    """The units a scan of a product counts: a GS1 label's count (AI 37, else 30) when it carries
    one along with the item's GTIN, else None (the use case keeps the quantity typed). A count of
    0 or past what one movement may hold is refused in words: the label is not the unit scanned."""
    found = read_scan(code)
    if found.count is None or found.gtin is None:
        return None
    if not 1 <= found.count <= bounds.MAX_MOVEMENT:
        raise ValidationFailed(
            f"this label counts {found.count:,} units; one scan takes 1 to {bounds.MAX_MOVEMENT:,}: scan the "
            "item's own barcode and type the quantity", code="label_count", field=field)
    return found.count
