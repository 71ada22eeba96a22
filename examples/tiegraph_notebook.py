# %% [markdown]
# # tiegraph from Python: who is connected to CBP, and who says so
#
# This notebook asks a running tiegraph server two questions over GraphQL (with `requests`),
# turns the answers into a NetworkX graph and pandas tables, and draws a picture with matplotlib.
#
# 1. The mission question: *which nonprofits are connected to CBP through its vendors?*
#    (`connected`, every hop with the claims that support it).
# 2. The neighbourhood of Salesforce, denied ties included, to see what is confirmed,
#    reported, disputed or denied.
#
# It is also a plain script (`examples/tiegraph_notebook.py`, the same cells):
#
# ```
# TIEGRAPH_URL=http://127.0.0.1:8080 python3 examples/tiegraph_notebook.py OUT_DIR
# ```
#
# The server URL comes from `TIEGRAPH_URL` (default `http://127.0.0.1:8080`); the files go to
# `OUT_DIR` (default `tiegraph-out`, or `TIEGRAPH_OUT`).

# %%
import os
import sys
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:
    matplotlib.use("Agg")  # a script draws to files, not to a window
import matplotlib.pyplot as plt
import networkx as nx
import pandas as pd
import requests
from matplotlib.lines import Line2D

URL = os.environ.get("TIEGRAPH_URL", "http://127.0.0.1:8080").rstrip("/")
_args = [a for a in sys.argv[1:] if not a.startswith("-")] if "ipykernel" not in sys.modules else []
OUT = Path(_args[0] if _args else os.environ.get("TIEGRAPH_OUT", "tiegraph-out"))
OUT.mkdir(parents=True, exist_ok=True)
print(f"server: {URL}\noutput: {OUT.resolve()}")


def gql(query, **variables):
    """Runs a GraphQL query and returns its `data`; raises on any error."""
    res = requests.post(f"{URL}/graphql", json={"query": query, "variables": variables}, timeout=30)
    body = res.json()
    if body.get("errors"):
        raise RuntimeError("; ".join(e["message"] for e in body["errors"]))
    res.raise_for_status()
    return body["data"]


print(gql("{ stats { entities relations } }")["stats"])

# %% [markdown]
# ## Which nonprofits are connected to CBP through its vendors?
#
# The pattern: from `cbp`, one `VENDOR_TO` relation followed backwards (`IN`: to a vendor of CBP),
# then one relation of any kind either way (`ANY`) to a `NONPROFIT`. `connected` returns each
# entity reached once, with its path count and example paths; each hop carries its relation's
# standing and claims (who said it, the verbatim quote, the source).

# %%
CLAIMS = "stance quote claimant { id name } source { id title url publisher published }"
CONNECTED = f"""
query Mission($from: ID!, $pattern: [HopInput!]!) {{
  connected(from: $from, pattern: $pattern, examples: 5, first: 100) {{
    totalCount partial
    edges {{ node {{
      entity {{ id name kind }}
      pathCount
      examples {{ hops {{
        direction from {{ id name kind }} to {{ id name kind }}
        relation {{ id kind status standing from {{ id }} to {{ id }} claims {{ {CLAIMS} }} }}
      }} }}
    }} }}
  }}
}}
"""
PATTERN = [
    {"relationKinds": ["VENDOR_TO"], "direction": "IN"},
    {"direction": "ANY", "entityKinds": ["NONPROFIT"]},
]
mission = gql(CONNECTED, **{"from": "cbp", "pattern": PATTERN})["connected"]
print(f"{mission['totalCount']} nonprofits reached (partial: {mission['partial']})")


def describe(path):
    """A path as text: `CBP <-VENDOR_TO- Salesforce -PRESSURED-> RAICES`."""
    text = path["hops"][0]["from"]["name"]
    for hop in path["hops"]:
        kind = hop["relation"]["kind"]
        # The arrow follows the relation's own direction, not the walk's.
        text += f" <-{kind}- " if hop["direction"] == "IN" else f" -{kind}-> "
        text += hop["to"]["name"]
    return text


