"""Code 128 B barcodes for location labels."""
import pytest

from app.web.barcodes import PATTERNS, code128_svg, code128b_values, code128b_widths


def test_every_symbol_is_eleven_modules_and_stop_is_thirteen():
    assert len(PATTERNS) == 107
    assert len(set(PATTERNS)) == 107
    assert all(sum(map(int, p)) == 11 for p in PATTERNS[:106])
    assert sum(map(int, PATTERNS[106])) == 13


def test_a_known_string_encodes_to_the_known_pattern():
    # "A": START B (104), 'A' (33), check (104 + 1*33) % 103 = 34, STOP
    assert code128b_values("A") == [104, 33, 34, 106]
    assert code128b_widths("A") == "211214" + "111323" + "131123" + "2331112"
    # check = (104 + 48*1 + 42*2 + 42*3 + 17*4 + 18*5 + 19*6 + 35*7) % 103 = 879 % 103 = 55
    assert code128b_values("PJJ123C") == [104, 48, 42, 42, 17, 18, 19, 35, 55, 106]


def test_svg_draws_one_rect_per_bar_with_quiet_zones():
    svg = str(code128_svg("A-01"))
    bars = (len(code128b_widths("A-01")) + 1) // 2  # bars and spaces alternate, starting and ending with a bar
    assert svg.count("<rect") == bars + 1  # plus the white background
    assert 'aria-label="Barcode A-01"' in svg


def test_characters_outside_code_set_b_are_refused():
    with pytest.raises(ValueError):
        code128b_values("Å-01")
    with pytest.raises(ValueError):
        code128b_values("")
