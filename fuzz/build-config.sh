#!/usr/bin/env bash
# Builds the libFuzzer binary over the configuration loader (fuzz/config/ConfigFuzz.swift):
# it needs Relay and therefore swift-configuration and Yams, so it is built with SwiftPM in its
# own build directory (.build-fuzz; the first build compiles every dependency with the
# sanitizers, several minutes; later builds are incremental).
#
#   fuzz/build-config.sh          -> .build-fuzz/debug/config-fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
QR_FUZZ=1 swift build --build-path .build-fuzz --product config-fuzz \
  --sanitize fuzzer --sanitize address 2>&1 | grep -v -e 'prohibited flag' -e 'Cannot export local' | tail -n 30
test -x .build-fuzz/debug/config-fuzz
echo .build-fuzz/debug/config-fuzz
