#!/usr/bin/env bash
# Builds the libFuzzer binary for TWSProtocol: the module's sources plus fuzz/FuzzEntry.swift,
# compiled as one module with libFuzzer and AddressSanitizer.
#
#   fuzz/build.sh                      -> .build/fuzz/tws-fuzz
#
# The long run (hours; corpus kept between runs, findings land in fuzz/artifacts/):
#   mkdir -p fuzz/corpus fuzz/artifacts
#   .build/fuzz/tws-fuzz fuzz/corpus fuzz/seeds -max_len=4096 -timeout=10 \
#       -artifact_prefix=fuzz/artifacts/ -jobs=2 -workers=2 -max_total_time=14400
# Reproduce a finding: .build/fuzz/tws-fuzz fuzz/artifacts/crash-<sha1>
# The short smoke run used by scripts/test is scripts/test.d/fuzz-smoke.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/fuzz
mkdir -p "$out"
swiftc=${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}
"$swiftc" -sanitize=fuzzer,address -parse-as-library -swift-version 6 -Onone -g \
  -module-name TWSProtocolFuzz \
  Sources/TWSProtocol/*.swift fuzz/FuzzEntry.swift \
  -o "$out/tws-fuzz"
echo "$out/tws-fuzz"
