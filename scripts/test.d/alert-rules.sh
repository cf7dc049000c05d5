#!/usr/bin/env bash
# The Prometheus alert rules (ops/prometheus): syntax (`promtool check rules`) and behaviour
# (`promtool test rules`: every alert fires when it should, with its labels and annotations,
# and stays quiet before). promtool comes with Debian's `prometheus` package (scripts/setup-deps).
set -euo pipefail
cd "$(dirname "$0")/../../ops/prometheus"
command -v promtool >/dev/null || { echo "alert-rules: promtool missing (apt-get install prometheus)"; exit 1; }
promtool check rules quote-relay.rules.yml
promtool test rules quote-relay.rules.test.yml
