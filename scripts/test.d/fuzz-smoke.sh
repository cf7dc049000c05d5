#!/usr/bin/env bash
# Fuzz smoke run: builds the libFuzzer targets and runs each briefly from its committed seeds:
#   tws           TWSProtocol framing, messages, handshake     (fuzz/build.sh)       20 s
#   alphavantage  the Alpha Vantage decoder into Redis records (fuzz/build.sh)       12 s
#   redis         hiredis' reader + reply handling + redis.url (fuzz/build.sh)       12 s
#   config        the configuration loader, YAML + environment (fuzz/build-config.sh) 12 s
# (FUZZ_SECONDS=N sets every target's time; FUZZ_CONFIG=1 adds the config target, whose
# first build compiles the whole dependency graph with the sanitizers into .build-fuzz.)
# Exits non-zero on any crash, sanitizer report or failed invariant; the failing input is kept
# in $FUZZ_ARTIFACTS (default: a temp dir, printed) and its base64 is in the log.
# The long runs are documented in fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/qr-fuzz.XXXXXX)
artifacts=${FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$artifacts"

echo "==> building fuzz targets"
if ! fuzz/build.sh >"$work/build.log" 2>&1; then
  grep -v 'Cannot export local symbol' "$work/build.log" | tail -n 40
  echo "fuzz build failed"; exit 1
fi
targets=("tws:.build/fuzz/tws-fuzz:fuzz/seeds:${FUZZ_SECONDS:-20}:4096"
         "alphavantage:.build/fuzz/alphavantage-fuzz:fuzz/seeds-alphavantage:${FUZZ_SECONDS:-12}:4096"
         "redis:.build/fuzz/redis-fuzz:fuzz/seeds-redis:${FUZZ_SECONDS:-12}:4096")
# The config target's first build compiles every dependency (swift-nio-ssl's BoringSSL among
# them) with the sanitizers: minutes on a fresh machine. It runs when FUZZ_CONFIG=1 (and in the
# long runs of fuzz/README.md).
if [ "${FUZZ_CONFIG:-0}" != 0 ]; then
  if fuzz/build-config.sh >"$work/build-config.log" 2>&1; then
    targets+=("config:.build-fuzz/debug/config-fuzz:fuzz/seeds-config:${FUZZ_SECONDS:-12}:8192")
  else
    tail -n 40 "$work/build-config.log"; echo "config fuzz build failed"; exit 1
  fi
fi

status=0
for entry in "${targets[@]}"; do
  IFS=: read -r name binary seeds seconds maxlen <<<"$entry"
  mkdir -p "$work/corpus-$name"
  echo "==> fuzzing $name for ${seconds}s"
  set +e
  # The Swift runtime's own backtracer would pause on a crash; libFuzzer reports instead.
  SWIFT_BACKTRACE=enable=no timeout $((seconds + 60)) "$binary" "$work/corpus-$name" "$seeds" \
    -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/$name-" -print_final_stats=1 >"$work/fuzz-$name.log" 2>&1
  rc=$?
  set -e
  grep -E '^(Done|stat::number_of_executed_units)' "$work/fuzz-$name.log" || true
  if [ $rc -ne 0 ]; then
    grep -v '^\s*$' "$work/fuzz-$name.log" | grep -E -A12 'Fatal error|Precondition|ERROR:|deadly signal|Test unit written' | head -n 60
    echo "FUZZ FAILURE in $name (rc=$rc); artifacts in $artifacts"
    status=1
  fi
done
[ $status -eq 0 ] && { rm -rf "$work"; echo "fuzz smoke: no findings"; }
exit $status
