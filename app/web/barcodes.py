"""Code 128 (code set B) barcodes drawn as inline SVG, for location labels.

Each symbol is six alternating bar/space widths (11 modules); the stop symbol
has seven (13 modules). A barcode is: quiet zone, START B, the characters,
the check symbol (start value + sum of position x value, mod 103), STOP, quiet zone.
"""
from __future__ import annotations

from markupsafe import Markup, escape

# Bar/space widths of symbol values 0..106 (106 is STOP), from the Code 128 specification.
PATTERNS = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 "
    "221312 231212 112232 122132 122231 113222 123122 123221 223211 221132 "
    "221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 "
    "212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 "
    "231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 "
    "231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 "
    "112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 "
    "111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 "
    "214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 "
    "114131 311141 411131 211412 211214 211232 2331112"
).split()
START_B = 104
STOP = 106
QUIET_MODULES = 10


def code128b_values(text: str) -> list[int]:
    """Symbol values for text, with start, check and stop."""
    if not text:
        raise ValueError("nothing to encode")
    values = [START_B]
    for char in text:
        code = ord(char)
        if not 32 <= code <= 126:
            raise ValueError(f"Code 128 B cannot encode {char!r}")
        values.append(code - 32)
    check = (START_B + sum(position * value for position, value in enumerate(values[1:], start=1))) % 103
    return values + [check, STOP]


def code128b_widths(text: str) -> str:
    """The bar/space widths of the whole symbol, starting with a bar, as one string of digits."""
    return "".join(PATTERNS[value] for value in code128b_values(text))


def code128_svg(text: str, *, module: float = 2, height: int = 60) -> Markup:
    """An SVG image of text as a Code 128 B barcode (black bars on white, quiet zones included)."""
    widths = [int(w) for w in code128b_widths(text)]
    total = sum(widths) + 2 * QUIET_MODULES
    x = QUIET_MODULES
    bars = []
    for index, width in enumerate(widths):
        if index % 2 == 0:
            bars.append(f'<rect x="{x}" y="0" width="{width}" height="{height}"/>')
        x += width
    label = escape(text)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img" aria-label="Barcode {label}" '
        f'width="{total * module:g}" height="{height}" viewBox="0 0 {total} {height}" preserveAspectRatio="none" '
        f'shape-rendering="crispEdges"><rect width="{total}" height="{height}" fill="#fff"/>'
        f'<g fill="#000">{"".join(bars)}</g></svg>'
    )
