#!/usr/bin/env bash
# The explorer, end to end in headless Chromium: search, expand, the mission pattern, a tie's
# claims, denied ties drawn differently, a live update from the changes subscription.
# Writes a screenshot to tests-ext/explorer/out/explorer.png.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib/server.sh"
start_server
mkdir -p "$here/out"
NODE_PATH="${NODE_PATH:-$TIEGRAPH_REPO/tests-ext/node_modules}" \
  node "$here/explorer.test.js" "$TIEGRAPH_URL" "$here/out"
