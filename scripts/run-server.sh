#!/usr/bin/env bash
# Runs the reference server on the embedded default (SQLite file under
# ./data, in-process cache, rate limiter and event bus) with the sample
# catalog from examples/. Extra arguments go to `puratan serve`'s config
# through the environment, e.g. PURATAN__SERVER__PORT=9000 ./scripts/run-server.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

export PURATAN__CATALOG__SEED_FILE="${PURATAN__CATALOG__SEED_FILE:-examples/catalog.json}"
export PURATAN__LOG__FORMAT="${PURATAN__LOG__FORMAT:-pretty}"
# Development mail: one JSON line per message (verification and reset
# links included) in data/outbox/outbox.jsonl instead of an SMTP relay.
export PURATAN__NOTIFY__BACKEND="${PURATAN__NOTIFY__BACKEND:-file}"
export PURATAN__NOTIFY__DIR="${PURATAN__NOTIFY__DIR:-data/outbox}"
echo "Puratan on http://127.0.0.1:${PURATAN__SERVER__PORT:-8080}  (try: curl localhost:${PURATAN__SERVER__PORT:-8080}/api/v1/products)"
echo "Mail (verification/reset links) goes to $PURATAN__NOTIFY__DIR/outbox.jsonl; first admin: cargo run -p puratan-server -- users create --email you@example.com --role admin"
exec cargo run --locked -p puratan-server --bin puratan -- serve "$@"
