"""SCAN_DELAY_MS (env WMS_SCAN_DELAY_MS): a slower server for the scan pages' burst tests
(tests/browser/test_scan_bursts.py). Every POST waits that long; GETs do not; 0, the default,
installs nothing."""
from app.config import from_environment
from app.web import slow
from tests.conftest import make_app


def hooks(app) -> list[str]:
    return [hook.__name__ for hook in app.before_request_funcs.get(None, [])]


def test_the_delay_is_read_from_the_environment_and_is_none_by_default(monkeypatch):
    monkeypatch.delenv("WMS_SCAN_DELAY_MS", raising=False)
    assert from_environment()["SCAN_DELAY_MS"] == 0
    monkeypatch.setenv("WMS_SCAN_DELAY_MS", "150")
    assert from_environment()["SCAN_DELAY_MS"] == 150


def test_every_post_waits_and_nothing_else_does(sqlite_url, monkeypatch):
    assert "_slow_down_posts" not in hooks(make_app(sqlite_url))  # 0: no hook, no cost
    app = make_app(sqlite_url, SCAN_DELAY_MS=25)
    assert "_slow_down_posts" in hooks(app)
    waited: list[float] = []
    monkeypatch.setattr(slow.time, "sleep", waited.append)
    client = app.test_client()
    client.get("/login")
    assert waited == []
    client.post("/login", data={"username": "nobody", "password": "wrong"})
    assert waited == [0.025]
