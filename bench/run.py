#!/usr/bin/env python3
"""tiegraph against Kuzu 0.11.3 and NetworkX on one generated graph, in one run.

    python3 bench/run.py                 # 1M entities / 5M relations (DESIGN.md section 5)
    python3 bench/run.py --scale 0.02    # 20k / 100k, a quick check of the harness

Phases: generate (tiegraph generate), import (tiegraph import), open-and-serve (tiegraph serve
until /health answers); then the workloads of issue 9 item 7, sampled as analysts ask:
  3-hop          from entities with a VENDOR_TO or OWNS tie: (start)-[VENDOR_TO|OWNS]-(a)
                 -[OFFICER_OF|EMPLOYEE_OF|MEMBER_OF]-(b)-[any]-(x:NONPROFIT), any direction;
                 the number of distinct x other than the start;
  vendor         from agencies with an incoming VENDOR_TO: (start)<-VENDOR_TO-(v)-[any]-(n:NONPROFIT);
                 every n's id, all pages fetched and parsed by the client;
  shortest path  between entities that have a tie: the length of a shortest path either way;
denied ties skipped everywhere. tiegraph is measured over HTTP (one keep-alive connection,
http.client), Kuzu and NetworkX in process, and every answer is compared. Then: server RSS under 64
concurrent worst-case 3-hop searches, entity lookups and durable writes over HTTP with
examples/loadgen.rs, the store phases (reopen, a second import) and Kuzu's COPY. Writes
results.json, report.md and chart.png to bench/results/<timestamp>/ and copies the report and chart
to bench/results/latest.md and latest.png.

Exits 1 when any answers disagree (after writing the report), so a mismatch is never quiet.
"""

import argparse
import array
import http.client
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
import threading
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

MIB = 2**20

# Issue 9's targets (tiegraph over HTTP at 1M / 5M): p50 and p99 in ms per workload, lookups per
# second, server RSS after open and under 64 concurrent worst-case searches.
QUERY_TARGETS = {"three_hop": (3.0, 140.0), "vendor": (0.4, 18.0), "shortest": (0.5, 8.0)}
TARGETS = {
    "lookups": 30_000, "writes": 1_000, "rss_open": 1 << 30, "rss_concurrent": 3 << 29,
    # Issue 8's store targets: bulk import into an empty store, an import of 1M more relations
    # into the full store, peak RSS throughout, disk (snapshot included) against the JSON lines
    # imported, the first open after an import and later opens.
    "import": 150_000, "import_into_full": 50_000, "open_after_import": 3.0, "open_later": 2.0,
    "rss": 1 << 30, "disk_ratio": 1.0,
    # The USAspending reader's target: transaction rows of a contracts CSV into an empty store.
    "usaspending": 100_000,
}
WORKLOADS = [("three_hop", "3-hop"), ("vendor", "vendor pattern, full answer"), ("shortest", "shortest path")]
SYSTEMS = [("tiegraph", "tiegraph (HTTP)"), ("kuzu", "Kuzu 0.11.3"), ("networkx", "NetworkX")]

# The hops of the 3-hop, as (relation kinds or None for any, end kind or None): every hop ANY way.
THREE_HOP = [(("VENDOR_TO", "OWNS"), None), (("OFFICER_OF", "EMPLOYEE_OF", "MEMBER_OF"), None), (None, "NONPROFIT")]
# The vendor pattern: (relation kinds, direction from the start's side, end kind).
VENDOR = [(("VENDOR_TO",), "IN", None), (None, "ANY", "NONPROFIT")]

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


# The columns of a USAspending prime transactions download this harness writes, in the
# download's order: those the reader uses and some it ignores, as a real file has them.
USASPENDING_HEADER = ("contract_transaction_unique_key,contract_award_unique_key,award_id_piid,modification_number,"
                      "transaction_number,parent_award_agency_id,parent_award_agency_name,parent_award_id_piid,"
                      "parent_award_modification_number,federal_action_obligation,total_dollars_obligated,"
                      "total_outlayed_amount_for_overall_award,base_and_exercised_options_value,"
                      "current_total_value_of_award,base_and_all_options_value,potential_total_value_of_award,"
                      "action_date,action_date_fiscal_year,period_of_performance_start_date,"
                      "period_of_performance_current_end_date,period_of_performance_potential_end_date,"
                      "ordering_period_end_date,solicitation_date,awarding_agency_code,awarding_agency_name,"
                      "awarding_sub_agency_code,awarding_sub_agency_name,awarding_office_code,awarding_office_name,"
                      "funding_agency_code,funding_agency_name,funding_sub_agency_code,funding_sub_agency_name,"
                      "recipient_uei,recipient_duns,recipient_name,recipient_name_raw,cage_code,recipient_parent_uei,"
                      "recipient_parent_duns,recipient_parent_name,recipient_parent_name_raw,award_type_code,award_type,"
                      "idv_type_code,idv_type,transaction_description,naics_code,usaspending_permalink,"
                      "initial_report_date,last_modified_date")


def write_usaspending(path, rows, awards, recipients, seed):
    """A made-up USAspending prime transactions CSV: `rows` transactions over `awards` awards of
    `recipients` recipients (one in ten with a parent among the others) and 20 agencies of 10
    sub-agencies each, every award's rows apart in the file as a download orders them (by date)."""
    rng = random.Random(seed + 2)
    types = [("A", "BPA CALL"), ("B", "PURCHASE ORDER"), ("C", "DELIVERY ORDER"), ("D", "DEFINITIVE CONTRACT")]
    award_info = []
    for a in range(awards):
        r = rng.randrange(recipients)
        top = rng.randrange(20)
        sub = top * 10 + rng.randrange(10)
        year = 2015 + rng.randrange(10)
        award_info.append((r, top, sub, year, types[a % 4]))
    with open(path, "w") as out:
        out.write(USASPENDING_HEADER + "\n")
        for i in range(rows):
            a = i % awards
            modification = i // awards
            r, top, sub, year, (code, name) = award_info[a]
            parent = (r * 7 + 3) % recipients if r % 10 == 0 else r
            key = f"CONT_AWD_BENCH{a:08d}_{sub:04d}_-NONE-_-NONE-"
            month = 1 + modification % 12
            action = f"{year + modification // 12}-{month:02d}-15"
            obligation = f"{rng.randrange(-1000, 1_000_000) / 100:.2f}"
            out.write(
                f"{key}_{modification},{key},BENCH{a:08d},{modification},0,,,,,{obligation},0,0,0,0,0,0,{action},{year},"
                f"{year}-01-01,{year + 3}-12-31,{year + 5}-12-31,,,{top:03d},Bench Department {top},{sub:04d},"
                f"Bench Sub-Agency {sub},BO{sub},BENCH OFFICE,{top:03d},Bench Department {top},{sub:04d},"
                f"Bench Sub-Agency {sub},BNCH{r:08d},,Bench Recipient {r} LLC,BENCH RECIPIENT {r} LLC,,"
                f"BNCH{parent:08d},,Bench Recipient {parent} LLC,,{code},{name},,,BENCH WORK {a},541519,"
                f"https://www.usaspending.gov/award/{key}/,{action},{action} 12:00:00\n")


