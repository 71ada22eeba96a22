#!/usr/bin/env bash
# The GraphQL clients' own transports against a real server: graphql-ws 6 subscribes over
# ws://HOST/graphql and ws://HOST/graphql/ws (ws.mjs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$TIEGRAPH_REPO/tests-ext/lib/server.sh"
start_server
NODE_PATH="$TIEGRAPH_REPO/tests-ext/node_modules" node "$here/ws.mjs" "$TIEGRAPH_URL"
