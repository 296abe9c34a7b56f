#!/usr/bin/env bash
# Starts a MongoDB-wire-compatible test server (SecantusDB) on 127.0.0.1:27018
# for the MongoDB adapter's conformance tests, unless something already
# answers there. Idempotent: safe to run any number of times.
#
# SecantusDB (GPL) runs as a separate process only; nothing links it.
# Connect with mongodb://127.0.0.1:27018/?retryWrites=false
# (without retryWrites=false the server slows down badly after ~10k writes).
#
# Environment:
#   PURATAN_CACHE          cache dir (default ~/.cache/puratan)
#   PURATAN_MONGO_PORT     port (default 27018)
#   PURATAN_MONGO_WAIT_S   seconds to wait for the port (default 30)
set -euo pipefail

CACHE="${PURATAN_CACHE:-$HOME/.cache/puratan}"
VENV="$CACHE/secantus"
HOST=127.0.0.1
PORT="${PURATAN_MONGO_PORT:-27018}"
WAIT_S="${PURATAN_MONGO_WAIT_S:-30}"
VERSION='0.7.0b3'
LOG="$CACHE/secantus-$PORT.log"
PIDFILE="$CACHE/secantus-$PORT.pid"

answers() {
    # bash's /dev/tcp: no nc/python needed just to probe a port.
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

mkdir -p "$CACHE"

if answers; then
    echo "mongo.sh: something already answers on $HOST:$PORT; using it."
    exit 0
fi

if [[ ! -x "$VENV/bin/secantusd-py" ]]; then
    echo "mongo.sh: installing secantusdb==$VERSION into $VENV"
    PY="$(command -v python3 || true)"
    if [[ -z "$PY" ]]; then
        echo "mongo.sh: python3 is required to install SecantusDB" >&2
        exit 1
    fi
    [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "secantusdb==$VERSION" \
        >>"$CACHE/secantus-install.log" 2>&1 || {
        echo "mongo.sh: pip install secantusdb==$VERSION failed; see $CACHE/secantus-install.log" >&2
        tail -n 20 "$CACHE/secantus-install.log" >&2 || true
        exit 1
    }
fi

# A stale pid file from a dead server is harmless; a live process that does
# not answer (still starting) is waited for instead of started twice.
if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "mongo.sh: SecantusDB (pid $(cat "$PIDFILE")) is starting; waiting."
else
    echo "mongo.sh: starting SecantusDB on $HOST:$PORT (log: $LOG)"
    nohup "$VENV/bin/secantusd-py" --host "$HOST" --port "$PORT" \
        --storage-path :memory: --log-level WARNING >>"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
fi

for ((i = 0; i < WAIT_S * 4; i++)); do
    if answers; then
        echo "mongo.sh: SecantusDB answers on $HOST:$PORT (pid $(cat "$PIDFILE"))."
        exit 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        echo "mongo.sh: SecantusDB exited during start-up; last log lines:" >&2
        tail -n 20 "$LOG" >&2 || true
        exit 1
    fi
    sleep 0.25
done

echo "mongo.sh: SecantusDB did not answer on $HOST:$PORT within ${WAIT_S}s; see $LOG" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
