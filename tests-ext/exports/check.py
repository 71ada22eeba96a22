"""Reads tiegraph's exports with NetworkX (node-link, GraphML, GEXF) and pandas (CSV).

Usage: check.py BASE_URL OUT_DIR. Fetches every format over HTTP for three scopes, reads the
files `tiegraph export` wrote into OUT_DIR, and asserts the counts and that kinds, status,
standing and the claims' sources survived. Exits non-zero on the first failure.
"""

import io
import json
import sys
import urllib.parse

import igraph
import networkx as nx
import pandas as pd
import requests

BASE, OUT = sys.argv[1], sys.argv[2]
SOURCE = "raices-declines-salesforce-donation"
PATTERN = '[{"relationKinds":["VENDOR_TO"],"direction":"IN"},{"direction":"ANY","entityKinds":["NONPROFIT"]}]'
SCOPES = {
    "all": {},
    "neighborhood": {"scope": "neighborhood", "id": "dhs", "depth": "1"},
    "paths": {"scope": "paths", "from": "cbp", "pattern": PATTERN},
}
MEDIA = {
    "node-link": "application/json",
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
    "csv-nodes": "text/csv",
    "csv-edges": "text/csv",
}

checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        raise AssertionError(message)


def fetch(fmt, params):
    query = urllib.parse.urlencode({"format": fmt, **params})
    response = requests.get(f"{BASE}/export?{query}", timeout=30)
    check(response.status_code == 200, f"{fmt} {params}: HTTP {response.status_code} {response.text[:200]}")
    check(response.headers["content-type"].startswith(MEDIA[fmt]), f"{fmt}: content-type {response.headers['content-type']}")
    check("attachment; filename=" in response.headers.get("content-disposition", ""), f"{fmt}: content-disposition")
    return response.content


def read(fmt, data):
    """A MultiDiGraph (or DataFrame for CSV) from the bytes of one export."""
    if fmt == "node-link":
        doc = json.loads(data)
        check(doc["directed"] is True and doc["multigraph"] is True, "node-link is a directed multigraph")
        return nx.node_link_graph(doc, edges="edges")
    if fmt == "graphml":
        # GraphML has no multigraph flag: NetworkX picks DiGraph unless told, when no pair repeats.
        return nx.read_graphml(io.BytesIO(data), force_multigraph=True)
    if fmt == "gexf":
        return nx.read_gexf(io.BytesIO(data))
    return pd.read_csv(io.BytesIO(data), keep_default_na=False)


def claims_of(attrs):
    claims = attrs["claims"]
    return json.loads(claims) if isinstance(claims, str) else claims


def check_graph(name, scope, G):
    check(G.is_directed(), f"{name}: {type(G).__name__} is not directed")
    if not G.is_multigraph():
        # read_gexf returns a DiGraph when no two relations join the same pair.
        check(name.endswith("gexf"), f"{name}: {type(G).__name__} is not a MultiDiGraph")
        G = nx.MultiDiGraph(G)
    edges = list(G.edges(keys=True, data=True))
    for _, _, _, attrs in edges:
        check(attrs["standing"] in {"CONFIRMED", "REPORTED", "DISPUTED", "DENIED"}, f"{name}: standing {attrs}")
        claims = claims_of(attrs)
        check(claims and all(c["source"]["id"] == SOURCE and c["quote"] for c in claims), f"{name}: claims {claims}")
        check(all(c["source"]["title"] == "RAICES declines Salesforce donation" for c in claims), f"{name}: source titles")
    if scope == "all":
        check((G.number_of_nodes(), G.number_of_edges()) == (12, 17), f"{name}: {G.number_of_nodes()}/{G.number_of_edges()}")
        check(G.nodes["cbp"]["kind"] == "AGENCY" and G.nodes["raices"]["kind"] == "NONPROFIT", f"{name}: node kinds")
        ice = G.get_edge_data("salesforce", "ice")
        check(any(a["standing"] == "DENIED" and a["kind"] == "VENDOR_TO" for a in ice.values()), f"{name}: the ICE denial")
        to_cbp = G.get_edge_data("salesforce", "cbp")
        check(len(to_cbp) == 2, f"{name}: two parallel Salesforce→CBP relations, got {list(to_cbp)}")
        check({a["standing"] for a in to_cbp.values()} == {"CONFIRMED", "DISPUTED"}, f"{name}: CBP standings")
        donation = G.get_edge_data("salesforce", "raices")["salesforce-donation-to-raices"]
        check(donation["status"] == "DECLINED" and float(donation["amount"]) == 250000.0, f"{name}: the donation {donation}")
        check(donation["currency"] == "USD", f"{name}: the donation's currency")
    elif scope == "neighborhood":
        check(set(G.nodes) == {"dhs", "cbp", "ice"}, f"{name}: nodes {set(G.nodes)}")
        check(all(a["kind"] == "PART_OF" for _, _, _, a in edges) and len(edges) == 2, f"{name}: edges {edges}")
    else:
        nonprofits = {n for n, a in G.nodes(data=True) if a["kind"] == "NONPROFIT"}
        check({"raices", "media-alliance", "fight-for-the-future"} <= nonprofits, f"{name}: nonprofits {nonprofits}")
        check(G.nodes["salesforce"]["kind"] == "COMPANY", f"{name}: Salesforce is a company")


