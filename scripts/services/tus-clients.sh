#!/usr/bin/env bash
# Installs the official tus clients the tus endpoint's API tests upload
# with (crates/puratan-server/tests/api/uploads.rs), unless they are
# already there. Idempotent: safe to run any number of times, also
# concurrently (a lock serialises the runs). Nothing is started.
#
#   tus-js-client (npm, its Node build)  npm ci from the committed
#       scripts/tus-clients/package-lock.json into
#       $PURATAN_CACHE/tus-clients/node_modules
#   tuspy (PyPI)  pip install -r scripts/tus-clients/requirements.txt
#       into the venv $PURATAN_CACHE/tus-clients/venv
#
# The driver scripts stay in the repository (scripts/tus-clients/*.mjs,
# *.py); the Node one loads tus-js-client from the cache with
# createRequire, the Python one runs on the venv's interpreter.
#
# Environment:
#   PURATAN_CACHE   cache dir (default ~/.cache/puratan)
set -euo pipefail

SRC="$(cd "$(dirname "$0")/../tus-clients" && pwd)"
source "$SRC/../env.sh"

DEST="$PURATAN_CACHE/tus-clients"
VENV="$DEST/venv"
LOG="$DEST/install.log"

mkdir -p "$DEST"
exec 9>"$DEST/install.lock"
flock 9

# ---- tus-js-client ----------------------------------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "tus-clients.sh: node/npm are missing; installing the Debian packages"
    apt_ensure nodejs npm
fi
if ! cmp -s "$SRC/package-lock.json" "$DEST/package-lock.json" || [[ ! -f "$DEST/node_modules/tus-js-client/package.json" ]]; then
    echo "tus-clients.sh: installing tus-js-client (npm ci) into $DEST"
    cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
    (cd "$DEST" && npm ci --no-audit --no-fund --loglevel=error) >>"$LOG" 2>&1 || {
        echo "tus-clients.sh: npm ci failed; see $LOG" >&2
        tail -n 20 "$LOG" >&2 || true
        # A half-installed tree must not look installed next time.
        rm -f "$DEST/package-lock.json"
        exit 1
    }
fi

# ---- tuspy ------------------------------------------------------------------
if ! cmp -s "$SRC/requirements.txt" "$VENV/requirements.txt" || ! "$VENV/bin/python" -c "import tusclient" 2>/dev/null; then
    echo "tus-clients.sh: installing tuspy (pip) into $VENV"
    PY="$(command -v python3 || true)"
    if [[ -z "$PY" ]]; then
        echo "tus-clients.sh: python3 is required to install tuspy" >&2
        exit 1
    fi
    if ! "$PY" -c "import venv, ensurepip" 2>/dev/null; then
        apt_ensure python3-venv
    fi
    [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
    rm -f "$VENV/requirements.txt"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$SRC/requirements.txt" \
        >>"$LOG" 2>&1 || {
        echo "tus-clients.sh: pip install failed; see $LOG" >&2
        tail -n 20 "$LOG" >&2 || true
        exit 1
    }
    cp "$SRC/requirements.txt" "$VENV/requirements.txt"
fi

echo "tus-clients.sh: tus-js-client $(node -p "require('$DEST/node_modules/tus-js-client/package.json').version") and tuspy $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("tuspy"))') ready in $DEST."
