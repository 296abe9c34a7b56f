#!/usr/bin/env bash
# Builds and tests the bindings of the pricing engine:
#   * bindings/wasm   -> npm package in bindings/wasm/pkg (wasm-bindgen + wasm-opt)
#   * bindings/python -> abi3 wheel in $PURATAN_CACHE/wheels, installed in a venv
# then runs the Node tests (node:test, every shared vector), the wasm-bindgen
# tests under Node, the TypeScript type check, the live web calculator in
# headless Chromium (examples/web-calculator; PURATAN_SKIP_BROWSER=1 skips it),
# and pytest.
#
# Installs only what is missing (idempotent): the wasm32 target, wasm-bindgen-cli
# of exactly the version in Cargo.lock, binaryen@132 and typescript (npm, into
# $PURATAN_CACHE/npm), the maturin/pytest/mypy venv ($PURATAN_CACHE/pyenv),
# Debian's chromium for the web calculator test.
#
#   scripts/bindings-test.sh           build + test
#   scripts/bindings-test.sh --bench   also run the benchmarks (benches/bindings)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ROOT=$PWD

BENCH=false
for arg in "$@"; do
    case "$arg" in
    --bench) BENCH=true ;;
    *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
    esac
done

step() { printf '\n==> %s\n' "$*"; }

TOOLS="$PURATAN_CACHE/tools"
NPM_TOOLS="$PURATAN_CACHE/npm"
VENV="$PURATAN_CACHE/pyenv"
WHEELS="$PURATAN_CACHE/wheels"
PKG="$ROOT/bindings/wasm/pkg"
BINARYEN_VERSION=132
TYPESCRIPT_VERSION=5
WASM_GZ_BUDGET=$((200 * 1024))

