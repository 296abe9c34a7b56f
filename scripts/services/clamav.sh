#!/usr/bin/env bash
# Starts a private ClamAV daemon (clamd) on 127.0.0.1:3310 and a unix
# socket for the virus-scanner adapter's tests, unless ours already answers
# PING there. Idempotent: safe to run any number of times, also
# concurrently (a lock serialises the runs).
#
# Offline by design: neither the system's clamav-daemon service nor
# freshclam is used (no signature download is possible here). clamd runs as
# the current user with its own config, and its database directory holds
# ONLY test signatures written by this script:
#   puratan.hdb  whole-file MD5 signatures (md5:size:name):
#                  Puratan.Test.EICAR       the 68-byte EICAR test file
#                  Puratan.Test.KnownBlob   a fixed ASCII blob (the suite's
#                                           "hash matches whole files only")
#   puratan.ndb  body signature (name:target:offset:hex):
#                  Puratan.Test.EICAR-Body  the EICAR string anywhere in a file
# clamd reports them with a `.UNOFFICIAL` suffix (unsigned databases).
# The EICAR string is assembled from two halves here and in the tests, so
# no file in the repository is the test virus.
#
# Everything lives in $PURATAN_CACHE/clamav/: clamd.conf, db/, clamd.log,
# clamd.out, clamd.pid, clamd.sock (the unix socket) and tmp/.
#
# StreamMaxLength is 32M, which the Scanner conformance suite
# (crates/puratan-testkit/src/scanner.rs, STREAM_LIMIT) relies on.
#
# Environment:
#   PURATAN_CACHE          cache dir (default ~/.cache/puratan)
#   PURATAN_CLAMAV_PORT    TCP port (default 3310)
#   PURATAN_CLAMAV_WAIT_S  seconds to wait for PONG (default 60)
set -euo pipefail

source "$(dirname "$0")/../env.sh"

HOST=127.0.0.1
PORT="${PURATAN_CLAMAV_PORT:-3310}"
WAIT_S="${PURATAN_CLAMAV_WAIT_S:-60}"
DIR="$PURATAN_CACHE/clamav"
DB="$DIR/db"
CONF="$DIR/clamd.conf"
LOG="$DIR/clamd.log"
OUT="$DIR/clamd.out" # clamd's own stdout/stderr (start-up errors)
PIDFILE="$DIR/clamd.pid"
SOCK="$DIR/clamd.sock"

# `zPING\0` answered by `PONG\0` within two seconds: bash's /dev/tcp, no client.
answers() {
    (
        exec 3<>"/dev/tcp/$HOST/$PORT" || exit 1
        printf 'zPING\0' >&3
        IFS= read -r -d '' -t 2 reply <&3 || exit 1
        [[ "$reply" == "PONG" ]]
    ) 2>/dev/null
}

# The pid file names a live clamd of ours (not a reused pid).
ours_alive() {
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "clamd .*$CONF"
}

mkdir -p "$DIR"
exec 9>"$DIR/clamav.lock"
flock 9

if answers; then
    if ours_alive; then
        echo "clamav.sh: clamd (pid $(cat "$PIDFILE")) answers on $HOST:$PORT and $SOCK."
    else
        echo "clamav.sh: something else answers PING on $HOST:$PORT; using it (the tests need the signatures of $DB loaded there)." >&2
    fi
    exit 0
fi

if ! command -v clamd >/dev/null 2>&1 && [[ ! -x /usr/sbin/clamd ]]; then
    echo "clamav.sh: clamd is missing; installing the Debian package clamav-daemon"
    apt_ensure clamav-daemon
fi
CLAMD="$(command -v clamd || echo /usr/sbin/clamd)"

if ours_alive; then
    echo "clamav.sh: clamd (pid $(cat "$PIDFILE")) is starting; waiting."
else
    # ---- signatures (rewritten on every start: the database is ours) ------
    rm -rf "$DB" "$DIR/tmp"
    mkdir -p "$DB" "$DIR/tmp"
    eicar_a='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR'
    eicar_b='-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
    # Must equal KNOWN_BLOB in crates/puratan-testkit/src/scanner.rs.
    blob='puratan scanner conformance: a harmless blob listed by whole-file hash'
    hdb_line() { # data name -> md5:size:name
        printf '%s:%s:%s\n' "$(printf '%s' "$1" | md5sum | cut -d' ' -f1)" \
            "$(printf '%s' "$1" | wc -c | tr -d ' ')" "$2"
    }
    {
        hdb_line "$eicar_a$eicar_b" Puratan.Test.EICAR
        hdb_line "$blob" Puratan.Test.KnownBlob
    } >"$DB/puratan.hdb"
    # Target 0 (any file), offset * (anywhere), the string as lowercase hex.
    printf 'Puratan.Test.EICAR-Body:0:*:%s\n' \
        "$(printf '%s%s' "$eicar_a" "$eicar_b" | od -An -v -tx1 | tr -d ' \n')" >"$DB/puratan.ndb"

    cat >"$CONF" <<EOF
# Written by scripts/services/clamav.sh: a private, offline clamd for tests.
Foreground yes
LogFile $LOG
LogTime yes
LogFileMaxSize 10M
PidFile $DIR/clamd-self.pid
TemporaryDirectory $DIR/tmp
DatabaseDirectory $DB
OfficialDatabaseOnly no
TCPAddr $HOST
TCPSocket $PORT
LocalSocket $SOCK
LocalSocketMode 600
StreamMaxLength 32M
MaxThreads 8
MaxQueue 200
ReadTimeout 30
CommandReadTimeout 10
SelfCheck 0
# A file that hits a scan limit is reported (Heuristics.Limits.Exceeded.*),
# never passed as clean without having been scanned.
AlertExceedsMax yes
EOF
    rm -f "$SOCK"
    echo "clamav.sh: starting clamd on $HOST:$PORT and $SOCK (config: $CONF, log: $LOG)"
    nohup "$CLAMD" --config-file="$CONF" >>"$OUT" 2>&1 </dev/null 9>&- &
    echo $! >"$PIDFILE"
fi

for ((i = 0; i < WAIT_S * 4; i++)); do
    if answers; then
        echo "clamav.sh: clamd answers on $HOST:$PORT and $SOCK (pid $(cat "$PIDFILE"))."
        exit 0
    fi
    if ! ours_alive; then
        echo "clamav.sh: clamd exited during start-up; last lines of $LOG and $OUT:" >&2
        tail -n 20 "$LOG" "$OUT" >&2 || true
        exit 1
    fi
    sleep 0.25
done

echo "clamav.sh: clamd did not answer on $HOST:$PORT within ${WAIT_S}s; see $LOG and $OUT" >&2
tail -n 20 "$LOG" "$OUT" >&2 || true
exit 1
