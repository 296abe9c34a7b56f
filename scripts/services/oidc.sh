#!/usr/bin/env bash
# Starts a real OpenID Provider (npm `oidc-provider`, by panva) for the
# OIDC login tests, unless it already answers. Idempotent: safe to run any
# number of times, also concurrently (a lock serialises the runs).
#
# One Node process serves two issuers that share their signing keys:
#   main    http://127.0.0.1:4444   (PURATAN_OIDC_PORT)
#   tenant  http://127.0.0.1:4445   (PURATAN_OIDC_TENANT_PORT, default PORT+1)
# Clients puratan-test (RS256), other-client (ES256) and puratan-eddsa
# (EdDSA), secret "<client id>-secret", client_secret_post, PKCE required,
# loopback redirect URIs on any port; any login name logs in. See
# scripts/services/oidc-provider/server.mjs for the details.
#
# The npm packages are installed with `npm ci` from the committed
# package-lock.json into the cache (never into the repository); the server
# runs from there. A provider this script started from an older server.mjs
# or lock file is restarted.
#
# Environment:
#   PURATAN_CACHE              cache dir (default ~/.cache/puratan)
#   PURATAN_OIDC_PORT          port of the main issuer (default 4444)
#   PURATAN_OIDC_TENANT_PORT   port of the second issuer (default PORT+1)
#   PURATAN_OIDC_WAIT_S        seconds to wait for discovery (default 30)
set -euo pipefail

SRC="$(cd "$(dirname "$0")/oidc-provider" && pwd)"
source "$SRC/../../env.sh"

HOST=127.0.0.1
PORT="${PURATAN_OIDC_PORT:-4444}"
TENANT_PORT="${PURATAN_OIDC_TENANT_PORT:-$((PORT + 1))}"
WAIT_S="${PURATAN_OIDC_WAIT_S:-30}"
APP="$PURATAN_CACHE/oidc-provider"
LOG="$PURATAN_CACHE/oidc-provider-$PORT.log"
PIDFILE="$PURATAN_CACHE/oidc-provider-$PORT.pid"
SUMFILE="$PURATAN_CACHE/oidc-provider-$PORT.sum"

# Both issuers serve discovery and name themselves exactly.
answers() {
    local port
    for port in "$PORT" "$TENANT_PORT"; do
        curl -fsS --max-time 2 "http://$HOST:$port/.well-known/openid-configuration" 2>/dev/null |
            grep -q "\"issuer\":\"http://$HOST:$port\"" || return 1
    done
}

# What the running server was started from.
fingerprint() {
    cat "$SRC/server.mjs" "$SRC/package-lock.json" | sha256sum | cut -d' ' -f1
}

# The pid file names a live process running our server.mjs (not a zombie
# awaiting its reaper, not a reused pid).
ours_alive() {
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "oidc-provider/server.mjs"
}

command -v curl >/dev/null 2>&1 || apt_ensure curl
mkdir -p "$APP"
exec 9>"$PURATAN_CACHE/oidc-provider.lock"
flock 9

if answers; then
    if ours_alive && [[ "$(cat "$SUMFILE" 2>/dev/null)" != "$(fingerprint)" ]]; then
        echo "oidc.sh: the provider (pid $(cat "$PIDFILE")) runs an older server.mjs; restarting it."
        kill "$(cat "$PIDFILE")"
        for ((i = 0; i < 40; i++)); do
            ours_alive || break
            sleep 0.25
        done
    else
        echo "oidc.sh: the OpenID provider answers on http://$HOST:$PORT and http://$HOST:$TENANT_PORT; using it."
        exit 0
    fi
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "oidc.sh: node/npm are missing; installing the Debian packages"
    apt_ensure nodejs npm
fi
# oidc-provider 9 needs URL.parse (Node >= 20.18); it warns that it prefers
# Node 22 but runs on 20.
if ! node -e 'process.exit(typeof URL.parse === "function" ? 0 : 1)'; then
    echo "oidc.sh: Node $(node --version) is too old for oidc-provider 9 (needs >= 20.18)" >&2
    exit 1
fi

if ! cmp -s "$SRC/package-lock.json" "$APP/package-lock.json" || [[ ! -d "$APP/node_modules/oidc-provider" ]]; then
    echo "oidc.sh: installing oidc-provider (npm ci) into $APP"
    cp "$SRC/package.json" "$SRC/package-lock.json" "$APP/"
    (cd "$APP" && npm ci --no-audit --no-fund --loglevel=error) >>"$PURATAN_CACHE/oidc-provider-install.log" 2>&1 || {
        echo "oidc.sh: npm ci failed; see $PURATAN_CACHE/oidc-provider-install.log" >&2
        tail -n 20 "$PURATAN_CACHE/oidc-provider-install.log" >&2 || true
        # A half-installed tree must not look installed next time.
        rm -f "$APP/package-lock.json"
        exit 1
    }
fi
# Node resolves `import 'oidc-provider'` next to the script: run a copy.
cp "$SRC/server.mjs" "$APP/server.mjs"

if ours_alive; then
    echo "oidc.sh: the provider (pid $(cat "$PIDFILE")) is starting; waiting."
else
    echo "oidc.sh: starting the OpenID provider on $HOST:$PORT and $HOST:$TENANT_PORT (log: $LOG)"
    PURATAN_OIDC_PORT="$PORT" PURATAN_OIDC_TENANT_PORT="$TENANT_PORT" \
        nohup node "$APP/server.mjs" >>"$LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$PIDFILE"
    fingerprint >"$SUMFILE"
fi

for ((i = 0; i < WAIT_S * 4; i++)); do
    if answers; then
        echo "oidc.sh: OpenID provider ready: issuers http://$HOST:$PORT and http://$HOST:$TENANT_PORT (pid $(cat "$PIDFILE"))."
        exit 0
    fi
    if ! ours_alive; then
        echo "oidc.sh: the provider exited during start-up; last log lines:" >&2
        tail -n 20 "$LOG" >&2 || true
        exit 1
    fi
    sleep 0.25
done

echo "oidc.sh: the provider did not answer within ${WAIT_S}s; see $LOG" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
