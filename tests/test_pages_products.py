"""The products pages: search for everyone, create / edit / import for managers."""
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.catalog import barcodes_of, create_product, get_product
from app.models import Product

HTMX = {"HX-Request": "true"}


def product_count() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Product)).one()


def add(sku="SKU-1", name="Blue widget", barcodes=("9300000000011",)):
    return db.atomic(create_product, sku=sku, name=name, barcodes=list(barcodes))


def test_picker_finds_a_product_by_sku_name_or_barcode(app, picker):
    add()
    add("SKU-2", "Red gadget", ["9300000000028"])
    for query in ("SKU-1", "blue", "9300000000011"):
        page = picker.get("/products/", query_string={"q": query}).get_data(as_text=True)
        assert "Blue widget" in page and "Red gadget" not in page, query


def test_active_search_answers_htmx_with_the_results_only(app, picker):
    add()
    response = picker.get("/products/?q=widget", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "Blue widget" in html
    assert "/inventory/history?sku=SKU-1" in html  # each SKU links to its stock and movements


def test_full_page_has_the_search_box_wired_for_active_search(app, picker):
    html = picker.get("/products/").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:250ms, search"' in html


def test_the_list_is_paginated_in_pages_that_fit_a_hand(app, picker):
    db.atomic(lambda s: [create_product(s, sku=f"P{n:03}", name=f"Part {n}") for n in range(55)])
    first = picker.get("/products/").get_data(as_text=True)
    second = picker.get("/products/?page=2").get_data(as_text=True)
    third = picker.get("/products/?page=3").get_data(as_text=True)
    assert "P000" in first and "P024" in first and "P025" not in first and "page=2" in first
    assert "P025" in second and "P049" in second and "P000" not in second and "P050" not in second
    assert "P054" in third and "page=4" not in third


def test_the_search_comes_before_the_managers_buttons(app, manager):
    html = manager.get("/products/").get_data(as_text=True)
    assert html.index('data-testid="product-search"') < html.index("New product")


def test_manager_creates_a_product_with_several_barcodes(app, manager):
    response = manager.post(
        "/products/new", data={"sku": "SKU-9", "name": "Crate", "barcodes": "111\n222, 333", "weight": "1.5"}
    )
    assert response.status_code == 302
    with db.reading() as session:
        product = get_product(session, "SKU-9")
        assert (product.name, product.weight) == ("Crate", 1.5)
        assert barcodes_of(session, product.id) == ["111", "222", "333"]
    assert "Product SKU-9 created." in manager.get(response.location).get_data(as_text=True)


def test_a_duplicate_sku_is_refused_on_the_page_and_nothing_is_added(app, manager):
    add()
    response = manager.post("/products/new", data={"sku": "SKU-1", "name": "Again"})
    assert response.status_code == 409
    assert "product SKU-1 already exists" in response.get_data(as_text=True)
    assert product_count() == 1


def test_bad_weight_and_missing_name_are_400_with_a_message(app, manager):
    response = manager.post("/products/new", data={"sku": "SKU-3", "name": "Box", "weight": "heavy"})
    assert response.status_code == 400
    assert "weight must be a number" in response.get_data(as_text=True)
    for weight in ("inf", "nan", "-1", "100001", "1e400"):
        response = manager.post("/products/new", data={"sku": "SKU-3", "name": "Box", "weight": weight})
        assert response.status_code == 400 and 'data-testid="field-error"' in response.get_data(as_text=True), weight
    response = manager.post("/products/new", data={"sku": "SKU-3", "name": ""})
    assert response.status_code == 400
    assert "name is required" in response.get_data(as_text=True)
    assert product_count() == 0


def test_manager_edits_name_barcodes_weight_and_active(app, manager):
    add()
    form = manager.get("/products/SKU-1/edit").get_data(as_text=True)
    assert "9300000000011" in form
    response = manager.post("/products/SKU-1/edit", data={"name": "Blue widget v2", "barcodes": "444\n555", "weight": "0.2"})
    assert response.status_code == 302
    with db.reading() as session:
        product = get_product(session, "SKU-1")
        assert (product.name, product.weight, product.active) == ("Blue widget v2", 0.2, False)
        assert barcodes_of(session, product.id) == ["444", "555"]


def test_manager_sets_and_clears_a_products_over_receipt_tolerance(app, manager):
    form = manager.get("/products/new").get_data(as_text=True)
    assert "Over-receipt tolerance (%)" in form and 'name="receive_tolerance_percent"' in form
    response = manager.post("/products/new",
                            data={"sku": "SKU-9", "name": "Crate", "receive_tolerance_percent": " 10 "})
    assert response.status_code == 302
    with db.reading() as session:
        assert get_product(session, "SKU-9").receive_tolerance_percent == 10
    form = manager.get("/products/SKU-9/edit").get_data(as_text=True)
    assert 'name="receive_tolerance_percent" value="10"' in form
    data = {"name": "Crate", "barcodes": "", "active": "1"}
    assert manager.post("/products/SKU-9/edit", data={**data, "receive_tolerance_percent": "100"}).status_code == 302
    with db.reading() as session:
        assert get_product(session, "SKU-9").receive_tolerance_percent == 100
    assert manager.post("/products/SKU-9/edit", data={**data, "receive_tolerance_percent": ""}).status_code == 302
    with db.reading() as session:
        assert get_product(session, "SKU-9").receive_tolerance_percent is None


def test_a_tolerance_that_is_not_a_whole_percent_up_to_100_is_refused_under_its_field(app, manager):
    add()
    for value, words in (("101", "from 0 to 100"), ("-1", "from 0 to 100"), ("2.5", "whole number"),
                         ("lots", "whole number"), ("9223372036854775807", "from 0 to 100")):
        response = manager.post("/products/new",
                                data={"sku": "SKU-3", "name": "Box", "receive_tolerance_percent": value})
        html = response.get_data(as_text=True)
        assert response.status_code == 400, value
        assert ('id="receive_tolerance_percent-error" data-testid="field-error">over-receipt tolerance (%)'
                in html), value
        assert words in html, value
        assert 'aria-invalid="true" aria-describedby="receive_tolerance_percent-error"' in html, value
        response = manager.post("/products/SKU-1/edit", data={"name": "Changed", "receive_tolerance_percent": value})
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and 'id="receive_tolerance_percent-error"' in html, value
    assert product_count() == 1
    with db.reading() as session:
        assert (get_product(session, "SKU-1").name, get_product(session, "SKU-1").receive_tolerance_percent) == (
            "Blue widget", None)


def test_editing_with_another_products_barcode_is_refused_and_changes_nothing(app, manager):
    add()
    add("SKU-2", "Red gadget", ["777"])
    response = manager.post("/products/SKU-1/edit", data={"name": "Changed", "barcodes": "777", "active": "1"})
    assert response.status_code == 409
    assert "belongs to another product" in response.get_data(as_text=True)
    with db.reading() as session:
        product = get_product(session, "SKU-1")
        assert product.name == "Blue widget"
        assert barcodes_of(session, product.id) == ["9300000000011"]


def test_editing_an_unknown_sku_is_404(app, manager):
    assert manager.get("/products/NOPE/edit").status_code == 404


def test_csv_import_reports_each_bad_row_and_imports_the_rest(app, manager):
    add()
    csv_text = "sku,name,barcodes,weight\nSKU-1,Renamed,,\nSKU-2,Good,123|456,2\n,No sku,,\nSKU-4,Heavy,,lots\nSKU-5,Fine,,\n"
    response = manager.post("/products/import", data={"text": csv_text})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 created, 1 updated, 2 rows with errors" in html
    assert "<td data-label=\"Row\" class=\"num\">4</td>" in html and "SKU is required" in html
    assert "<td data-label=\"Row\" class=\"num\">5</td>" in html and "weight must be a number" in html
    assert product_count() == 3
    with db.reading() as session:
        assert get_product(session, "SKU-1").name == "Renamed"


def test_csv_import_from_an_uploaded_file(app, manager):
    import io

    data = {"file": (io.BytesIO("\ufeffsku,name\nSKU-7,From file\n".encode()), "products.csv")}
    response = manager.post("/products/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "1 created" in response.get_data(as_text=True)


def test_csv_import_with_a_wrong_header_or_nothing_or_binary_is_400(app, manager):
    import io

    response = manager.post("/products/import", data={"text": "code,title\nX,Y\n"})
    assert response.status_code == 400
    assert "first row must name the columns" in response.get_data(as_text=True)
    assert manager.post("/products/import", data={"text": ""}).status_code == 400
    binary = {"file": (io.BytesIO(b"\xff\xfe\x00bad"), "x.csv")}
    response = manager.post("/products/import", data=binary, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not UTF-8" in response.get_data(as_text=True)
    assert product_count() == 0


def test_picker_may_look_but_not_create_edit_or_import(app, picker):
    add()
    for path in ("/products/new", "/products/SKU-1/edit", "/products/import"):
        assert picker.get(path).status_code == 403, path
        assert picker.get(path, headers=HTMX).status_code == 403, path
        assert picker.post(path, data={"sku": "X", "name": "Y", "text": "sku,name\nX,Y\n"}).status_code == 403, path
    assert product_count() == 1
    assert 'href="/products/new"' not in picker.get("/products/").get_data(as_text=True)
