#!/usr/bin/env bash
# Coverage-guided fuzzing of puratan-files (cargo-fuzz / libFuzzer) for a
# bounded time: the format detector, PDF preflight, raster preflight and
# raster thumbnails (fuzz/fuzz_targets/). Usage: scripts/fuzz.sh [SECONDS]
# (per target, default 20).
#
# * Installs cargo-fuzz into $PURATAN_CACHE/tools if missing.
# * Builds with the release profile on the stable toolchain: cargo-fuzz's
#   instrumentation flags are nightly-only, RUSTC_BOOTSTRAP=1 unlocks them;
#   no sanitizer (--sanitizer none), the targets assert their invariants.
# * Seeds $PURATAN_CACHE/fuzz-corpus/<target> from the read-only test corpus
#   ($PURATAN_CORPUS, default ../shared/corpus; copied, never written to):
#   PDFs for preflight_pdf, images for the raster targets, everything for
#   detect. The corpora persist, so later runs start where earlier ones
#   stopped.
# * Fails on any crash, panic, timeout (-timeout=10 s per input) or memory
#   blow-up (-rss_limit_mb=2048), printing the reproducer; replay one with
#   `$PURATAN_CACHE/target-fuzz/<triple>/release/<target> <reproducer>`.
#
# With CI=true, failing to install cargo-fuzz or to build the targets fails
# the script; otherwise it skips with a warning. Findings: docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

SECS="${1:-20}"
TARGETS=(detect preflight_pdf preflight_raster thumbnail)
CORPUS_SRC="${PURATAN_CORPUS:-$PWD/../shared/corpus}"
TOOLS="$PURATAN_CACHE/tools"
FUZZ_TARGET_DIR="$PURATAN_CACHE/target-fuzz"
CORPORA="$PURATAN_CACHE/fuzz-corpus"
ARTIFACTS="$PURATAN_CACHE/fuzz-artifacts"
LOGS="$PURATAN_CACHE/fuzz-logs"
export PATH="$TOOLS/bin:$PATH"

unavailable() {
    if [[ "${CI:-}" == true ]]; then
        echo "fuzz: $* (CI=true: failing)" >&2
        exit 1
    fi
    echo "fuzz: SKIPPED: $*" >&2
    exit 0
}

# Largest input libFuzzer generates (and how much of a seed it reads) per target.
max_len() {
    case "$1" in
        thumbnail) echo $((256 * 1024)) ;;
        *) echo $((1024 * 1024)) ;;
    esac
}

# Which corpus files seed which target.
seed_files() {
    local images=(-iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.tif'
        -o -iname '*.tiff' -o -iname '*.webp')
    case "$1" in
        detect) find "$CORPUS_SRC" -type f -print0 ;;
        preflight_pdf) find "$CORPUS_SRC" -type f -iname '*.pdf' -print0 ;;
        *) find "$CORPUS_SRC" -type f \( "${images[@]}" \) -print0 ;;
    esac
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz into $TOOLS"
    cargo install cargo-fuzz --locked --root "$TOOLS" --quiet ||
        unavailable "cargo-fuzz could not be installed"
fi

echo "building fuzz targets (release, $FUZZ_TARGET_DIR)"
RUSTC_BOOTSTRAP=1 cargo fuzz build --fuzz-dir fuzz --release --sanitizer none \
    --target-dir "$FUZZ_TARGET_DIR" ||
    unavailable "the fuzz targets did not build"
HOST="$(rustc -vV | sed -n 's/^host: //p')"
BIN="$FUZZ_TARGET_DIR/$HOST/release"

[[ -d "$CORPUS_SRC" ]] || unavailable "no seed corpus at $CORPUS_SRC (set PURATAN_CORPUS)"

failed=()
summary=()
contained=()
for target in "${TARGETS[@]}"; do
    corpus="$CORPORA/$target"
    mkdir -p "$corpus" "$ARTIFACTS/$target" "$LOGS"
    # Seeds are copied once per source corpus (flattened names; a mark file
    # records the source), so reruns keep what the fuzzer found.
    mark="$corpus/.seeded-from"
    if [[ ! -f "$mark" || "$(cat "$mark")" != "$CORPUS_SRC" ]]; then
        n=0
        while IFS= read -r -d '' f; do
            rel="${f#"$CORPUS_SRC"/}"
            cp -f "$f" "$corpus/seed-${rel//\//_}"
            chmod u+w "$corpus/seed-${rel//\//_}"
            n=$((n + 1))
        done < <(seed_files "$target")
        echo "$CORPUS_SRC" >"$mark"
        echo "seeded $target with $n files from $CORPUS_SRC"
    fi

    log="$LOGS/$target.log"
    echo "==> fuzzing $target for ${SECS}s ($(find "$corpus" -type f -not -name '.*' | wc -l) inputs in $corpus)"
    rc=0
    "$BIN/$target" "$corpus" \
        -max_total_time="$SECS" -max_len="$(max_len "$target")" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$ARTIFACTS/$target/" >"$log" 2>&1 || rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 || true)"
    # Panics inside third-party decoders that puratan-files' catch_unwind
    # guards turned into typed errors (fuzz_targets/common.rs): not failures,
    # but listed so they get recorded in docs/fuzzing.md.
    while IFS= read -r line; do
        contained+=("$target: ${line#fuzz: }")
    done < <(grep '^fuzz: contained third-party panic' "$log" || true)
    summary+=("$(printf '%-17s %4ss %10s execs %7s execs/s  %s' "$target" "$SECS" "${execs:-?}" "${rate:-?}" "${cov:-}")")
    if ((rc != 0)); then
        failed+=("$target")
        echo "fuzz: $target FAILED (exit $rc); last lines of $log:" >&2
        grep -E '^(==[0-9]+==|SUMMARY|thread .* panicked|.*panicked at)' "$log" | head -n 20 >&2 || true
        tail -n 40 "$log" >&2
        reproducer="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
        echo "fuzz: reproducer: ${reproducer:-see $log}" >&2
        echo "fuzz: replay with: $BIN/$target ${reproducer:-<reproducer>}" >&2
    fi
done

echo
echo "fuzz summary (logs in $LOGS):"
printf '  %s\n' "${summary[@]}"
if ((${#contained[@]})); then
    echo "third-party panics contained by catch_unwind (typed errors; see docs/fuzzing.md):"
    printf '  %s\n' "${contained[@]}"
fi
if ((${#failed[@]})); then
    echo "fuzz: crashes in: ${failed[*]}" >&2
    exit 1
fi
