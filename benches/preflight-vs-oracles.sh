#!/usr/bin/env bash
# Times Puratan's preflight against poppler's three tools on the same PDFs in
# the same run: our example binary (one process, every file, full JSON
# report) vs the sum of `pdffonts` + `pdfimages -list` + `pdfinfo -box` per
# file (what a shell-script preflight built from the oracles would cost).
#
#   benches/preflight-vs-oracles.sh [DIR]   (default: ../shared/corpus/pdf or $PURATAN_CORPUS/pdf)
#
# Prints files, pages, seconds and pages/s for both sides. ROUNDS=n repeats
# and alternates the two sides (default 3) and reports the median.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
apt_ensure poppler-utils

dir="${1:-${PURATAN_CORPUS:-../shared/corpus}/pdf}"
rounds="${ROUNDS:-3}"
mapfile -t files < <(find "$dir" -type f -iname '*.pdf' | sort)
((${#files[@]})) || { echo "no PDFs in $dir" >&2; exit 1; }

cargo build --release --quiet -p puratan-files --example preflight
bin="$CARGO_TARGET_DIR/release/examples/preflight"

# Pages of every file we can read (from our own reports).
pages=$("$bin" "${files[@]}" | python3 -c '
import json, sys
print(sum(json.loads(l).get("page_count", 0) for l in sys.stdin))')

ours_once() {
    local t0 t1
    t0=$(date +%s.%N)
    "$bin" "${files[@]}" >/dev/null
    t1=$(date +%s.%N)
    awk "BEGIN {print $t1 - $t0}"
}

oracles_once() {
    local t0 t1 f
    t0=$(date +%s.%N)
    for f in "${files[@]}"; do
        pdffonts "$f" >/dev/null 2>&1 || true
        pdfimages -list "$f" >/dev/null 2>&1 || true
        # -l beyond the last page is clamped to it: every page's boxes.
        pdfinfo -box -f 1 -l 1000000 "$f" >/dev/null 2>&1 || true
    done
    t1=$(date +%s.%N)
    awk "BEGIN {print $t1 - $t0}"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ours=() theirs=()
for ((r = 1; r <= rounds; r++)); do
    ours+=("$(ours_once)")
    theirs+=("$(oracles_once)")
done
o=$(printf '%s\n' "${ours[@]}" | median)
t=$(printf '%s\n' "${theirs[@]}" | median)
printf 'files: %d, pages: %d, rounds: %d (median)\n' "${#files[@]}" "$pages" "$rounds"
printf 'puratan preflight (one process, JSON reports): %8.2f s  %10.0f pages/s\n' "$o" "$(awk "BEGIN {print $pages / $o}")"
printf 'pdffonts + pdfimages -list + pdfinfo -box:     %8.2f s  %10.0f pages/s\n' "$t" "$(awk "BEGIN {print $pages / $t}")"
printf 'ratio: %.1fx\n' "$(awk "BEGIN {print $t / $o}")"