rows, hop_rows = [], []
for edge in mission["edges"]:
    reach = edge["node"]
    for n, path in enumerate(reach["examples"], start=1):
        rows.append({
            "nonprofit": reach["entity"]["name"],
            "id": reach["entity"]["id"],
            "paths": reach["pathCount"],
            "example": n,
            "path": describe(path),
            "standings": " / ".join(h["relation"]["standing"] for h in path["hops"]),
        })
        for i, hop in enumerate(path["hops"], start=1):
            for claim in hop["relation"]["claims"]:
                hop_rows.append({
                    "nonprofit": reach["entity"]["id"],
                    "example": n,
                    "hop": i,
                    "relation": hop["relation"]["id"],
                    "standing": hop["relation"]["standing"],
                    "stance": claim["stance"],
                    "claimant": (claim["claimant"] or {}).get("name", "(the source)"),
                    "quote": claim["quote"],
                    "source": claim["source"]["title"],
                    "url": claim["source"]["url"],
                })
paths_table = pd.DataFrame(rows)
citations = pd.DataFrame(hop_rows)
paths_table.to_csv(OUT / "connected_nonprofits.csv", index=False)
citations.to_csv(OUT / "connected_citations.csv", index=False)
summary = paths_table.groupby(["nonprofit", "id"], as_index=False)["paths"].first()
print(summary.to_string(index=False))
paths_table.head(10)

# %% [markdown]
# Every hop is cited. The claims behind the first example path of each nonprofit:

# %%
first = citations[citations["example"] == 1]
print(first[["nonprofit", "hop", "relation", "stance", "claimant", "quote"]].to_string(index=False, max_colwidth=70))

# %% [markdown]
# ## A NetworkX graph of the answer
#
# The example paths become a `MultiDiGraph` (several relations may join the same two
# entities), edges in their stored direction, with kind and standing as attributes.

# %%
def add_relation(g, rel, ends):
    for e in ends:
        g.add_node(e["id"], name=e["name"], kind=e["kind"])
    g.add_edge(rel["from"]["id"], rel["to"]["id"], key=rel["id"], kind=rel["kind"],
               standing=rel["standing"], status=rel.get("status"), claims=len(rel.get("claims", [])))


mission_graph = nx.MultiDiGraph()
for edge in mission["edges"]:
    for path in edge["node"]["examples"]:
        for hop in path["hops"]:
            add_relation(mission_graph, hop["relation"], [hop["from"], hop["to"]])
print(mission_graph)
print("nonprofits:", sorted(n for n, d in mission_graph.nodes(data=True) if d["kind"] == "NONPROFIT"))

# %% [markdown]
# ## The neighbourhood of Salesforce, denied ties included
#
# `neighborhood` returns a subgraph ready to draw: the entities within `depth` relations and every
# relation among them. With `includeDenied: true` the tie Salesforce's CEO denied (ICE is not a
# customer) is there too, with standing `DENIED`.

# %%
NEIGHBORHOOD = f"""
query Around($id: ID!) {{
  neighborhood(id: $id, depth: 1, includeDenied: true) {{
    partial
    nodes {{ id name kind }}
    edges {{ id kind status standing from {{ id name kind }} to {{ id name kind }} claims {{ {CLAIMS} }} }}
  }}
}}
"""
around = gql(NEIGHBORHOOD, id="salesforce")["neighborhood"]
hood = nx.MultiDiGraph()
for n in around["nodes"]:
    hood.add_node(n["id"], name=n["name"], kind=n["kind"])
for r in around["edges"]:
    add_relation(hood, r, [r["from"], r["to"]])
