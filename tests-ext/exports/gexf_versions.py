"""Reads tiegraph's GEXF with the stock reader of one NetworkX version, registering nothing.

Usage: gexf_versions.py VERSION ALL.gexf [OTHER.gexf ...]. Asserts that the NetworkX imported is
VERSION (the caller puts it on PYTHONPATH), that the whole-graph file reads to the seed's 12
entities and 17 relations with their kinds and relation ids, and that the others read at all.
"""

import sys

import networkx as nx

version, whole, *others = sys.argv[1:]
assert nx.__version__ == version, f"NetworkX {nx.__version__}, wanted {version}"
G = nx.read_gexf(whole)
assert (G.number_of_nodes(), G.number_of_edges()) == (12, 17), (G.number_of_nodes(), G.number_of_edges())
assert G.nodes["cbp"]["kind"] == "AGENCY", G.nodes["cbp"]
ids = {data.get("id") for _, _, data in G.edges(data=True)}
assert "salesforce-vendor-to-cbp" in ids, sorted(ids)
assert all(data.get("kind") for _, _, data in G.edges(data=True))
for path in others:
    nx.read_gexf(path)
print(f"gexf_versions.py: NetworkX {version} reads {1 + len(others)} GEXF files")
