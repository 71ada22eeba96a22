#!/usr/bin/env bash
# No Docker engine runs here: check what can be checked without one. The compose file and the
# Dockerfile parse and say what they must; the binary they build answers the health check
# that both use, listening as the container does.
set -euo pipefail
python3 "$(dirname "$0")/check_docker.py" "$TIEGRAPH_REPO"

data="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Off loopback without a token the server must refuse to start.
if TIEGRAPH_LISTEN="0.0.0.0:$port" TIEGRAPH_DATA_DIR="$data" "$TIEGRAPH_BIN" serve >/dev/null 2>&1; then
  echo "the server started on 0.0.0.0 with no token"; exit 1
fi
TIEGRAPH_TOKEN=docker-check-token TIEGRAPH_LISTEN="0.0.0.0:$port" TIEGRAPH_DATA_DIR="$data" TIEGRAPH_SEED_DIR="$TIEGRAPH_REPO/seed" \
  "$TIEGRAPH_BIN" serve >"$data.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data" "$data.log"' EXIT
for _ in $(seq 50); do
  TIEGRAPH_LISTEN="0.0.0.0:$port" "$TIEGRAPH_BIN" health >/dev/null 2>&1 && break
  sleep 0.2
done
TIEGRAPH_LISTEN="0.0.0.0:$port" "$TIEGRAPH_BIN" health
kill -TERM $server
wait $server
if grep -q docker-check-token "$data.log"; then echo "the token appeared in the log"; exit 1; fi
echo "docker: the image's health check passes against the server it runs; SIGTERM stops it cleanly"
