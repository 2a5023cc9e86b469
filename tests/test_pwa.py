"""The app installs on a phone: a manifest, icons, and a service worker that caches static assets."""
import json
import re


def test_manifest_names_the_app_and_its_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.content_type == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_service_worker_is_served_from_the_root_and_lists_assets_that_exist(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]
    script = response.get_data(as_text=True)
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", script).group(1))
    assert any(asset.startswith("/static/scanner.js?v=") for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_the_service_worker_precaches_the_asset_urls_the_pages_link_and_names_its_cache_after_them(app, picker):
    page = picker.get("/moves/").get_data(as_text=True)
    script = picker.get("/sw.js").get_data(as_text=True)
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", script).group(1))
    linked = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page))
    assert {a for a in assets if a.split("?")[0].endswith((".css", ".js"))} & linked >= {
        a for a in linked if a.startswith(("/static/app.", "/static/vendor/htmx"))}
    name = re.search(r'const STATIC_CACHE = "wms-static-" \+ VERSION \+ "-([0-9a-f]{12})";', script)
    assert name is not None  # a deploy that changes an asset's version names a new cache