def check_csv(name, scope, nodes, edges):
    expected = {"all": (12, 17), "neighborhood": (3, 2)}.get(scope)
    if expected:
        check((len(nodes), len(edges)) == expected, f"{name}: {len(nodes)}/{len(edges)} rows")
    check(set(edges["source"]) | set(edges["target"]) <= set(nodes["id"]), f"{name}: edges join listed nodes")
    check(set(nodes["kind"]) <= {"COMPANY", "AGENCY", "NONPROFIT", "PERSON", "GROUP"}, f"{name}: kinds")
    for _, row in edges.iterrows():
        check(row["standing"] in {"CONFIRMED", "REPORTED", "DISPUTED", "DENIED"}, f"{name}: standing {row['standing']}")
        check(row["sources"] == SOURCE, f"{name}: sources {row['sources']}")
        check(all(c["source"]["id"] == SOURCE for c in json.loads(row["claims"])), f"{name}: claims")
    if scope == "all":
        ice = edges[edges["id"] == "salesforce-vendor-to-ice"].iloc[0]
        check(ice["standing"] == "DENIED" and ice["kind"] == "VENDOR_TO", f"{name}: the ICE denial")
        check(json.loads(nodes[nodes["id"] == "cbp"].iloc[0]["aliases"]) == ["CBP"], f"{name}: aliases as JSON")


for scope, params in SCOPES.items():
    for origin in ("http", "cli"):
        def get(fmt):
            if origin == "http":
                return fetch(fmt, params)
            with open(f"{OUT}/cli-{scope}.{fmt}", "rb") as f:
                return f.read()

        for fmt in ("node-link", "graphml", "gexf"):
            check_graph(f"{origin} {scope} {fmt}", scope, read(fmt, get(fmt)))
        check_csv(f"{origin} {scope} csv", scope, read("csv-nodes", get("csv-nodes")), read("csv-edges", get("csv-edges")))

# The CLI's two-file CSV form.
check_csv("cli csv --out-dir", "all", pd.read_csv(f"{OUT}/csv/tiegraph-nodes.csv", keep_default_na=False),
          pd.read_csv(f"{OUT}/csv/tiegraph-edges.csv", keep_default_na=False))

# GraphQL: the same documents as strings.
query = '{ export(format: NODE_LINK) neighborhood(id: "dhs") { export(format: GRAPHML) } }'
answer = requests.post(f"{BASE}/graphql", json={"query": query}, timeout=30).json()
check("errors" not in answer, f"GraphQL export: {answer.get('errors')}")
check(isinstance(answer["data"]["export"], dict), "GraphQL node-link export is a JSON object")
check(isinstance(answer["data"]["neighborhood"]["export"], str), "GraphQL GraphML export is a string")
check_graph("graphql export", "all", nx.node_link_graph(answer["data"]["export"], edges="edges"))
check_graph("graphql Subgraph.export", "neighborhood", nx.read_graphml(io.BytesIO(answer["data"]["neighborhood"]["export"].encode()), force_multigraph=True))
query = '{ export(format: NODE_LINK, scope: PATHS, id: "cbp", pattern: [{relationKinds: [VENDOR_TO], direction: IN}, {direction: ANY, entityKinds: [NONPROFIT]}]) }'
answer = requests.post(f"{BASE}/graphql", json={"query": query}, timeout=30).json()
check("errors" not in answer, f"GraphQL paths export: {answer.get('errors')}")
check_graph("graphql paths export", "paths", nx.node_link_graph(answer["data"]["export"], edges="edges"))

# python-igraph 1.0 replaces GraphML edge ids with its own: the relation id survives as the
# `relation_id` data key, on every edge, equal to the edge's GraphML id as NetworkX reads it.
for origin, data in [("http", fetch("graphml", {})), ("cli", open(f"{OUT}/cli-all.graphml", "rb").read())]:
    with open(f"{OUT}/igraph-{origin}.graphml", "wb") as out:
        out.write(data)
    g = igraph.Graph.Read_GraphML(f"{OUT}/igraph-{origin}.graphml")
    wanted = sorted(key for _, _, key in nx.read_graphml(io.BytesIO(data), force_multigraph=True).edges(keys=True))
    check(g.is_directed() and g.ecount() == len(wanted), f"igraph {origin}: {g.ecount()} edges, wanted {len(wanted)}")
    check(sorted(g.es["relation_id"]) == wanted, f"igraph {origin}: relation ids {sorted(g.es['relation_id'])}")
    check("salesforce-vendor-to-cbp" in g.es["relation_id"], f"igraph {origin}: the CBP tie keeps its id")
    ties = [e for e in g.es if e["relation_id"] == "salesforce-vendor-to-cbp"]
    check(g.vs[ties[0].source]["id"] == "salesforce" and g.vs[ties[0].target]["id"] == "cbp",
          f"igraph {origin}: the tie's ends")

# Requests that cannot be answered are the client's: 4xx with a message, never 5xx.
for query, status in [
    ("format=pdf", 400),
    ("scope=all", 400),
    ("format=gexf&scope=galaxy", 400),
    ("format=gexf&scope=neighborhood", 400),
    ("format=gexf&scope=neighborhood&id=nobody", 404),
    ("format=gexf&scope=paths&from=cbp&pattern=not-json", 400),
    ("format=gexf&scope=neighborhood&id=cbp&depth=99", 400),
]:
    response = requests.get(f"{BASE}/export?{query}", timeout=30)
    check(response.status_code == status, f"/export?{query}: {response.status_code}, wanted {status}")
    error = (response.json().get("errors") or [{}])[0]
    check(bool(error.get("message")) and bool((error.get("extensions") or {}).get("code")),
          f"/export?{query}: an error with a message and extensions.code")

print(f"check.py: {checks} checks passed")
