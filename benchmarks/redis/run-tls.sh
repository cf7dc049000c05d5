#!/usr/bin/env bash
# The publisher over TLS beside the publisher over plaintext, one command: makes a throw-away
# CA and server certificate (openssl), starts one redis-server with a plaintext port and a
# TLS port, builds bench-publisher (release), and alternates the distinct-keys scenario over
# redis:// and rediss:// on that same server, so both see the same machine load. Prints the
# medians and the ratio TLS / plaintext.
#
#   benchmarks/redis/run-tls.sh [--rounds 5] [--keys 50000]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
source benchmarks/redis/lib.sh

rounds=5
keys=50000
bench_options "$0 [--rounds N] [--keys N]" "rounds keys" "$@"

work=$(mktemp -d /tmp/quote-relay-bench-tls.XXXXXX)
port=$(free_port)
tls_port=$(free_port)
cleanup() { [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$work/ca.key" -out "$work/ca.pem" -days 2 -subj "/CN=bench CA" 2>/dev/null
openssl req "${ec[@]}" -keyout "$work/server.key" -out "$work/server.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -out "$work/server.pem" -days 2 -extfile "$work/ext" 2>/dev/null

redis-server --port "$port" --tls-port "$tls_port" --bind 127.0.0.1 --save "" --appendonly no \
  --tls-cert-file "$work/server.pem" --tls-key-file "$work/server.key" --tls-ca-cert-file "$work/ca.pem" \
  --tls-auth-clients no --dir "$work" --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log"
for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

bench_build
run_plaintext() { distinct "$bin" "redis://127.0.0.1:$port/0"; }
run_tls() { distinct "$bin" "rediss://127.0.0.1:$tls_port/0" --tls-ca-file "$work/ca.pem"; }
echo "==> $rounds rounds: publisher distinct keys over redis:// | over rediss://"
interleave "$rounds" "$work/rounds" flush_redis "plaintext=run_plaintext" "TLS=run_tls"

python3 - "$work/rounds" <<'PY'
import statistics, sys
rows = [tuple(float(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
plain = statistics.median(r[0] for r in rows)
tls = statistics.median(r[1] for r in rows)
ratios = [r[1] / r[0] for r in rows]
print(f"MEDIAN publisher distinct keys: plaintext {plain:.0f}/s, TLS {tls:.0f}/s")
print(f"RATIO TLS / plaintext: median of rounds {statistics.median(ratios):.2f} (per round: {', '.join(f'{x:.2f}' for x in ratios)})")
PY
machine_line
