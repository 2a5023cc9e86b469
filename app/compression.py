"""Responses compressed at the app, and static files a phone keeps (issue 10, "Budgets, measured").

A handheld page must cost at most 60 KB on a cold load and 15 KB on a warm one (bench/handheld.py
measures it). Two things get it there:

- Text answers (pages, htmx partials, CSS, JavaScript, JSON) go brotli- or gzip-compressed, as the
  client's Accept-Encoding allows, through Flask-Compress (a maintained Flask extension; it picks
  the encoding by the header's quality values, adds `Vary: Accept-Encoding`, suffixes a strong
  ETag with the encoding and answers If-None-Match with 304 after compressing). Not compressed:
  answers under COMPRESS_MIN_SIZE bytes (the gain is smaller than the work), other types (the
  label PDF, images) and streamed answers (chunk-wise compression would hold back what a stream
  means to send at once; no route streams today).
- Static files: `url_for('static', ...)` adds `?v=<hash of the file's bytes>`, and a request with
  the current version is answered with a year's `Cache-Control: public, max-age=31536000,
  immutable`, so a warm load fetches none of them; a changed file gets a new URL. Without the
  version (or with an old one) the answer keeps Flask's default (`no-cache`: revalidated each
  time).
- A text file sent whole with send_file (the static files, the service worker /sw.js) is read into
  memory before the answer goes out (at most FILE_IN_MEMORY bytes), so that Flask-Compress
  compresses it like any other answer instead of passing it by as a stream. Ranges and other
  streams are left as they are.

Pages also say `Vary: HX-Request`: the same URL answers a whole page or its htmx partial.
"""
from __future__ import annotations

import hashlib
import os

from flask import Flask, request, session
from flask_compress import Compress

COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "application/problem+json",
    "image/svg+xml",
    "text/plain",
]
YEAR = 365 * 24 * 3600
FILE_IN_MEMORY = 1024 * 1024

_versions: dict[str, tuple[tuple[int, int], str]] = {}  # file -> ((mtime_ns, size), version)


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    # brotli first, gzip for every other client. Brotli at 5 rather than Flask-Compress's 4: on htmx's
    # 52 KB script level 4 came out larger than gzip's 6 (17.4 vs 16.9 KB), level 5 smaller (16.5 KB)
    # for about the same CPU (a few ms, once per file per phone: the files are then kept a year).
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_STREAMS", False)
    # One Compress per app (it keeps the app's settings): registered first among the app's
    # after_request hooks, so it runs last, on the answer as the other hooks leave it.
    app.extensions["wms.compress"] = Compress(app)
    app.after_request(_static_is_the_same_for_everyone)  # runs just before Compress, after the others
    app.after_request(_vary_on_htmx)
    app.after_request(_file_in_memory)  # registered after Compress: runs before it
    app.url_defaults(_version_static_urls)
    app.view_functions["static"] = _static_view(app.view_functions["static"])


def static_version(folder: str, filename: str) -> str | None:
    """A short hash of the file's bytes (recomputed when its size or mtime changes); None when the
    file is not there."""
    path = os.path.join(folder, filename)
    try:
        stat = os.stat(path)
    except OSError:
        return None
    stamp = (stat.st_mtime_ns, stat.st_size)
    known = _versions.get(path)
    if known and known[0] == stamp:
        return known[1]
    with open(path, "rb") as handle:
        version = hashlib.sha256(handle.read()).hexdigest()[:12]
    _versions[path] = (stamp, version)
    return version


def _version_static_urls(endpoint: str, values: dict) -> None:
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    from flask import current_app

    version = static_version(current_app.static_folder, values["filename"])
    if version:
        values["v"] = version


def _static_view(view):
    def static(filename: str):
        response = view(filename=filename)
        if response.status_code != 200:
            return response
        wanted = request.args.get("v")
        if wanted:
            from flask import current_app

            if wanted == static_version(current_app.static_folder, filename):
                response.cache_control.public = True
                response.cache_control.no_cache = None
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
        return response

    return static


def _static_is_the_same_for_everyone(response):
    """A static file does not depend on who asks: its answer must not say `Vary: Cookie`. Flask adds
    it when anything read the session during the request (the sign-in guard and Flask-Login do, for
    every request), and the session cookie changes with every page a phone opens: a file kept a year
    under `Vary: Cookie` was revalidated by the browser on every page all the same (a 304 per file,
    one round trip each on a slow line). Nothing of the session is written by a static request."""
    if request.endpoint == "static" and not session.modified:
        session.accessed = False
    return response


def _file_in_memory(response):
    # send_file's answer passes its file straight through (direct_passthrough), wrapped by the server's
    # wsgi.file_wrapper (gunicorn's own under gunicorn, werkzeug's elsewhere), with its length known.
    if (response.status_code == 200 and response.direct_passthrough and response.content_length is not None
            and response.content_length <= FILE_IN_MEMORY and response.mimetype in COMPRESSED_TYPES):
        response.direct_passthrough = False
        response.make_sequence()  # the file's bytes in memory: compressible like any answer
    return response


def _vary_on_htmx(response):
    if response.mimetype == "text/html":
        vary = response.headers.get("Vary", "")
        if "hx-request" not in vary.lower():
            response.headers["Vary"] = f"{vary}, HX-Request" if vary else "HX-Request"
    return response
