"""Putaway suggestions: plain data in, one place out (no database)."""
from app.bounds import MAX_BALANCE
from app.inbound.putaway_rules import PickFace, Shelf, Suggestion, product_zone, suggest

FACE = PickFace(location_id=1, code="P-01", zone="P", on_hand=4, maximum=10)
HOLDING = Shelf(location_id=2, code="A-01", zone="A", on_hand=30)
EMPTY_A = Shelf(location_id=3, code="A-09", zone="A")
EMPTY_B = Shelf(location_id=4, code="B-01", zone="B")
DOCK = 99


def test_the_pick_face_comes_first_when_the_whole_quantity_fits_under_its_maximum():
    assert suggest(6, pick_faces=[FACE], holding=[HOLDING], empty=[EMPTY_A]) == Suggestion(1, "P-01", "pick_face")


def test_a_pick_face_without_room_for_all_of_it_is_passed_over_for_a_shelf_holding_the_product():
    assert suggest(7, pick_faces=[FACE], holding=[HOLDING], empty=[EMPTY_A]) == Suggestion(2, "A-01", "holding")


def test_stock_already_on_its_way_to_the_pick_face_counts_against_its_room():
    busy = PickFace(location_id=1, code="P-01", zone="P", on_hand=4, maximum=10, on_the_way=5)
    assert suggest(2, pick_faces=[busy], holding=[HOLDING]).rule == "holding"
    assert suggest(1, pick_faces=[busy], holding=[HOLDING]).rule == "pick_face"


def test_the_shelf_holding_the_most_of_it_wins_then_the_walk_order():
    small = Shelf(location_id=5, code="A-02", zone="A", on_hand=3)
    tied = Shelf(location_id=6, code="A-00", zone="A", on_hand=30, pick_sequence=1)
    assert suggest(5, holding=[small, HOLDING]).code == "A-01"
    assert suggest(5, holding=[small, HOLDING, tied]).code == "A-00"


def test_an_empty_shelf_in_the_pick_faces_zone_before_any_other_empty_shelf():
    face_in_b = PickFace(location_id=1, code="P-01", zone="B", on_hand=10, maximum=10)
    assert suggest(5, pick_faces=[face_in_b], empty=[EMPTY_A, EMPTY_B]) == Suggestion(4, "B-01", "empty_in_zone")


def test_without_a_pick_face_the_zone_is_the_one_it_was_received_in():
    assert suggest(5, empty=[EMPTY_A, EMPTY_B], received_zone="B").code == "B-01"
    assert product_zone([], "B") == "B"


def test_any_empty_shelf_when_none_is_in_the_zone_lowest_walk_order_first():
    first = Shelf(location_id=7, code="Z-01", zone="Z", pick_sequence=1)
    assert suggest(5, empty=[EMPTY_B, first], received_zone="Q") == Suggestion(7, "Z-01", "empty")
    assert suggest(5, empty=[EMPTY_B, EMPTY_A]).code == "A-09"


def test_no_place_fits_and_nothing_is_suggested():
    full = PickFace(location_id=1, code="P-01", zone="P", on_hand=10, maximum=10)
    assert suggest(1, pick_faces=[full]) is None
    assert suggest(1) is None


def test_the_location_the_stock_is_in_is_never_suggested():
    dock = Shelf(location_id=DOCK, code="DOCK", zone=None, on_hand=50)
    assert suggest(5, holding=[dock], empty=[EMPTY_A], exclude=[DOCK]).code == "A-09"


def test_a_shelf_that_would_pass_the_most_one_location_holds_is_passed_over():
    brim = Shelf(location_id=8, code="A-03", zone="A", on_hand=MAX_BALANCE - 2)
    assert suggest(5, holding=[brim, HOLDING]).code == "A-01"
    assert suggest(5, holding=[brim]) is None


def test_shelves_are_only_read_when_the_pick_face_does_not_take_it():
    def never():
        raise AssertionError("the shelves were read although the pick face takes it")
        yield

    assert suggest(2, pick_faces=[FACE], holding=never(), empty=never()).rule == "pick_face"
