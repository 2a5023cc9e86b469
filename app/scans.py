"""What a scan says, read with biip (a maintained GS1 parser): the GTIN that an EAN-13, UPC-A,
EAN-8 or GTIN-14 barcode, or a GS1-128 / DataMatrix label (application identifier 01, raw or as
printed "(01)..."), carries — as the 14 digits every form of it shares, so that a UPC-A scan finds
the product whose barcode was saved as its EAN-13, and a carton's GS1-128 label finds the item.
"""
from __future__ import annotations

from functools import lru_cache

import biip
from biip.gs1_messages import GS1Message

_LONGEST = 200  # a GS1-128 symbol holds at most 48 characters; anything far longer is not one


@lru_cache(maxsize=4096)
def gtin_of(scan: str | None) -> str | None:
    """The GTIN-14 a scan carries, or None when it carries none (a SKU, a location code...).

    Remembered per process for the last 4,096 scans: a picker scans the same barcode again and
    again (each unit counted or received is a scan), and parsing one cost a count scan a tenth of
    its CPU (bench/inbound.py)."""
    scan = (scan or "").strip()
    if not scan or len(scan) > _LONGEST or not (scan[0].isdigit() or scan[0] in "(]"):
        return None
    try:
        if scan.startswith("("):
            element = GS1Message.parse_hri(scan).element_strings.get(ai="01")
            gtin = element.gtin if element is not None else None
        else:
            gtin = biip.parse(scan).gtin
    except (biip.BiipException, ValueError, AttributeError, IndexError):
        return None
    return gtin.as_gtin_14() if gtin is not None else None
