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

rounds=5
keys=50000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--keys N]"; exit 2 ;;
  esac
done

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

echo "==> swift build -c release --product bench-publisher"
swift build -c release --product bench-publisher 2>&1 | grep -v 'prohibited flag' | tail -n 1
bin="$(swift build -c release --show-bin-path)/bench-publisher"

distinct() {  # distinct URL [ARGS...]: writes/s of the distinct-keys scenario
  "$bin" --redis-url "$@" --scripts-dir lua --scenario distinct --keys "$keys" --passes 1 \
    | sed -nE 's/^RESULT distinct_writes_per_s=([0-9]+).*/\1/p'
}

echo "==> $rounds rounds: publisher distinct keys over redis:// | over rediss://"
: > "$work/rounds"
for r in $(seq 1 "$rounds"); do
  p=$(distinct "redis://127.0.0.1:$port/0")
  t=$(distinct "rediss://127.0.0.1:$tls_port/0" --tls-ca-file "$work/ca.pem")
  echo "round $r: plaintext $p/s, TLS $t/s"
  echo "$p $t" >> "$work/rounds"
  redis-cli -p "$port" FLUSHALL >/dev/null
done

python3 - "$work/rounds" <<'PY'
import statistics, sys
rows = [tuple(float(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
plain = statistics.median(r[0] for r in rows)
tls = statistics.median(r[1] for r in rows)
ratios = [r[1] / r[0] for r in rows]
print(f"MEDIAN publisher distinct keys: plaintext {plain:.0f}/s, TLS {tls:.0f}/s")
print(f"RATIO TLS / plaintext: median of rounds {statistics.median(ratios):.2f} (per round: {', '.join(f'{x:.2f}' for x in ratios)})")
PY
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg); redis $(redis-server --version | cut -d' ' -f3)"
