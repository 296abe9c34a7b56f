#!/usr/bin/env bash
# Rebuilds Puratan-FOGRA39L-TAC320.icc from free characterisation data.
# Needs the Debian packages icc-profiles-free (FOGRA39L.ti3, zlib licence) and
# argyll (colprof). Takes ~2 minutes on one core. The output is not
# byte-identical across Argyll versions (timestamps), but colorimetrically the same.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp /usr/share/color/icc/FOGRA39L.ti3 "$work/"
cd "$work"
# -qm medium quality, -kr ramp black generation, -l320 total ink limit 320 %
# (GWG2015 sheet-fed), -L100 black limit, -nc no measurement data inside,
# perceptual B2A gamut-mapped from sRGB (-S), viewing monitor -> print (-cmt -dpp).
colprof -v -qm -kr -l320 -L100 -nc -S /usr/share/color/icc/sRGB.icc -cmt -dpp \
    -D "Puratan FOGRA39L coated TAC320" \
    -C "Data: FOGRA39L.ti3 (c) Kai-Uwe Behrmann, zlib licence (Debian icc-profiles-free); built with ArgyllCMS colprof" \
    FOGRA39L
cp FOGRA39L.icc "$here/Puratan-FOGRA39L-TAC320.icc"
