#!/usr/bin/env bash
# Exports read back by their real consumers: NetworkX (node-link, GraphML, GEXF; GEXF with 3.4.2
# and 3.6.1), python-igraph (GraphML) and pandas
# (CSV) in check.py, Cytoscape.js and graphology in check.mjs. Every format is fetched over
# HTTP from a server on a free port and written by `tiegraph export` from a second data dir
# (sled allows one process per store). Then a CSV export is imported into a fresh store with
# `tiegraph import --format csv` and must give back the same graph.
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

# The CLI's store: the same seed, imported into a data dir of its own.
"$TIEGRAPH_BIN" import "$TIEGRAPH_REPO/seed/raices-salesforce.jsonl" --data-dir "$work/cli" >/dev/null
mkdir -p "$work/out"
pattern='[{"relationKinds":["VENDOR_TO"],"direction":"IN"},{"direction":"ANY","entityKinds":["NONPROFIT"]}]'
for format in cytoscape graphology node-link graphml gexf csv-nodes csv-edges; do
  "$TIEGRAPH_BIN" export --data-dir "$work/cli" --format "$format" --out "$work/out/cli-all.$format"
  "$TIEGRAPH_BIN" export --data-dir "$work/cli" --format "$format" --scope neighborhood --id dhs --depth 1 \
    --out "$work/out/cli-neighborhood.$format"
  "$TIEGRAPH_BIN" export --data-dir "$work/cli" --format "$format" --scope paths --from cbp --pattern "$pattern" \
    --out "$work/out/cli-paths.$format"
done
"$TIEGRAPH_BIN" export --data-dir "$work/cli" --format csv --out-dir "$work/out/csv"

python3 "$here/check.py" "http://127.0.0.1:$port" "$work/out"
node "$here/check.mjs" "http://127.0.0.1:$port" "$work/out"

# GEXF with the stock readers of the NetworkX the suite pins (3.4.2) and of 3.6, nothing
# registered: 3.6 is installed into a directory of its own for this check.
gexf_files=("$work/out/cli-all.gexf" "$work/out/cli-neighborhood.gexf" "$work/out/cli-paths.gexf")
python3 "$here/gexf_versions.py" 3.4.2 "${gexf_files[@]}"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$work/networkx-3.6" networkx==3.6.1
PYTHONPATH="$work/networkx-3.6" python3 "$here/gexf_versions.py" 3.6.1 "${gexf_files[@]}"

# CSV round trip: the two files import into an empty store, and export as the same JSON lines.
"$TIEGRAPH_BIN" import --format csv --nodes "$work/out/csv/tiegraph-nodes.csv" --edges "$work/out/csv/tiegraph-edges.csv" \
  --data-dir "$work/roundtrip" >/dev/null
"$TIEGRAPH_BIN" export --data-dir "$work/roundtrip" --out "$work/roundtrip.jsonl"
"$TIEGRAPH_BIN" export --data-dir "$work/cli" --out "$work/original.jsonl"
diff -u "$work/original.jsonl" "$work/roundtrip.jsonl"
again="$("$TIEGRAPH_BIN" import --format csv --nodes "$work/out/csv/tiegraph-nodes.csv" --edges "$work/out/csv/tiegraph-edges.csv" --data-dir "$work/roundtrip")"
case "$again" in
  *"0 entities created, 0 updated; 0 sources created, 0 updated; 0 relations created, 0 updated; 0 claims added"*) ;;
  *) echo "re-importing the CSV changed the store: $again"; exit 1 ;;
esac
echo "exports: all checks passed"
