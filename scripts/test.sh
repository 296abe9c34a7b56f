#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, every Rust test against real
# services, and the WASM and Python bindings' tests. Installs what is missing
# (Debian packages, rust components, the SecantusDB venv, the wasm toolchain,
# maturin/pytest, Chromium) and starts Redis, RabbitMQ and the
# MongoDB-compatible test server if they are not answering. Idempotent.
#
# With CI=true a test whose service is missing fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

step "toolchain and packages"
rust_components_ensure
apt_ensure redis-server rabbitmq-server
apt_ensure poppler-utils ghostscript qpdf  # preflight oracles: pdffonts, pdfimages, pdfinfo

step "services"
scripts/services/redis.sh
scripts/services/rabbitmq.sh
scripts/services/mongo.sh
scripts/services/oidc.sh
scripts/services/smtp.sh
scripts/services/clamav.sh
scripts/services/tus-clients.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --locked --workspace

step "API fuzzing (schemathesis against /openapi.json: no 5xx)"
scripts/api-fuzz.sh

step "file fuzzing (cargo-fuzz: detect, preflight, thumbnails; ${PURATAN_FUZZ_SECONDS:-20}s per target)"
scripts/fuzz.sh "${PURATAN_FUZZ_SECONDS:-20}"

step "bindings: WASM (Node, headless Chromium) and Python"
scripts/bindings-test.sh

echo
echo "all tests passed"
