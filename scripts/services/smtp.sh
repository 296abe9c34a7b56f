#!/usr/bin/env bash
# Starts a real SMTP server (PyPI `aiosmtpd`) on 127.0.0.1:2525 for the
# SMTP notifier's tests, unless one of ours already answers there.
# Idempotent: safe to run any number of times, also concurrently (a lock
# serialises the runs).
#
# The server accepts every message (no TLS, no AUTH: the notifier's
# `security = "none"` mode) and stores it, as received plus X-Peer,
# X-MailFrom and X-RcptTo headers, in a Maildir:
#   $PURATAN_CACHE/smtp-sink-$PORT/maildir/new/<one file per message>
# crates/puratan-testkit/src/smtp.rs reads it. The Maildir is emptied each
# time this script starts a new server.
#
# aiosmtpd is installed with pip into a venv in the cache (never into the
# repository).
#
# Environment:
#   PURATAN_CACHE         cache dir (default ~/.cache/puratan)
#   PURATAN_SMTP_PORT     port (default 2525)
#   PURATAN_SMTP_WAIT_S   seconds to wait for the greeting (default 20)
set -euo pipefail

source "$(dirname "$0")/../env.sh"

HOST=127.0.0.1
PORT="${PURATAN_SMTP_PORT:-2525}"
WAIT_S="${PURATAN_SMTP_WAIT_S:-20}"
VERSION='1.4.6'
VENV="$PURATAN_CACHE/smtp-venv"
SINK="$PURATAN_CACHE/smtp-sink-$PORT"
MAILDIR="$SINK/maildir"
LOG="$SINK/aiosmtpd.log"
PIDFILE="$SINK/aiosmtpd.pid"

# An SMTP greeting (220) within two seconds: bash's /dev/tcp, no client.
answers() {
    (
        exec 3<>"/dev/tcp/$HOST/$PORT" || exit 1
        IFS= read -r -t 2 greeting <&3 || exit 1
        printf 'QUIT\r\n' >&3
        [[ "$greeting" == 220* ]]
    ) 2>/dev/null
}

# The pid file names a live aiosmtpd of ours (not a reused pid).
ours_alive() {
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "aiosmtpd .*$MAILDIR"
}

mkdir -p "$SINK"
exec 9>"$SINK/smtp.lock"
flock 9

if answers; then
    if ours_alive; then
        echo "smtp.sh: aiosmtpd (pid $(cat "$PIDFILE")) answers on $HOST:$PORT; Maildir $MAILDIR."
    else
        echo "smtp.sh: something else answers on $HOST:$PORT; using it (tests read $MAILDIR and will not see its mail unless it writes there)." >&2
    fi
    exit 0
fi

if ! "$VENV/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$VERSION')" 2>/dev/null; then
    echo "smtp.sh: installing aiosmtpd==$VERSION into $VENV"
    PY="$(command -v python3 || true)"
    if [[ -z "$PY" ]]; then
        echo "smtp.sh: python3 is required to install aiosmtpd" >&2
        exit 1
    fi
    [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "aiosmtpd==$VERSION" \
        >>"$PURATAN_CACHE/smtp-install.log" 2>&1 || {
        echo "smtp.sh: pip install aiosmtpd==$VERSION failed; see $PURATAN_CACHE/smtp-install.log" >&2
        tail -n 20 "$PURATAN_CACHE/smtp-install.log" >&2 || true
        exit 1
    }
fi

if ours_alive; then
    echo "smtp.sh: aiosmtpd (pid $(cat "$PIDFILE")) is starting; waiting."
else
    rm -rf "$MAILDIR"
    mkdir -p "$MAILDIR"/{new,cur,tmp}
    echo "smtp.sh: starting aiosmtpd on $HOST:$PORT (Maildir $MAILDIR, log: $LOG)"
    # -n: stay as this user (no setuid to nobody).
    nohup "$VENV/bin/python" -m aiosmtpd -n -l "$HOST:$PORT" \
        -c aiosmtpd.handlers.Mailbox "$MAILDIR" >>"$LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$PIDFILE"
fi

for ((i = 0; i < WAIT_S * 4; i++)); do
    if answers; then
        echo "smtp.sh: aiosmtpd answers on $HOST:$PORT (pid $(cat "$PIDFILE")); Maildir $MAILDIR."
        exit 0
    fi
    if ! ours_alive; then
        echo "smtp.sh: aiosmtpd exited during start-up; last log lines:" >&2
        tail -n 20 "$LOG" >&2 || true
        exit 1
    fi
    sleep 0.25
done

echo "smtp.sh: aiosmtpd did not answer on $HOST:$PORT within ${WAIT_S}s; see $LOG" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
