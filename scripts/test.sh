#!/usr/bin/env bash
# Set up and run every test: SQLite and PostgreSQL, Redis and RQ workers, Chromium.
# The whole suite runs once (SQLite by default; the ledger, stock, order and end-to-end tests
# also on PostgreSQL); beside it, the pages, API and order-event tests run again with PostgreSQL as
# the default database. WMS_TEST_WORKERS sets how many test processes run at once (default 2).
# Extra arguments run just `pytest ARGS` (e.g. bash scripts/test.sh -k ledger).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser
bash scripts/services.sh
if [ "$#" -gt 0 ]; then
  exec .venv/bin/pytest -p no:cacheprovider "$@"
fi
# Two test files at a time (pytest-xdist, a file's tests together in one process: each file that
# needs Redis has a database number of its own; each process has its own PostgreSQL database).
# The PostgreSQL pass runs beside the first, one file at a time, its output shown when both end:
# much of a test's time is spent waiting (subprocesses, Chromium, the simulator), and the two
# passes fill each other's waits. Its files never use Redis (the first pass holds their numbers).
# --no-loadscope-reorder: files are handed out in collection order (tests/conftest.py puts the
# longest first); xdist's default hands out the files with the most tests first, which left the
# one-test, seven-minute form walk to run alone at the end.
PARALLEL=(-n "${WMS_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder)
AGAIN_ON_POSTGRES=(tests/test_pages_*.py tests/test_api_*.py tests/test_access.py tests/test_auth.py
                   tests/test_order_events.py tests/test_order_shipping.py)
again_log=$(mktemp)
trap 'rm -f "$again_log"' EXIT
WMS_TEST_DATABASE=postgres .venv/bin/pytest -p no:cacheprovider -n "${WMS_TEST_AGAIN_WORKERS:-1}" --dist loadfile --no-loadscope-reorder \
  "${AGAIN_ON_POSTGRES[@]}" >"$again_log" 2>&1 &
again=$!
status=0
.venv/bin/pytest -p no:cacheprovider "${PARALLEL[@]}" --durations=15 || status=$?
again_status=0
wait "$again" || again_status=$?
echo "== again with PostgreSQL as the default database (ran beside the pass above) =="
cat "$again_log"
[ "$again_status" -eq 0 ] || status=$again_status
exit "$status"
