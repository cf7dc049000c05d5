#!/usr/bin/env bash
# Fuzz smoke run: builds the libFuzzer target over TWSProtocol's frame and message decoding
# (fuzz/build.sh) and runs it for ~25 s from the committed seeds. Exits non-zero on any
# crash, sanitizer report or failed round-trip invariant; the failing input is kept in
# $FUZZ_ARTIFACTS (default: a temp dir, printed) and its base64 is in the log.
# The long run is documented in fuzz/build.sh and fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-25}
work=$(mktemp -d /tmp/tws-fuzz.XXXXXX)
artifacts=${FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$work/corpus" "$artifacts"

echo "==> building fuzz target"
if ! fuzz/build.sh >"$work/build.log" 2>&1; then
  grep -v 'Cannot export local symbol' "$work/build.log" | tail -n 40
  echo "fuzz build failed"; exit 1
fi

echo "==> fuzzing TWSProtocol for ${seconds}s"
set +e
# The Swift runtime's own backtracer would pause on a crash; libFuzzer reports instead.
SWIFT_BACKTRACE=enable=no timeout $((seconds + 60)) .build/fuzz/tws-fuzz \
  "$work/corpus" fuzz/seeds \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 >"$work/fuzz.log" 2>&1
rc=$?
set -e
grep -E '^(Done|stat::number_of_executed_units)' "$work/fuzz.log" || true
if [ $rc -ne 0 ]; then
  grep -v '^\s*$' "$work/fuzz.log" | grep -E -A12 'Fatal error|ERROR:|deadly signal|Test unit written' | head -n 60
  echo "FUZZ FAILURE (rc=$rc); artifacts in $artifacts"
  exit 1
fi
rm -rf "$work"
echo "fuzz smoke: no findings"
