"""Every main page fits a 360 px phone: no sideways scrolling, and every button and field is
big enough to hit with a thumb (at least 44 px tall)."""

from app import db
from app.catalog import create_product
from app.inventory import adjust_stock
from app.warehouses import create_location, find_location, get_warehouse
from tests.browser.conftest import sign_in_page
from tests.support.layout import TOO_SMALL

PAGES = [
    "/",
    "/moves/",
    "/products/",
    "/products/new",
    "/products/import",
    "/products/SKU-LONG-000000000001/edit",
    "/locations/",
    "/locations/new",
    "/locations/{bin}/edit",
    "/locations/labels?zone=A",
    "/locations/warehouses",
    "/inventory/",
    "/inventory/locations",
    "/inventory/locations/{bin}",
    "/inventory/history?sku=SKU-LONG-000000000001",
    "/inventory/adjust",
]


def build_floor(app) -> int:
    with app.app_context():
        def build(session):
            site = get_warehouse(session)
            create_product(session, sku="SKU-LONG-000000000001", name="A product with a long name " * 3,
                           barcodes=["9300000000011", "9300000000028"], weight=1.25)
            create_location(session, warehouse=site, code="A-01-01-01", type="storage", zone="A", pick_sequence=1)
            create_location(session, warehouse=site, code="A-01-01-02", type="pick", zone="A", pick_sequence=2)

        db.atomic(build)
        db.atomic(adjust_stock, sku="SKU-LONG-000000000001", location="A-01-01-01", quantity=12, reason="found",
                  reference="OPENING-BALANCE-2026")
        with db.reading() as session:
            return find_location(session, get_warehouse(session).id, "A-01-01-01").id


def test_every_main_page_fits_a_360_px_phone(live_wms, small_phone):
    server, app = live_wms
    bin_id = build_floor(app)
    sign_in_page(small_phone, server.url, "manager")
    problems = []
    for path in PAGES:
        url = server.url + path.format(bin=bin_id)
        response = small_phone.goto(url)
        assert response.status == 200, path
        width = small_phone.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            problems.append(f"{path}: {width} px wide")
        for html, height in small_phone.evaluate(TOO_SMALL):
            problems.append(f"{path}: {height:.0f} px tall {html}")
    assert problems == []
