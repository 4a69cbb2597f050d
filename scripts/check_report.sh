#!/usr/bin/env bash
# Render the HTML report in headless Chromium, to PDF (as printed) and to a PNG screenshot, to look at them.
#
#   scripts/check_report.sh                      build the shipped project in a temporary folder, write its
#                                                report and render it into ./report-check/
#   scripts/check_report.sh REPORT.html [DIR]    render an existing report into DIR (default ./report-check/)
#   scripts/check_report.sh "" DIR               build the shipped report as above, into DIR
#
# Writes DIR/report.pdf, DIR/report.png (the top 1280×9000 pixels: overview, codebook, bar charts, heat map) and,
# when pdftoppm is installed, DIR/page-NN.png for every printed page. Look at them with any image viewer: the bars
# and the heat map should be whole, coloured, and not cut across pages.
#
# Needs Debian's chromium (apt-get install -y chromium; poppler-utils for pdftoppm). Not part of the CI run, which
# has no browser; tests/test_report.py runs it when chromium is installed. The flags keep Chromium off the
# network (no background requests, updates or sync) and in a throwaway profile.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "chromium not found: apt-get install -y chromium" >&2
    exit 1
fi

OUT=${2:-report-check}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ -n "${1:-}" ]; then
    REPORT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
    PY=${PYTHON:-python3}
    qualcode() { PYTHONPATH="$ROOT/src" "$PY" -m qualcode --db "$WORK/shipped.db" -q "$@"; }
    qualcode import "$ROOT/transcripts" >/dev/null
    qualcode codebook load "$ROOT/codebooks/dac.yml" >/dev/null
    qualcode codings import "$ROOT/codings/coder-a.csv" >/dev/null
    qualcode codings import "$ROOT/codings/coder-b.csv" >/dev/null
    REPORT=$OUT/report.html
    qualcode report --coder coder-a -o "$REPORT"
fi

run_chromium() {
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
        --disable-sync --no-first-run --user-data-dir="$WORK/profile-$1" "${@:2}" "file://$REPORT" >/dev/null 2>&1
}
run_chromium pdf --no-pdf-header-footer --print-to-pdf="$OUT/report.pdf"
run_chromium png --hide-scrollbars --window-size=1280,9000 --screenshot="$OUT/report.png"
if command -v pdftoppm >/dev/null; then
    rm -f "$OUT"/page-*.png
    pdftoppm -r 60 -png "$OUT/report.pdf" "$OUT/page"
fi
echo "report:     $REPORT"
echo "pdf:        $OUT/report.pdf"
echo "screenshot: $OUT/report.png"
