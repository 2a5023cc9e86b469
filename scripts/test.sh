#!/usr/bin/env bash
# Set up and run every test: SQLite and PostgreSQL, Redis and RQ workers, Chromium.
# The whole suite runs once (SQLite by default; the ledger, stock, order and end-to-end tests
# also on PostgreSQL), then the pages, API and order-event tests run again with PostgreSQL as
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
PARALLEL=(-n "${WMS_TEST_WORKERS:-2}" --dist loadfile)
status=0
.venv/bin/pytest -p no:cacheprovider "${PARALLEL[@]}" || status=$?
echo "== again with PostgreSQL as the default database =="
WMS_TEST_DATABASE=postgres .venv/bin/pytest -p no:cacheprovider "${PARALLEL[@]}" \
  tests/test_pages_*.py tests/test_api_*.py tests/test_access.py tests/test_auth.py \
  tests/test_order_events.py tests/test_order_shipping.py || status=$?
exit "$status"