def usaspending_phase(args, work, results):
    """`tiegraph import --format usaspending` of a generated transactions CSV into an empty store:
    rows/s over the whole command (reading, folding, checking, writing) and its peak RSS."""
    rows = args.usaspending_rows
    awards = max(1, rows // 10)
    recipients = max(2, rows // 50)
    path = work / "usaspending-transactions.csv"
    say(f"generating a USAspending transactions CSV: {rows:,} rows, {awards:,} awards, {recipients:,} recipients")
    write_usaspending(path, rows, awards, recipients, args.seed)
    store = work / "usaspending-store"
    shutil.rmtree(store, ignore_errors=True)
    say("importing it with --format usaspending")
    seconds, peak, out = run_timed([args.bin, "import", "--format", "usaspending", "--data-dir", str(store), str(path)])
    results.update({"usaspending_rows": rows, "usaspending_awards": awards, "usaspending_recipients": recipients,
                    "usaspending_bytes": path.stat().st_size, "usaspending_seconds": seconds,
                    "usaspending_rate": rows / seconds, "usaspending_peak_rss": peak,
                    "usaspending_summary": out.strip()})
    say(f"imported {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {seconds:.1f} s: {rows / seconds:,.0f} rows/s, "
        f"peak RSS {peak / MIB:.0f} MiB; {out.strip().splitlines()[0] if out.strip() else ''}")


def write_resolution_file(path, count, identifiers, offset):
    """`count` company records with ids of their own, each tied to the base graph's entity e<i>
    by one ASSOCIATED_WITH relation with a claim. `identifiers`: None (no identifiers), "fresh"
    (a UEI nobody holds: every lookup misses) or "held" (the UEI `tiegraph generate` gave one in
    four base companies: every record resolves to that company)."""
    with open(path, "w") as out:
        out.write('{"type":"source","id":"resolution-bench","title":"Resolution benchmark"}\n')
        for i in range(count):
            e = offset + i * 4
            ident = ""
            if identifiers == "fresh":
                ident = f',"identifiers":[{{"scheme":"uei","value":"FRESH{e:010d}"}}]'
            elif identifiers == "held":
                ident = f',"identifiers":[{{"scheme":"uei","value":"U{e:011}"}}]'
            out.write(f'{{"type":"entity","id":"x{e}","kind":"COMPANY","name":"Record {e} LLC"{ident}}}\n')
            out.write(f'{{"type":"relation","kind":"ASSOCIATED_WITH","from":"x{e}","to":"e{(e + 1) % max(1, offset)}",'
                      f'"claims":[{{"source":"resolution-bench","quote":"bench {e}"}}]}}\n')


def generated_store(args, entities, relations, graph_file, store):
    """`tiegraph generate` into `graph_file`, then `tiegraph import` into a fresh `store`;
    returns the import's (seconds, peak RSS, output)."""
    run_timed([args.bin, "generate", "--entities", str(entities), "--relations", str(relations),
               "--seed", str(args.seed), "--out", str(graph_file)])
    shutil.rmtree(store, ignore_errors=True)
    return run_timed([args.bin, "import", str(graph_file), "--data-dir", str(store)])


def resolution_phase(args, work, results):
    """What resolving entity records by identifier costs an import: a base graph imported once,
    then the same second file of entity records and ties imported into copies of it three ways,
    with no identifiers, with identifiers nobody holds (every lookup misses) and with
    identifiers base companies hold (every record resolves). A binary without resolution
    (`--bin` of an earlier build) gives the same figures without it."""
    entities, relations = args.resolution_base, args.resolution_base * 5
    base_file, base = work / "resolution-base.jsonl", work / "resolution-base-store"
    say(f"resolution: generating a base graph of {entities:,} entities and {relations:,} relations")
    generated_store(args, entities, relations, base_file, base)
    # Which base companies hold `uei:U<e>` is seeded: "held" looks them up in the base file, and
    # the other two files get as many records, so the three are the same size.
    held = [int(m.group(1)) for m in re.finditer(r'"value":"U(\d{11})"', base_file.read_text())]
    count = min(args.resolution_records, len(held))
    held = held[:count]
    figures = {}
    for label in ["none", "fresh", "held"]:
        path = work / f"resolution-{label}.jsonl"
        if label == "held":
            with open(path, "w") as out:
                out.write('{"type":"source","id":"resolution-bench","title":"Resolution benchmark"}\n')
                for e in held:
                    out.write(f'{{"type":"entity","id":"x{e}","kind":"COMPANY","name":"Record {e} LLC",'
                              f'"identifiers":[{{"scheme":"uei","value":"U{e:011}"}}]}}\n')
                    out.write(f'{{"type":"relation","kind":"ASSOCIATED_WITH","from":"x{e}","to":"e{(e + 1) % entities}",'
                              f'"claims":[{{"source":"resolution-bench","quote":"bench {e}"}}]}}\n')
            records = count
        else:
            write_resolution_file(path, count, None if label == "none" else label, entities)
            records = count
        store = work / f"resolution-store-{label}"
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(base, store)
        seconds, peak, out = run_timed([args.bin, "import", str(path), "--data-dir", str(store)])
        figures[label] = {"records": records, "seconds": seconds, "peak_rss": peak, "summary": out.strip()}
        say(f"resolution [{label}]: {records:,} entity records + {records:,} ties into a store of {entities:,} "
            f"entities in {seconds:.2f} s, peak RSS {peak / MIB:.0f} MiB")
        shutil.rmtree(store, ignore_errors=True)
    results["resolution"] = {"base_entities": entities, "base_relations": relations, "figures": figures}
    for label in ["fresh", "held"]:
        ratio = figures[label]["seconds"] / figures["none"]["seconds"]
        say(f"resolution [{label}] takes {ratio:.2f}x the import without identifiers")


def deletes_phase(args, work, results):
    """Issue 14's deleteEntity: what a cascading delete costs, and what a write waiting behind it
    sees. A generated graph (`--delete-entities`, five relations each) is imported and served;
    entities drawn uniformly (hubs are not left out) and the biggest hub are deleted with
    cascade over HTTP one after another, each timed to its answer, while one client writes
    createEntity throughout (its latencies are the wait every other write has behind them)."""
    entities, relations = args.delete_entities, args.delete_entities * 5
    graph_file, store = work / "deletes.jsonl", work / "deletes-store"
    say(f"deletes: generating {entities:,} entities and {relations:,} relations")
    generated_store(args, entities, relations, graph_file, store)
    ids, degree = [], {}
    with open(graph_file) as lines:
        for line in lines:
            if m := ENTITY_LINE.match(line):
                ids.append(m.group(1))
            elif m := RELATION_LINE.match(line):
                for end in m.group(3, 4):
                    degree[end] = degree.get(end, 0) + 1
    rng = random.Random(args.seed)
    hub = max(ids, key=lambda e: degree.get(e, 0))
    sample = rng.sample([e for e in ids if e != hub], min(args.samples, len(ids) - 1))
    node, port, _ = start_node(args, store, work, "deletes", [])
    url = f"http://127.0.0.1:{port}/graphql"
    mutation = "mutation($id: ID!) { deleteEntity(id: $id, cascade: true) { deletedIds } }"
    session = requests.Session()
    timed = []
    try:
        command = [args.loadgen, "write", "--url", url, "--connections", 1, "--seconds", args.delete_write_seconds,
                   "--prefix", "deletes"]
        writer = subprocess.Popen([str(a) for a in command], stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        for entity in [*sample, hub]:
            started = time.perf_counter()
            answer = session.post(url, json={"query": mutation, "variables": {"id": entity}}, timeout=120).json()
            seconds = time.perf_counter() - started
            if answer.get("errors"):
                loud(f"deleteEntity({entity}) failed: {answer['errors']}")
                continue
            removed = len(answer["data"]["deleteEntity"]["deletedIds"])
            timed.append({"id": entity, "degree": degree.get(entity, 0), "removed": removed, "seconds": seconds})
        background, _ = writer.communicate(timeout=args.delete_write_seconds + 60)
    finally:
        stop_server(node)
    drawn = [t for t in timed if t["id"] != hub]
    ms = [t["seconds"] * 1000 for t in drawn]
    figure = {"entities": entities, "relations": relations, "samples": len(drawn),
              "p50_ms": percentile(ms, 0.5), "p99_ms": percentile(ms, 0.99), "max_ms": max(ms, default=float("nan")),
              "removed_mean": sum(t["removed"] for t in drawn) / max(len(drawn), 1),
              "hub": next((t for t in timed if t["id"] == hub), None),
              "writes_meanwhile": json.loads(background.strip().splitlines()[-1]) if background.strip() else None,
              "deletes": timed}
    results["deletes"] = figure
    say(f"deletes: deleteEntity(cascade) of {len(drawn)} entities drawn uniformly from {entities:,} "
        f"({relations:,} relations): p50 {figure['p50_ms']:.1f} ms, p99 {figure['p99_ms']:.1f} ms, "
        f"max {figure['max_ms']:.1f} ms, {figure['removed_mean']:.1f} records removed on average")
    if figure["hub"]:
        h = figure["hub"]
        say(f"deletes: the biggest hub ({h['id']}, {h['degree']:,} relations): {h['seconds'] * 1000:.1f} ms, "
            f"{h['removed']:,} records removed")
    if figure["writes_meanwhile"]:
        w = figure["writes_meanwhile"]
        say(f"deletes: createEntity meanwhile (one client): {w['rate']:.0f}/s, p50 {w['p50_us'] / 1000:.1f} ms, "
            f"p99 {w['p99_us'] / 1000:.1f} ms")


def start_postgres(work):
    """A PostgreSQL of Debian's packages in `work`, owned by `nobody` when run as root (as the
    test suite starts it); returns (process, connection string for a database of its own)."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        sys.exit("the replication phase needs PostgreSQL: apt-get install postgresql")
    bin_dir = bins[-1].parent
    root = os.geteuid() == 0
    user = "nobody" if root else os.environ.get("USER", "postgres")
    pg_dir = work / "postgres"
    shutil.rmtree(pg_dir, ignore_errors=True)
    pg_dir.mkdir(parents=True)
    if root:
        shutil.chown(pg_dir, user="nobody")
        os.chmod(work, 0o755)
    as_owner = (lambda c: ["runuser", "-u", "nobody", "--", *c]) if root else (lambda c: c)
    subprocess.run(as_owner([str(bin_dir / "initdb"), "-D", str(pg_dir / "data"), "-U", user, "--auth=trust",
                             "-E", "UTF8", "--locale=C"]), check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen(as_owner([str(bin_dir / "postgres"), "-D", str(pg_dir / "data"), "-p", str(port),
                                        "-k", str(pg_dir), "-c", "listen_addresses=127.0.0.1"]),
                              stdout=subprocess.DEVNULL, stderr=open(work / "postgres.log", "w"))
    for _ in range(600):
        if subprocess.run([str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode == 0:
            break
        time.sleep(0.1)
    else:
        sys.exit("PostgreSQL did not start; see postgres.log")
    psql = lambda db, sql: subprocess.run([str(bin_dir / "psql"), "-X", "-q", "-A", "-t", "-h", "127.0.0.1",
                                           "-p", str(port), "-U", user, "-d", db, "-c", sql],
                                          check=True, capture_output=True, text=True).stdout.strip()
    return server, port, user, psql


def start_node(args, data_dir, work, label, extra, wait_for="/health"):
    """`tiegraph serve` with extra flags; returns (process, port, seconds until `wait_for` is 200)."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([args.bin, "serve", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}",
                               "--seed-dir", str(REPO / "seed"), *extra], stdout=subprocess.DEVNULL,
                              stderr=open(work / f"server-{label}.log", "w"))
    while True:
        if server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode}; see {work / f'server-{label}.log'}")
        try:
            if requests.get(f"http://127.0.0.1:{port}{wait_for}", timeout=1).status_code == 200:
                return server, port, time.perf_counter() - started
        except requests.RequestException:
            pass
        time.sleep(0.02)


