#!/usr/bin/env bash
# Screenshot of a rendered report with headless Chromium, to check how it looks.
#
#   tools/screenshot.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]
#
# Defaults: OUT=/tmp/shot.png, 1280x2400. Needs Debian's chromium (apt-get install chromium).
# Everything runs offline: a fresh profile, no background networking, no component updates.
set -euo pipefail

report=${1:?usage: tools/screenshot.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]}
out=${2:-/tmp/shot.png}
size=${3:-1280x2400}

browser=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then browser=$candidate; break; fi
done
if [[ -z $browser ]]; then
  echo "no chromium found: apt-get install -y chromium" >&2
  exit 1
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
url="file://$(realpath "$report")"

"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$profile" --window-size="${size/x/,}" \
  --screenshot="$out" "$url" >/dev/null 2>&1
echo "$out"
