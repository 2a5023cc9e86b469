"""Products: find by SKU, name or barcode; managers create, edit and import them."""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlmodel import select

from app import db
from app.catalog import barcodes_of, create_product, get_product, search_products, update_product
from app.errors import WmsError
from app.models import ProductBarcode, Role
from app.product_import import import_products_csv
from app.security import requires
from app.web.uploads import import_page

bp = Blueprint("products", __name__, url_prefix="/products")

PAGE_SIZE = 25  # compact rows of about 60 px: a page is some 1,500 px on a phone, not 10,000


MAX_PAGE = 10_000


def page_number() -> int:
    """The 1-based page asked for; anything that is not a whole number from 1 to MAX_PAGE is page 1."""
    value = request.args.get("page", "1").strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 5):
        return 1
    return min(max(int(value), 1), MAX_PAGE)


def split_barcodes(text: str) -> list[str]:
    """Barcodes typed or scanned one per line (commas and spaces also separate them)."""
    return [code for code in re.split(r"[\s,]+", text or "") if code]


def _barcodes_by_product(session, product_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    rows = session.exec(
        select(ProductBarcode.product_id, ProductBarcode.barcode)
        .where(ProductBarcode.product_id.in_(product_ids))
        .order_by(ProductBarcode.id)
    )
    for product_id, code in rows:
        found.setdefault(product_id, []).append(code)
    return found


@bp.get("/")
@requires(Role.PICKER)
def index():
    query = request.args.get("q", "").strip()
    page = page_number()
    with db.reading() as session:
        products = search_products(session, query, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
        barcodes = _barcodes_by_product(session, [p.id for p in products])
    context = dict(
        products=products[:PAGE_SIZE], barcodes=barcodes, query=query, page=page, has_next=len(products) > PAGE_SIZE
    )
    template = "products/_results.html" if request.htmx else "products/index.html"
    return render_template(template, **context)


def _form_values() -> dict:
    form = request.form
    return {
        "sku": form.get("sku", "").strip(),
        "name": form.get("name", "").strip(),
        "barcodes": form.get("barcodes", ""),
        "weight": form.get("weight", "").strip(),
        "receive_tolerance_percent": form.get("receive_tolerance_percent", "").strip(),
        "active": form.get("active") == "1",
    }


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.MANAGER)
def new():
    values = {"sku": "", "name": "", "barcodes": "", "weight": "", "receive_tolerance_percent": "", "active": True}
    if request.method == "POST":
        values = _form_values()
        try:
            product = db.atomic(
                create_product,
                sku=values["sku"],
                name=values["name"],
                barcodes=split_barcodes(values["barcodes"]),
                weight=values["weight"],
                receive_tolerance_percent=values["receive_tolerance_percent"],
            )
        except WmsError as error:
            return render_template("products/form.html", values=values, error=error, product=None), error.status
        flash(f"Product {product.sku} created.", "ok")
        return redirect(url_for("products.index", q=product.sku))
    return render_template("products/form.html", values=values, error=None, product=None)


@bp.route("/<path:sku>/edit", methods=["GET", "POST"])
@requires(Role.MANAGER)
def edit(sku: str):
    with db.reading() as session:
        product = get_product(session, sku)
        values = {
            "sku": product.sku,
            "name": product.name,
            "barcodes": "\n".join(barcodes_of(session, product.id)),
            "weight": "" if product.weight is None else f"{product.weight:g}",
            "receive_tolerance_percent": "" if product.receive_tolerance_percent is None
            else str(product.receive_tolerance_percent),
            "active": product.active,
        }
    if request.method == "POST":
        values = {**_form_values(), "sku": product.sku}

        def change(session):
            current = get_product(session, product.sku)
            return update_product(
                session,
                current,
                name=values["name"],
                barcodes=split_barcodes(values["barcodes"]),
                weight=values["weight"],
                receive_tolerance_percent=values["receive_tolerance_percent"],
                active=values["active"],
            )

        try:
            db.atomic(change)
        except WmsError as error:
            return render_template("products/form.html", values=values, error=error, product=product), error.status
        flash(f"Product {product.sku} saved.", "ok")
        return redirect(url_for("products.index", q=product.sku))
    return render_template("products/form.html", values=values, error=None, product=product)


@bp.route("/import", methods=["GET", "POST"])
@requires(Role.MANAGER)
def import_csv():
    return import_page("products/import.html", lambda text: db.atomic(import_products_csv, text))
