#!/usr/bin/env bash
# Starts RabbitMQ (AMQP on 127.0.0.1:5672, user guest/guest) for the
# RabbitMQ adapter's tests, unless something already answers there.
# Idempotent: safe to run any number of times. Installs the Debian package
# rabbitmq-server when rabbitmq-server is missing.
#
# RabbitMQ boots slowly (the Erlang VM, then its plugins); "ready" here
# means the AMQP listener accepts connections, which is the last step of
# its start-up.
#
# Environment:
#   PURATAN_RABBITMQ_WAIT_S   seconds to wait for port 5672 (default 60)
set -euo pipefail

HOST=127.0.0.1
PORT=5672
WAIT_S="${PURATAN_RABBITMQ_WAIT_S:-60}"

amqp_open() {
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

node_running() {
    command -v rabbitmq-diagnostics >/dev/null 2>&1 &&
        timeout 20 rabbitmq-diagnostics -q ping >/dev/null 2>&1
}

show_logs() {
    local log
    for log in /var/log/rabbitmq/*.log; do
        [[ -f "$log" ]] || continue
        echo "--- last lines of $log" >&2
        tail -n 20 "$log" >&2 || true
    done
}

if amqp_open; then
    echo "rabbitmq.sh: something already accepts AMQP on $HOST:$PORT; using it."
    exit 0
fi

if ! command -v rabbitmq-server >/dev/null 2>&1; then
    echo "rabbitmq.sh: rabbitmq-server is missing; installing the Debian package"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null 2>&1 || {
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
    }
fi

# A node that is up but has no listener yet is still booting (perhaps the
# package's own service): wait for it rather than start a second one.
if node_running; then
    echo "rabbitmq.sh: a RabbitMQ node is running; waiting for its AMQP listener."
else
    echo "rabbitmq.sh: starting rabbitmq-server (logs: /var/log/rabbitmq/)"
    rabbitmq-server -detached
fi

for ((i = 0; i < WAIT_S * 2; i++)); do
    if amqp_open; then
        echo "rabbitmq.sh: RabbitMQ accepts AMQP on $HOST:$PORT."
        exit 0
    fi
    sleep 0.5
done

echo "rabbitmq.sh: RabbitMQ did not accept AMQP on $HOST:$PORT within ${WAIT_S}s." >&2
show_logs
exit 1
