"""In a real browser the service worker installs and caches the static assets."""
from tests.browser.conftest import sign_in_page


def test_service_worker_installs_and_caches_static_assets(live_wms, phone):
    server, _ = live_wms
    sign_in_page(phone, server.url, "picker")
    cached = phone.evaluate(
        """async () => {
            await navigator.serviceWorker.ready;
            const name = (await caches.keys()).find(key => key.startsWith('wms-static-'));  // its version changes
            const cache = await caches.open(name);
            return (await cache.keys()).map(request => new URL(request.url).pathname);
        }"""
    )
    assert "/static/app.css" in cached
    assert "/static/vendor/htmx-2.0.11.min.js" in cached
