#!/usr/bin/env bash
# The skeptic's scenarios (scripts/scenarios) that need whole processes: the worker's wall clock
# shifted with faketime (both signs), a trading halt, refused leases (13) and the JSON of stale flips
# (25). The others run as Swift tests or by hand (scripts/scenarios/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v faketime >/dev/null || { echo "faketime missing (scripts/setup-deps installs it)"; exit 1; }
swift build --product quote-relay-sim 2>&1 | grep -v 'prohibited flag' | tail -n 1
swift build --product quote-relay 2>&1 | grep -v 'prohibited flag' | tail -n 1
export QR_BIN="$(swift build --show-bin-path)"
rc=0
for s in "07-clock-skew.sh -90s" "07-clock-skew.sh +90s" "05-halt.sh" "13-lease-refusals.sh" "25-stale-json.sh"; do
  timeout 300 bash scripts/scenarios/${s% *} ${s#* } || rc=1
done
exit $rc
