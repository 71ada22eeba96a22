#!/usr/bin/env bash
# The GraphQL clients' own transports against a real server: graphql-ws 6 subscribes over
# ws://HOST/graphql and ws://HOST/graphql/ws (ws.mjs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${TIEGRAPH_BIN:?set TIEGRAPH_BIN to the tiegraph binary}"
: "${TIEGRAPH_REPO:?set TIEGRAPH_REPO to the checkout}"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
"$TIEGRAPH_BIN" --listen "127.0.0.1:$port" --data-dir "$work/server" --seed-dir "$TIEGRAPH_REPO/seed" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log"; echo "the server died"; exit 1; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null

NODE_PATH="$TIEGRAPH_REPO/tests-ext/node_modules" node "$here/ws.mjs" "http://127.0.0.1:$port"
