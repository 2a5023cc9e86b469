"""The sign-in limit: 10 attempts per minute per client address and name, counted once for all
gunicorn workers (in the database without Redis, in Redis with it), behind a configured number
of trusted proxies, and a 429 that says in words when to try again."""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from app import db
from app.config import from_environment
from app.limiter_storage import DatabaseStorage, stored_key
from app.sign_in_limit import Refusal, duration_in_words
from tests.conftest import PASSWORD, _seed_basics, flushed_redis, make_app
from tests.support.processes import start_wms

REDIS_URL = "redis://127.0.0.1:6379/13"  # this file's own Redis database
WRONG = "not-the-password"
SAYS_WHEN = re.compile(
    r"Too many sign-in attempts for this name from this address\. "
    r"Try again in (\d+ (?:second|minute)s?(?: and \d+ seconds?)?), at \d\d:\d\d:\d\d UTC\."
)


@pytest.fixture
def limited(database_url):
    """The app with the production limit (10 per minute), the standard users, on SQLite and PostgreSQL."""
    app = make_app(database_url, LOGIN_RATE_LIMIT="10 per minute")
    with app.app_context():
        _seed_basics()
        yield app
    app.extensions["wms.engine"].dispose()


def attempt(client, name: str, password: str = WRONG, address: str = "192.0.2.10", **kwargs):
    return client.post("/login", data={"username": name, "password": password},
                       environ_base={"REMOTE_ADDR": address}, **kwargs)


# ---- in one process -------------------------------------------------------------------------

def test_eleven_wrong_passwords_are_refused_from_the_eleventh_and_a_colleague_still_signs_in(limited):
    client = limited.test_client()
    answers = [attempt(client, "picker").status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]
    assert attempt(client, "picker", PASSWORD).status_code == 429  # locked means locked: no guessing on
    assert attempt(client, "manager", PASSWORD).status_code == 302  # the colleague beside them
    assert attempt(client, "picker", PASSWORD, address="192.0.2.11").status_code == 302  # elsewhere


def test_the_name_is_counted_as_sign_in_reads_it(limited):
    client = limited.test_client()
    for name in ["picker", "Picker", " PICKER ", "picker\t"] * 3:
        last = attempt(client, name)
    assert last.status_code == 429


def test_a_successful_sign_in_is_not_counted_and_forgives_earlier_typos(limited):
    client = limited.test_client()
    assert [attempt(client, "picker").status_code for _ in range(9)] == [401] * 9
    # More sign-ins than the limit with one name from one address (a shared scanner account at shift start).
    for _ in range(11):
        assert attempt(limited.test_client(), "picker", PASSWORD).status_code == 302
    assert [attempt(client, "picker").status_code for _ in range(11)] == [401] * 10 + [429]


def test_the_locked_out_person_signs_in_again_once_the_window_passes(sqlite_url):
    app = make_app(sqlite_url, LOGIN_RATE_LIMIT="2 per 5 seconds")
    with app.app_context():
        _seed_basics()
        client = app.test_client()
        assert [attempt(client, "picker").status_code for _ in range(2)] == [401, 401]
        refused = attempt(client, "picker", PASSWORD)
        assert refused.status_code == 429
        time.sleep(int(refused.headers["Retry-After"]))  # as told, and no longer
        assert attempt(client, "picker", PASSWORD).status_code == 302
    app.extensions["wms.engine"].dispose()


def test_the_refusal_page_says_in_words_when_to_try_again(limited):
    client = limited.test_client()
    for _ in range(10):
        attempt(client, "picker")
    before = time.time()
    refused = attempt(client, "picker")
    after = time.time()
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert 1 <= seconds <= 60
    said = SAYS_WHEN.search(page)
    assert said and said.group(1) == duration_in_words(seconds)
    assert 'name="username"' in page and 'value="picker"' in page  # the form, to try again later
    assert "Anyone else can still sign in here" in page
    assert "RateLimitExceeded" not in page and "per 1 minute" not in page and "Traceback" not in page
    # The clock time is the moment the page was made plus those seconds.
    possible = {f"{datetime.fromtimestamp(t, UTC):%H:%M:%S}" for t in range(int(before) + seconds, int(after) + seconds + 1)}
    assert re.search(r"at (\d\d:\d\d:\d\d) UTC", page).group(1) in possible


