# Shared helpers for scripts/test, scripts/demo and the benchmarks. Sourced, not run.

# A free TCP port on loopback, chosen by the kernel.
free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# start_redis PORT DIR: a throw-away redis-server on loopback, no persistence.
start_redis() {
  local port=$1 dir=$2
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$dir" --daemonize yes --pidfile "$dir/redis-$port.pid" --logfile "$dir/redis-$port.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis-server did not start on port $port"; cat "$dir/redis-$port.log"; return 1
}

stop_redis() {
  local port=$1 dir=$2
  if [ -f "$dir/redis-$port.pid" ]; then
    kill "$(cat "$dir/redis-$port.pid")" 2>/dev/null || true
  fi
}
