"""Products: creating, changing, and finding them by SKU, barcode or GTIN as typed or scanned.

Look-ups ignore case and surrounding whitespace (a scanner may send "abc-1 " for ABC-1), and a
scan of a GTIN in any of its forms (EAN-13, UPC-A, GTIN-14, a GS1-128 label) finds the product
whose barcode carries the same number (app.scans)."""
from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, func, literal, or_, union_all
from sqlmodel import Session, select

from app import bounds
from app.bounds import shown
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Product, ProductBarcode
from app.scans import gtin_of
from app.timeutil import utcnow


def clean_sku(sku) -> str:
    return bounds.code(sku, "sku", max_length=bounds.SKU_MAX, label="SKU")


def _clean(sku, name, barcodes, weight) -> tuple[str, str, list[str], float | None]:
    sku = clean_sku(sku)
    name = bounds.text(name, "name", max_length=bounds.PRODUCT_NAME_MAX)
    if barcodes is not None and not isinstance(barcodes, (list, tuple)):
        raise ValidationFailed("barcodes must be a list", field="barcodes")
    cleaned: list[str] = []
    for code in barcodes or []:
        code = bounds.code(code, "barcodes", max_length=bounds.BARCODE_MAX, required=False, label="a barcode")
        if code and code.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(code)
    if len(cleaned) > bounds.BARCODES_PER_PRODUCT:
        raise ValidationFailed(f"a product has at most {bounds.BARCODES_PER_PRODUCT} barcodes", field="barcodes")
    return sku, name, cleaned, bounds.weight_kg(weight)


def _refuse_barcodes_in_use(session: Session, barcodes: list[str], product_id: int | None) -> dict[str, str | None]:
    """Each barcode's GTIN, once sure no other product uses the barcode, its GTIN, or it as a SKU."""
    gtins = {code: gtin_of(code) for code in barcodes}
    if not barcodes:
        return gtins
    lowered = [code.lower() for code in barcodes]
    mine = ProductBarcode.product_id != (product_id or -1)
    taken = session.exec(select(ProductBarcode).where(func.lower(ProductBarcode.barcode).in_(lowered), mine)).first()
    if taken is not None:
        raise Conflict(f"barcode {shown(taken.barcode)} belongs to another product", field="barcodes")
    numbers = [gtin for gtin in gtins.values() if gtin]
    if len(set(numbers)) < len(numbers):
        raise Conflict("two of these barcodes are the same GTIN", field="barcodes")
    if numbers:
        clash = session.exec(select(ProductBarcode).where(ProductBarcode.gtin.in_(numbers), mine)).first()
        if clash is not None:
            raise Conflict(f"barcode {shown(clash.barcode)} of another product is the same GTIN", field="barcodes")
    clash = session.exec(
        select(Product).where(func.lower(Product.sku).in_(lowered), Product.id != (product_id or -1))
    ).first()
    if clash:
        raise Conflict(f"barcode {shown(clash.sku)} is another product's SKU", field="barcodes")
    return gtins


def product_with_sku(session: Session, sku: str) -> Product | None:
    """The product with this SKU, ignoring case (sku already stripped), or None."""
    return session.exec(select(Product).where(func.lower(Product.sku) == func.lower(sku))).first()


def receive_tolerance(value, field: str = "receive_tolerance_percent") -> int | None:
    """A product's over-receipt tolerance: blank (none) or a whole percent, bounded as a PO's
    (bounds.tolerance_percent)."""
    return bounds.tolerance_percent(value, field, label="over-receipt tolerance (%)")


def create_product(session: Session, *, sku: str, name: str, barcodes: list[str] | None = None, weight=None,
                   receive_tolerance_percent=None) -> Product:
    """A new product; receive_tolerance_percent is the over-receipt its POs allow when they set
    none of their own (blank: none)."""
    sku, name, barcodes, weight = _clean(sku, name, barcodes, weight)
    tolerance = receive_tolerance(receive_tolerance_percent)
    existing = product_with_sku(session, sku)
    if existing is not None:
        raise Conflict(f"product {shown(existing.sku)} already exists", field="sku")
    gtins = _refuse_barcodes_in_use(session, barcodes, None)
    product = Product(sku=sku, name=name, weight=weight, receive_tolerance_percent=tolerance)
    session.add(product)
    session.flush()
    session.add_all(ProductBarcode(product_id=product.id, barcode=code, gtin=gtins[code]) for code in barcodes)
    session.flush()
    return product


