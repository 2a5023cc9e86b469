"""What makes the app installable on a phone: the manifest and the service worker."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import Blueprint, Response, current_app, url_for

bp = Blueprint("pwa", __name__)


@bp.route("/manifest.webmanifest")
def manifest():
    return {
        "name": "Starshipit WMS",
        "short_name": "WMS",
        "start_url": url_for("home.index"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
        "icons": [
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    }, 200, {"Content-Type": "application/manifest+json"}


_ASSETS = re.compile(r"const ASSETS = \[[^\]]*\];")
_STATIC_CACHE = 'const STATIC_CACHE = "wms-static-" + VERSION;'


@bp.route("/sw.js")
def service_worker():
    """The service worker, served from the root so that its scope covers the whole app, with the
    assets it precaches as the pages link them (versioned: see app.compression) and a static cache
    named after those versions."""
    script = (Path(current_app.static_folder) / "sw.js").read_text(encoding="utf-8")
    paths = json.loads(re.sub(r",\s*\]", "]", _ASSETS.search(script).group(0)[len("const ASSETS = "):-1]))
    urls = [url_for("static", filename=path.removeprefix("/static/")) for path in paths]
    digest = hashlib.sha256("\n".join(urls).encode()).hexdigest()[:12]
    script = _ASSETS.sub(lambda _match: "const ASSETS = " + json.dumps(urls) + ";", script, count=1)
    script = script.replace(_STATIC_CACHE, f'const STATIC_CACHE = "wms-static-" + VERSION + "-{digest}";', 1)
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache, max-age=0"
    response.headers["Service-Worker-Allowed"] = "/"
    return response
