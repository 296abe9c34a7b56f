#!/usr/bin/env bash
# Thumbnail of an 8000×6000 JPEG to 400 px as whole processes, in one run:
# puratan (crates/puratan-files/examples/thumbnail.rs, release build) vs
# vipsthumbnail (libvips: the speed reference) vs ImageMagick
# `convert -thumbnail 400x400`. Wall time and peak RSS from /usr/bin/time -v;
# rounds alternate the three tools so load on the shared VM hits all of them.
#
#   ROUNDS=5 benches/thumbnail-vs-vips.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
apt_ensure libvips-tools imagemagick time bc

ROUNDS=${ROUNDS:-5}
work="$PURATAN_CACHE/bench-thumbnail"
mkdir -p "$work"

cargo build --quiet --release -p puratan-files --example thumbnail
ours="$CARGO_TARGET_DIR/release/examples/thumbnail"
photo="$work/photo-8000x6000-q90.jpg"
[[ -s $photo ]] || "$ours" --make-test-jpeg "$photo"

# /usr/local/bin/convert may be a sandbox shim: use Debian's ImageMagick
# explicitly and make sure it is the real one.
im=/usr/bin/convert
[[ -x /usr/bin/magick ]] && im=/usr/bin/magick
if ! "$im" -version 2>/dev/null | grep -q '^Version: ImageMagick'; then
    echo "error: $im is not ImageMagick" >&2
    exit 1
fi
vips=/usr/bin/vipsthumbnail
echo "input: $photo ($(du -h "$photo" | cut -f1)); $("$im" -version | head -1); vips $(vips --version 2>/dev/null | head -1)"

# run NAME CMD... → appends "seconds peak_kb" to $work/NAME.txt
run() {
    local name=$1
    shift
    local log="$work/time.log"
    /usr/bin/time -v "$@" >/dev/null 2>"$log"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    echo "$wall $rss" >>"$work/$name.txt"
}

rm -f "$work"/{ours,vips,imagemagick}.txt
for ((i = 1; i <= ROUNDS; i++)); do
    run ours "$ours" "$photo" "$work/ours.jpg" 400
    run vips "$vips" "$photo" -s 400 -o "$work/vips.jpg[Q=85]"
    run imagemagick "$im" "$photo" -thumbnail 400x400 -quality 85 "$work/imagemagick.jpg"
done

median() { sort -n | awk '{a[NR] = $1} END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
printf '%-12s %10s %10s %12s\n' tool "median s" "best s" "peak RSS MB"
for name in ours vips imagemagick; do
    med=$(cut -d' ' -f1 "$work/$name.txt" | median)
    best=$(cut -d' ' -f1 "$work/$name.txt" | sort -n | head -1)
    rss=$(cut -d' ' -f2 "$work/$name.txt" | sort -n | tail -1)
    printf '%-12s %10.2f %10.2f %12.1f\n' "$name" "$med" "$best" "$(echo "$rss / 1024" | bc -l)"
done
ours_med=$(cut -d' ' -f1 "$work/ours.txt" | median)
vips_med=$(cut -d' ' -f1 "$work/vips.txt" | median)
ratio=$(echo "$ours_med / $vips_med" | bc -l)
printf 'puratan / vipsthumbnail = %.2f× (target ≤ 1.5×)\n' "$ratio"
