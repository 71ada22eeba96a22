#!/usr/bin/env python3
"""tiegraph against Kuzu 0.11.3 and NetworkX on one generated graph, in one run.

    python3 bench/run.py                 # 1M entities / 5M relations (DESIGN.md section 5)
    python3 bench/run.py --scale 0.01    # 10k / 50k, a quick check

Phases: generate (tiegraph generate), import (tiegraph import), open-and-serve (tiegraph
serve until /health answers), then on the same data: typed 3-hop traversal, shortest path,
"nonprofits through vendors", over HTTP for tiegraph and in process for Kuzu and NetworkX,
checking that all three give the same answers; then entity lookups and durable writes over
HTTP with examples/loadgen.rs. Writes results.json, report.md and chart.png to
bench/results/<timestamp>/ and copies the report to bench/results/latest.md.

Exits 1 when any answers disagree (after writing the report), so a mismatch is never quiet.
"""

import argparse
import array
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil
import requests

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
T0 = time.perf_counter()

KINDS = ["COMPANY", "AGENCY", "NONPROFIT", "PERSON", "GROUP"]
REL_KINDS = ["VENDOR_TO", "PART_OF", "OFFICER_OF", "EMPLOYEE_OF", "MEMBER_OF", "OWNS", "DONATION",
             "LOBBIED", "PRESSURED", "ASSOCIATED_WITH"]
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
REL_CODE = {k: i for i, k in enumerate(REL_KINDS)}

# The exact typed 3-hop every system computes: the people who are officers of companies that own
# companies that sell to the agency. agency <-VENDOR_TO- COMPANY <-OWNS- COMPANY <-OFFICER_OF- PERSON
THREE_HOP = [("VENDOR_TO", "COMPANY"), ("OWNS", "COMPANY"), ("OFFICER_OF", "PERSON")]

TARGETS = {
    "three_hop": 10.0, "shortest": 10.0, "vendor": 5.0, "lookups": 30_000, "writes": 1_000,
    # Issue 8's store targets: bulk import into an empty store, an import of 1M more relations
    # into the full store, peak RSS throughout, disk (snapshot included) against the JSON lines
    # imported, the first open after an import and later opens.
    "import": 150_000, "import_into_full": 50_000, "open_after_import": 3.0, "open_later": 2.0,
    "rss": 1 << 30, "disk_ratio": 1.0,
}

mismatches = []


def say(message):
    print(f"[{time.perf_counter() - T0:8.1f}s] {message}", flush=True)


def loud(message):
    mismatches.append(message)
    print(f"\033[1;31m!!! MISMATCH: {message}\033[0m", flush=True)


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * q))]


