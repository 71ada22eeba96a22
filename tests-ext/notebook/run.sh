#!/usr/bin/env bash
# The Python example against a live server: examples/tiegraph_notebook.py must run, write its
# picture and tables, and name the three nonprofits connected to CBP through its vendors.
# Also checks that examples/tiegraph.ipynb holds the same cells as the script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib/server.sh"

python3 "$TIEGRAPH_REPO/examples/build_notebook.py" --check

start_server
out="$here/out"
rm -rf "$out"
mkdir -p "$out"
TIEGRAPH_URL="$TIEGRAPH_URL" python3 "$TIEGRAPH_REPO/examples/tiegraph_notebook.py" "$out"

for f in tiegraph.png connected_nonprofits.csv connected_citations.csv salesforce_neighborhood.csv; do
  if [ ! -s "$out/$f" ]; then
    echo "FAILED: the script did not write $f" >&2
    exit 1
  fi
done
python3 - "$out" <<'PY'
import struct
import sys
from pathlib import Path

import pandas as pd

out = Path(sys.argv[1])
png = (out / "tiegraph.png").read_bytes()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "tiegraph.png is not a PNG"
width, height = struct.unpack(">II", png[16:24])
assert width >= 800 and height >= 400, f"tiegraph.png is only {width}x{height}"

table = pd.read_csv(out / "connected_nonprofits.csv")
names = set(table["nonprofit"])
want = {"RAICES", "Media Alliance", "Fight for the Future"}
assert want <= names, f"the table names {sorted(names)}, not all of {sorted(want)}"
assert (table["paths"] > 0).all()

citations = pd.read_csv(out / "connected_citations.csv")
assert citations["quote"].str.contains("CBP is a customer", regex=False).any(), "Benioff's quote is missing"
assert set(citations["source"]) == {"RAICES declines Salesforce donation"}

ties = pd.read_csv(out / "salesforce_neighborhood.csv")
denied = ties[ties["standing"] == "DENIED"]
assert list(denied["relation"]) == ["salesforce-vendor-to-ice"], f"denied ties: {list(denied['relation'])}"
print(f"ok: {sorted(want)} named; {len(citations)} citations; picture {width}x{height}")
PY
