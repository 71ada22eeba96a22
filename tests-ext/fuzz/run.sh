#!/usr/bin/env bash
# Schema-driven GraphQL fuzz against the live server: zero 5xx, zero panics, every error a
# clear GraphQL error (a non-empty string `extensions.code`), no hangs.
#
#   TIEGRAPH_BIN=target/release/tiegraph TIEGRAPH_REPO=. bash tests-ext/fuzz/run.sh
#
# 1. schemathesis (GraphQL mode, from the server's introspection) with the write token: every
#    query and mutation field, positive and negative (invalid) operations, checked by the
#    checks in hooks.py (no 5xx, no 408, JSON answers, every error coded, token rules);
# 2. the same without the token: every mutation must be refused with 401 UNAUTHORIZED;
# 3. envelope.py: Hypothesis over what schemathesis leaves alone (bodies that are not GraphQL
#    requests, batches, GET parameters, media types, tokens, oversized bodies);
# 4. the server still answers /health, and its log has no panic.
#
# Bounded and deterministic: FUZZ_EXAMPLES test cases per operation (default 50) and
# FUZZ_SEED (default fixed). Prints each failure with its query and answer; exits 1 on any.
#
# Schemathesis's own not_a_server_error is not used: besides 5xx statuses (which
# tiegraph_coded_errors fails on too) it calls any GraphQL error that has a `path` and a code
# outside Apollo's few client codes a "server error" (ST113), so a clear
# `{"code":"NOT_FOUND","field":"id"}` for `deleteEntity(id: "")` fails it. tiegraph_coded_errors
# fails instead on what is a server error here: a 5xx, a 408, a non-JSON answer, an error
# without a code, or the code INTERNAL_SERVER_ERROR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${TIEGRAPH_BIN:?set TIEGRAPH_BIN to the server binary}"
: "${TIEGRAPH_REPO:?set TIEGRAPH_REPO to the checkout}"
examples="${FUZZ_EXAMPLES:-50}"
fuzz_seed="${FUZZ_SEED:-20240601}"

# A missing tool is a failure, never a skip.
for tool in st curl python3; do
  command -v "$tool" >/dev/null || { echo "fuzz: FAILED: $tool is not installed (pip install -r tests-ext/requirements.txt)"; exit 1; }
done
python3 -c 'import schemathesis, hypothesis, hypothesis_graphql, requests, graphql' \
  || { echo "fuzz: FAILED: the Python packages of tests-ext/requirements.txt are not installed"; exit 1; }
[ -x "$TIEGRAPH_BIN" ] || { echo "fuzz: FAILED: no server binary at $TIEGRAPH_BIN"; exit 1; }

tmp="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token="fuzz-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
base="http://127.0.0.1:$port"
log="$tmp/server.log"
TIEGRAPH_TOKEN="$token" "$TIEGRAPH_BIN" serve --listen "127.0.0.1:$port" --data-dir "$tmp/data" \
  --seed-dir "$TIEGRAPH_REPO/seed" --request-timeout 15 >"$tmp/server.out" 2>"$log" &
server=$!
for _ in $(seq 100); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
if ! curl -fsS "$base/health" >/dev/null; then
  echo "fuzz: FAILED: the server did not come up"; cat "$log"; exit 1
fi
echo "fuzz: server on $base (seed $fuzz_seed, $examples examples per operation)"

failed=()
started=$SECONDS
st_run() {  # st_run NAME [extra args...]: one schemathesis run, its output to the console
  local name="$1"; shift
  echo
  echo "== schemathesis: $name"
  # From the temp dir: schemathesis leaves a .schemathesis/ cache where it runs.
  if ! (cd "$tmp" && SCHEMATHESIS_HOOKS="$here/hooks.py" st run "$base/graphql" \
      --checks tiegraph_coded_errors,tiegraph_write_access \
      --phases examples,coverage,fuzzing \
      --max-examples "$examples" --seed "$fuzz_seed" --generation-database none \
      --continue-on-failure \
      --workers 2 --request-timeout 30 --no-color --output-truncate false \
      --suppress-health-check all \
      "$@"); then
    failed+=("schemathesis $name")
  fi
}

TIEGRAPH_FUZZ_AUTH=1 st_run "with the write token" -H "Authorization: Bearer $token"
# Every mutation answering 401 is the point here, not a warning.
TIEGRAPH_FUZZ_AUTH=0 st_run "without a token" --warnings off

echo
echo "== envelope (Hypothesis over the HTTP request around GraphQL)"
python3 "$here/envelope.py" "$base/graphql" "$token" "$((examples * 6))" "$fuzz_seed" \
  || failed+=("envelope")

echo
echo "== the server afterwards"
if curl -fsS "$base/health" >/dev/null; then
  echo "fuzz: /health answers 200"
else
  echo "fuzz: FAILED: /health does not answer 200 after the fuzz"
  failed+=("health")
fi
if grep -n -A5 'panicked' "$log"; then
  echo "fuzz: FAILED: the server panicked (lines above, from its log)"
  failed+=("panic")
else
  echo "fuzz: no panic in the server log"
fi
echo "fuzz: requests the server answered, by status, and GraphQL error codes it gave:"
curl -fsS "$base/metrics" | grep -E '^tiegraph_(http_requests_total\{route="/graphql"|graphql_errors_total)' \
  | tee "$tmp/metrics" || true
awk '/^tiegraph_http_requests_total/ { n += $2 } END { print "fuzz: " n " GraphQL requests in all" }' "$tmp/metrics"
echo "fuzz: took $((SECONDS - started)) s"

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: passed: no 5xx, no hang, no panic, every GraphQL error with extensions.code"