ties = pd.DataFrame([
    {"relation": r["id"], "kind": r["kind"], "from": r["from"]["name"], "to": r["to"]["name"],
     "status": r["status"], "standing": r["standing"], "claims": len(r["claims"])}
    for r in around["edges"]
])
ties.to_csv(OUT / "salesforce_neighborhood.csv", index=False)
print(hood)
print(ties.groupby("standing").size().to_string())
ties

# %% [markdown]
# ## A picture
#
# Left: the neighbourhood of Salesforce; right: the mission answer. Ties are drawn by standing,
# as in the explorer: solid for confirmed, grey for reported, dotted orange for disputed,
# dashed red for denied. Several ties between the same two entities, either way, are drawn as
# separate arcs (`connectionstyle="arc3,rad=..."`, one curvature per tie), and each tie's label
# sits on its own arc; a label that would cover another is slid along its arc. The label boxes
# are saved to `tiegraph_labels.json`, so a test can check that none hides another.

# %%
import json

from matplotlib.patches import FancyArrowPatch

KIND_COLOR = {"COMPANY": "#1e88e5", "AGENCY": "#6a1b9a", "NONPROFIT": "#2e7d32",
              "PERSON": "#f9a825", "GROUP": "#00838f"}
STANDING_STYLE = {
    "CONFIRMED": {"color": "#37474f", "style": "solid", "width": 2.2},
    "REPORTED": {"color": "#90a4ae", "style": "solid", "width": 1.6},
    "DISPUTED": {"color": "#ef8a17", "style": "dotted", "width": 2.4},
    "DENIED": {"color": "#d62728", "style": "dashed", "width": 2.0},
}
NODE_SIZE = 520
ARC_STEP = 0.32  # the curvature between two ties of the same pair


def tie_label(d):
    """A tie's label: its kind, and its status when it is not simply active."""
    kind = d["kind"].lower().replace("_", " ")
    status = d.get("status")
    return f"{kind} ({status.lower()})" if status and status != "ACTIVE" else kind


def curvatures(g):
    """One `arc3` curvature per edge: the ties between two entities, whichever way they run,
    are spread symmetrically (one tie alone is straight). matplotlib bends an arc to the left
    of its own direction for a positive rad, so a tie running the other way gets the
    opposite sign to land on its own side."""
    pairs = {}
    for u, v, key in sorted(g.edges(keys=True)):
        pairs.setdefault(tuple(sorted((u, v))), []).append((u, v, key))
    rad = {}
    for (a, _), ties in pairs.items():
        for i, (u, v, key) in enumerate(ties):
            side = (i - (len(ties) - 1) / 2) * ARC_STEP
            rad[(u, v, key)] = side if u == a else -side
    return rad


def arc_point(ax, pos, u, v, rad, t):
    """The point at `t` along the arc3 curve from u to v, in data coordinates. matplotlib's
    arc3 is a quadratic Bezier whose control point is set off from the chord's middle by
    rad times the chord, turned a quarter, in display coordinates."""
    to_display = ax.transData.transform
    (x1, y1), (x2, y2) = to_display(pos[u]), to_display(pos[v])
    cx, cy = (x1 + x2) / 2 + rad * (y2 - y1), (y1 + y2) / 2 - rad * (x2 - x1)
    x = (1 - t) ** 2 * x1 + 2 * (1 - t) * t * cx + t ** 2 * x2
    y = (1 - t) ** 2 * y1 + 2 * (1 - t) * t * cy + t ** 2 * y2
    return ax.transData.inverted().transform((x, y))


def overlaps(a, b, pad=1.0):
    return a.x0 < b.x1 + pad and b.x0 < a.x1 + pad and a.y0 < b.y1 + pad and b.y0 < a.y1 + pad


