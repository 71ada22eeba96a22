#!/usr/bin/env python3
"""The server's memory under the cheap attacks of issue 10, measured on a release build.

Builds a synthetic graph (`tiegraph generate`), imports it, starts `tiegraph serve` with
whole-graph exports allowed, then runs each attack while sampling the server's RSS from /proc
every 20 ms, and prints the peak of each phase next to the RSS after open, and how long
`/health` took at worst meanwhile. Prints figures only: nothing here passes or fails.

    python3 bench/attacks.py [--bin target/release/tiegraph] [--relations 200000]
"""

import argparse
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def rss(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def mib(n):
    return f"{n / (1 << 20):,.0f} MiB"


class Sampler:
    """Peak RSS of `pid`, and the slowest /health, while a phase runs."""

    def __init__(self, pid, port):
        self.pid, self.port = pid, port
        self.peak, self.health = 0, 0.0
        self.running = True
        self.threads = [threading.Thread(target=self.memory), threading.Thread(target=self.probe)]
        for thread in self.threads:
            thread.start()

    def memory(self):
        while self.running:
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.02)

    def probe(self):
        while self.running:
            started = time.perf_counter()
            try:
                http(self.port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=10)
            except OSError:
                pass
            self.health = max(self.health, time.perf_counter() - started)
            time.sleep(0.2)

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join()
        return self.peak, self.health


def http(port, request, timeout=60, read=True):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request.encode())
        total = 0
        while read:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            total += len(chunk)
        return total


def stalled(port, path, seconds):
    """Asks for `path`, reads its first bytes, then reads nothing for `seconds`."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    s.recv(1024)
    time.sleep(seconds)
    s.close()


def slow_head(port, seconds):
    """Sends a request head one byte a second."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=seconds + 5)
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\n"[:seconds]:
            s.sendall(bytes([byte]))
            time.sleep(1)
        s.close()
    except OSError:
        pass


def ws_frame(text):
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    elif len(payload) < 1 << 16:
        header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
    else:
        header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def websocket_flood(port, searches, big_documents):
    """One socket: `searches` search operations sent at once, then documents over the limit."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /graphql/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
    s.recv(4096)
    s.sendall(ws_frame(json.dumps({"type": "connection_init"})))
    query = '{ connected(from: "e0", pattern: [{maxRepeat: 4}], first: 100) { totalCount partial } }'
    for i in range(searches):
        s.sendall(ws_frame(json.dumps({"id": str(i), "type": "subscribe", "payload": {"query": query}})))
    big = "{ stats { entities } }" + " " * (15 << 20)
    try:
        for i in range(big_documents):
            s.sendall(ws_frame(json.dumps({"id": f"big{i}", "type": "subscribe", "payload": {"query": big}})))
    except OSError:
        pass  # closed by the server: the message was over its limit
    s.settimeout(5)
    try:
        while s.recv(1 << 16):
            pass
    except OSError:
        pass
    s.close()


def phase(name, pid, port, work, baseline, rows):
    sampler = Sampler(pid, port)
    started = time.perf_counter()
    detail = work()
    took = time.perf_counter() - started
    peak, health = sampler.stop()
    rows.append((name, peak, peak - baseline, health, took, detail))
    print(f"  {name}: peak {mib(peak)} (+{mib(peak - baseline)}), slowest /health {health * 1000:,.0f} ms, "
          f"{took:,.1f} s; {detail}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=str(REPO / "target/release/tiegraph"))
    parser.add_argument("--entities", type=int, default=40_000)
    parser.add_argument("--relations", type=int, default=200_000)
    parser.add_argument("--work", default=None, help="a directory to work in (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="tiegraph-attacks-"))
    work.mkdir(parents=True, exist_ok=True)
    graph, data = work / "graph.jsonl", work / "data"
    if not data.exists():
        subprocess.run([args.bin, "generate", "--entities", str(args.entities), "--relations",
                        str(args.relations), "--out", str(graph)], check=True)
        subprocess.run([args.bin, "import", "--data-dir", str(data), str(graph)], check=True,
                       stdout=subprocess.DEVNULL)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([args.bin, "serve", "--data-dir", str(data), "--listen", f"127.0.0.1:{port}",
                               "--seed-dir", str(work / "no-seed"), "--max-export-relations", "0"],
                              stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "w"))
    try:
        for _ in range(600):
            try:
                http(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        baseline = rss(server.pid)
        print(f"tiegraph under attack: {args.entities:,} entities, {args.relations:,} relations; "
              f"RSS after open {mib(baseline)}", flush=True)
        rows = []
        export = "GET /export?format=cytoscape HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        phase("one whole-graph export (cytoscape), read to the end", server.pid, port,
              lambda: f"{http(port, export) / (1 << 20):,.0f} MiB sent", baseline, rows)

        def stalled_exports():
            threads = [threading.Thread(target=stalled, args=(port, "/export?format=graphml", 8)) for _ in range(20)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return "20 asking at once, at most 2 admitted by the export limit, none reading on for 8 s"
        phase("whole-graph exports whose clients stop reading", server.pid, port, stalled_exports, baseline, rows)

        def sockets():
            websocket_flood(port, 300, 3)
            return "300 searches and three 15 MiB documents on one websocket"
        phase("websocket flood", server.pid, port, sockets, baseline, rows)

        def loris():
            threads = [threading.Thread(target=slow_head, args=(port, 15)) for _ in range(400)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return "400 connections sending a head a byte a second"
        phase("slow request heads", server.pid, port, loris, baseline, rows)
        print("\n| attack | peak RSS | over open | slowest /health |\n|---|---|---|---|")
        for name, peak, over, health, _, detail in rows:
            print(f"| {name} ({detail}) | {mib(peak)} | +{mib(over)} | {health * 1000:,.0f} ms |")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
