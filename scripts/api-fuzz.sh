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
ENV=(PATH="$PATH" HOME="$HOME"
    PURATAN__SQLITE__PATH="$WORK/db.sqlite" PURATAN__FILES__ROOT="$WORK/files")
# A staff account with every role, so the routes behind a user's access
# token (orders, cart, staff queue and search, jobs, live tickets, /me)
# are fuzzed past authentication too.
PASSWORD="api-fuzz-$(date +%s)-violet-tugboat"
env -i "${ENV[@]}" PURATAN_NEW_PASSWORD="$PASSWORD" \
    "$CARGO_TARGET_DIR/debug/puratan" users create --email fuzz-admin@example.com --role admin >/dev/null
env -i "${ENV[@]}" \
    PURATAN__SERVER__PORT="$PORT" \
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

ACCESS_TOKEN="$(curl -fsS -H 'content-type: application/json' \
    -d "{\"email\":\"fuzz-admin@example.com\",\"password\":\"$PASSWORD\"}" \
    "http://127.0.0.1:$PORT/api/v1/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

# Run from the scratch directory: schemathesis keeps state in ./.schemathesis.
# Twice: with the operator's admin token (the /api/v1/admin routes), then
# with the staff user's access token (everything behind a user login).
# The second pass leaves out what would end its own session or strip its
# roles half-way (logout, password and 2FA changes, session revocation,
# disabling or demoting users — the fuzzer finds its own account id);
# the first pass still throws hostile input at those.
fuzz() {
    (cd "$WORK" && "$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
        --checks not_a_server_error \
        --max-examples "${API_FUZZ_EXAMPLES:-50}" \
        -H "Authorization: Bearer $1" \
        "${@:2}" \
        --no-color)
}
fuzz "$TOKEN"
fuzz "$ACCESS_TOKEN" --exclude-path-regex \
    '^/api/v1/(auth/(logout|logout-all|password|refresh|2fa/.*)|me/sessions.*|admin/users/\{id\}/(status|roles))$'
if grep -q '"level":"ERROR"' "$WORK/server.log"; then
    echo "the server logged errors during fuzzing:" >&2
    grep '"level":"ERROR"' "$WORK/server.log" | head -20 >&2
    exit 1
fi