def replication_phase(args, work, results):
    """Issue 13's figures. (1) The writer's durable write rate with the log against a single
    server on the same store, createEntity over HTTP with loadgen. (2) Steady-state lag: a
    writer and a replica under a background write load, a probe writing one entity every 20 ms
    and timing from the writer's acknowledgement to the replica answering with it. (3) Catch-up
    from empty: the generated graph imported into a store that then starts a log (its
    checkpoint), and a replica on an empty directory timed until /ready."""
    server, pg_port, user, psql = start_postgres(work)
    figures = {}
    try:
        # (1) write rate, one client and four, without then with the log
        for label, log in (("single", None), ("writer", "rate")):
            store = work / f"rate-{label}"
            shutil.rmtree(store, ignore_errors=True)
            extra = []
            if log:
                psql("postgres", f"CREATE DATABASE {log}")
                extra = ["--role", "writer", "--log", f"postgres://{user}@127.0.0.1:{pg_port}/{log}"]
            node, port, _ = start_node(args, store, work, f"rate-{label}", extra)
            try:
                for clients in (1, 4):
                    figure = loadgen(args, "write", "--url", f"http://127.0.0.1:{port}/graphql", "--connections",
                                     clients, "--seconds", args.write_seconds, "--prefix", f"rate-{label}-{clients}")
                    figures[f"writes_{label}_{clients}"] = figure
                    say(f"replication: writes, {label}, {clients} client(s): {figure}")
            finally:
                stop_server(node)
        for clients in (1, 4):
            ratio = figures[f"writes_writer_{clients}"]["rate"] / figures[f"writes_single_{clients}"]["rate"]
            figures[f"write_ratio_{clients}"] = ratio
            say(f"replication: with the log, {clients} client(s): {ratio:.0%} of the single server's write rate")

        # (2) steady-state lag
        psql("postgres", "CREATE DATABASE lag")
        log = f"postgres://{user}@127.0.0.1:{pg_port}/lag"
        writer, wport, _ = start_node(args, work / "lag-writer", work, "lag-writer", ["--role", "writer", "--log", log])
        replica, rport, _ = start_node(args, work / "lag-replica", work, "lag-replica",
                                       ["--role", "replica", "--log", log], wait_for="/ready")
        try:
            load = subprocess.Popen([args.loadgen, "write", "--url", f"http://127.0.0.1:{wport}/graphql",
                                     "--connections", str(args.lag_load_connections), "--seconds",
                                     str(args.lag_seconds + 2), "--prefix", "lag-load"],
                                    stdout=subprocess.PIPE, text=True)
            time.sleep(1)
            session, lags, ends = requests.Session(), [], time.perf_counter() + args.lag_seconds
            n = 0
            while time.perf_counter() < ends:
                n += 1
                eid = f"probe-{n}"
                answer = session.post(f"http://127.0.0.1:{wport}/graphql", json={
                    "query": "mutation($id: ID!) { createEntity(input: {id: $id, kind: COMPANY, name: $id}) { id } }",
                    "variables": {"id": eid}}).json()
                acked = time.perf_counter()
                if answer.get("data", {}).get("createEntity") is None:
                    continue
                while True:
                    seen = session.post(f"http://127.0.0.1:{rport}/graphql",
                                        json={"query": "query($id: ID!) { entity(id: $id) { id } }",
                                              "variables": {"id": eid}}).json()
                    if seen.get("data", {}).get("entity"):
                        lags.append(time.perf_counter() - acked)
                        break
                    if time.perf_counter() - acked > 10:
                        lags.append(float("inf"))
                        break
                time.sleep(0.02)
            background = json.loads(load.communicate()[0].strip().splitlines()[-1])
            figures["lag"] = {"probes": len(lags), "p50_ms": percentile(lags, .5) * 1e3,
                              "p99_ms": percentile(lags, .99) * 1e3, "max_ms": max(lags) * 1e3,
                              "background": background}
            say(f"replication: lag from the writer's acknowledgement to the replica's answer, {len(lags)} probes under "
                f"{background['rate']:.0f} background writes/s: p50 {figures['lag']['p50_ms']:.1f} ms, "
                f"p99 {figures['lag']['p99_ms']:.1f} ms, max {figures['lag']['max_ms']:.1f} ms")
        finally:
            stop_server(replica)
            stop_server(writer)

        # (3) catch-up from empty, on the generated graph
        entities, relations = int(1_000_000 * args.scale), int(5_000_000 * args.scale)
        graph = work / "replication-graph.jsonl"
        say(f"replication: generating {entities:,} entities and {relations:,} relations")
        store = work / "catchup-writer"
        seconds, _, _ = generated_store(args, entities, relations, graph, store)
        say(f"replication: imported in {seconds:.1f} s")
        psql("postgres", "CREATE DATABASE catchup")
        log = f"postgres://{user}@127.0.0.1:{pg_port}/catchup"
        writer, wport, started = start_node(args, store, work, "catchup-writer", ["--role", "writer", "--log", log])
        try:
            checkpoint_bytes = int(psql("catchup", "SELECT bytes FROM tiegraph_checkpoints"))
            say(f"replication: the writer started the log in {started:.1f} s, its checkpoint {checkpoint_bytes / 1e6:.0f} MB")
            for i in (1, 2):
                empty = work / f"catchup-replica-{i}"
                shutil.rmtree(empty, ignore_errors=True)
                replica, rport, ready = start_node(args, empty, work, f"catchup-replica-{i}",
                                                   ["--role", "replica", "--log", log], wait_for="/ready")
                rss = rss_of(replica.pid)[0]
                stop_server(replica)
                figures[f"catchup_{i}"] = {"seconds": ready, "rss": rss}
                say(f"replication: a replica on an empty directory ready after {ready:.1f} s (RSS {rss / MIB:.0f} MiB)")
            figures["catchup"] = {"entities": entities, "relations": relations, "checkpoint_bytes": checkpoint_bytes,
                                  "writer_start_seconds": started}
        finally:
            stop_server(writer)
    finally:
        server.terminate()
        server.wait()
    results["replication"] = figures


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


    def relation_index(self, rid):
        """The position of relation `rid` (the generator's ids are `r<position>`)."""
        if rid.startswith("r") and rid[1:].isdigit():
            n = int(rid[1:])
            if n < len(self.rel_ids) and self.rel_ids[n] == rid:
                return n
        if not hasattr(self, "_rel_index"):
            self._rel_index = {r: i for i, r in enumerate(self.rel_ids)}
        return self._rel_index.get(rid)


# ---------------------------------------------------------------------------------------------
# Samples, drawn as analysts ask: uniformly over the entities each question applies to.

def samples(data, rng, count, warmup, burst):
    """Starts for each workload (drawn without replacement, so no answer is served twice from a
    cache), separate warm-up starts, and the `burst` worst-case 3-hop starts."""
    n = len(data.ids)
    degree, vendor_owns, vendors_in = [0] * n, [0] * n, [0] * n
    vt, owns, agency = REL_CODE["VENDOR_TO"], REL_CODE["OWNS"], KIND_CODE["AGENCY"]
    for a, b, k in data.live():
        degree[a] += 1
        degree[b] += 1
        if k == vt or k == owns:
            vendor_owns[a] += 1
            vendor_owns[b] += 1
        if k == vt and data.kinds[b] == agency:
            vendors_in[b] += 1
    three_pop = [i for i in range(n) if vendor_owns[i]]
    vendor_pop = [i for i in range(n) if vendors_in[i]]
    tied = [i for i in range(n) if degree[i]]

    def draw(population):
        drawn = rng.sample(population, min(len(population), count + warmup))
        return [data.ids[i] for i in drawn[warmup:]], [data.ids[i] for i in drawn[:warmup]]

    three, three_warm = draw(three_pop)
    vendor, vendor_warm = draw(vendor_pop)
    seen, pairs = set(), []
    while len(pairs) < count + warmup and len(tied) > 1:
        a, b = rng.choice(tied), rng.choice(tied)
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            pairs.append((data.ids[a], data.ids[b]))
    worst = sorted(three_pop, key=lambda i: (-degree[i], i))[:burst]
    sizes = sorted((degree[i] for i in tied), reverse=True)
    info = {"three_hop_population": len(three_pop), "vendor_population": len(vendor_pop),
            "tied_entities": len(tied), "max_degree": sizes[0] if sizes else 0,
            "top_degrees": sizes[:5], "worst_starts": [(data.ids[i], degree[i]) for i in worst[:5]],
            "worst_degree_min": degree[worst[-1]] if worst else 0,
            "hub_agency": data.ids[max(vendor_pop, key=lambda i: vendors_in[i])] if vendor_pop else None,
            "hub_agency_vendors": max((vendors_in[i] for i in vendor_pop), default=0)}
    return {"three_hop": three, "vendor": vendor, "shortest": pairs[warmup:]}, \
        {"three_hop": three_warm, "vendor": vendor_warm, "shortest": pairs[:warmup]}, \
        [data.ids[i] for i in worst], info


# ---------------------------------------------------------------------------------------------
# tiegraph over HTTP.

def gql_hop(kinds, direction, end):
    parts = []
    if kinds:
        parts.append(f"relationKinds:[{','.join(kinds)}]")
    parts.append(f"direction:{direction}")
    if end:
        parts.append(f"entityKinds:[{end}]")
    return "{" + ",".join(parts) + "}"


THREE_HOP_GQL = ("query($from:ID!){connected(from:$from,pattern:["
                 + ",".join(gql_hop(k, "ANY", e) for k, e in THREE_HOP) + "],first:1){totalCount partial}}")


def vendor_gql(page):
    return ("query($from:ID!,$after:String){connected(from:$from,pattern:["
            + ",".join(gql_hop(k, d, e) for k, d, e in VENDOR)
            + f"],first:{page},after:$after)"
            + "{totalCount partial pageInfo{hasNextPage endCursor} edges{node{entity{id}}}}}")


# shortestPaths returns {partial paths} once issue 9 item 4 lands; before, a bare list of paths.
SHORTEST_GQL = {"object": "query($a:ID!,$b:ID!){shortestPaths(from:$a,to:$b){partial paths{length hops{relation{id}}}}}",
                "list": "query($a:ID!,$b:ID!){shortestPaths(from:$a,to:$b){length hops{relation{id}}}}"}
SHAPE_GQL = "{__schema{queryType{fields{name type{kind name ofType{kind name ofType{kind name}}}}}}}"


