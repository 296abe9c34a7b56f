#!/usr/bin/env bash
# End-to-end checkout load: wrk POSTs /api/v1/orders with a fresh
# Idempotency-Key per request (every request creates an order: quote
# re-verification, idempotency, order + outbox + stock + coupon
# redemptions in one transaction, relay)
# against puratan on the embedded default, for
#   1. a made-to-order product (business cards: no stock row),
#   2. a stock-controlled product (A3 posters: every order decrements
#      the same product row inside the checkout transaction),
# and prints requests/s, p99 latency and the orders stored afterwards.
#
#   benches/load/checkout.sh                   # embedded default (SQLite)
#   MODE=services benches/load/checkout.sh     # MongoDB (SecantusDB) + Redis + RabbitMQ
#   DURATION=20s CONNECTIONS=32 benches/load/checkout.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
apt_ensure wrk curl

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
PORT="${PORT:-8093}"
MODE="${MODE:-embedded}"
ADMIN_TOKEN="checkout-bench-admin-token-0123456789abcdef"

cargo build --locked --profile bench -q -p puratan-server --bin puratan
BIN="$CARGO_TARGET_DIR/release"
WORK="$(mktemp -d)"
PID=""
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

env_common=(PATH="$PATH" HOME="$HOME"
    PURATAN__SQLITE__PATH="$WORK/puratan.db" PURATAN__FILES__ROOT="$WORK/files")
if [[ "$MODE" == services ]]; then
    scripts/services/redis.sh >/dev/null
    scripts/services/rabbitmq.sh >/dev/null
    scripts/services/mongo.sh >/dev/null
    env_common+=(PURATAN__STORAGE=mongodb
        PURATAN__MONGODB__URI="mongodb://127.0.0.1:27018/?retryWrites=false"
        PURATAN__MONGODB__DATABASE="checkout_bench_$RANDOM$RANDOM"
        PURATAN__CACHE=redis PURATAN__REDIS__KEY_PREFIX="checkoutbench$RANDOM"
        PURATAN__EVENTS=rabbitmq)
fi
env -i "${env_common[@]}" \
    PURATAN__SERVER__PORT="$PORT" \
    PURATAN__ADMIN__TOKEN="$ADMIN_TOKEN" \
    PURATAN__LOG__ACCESS_LOG=false \
    PURATAN__CATALOG__SEED_FILE="$PWD/examples/catalog.json" \
    PURATAN__RATE_LIMITS__ENABLED=false \
    "$BIN/puratan" serve >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
BASE="http://127.0.0.1:$PORT"

env -i "${env_common[@]}" PURATAN_NEW_PASSWORD=violet-tugboat-harmonica \
    "$BIN/puratan" users create --email checkout-bench@example.com --role customer >/dev/null
ACCESS_TOKEN="$(curl -fsS -H 'content-type: application/json' \
    -d '{"email":"checkout-bench@example.com","password":"violet-tugboat-harmonica"}' \
    "$BASE/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
export ACCESS_TOKEN

# Enough posters that the run never sells out.
python3 - "$BASE" "$ADMIN_TOKEN" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"authorization": "Bearer " + token, "content-type": "application/json"})
    return json.load(urllib.request.urlopen(req))
p = call("GET", "/api/v1/admin/products/poster-a3")
keep = ["sku", "name", "description", "category", "tags", "pricing_ref", "specifications"]
call("PUT", "/api/v1/admin/products/poster-a3",
     {**{k: p[k] for k in keep}, "stock": 10**12, "active": True, "version": p["version"]})
PY

# A checkout body for one line of `options` (a signed quote of it).
checkout_body() {
    python3 - "$BASE" "$1" <<'PY'
import json, sys, urllib.request
base, request = sys.argv[1], json.loads(sys.argv[2])
req = urllib.request.Request(base + "/api/v1/quotes", data=json.dumps(request).encode(),
                             headers={"content-type": "application/json"})
q = json.load(urllib.request.urlopen(req))
options = {k: v for k, v in request.items() if k not in ("product", "quantity")}
print(json.dumps({
    "lines": [{"product_id": request["product"], "quantity": request["quantity"],
               "quote_token": q["token"], "options": options}],
    "shipping_address": {"name": "Ann Example", "line1": "Main St 1", "postal_code": "10115",
                         "city": "Berlin", "country": "DE"},
    "expected_total": {"amount": q["quote"]["total"], "currency": q["quote"]["currency"]},
}))
PY
}

run_load() {
    local name="$1" request="$2" out rps p99 non2xx
    export CHECKOUT_BODY RUN_ID="run$RANDOM$RANDOM"
    CHECKOUT_BODY="$(checkout_body "$request")"
    # One checkout by hand first: a refused body would make wrk measure
    # error responses.
    local probe
    probe="$(curl -sS -w ' %{http_code}' -H 'content-type: application/json' \
        -H "authorization: Bearer $ACCESS_TOKEN" -H "idempotency-key: probe-$RUN_ID" \
        -d "$CHECKOUT_BODY" "$BASE/api/v1/orders")"
    [[ "$probe" == *" 201" ]] || { echo "checkout refused: $probe" >&2; exit 1; }
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency -s benches/load/checkout.lua "$BASE/api/v1/orders")"
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    if grep -q "Socket errors" <<<"$out"; then
        echo "error: socket errors (timeouts?)" >&2
        echo "$out" >&2
        exit 1
    fi
    if [[ -n "$non2xx" ]]; then
        echo "error: $non2xx non-2xx responses" >&2
        echo "$out" >&2
        exit 1
    fi
    done_requests=$((done_requests + 1 + $(awk '/requests in/ {print $1}' <<<"$out")))
    printf '%-44s %10s %10s\n' "$name" "$rps" "$p99"
}
done_requests=0

echo "mode: $MODE; machine: $(nproc) cores; wrk -t$THREADS -c$CONNECTIONS -d$DURATION; server and wrk share the cores"
printf '%-44s %10s %10s\n' "checkout ($MODE)" "orders/s" "p99"
run_load "made to order (business cards)" \
    '{"product":"business-card","quantity":500,"paper":"silk-350","color":"4/4","turnaround":"standard","region":"DE"}'
run_load "stock-controlled (A3 posters, one row)" \
    '{"product":"poster-a3","quantity":10,"paper":"silk-170","color":"4/0","turnaround":"standard","region":"DE"}'
# Every answered checkout is an order; at most the requests still in
# flight when wrk stopped (one per connection per run) may add to that.
stored="$(python3 - "$BASE" "$ACCESS_TOKEN" <<'PY'
import json, sys, urllib.request
base, token, n, cursor = sys.argv[1], sys.argv[2], 0, None
while True:
    url = base + "/api/v1/orders?limit=100" + (f"&cursor={cursor}" if cursor else "")
    page = json.load(urllib.request.urlopen(urllib.request.Request(url, headers={"authorization": "Bearer " + token})))
    n += len(page["items"])
    cursor = page.get("next_cursor")
    if not cursor:
        break
print(n)
PY
)"
echo "orders stored: $stored (answered 201: $done_requests)"
if ((stored < done_requests || stored > done_requests + 2 * CONNECTIONS)); then
    echo "error: stored orders do not match the answered checkouts" >&2
    exit 1
fi
