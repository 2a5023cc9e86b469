"""Products: creating, changing, finding by SKU or barcode, importing from CSV."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import or_
from sqlmodel import Session, select

from app.errors import Conflict, NotFound, ValidationFailed, WmsError
from app.models import Product, ProductBarcode
from app.timeutil import utcnow

MAX_SKU = 64


def _clean(sku: str, name: str, barcodes: list[str] | None, weight) -> tuple[str, str, list[str], float | None]:
    sku = (sku or "").strip()
    name = (name or "").strip()
    if not sku:
        raise ValidationFailed("a product needs a SKU", field="sku")
    if len(sku) > MAX_SKU or any(c.isspace() for c in sku):
        raise ValidationFailed(f"a SKU is up to {MAX_SKU} characters with no spaces", field="sku")
    if not name:
        raise ValidationFailed("a product needs a name", field="name")
    cleaned = []
    for code in barcodes or []:
        code = str(code).strip()
        if code and code not in cleaned:
            cleaned.append(code)
    if weight in ("", None):
        weight = None
    else:
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            raise ValidationFailed("weight must be a number of kilograms", field="weight") from None
        if weight < 0:
            raise ValidationFailed("weight cannot be negative", field="weight")
    return sku, name, cleaned, weight


def _refuse_barcodes_in_use(session: Session, barcodes: list[str], product_id: int | None) -> None:
    if not barcodes:
        return
    taken = session.exec(select(ProductBarcode).where(ProductBarcode.barcode.in_(barcodes))).all()
    for row in taken:
        if row.product_id != product_id:
            raise Conflict(f"barcode {row.barcode} belongs to another product", field="barcodes")
    clash = session.exec(select(Product).where(Product.sku.in_(barcodes), Product.id != (product_id or -1))).first()
    if clash:
        raise Conflict(f"barcode {clash.sku} is another product's SKU", field="barcodes")


def create_product(session: Session, *, sku: str, name: str, barcodes: list[str] | None = None, weight=None) -> Product:
    sku, name, barcodes, weight = _clean(sku, name, barcodes, weight)
    if session.exec(select(Product).where(Product.sku == sku)).first():
        raise Conflict(f"product {sku} already exists", field="sku")
    _refuse_barcodes_in_use(session, barcodes, None)
    product = Product(sku=sku, name=name, weight=weight)
    session.add(product)
    session.flush()
    session.add_all(ProductBarcode(product_id=product.id, barcode=code) for code in barcodes)
    session.flush()
    return product


def update_product(session: Session, product: Product, *, name: str, barcodes: list[str], weight, active: bool = True):
    _, name, barcodes, weight = _clean(product.sku, name, barcodes, weight)
    _refuse_barcodes_in_use(session, barcodes, product.id)
    product.name, product.weight, product.active, product.updated_at = name, weight, active, utcnow()
    existing = {row.barcode: row for row in session.exec(select(ProductBarcode).where(ProductBarcode.product_id == product.id))}
    for code, row in existing.items():
        if code not in barcodes:
            session.delete(row)
    session.add_all(ProductBarcode(product_id=product.id, barcode=c) for c in barcodes if c not in existing)
    session.flush()
    return product


def barcodes_of(session: Session, product_id: int) -> list[str]:
    return list(
        session.exec(
            select(ProductBarcode.barcode).where(ProductBarcode.product_id == product_id).order_by(ProductBarcode.id)
        )
    )


def get_product(session: Session, sku: str) -> Product:
    product = session.exec(select(Product).where(Product.sku == (sku or "").strip())).first()
    if product is None:
        raise NotFound(f"no product {sku}", field="sku")
    return product


def find_product(session: Session, scanned: str) -> Product:
    """A product by SKU or any of its barcodes, as typed or scanned."""
    scanned = (scanned or "").strip()
    if not scanned:
        raise ValidationFailed("scan or type a product", field="product")
    product = session.exec(select(Product).where(Product.sku == scanned)).first()
    if product is None:
        product = session.exec(
            select(Product).join(ProductBarcode, ProductBarcode.product_id == Product.id).where(
                ProductBarcode.barcode == scanned
            )
        ).first()
    if product is None:
        raise NotFound(f"no product with SKU or barcode {scanned}", field="product")
    return product


def search_products(session: Session, query: str = "", *, limit: int = 50, offset: int = 0) -> list[Product]:
    statement = select(Product).order_by(Product.sku).limit(limit).offset(offset)
    query = (query or "").strip()
    if query:
        like = f"%{query}%"
        barcode_match = select(ProductBarcode.product_id).where(ProductBarcode.barcode == query)
        statement = statement.where(
            or_(Product.sku.ilike(like), Product.name.ilike(like), Product.id.in_(barcode_match))
        )
    return list(session.exec(statement))


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message)


CSV_COLUMNS = ("sku", "name", "barcodes", "weight")


def import_products_csv(session: Session, text: str) -> ImportReport:
    """Create or update products from CSV (sku,name,barcodes,weight; barcodes split by |).
    Each row is its own savepoint: a bad row is reported and skips nothing else."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "sku" not in header or "name" not in header:
        report.errors.append((1, "the first row must name the columns: sku,name,barcodes,weight"))
        return report
    reader.fieldnames = header
    for number, row in enumerate(reader, start=2):
        barcodes = [b for b in (row.get("barcodes") or "").replace(";", "|").split("|") if b.strip()]
        try:
            with session.begin_nested():
                existing = session.exec(select(Product).where(Product.sku == (row.get("sku") or "").strip())).first()
                if existing:
                    if "barcodes" not in header:
                        barcodes = barcodes_of(session, existing.id)
                    update_product(session, existing, name=row.get("name"), barcodes=barcodes, weight=row.get("weight"))
                    report.updated += 1
                else:
                    create_product(session, sku=row.get("sku"), name=row.get("name"), barcodes=barcodes, weight=row.get("weight"))
                    report.created += 1
        except WmsError as error:
            report.errors.append((number, error.message))
    return report
