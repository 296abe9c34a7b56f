#!/usr/bin/env bash
# Starts Redis on 127.0.0.1:6379 for the Redis adapter's tests, unless a
# Redis already answers there. Idempotent: safe to run any number of times.
# Installs the Debian package redis-server when redis-server is missing.
#
# The server keeps nothing on disk (no RDB snapshots, no AOF): it holds
# caches, sessions and rate-limit counters of test runs only.
#
# Environment:
#   PURATAN_REDIS_PORT     port (default 6379)
#   PURATAN_REDIS_WAIT_S   seconds to wait for PONG (default 15)
set -euo pipefail

HOST=127.0.0.1
PORT="${PURATAN_REDIS_PORT:-6379}"
WAIT_S="${PURATAN_REDIS_WAIT_S:-15}"
DIR=/var/lib/redis
LOG=/var/log/redis/ci.log

answers() {
    if command -v redis-cli >/dev/null 2>&1; then
        [[ "$(redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null)" == "PONG" ]]
    else
        # bash's /dev/tcp and an inline PING: no client needed to probe.
        (
            exec 3<>"/dev/tcp/$HOST/$PORT" || exit 1
            printf 'PING\r\n' >&3
            IFS= read -r -t 2 reply <&3 || exit 1
            [[ "$reply" == "+PONG"* ]]
        ) 2>/dev/null
    fi
}

if answers; then
    echo "redis.sh: Redis already answers on $HOST:$PORT; using it."
    exit 0
fi

if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis.sh: redis-server is missing; installing the Debian package"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1 || {
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    }
    # The package may have started its own service.
    if answers; then
        echo "redis.sh: Redis answers on $HOST:$PORT after installation."
        exit 0
    fi
fi

mkdir -p "$DIR" "$(dirname "$LOG")"
echo "redis.sh: starting redis-server on $HOST:$PORT (log: $LOG)"
# `-::1` binds IPv6 loopback too, if the machine has it.
redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$PORT" \
    --save "" --appendonly no --dir "$DIR" --logfile "$LOG"

for ((i = 0; i < WAIT_S * 4; i++)); do
    if answers; then
        echo "redis.sh: Redis answers on $HOST:$PORT."
        exit 0
    fi
    sleep 0.25
done

echo "redis.sh: Redis did not answer on $HOST:$PORT within ${WAIT_S}s; last lines of $LOG:" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
