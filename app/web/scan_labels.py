"""What a scan names, in a few words: the instant feedback under a scan field, asked for by the scan
pages' small GET checks (a 4xx in words when nothing has that code). A product scan that is a GS1
label counting its units (AI 30 or 37) says how many too, so that the scanner script fills the
quantity field before the scan is sent (the use case takes the same count: app.scans.count_of)."""
from __future__ import annotations

from sqlmodel import Session

from app.catalog import find_product
from app.errors import ValidationFailed
from app.models import Location, LocationType, Product
from app.scans import count_of
from app.warehouses import find_location


def location_label(place: Location, *, reason_hint: bool = False) -> str:
    """"A-01 · storage · zone A"; with reason_hint, a quarantine location says it needs a reason."""
    label = f"{place.code} · {place.type}" + (f" · zone {place.zone}" if place.zone else "")
    if reason_hint and place.type == LocationType.QUARANTINE:
        label += " · needs a reason"
    return label


def product_label(product: Product) -> str:
    return f"{product.sku} · {product.name}"


def label_scan(session: Session, warehouse_id: int, kind: str, code: str, *, reason_hint: bool = False) -> str:
    """The label of the location (kind "location", in the warehouse) or product (kind "product")
    a scan names."""
    if kind == "location":
        return location_label(find_location(session, warehouse_id, code), reason_hint=reason_hint)
    if kind == "product":
        return product_label(find_product(session, code))
    raise ValidationFailed("kind must be location or product", field="kind")


def check_answer(label: str, kind: str, code) -> dict:
    """A scan check's JSON answer: {"label": ...}, and {"quantity": n} as well when a product scan
    is a GS1 label counting n units. A label counting 0 units, or more than one scan may take, is
    refused (a 4xx in words) as the use case will refuse it."""
    answer = {"label": label}
    if kind == "product" and (count := count_of(code)) is not None:
        answer["quantity"] = count
    return answer


def scan_check_answer(session: Session, warehouse_id: int, kind: str, code: str, *, reason_hint: bool = False) -> dict:
    """`label_scan`'s label as a scan check's JSON answer (`check_answer`)."""
    return check_answer(label_scan(session, warehouse_id, kind, code, reason_hint=reason_hint), kind, code)