def draw(g, ax, highlight=()):
    """Draws g on ax (laid out and titled already); returns the label boxes (display pixels)
    by what they label."""
    pos = nx.spring_layout(nx.Graph(g), seed=7, k=1.8 / max(len(g), 1) ** 0.5)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=NODE_SIZE,
                           node_color=[KIND_COLOR.get(d["kind"], "#888") for _, d in g.nodes(data=True)],
                           edgecolors=["#111" if n in highlight else "#fff" for n in g.nodes],
                           linewidths=[2.5 if n in highlight else 1 for n in g.nodes])
    rad = curvatures(g)
    for (u, v, key), r in rad.items():
        d = g.edges[u, v, key]
        s = STANDING_STYLE[d["standing"]]
        nx.draw_networkx_edges(g, pos, ax=ax, edgelist=[(u, v, key)], edge_color=s["color"],
                               style=s["style"], width=s["width"], arrows=True, arrowsize=12,
                               node_size=NODE_SIZE, connectionstyle=f"arc3,rad={r}")
    ax.margins(0.14)
    ax.axis("off")
    ax.figure.canvas.draw()  # fixes the data-to-pixel transform the label positions need
    placed = []  # (what, kind, text artist) in the order they were set down
    for n, d in g.nodes(data=True):
        x, y = pos[n]
        text = ax.annotate(d["name"], (x, y), xytext=(0, -13), textcoords="offset points",
                           ha="center", va="top", fontsize=8, annotation_clip=False,
                           bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
        placed.append((n, "node", text))
    renderer = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for _, _, t in placed]
    bodies = [ax.transData.transform(pos[n]) for n in g.nodes]
    radius = (NODE_SIZE ** 0.5) / 2 * ax.figure.dpi / 72  # a node's radius in pixels
    for (u, v, key), r in rad.items():
        d = g.edges[u, v, key]
        text = ax.text(0, 0, tie_label(d), fontsize=6.5, color="#37474f", ha="center", va="center",
                       zorder=5, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9})
        # The middle of the arc, else the first spot along it where the label covers no other
        # label and no node.
        for t in (0.5, 0.4, 0.6, 0.32, 0.68, 0.25, 0.75):
            text.set_position(arc_point(ax, pos, u, v, r, t))
            box = text.get_window_extent(renderer)
            clear_of_nodes = all(not (box.x0 - radius < x < box.x1 + radius and box.y0 - radius < y < box.y1 + radius)
                                 for x, y in bodies)
            if clear_of_nodes and not any(overlaps(box, b) for b in boxes):
                break
        boxes.append(text.get_window_extent(renderer))
        placed.append((key, "tie", text))
    return [{"label": t.get_text(), "what": what, "kind": kind,
             "box": [round(v, 1) for v in t.get_window_extent(renderer).extents]}
            for what, kind, t in placed]


fig, (left, right) = plt.subplots(1, 2, figsize=(16, 7.5))
left.set_title("Neighbourhood of Salesforce (denied ties included)")
right.set_title("Nonprofits connected to CBP through its vendors")
legend = [Line2D([0], [0], color=s["color"], linestyle=s["style"], linewidth=s["width"], label=k.lower())
          for k, s in STANDING_STYLE.items()]
legend += [Line2D([0], [0], marker="o", color="w", markerfacecolor=c, markersize=10, label=k.lower())
           for k, c in KIND_COLOR.items()]
fig.legend(handles=legend, loc="lower center", ncol=len(legend), frameon=False, fontsize=9)
fig.tight_layout(rect=(0, 0.05, 1, 1))
reached = {e["node"]["entity"]["id"] for e in mission["edges"]}
labels = {
    "neighbourhood": draw(hood, left, highlight={"salesforce"}),
    "mission": draw(mission_graph, right, highlight=reached | {"cbp"}),
}
fig.savefig(OUT / "tiegraph.png", dpi=110)
(OUT / "tiegraph_labels.json").write_text(json.dumps({"dpi": 110, "figure_dpi": fig.dpi, "panels": labels}, indent=1))
print("wrote", OUT / "tiegraph.png", "and", ", ".join(sorted(p.name for p in OUT.glob("*.csv"))))
