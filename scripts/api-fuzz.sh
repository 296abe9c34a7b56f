#!/usr/bin/env bash
# Property-based API fuzzing: schemathesis generates requests from the
# server's own OpenAPI document (valid and invalid bodies, parameters,
# headers, stateful sequences) against a fresh embedded server, and fails
# on any 5xx. Hostile input must get a 4xx with the JSON error model.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

VENV="$PURATAN_CACHE/schemathesis"
VERSION=4.32.5
if [[ ! -x "$VENV/bin/schemathesis" ]] || ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

cargo build --locked -q -p puratan-server --bin puratan
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
TOKEN="api-fuzz-admin-token-$(date +%s)-0123456789abcdef"
env -i PATH="$PATH" HOME="$HOME" \
    PURATAN__SERVER__PORT="$PORT" \
    PURATAN__SQLITE__PATH="$WORK/db.sqlite" PURATAN__FILES__ROOT="$WORK/files" \
    PURATAN__CATALOG__SEED_FILE="$PWD/examples/catalog.json" \
    PURATAN__RATE_LIMITS__ENABLED=false PURATAN__LOG__ACCESS_LOG=false \
    PURATAN__ADMIN__TOKEN="$TOKEN" \
    "$CARGO_TARGET_DIR/debug/puratan" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

# Run from the scratch directory: schemathesis keeps state in ./.schemathesis.
(cd "$WORK" && "$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
    --checks not_a_server_error \
    --max-examples "${API_FUZZ_EXAMPLES:-50}" \
    -H "Authorization: Bearer $TOKEN" \
    --no-color)
if grep -q '"level":"ERROR"' "$WORK/server.log"; then
    echo "the server logged errors during fuzzing:" >&2
    grep '"level":"ERROR"' "$WORK/server.log" | head -20 >&2
    exit 1
fi
