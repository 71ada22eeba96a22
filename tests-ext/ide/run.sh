#!/usr/bin/env bash
# GraphiQL at / in headless Chromium, with no network but the server: it renders from the
# binary's own assets, opens on the README's mission query, answers it, and streams a change
# from the subscription over /graphql/ws. Writes a screenshot to tests-ext/ide/out/ide.png.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib/server.sh"
start_server
mkdir -p "$here/out"
NODE_PATH="${NODE_PATH:-$TIEGRAPH_REPO/tests-ext/node_modules}" \
  node "$here/ide.test.js" "$TIEGRAPH_URL" "$here/out"
