#!/usr/bin/env bash
# End-to-end load: GET /api/v1/products/business-card under wrk, for
#   1. a bare axum route returning the same bytes (baseline),
#   2. puratan on the embedded default (full gateway: request id, access
#      log, metrics, rate limit with a budget wrk cannot exhaust, time limit),
#   3. authenticated GET /api/v1/me (token validation, denylist, user read)
#      against a bare route answering a profile-sized body,
#   4. puratan on MongoDB (SecantusDB) + Redis + RabbitMQ   [MODE=all]
# and prints requests/s, p99 latency and the gateway/bare ratio.
#
#   benches/load/run.sh            # embedded only
#   MODE=all benches/load/run.sh   # also against the services
#   DURATION=20s CONNECTIONS=64 benches/load/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
apt_ensure wrk bc curl

MODE="${MODE:-embedded}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
PATH_UNDER_TEST="/api/v1/products/business-card"

# The bench profile (release optimisations) shares artifacts with `cargo bench`.
cargo build --locked --profile bench -q -p puratan-server --bin puratan --example bare_axum
BIN="$CARGO_TARGET_DIR/release"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

wait_port() {
    for _ in $(seq 1 200); do
        curl -fsS "http://127.0.0.1:$1$2" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "nothing answered on port $1" >&2
    return 1
}

# Prints "requests_per_second p99" for GET product (or, with a second
# argument `quote`, for POST /api/v1/quotes).
load() {
    local out script=()
    local path="$PATH_UNDER_TEST"
    if [[ "${2:-}" == quote ]]; then
        script=(-s benches/load/quote.lua)
        path=/api/v1/quotes
    elif [[ "${2:-}" == me ]]; then
        script=(-H "Authorization: Bearer $ACCESS_TOKEN")
        path=/api/v1/me
    fi
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${script[@]}" "http://127.0.0.1:$1$path")"
    echo "$out" >"$WORK/wrk-$1.txt"
    local rps p99 non2xx
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    if [[ -n "$non2xx" ]]; then
        echo "error: $non2xx non-2xx responses on port $1" >&2
        cat "$WORK/wrk-$1.txt" >&2
        exit 1
    fi
    echo "$rps $p99"
}

start_puratan() {
    local port="$1"; shift
    mkdir -p "$WORK/$port"
    env -i PATH="$PATH" HOME="$HOME" \
        PURATAN__SERVER__PORT="$port" \
        PURATAN__SQLITE__PATH="$WORK/$port/puratan.db" \
        PURATAN__FILES__ROOT="$WORK/$port/files" \
        PURATAN__CATALOG__SEED_FILE="$PWD/examples/catalog.json" \
        PURATAN__RATE_LIMITS__PUBLIC_PER_MINUTE=1000000000 \
        PURATAN__RATE_LIMITS__AUTHENTICATED_PER_MINUTE=1000000000 \
        "$@" "$BIN/puratan" serve >"$WORK/$port.log" 2>&1 &
    PIDS+=($!)
    wait_port "$port" /healthz
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk -t$THREADS -c$CONNECTIONS -d$DURATION"

PORT=8090 "$BIN/examples/bare_axum" >/dev/null 2>&1 &
PIDS+=($!)
wait_port 8090 "$PATH_UNDER_TEST"
start_puratan 8091
# A customer account (CLI, as an operator would) and its access token.
env -i PATH="$PATH" HOME="$HOME" PURATAN__SQLITE__PATH="$WORK/8091/puratan.db" \
    PURATAN__FILES__ROOT="$WORK/8091/files" PURATAN_NEW_PASSWORD=violet-tugboat-harmonica \
    "$BIN/puratan" users create --email bench@example.com --role customer >/dev/null
ACCESS_TOKEN="$(curl -fsS -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"violet-tugboat-harmonica"}' \
    http://127.0.0.1:8091/api/v1/auth/login | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"
[[ "$ACCESS_TOKEN" == *.*.* ]] || { echo "could not log in for the /me benchmark" >&2; exit 1; }

# Median of ROUNDS runs, alternating targets so background noise on this
# shared 2-core machine hits both sides of each ratio alike.
ROUNDS="${ROUNDS:-3}"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A RPS P99
for round in $(seq 1 "$ROUNDS"); do
    for target in "8090 get" "8091 get" "8090 quote" "8091 quote" "8090 me" "8091 me"; do
        read -r port kind <<<"$target"
        read -r rps p99 < <(load "$port" "$kind")
        RPS[$port-$kind]+="$rps "
        P99[$port-$kind]+="$p99 "
    done
done
med() { tr ' ' '\n' <<<"${RPS[$1]}" | grep . | median; }
p99() { tr ' ' '\n' <<<"${P99[$1]}" | grep . | sed 's/ms$//' | median; }
bare_rps=$(med 8090-get); emb_rps=$(med 8091-get); bareq_rps=$(med 8090-quote); embq_rps=$(med 8091-quote)
barem_rps=$(med 8090-me); embm_rps=$(med 8091-me)

printf '\n%-40s %12s %10s %8s\n' "target (median of $ROUNDS)" "req/s" "p99 ms" "vs bare"
printf '%-40s %12s %10s %8s\n' "GET product: bare axum (same bytes)" "$bare_rps" "$(p99 8090-get)" "100%"
printf '%-40s %12s %10s %7.0f%%\n' "GET product: puratan embedded" "$emb_rps" "$(p99 8091-get)" "$(echo "100*$emb_rps/$bare_rps" | bc -l)"
printf '%-40s %12s %10s %8s\n' "POST quote: bare axum (parse + bytes)" "$bareq_rps" "$(p99 8090-quote)" "100%"
printf '%-40s %12s %10s %7.0f%%\n' "POST quote: puratan (price + sign)" "$embq_rps" "$(p99 8091-quote)" "$(echo "100*$embq_rps/$bareq_rps" | bc -l)"
printf '%-40s %12s %10s %8s\n' "GET me: bare axum (same-size body)" "$barem_rps" "$(p99 8090-me)" "100%"
printf '%-40s %12s %10s %7.0f%%\n' "GET me: puratan (JWT + denylist + user)" "$embm_rps" "$(p99 8091-me)" "$(echo "100*$embm_rps/$barem_rps" | bc -l)"

if [[ "$MODE" == "all" ]]; then
    scripts/services/redis.sh >/dev/null
    scripts/services/rabbitmq.sh >/dev/null
    scripts/services/mongo.sh >/dev/null
    start_puratan 8092 \
        PURATAN__STORAGE=mongodb \
        PURATAN__MONGODB__URI="mongodb://127.0.0.1:27018/?retryWrites=false" \
        PURATAN__MONGODB__DATABASE="bench_$RANDOM$RANDOM" \
        PURATAN__CACHE=redis PURATAN__REDIS__KEY_PREFIX="bench$RANDOM" \
        PURATAN__EVENTS=rabbitmq
    read -r svc_rps svc_p99 < <(load 8092)
    printf '%-40s %12s %10s %7.0f%%\n' "GET product: puratan mongo+redis+rabbit" "$svc_rps" "$svc_p99" "$(echo "100*$svc_rps/$bare_rps" | bc -l)"
fi
