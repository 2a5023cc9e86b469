"""Picking's rules over plain data: the walk's order, batches, stops per location x product x tote,
cutting stops, who keeps units found at a short location, and which stop a scan names."""
from __future__ import annotations

import pytest

from app.errors import Conflict
from app.outbound.picking import Leg, Scanned, StopView, batches, match_stop, plan_stops, split_found, trim, walk_key


def leg(location, seq, tote, quantity, line=1, sku="SKU-A", position=None):
    return Leg(hash(location) % 10_000, location, seq, hash(sku) % 1000, sku, 1, line, tote, position or tote, quantity)


def test_the_walk_goes_by_pick_sequence_none_last_then_code_then_tote():
    keys = sorted([walk_key(None, "A-01"), walk_key(20, "B-01"), walk_key(10, "Z-01", 2), walk_key(10, "Z-01", 1),
                   walk_key(10, "C-01")])
    assert keys == [walk_key(10, "C-01"), walk_key(10, "Z-01", 1), walk_key(10, "Z-01", 2), walk_key(20, "B-01"),
                    walk_key(None, "A-01")]


def test_batches_of_at_most_n_in_order():
    assert batches(["a", "b", "c", "d", "e"], 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert batches([], 3) == []
    with pytest.raises(ValueError):
        batches(["a"], 0)


def test_one_stop_per_location_product_and_tote_in_walk_order():
    stops = plan_stops([leg("P-02", 2, tote=7, quantity=1), leg("P-01", 1, tote=8, quantity=2, position=2),
                        leg("P-01", 1, tote=7, quantity=1, position=1), leg("P-02", 2, tote=7, quantity=3),
                        leg("S-01", None, tote=7, quantity=0)])
    assert [(s.location_code, s.tote_id, s.quantity) for s in stops] == [("P-01", 7, 1), ("P-01", 8, 2), ("P-02", 7, 4)]


def test_trim_cuts_the_last_stops_first_and_never_below_zero():
    assert trim([3, 2, 4], 9) == [3, 2, 4]
    assert trim([3, 2, 4], 4) == [3, 1, 0]
    assert trim([3, 2], 0) == [0, 0]
    assert trim([3, 2], -5) == [0, 0]


def test_found_units_go_to_this_jobs_stops_first_then_the_others():
    assert split_found(3, [2, 2], [5]) == ([2, 1], [0])
    assert split_found(6, [2, 2], [5]) == ([2, 2], [2])
    assert split_found(0, [2], [1]) == ([0], [0])


STOPS = [StopView(1, 1, 10, "P-01", 100, "SKU-A", 50, "T-01", 1, 2),
         StopView(2, 2, 10, "P-01", 100, "SKU-A", 51, "T-02", 2, 1),
         StopView(3, 3, 11, "P-02", 101, "SKU-B", 50, "T-01", 1, 3),
         StopView(4, 4, 12, "P-03", 102, "SKU-C", 50, "T-01", 1, 0)]


def refused(scanned, quantity=1):
    with pytest.raises(Conflict) as caught:
        match_stop(STOPS, scanned, quantity)
    return caught.value.code, caught.value.message


def test_a_scan_names_its_stop():
    assert match_stop(STOPS, Scanned(10, "P-01", 100, "SKU-A", 51, "T-02"), 1)[0].id == 2
    assert [s.id for s in match_stop(STOPS, Scanned(10, "P-01", 100, "SKU-A"), check_tote=False)] == [1, 2]


def test_wrong_scans_are_refused_in_words():
    code, words = refused(Scanned(12, "P-03", 102, "SKU-C", 50, "T-01"))  # its stop is done
    assert code == "wrong_location" and "P-03" in words and "P-01" in words
    assert refused(Scanned(None, "NOPE", 100, "SKU-A", 50, "T-01"))[0] == "wrong_location"
    code, words = refused(Scanned(10, "P-01", 101, "SKU-B", 50, "T-01"))
    assert code == "wrong_sku" and "SKU-B" in words and "SKU-A" in words
    code, words = refused(Scanned(10, "P-01", 100, "SKU-A", 52, "T-09"))
    assert code == "wrong_tote" and "T-09" in words and "T-01, T-02" in words
    code, words = refused(Scanned(10, "P-01", 100, "SKU-A", 50, "T-01"), quantity=3)
    assert code == "over_pick" and "2 more" in words


def test_a_job_with_every_stop_done_refuses_more():
    with pytest.raises(Conflict) as caught:
        match_stop([STOPS[3]], Scanned(12, "P-03", 102, "SKU-C", 50, "T-01"), 1)
    assert caught.value.code == "job_done"