def disk_usage(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def rss_of(pid):
    """(current RSS, peak RSS) of a process, in bytes, from /proc."""
    current = peak = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    return current, peak


def own_rss():
    return psutil.Process().memory_info().rss


def run_timed(command, **kwargs):
    """Runs a command to completion; returns (seconds, peak RSS bytes, stdout)."""
    with tempfile.TemporaryFile("w+") as captured:
        started = time.perf_counter()
        # stderr (the progress bar) goes to the terminal; stdout to a file, which cannot fill up
        # and block the child the way an unread pipe would.
        process = subprocess.Popen(command, stdout=captured, text=True, **kwargs)
        # wait4 gives this child's own peak RSS, not the maximum over every child so far.
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        captured.seek(0)
        out = captured.read()
    if process.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed with status {process.returncode}")
    return elapsed, usage.ru_maxrss * 1024, out


def start_server(args, data_dir, work, label):
    """Starts `tiegraph serve` on `data_dir`; returns the process, its port and the seconds
    from starting it to /health answering."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([args.bin, "serve", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}",
                               "--seed-dir", str(work / "no-seed")], stdout=subprocess.DEVNULL,
                              stderr=open(work / f"server-{label}.log", "w"))
    while True:
        if server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode}; see {work / f'server-{label}.log'}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server, port, time.perf_counter() - started
        except requests.RequestException:
            pass
        time.sleep(0.02)


def stop_server(server):
    """SIGTERM, which saves the index snapshot, then waits."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=120)
    except subprocess.TimeoutExpired:
        server.kill()


def time_open(args, data_dir, work, label):
    """Seconds from starting `tiegraph serve` on `data_dir` to /health answering, and its RSS."""
    server, _, seconds = start_server(args, data_dir, work, label)
    rss = rss_of(server.pid)[0]
    stop_server(server)
    say(f"open ({label}): serving after {seconds:.2f} s, RSS {rss / 2**20:.0f} MiB")
    return seconds, rss


def write_more_relations(path, entities, count, seed):
    """`count` new ASSOCIATED_WITH relations between random entities of the generated graph
    (`e0` .. `e{entities-1}`), each with one claim citing source `s0`: the second import."""
    rng = random.Random(seed + 1)
    with open(path, "w") as out:
        for i in range(count):
            a = rng.randrange(entities)
            b = (a + 1 + rng.randrange(entities - 1)) % entities
            out.write(f'{{"type":"relation","id":"more{i}","kind":"ASSOCIATED_WITH","from":"e{a}","to":"e{b}",'
                      f'"claims":[{{"source":"s0","quote":"e{a} and e{b} are tied, per record more{i}."}}]}}\n')


# ---------------------------------------------------------------------------------------------
# The data, read once from the generated file for Kuzu, NetworkX and the samples.

ENTITY_LINE = re.compile(r'^\{"type":"entity","id":"([^"]+)","kind":"([A-Z]+)"')
RELATION_LINE = re.compile(r'^\{"type":"relation","id":"([^"]+)","kind":"([A-Z_]+)","from":"([^"]+)","to":"([^"]+)"')


class Data:
    """Entities as dense integers; relations as parallel arrays (5M tuples would not fit well)."""

    def __init__(self, path):
        self.ids, self.kinds, self.index = [], bytearray(), {}
        self.rel_ids = []
        self.src, self.dst = array.array("i"), array.array("i")
        self.rkind, self.denied = bytearray(), bytearray()
        with open(path) as lines:
            for line in lines:
                if line.startswith('{"type":"relation"'):
                    m = RELATION_LINE.match(line)
                    if m:
                        rid, kind, a, b = m.groups()
                        denied = '"stance":"ASSERTS"' not in line
                    else:
                        record = json.loads(line)
                        rid, kind, a, b = record["id"], record["kind"], record["from"], record["to"]
                        denied = all(c.get("stance", "ASSERTS") == "DENIES" for c in record["claims"])
                    self.rel_ids.append(rid)
                    self.src.append(self.index[a])
                    self.dst.append(self.index[b])
                    self.rkind.append(REL_CODE[kind])
                    self.denied.append(denied)
                elif line.startswith('{"type":"entity"'):
                    m = ENTITY_LINE.match(line)
                    eid, kind = m.groups() if m else (json.loads(line)["id"], json.loads(line)["kind"])
                    self.index[eid] = len(self.ids)
                    self.ids.append(eid)
                    self.kinds.append(KIND_CODE[kind])

    def live(self):
        """(from, to, kind) of every relation not denied: what every query may cross."""
        for i in range(len(self.src)):
            if not self.denied[i]:
                yield self.src[i], self.dst[i], self.rkind[i]


# ---------------------------------------------------------------------------------------------
# Reference answers computed from plain adjacency lists: tiny, and independent of every system.

def samples(data, rng, count):
    """Start agencies (the top VENDOR_TO hub, then random agencies with a vendor) and entity
    pairs for shortest paths (three pairs touching the highest-degree hubs, then random)."""
    vendors_in, degree = {}, [0] * len(data.ids)
    for a, b, k in data.live():
        degree[a] += 1
        degree[b] += 1
        if k == REL_CODE["VENDOR_TO"] and data.kinds[b] == KIND_CODE["AGENCY"]:
            vendors_in[b] = vendors_in.get(b, 0) + 1
    agencies = sorted(vendors_in)
    hub_agency = max(agencies, key=lambda a: vendors_in[a])
    starts = [hub_agency] + [rng.choice(agencies) for _ in range(count - 1)]
    connected = [i for i, d in enumerate(degree) if d > 0]
    hubs = sorted(connected, key=lambda i: -degree[i])[:3]
    pairs = [(h, rng.choice(connected)) for h in hubs]
    while len(pairs) < count:
        a, b = rng.choice(connected), rng.choice(connected)
        if a != b:
            pairs.append((a, b))
    info = {"hub_agency": data.ids[hub_agency], "hub_agency_vendors": vendors_in[hub_agency],
            "hubs": [(data.ids[h], degree[h]) for h in hubs], "agencies_with_vendors": len(agencies)}
    return [data.ids[s] for s in starts], [(data.ids[a], data.ids[b]) for a, b in pairs], info


# ---------------------------------------------------------------------------------------------
# tiegraph over HTTP.

# 500 per page: the default complexity limit (5,000) refuses 600 and more.
THREE_HOP_GQL = (
    "query($from:ID!,$after:String){connected(from:$from,pattern:["
    + ",".join(f"{{relationKinds:[{k}],direction:IN,entityKinds:[{e}]}}" for k, e in THREE_HOP)
    + "],first:500,after:$after,examples:0){totalCount partial pageInfo{hasNextPage endCursor} nodes{entity{id}}}}"
)
VENDOR_GQL = (
    "query($from:ID!,$after:String){connected(from:$from,pattern:[{relationKinds:[VENDOR_TO],direction:IN},"
    "{direction:ANY,entityKinds:[NONPROFIT]}],first:500,after:$after,examples:0)"
    "{totalCount partial pageInfo{hasNextPage endCursor} nodes{entity{id}}}}"
)
SHORTEST_GQL = "query($a:ID!,$b:ID!){shortestPaths(from:$a,to:$b){length}}"


class Tiegraph:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.url = None
        self.process = None

    def post(self, query, variables):
        answer = requests.post(self.url, json={"query": query, "variables": variables}, timeout=120)
        return answer.json()

    def replay(self, bodies, warmup):
        """Times each body over one keep-alive connection with the load generator, after
        `warmup` untimed ones; returns [(seconds, parsed answer)]."""
        requests_file = self.work / "replay.jsonl"
        out_file = self.work / "replay.tsv"
        warm = bodies[:warmup]
        requests_file.write_text("".join(json.dumps(b) + "\n" for b in warm + bodies))
        subprocess.run([self.args.loadgen, "replay", "--url", self.url, "--requests", requests_file,
                        "--out", out_file], check=True, stdout=subprocess.DEVNULL)
        results = []
        for line in out_file.read_text().splitlines()[len(warm):]:
            micros, status, body = line.split("\t", 2)
            try:
                parsed = json.loads(body)
            except json.JSONDecodeError:
                parsed = {"errors": [{"message": f"HTTP {status}: {body[:200]}"}]}
            results.append((int(micros) / 1e6, parsed))
        return results

    def connected_sets(self, query, starts, label):
        bodies = [{"query": query, "variables": {"from": s}} for s in starts]
        timed = self.replay(bodies, min(10, len(bodies)))
        times, answers = [], []
        for start, (seconds, answer) in zip(starts, timed):
            times.append(seconds)
            if answer.get("errors"):
                loud(f"tiegraph {label} from {start}: {answer['errors'][0].get('message')}")
                answers.append(None)
                continue
            page = answer["data"]["connected"]
            ids = {n["entity"]["id"] for n in page["nodes"]}
            partial = page["partial"]
            # Only the first page is timed; the rest is fetched to compare whole sets.
            while page["pageInfo"]["hasNextPage"]:
                more = self.post(query, {"from": start, "after": page["pageInfo"]["endCursor"]})
                if more.get("errors"):
                    loud(f"tiegraph {label} from {start}, next page: {more['errors'][0].get('message')}")
                    break
                page = more["data"]["connected"]
                ids |= {n["entity"]["id"] for n in page["nodes"]}
                partial = partial or page["partial"]
            if partial:
                loud(f"tiegraph {label} from {start}: answer is partial (search budget spent)")
            answers.append(ids)
        return times, answers

    def shortest(self, pairs):
        bodies = [{"query": SHORTEST_GQL, "variables": {"a": a, "b": b}} for a, b in pairs]
        timed = self.replay(bodies, min(10, len(bodies)))
        times, lengths = [], []
        for (a, b), (seconds, answer) in zip(pairs, timed):
            times.append(seconds)
            if answer.get("errors"):
                loud(f"tiegraph shortest {a}-{b}: {answer['errors'][0].get('message')}")
                lengths.append("error")
                continue
            paths = answer["data"]["shortestPaths"]
            lengths.append(paths[0]["length"] if paths else None)
        return times, lengths


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadgen(args, mode, *extra):
    out = subprocess.run([args.loadgen, mode, *map(str, extra)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Kuzu, embedded.

KUZU_THREE_HOP = """
MATCH (a:Entity {id: $id})<-[r1:Rel]-(x:Entity) WHERE r1.kind = 'VENDOR_TO' AND NOT r1.denied AND x.kind = 'COMPANY'
WITH DISTINCT x
MATCH (x)<-[r2:Rel]-(y:Entity) WHERE r2.kind = 'OWNS' AND NOT r2.denied AND y.kind = 'COMPANY'
WITH DISTINCT y
MATCH (y)<-[r3:Rel]-(z:Entity) WHERE r3.kind = 'OFFICER_OF' AND NOT r3.denied AND z.kind = 'PERSON'
RETURN DISTINCT z.id
"""
KUZU_VENDOR = """
MATCH (a:Entity {id: $id})<-[r1:Rel]-(v:Entity) WHERE r1.kind = 'VENDOR_TO' AND NOT r1.denied
WITH DISTINCT v
MATCH (v)-[r2:Rel]-(n:Entity) WHERE NOT r2.denied AND n.kind = 'NONPROFIT'
RETURN DISTINCT n.id
"""
KUZU_SHORTEST = """
MATCH p = (a:Entity {id: $a})-[:Rel* SHORTEST 1..12 (r, n | WHERE NOT r.denied)]-(b:Entity {id: $b})
RETURN length(p) LIMIT 1
"""


def kuzu_phase(args, data, work, starts, pairs, results):
    import kuzu

    say(f"kuzu {kuzu.__version__}: writing CSV files")
    rss_before = own_rss()
    started = time.perf_counter()
    entities_csv, rels_csv = work / "entities.csv", work / "rels.csv"
    with open(entities_csv, "w") as out:
        out.write("id,kind\n")
        for eid, kind in zip(data.ids, data.kinds):
            out.write(f"{eid},{KINDS[kind]}\n")
    with open(rels_csv, "w") as out:
        out.write("from,to,id,kind,denied\n")
        for i in range(len(data.src)):
            out.write(f"{data.ids[data.src[i]]},{data.ids[data.dst[i]]},{data.rel_ids[i]},"
                      f"{REL_KINDS[data.rkind[i]]},{'true' if data.denied[i] else 'false'}\n")
    results["kuzu_csv_seconds"] = time.perf_counter() - started

    say("kuzu: COPY FROM the CSV files")
    db_path = work / "kuzu.db"
    before = own_rss()
    started = time.perf_counter()
    db = kuzu.Database(str(db_path))
    conn = kuzu.Connection(db)
    conn.execute("CREATE NODE TABLE Entity(id STRING, kind STRING, PRIMARY KEY (id))")
    conn.execute("CREATE REL TABLE Rel(FROM Entity TO Entity, id STRING, kind STRING, denied BOOLEAN)")
    conn.execute(f"COPY Entity FROM '{entities_csv}' (header=true)")
    conn.execute(f"COPY Rel FROM '{rels_csv}' (header=true)")
    results["kuzu_import_seconds"] = time.perf_counter() - started
    results["kuzu_import_rss_delta"] = own_rss() - before
    say(f"kuzu: imported in {results['kuzu_import_seconds']:.1f} s")
    del conn, db

    before = own_rss()
    started = time.perf_counter()
    db = kuzu.Database(str(db_path))
    conn = kuzu.Connection(db)
    conn.execute("MATCH (n:Entity) RETURN count(*)").get_all()
    results["kuzu_open_seconds"] = time.perf_counter() - started
    results["kuzu_disk_bytes"] = disk_usage(db_path) if db_path.is_dir() else os.path.getsize(db_path)

    if "more_file" in results:
        more_csv = work / "more.csv"
        with open(results["more_file"]) as lines, open(more_csv, "w") as out:
            out.write("from,to,id,kind,denied\n")
            for line in lines:
                m = RELATION_LINE.match(line)
                if m:
                    out.write(f"{m.group(3)},{m.group(4)},{m.group(1)},{m.group(2)},false\n")
        started = time.perf_counter()
        conn.execute(f"COPY Rel FROM '{more_csv}' (header=true)")
        results["kuzu_import_more_seconds"] = time.perf_counter() - started
        results["kuzu_disk_bytes_after_more"] = disk_usage(db_path) if db_path.is_dir() else os.path.getsize(db_path)
        say(f"kuzu: {results['more_relations']:,} more relations in {results['kuzu_import_more_seconds']:.1f} s")
    if args.store_only:
        return

    def run(query, params_list, label):
        for params in params_list[:min(10, len(params_list))]:
            conn.execute(query, params).get_all()
        times, answers = [], []
        for params in params_list:
            t = time.perf_counter()
            rows = conn.execute(query, params).get_all()
            times.append(time.perf_counter() - t)
            answers.append(rows)
        say(f"kuzu {label}: p50 {percentile(times, .5) * 1e3:.2f} ms")
        return times, answers

    t, rows = run(KUZU_THREE_HOP, [{"id": s} for s in starts], "3-hop")
    results["kuzu_three_hop"] = (t, [{r[0] for r in rs} for rs in rows])
    t, rows = run(KUZU_VENDOR, [{"id": s} for s in starts], "vendor pattern")
    results["kuzu_vendor"] = (t, [{r[0] for r in rs} for rs in rows])
    t, rows = run(KUZU_SHORTEST, [{"a": a, "b": b} for a, b in pairs], "shortest path")
    results["kuzu_shortest"] = (t, [rs[0][0] if rs else None for rs in rows])
    results["kuzu_rss_delta"] = own_rss() - rss_before
    del conn, db


# ---------------------------------------------------------------------------------------------
# NetworkX, in process.

def networkx_phase(data, starts, pairs, results):
    import networkx as nx

    say(f"networkx {nx.__version__}: building the graph")
    before = own_rss()
    started = time.perf_counter()
    graph = nx.MultiDiGraph()
    graph.add_nodes_from((i, {"kind": k}) for i, k in enumerate(data.kinds))
    graph.add_edges_from((a, b, {"kind": k}) for a, b, k in data.live())
    results["networkx_load_seconds"] = time.perf_counter() - started + results["parse_seconds"]
    results["networkx_rss_delta"] = own_rss() - before
    say(f"networkx: built in {time.perf_counter() - started:.1f} s")
    kinds, pred, adj = data.kinds, graph._pred, graph._adj
    undirected = graph.to_undirected(as_view=True)

    def hop_in(frontier, rel, end_kind):
        found = set()
        for n in frontier:
            for u, keyed in pred[n].items():
                if (end_kind is None or kinds[u] == end_kind) and any(d["kind"] == rel for d in keyed.values()):
                    found.add(u)
        return found

    def three_hop(start):
        frontier = {data.index[start]}
        for rel, end in THREE_HOP:
            frontier = hop_in(frontier, REL_CODE[rel], KIND_CODE[end])
        return {data.ids[n] for n in frontier}

    def vendor(start):
        vendors = hop_in({data.index[start]}, REL_CODE["VENDOR_TO"], None)
        nonprofit = KIND_CODE["NONPROFIT"]
        found = set()
        for v in vendors:
            for n in list(adj[v]) + list(pred[v]):
                if kinds[n] == nonprofit:
                    found.add(n)
        return {data.ids[n] for n in found}

    def shortest(pair):
        try:
            return nx.shortest_path_length(undirected, data.index[pair[0]], data.index[pair[1]])
        except nx.NetworkXNoPath:
            return None

    def run(function, inputs, label):
        for x in inputs[:min(10, len(inputs))]:
            function(x)
        times, answers = [], []
        for x in inputs:
            t = time.perf_counter()
            answers.append(function(x))
            times.append(time.perf_counter() - t)
        say(f"networkx {label}: p50 {percentile(times, .5) * 1e3:.2f} ms")
        return times, answers

    results["networkx_three_hop"] = run(three_hop, starts, "3-hop")
    results["networkx_vendor"] = run(vendor, starts, "vendor pattern")
    results["networkx_shortest"] = run(shortest, pairs, "shortest path")
    results["networkx_rss_delta"] = own_rss() - before
    del graph, undirected


# ---------------------------------------------------------------------------------------------

def compare(label, keys, answers):
    """answers: {system: [answer per key]}; reports every disagreement."""
    systems = [s for s in answers if answers[s] is not None]
    agree = 0
    for i, key in enumerate(keys):
        values = {s: answers[s][i] for s in systems}
        reference = values[systems[0]]
        if all(v == reference for v in values.values()):
            agree += 1
            continue
        detail = []
        for s, v in values.items():
            if isinstance(v, set):
                detail.append(f"{s}: {len(v)} ids")
            else:
                detail.append(f"{s}: {v}")
        if all(isinstance(v, set) for v in values.values()):
            first, second = values[systems[0]], values[systems[1]]
            only = sorted(first - second)[:3], sorted(second - first)[:3]
            detail.append(f"only {systems[0]}: {only[0]}, only {systems[1]}: {only[1]}")
        loud(f"{label} {key}: " + "; ".join(detail))
    say(f"{label}: {agree}/{len(keys)} answers agree across {', '.join(systems)}")
    return agree


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M entities / 5M relations")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=100, help="queries per traversal workload")
    parser.add_argument("--bin", default=str(REPO / "target/release/tiegraph"))
    parser.add_argument("--loadgen", default=str(REPO / "target/release/examples/loadgen"))
    parser.add_argument("--work", help="where the generated file and stores go (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--lookup-seconds", type=float, default=10.0)
    parser.add_argument("--lookup-connections", type=int, default=64)
    parser.add_argument("--write-seconds", type=float, default=5.0)
    parser.add_argument("--no-kuzu", action="store_true")
    parser.add_argument("--no-networkx", action="store_true")
    parser.add_argument("--no-build", action="store_true", help="use the binaries as they are")
    parser.add_argument("--store-only", action="store_true",
                        help="only the store phases: import, opens, the second import (and Kuzu's COPY)")
    args = parser.parse_args()

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir = BENCH / "results" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="tiegraph-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    entities, relations = int(1_000_000 * args.scale), int(5_000_000 * args.scale)
    results = {"scale": args.scale, "entities": entities, "relations": relations, "seed": args.seed,
               "store_only": args.store_only,
               "samples": args.samples, "started": stamp, "cpus": os.cpu_count(),
               "memory_bytes": psutil.virtual_memory().total}
    say(f"results in {out_dir}, work in {work}")

    if not args.no_build:
        say("building tiegraph and the load generator (release)")
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "tiegraph", "--example", "loadgen"],
                       cwd=REPO, check=True)
    results["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                       text=True).stdout.strip()

    graph_file = work / "graph.jsonl"
    say(f"generating {entities:,} entities and {relations:,} relations")
    seconds, _, _ = run_timed([args.bin, "generate", "--entities", str(entities), "--relations", str(relations),
                               "--seed", str(args.seed), "--out", str(graph_file)])
    results["generate_seconds"] = seconds
    results["raw_bytes"] = graph_file.stat().st_size
    say(f"generated {results['raw_bytes'] / 1e6:.1f} MB in {seconds:.1f} s")

    data_dir = work / "store"
    say("importing into tiegraph")
    seconds, peak, out = run_timed([args.bin, "import", str(graph_file), "--data-dir", str(data_dir)])
    results["import_seconds"] = seconds
    results["import_rate"] = relations / seconds
    results["import_peak_rss"] = peak
    results["disk_bytes"] = disk_usage(data_dir)
    say(f"imported in {seconds:.1f} s: {relations / seconds:,.0f} relations/s, peak RSS {peak / 2**20:.0f} MiB, "
        f"store {results['disk_bytes'] / 1e6:.1f} MB ({results['disk_bytes'] / results['raw_bytes']:.2f}x raw)")

    say("reading the generated file for the other systems")
    started = time.perf_counter()
    data = Data(graph_file)
    results["parse_seconds"] = time.perf_counter() - started
    rng = random.Random(args.seed)
    starts, pairs, info = samples(data, rng, args.samples)
    results["sample_info"] = info
    say(f"read in {results['parse_seconds']:.1f} s; hub agency {info['hub_agency']} has {info['hub_agency_vendors']} "
        f"vendors; top hubs {info['hubs']}")

    if args.store_only:
        results["open_and_serve_seconds"], results["server_rss_open"] = time_open(args, data_dir, work, "after import")
        results["server_rss_peak"] = results["server_rss_open"]
    else:
        tiegraph = Tiegraph(args, work)
        say("starting tiegraph serve")
        server, port, results["open_and_serve_seconds"] = start_server(args, data_dir, work, "queries")
        tiegraph.url = f"http://127.0.0.1:{port}/graphql"
        try:
            results["server_rss_open"] = rss_of(server.pid)[0]
            say(f"serving after {results['open_and_serve_seconds']:.2f} s, RSS {results['server_rss_open'] / 2**20:.0f} MiB")

            say("tiegraph: 3-hop")
            results["tiegraph_three_hop"] = tiegraph.connected_sets(THREE_HOP_GQL, starts, "3-hop")
            say(f"tiegraph 3-hop: p50 {percentile(results['tiegraph_three_hop'][0], .5) * 1e3:.2f} ms")
            say("tiegraph: vendor pattern")
            results["tiegraph_vendor"] = tiegraph.connected_sets(VENDOR_GQL, starts, "vendor pattern")
            say(f"tiegraph vendor pattern: p50 {percentile(results['tiegraph_vendor'][0], .5) * 1e3:.2f} ms")
            say("tiegraph: shortest paths")
            results["tiegraph_shortest"] = tiegraph.shortest(pairs)
            say(f"tiegraph shortest path: p50 {percentile(results['tiegraph_shortest'][0], .5) * 1e3:.2f} ms")

            ids_file = work / "lookup-ids.txt"
            ids_file.write_text("\n".join(rng.sample(data.ids, min(10_000, len(data.ids)))) + "\n")
            say(f"tiegraph: entity lookups, {args.lookup_connections} connections, {args.lookup_seconds:.0f} s")
            results["lookups"] = loadgen(args, "lookup", "--url", tiegraph.url, "--ids", ids_file, "--connections",
                                         args.lookup_connections, "--seconds", args.lookup_seconds)
            say(f"lookups: {results['lookups']}")
            for clients in (1, 4):
                say(f"tiegraph: createEntity writes, {clients} client(s), {args.write_seconds:.0f} s")
                results[f"writes_{clients}"] = loadgen(args, "write", "--url", tiegraph.url, "--connections", clients,
                                                       "--seconds", args.write_seconds, "--prefix", f"bench-{stamp.lower()}-{clients}")
                say(f"writes ({clients}): {results[f'writes_{clients}']}")
            results["server_rss_end"], results["server_rss_peak"] = rss_of(server.pid)
        finally:
            stop_server(server)

    say("opening again (the snapshot saved at shutdown)")
    results["open_later_seconds"] = [time_open(args, data_dir, work, f"later {i}")[0] for i in (1, 2)]

    more = int(1_000_000 * args.scale)
    more_file = work / "more.jsonl"
    write_more_relations(more_file, entities, more, args.seed)
    results["more_relations"], results["more_raw_bytes"] = more, more_file.stat().st_size
    say(f"importing {more:,} more relations into the full store")
    seconds, peak, out = run_timed([args.bin, "import", str(more_file), "--data-dir", str(data_dir)])
    results["import_into_full_seconds"] = seconds
    results["import_into_full_rate"] = more / seconds
    results["import_into_full_peak_rss"] = peak
    results["disk_bytes_after_more"] = disk_usage(data_dir)
    say(f"imported in {seconds:.1f} s: {more / seconds:,.0f} relations/s, peak RSS {peak / 2**20:.0f} MiB, "
        f"store {results['disk_bytes_after_more'] / 1e6:.1f} MB")
    results["open_after_more_seconds"] = time_open(args, data_dir, work, "after the second import")[0]
    results["open_after_more_later_seconds"] = time_open(args, data_dir, work, "later, after the second import")[0]
    results["more_file"] = str(more_file)

    if not args.no_kuzu:
        kuzu_phase(args, data, work, starts, pairs, results)
    if not args.no_networkx and not args.store_only:
        networkx_phase(data, starts, pairs, results)

    say("checking that the answers agree")
    for key, label, inputs in (("three_hop", "3-hop", starts), ("vendor", "vendor pattern", starts),
                               ("shortest", "shortest path", [f"{a}~{b}" for a, b in pairs])):
        answers = {s: results[f"{s}_{key}"][1] for s in ("tiegraph", "kuzu", "networkx") if f"{s}_{key}" in results}
        results[f"agree_{key}"] = compare(label, inputs, answers) if "tiegraph" in answers else None
    for key in ("three_hop", "vendor"):
        sizes = [len(s) for s in results.get(f"tiegraph_{key}", [[], []])[1] if s is not None]
        results[f"{key}_answer_sizes"] = {"max": max(sizes, default=0), "p50": percentile(sizes, .5) if sizes else 0}
    results["mismatches"] = mismatches

    report = write_report(results, out_dir)
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)
    print(report)
    if mismatches:
        print(f"\033[1;31m{len(mismatches)} MISMATCHES: see the report\033[0m")
        sys.exit(1)


def write_report(results, out_dir):
    def lat(system, key):
        entry = results.get(f"{system}_{key}")
        if not entry:
            return None
        return percentile(entry[0], .5) * 1e3, percentile(entry[0], .99) * 1e3

    rows = []

    def fmt(x, unit=""):
        return "n/a" if x is None else f"{x:,.2f}{unit}" if isinstance(x, float) else f"{x:,}{unit}"

    if not results.get("store_only"):
        for key, label in (("three_hop", "typed 3-hop, p50 (p99) ms"), ("shortest", "shortest path, p50 (p99) ms"),
                           ("vendor", "vendor pattern, p50 (p99) ms")):
            t, k, n = lat("tiegraph", key), lat("kuzu", key), lat("networkx", key)
            anchors = [x[0] for x in (k, n) if x]
            ratio = min(anchors) / t[0] if anchors and t and t[0] > 0 else None
            cell = lambda x: "n/a" if x is None else f"{x[0]:.2f} ({x[1]:.2f})"
            met = ratio is not None and ratio >= TARGETS[key]
            rows.append((label, cell(t), cell(k), cell(n), f"{ratio:.2f}x" if ratio else "n/a",
                         f">= {TARGETS[key]:.0f}x", "yes" if met else "NO"))
        look = results.get("lookups", {})
        rows.append(("entity lookups over HTTP, req/s", fmt(look.get("rate")), "", "", "", ">= 30,000",
                     "yes" if look.get("rate", 0) >= TARGETS["lookups"] else "NO"))
        for clients in (1, 4):
            w = results.get(f"writes_{clients}", {})
            rows.append((f"durable writes, {clients} client(s), /s", fmt(w.get("rate")), "", "", "", ">= 1,000",
                         "yes" if w.get("rate", 0) >= TARGETS["writes"] else "NO"))
    kuzu_rate = lambda n, key: fmt(n / results[key]) if key in results else "n/a"
    rows.append(("bulk import into an empty store, relations/s", fmt(results["import_rate"]),
                 kuzu_rate(results["relations"], "kuzu_import_seconds") + " (COPY)", "", "", ">= 150,000",
                 "yes" if results["import_rate"] >= TARGETS["import"] else "NO"))
    rows.append((f"import of {results['more_relations']:,} more relations into the full store, relations/s",
                 fmt(results["import_into_full_rate"]),
                 kuzu_rate(results["more_relations"], "kuzu_import_more_seconds") + " (COPY)", "", "", ">= 50,000",
                 "yes" if results["import_into_full_rate"] >= TARGETS["import_into_full"] else "NO"))
    firsts = [results["open_and_serve_seconds"], results["open_after_more_seconds"]]
    rows.append(("first open after an import (empty store / full store), s",
                 " / ".join(fmt(x) for x in firsts), f"{fmt(results.get('kuzu_open_seconds'))} reopen",
                 fmt(results.get("networkx_load_seconds")), "", "<= 3",
                 "yes" if max(firsts) <= TARGETS["open_after_import"] else "NO"))
    laters = results["open_later_seconds"] + [results["open_after_more_later_seconds"]]
    rows.append(("later opens, s", " / ".join(fmt(x) for x in laters), "", "", "", "<= 2",
                 "yes" if max(laters) <= TARGETS["open_later"] else "NO"))
    mib = lambda b: None if b is None else b / 2**20
    peak = max(results["server_rss_peak"], results["import_peak_rss"], results["import_into_full_peak_rss"])
    rows.append(("RSS, MiB (server after open / server peak / imports' peaks; others: process delta)",
                 f"{mib(results['server_rss_open']):,.0f} / {mib(results['server_rss_peak']):,.0f} / "
                 f"{mib(results['import_peak_rss']):,.0f}, {mib(results['import_into_full_peak_rss']):,.0f}",
                 fmt(mib(results.get("kuzu_rss_delta"))), fmt(mib(results.get("networkx_rss_delta"))), "", "<= 1,024",
                 "yes" if peak <= TARGETS["rss"] else "NO"))
    ratio = results["disk_bytes"] / results["raw_bytes"]
    ratio_more = results["disk_bytes_after_more"] / (results["raw_bytes"] + results["more_raw_bytes"])
    rows.append(("disk incl. snapshot, MB (x the JSON lines imported), after the first / second import",
                 f"{results['disk_bytes'] / 1e6:,.1f} ({ratio:.2f}x) / {results['disk_bytes_after_more'] / 1e6:,.1f} "
                 f"({ratio_more:.2f}x)",
                 f"{results['kuzu_disk_bytes'] / 1e6:,.1f} / {results.get('kuzu_disk_bytes_after_more', 0) / 1e6:,.1f}"
                 if "kuzu_disk_bytes" in results else "n/a", "", "",
                 "<= 1x", "yes" if max(ratio, ratio_more) <= TARGETS["disk_ratio"] else "NO"))

    lines = [f"# tiegraph benchmark, {results['started']}", "",
             f"Scale {results['scale']}: {results['entities']:,} entities, {results['relations']:,} relations "
             f"(seed {results['seed']}, raw file {results['raw_bytes'] / 1e6:,.1f} MB), commit {results['commit']}, "
             f"{results['cpus']} CPUs, {results['memory_bytes'] / 2**30:.0f} GiB. tiegraph over HTTP (one keep-alive "
             f"connection, examples/loadgen.rs); Kuzu and NetworkX in process. {results['samples']} queries per "
             "traversal workload (start agencies: the top VENDOR_TO hub and random agencies with a vendor; pairs: "
             "three touching the highest-degree hubs, then random). Ratio = the faster anchor's p50 / tiegraph's p50.",
             "", "| workload | tiegraph | Kuzu 0.11.3 | NetworkX | ratio | target | met |",
             "|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if not results["store_only"]:
        lines += ["", "## Answers",
                  f"- 3-hop ({' <- '.join(f'{k} {e}' for k, e in THREE_HOP)}): {results['agree_three_hop']}/{results['samples']} agree; "
                  f"answer sizes p50 {results['three_hop_answer_sizes']['p50']}, max {results['three_hop_answer_sizes']['max']}",
                  f"- vendor pattern: {results['agree_vendor']}/{results['samples']} agree; answer sizes p50 "
                  f"{results['vendor_answer_sizes']['p50']}, max {results['vendor_answer_sizes']['max']}",
                  f"- shortest path lengths: {results['agree_shortest']}/{len(results.get('tiegraph_shortest', [[], []])[1])} agree",
                  f"- hubs: agency {results['sample_info']['hub_agency']} with {results['sample_info']['hub_agency_vendors']} "
                  f"vendors; highest degrees {results['sample_info']['hubs']}"]
    if results["mismatches"]:
        lines += ["", f"## MISMATCHES ({len(results['mismatches'])})", ""]
        lines += [f"- {m}" for m in results["mismatches"][:50]]
    lines += ["", "## Other figures",
              f"- generate: {results['generate_seconds']:.1f} s; import: {results['import_seconds']:.1f} s, peak RSS "
              f"{results['import_peak_rss'] / 2**20:,.0f} MiB; second import ({results['more_relations']:,} relations): "
              f"{results['import_into_full_seconds']:.1f} s, peak RSS {results['import_into_full_peak_rss'] / 2**20:,.0f} MiB",
              f"- Kuzu COPY of the same {results['more_relations']:,} relations: {fmt(results.get('kuzu_import_more_seconds'))} s",
              f"- lookups: {json.dumps(results.get('lookups'))}",
              f"- writes, 1 client: {json.dumps(results.get('writes_1'))}",
              f"- writes, 4 clients: {json.dumps(results.get('writes_4'))}",
              f"- Kuzu: CSV derivation {fmt(results.get('kuzu_csv_seconds'))} s, COPY {fmt(results.get('kuzu_import_seconds'))} s, "
              f"reopen {fmt(results.get('kuzu_open_seconds'))} s",
              f"- NetworkX: load {fmt(results.get('networkx_load_seconds'))} s (parse {results['parse_seconds']:.1f} s + build)",
              "", "![chart](chart.png)", ""]
    report = "\n".join(lines)
    (out_dir / "report.md").write_text(report)
    (BENCH / "results" / "latest.md").write_text(report.replace("](chart.png)", f"]({out_dir.name}/chart.png)"))
    serialisable = {k: (list(map(list_or_value, v)) if isinstance(v, tuple) else v) for k, v in results.items()}
    (out_dir / "results.json").write_text(json.dumps(serialisable, indent=1, default=str))
    chart(results, out_dir / "chart.png")
    return report


def list_or_value(v):
    return [sorted(x) if isinstance(x, set) else x for x in v] if isinstance(v, list) else v


def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = [("three_hop", "typed 3-hop"), ("shortest", "shortest path"), ("vendor", "vendor pattern")]
    systems = [("tiegraph", "tiegraph (HTTP)"), ("kuzu", "Kuzu 0.11.3"), ("networkx", "NetworkX")]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.25
    for j, (system, label) in enumerate(systems):
        p50, p99 = [], []
        for key, _ in workloads:
            entry = results.get(f"{system}_{key}")
            p50.append(percentile(entry[0], .5) * 1e3 if entry else 0)
            p99.append(percentile(entry[0], .99) * 1e3 if entry else 0)
        xs = [i + (j - 1) * width for i in range(len(workloads))]
        axes[0].bar(xs, p50, width, label=f"{label} p50")
        axes[0].scatter(xs, p99, marker="_", s=200, color="black")
    axes[0].set_xticks(range(len(workloads)), [w[1] for w in workloads])
    axes[0].set_yscale("log")
    axes[0].set_ylabel("ms (bars p50, ticks p99; log)")
    axes[0].legend()
    axes[0].set_title(f"queries at {results['entities']:,} / {results['relations']:,}")
    loads = [("tiegraph\nimport", results["import_seconds"]), ("tiegraph\nopen+serve", results["open_and_serve_seconds"]),
             ("Kuzu\nCOPY", results.get("kuzu_import_seconds", 0)), ("Kuzu\nreopen", results.get("kuzu_open_seconds", 0)),
             ("NetworkX\nload", results.get("networkx_load_seconds", 0))]
    axes[1].bar([l[0] for l in loads], [l[1] for l in loads], color="tab:gray")
    axes[1].set_ylabel("seconds")
    axes[1].set_title("load and start")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
