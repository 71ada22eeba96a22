#!/usr/bin/env bash
# The Python example against a live server: examples/tiegraph_notebook.py must run, write its
# picture and tables, and name the three nonprofits connected to CBP through its vendors. In
# the picture every tie has its own label (the declined donation's too) and no label covers
# another (their boxes, as matplotlib laid them out, are in tiegraph_labels.json).
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

for f in tiegraph.png tiegraph_labels.json connected_nonprofits.csv connected_citations.csv salesforce_neighborhood.csv; do
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

import json

drawn = json.loads((out / "tiegraph_labels.json").read_text())["panels"]
for panel, labels in drawn.items():
    tie_labels = [l for l in labels if l["kind"] == "tie"]
    assert tie_labels and all(l["label"] for l in tie_labels), f"{panel}: ties without labels"
    assert len({l["what"] for l in tie_labels}) == len(tie_labels), f"{panel}: a tie labelled twice"
    donation = [l for l in tie_labels if l["what"] == "salesforce-donation-to-raices"]
    assert [l["label"] for l in donation] == ["donation (declined)"], f"{panel}: the declined donation's label is {donation}"
    clashes = []
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a["box"], b["box"]
            if min(ax1, bx1) > max(ax0, bx0) and min(ay1, by1) > max(ay0, by0):
                clashes.append(f"{a['label']!r} ({a['what']}) / {b['label']!r} ({b['what']})")
    assert not clashes, f"{panel}: labels overlap: {clashes}"
assert {l["what"] for l in drawn["neighbourhood"] if l["kind"] == "tie"} == set(ties["relation"]), "the neighbourhood picture misses ties"
print(f"ok: {sorted(want)} named; {len(citations)} citations; picture {width}x{height}; "
      + "; ".join(f"{p}: {sum(l['kind'] == 'tie' for l in ls)} tie labels, none overlapping" for p, ls in drawn.items()))
PY