class Client:
    """One keep-alive HTTP/1.1 connection (http.client, TCP_NODELAY): as little client as Python
    allows, so that its cost does not hide the server's."""

    def __init__(self, port, path="/graphql"):
        self.port, self.path = port, path
        self.headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        self.conn = None

    def connect(self):
        if self.conn:
            self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def post(self, query, variables):
        """(HTTP status, parsed body); one reconnect if the server closed an idle connection."""
        body = json.dumps({"query": query, "variables": variables}).encode()
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.connect()
                self.conn.request("POST", self.path, body, self.headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                if attempt:
                    raise
                self.connect()
        try:
            return response.status, json.loads(raw)
        except json.JSONDecodeError:
            return response.status, {"errors": [{"message": f"HTTP {response.status}: {raw[:200]!r}"}]}

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def first_error(status, answer):
    if answer.get("errors"):
        return f"HTTP {status}: {answer['errors'][0].get('message')}"
    if status != 200:
        return f"HTTP {status}"
    return None


class Tiegraph:
    """Each answer is timed from sending the first request to holding the parsed answer (every
    page, for the vendor pattern); answers are {"value", "size", "partial", "error"}."""

    def __init__(self, args, port):
        self.args, self.port = args, port
        self.client = Client(port)
        self.shape = None

    def detect_shape(self):
        status, answer = self.client.post(SHAPE_GQL, {})
        kind = None
        try:
            for field in answer["data"]["__schema"]["queryType"]["fields"]:
                if field["name"] == "shortestPaths":
                    t = field["type"]
                    while t["kind"] == "NON_NULL":
                        t = t["ofType"]
                    kind = "list" if t["kind"] == "LIST" else "object"
        except (KeyError, TypeError):
            pass
        if kind is None:
            say(f"introspection did not find shortestPaths ({first_error(status, answer)}); assuming it returns a list")
            kind = "list"
        self.shape = kind
        return kind

    def floor(self, count=200):
        """The round trip of the smallest query through the same client: the floor of every figure."""
        times = []
        for _ in range(count):
            t = time.perf_counter()
            self.client.post("{__typename}", {})
            times.append(time.perf_counter() - t)
        return times

    def three_hop(self, start):
        status, answer = self.client.post(THREE_HOP_GQL, {"from": start})
        error = first_error(status, answer)
        if error:
            return {"value": None, "size": 0, "partial": False, "error": error}
        c = answer["data"]["connected"]
        return {"value": c["totalCount"], "size": c["totalCount"], "partial": c["partial"], "error": None}

    def vendor(self, start):
        query, after, ids, pages, total, partial = vendor_gql(self.args.page), None, [], 0, None, False
        while True:
            status, answer = self.client.post(query, {"from": start, "after": after})
            pages += 1
            error = first_error(status, answer)
            if error:
                return {"value": None, "size": len(ids), "partial": partial, "error": f"page {pages}: {error}",
                        "pages": pages}
            c = answer["data"]["connected"]
            ids.extend(edge["node"]["entity"]["id"] for edge in c["edges"])
            total = c["totalCount"] if total is None else total
            partial = partial or c["partial"]
            if not c["pageInfo"]["hasNextPage"]:
                break
            after = c["pageInfo"]["endCursor"]
        found = set(ids)
        error = None
        if len(found) != len(ids):
            error = f"{len(ids) - len(found)} ids repeated across {pages} pages"
        elif total != len(found):
            error = f"totalCount {total} but {len(found)} ids over {pages} pages"
        return {"value": found, "size": len(found), "partial": partial, "error": error, "pages": pages}

    def shortest(self, pair):
        status, answer = self.client.post(SHORTEST_GQL[self.shape], {"a": pair[0], "b": pair[1]})
        error = first_error(status, answer)
        if error:
            return {"value": None, "size": 0, "partial": False, "error": error}
        result = answer["data"]["shortestPaths"]
        if self.shape == "list":
            paths, partial = result, False
        else:
            paths, partial = result["paths"], result["partial"]
        if not paths:
            return {"value": None, "size": 0, "partial": partial, "error": None, "path": None}
        path = paths[0]
        return {"value": path["length"], "size": path["length"], "partial": partial, "error": None,
                "path": [h["relation"]["id"] for h in path["hops"]]}


def check_path(data, pair, rel_ids, length):
    """Whether a returned path is a walk of live relations from one end of `pair` to the other."""
    if len(rel_ids) != length:
        return f"length {length} but {len(rel_ids)} hops"
    here, goal = data.index.get(pair[0]), data.index.get(pair[1])
    for rid in rel_ids:
        i = data.relation_index(rid)
        if i is None:
            return f"unknown relation {rid}"
        if data.denied[i]:
            return f"crosses denied relation {rid}"
        if data.src[i] == here:
            here = data.dst[i]
        elif data.dst[i] == here:
            here = data.src[i]
        else:
            return f"relation {rid} does not touch {data.ids[here]}"
    return None if here == goal else f"ends at {data.ids[here]}, not {pair[1]}"


def run_workload(function, inputs, warm, label, system):
    """Untimed warm-ups (their own starts), then each input timed; returns {"times", "answers"}."""
    for x in warm:
        function(x)
    times, answers = [], []
    for x in inputs:
        t = time.perf_counter()
        answer = function(x)
        times.append(time.perf_counter() - t)
        answers.append(answer)
    say(f"{system} {label}: p50 {percentile(times, .5) * 1e3:.2f} ms, p99 {percentile(times, .99) * 1e3:.2f} ms, "
        f"max {max(times, default=0) * 1e3:.2f} ms")
    return {"times": times, "answers": answers}


def concurrent_burst(port, pid, starts, interval=0.005):
    """The 3-hop from every start at once, one connection each, while the server's RSS is sampled
    with psutil; returns the RSS before, the peak sampled, the RSS after, and each request's fate."""
    process = psutil.Process(pid)
    before = process.memory_info().rss
    barrier = threading.Barrier(len(starts) + 1)
    outcomes = [None] * len(starts)

    def one(i, start):
        client = Client(port)
        client.connect()
        barrier.wait()
        t = time.perf_counter()
        try:
            status, answer = client.post(THREE_HOP_GQL, {"from": start})
            error = first_error(status, answer)
            c = None if error else answer["data"]["connected"]
            outcomes[i] = {"status": status, "seconds": time.perf_counter() - t, "error": error,
                           "partial": c["partial"] if c else None, "count": c["totalCount"] if c else None}
        except Exception as e:  # a refused or dropped connection is an outcome, not a crash
            outcomes[i] = {"status": None, "seconds": time.perf_counter() - t, "error": repr(e),
                           "partial": None, "count": None}
        finally:
            client.close()

    threads = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(starts)]
    for th in threads:
        th.start()
    samples, peak = [], before
    barrier.wait()
    started = time.perf_counter()
    while any(th.is_alive() for th in threads):
        rss = process.memory_info().rss
        samples.append((time.perf_counter() - started, rss))
        peak = max(peak, rss)
        time.sleep(interval)
    elapsed = time.perf_counter() - started
    for th in threads:
        th.join()
    time.sleep(1.0)
    after = process.memory_info().rss
    return {"before": before, "peak": peak, "after_1s": after, "hwm": rss_of(pid)[1], "seconds": elapsed,
            "samples": len(samples), "outcomes": outcomes,
            "complete": sum(1 for o in outcomes if o["error"] is None and not o["partial"]),
            "partial": sum(1 for o in outcomes if o["error"] is None and o["partial"]),
            "refused": sum(1 for o in outcomes if o["error"] is not None),
            "errors": sorted({o["error"] for o in outcomes if o["error"]})[:5]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadgen(args, mode, *extra):
    out = subprocess.run([args.loadgen, mode, *map(str, extra)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Kuzu, embedded. One MATCH per hop joined by WITH DISTINCT (a single MATCH over several hops is
# planned as full scans in 0.11.3), and OR rather than `kind IN [...]` (wrong rows on undirected
# patterns in 0.11.3). Kuzu matches walks (a relationship may be reused within one MATCH; checked
# on a two-node graph below), so both forms count the same x as frontier sets do.

def kuzu_kinds(var, kinds):
    return "(" + " OR ".join(f"{var}.kind = '{k}'" for k in kinds) + ")"


KUZU_THREE_HOP = f"""
MATCH (s:Entity {{id: $id}})-[r1:Rel]-(a:Entity) WHERE {kuzu_kinds('r1', THREE_HOP[0][0])} AND NOT r1.denied
WITH DISTINCT a
MATCH (a)-[r2:Rel]-(b:Entity) WHERE {kuzu_kinds('r2', THREE_HOP[1][0])} AND NOT r2.denied
WITH DISTINCT b
MATCH (b)-[r3:Rel]-(x:Entity) WHERE NOT r3.denied AND x.kind = 'NONPROFIT' AND x.id <> $id
RETURN count(DISTINCT x)
"""
KUZU_THREE_HOP_ONE_MATCH = f"""
MATCH (s:Entity {{id: $id}})-[r1:Rel]-(a:Entity)-[r2:Rel]-(b:Entity)-[r3:Rel]-(x:Entity)
WHERE {kuzu_kinds('r1', THREE_HOP[0][0])} AND NOT r1.denied AND {kuzu_kinds('r2', THREE_HOP[1][0])} AND NOT r2.denied
  AND NOT r3.denied AND x.kind = 'NONPROFIT' AND x.id <> $id
RETURN count(DISTINCT x)
"""
KUZU_VENDOR = """
MATCH (s:Entity {id: $id})<-[r1:Rel]-(v:Entity) WHERE r1.kind = 'VENDOR_TO' AND NOT r1.denied
WITH DISTINCT v
MATCH (v)-[r2:Rel]-(n:Entity) WHERE NOT r2.denied AND n.kind = 'NONPROFIT'
RETURN DISTINCT n.id
"""
# 30 is the longest Kuzu 0.11.3 allows by default; NetworkX has no bound.
KUZU_SHORTEST = """
MATCH p = (a:Entity {id: $a})-[:Rel* SHORTEST 1..30 (r, n | WHERE NOT r.denied)]-(b:Entity {id: $b})
RETURN length(p) LIMIT 1
"""


def kuzu_semantics(kuzu, work):
    """'walk' when one MATCH may cross the same relationship twice (a-r-b-r-a), 'trail' when not."""
    path = work / "kuzu-semantics.db"
    db = kuzu.Database(str(path))
    conn = kuzu.Connection(db)
    conn.execute("CREATE NODE TABLE E(id STRING, PRIMARY KEY (id))")
    conn.execute("CREATE REL TABLE R(FROM E TO E)")
    conn.execute("CREATE (:E {id: 'a'}), (:E {id: 'b'})")
    conn.execute("MATCH (x:E {id: 'a'}), (y:E {id: 'b'}) CREATE (x)-[:R]->(y)")
    rows = conn.execute("MATCH (s:E {id: 'a'})-[:R]-(m:E)-[:R]-(x:E) RETURN x.id").get_all()
    del conn, db
    return "walk" if ["a"] in rows else "trail"


def kuzu_phase(args, data, work, inputs, warm, results):
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

    # The queries run on the graph every system holds, before the second import's relations
    # are copied in (they would add ties that tiegraph's and NetworkX's answers do not have).
    if not args.store_only:
        results["kuzu_semantics"] = kuzu_semantics(kuzu, work)
        say(f"kuzu: one MATCH over several hops matches {results['kuzu_semantics']}s")

        def query(text, params, convert):
            rows = conn.execute(text, params).get_all()
            value = convert(rows)
            size = len(value) if isinstance(value, set) else (value or 0)
            return {"value": value, "size": size, "partial": False, "error": None}

        three = lambda s: query(KUZU_THREE_HOP, {"id": s}, lambda rows: rows[0][0])
        vendor = lambda s: query(KUZU_VENDOR, {"id": s}, lambda rows: {r[0] for r in rows})
        shortest = lambda p: query(KUZU_SHORTEST, {"a": p[0], "b": p[1]}, lambda rows: rows[0][0] if rows else None)
        results["kuzu_three_hop"] = run_workload(three, inputs["three_hop"], warm["three_hop"], "3-hop", "kuzu")
        results["kuzu_vendor"] = run_workload(vendor, inputs["vendor"], warm["vendor"], "vendor pattern", "kuzu")
        results["kuzu_shortest"] = run_workload(shortest, inputs["shortest"], warm["shortest"], "shortest path", "kuzu")

        # The 3-hop as one MATCH on the first few starts: the same walks, so the same counts.
        one = {"compared": 0, "equal": 0, "timeouts": 0, "differences": [], "times": []}
        conn.set_query_timeout(int(args.kuzu_single_match_timeout * 1000))
        for start, per_hop in zip(inputs["three_hop"][:args.kuzu_single_match], results["kuzu_three_hop"]["answers"]):
            t = time.perf_counter()
            try:
                count = conn.execute(KUZU_THREE_HOP_ONE_MATCH, {"id": start}).get_all()[0][0]
            except RuntimeError as e:
                one["timeouts"] += 1
                one["differences"].append(f"{start}: {str(e)[:80]}")
                continue
            one["times"].append(time.perf_counter() - t)
            one["compared"] += 1
            if count == per_hop["value"]:
                one["equal"] += 1
            else:
                one["differences"].append(f"{start}: one MATCH {count}, per hop {per_hop['value']}")
        conn.set_query_timeout(0)
        results["kuzu_one_match"] = one
        say(f"kuzu 3-hop as one MATCH: {one['equal']}/{one['compared']} equal to the per-hop form, "
            f"{one['timeouts']} timed out")
        results["kuzu_rss_delta"] = own_rss() - rss_before

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
    del conn, db


# ---------------------------------------------------------------------------------------------
# NetworkX, in process: frontier sets over a MultiDiGraph of the relations not denied.

def networkx_phase(data, inputs, warm, results):
    """Runs the workloads; returns a function giving the 3-hop count under simple-path semantics
    (start, a, b, x all different), to explain answers that differ."""
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
    kinds, succ, pred = data.kinds, graph._succ, graph._pred
    undirected = graph.to_undirected(as_view=True)

    def hop(frontier, rels, direction, end):
        rels = None if rels is None else {REL_CODE[r] for r in rels}
        end = None if end is None else KIND_CODE[end]
        sides = (succ,) if direction == "OUT" else (pred,) if direction == "IN" else (succ, pred)
        found = set()
        for n in frontier:
            for side in sides:
                for m, keyed in side[n].items():
                    if m in found or (end is not None and kinds[m] != end):
                        continue
                    if rels is None or any(d["kind"] in rels for d in keyed.values()):
                        found.add(m)
        return found

    def reached(start):
        s = data.index[start]
        frontier = {s}
        for rels, end in THREE_HOP:
            frontier = hop(frontier, rels, "ANY", end)
        frontier.discard(s)
        return frontier

    def three_hop(start):
        n = len(reached(start))
        return {"value": n, "size": n, "partial": False, "error": None}

    def vendor(start):
        frontier = {data.index[start]}
        for rels, direction, end in VENDOR:
            frontier = hop(frontier, rels, direction, end)
        found = {data.ids[n] for n in frontier}
        return {"value": found, "size": len(found), "partial": False, "error": None}

    def shortest(pair):
        try:
            n = nx.shortest_path_length(undirected, data.index[pair[0]], data.index[pair[1]])
        except nx.NetworkXNoPath:
            n = None
        return {"value": n, "size": n or 0, "partial": False, "error": None}

    def simple_three_hop(start):
        s = data.index[start]
        found = set()
        for a in hop({s}, THREE_HOP[0][0], "ANY", THREE_HOP[0][1]) - {s}:
            for b in hop({a}, THREE_HOP[1][0], "ANY", THREE_HOP[1][1]) - {s, a}:
                found |= hop({b}, THREE_HOP[2][0], "ANY", THREE_HOP[2][1]) - {s, a, b}
        return len(found)

    results["networkx_three_hop"] = run_workload(three_hop, inputs["three_hop"], warm["three_hop"], "3-hop", "networkx")
    results["networkx_vendor"] = run_workload(vendor, inputs["vendor"], warm["vendor"], "vendor pattern", "networkx")
    results["networkx_shortest"] = run_workload(shortest, inputs["shortest"], warm["shortest"], "shortest path", "networkx")
    results["networkx_rss_delta"] = own_rss() - before
    return simple_three_hop


# ---------------------------------------------------------------------------------------------
# Answers compared.

def describe(answer):
    if answer is None:
        return "none"
    if answer["error"]:
        return f"error ({answer['error']})"
    v = answer["value"]
    text = f"{len(v)} ids" if isinstance(v, set) else "no path" if v is None else str(v)
    return text + (" (partial)" if answer["partial"] else "")


def compare(key, inputs, mine, reference, data=None):
    """How many of `mine` equal `reference` (complete, no error), and the first disagreements."""
    agree, differences = 0, []
    for i, x in enumerate(inputs):
        a, b = mine[i], reference[i]
        problem = None
        if a["error"] or b["error"]:
            problem = "error"
        elif a["partial"] or b["partial"]:
            problem = "partial"
        elif a["value"] != b["value"]:
            problem = "differs"
        elif key == "shortest" and data is not None and a.get("path") is not None:
            bad = check_path(data, x, a["path"], a["value"])
            if bad:
                problem = f"invalid path: {bad}"
        if problem is None:
            agree += 1
            continue
        label = f"{x[0]}~{x[1]}" if isinstance(x, tuple) else x
        detail = f"{label}: {describe(a)} vs {describe(b)}"
        if isinstance(a["value"], set) and isinstance(b["value"], set):
            only = sorted(a["value"] - b["value"])[:3], sorted(b["value"] - a["value"])[:3]
            detail += f"; only the first: {only[0]}, only the second: {only[1]}"
        if problem.startswith("invalid"):
            detail += f"; {problem}"
        differences.append(detail)
    return agree, differences


def stats(entry):
    times = entry["times"]
    ok = [a for a in entry["answers"] if not a["error"]]
    sizes = [a["size"] for a in ok]
    return {"n": len(times), "p50": percentile(times, .5) * 1e3, "p99": percentile(times, .99) * 1e3,
            "max": max(times, default=float("nan")) * 1e3,
            "size_mean": sum(sizes) / len(sizes) if sizes else float("nan"), "size_max": max(sizes, default=0),
            "partial": sum(1 for a in ok if a["partial"]), "errors": len(entry["answers"]) - len(ok),
            "pages_max": max((a.get("pages", 1) for a in entry["answers"]), default=0)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M entities / 5M relations")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=100, help="timed queries per workload")
    parser.add_argument("--warmup", type=int, default=10, help="untimed queries per workload, on starts of their own")
    parser.add_argument("--page", type=int, default=1000, help="page size of the vendor answer (the server's max is 1,000)")
    parser.add_argument("--burst", type=int, default=64, help="concurrent worst-case 3-hop searches for the memory figure")
    parser.add_argument("--kuzu-single-match", type=int, default=10,
                        help="3-hop starts also run as one Kuzu MATCH, to check it counts as the per-hop form does")
    parser.add_argument("--kuzu-single-match-timeout", type=float, default=60.0, help="seconds per one-MATCH query")
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
    parser.add_argument("--usaspending-rows", type=int,
                        help="rows of the generated USAspending transactions CSV imported after the store phases "
                             "(default 1M x scale; 0 to skip)")
    parser.add_argument("--usaspending-only", action="store_true",
                        help="only the USAspending import (build, generate the CSV, import it); prints the figures "
                             "and writes results.json")
    parser.add_argument("--resolution-only", action="store_true",
                        help="only the resolution phase: a base graph, then entity records imported with no, unheld "
                             "and held identifiers; prints the figures and writes results.json")
    parser.add_argument("--replication-only", action="store_true",
                        help="only the replication phase (a PostgreSQL of its own): write rate with the log, lag, catch-up")
    parser.add_argument("--lag-seconds", type=float, default=10.0, help="how long the lag probe runs")
    parser.add_argument("--lag-load-connections", type=int, default=4, help="background writers during the lag probe")
    parser.add_argument("--deletes-only", action="store_true",
                        help="only the deletes phase: deleteEntity(cascade) over HTTP on a generated graph, "
                             "with a client writing meanwhile")
    parser.add_argument("--delete-entities", type=int, default=200_000,
                        help="entities of the deletes phase's graph (five relations each)")
    parser.add_argument("--delete-write-seconds", type=float, default=10.0,
                        help="how long the deletes phase's background writer runs (the deletes run inside it)")
    parser.add_argument("--resolution-base", type=int, default=200_000, help="entities of the resolution phase's base graph")
    parser.add_argument("--resolution-records", type=int, default=50_000, help="entity records of its second file")
    args = parser.parse_args()
    if args.usaspending_rows is None:
        args.usaspending_rows = int(1_000_000 * args.scale)

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir = BENCH / "results" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="tiegraph-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    entities, relations = int(1_000_000 * args.scale), int(5_000_000 * args.scale)
    results = {"scale": args.scale, "entities": entities, "relations": relations, "seed": args.seed,
               "store_only": args.store_only, "command": "python3 " + " ".join(
                   [os.path.relpath(sys.argv[0], REPO) if Path(sys.argv[0]).exists() else sys.argv[0]] + sys.argv[1:]),
               "samples": args.samples, "warmup": args.warmup, "page": args.page, "burst": args.burst,
               "started": stamp, "cpus": os.cpu_count(), "memory_bytes": psutil.virtual_memory().total,
               "bin": args.bin}
    say(f"results in {out_dir}, work in {work}")

    if not args.no_build:
        say("building tiegraph and the load generator (release)")
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "tiegraph", "--example", "loadgen"],
                       cwd=REPO, check=True)
    git = lambda *a: subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.strip()
    results["commit"] = git("rev-parse", "--short", "HEAD")
    results["dirty"] = bool(git("status", "--porcelain", "--untracked-files=no", "--", "src", "Cargo.toml", "Cargo.lock"))
    only = [(args.replication_only, replication_phase), (args.resolution_only, resolution_phase),
            (args.usaspending_only, usaspending_phase), (args.deletes_only, deletes_phase)]
    for chosen, phase in only:
        if chosen:
            phase(args, work, results)
            (out_dir / "results.json").write_text(json.dumps(results, indent=2))
            say(f"wrote {out_dir / 'results.json'}")
            if not args.keep and not args.work:
                shutil.rmtree(work, ignore_errors=True)
            return

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
    say(f"imported in {seconds:.1f} s: {relations / seconds:,.0f} relations/s, peak RSS {peak / MIB:.0f} MiB, "
        f"store {results['disk_bytes'] / 1e6:.1f} MB ({results['disk_bytes'] / results['raw_bytes']:.2f}x raw)")

    say("reading the generated file for the other systems")
    started = time.perf_counter()
    data = Data(graph_file)
    results["parse_seconds"] = time.perf_counter() - started
    results["denied_relations"] = sum(data.denied)
    rng = random.Random(args.seed)
    inputs, warm, worst, info = samples(data, rng, args.samples, args.warmup, args.burst)
    results["sample_info"] = info
    results["inputs"] = {k: [list(x) if isinstance(x, tuple) else x for x in v] for k, v in inputs.items()}
    say(f"read in {results['parse_seconds']:.1f} s; {info['three_hop_population']:,} entities with a VENDOR_TO/OWNS "
        f"tie, {info['vendor_population']:,} agencies with a vendor, {info['tied_entities']:,} with a tie; "
        f"top degrees {info['top_degrees']}")

    if args.store_only:
        results["open_and_serve_seconds"], results["server_rss_open"] = time_open(args, data_dir, work, "after import")
        results["server_rss_peak"] = results["server_rss_open"]
    else:
        say("starting tiegraph serve")
        server, port, results["open_and_serve_seconds"] = start_server(args, data_dir, work, "queries")
        url = f"http://127.0.0.1:{port}/graphql"
        tiegraph = Tiegraph(args, port)
        try:
            results["server_rss_open"] = rss_of(server.pid)[0]
            say(f"serving after {results['open_and_serve_seconds']:.2f} s, RSS {results['server_rss_open'] / MIB:.0f} MiB")
            results["shortest_shape"] = tiegraph.detect_shape()
            say(f"shortestPaths returns {'a list of paths (the shape before issue 9)' if results['shortest_shape'] == 'list' else '{partial paths}'}")
            floor = tiegraph.floor()
            results["http_floor_ms"] = {"p50": percentile(floor, .5) * 1e3, "p99": percentile(floor, .99) * 1e3}
            say(f"HTTP round trip of {{__typename}} through this client: p50 {results['http_floor_ms']['p50']:.3f} ms")
            for key, label in WORKLOADS:
                function = getattr(tiegraph, key)
                results[f"tiegraph_{key}"] = run_workload(function, inputs[key], warm[key], label, "tiegraph")
            tiegraph.client.close()

            ids_file = work / "lookup-ids.txt"
            ids_file.write_text("\n".join(rng.sample(data.ids, min(10_000, len(data.ids)))) + "\n")
            say(f"tiegraph: entity lookups, {args.lookup_connections} connections, {args.lookup_seconds:.0f} s")
            results["lookups"] = loadgen(args, "lookup", "--url", url, "--ids", ids_file, "--connections",
                                         args.lookup_connections, "--seconds", args.lookup_seconds)
            say(f"lookups: {results['lookups']}")
            for clients in (1, 4):
                say(f"tiegraph: createEntity writes, {clients} client(s), {args.write_seconds:.0f} s")
                results[f"writes_{clients}"] = loadgen(args, "write", "--url", url, "--connections", clients,
                                                       "--seconds", args.write_seconds, "--prefix", f"bench-{stamp.lower()}-{clients}")
                say(f"writes ({clients}): {results[f'writes_{clients}']}")

            say(f"tiegraph: {len(worst)} concurrent worst-case 3-hop searches (most-tied VENDOR_TO/OWNS entities, "
                f"{info['worst_degree_min']:,} ties and more), RSS sampled with psutil")
            results["burst"] = concurrent_burst(port, server.pid, worst)
            b = results["burst"]
            say(f"burst: RSS {b['before'] / MIB:.0f} MiB before, peak {b['peak'] / MIB:.0f} MiB, "
                f"{b['after_1s'] / MIB:.0f} MiB 1 s after; {b['complete']} complete, {b['partial']} partial, "
                f"{b['refused']} refused or failed, in {b['seconds']:.1f} s")
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
    say(f"imported in {seconds:.1f} s: {more / seconds:,.0f} relations/s, peak RSS {peak / MIB:.0f} MiB, "
        f"store {results['disk_bytes_after_more'] / 1e6:.1f} MB")
    results["open_after_more_seconds"] = time_open(args, data_dir, work, "after the second import")[0]
    results["open_after_more_later_seconds"] = time_open(args, data_dir, work, "later, after the second import")[0]
    results["more_file"] = str(more_file)
    if args.usaspending_rows > 0:
        usaspending_phase(args, work, results)

    if not args.no_kuzu:
        kuzu_phase(args, data, work, inputs, warm, results)
    simple_three_hop = None
    if not args.no_networkx and not args.store_only:
        simple_three_hop = networkx_phase(data, inputs, warm, results)

    if not args.store_only:
        say("checking that the answers agree")
        agreement = {}
        for key, label in WORKLOADS:
            for mine, theirs in (("tiegraph", "networkx"), ("tiegraph", "kuzu"), ("kuzu", "networkx")):
                if f"{mine}_{key}" not in results or f"{theirs}_{key}" not in results:
                    continue
                agree, differences = compare(key, inputs[key], results[f"{mine}_{key}"]["answers"],
                                             results[f"{theirs}_{key}"]["answers"], data)
                agreement[f"{key}:{mine}:{theirs}"] = {"agree": agree, "of": len(inputs[key]), "first": differences[:5],
                                                       "differences": len(differences)}
                say(f"{label}: {mine} and {theirs} agree on {agree}/{len(inputs[key])}")
                for d in differences[:5]:
                    loud(f"{label}, {mine} vs {theirs}: {d}")
                mismatches.extend(f"{label}, {mine} vs {theirs}: {d}" for d in differences[5:])
        results["agreement"] = agreement
        # Are tiegraph's 3-hop counts that differ the simple-path counts (no entity twice)?
        if simple_three_hop and "tiegraph_three_hop" in results:
            explained, checked = 0, []
            for start, mine, ref in zip(inputs["three_hop"], results["tiegraph_three_hop"]["answers"],
                                        results["networkx_three_hop"]["answers"]):
                if mine["error"] or mine["value"] == ref["value"] or len(checked) >= 10:
                    continue
                simple = simple_three_hop(start)
                checked.append(f"{start}: tiegraph {mine['value']}{' (partial)' if mine['partial'] else ''}, "
                               f"walks {ref['value']}, simple paths {simple}")
                explained += simple == mine["value"]
            results["three_hop_simple_paths"] = {"checked": len(checked), "equal_to_simple_paths": explained,
                                                 "first": checked}
    results["mismatches"] = mismatches

    report = write_report(results, out_dir)
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)
    print(report)
    if mismatches:
        print(f"\033[1;31m{len(mismatches)} MISMATCHES: see the report\033[0m")
        sys.exit(1)


def fmt(x, unit=""):
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    return f"{x:,.2f}{unit}" if isinstance(x, float) else f"{x:,}{unit}"


def ms(x):
    """Milliseconds with the precision that matters at that size."""
    if x is None or x != x:
        return "n/a"
    return f"{x:,.3f}" if x < 1 else f"{x:,.2f}" if x < 100 else f"{x:,.0f}"


def store_rows(results):
    """Issue 8's store figures."""
    rows = []
    kuzu_rate = lambda n, key: fmt(n / results[key]) if key in results else "n/a"
    rows.append(("bulk import into an empty store, relations/s", fmt(results["import_rate"]),
                 kuzu_rate(results["relations"], "kuzu_import_seconds") + " (COPY)", "", ">= 150,000",
                 "yes" if results["import_rate"] >= TARGETS["import"] else "NO"))
    rows.append((f"import of {results['more_relations']:,} more relations into the full store, relations/s",
                 fmt(results["import_into_full_rate"]),
                 kuzu_rate(results["more_relations"], "kuzu_import_more_seconds") + " (COPY)", "", ">= 50,000",
                 "yes" if results["import_into_full_rate"] >= TARGETS["import_into_full"] else "NO"))
    firsts = [results["open_and_serve_seconds"], results["open_after_more_seconds"]]
    rows.append(("first open after an import (empty store / full store), s",
                 " / ".join(fmt(x) for x in firsts), f"{fmt(results.get('kuzu_open_seconds'))} reopen",
                 fmt(results.get("networkx_load_seconds")), "<= 3",
                 "yes" if max(firsts) <= TARGETS["open_after_import"] else "NO"))
    laters = results["open_later_seconds"] + [results["open_after_more_later_seconds"]]
    rows.append(("later opens, s", " / ".join(fmt(x) for x in laters), "", "", "<= 2",
                 "yes" if max(laters) <= TARGETS["open_later"] else "NO"))
    mib = lambda b: None if b is None else b / MIB
    peak = max(results["server_rss_peak"], results["import_peak_rss"], results["import_into_full_peak_rss"])
    rows.append(("RSS, MiB (server after open / server peak / imports' peaks; others: process delta)",
                 f"{mib(results['server_rss_open']):,.0f} / {mib(results['server_rss_peak']):,.0f} / "
                 f"{mib(results['import_peak_rss']):,.0f}, {mib(results['import_into_full_peak_rss']):,.0f}",
                 fmt(mib(results.get("kuzu_rss_delta"))), fmt(mib(results.get("networkx_rss_delta"))), "<= 1,024",
                 "yes" if peak <= TARGETS["rss"] else "NO"))
    if "usaspending_rate" in results:
        rows.append((f"USAspending transactions CSV ({results['usaspending_rows']:,} rows, "
                     f"{results['usaspending_awards']:,} awards) into an empty store, rows/s; peak RSS "
                     f"{results['usaspending_peak_rss'] / MIB:,.0f} MiB",
                     fmt(results["usaspending_rate"]), "", "", ">= 100,000",
                     "yes" if results["usaspending_rate"] >= TARGETS["usaspending"] else "NO"))
    ratio = results["disk_bytes"] / results["raw_bytes"]
    ratio_more = results["disk_bytes_after_more"] / (results["raw_bytes"] + results["more_raw_bytes"])
    rows.append(("disk incl. snapshot, MB (x the JSON lines imported), after the first / second import",
                 f"{results['disk_bytes'] / 1e6:,.1f} ({ratio:.2f}x) / {results['disk_bytes_after_more'] / 1e6:,.1f} "
                 f"({ratio_more:.2f}x)",
                 f"{results['kuzu_disk_bytes'] / 1e6:,.1f} / {results.get('kuzu_disk_bytes_after_more', 0) / 1e6:,.1f}"
                 if "kuzu_disk_bytes" in results else "n/a", "",
                 "<= 1x", "yes" if max(ratio, ratio_more) <= TARGETS["disk_ratio"] else "NO"))
    return rows


def met_cell(met, key, agreement):
    """'yes' only says the latencies are within the target; say so when answers disagree."""
    if not met:
        return "NO"
    wrong = max((g["of"] - g["agree"] for name, g in agreement.items() if name.startswith(f"{key}:tiegraph:")), default=0)
    return f"yes, but {wrong} answers disagree" if wrong else "yes"


def write_report(results, out_dir):
    mib = lambda b: b / MIB
    commit = results["commit"] + (" (with uncommitted changes to src/)" if results.get("dirty") else "")
    lines = [f"# tiegraph benchmark, {results['started']}", "",
             f"Command: `{results['command']}`, commit {commit}, binary `{results['bin']}`.  ",
             f"Scale {results['scale']}: {results['entities']:,} entities, {results['relations']:,} relations "
             f"({results.get('denied_relations', 0):,} denied; seed {results['seed']}, raw file "
             f"{results['raw_bytes'] / 1e6:,.1f} MB), {results['cpus']} CPUs, {results['memory_bytes'] / 2**30:.0f} GiB."]
    if not results["store_only"]:
        info = results["sample_info"]
        floor = results.get("http_floor_ms", {})
        lines += ["",
                  f"{results['samples']} timed queries per workload and system, after {results['warmup']} untimed "
                  "warm-ups on starts of their own; every start drawn uniformly without replacement from the "
                  f"entities the question applies to: 3-hop from the {info['three_hop_population']:,} entities with "
                  f"a VENDOR_TO or OWNS tie, vendor from the {info['vendor_population']:,} agencies with an incoming "
                  f"VENDOR_TO, shortest path between two of the {info['tied_entities']:,} entities with a tie. Denied "
                  "ties are skipped by all three systems. **tiegraph is measured over HTTP** (one keep-alive "
                  "connection, Python http.client, from sending the request to holding the parsed answer; the "
                  f"vendor answer is every page of {results['page']:,}, parsed); **Kuzu and NetworkX in process**. "
                  f"The round trip of `{{__typename}}` through the same client is {ms(floor.get('p50'))} ms p50 "
                  f"({ms(floor.get('p99'))} p99): the floor under every tiegraph figure. shortestPaths shape: "
                  f"{'{partial paths}' if results.get('shortest_shape') == 'object' else 'a list of paths (before issue 9 item 4; `partial` not available)'}.",
                  "", "## Issue 9 targets", "",
                  "| workload | NetworkX p50 / p99 | Kuzu p50 / p99 | tiegraph p50 / p99 (max) | faster anchor / tiegraph, p50 / p99 "
                  "| target p50 / p99 | met | answers agree with NetworkX / Kuzu |",
                  "|---|---|---|---|---|---|---|---|"]
        agreement = results.get("agreement", {})
        for key, label in WORKLOADS:
            s = {name: stats(results[f"{name}_{key}"]) for name, _ in SYSTEMS if f"{name}_{key}" in results}
            cell = lambda n: f"{ms(s[n]['p50'])} / {ms(s[n]['p99'])}" if n in s else "n/a"
            t = s.get("tiegraph")
            anchors = [s[n] for n in ("networkx", "kuzu") if n in s]
            ratio = "n/a"
            if t and anchors:
                a50, a99 = min(x["p50"] for x in anchors), min(x["p99"] for x in anchors)
                ratio = f"{a50 / t['p50']:.2f}x / {a99 / t['p99']:.2f}x"
            target = QUERY_TARGETS[key]
            met = t is not None and t["p50"] <= target[0] and t["p99"] <= target[1]
            agrees = []
            for other in ("networkx", "kuzu"):
                g = agreement.get(f"{key}:tiegraph:{other}")
                agrees.append(f"{g['agree']}/{g['of']}" if g else "n/a")
            lines.append(f"| {label} | {cell('networkx')} | {cell('kuzu')} | "
                         f"{cell('tiegraph')} ({ms(t['max']) if t else 'n/a'}) | {ratio} | <= {target[0]:g} / {target[1]:g} ms "
                         f"| {met_cell(met, key, agreement)} | {' / '.join(agrees)} |")
        look = results.get("lookups", {})
        lines.append(f"| entity lookups over HTTP (loadgen, bodies checked) | | | {fmt(look.get('rate'))} req/s | | >= 30,000 req/s | "
                     f"{'yes' if look.get('rate', 0) >= TARGETS['lookups'] else 'NO'} | |")
        lines.append(f"| server RSS after open | | | {mib(results['server_rss_open']):,.0f} MiB | | <= 1,024 MiB | "
                     f"{'yes' if results['server_rss_open'] <= TARGETS['rss_open'] else 'NO'} | |")
        b = results.get("burst")
        if b:
            lines.append(f"| server peak RSS, {len(b['outcomes'])} concurrent worst-case 3-hops | | | {mib(b['peak']):,.0f} MiB "
                         f"({b['complete']} complete, {b['partial']} partial, {b['refused']} refused) | | <= 1,536 MiB | "
                         f"{'yes' if b['peak'] <= TARGETS['rss_concurrent'] else 'NO'} | |")
        lines += ["", "Faster anchor: the lower of NetworkX's and Kuzu's figure, for p50 and for p99 separately; "
                  "above 1x tiegraph is faster. Met: tiegraph's p50 and p99 both within the target (the answers' "
                  "agreement is the last column, and a latency met with wrong answers is not a result).",
                  "", "## Per workload and system", "",
                  "| workload | system | samples | p50 ms | p99 ms | max ms | answer size mean | answer size max | partial | errors |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for key, label in WORKLOADS:
            for name, sys_label in SYSTEMS:
                if f"{name}_{key}" not in results:
                    continue
                s = stats(results[f"{name}_{key}"])
                size_note = " (path length)" if key == "shortest" else ""
                lines.append(f"| {label} | {sys_label} | {s['n']} | {ms(s['p50'])} | {ms(s['p99'])} | {ms(s['max'])} | "
                             f"{s['size_mean']:,.1f}{size_note} | {s['size_max']:,} | {s['partial']} | {s['errors']} |")
        if "tiegraph_vendor" in results:
            lines += ["", f"The vendor answers took up to {stats(results['tiegraph_vendor'])['pages_max']} pages of "
                      f"{results['page']:,}; 3-hop answers are a count (`totalCount`, `first: 1`)."]
        lines += ["", "## Answers compared", ""]
        for name, g in agreement.items():
            key, mine, theirs = name.split(":")
            label = dict(WORKLOADS)[key]
            lines.append(f"- {label}: {mine} and {theirs} agree on {g['agree']}/{g['of']}"
                         + (f"; first of {g['differences']} disagreements:" if g["first"] else ""))
            lines += [f"  - {d}" for d in g["first"]]
        lines += ["", "## Semantics", "",
                  "- 3-hop: the entities x other than the start such that some walk start-a-b-x matches the hops "
                  "(entities and relations may repeat within the walk): per-hop frontier sets. NetworkX computes "
                  "exactly that; Kuzu runs one MATCH per hop joined by `WITH DISTINCT` and `count(DISTINCT x)` with "
                  "`x.id <> start`, which is the same set."]
        if "kuzu_semantics" in results:
            one = results.get("kuzu_one_match", {})
            lines.append(f"- Kuzu 0.11.3 matches **{results['kuzu_semantics']}s** within one MATCH (checked on a "
                         "two-node graph: `(a)-[r]-(b)-[r]-(a)` "
                         f"{'is' if results['kuzu_semantics'] == 'walk' else 'is not'} matched), unlike Neo4j's "
                         "Cypher, whose default forbids reusing a relationship in one MATCH (trails). The 3-hop as one "
                         f"MATCH gave the per-hop count on {one.get('equal', 0)}/{one.get('compared', 0)} starts"
                         + (f" ({one['timeouts']} timed out)" if one.get("timeouts") else "")
                         + (f": {'; '.join(one['differences'][:3])}" if one.get("differences") else "") + ".")
        sp = results.get("three_hop_simple_paths")
        if sp and sp["checked"]:
            lines.append(f"- Of the first {sp['checked']} tiegraph 3-hop counts that differ from the walk count, "
                         f"{sp['equal_to_simple_paths']} equal the count under simple-path semantics (start, a, b, x "
                         "all different; what a path enumeration finds): " + "; ".join(sp["first"][:5]) + ".")
        lines.append("- Vendor pattern: walks, trails and simple paths give the same set: the only walk that "
                     "reuses a relation or an entity goes back to the start, an agency, never a nonprofit.")
        lines.append("- Shortest path: the length of a shortest path following ties either way, denied ties skipped "
                     "(NetworkX `shortest_path_length` on the undirected view; Kuzu `* SHORTEST 1..30`, so a pair "
                     "farther apart than 30 reads as no path there). tiegraph's path is also checked to be a walk of "
                     "live relations from one end to the other.")
        if b:
            counts = sorted(o["count"] for o in b["outcomes"] if o["count"] is not None)
            lines += ["", "## Memory under concurrent worst-case searches", "",
                      f"The 3-hop from the {len(b['outcomes'])} entities with a VENDOR_TO or OWNS tie that have the most "
                      f"ties ({results['sample_info']['worst_degree_min']:,} and more; the first: "
                      f"{results['sample_info']['worst_starts']}), all sent at once on "
                      f"{len(b['outcomes'])} connections; the server's RSS sampled with psutil every 5 ms "
                      f"({b['samples']} samples): {mib(b['before']):,.0f} MiB before, peak {mib(b['peak']):,.0f} MiB, "
                      f"{mib(b['after_1s']):,.0f} MiB one second after the last answer (VmHWM {mib(b['hwm']):,.0f} MiB). "
                      f"{b['complete']} complete, {b['partial']} partial, {b['refused']} refused or failed "
                      f"{b['errors'] if b['errors'] else ''}; all answered within {b['seconds']:.1f} s; "
                      f"counts {counts[0] if counts else 'n/a'} to {counts[-1] if counts else 'n/a'}."]
    lines += ["", "## Store (issue 8)", "", "| figure | tiegraph | Kuzu 0.11.3 | NetworkX | target | met |",
              "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in store_rows(results)]
    if results["mismatches"]:
        lines += ["", f"## MISMATCHES ({len(results['mismatches'])})", ""]
        lines += [f"- {m}" for m in results["mismatches"][:50]]
    lines += ["", "## Other figures",
              f"- generate: {results['generate_seconds']:.1f} s; import: {results['import_seconds']:.1f} s, peak RSS "
              f"{results['import_peak_rss'] / MIB:,.0f} MiB; second import ({results['more_relations']:,} relations): "
              f"{results['import_into_full_seconds']:.1f} s, peak RSS {results['import_into_full_peak_rss'] / MIB:,.0f} MiB",
              f"- Kuzu COPY of the same {results['more_relations']:,} relations: {fmt(results.get('kuzu_import_more_seconds'))} s "
              "(after Kuzu's queries, so every system answers on the same graph)",
              f"- lookups: {json.dumps(results.get('lookups'))}",
              f"- writes, 1 client: {json.dumps(results.get('writes_1'))}",
              f"- writes, 4 clients: {json.dumps(results.get('writes_4'))}",
              f"- Kuzu: CSV derivation {fmt(results.get('kuzu_csv_seconds'))} s, COPY {fmt(results.get('kuzu_import_seconds'))} s, "
              f"reopen {fmt(results.get('kuzu_open_seconds'))} s",
              f"- NetworkX: load {fmt(results.get('networkx_load_seconds'))} s (parse {results['parse_seconds']:.1f} s + build)",
              "", "![chart](chart.png)", ""]
    report = "\n".join(lines)
    (out_dir / "report.md").write_text(report)
    chart(results, out_dir / "chart.png")
    shutil.copyfile(out_dir / "chart.png", BENCH / "results" / "latest.png")
    (BENCH / "results" / "latest.md").write_text(report.replace("](chart.png)", "](latest.png)"))
    (out_dir / "results.json").write_text(json.dumps(serialisable(results), indent=1, default=str))
    return report


def serialisable(results):
    """Answers as their size (sets of ids would make the file huge) and value otherwise."""
    out = {}
    for k, v in results.items():
        if isinstance(v, dict) and "answers" in v:
            out[k] = {"times": v["times"], "answers": [
                {**a, "value": len(a["value"]) if isinstance(a["value"], set) else a["value"]} for a in v["answers"]]}
        else:
            out[k] = v
    return out


def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    queries = not results.get("store_only")
    fig, axes = plt.subplots(1, 3 if queries else 1, figsize=(16 if queries else 6, 5), squeeze=False,
                             gridspec_kw={"width_ratios": [2.2, 1, 1.2]} if queries else None)
    axes = axes[0]
    if queries:
        ax = axes[0]
        width = 0.26
        colors = {"tiegraph": "tab:blue", "kuzu": "tab:orange", "networkx": "tab:green"}
        for j, (system, label) in enumerate(SYSTEMS):
            xs, p50, p99, mx = [], [], [], []
            for i, (key, _) in enumerate(WORKLOADS):
                entry = results.get(f"{system}_{key}")
                if not entry:
                    continue
                s = stats(entry)
                xs.append(i + (j - 1) * width)
                p50.append(s["p50"])
                p99.append(s["p99"])
                mx.append(s["max"])
            if not xs:
                continue  # a system left out (--no-kuzu): no empty bar in the legend
            ax.bar(xs, p50, width, label=f"{label}", color=colors[system])
            ax.scatter(xs, p99, marker="_", s=300, linewidths=2, color="black")
            ax.scatter(xs, mx, marker=".", s=40, color="black")
        for i, (key, _) in enumerate(WORKLOADS):
            t50, t99 = QUERY_TARGETS[key]
            ax.hlines([t50], i - 1.5 * width, i + 1.5 * width, colors="red", linestyles="dashed")
            ax.hlines([t99], i - 1.5 * width, i + 1.5 * width, colors="red", linestyles="dotted")
        ax.set_xticks(range(len(WORKLOADS)), [w[1] for w in WORKLOADS])
        ax.set_yscale("log")
        ax.set_ylabel("ms, log scale")
        ax.plot([], [], color="black", marker="_", linestyle="none", markersize=12, label="p99")
        ax.plot([], [], color="black", marker=".", linestyle="none", label="max")
        ax.plot([], [], color="red", linestyle="dashed", label="target p50")
        ax.plot([], [], color="red", linestyle="dotted", label="target p99")
        ax.set_ylim(top=ax.get_ylim()[1] * 30)
        ax.legend(fontsize=7, ncol=4, loc="upper center")
        ax.set_title(f"bars p50; {results['samples']} samples each; tiegraph over HTTP, others in process\n"
                     f"{results['entities']:,} entities / {results['relations']:,} relations, commit {results['commit']}",
                     fontsize=9)
        ax = axes[1]
        b = results.get("burst") or {}
        bars = [("after\nopen", results["server_rss_open"]), ("before\nburst", b.get("before", 0)),
                (f"peak, {len(b.get('outcomes', []))}\nconcurrent", b.get("peak", 0)), ("1 s\nafter", b.get("after_1s", 0))]
        ax.bar([x[0] for x in bars], [x[1] / MIB for x in bars], color="tab:blue")
        ax.axhline(1024, color="red", linestyle="dashed", label="target after open")
        ax.axhline(1536, color="red", linestyle="dotted", label="target under load")
        ax.set_ylabel("MiB")
        ax.set_title("tiegraph server RSS", fontsize=9)
        ax.legend(fontsize=8)
    ax = axes[-1]
    loads = [("tiegraph\nimport", results["import_seconds"]), ("tiegraph\nopen+serve", results["open_and_serve_seconds"]),
             ("Kuzu\nCOPY", results.get("kuzu_import_seconds", 0)), ("Kuzu\nreopen", results.get("kuzu_open_seconds", 0)),
             ("NetworkX\nload", results.get("networkx_load_seconds", 0))]
    ax.bar([l[0] for l in loads], [l[1] for l in loads], color="tab:gray")
    ax.set_ylabel("seconds")
    ax.set_title("load and start", fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
