#!/usr/bin/env bash
# Builds libFuzzer binaries (libFuzzer + AddressSanitizer) with swiftc directly, no SwiftPM:
#
#   fuzz/build.sh [tws] [alphavantage] [redis]   (no argument: all three)
#
#   tws           Sources/TWSProtocol + fuzz/FuzzEntry.swift            -> .build/fuzz/tws-fuzz
#   alphavantage  MarketModel (as a module) + the Alpha Vantage decoder
#                 + fuzz/alphavantage/AlphaVantageFuzz.swift             -> .build/fuzz/alphavantage-fuzz
#   redis         hiredis' reader + RedisReply/RedisReplyReader/RedisURL/
#                 PublisherStats + fuzz/redis/RedisReplyFuzz.swift       -> .build/fuzz/redis-fuzz
#
# The configuration loader's target needs swift-configuration and Yams, so it is built with
# SwiftPM instead: fuzz/build-config.sh -> .build-fuzz/debug/config-fuzz.
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
flags=(-sanitize=fuzzer,address -parse-as-library -swift-version 6 -Onone -g)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tws alphavantage redis)

# Essentials (the shared backoff, RNG, JSON escaper, redaction) is imported by MarketModel and
# RedisURL: built once as its own instrumented module.
ess="$out/essentials"
mkdir -p "$ess"
"$swiftc" "${flags[@]}" -module-name Essentials -emit-library -static \
  -emit-module -emit-module-path "$ess/Essentials.swiftmodule" \
  Sources/Essentials/*.swift -o "$ess/libEssentials.a"

for target in "${targets[@]}"; do
  case "$target" in
  tws)
    "$swiftc" "${flags[@]}" -module-name TWSProtocolFuzz \
      Sources/TWSProtocol/*.swift fuzz/FuzzEntry.swift -o "$out/tws-fuzz"
    ;;
  alphavantage)
    # MarketModel is its own module (the decoder imports it); instrumented like the rest.
    mm="$out/mm"
    mkdir -p "$mm"
    "$swiftc" "${flags[@]}" -module-name MarketModel -emit-library -static -I "$ess" \
      -emit-module -emit-module-path "$mm/MarketModel.swiftmodule" \
      Sources/MarketModel/*.swift -o "$mm/libMarketModel.a"
    "$swiftc" "${flags[@]}" -module-name AlphaVantageFuzz -I "$mm" -L "$mm" -lMarketModel -I "$ess" -L "$ess" -lEssentials \
      Sources/AlphaVantage/AlphaVantageDecoder.swift Sources/AlphaVantage/AlphaVantageDecoder+errors.swift \
      Sources/AlphaVantage/AlphaVantageDecoder+options.swift Sources/AlphaVantage/AlphaVantageDecoder+fx.swift \
      Sources/AlphaVantage/AlphaVantageError.swift \
      fuzz/alphavantage/AlphaVantageFuzz.swift -o "$out/alphavantage-fuzz"
    ;;
  redis)
    "$swiftc" "${flags[@]}" -module-name RedisReplyFuzz -I Sources/CHiredis -lhiredis -I "$ess" -L "$ess" -lEssentials \
      Sources/RedisPublisher/RedisReply.swift Sources/RedisPublisher/RedisError.swift \
      Sources/RedisPublisher/RedisReplyReader.swift Sources/RedisPublisher/RedisURL.swift \
      Sources/RedisPublisher/PublisherStats.swift Sources/RedisPublisher/LatencyHistogram.swift \
      Sources/RedisPublisher/WriteRefusal.swift Sources/RedisPublisher/ReplyLimits.swift \
      Sources/RedisPublisher/RedisTLSOptions.swift \
      fuzz/redis/RedisReplyFuzz.swift -o "$out/redis-fuzz"
    ;;
  *) echo "unknown fuzz target: $target (tws, alphavantage, redis)"; exit 2 ;;
  esac
  echo "$out/$target-fuzz"
done
