#!/usr/bin/env bash
# Set up and run every test: SQLite and PostgreSQL, Redis and RQ workers, Chromium.
# Extra arguments go to pytest (e.g. bash scripts/test.sh -k ledger).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser
bash scripts/services.sh
exec .venv/bin/pytest -p no:cacheprovider "$@"
