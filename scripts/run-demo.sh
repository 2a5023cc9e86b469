#!/usr/bin/env bash
# Set up and run the WMS with demo data on SQLite, with the Starshipit simulator beside it
# sending orders in. Open http://127.0.0.1:${PORT:-8000}/ and sign in with a demo user printed below.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

PORT=${PORT:-8000}
SIM_PORT=${SIM_PORT:-8010}
mkdir -p instance
export DATABASE_URL=${DATABASE_URL:-sqlite:///$PWD/instance/demo.sqlite3}
export STARSHIPIT_WEBHOOK_SECRET=${STARSHIPIT_WEBHOOK_SECRET:-demo-webhook-secret}
export STARSHIPIT_API_URL=${STARSHIPIT_API_URL:-http://127.0.0.1:$SIM_PORT}
export STARSHIPIT_API_KEY=${STARSHIPIT_API_KEY:-demo-api-key}
export STARSHIPIT_SUBSCRIPTION_KEY=${STARSHIPIT_SUBSCRIPTION_KEY:-demo-subscription-key}

.venv/bin/wms init-db
.venv/bin/wms seed-demo

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if .venv/bin/wms simulator --help >/dev/null 2>&1; then
  .venv/bin/wms export-skus > instance/demo-skus.txt 2>/dev/null || true
  .venv/bin/wms simulator --port "$SIM_PORT" --wms-url "http://127.0.0.1:$PORT" \
    --secret "$STARSHIPIT_WEBHOOK_SECRET" --demo --skus-file instance/demo-skus.txt &
  pids+=($!)
  echo "Starshipit simulator on http://127.0.0.1:$SIM_PORT, sending orders to the WMS"
fi

echo "WMS on http://127.0.0.1:$PORT/  (Ctrl-C stops it)"
.venv/bin/gunicorn wsgi:app --bind "127.0.0.1:$PORT" --workers 3 --worker-class sync --timeout 60