def test_the_refusal_is_a_flash_for_htmx_and_json_for_machines(limited):
    client = limited.test_client()
    for _ in range(10):
        attempt(client, "picker")
    fragment = attempt(client, "picker", headers={"HX-Request": "true"})
    assert fragment.status_code == 429
    assert fragment.headers["HX-Retarget"] == "#flash" and fragment.headers["Retry-After"]
    assert SAYS_WHEN.search(fragment.get_data(as_text=True))
    assert "<html" not in fragment.get_data(as_text=True)

    answer = attempt(client, "picker", headers={"Accept": "application/json"})
    assert answer.status_code == 429
    error = answer.get_json()["error"]
    assert error["code"] == "too_many_sign_in_attempts"
    assert SAYS_WHEN.fullmatch(error["message"])
    assert error["retry_after"] == int(answer.headers["Retry-After"]) >= 1


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(limited):
    client = limited.test_client()
    answers = [
        attempt(client, "picker", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(11)
    ]
    assert answers == [401] * 10 + [429]


def test_behind_a_trusted_proxy_each_client_address_is_limited_on_its_own(sqlite_url):
    app = make_app(sqlite_url, LOGIN_RATE_LIMIT="10 per minute", TRUSTED_PROXIES=1)
    proxy = "10.0.0.1"  # every request reaches the app from the proxy
    with app.app_context():
        _seed_basics()
        client = app.test_client()

        def from_client(address, password=WRONG, forged=None):
            forwarded = f"{forged}, {address}" if forged else address  # the proxy appends the peer
            return attempt(client, "picker", password, address=proxy, headers={"X-Forwarded-For": forwarded})

        # A client that forges its own X-Forwarded-For still counts as the address the proxy saw.
        answers = [from_client("203.0.113.7", forged=f"198.51.100.{n}").status_code for n in range(11)]
        assert answers == [401] * 10 + [429]
        assert from_client("203.0.113.8", PASSWORD).status_code == 302
    app.extensions["wms.engine"].dispose()


def test_behind_a_trusted_proxy_links_use_the_scheme_and_host_it_forwards(sqlite_url):
    app = make_app(sqlite_url, TRUSTED_PROXIES=1)
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "wms.example.com"}
    with app.app_context():
        _seed_basics()
        client = app.test_client()
        assert attempt(client, "manager", PASSWORD, headers=headers).status_code == 302
        page = client.get("/admin/settings", headers=headers).get_data(as_text=True)
    app.extensions["wms.engine"].dispose()
    assert "https://wms.example.com/webhooks/starshipit" in page


@pytest.mark.parametrize("value", ["many", "-1", "1.5"])
def test_trusted_proxies_must_be_a_whole_number(monkeypatch, value):
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(ValueError, match="TRUSTED_PROXIES must be a whole number of proxies"):
        from_environment()


def test_no_proxy_is_trusted_unless_configured(monkeypatch):
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    assert from_environment()["TRUSTED_PROXIES"] == 0


# ---- the words ------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds, words", [
    (1, "1 second"), (42, "42 seconds"), (60, "1 minute"), (61, "1 minute and 1 second"),
    (90, "1 minute and 30 seconds"), (3600, "1 hour"), (3720, "1 hour and 2 minutes"),
    (3601, "1 hour and 1 minute"), (7199, "2 hours"),
])
def test_durations_read_as_words(seconds, words):
    assert duration_in_words(seconds) == words


def test_a_refusal_names_the_seconds_and_the_clock_time():
    now = datetime(2026, 12, 2, 10, 30, 30, 250_000, tzinfo=UTC).timestamp()
    refusal = Refusal.until(now + 41.2, now)
    assert refusal.seconds == 42
    assert refusal.message == (
        "Too many sign-in attempts for this name from this address. Try again in 42 seconds, at 10:31:12 UTC."
    )
    assert Refusal.until(now - 5, now).seconds == 1  # never "try again in 0 seconds"


# ---- the database storage -------------------------------------------------------------------

@pytest.fixture
def storage(database_url):
    app = make_app(database_url)
    with app.app_context():
        yield DatabaseStorage("database://")
    app.extensions["wms.engine"].dispose()


def counters() -> dict[str, tuple[int, float]]:
    with db.reading() as session:
        rows = session.execute(text("SELECT limit_key, hits, expires_at FROM sign_in_counter")).all()
    return {key: (hits, expires_at) for key, hits, expires_at in rows}


def end_window(key: str) -> None:
    """Move a counter's window into the past (what a minute's wait would do)."""
    db.atomic(lambda session: session.execute(
        text("UPDATE sign_in_counter SET expires_at = :past WHERE limit_key = :key"),
        {"past": time.time() - 1, "key": stored_key(key)}))


def test_concurrent_increments_each_get_a_count_of_their_own(storage):
    from flask import current_app

    app = current_app._get_current_object()
    threads, each = 8, 25
    seen: list[int] = []
    lock = threading.Lock()

    def hammer():
        with app.app_context():
            for _ in range(each):
                value = storage.incr("LIMITER/192.0.2.10|picker", 60)
                with lock:
                    seen.append(value)

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(hammer) for _ in range(threads)]:
            future.result()
    assert sorted(seen) == list(range(1, threads * each + 1))
    assert storage.get("LIMITER/192.0.2.10|picker") == threads * each


def test_a_counter_past_its_window_counts_zero_and_starts_a_new_window(storage):
    key = "LIMITER/192.0.2.10|picker"
    assert [storage.incr(key, 60) for _ in range(3)] == [1, 2, 3]
    first_expiry = storage.get_expiry(key)
    assert time.time() < first_expiry <= time.time() + 60
    end_window(key)
    assert storage.get(key) == 0
    assert storage.get_expiry(key) <= time.time()
    assert storage.incr(key, 60) == 1
    assert storage.get_expiry(key) > time.time()


