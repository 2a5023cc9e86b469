"""Products and their barcodes."""
from __future__ import annotations

from sqlmodel import select

from app import db
from app.api import bp, schemas
from app.api.spec import operation
from app.catalog import barcodes_of, create_product, get_product, search_products
from app.models import Product, ProductBarcode


def _product(row: Product, barcodes: list[str]) -> dict:
    return {"sku": row.sku, "name": row.name, "barcodes": barcodes, "weight": row.weight, "active": row.active,
            "receive_tolerance_percent": row.receive_tolerance_percent}


@bp.post("/products")
@operation(body=schemas.ProductIn, response=schemas.Product, status=201, errors=(409,), tag="products")
def add_product(body: schemas.ProductIn):
    """Create a product with its barcodes.
    409 when the SKU exists or a barcode belongs to another product."""

    def create(session):
        product = create_product(session, sku=body.sku, name=body.name, barcodes=body.barcodes, weight=body.weight,
                                 receive_tolerance_percent=body.receive_tolerance_percent)
        return _product(product, barcodes_of(session, product.id))

    return db.atomic(create)


@bp.get("/products/<path:sku>")
@operation(path=schemas.ProductPath, response=schemas.Product, errors=(404,), tag="products")
def product(sku: str):
    """One product by SKU, with its barcodes."""
    with db.reading() as session:
        found = get_product(session, sku)
        return _product(found, barcodes_of(session, found.id))


@bp.get("/products")
@operation(query=schemas.ProductQuery, response=schemas.ProductList, tag="products")
def products(query: schemas.ProductQuery):
    """Products by SKU, paged; q searches SKU and name, or matches a whole barcode."""
    with db.reading() as session:
        found = search_products(session, query.q or "", limit=query.limit + 1, offset=query.offset)
        page = found[: query.limit]
        barcodes: dict[int, list[str]] = {p.id: [] for p in page}
        for product_id, code in session.exec(
            select(ProductBarcode.product_id, ProductBarcode.barcode)
            .where(ProductBarcode.product_id.in_(list(barcodes)))
            .order_by(ProductBarcode.id)
        ):
            barcodes[product_id].append(code)
    return {
        "items": [_product(p, barcodes[p.id]) for p in page],
        "next_offset": query.offset + query.limit if len(found) > query.limit else None,
    }
