"""Answers compressed at the app (issue 10, budgets): pages and htmx partials brotli- or gzip-
compressed when the client accepts it and plain otherwise; static files compressed too, and kept a
year by the phone when asked for by their versioned URL; tiny answers and the label PDF left alone."""
import gzip

import brotli
import pytest

from app import db
from app.catalog import create_product
from app.warehouses import create_location, get_warehouse

HTMX = {"HX-Request": "true"}


@pytest.fixture
def stocked(app):
    """Enough locations for the locations list and its partial to be worth compressing."""

    def build(session):
        site = get_warehouse(session)
        for n in range(30):
            create_location(session, warehouse=site, code=f"A01-{n:02d}-1", type="storage", zone="A")
        create_product(session, sku="SKU-1", name="Blue widget", barcodes=["9300000000011"])

    db.atomic(build)
    return app


def test_a_page_is_sent_gzip_compressed_when_the_client_accepts_gzip(stocked, picker):
    plain = picker.get("/locations/", headers={"Accept-Encoding": "identity"})
    zipped = picker.get("/locations/", headers={"Accept-Encoding": "gzip"})

    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(plain.data) / 2
    page = gzip.decompress(zipped.data).decode()
    assert page.startswith("<!doctype html>") and "A01-29-1" in page


def test_a_page_is_sent_brotli_compressed_when_the_client_prefers_it(stocked, picker):
    answer = picker.get("/locations/", headers={"Accept-Encoding": "gzip, deflate, br"})

    assert answer.headers["Content-Encoding"] == "br"
    assert "A01-29-1" in brotli.decompress(answer.data).decode()


def test_a_page_is_sent_plain_to_a_client_that_does_not_accept_compression(stocked, picker):
    for headers in ({}, {"Accept-Encoding": "identity"}):
        answer = picker.get("/locations/", headers=headers)

        assert answer.status_code == 200
        assert "Content-Encoding" not in answer.headers
        assert "Accept-Encoding" in answer.headers["Vary"]  # a cache must not hand it to a gzip client
        assert answer.get_data(as_text=True).startswith("<!doctype html>")


def test_an_htmx_partial_is_compressed_and_still_only_the_partial(stocked, picker):
    whole = picker.get("/locations/", headers={"Accept-Encoding": "gzip"})
    partial = picker.get("/locations/?q=A01", headers={**HTMX, "Accept-Encoding": "gzip"})

    assert partial.status_code == 200
    assert partial.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(partial.data).decode()
    assert "A01-29-1" in html and "<!doctype html>" not in html
    # The same URL answers a page or a partial: caches keep them apart.
    for answer in (whole, partial):
        assert "HX-Request" in answer.headers["Vary"] and "Accept-Encoding" in answer.headers["Vary"]


def test_an_htmx_scan_still_moves_stock_and_answers_its_partial_compressed(stocked, picker):
    from app.inventory import adjust_stock

    db.atomic(adjust_stock, sku="SKU-1", location="A01-00-1", quantity=5, reason="found")
    answer = picker.post("/moves/", data={"from_location": "A01-00-1", "product": "9300000000011", "quantity": "2",
                                          "to_location": "A01-01-1"},
                         headers={**HTMX, "Accept-Encoding": "gzip"})

    assert answer.status_code == 200
    body = answer.data
    if answer.headers.get("Content-Encoding") == "gzip":  # a short answer may go plain (COMPRESS_MIN_SIZE)
        body = gzip.decompress(body)
    html = body.decode()
    assert 'data-testid="flash-ok"' in html and "<html" not in html
    assert "Moved 2 × SKU-1" in html


def _processed(app, body: bytes, mimetype: str):
    with app.test_request_context(headers={"Accept-Encoding": "gzip, br"}):
        return app.process_response(app.response_class(body, mimetype=mimetype))


def test_a_tiny_answer_is_not_compressed(app):
    assert "Content-Encoding" not in _processed(app, b"<p>Moved.</p>", "text/html").headers
    assert _processed(app, b"<p>" + b"Moved. " * 200 + b"</p>", "text/html").headers["Content-Encoding"] == "br"


def test_a_pdf_is_never_compressed(app):
    response = _processed(app, b"%PDF-1.4 " + b"x" * 5000, "application/pdf")
    assert "Content-Encoding" not in response.headers


def test_a_streamed_answer_is_not_compressed(app):
    def chunks():
        yield b"<p>" + b"x" * 2000
        yield b"</p>"

    assert "Content-Encoding" not in _processed(app, chunks(), "text/html").headers


def test_static_files_are_compressed_and_kept_a_year_under_their_versioned_url(app, picker):
    with app.test_request_context():
        from flask import url_for

        url = url_for("static", filename="vendor/htmx-2.0.11.min.js")
    assert "?v=" in url

    kept = picker.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert kept.status_code == 200
    assert kept.headers["Content-Encoding"] == "br"
    assert "max-age=31536000" in kept.headers["Cache-Control"] and "immutable" in kept.headers["Cache-Control"]
    assert len(kept.data) < 25_000 and b"htmx" in brotli.decompress(kept.data)

    # Unversioned (or an old version): revalidated every time, as before.
    for stale in ("/static/vendor/htmx-2.0.11.min.js", "/static/vendor/htmx-2.0.11.min.js?v=000000000000"):
        answer = picker.get(stale, headers={"Accept-Encoding": "gzip"})
        assert answer.headers["Content-Encoding"] == "gzip"
        assert "immutable" not in answer.headers.get("Cache-Control", "")


def test_a_compressed_static_file_answers_a_revalidation_with_304(app, picker):
    first = picker.get("/static/app.css", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    assert etag.endswith(':gzip"')  # the compressed bytes have an ETag of their own

    again = picker.get("/static/app.css", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_the_pages_link_their_static_files_by_versioned_url(app, picker):
    page = picker.get("/", headers={"Accept-Encoding": "identity"}).get_data(as_text=True)

    assert "/static/app.css?v=" in page and "/static/vendor/htmx-2.0.11.min.js?v=" in page


def test_the_service_worker_script_is_compressed_and_still_revalidated_every_time(app):
    answer = app.test_client().get("/sw.js", headers={"Accept-Encoding": "gzip"})

    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "gzip"
    assert "max-age=0" in answer.headers["Cache-Control"]
    assert b"addEventListener" in gzip.decompress(answer.data)


def test_a_range_of_a_static_file_is_sent_as_asked_uncompressed(app):
    answer = app.test_client().get("/static/app.css", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"})

    assert answer.status_code == 206 and len(answer.data) == 100
    assert "Content-Encoding" not in answer.headers


def test_static_files_are_compressed_under_gunicorns_file_wrapper(app):
    """gunicorn hands send_file its own wsgi.file_wrapper: the file is compressed all the same."""
    from gunicorn.http.wsgi import FileWrapper

    client = app.test_client()
    client.environ_base["wsgi.file_wrapper"] = FileWrapper
    for path in ("/static/app.css", "/sw.js"):
        answer = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
        assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "br", path


def test_a_static_file_does_not_vary_on_the_cookie_but_a_page_does(app, picker):
    """The session cookie changes with every page: a file kept a year must not be tied to it."""
    with app.test_request_context():
        from flask import url_for

        url = url_for("static", filename="app.css")

    kept = picker.get(url, headers={"Accept-Encoding": "gzip"})
    assert "immutable" in kept.headers["Cache-Control"]
    assert "cookie" not in kept.headers["Vary"].lower() and "Set-Cookie" not in kept.headers
    page = picker.get("/moves/", headers={"Accept-Encoding": "gzip"})
    assert "cookie" in page.headers["Vary"].lower()
