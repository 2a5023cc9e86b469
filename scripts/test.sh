#!/usr/bin/env bash
# Set up and run every test: SQLite and PostgreSQL, Redis and RQ workers, Chromium.
# The whole suite runs once (SQLite by default; the ledger, stock, order and end-to-end tests
# also on PostgreSQL), then the pages, API and order-event tests run again with PostgreSQL as
# the default database. Extra arguments run just `pytest ARGS` (e.g. bash scripts/test.sh -k ledger).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser
bash scripts/services.sh
if [ "$#" -gt 0 ]; then
  exec .venv/bin/pytest -p no:cacheprovider "$@"
fi
.venv/bin/pytest -p no:cacheprovider
echo "== again with PostgreSQL as the default database =="
WMS_TEST_DATABASE=postgres .venv/bin/pytest -p no:cacheprovider \
  tests/test_pages_*.py tests/test_api_*.py tests/test_access.py tests/test_auth.py \
  tests/test_order_events.py tests/test_order_shipping.py
