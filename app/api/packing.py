"""Packing a picked WMS order: the box's items checked against what was picked, then the label job."""
from __future__ import annotations

from pydantic import Field

from app import bounds, db
from app.api import bp, fields
from app.api.orders import OrderPath
from app.api.schemas import Answer, Body, Quantity, Sku
from app.api.spec import operation
from app.outbound import packing


class PackedItem(Body):
    sku: Sku
    quantity: Quantity


class PackageIn(Body):
    name: fields.text(bounds.PACKAGE_NAME_MAX, required=False, nullable=True,
                      description="a box size the manager keeps (its sizes, and its default weight unless weight "
                                  "is given); or give length, width and height") = None
    weight: fields.measure(bounds.weight_kg, bounds.MAX_WEIGHT_KG, description="kilograms, above 0") = None
    length: fields.measure(bounds.dimension_m, bounds.MAX_DIMENSION_M, description="metres") = None
    width: fields.measure(bounds.dimension_m, bounds.MAX_DIMENSION_M, description="metres") = None
    height: fields.measure(bounds.dimension_m, bounds.MAX_DIMENSION_M, description="metres") = None


class PackIn(Body):
    items: list[PackedItem] = Field(min_length=1, max_length=bounds.MAX_PO_LINES,
                                    description="what is in the box; must be exactly what was picked for the order")
    package: PackageIn | None = Field(default=None, description="the box; none: Starshipit's default package")


class PackOut(Answer):
    label_job: int = Field(description="the label job's id: GET /api/v1/label-jobs/<id> for its progress")


@bp.post("/orders/<path:order_number>/pack")
@operation(path=OrderPath, body=PackIn, response=PackOut, status=202, errors=(404, 409), tag="orders",
           rules={"package": "a box size named that is not kept, or sizes without a weight (and no default weight)",
                  "package.weight": "0"})
def pack_order(order_number: str, body: PackIn):
    """Pack a picked order and ask Starshipit for its label.

    The items must be exactly what was picked for the order (409 `pack_mismatch`, each difference
    in words). The order becomes PACKED and a label job is queued (202); its progress is at
    `GET /api/v1/label-jobs/<id>` and the PDF at `GET /api/v1/orders/<order_number>/label` once done."""
    items = packing.items_from([item.model_dump() for item in body.items])
    package = body.package.model_dump(exclude_none=True) if body.package is not None else None
    job = db.atomic(packing.pack_order, order_number, items=items, package=package)
    return {"label_job": job.id}