def update_product(session: Session, product: Product, *, name: str, barcodes: list[str], weight,
                   receive_tolerance_percent, active: bool = True):
    """Change a product as a whole (a blank weight or tolerance clears it)."""
    _, name, barcodes, weight = _clean(product.sku, name, barcodes, weight)
    tolerance = receive_tolerance(receive_tolerance_percent)
    gtins = _refuse_barcodes_in_use(session, barcodes, product.id)
    product.name, product.weight, product.active, product.updated_at = name, weight, active, utcnow()
    product.receive_tolerance_percent = tolerance
    existing = {
        row.barcode.lower(): row
        for row in session.exec(select(ProductBarcode).where(ProductBarcode.product_id == product.id))
    }
    wanted = {code.lower(): code for code in barcodes}
    for key, row in existing.items():
        if key not in wanted:
            session.delete(row)
        else:  # kept, perhaps retyped in another case
            row.barcode, row.gtin = wanted[key], gtins[wanted[key]]
    session.flush()  # deletions first: a GTIN may move from a removed barcode to a new one
    session.add_all(
        ProductBarcode(product_id=product.id, barcode=code, gtin=gtins[code])
        for key, code in wanted.items() if key not in existing
    )
    session.flush()
    return product


def barcodes_of(session: Session, product_id: int) -> list[str]:
    return list(
        session.exec(
            select(ProductBarcode.barcode).where(ProductBarcode.product_id == product_id).order_by(ProductBarcode.id)
        )
    )


def get_product(session: Session, sku: str) -> Product:
    """A product by SKU, ignoring case and surrounding whitespace."""
    typed = bounds.scan(sku, "sku", label="SKU")
    product = product_with_sku(session, typed) if typed else None
    if product is None:
        raise NotFound(f"no product {shown(typed)}" if typed else "no product given", field="sku")
    return product


def find_product(session: Session, scanned: str) -> Product:
    """A product by SKU, barcode or GTIN, as typed or scanned (case and surrounding whitespace
    ignored)."""
    with_gtin, values = scan_values(scanned)
    product = session.exec(_product_by_scan(with_gtin), params=values).first()
    if product is None:
        raise NotFound(f"no product with SKU or barcode {shown(values['scan'])}", field="product")
    return product


def scan_values(scanned) -> tuple[bool, dict]:
    """A product scan cleaned for `product_id_by_scan`: whether it carries a GTIN, and the
    statement's parameters. Refuses a blank or overlong scan."""
    scanned = bounds.scan(scanned, "product")
    if not scanned:
        raise ValidationFailed("scan or type a product", field="product")
    gtin = gtin_of(scanned)
    return gtin is not None, ({"scan": scanned} if gtin is None else {"scan": scanned, "gtin": gtin})


@cache
def product_id_by_scan(with_gtin: bool):
    """The id of the product a scan names, as a scalar subquery (parameters from `scan_values`),
    for a statement that finds the product along with what else a scan needs."""
    found = _scan_matches(with_gtin)
    return select(found.c.id).order_by(found.c.rank, found.c.id).limit(1).scalar_subquery()


@cache
def _product_by_scan(with_gtin: bool):
    """One round trip for every way a scan can name a product: the SKU first, then a barcode, then
    a barcode carrying the scan's GTIN (each branch by its own index). Scans are the floor's
    hottest path: asking in turn cost a barcode scan a second statement (bench/inbound.py), and
    the statement is built once (building it took as long as running it)."""
    found = _scan_matches(with_gtin)
    return select(Product).join(found, found.c.id == Product.id).order_by(found.c.rank, Product.id).limit(1)


def _scan_matches(with_gtin: bool):
    scan = bindparam("scan")
    ways = [
        select(Product.id.label("id"), literal(0).label("rank")).where(func.lower(Product.sku) == func.lower(scan)),
        select(ProductBarcode.product_id, literal(1)).where(func.lower(ProductBarcode.barcode) == func.lower(scan)),
    ]
    if with_gtin:
        ways.append(select(ProductBarcode.product_id, literal(2)).where(ProductBarcode.gtin == bindparam("gtin")))
    return union_all(*ways).subquery()


def by_gtin(session: Session, scanned: str) -> Product | None:
    """The product whose barcode carries the GTIN this scan carries, if any."""
    gtin = gtin_of(scanned)
    if gtin is None:
        return None
    return session.exec(
        select(Product).join(ProductBarcode, ProductBarcode.product_id == Product.id).where(ProductBarcode.gtin == gtin)
    ).first()


def search_products(session: Session, query: str = "", *, limit: int = 50, offset: int = 0) -> list[Product]:
    statement = select(Product).order_by(Product.sku).limit(limit).offset(offset)
    query = bounds.scan(query, "q", label="search")
    if query:
        like = f"%{query}%"
        barcode_match = select(ProductBarcode.product_id).where(func.lower(ProductBarcode.barcode) == func.lower(query))
        statement = statement.where(
            or_(Product.sku.ilike(like), Product.name.ilike(like), Product.id.in_(barcode_match))
        )
    return list(session.exec(statement))