def test_windows_that_are_over_are_swept_when_a_new_one_opens(storage):
    for key in ("old-1", "old-2", "current"):
        storage.incr(key, 60)
    end_window("old-1")
    end_window("old-2")
    storage.incr("current", 60)  # no new window: nothing swept yet
    assert set(counters()) == {"old-1", "old-2", "current"}
    storage.incr("newcomer", 60)
    assert set(counters()) == {"current", "newcomer"}
    assert counters()["current"][0] == 2


def test_clearing_forgets_one_counter_and_reset_forgets_all(storage):
    for key in ("a", "b", "c"):
        storage.incr(key, 60)
    storage.clear("a")
    assert storage.get("a") == 0 and storage.get("b") == 1
    assert storage.reset() == 2
    assert counters() == {}
    assert storage.check()


def test_any_key_a_client_can_cause_is_stored(storage):
    odd = "LIMITER/" + "\x00é" * 200 + "|" + "x" * 300
    assert [storage.incr(odd, 60) for _ in range(2)] == [1, 2]
    assert storage.get(odd) == 2
    (key,) = counters()
    assert key.startswith("sha256:") and len(key) <= 255


# ---- real gunicorn, 3 workers ---------------------------------------------------------------

@pytest.fixture
def users_database(sqlite_url):
    """A migrated SQLite database with the standard users, for servers started by the test. Their
    passwords are hashed at the production cost: a sign-in takes as long as a real one, so ten
    at once overlap and gunicorn's workers share them."""
    app = make_app(sqlite_url)
    with app.app_context():
        _seed_basics(production_cost=True)
    app.extensions["wms.engine"].dispose()
    return sqlite_url


def served_by(log: str) -> set[str]:
    """The worker pids in gunicorn's access log (see ACCESS_LOG) that answered a sign-in POST."""
    return set(re.findall(r"^<(\d+)> \d{3} POST /login", log, re.MULTILINE))


ACCESS_LOG = "--access-logfile - --access-logformat '%(p)s %(s)s %(m)s %(U)s'"


def http_attempt(base_url: str, name: str, password: str = WRONG, headers: dict | None = None) -> httpx.Response:
    """One sign-in as a browser makes it: the form (with its CSRF token and cookie), then the POST."""
    with httpx.Client(base_url=base_url, headers=headers or {}, timeout=30) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        return client.post("/login", data={"username": name, "password": password, "csrf_token": token})


@pytest.mark.parametrize("storage_kind", ["database", pytest.param("redis", marks=pytest.mark.redis)])
def test_across_three_gunicorn_workers_the_eleventh_wrong_password_is_refused(users_database, tmp_path, storage_kind):
    redis_url = REDIS_URL if storage_kind == "redis" else None
    with flushed_redis(REDIS_URL) as redis:
        server = start_wms(users_database, tmp_path, workers=3, REDIS_URL=redis_url, GUNICORN_CMD_ARGS=ACCESS_LOG)
        try:
            # Ten at once, so that every worker takes some (each used to count only its own).
            with ThreadPoolExecutor(10) as pool:
                answers = list(pool.map(lambda _: http_attempt(server.url, "picker").status_code, range(10)))
            assert answers == [401] * 10
            assert len(served_by(server.output())) >= 2, server.output()[-3000:]

            eleventh = http_attempt(server.url, "picker")
            assert eleventh.status_code == 429
            assert SAYS_WHEN.search(eleventh.text) and int(eleventh.headers["Retry-After"]) >= 1
            assert http_attempt(server.url, "picker", PASSWORD).status_code == 429
            assert http_attempt(server.url, "manager", PASSWORD).status_code == 302  # the colleague
            redis_keys = redis.keys("*LIMITER*")
        finally:
            server.stop()
    app = make_app(users_database)
    with app.app_context():
        in_database = counters()
    app.extensions["wms.engine"].dispose()
    if storage_kind == "redis":
        assert redis_keys and not in_database
    else:
        assert in_database and not redis_keys


def test_behind_a_trusted_proxy_gunicorn_limits_each_client_on_its_own(users_database, tmp_path):
    server = start_wms(users_database, tmp_path, workers=3, TRUSTED_PROXIES="1")
    try:
        # The test is the proxy: it appends the client's address to whatever the client sent.
        def from_first_client(n: int) -> int:
            forged = f"198.51.100.{n}"
            return http_attempt(server.url, "picker", headers={"X-Forwarded-For": f"{forged}, 203.0.113.7"}).status_code

        with ThreadPoolExecutor(10) as pool:
            assert list(pool.map(from_first_client, range(10))) == [401] * 10
        assert from_first_client(10) == 429
        other = http_attempt(server.url, "picker", PASSWORD, headers={"X-Forwarded-For": "203.0.113.8"})
        assert other.status_code == 302
    finally:
        server.stop()
