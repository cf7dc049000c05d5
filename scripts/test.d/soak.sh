#!/usr/bin/env bash
# Short chaos soak (about 2 minutes, seed 11) with the debug binaries scripts/test just built:
# every fault kind of scripts/soak at least once where time allows, invariants checked after
# each. Fails on any invariant violation. The long run is `scripts/soak --seconds 1800`
# (RELIABILITY.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d /tmp/quote-relay-soak.XXXXXX)
if QR_SOAK_BUILD=debug timeout 400 scripts/soak --seconds "${SOAK_SECONDS:-110}" --seed "${SOAK_SEED:-11}" --out "$out" \
    ${SOAK_SKIP:+--skip $SOAK_SKIP}; then
  rm -rf "$out"
else
  echo "soak failed; worker log tail:"; tail -n 40 "$out/worker.log"; echo "output kept in $out"
  exit 1
fi
