"""Where received stock should go: plain data in, one suggested place out (no database).

The rules, in order, for `quantity` units of one product:
1. its pick face (a location with a replenishment rule for it) when the whole quantity fits under
   the rule's maximum, counting what is there and what open putaway tasks already take there;
2. else a storage location already holding the product (the one holding most: stock kept together);
3. else an empty storage location in the product's zone (its pick face's zone, else the zone of
   the location it is received at);
4. else any empty storage location.
"Empty" means nothing of any product on hand and no open putaway task heading there. Within a
rule, the lowest pick sequence wins, then the code. No place fits: None (the picker chooses).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.bounds import MAX_BALANCE


@dataclass(frozen=True)
class PickFace:
    location_id: int
    code: str
    zone: str | None
    on_hand: int  # of this product
    maximum: int  # the replenishment rule's maximum
    on_the_way: int = 0  # open putaway tasks of this product already suggested here
    pick_sequence: int | None = None


@dataclass(frozen=True)
class Shelf:
    """A storage location: one holding the product (on_hand > 0) or an empty one."""

    location_id: int
    code: str
    zone: str | None
    on_hand: int = 0  # of this product
    pick_sequence: int | None = None


@dataclass(frozen=True)
class Suggestion:
    location_id: int
    code: str
    rule: str  # "pick_face", "holding", "empty_in_zone", "empty"


def _walk_order(place) -> tuple:
    return (place.pick_sequence is None, place.pick_sequence or 0, place.code)


def fits_pick_face(face: PickFace, quantity: int) -> bool:
    return face.on_hand + face.on_the_way + quantity <= face.maximum


def product_zone(pick_faces: Iterable[PickFace], received_zone: str | None) -> str | None:
    """The zone an empty shelf should be in: the product's pick face's, else where it was received."""
    for face in sorted(pick_faces, key=_walk_order):
        if face.zone:
            return face.zone
    return received_zone


def suggest(
    quantity: int,
    *,
    pick_faces: Iterable[PickFace] = (),
    holding: Iterable[Shelf] = (),
    empty: Iterable[Shelf] = (),
    received_zone: str | None = None,
    exclude: Iterable[int] = (),
) -> Suggestion | None:
    """The place for `quantity` units, by the rules above; `exclude`: location ids never suggested
    (the location the stock is in)."""
    excluded = set(exclude)
    faces = [face for face in pick_faces if face.location_id not in excluded]
    for face in sorted(faces, key=_walk_order):
        if fits_pick_face(face, quantity):
            return Suggestion(face.location_id, face.code, "pick_face")
    shelves = [
        shelf for shelf in holding
        if shelf.location_id not in excluded and shelf.on_hand > 0 and shelf.on_hand + quantity <= MAX_BALANCE
    ]
    if shelves:
        best = min(shelves, key=lambda shelf: (-shelf.on_hand, *_walk_order(shelf)))
        return Suggestion(best.location_id, best.code, "holding")
    free = sorted((shelf for shelf in empty if shelf.location_id not in excluded and shelf.on_hand == 0),
                  key=_walk_order)
    zone = product_zone(faces, received_zone)
    if zone:
        for shelf in free:
            if shelf.zone == zone:
                return Suggestion(shelf.location_id, shelf.code, "empty_in_zone")
    if free:
        return Suggestion(free[0].location_id, free[0].code, "empty")
    return None