lock_version() { # the version of a package in Cargo.lock
    awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

# ---------------------------------------------------------------- toolchain --
step "toolchain: wasm32-unknown-unknown"
WASM_CARGO=(cargo)
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "rustup target present"
elif command -v rustup >/dev/null && timeout 300 rustup target add wasm32-unknown-unknown; then
    echo "rustup target installed"
else
    echo "rustup target unavailable: using Debian's rust-web toolchain with build-std"
    apt_ensure rustc-web cargo-web rust-web-src rust-web-llvm lld-22
    WASM_CARGO=(env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
        /usr/bin/cargo)
    WASM_BUILD_STD=(-Zbuild-std=std,panic_abort)
fi

# Checks which tool binaries exist: the Node.js runtime is needed for tests.
command -v node >/dev/null && command -v npm >/dev/null || apt_ensure nodejs npm

step "toolchain: wasm-bindgen-cli"
[[ -f Cargo.lock ]] || cargo generate-lockfile
WBG_VERSION=$(lock_version wasm-bindgen)
[[ -n "$WBG_VERSION" ]] || { echo "wasm-bindgen missing from Cargo.lock" >&2; exit 1; }
WASM_BINDGEN="$TOOLS/bin/wasm-bindgen"
if [[ "$("$WASM_BINDGEN" --version 2>/dev/null)" == "wasm-bindgen $WBG_VERSION" ]]; then
    echo "wasm-bindgen $WBG_VERSION present"
else
    echo "installing wasm-bindgen-cli $WBG_VERSION into $TOOLS (takes several minutes, once)"
    env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$WBG_VERSION" --locked \
        --root "$TOOLS" --force ||
        env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$WBG_VERSION" \
            --root "$TOOLS" --force
fi

step "toolchain: binaryen@$BINARYEN_VERSION, typescript@$TYPESCRIPT_VERSION (npm)"
WASM_OPT="$NPM_TOOLS/node_modules/.bin/wasm-opt"
TSC="$NPM_TOOLS/node_modules/.bin/tsc"
if [[ "$("$WASM_OPT" --version 2>/dev/null)" == "wasm-opt version $BINARYEN_VERSION "* ]] &&
    [[ "$("$TSC" --version 2>/dev/null)" == "Version $TYPESCRIPT_VERSION."* ]]; then
    echo "wasm-opt $BINARYEN_VERSION and tsc present"
else
    mkdir -p "$NPM_TOOLS"
    npm install --prefix "$NPM_TOOLS" --no-audit --no-fund --loglevel=error \
        "binaryen@$BINARYEN_VERSION" "typescript@$TYPESCRIPT_VERSION"
fi

step "toolchain: Python venv with maturin, pytest and mypy"
if ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    python3 -m venv "$VENV" 2>/dev/null || {
        apt_ensure python3-venv python3-dev
        rm -rf "$VENV"
        /usr/bin/python3 -m venv "$VENV"
    }
fi
if "$VENV/bin/maturin" --version >/dev/null 2>&1 && "$VENV/bin/pytest" --version >/dev/null 2>&1 &&
    "$VENV/bin/mypy" --version >/dev/null 2>&1; then
    echo "$("$VENV/bin/maturin" --version), $("$VENV/bin/pytest" --version 2>&1), $("$VENV/bin/mypy" --version)"
else
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.7,<2' pytest mypy
fi

# --------------------------------------------------------------------- wasm --
step "build: puratan-wasm (profile wasm) + wasm-bindgen + wasm-opt -> bindings/wasm/pkg"
# The workspace profile `wasm` is size-first (opt-level z). The engine crate
# itself is built at opt-level 3 on top of it: ~2x faster quotes for ~55 KB
# more gzipped. If that ever exceeds the size budget, the build falls back to
# plain opt-level z (warning printed). PURATAN_WASM_OPT=size forces z.
SPEED_CONFIG=(--config 'profile.wasm.package.puratan-pricing.opt-level=3')
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
WASM_IN="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm/puratan_wasm.wasm"

build_wasm() { # $1 = speed | size; leaves the optimised module in $TMP/opt.wasm
    local extra=()
    [[ "$1" == speed ]] && extra=("${SPEED_CONFIG[@]}")
    "${WASM_CARGO[@]}" build --locked -p puratan-wasm --target wasm32-unknown-unknown \
        --profile wasm "${extra[@]+"${extra[@]}"}" "${WASM_BUILD_STD[@]+"${WASM_BUILD_STD[@]}"}"
    rm -rf "$TMP/web" "$TMP/node"
    "$WASM_BINDGEN" --target web --out-dir "$TMP/web" "$WASM_IN"
    "$WASM_BINDGEN" --target nodejs --out-dir "$TMP/node" "$WASM_IN"
    # One .wasm serves both entries: the two targets must produce the same module.
    cmp -s "$TMP/web/puratan_wasm_bg.wasm" "$TMP/node/puratan_wasm_bg.wasm" || {
        echo "web and nodejs wasm differ; cannot share one .wasm" >&2
        exit 1
    }
    "$WASM_OPT" -Oz --enable-reference-types --enable-bulk-memory --enable-sign-ext \
        --enable-mutable-globals --enable-nontrapping-float-to-int --enable-multivalue \
        "$TMP/web/puratan_wasm_bg.wasm" -o "$TMP/opt.wasm"
    RAW=$(wc -c <"$TMP/opt.wasm")
    GZ=$(gzip -9 -c "$TMP/opt.wasm" | wc -c)
    PRE=$(wc -c <"$TMP/web/puratan_wasm_bg.wasm")
    WASM_VARIANT=$1
}

MODE="${PURATAN_WASM_OPT:-speed}"
build_wasm "$MODE"
if ((GZ > WASM_GZ_BUDGET)) && [[ "$MODE" == speed ]]; then
    echo "WARNING: speed build is $GZ bytes gzipped (budget $WASM_GZ_BUDGET): falling back to opt-level z"
    build_wasm size
fi
rm -rf "$PKG"
mkdir -p "$PKG"
cp "$TMP/opt.wasm" "$PKG/puratan_wasm_bg.wasm"
cp "$TMP/web/puratan_wasm.js" "$TMP/web/puratan_wasm.d.ts" "$TMP/web/puratan_wasm_bg.wasm.d.ts" "$PKG/"
cp "$TMP/node/puratan_wasm.js" "$PKG/puratan_wasm_node.cjs"
cp bindings/wasm/npm/node.cjs bindings/wasm/npm/node.mjs bindings/wasm/README.md "$PKG/"
VERSION=$(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version/ { print $2; exit }' Cargo.toml)
sed "s/0.0.0-set-by-build/$VERSION/" bindings/wasm/npm/package.json >"$PKG/package.json"
printf 'puratan_wasm_bg.wasm (%s build): %d bytes raw (%d before wasm-opt), %d bytes gzipped (budget %d)\n' \
    "$WASM_VARIANT" "$RAW" "$PRE" "$GZ" "$WASM_GZ_BUDGET"
((GZ <= WASM_GZ_BUDGET)) || { echo "wasm over the size budget" >&2; exit 1; }

step "test: Node (node:test, shared vectors + API) against bindings/wasm/pkg"
PURATAN_WASM_PKG="$PKG" node --test bindings/wasm/tests/

step "test: TypeScript declarations (tsc --strict)"
"$TSC" -p bindings/wasm/tests/tsconfig.json

step "test: wasm-bindgen-test under Node"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$TOOLS/bin/wasm-bindgen-test-runner" \
    "${WASM_CARGO[@]}" test --locked -p puratan-wasm --target wasm32-unknown-unknown --test web \
    "${WASM_BUILD_STD[@]+"${WASM_BUILD_STD[@]}"}"

step "test: web calculator in headless Chromium (examples/web-calculator)"
if [[ "${PURATAN_SKIP_BROWSER:-}" == 1 ]]; then
    echo "skipped (PURATAN_SKIP_BROWSER=1)"
else
    command -v chromium >/dev/null || apt_ensure chromium
    PURATAN_WASM_PKG="$PKG" node --test examples/web-calculator/
fi

# ------------------------------------------------------------------- python --
step "build: puratan wheel (maturin, abi3)"
rm -rf "$WHEELS"
mkdir -p "$WHEELS"
START=$(date +%s%N)
(cd bindings/python && "$VENV/bin/maturin" build --locked --release --strip -o "$WHEELS" \
    -i "$VENV/bin/python")
WHEEL_MS=$((($(date +%s%N) - START) / 1000000))
WHEEL=$(ls "$WHEELS"/puratan-*.whl)
"$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"
printf '%s: %d bytes, built in %d ms\n' "$(basename "$WHEEL")" "$(wc -c <"$WHEEL")" "$WHEEL_MS"

step "test: pytest"
(cd bindings/python && "$VENV/bin/python" -m pytest -q tests)

if $BENCH; then
    step "benchmarks"
    cargo bench --locked -p puratan-wasm --bench bindings_native -- --noplot 2>&1 | grep -E '^native|time:'
    PURATAN_WASM_PKG="$PKG" node benches/bindings/wasm.mjs
    "$VENV/bin/python" benches/bindings/python.py
fi

echo
printf 'wasm (%s build): %d bytes raw, %d bytes gzipped; wheel built in %d ms\n' "$WASM_VARIANT" "$RAW" "$GZ" "$WHEEL_MS"
echo "bindings: all tests passed"
