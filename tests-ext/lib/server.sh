# Shared by tests-ext/<area>/run.sh: start a tiegraph server on a free port with a fresh data
# dir seeded from the repository, wait for /health, and stop it (and remove the data) on exit.
#   source "$TIEGRAPH_REPO/tests-ext/lib/server.sh"; start_server
# Sets TIEGRAPH_URL and SERVER_PID. Needs TIEGRAPH_BIN and TIEGRAPH_REPO.
: "${TIEGRAPH_BIN:?set TIEGRAPH_BIN to the tiegraph binary}"
: "${TIEGRAPH_REPO:?set TIEGRAPH_REPO to the checkout}"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "${SERVER_DATA:-}" ]; then rm -rf "$SERVER_DATA"; fi
}

start_server() {
  SERVER_DATA="$(mktemp -d)"
  SERVER_LOG="$SERVER_DATA/server.log"
  local port
  port="$(free_port)"
  TIEGRAPH_URL="http://127.0.0.1:$port"
  trap stop_server EXIT
  "$TIEGRAPH_BIN" --listen "127.0.0.1:$port" --data-dir "$SERVER_DATA/store" \
    --seed-dir "$TIEGRAPH_REPO/seed" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -fsS "$TIEGRAPH_URL/health" >/dev/null 2>&1; then
      export TIEGRAPH_URL
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "the server did not become healthy; its log:" >&2
  cat "$SERVER_LOG" >&2
  return 1
}
