#!/usr/bin/env bash
# The second test suite: tests that need runtimes other than Rust (Python with NetworkX and
# pandas, Node, Chromium). Installs what they need, builds the server, then runs every
# tests-ext/<area>/run.sh in name order. A missing tool is a failure, never a skip.
#
#   bash scripts/ext-tests.sh
#
# Each run.sh receives TIEGRAPH_BIN (the release binary) and TIEGRAPH_REPO (the checkout) in its
# environment and must exit non-zero on any failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

say() { printf '\n== %s\n' "$*"; }

say "installing what the suite needs"
export DEBIAN_FRONTEND=noninteractive
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -m pip install --quiet --disable-pip-version-check -r tests-ext/requirements.txt
(cd tests-ext && npm ci --silent --no-audit --no-fund)

say "building the server"
cargo build --release --quiet
export TIEGRAPH_BIN="$repo/target/release/tiegraph"
export TIEGRAPH_REPO="$repo"
export NODE_PATH="$repo/tests-ext/node_modules"

failed=()
for script in tests-ext/*/run.sh; do
  say "$script"
  if ! bash "$script"; then
    failed+=("$script")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
say "all external tests passed"
