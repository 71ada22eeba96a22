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
# dashed red for denied.

# %%
KIND_COLOR = {"COMPANY": "#1e88e5", "AGENCY": "#6a1b9a", "NONPROFIT": "#2e7d32",
              "PERSON": "#f9a825", "GROUP": "#00838f"}
STANDING_STYLE = {
    "CONFIRMED": {"color": "#37474f", "style": "solid", "width": 2.2},
    "REPORTED": {"color": "#90a4ae", "style": "solid", "width": 1.6},
    "DISPUTED": {"color": "#ef8a17", "style": "dotted", "width": 2.4},
    "DENIED": {"color": "#d62728", "style": "dashed", "width": 2.0},
}


def draw(g, ax, title, highlight=()):
    pos = nx.spring_layout(nx.Graph(g), seed=7, k=1.6 / max(len(g), 1) ** 0.5)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=520,
                           node_color=[KIND_COLOR.get(d["kind"], "#888") for _, d in g.nodes(data=True)],
                           edgecolors=["#111" if n in highlight else "#fff" for n in g.nodes],
                           linewidths=[2.5 if n in highlight else 1 for n in g.nodes])
    below = {n: (x, y - 0.07) for n, (x, y) in pos.items()}  # names under the dots
    nx.draw_networkx_labels(g, below, ax=ax, font_size=8,
                            labels={n: d["name"] for n, d in g.nodes(data=True)},
                            verticalalignment="top", clip_on=False,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})
    seen = {}
    for u, v, key, d in g.edges(keys=True, data=True):
        pair = tuple(sorted((u, v)))
        n = seen[pair] = seen.get(pair, -1) + 1  # fan out parallel relations
        s = STANDING_STYLE[d["standing"]]
        nx.draw_networkx_edges(g, pos, ax=ax, edgelist=[(u, v, key)], edge_color=s["color"],
                               style=s["style"], width=s["width"], arrows=True, arrowsize=12,
                               node_size=520, connectionstyle=f"arc3,rad={0.1 + 0.18 * n}")
    labels = {}
    for u, v, d in g.edges(data=True):
        labels.setdefault((u, v), set()).add(d["kind"].lower())
    nx.draw_networkx_edge_labels(g, pos, ax=ax, font_size=6, font_color="#455a64",
                                 edge_labels={k: ", ".join(sorted(v)) for k, v in labels.items()},
                                 bbox={"fc": "white", "ec": "none", "alpha": 0.6})
    ax.set_title(title)
    ax.margins(0.14)
    ax.axis("off")


fig, (left, right) = plt.subplots(1, 2, figsize=(16, 7.5))
draw(hood, left, "Neighbourhood of Salesforce (denied ties included)", highlight={"salesforce"})
reached = {e["node"]["entity"]["id"] for e in mission["edges"]}
draw(mission_graph, right, "Nonprofits connected to CBP through its vendors", highlight=reached | {"cbp"})
legend = [Line2D([0], [0], color=s["color"], linestyle=s["style"], linewidth=s["width"], label=k.lower())
          for k, s in STANDING_STYLE.items()]
legend += [Line2D([0], [0], marker="o", color="w", markerfacecolor=c, markersize=10, label=k.lower())
           for k, c in KIND_COLOR.items()]
fig.legend(handles=legend, loc="lower center", ncol=len(legend), frameon=False, fontsize=9)
fig.tight_layout(rect=(0, 0.05, 1, 1))
fig.savefig(OUT / "tiegraph.png", dpi=110)
print("wrote", OUT / "tiegraph.png", "and", ", ".join(sorted(p.name for p in OUT.glob("*.csv"))))
