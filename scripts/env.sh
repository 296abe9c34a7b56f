# Shared settings for the project's scripts (sourced, not run).
# Build output and installed tools live outside the clone so fresh clones
# (CI) build incrementally on the same machine.
export PURATAN_CACHE="${PURATAN_CACHE:-$HOME/.cache/puratan}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PURATAN_CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$PURATAN_CACHE"

# Installs Debian packages that are missing (idempotent, non-interactive).
apt_ensure() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        echo "installing Debian packages: ${missing[*]}"
        local sudo=""
        [[ $(id -u) -eq 0 ]] || sudo="sudo"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Makes sure rustfmt and clippy are there (rustup toolchains may lack them).
rust_components_ensure() {
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
}
