"""Checks a replicated tiegraph THROUGH HAProxy (deploy/haproxy.cfg), as run.sh starts it.

Which node answered a request is read from the nodes' own /metrics: every request a node
answers is counted in tiegraph_http_requests_total by route, and HAProxy's health checks use
/ready and /health, never /graphql. Server states are read from HAProxy's statistics (CSV).

Environment (set by run.sh): PROXY_URL, STATS_URL, WRITER_URL, REPLICA1_URL, REPLICA2_URL,
TIEGRAPH_TOKEN, and NODES_DIR, which holds NAME.cmd (the command that starts a node, in
bash), NAME.pid and NAME.log for writer, replica1 and replica2. Standard library only.
"""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

PROXY = os.environ["PROXY_URL"]
STATS = os.environ["STATS_URL"]
TOKEN = os.environ["TIEGRAPH_TOKEN"]
NODES_DIR = os.environ["NODES_DIR"]
URLS = {
    "writer": os.environ["WRITER_URL"],
    "replica1": os.environ["REPLICA1_URL"],
    "replica2": os.environ["REPLICA2_URL"],
}
REPLICAS = ("replica1", "replica2")
RUN = uuid.uuid4().hex[:8]

# No proxy from the environment: every address here is on loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def log(message):
    print(f"replication: {message}", flush=True)


# --- HTTP and GraphQL ---------------------------------------------------------------------


def http(method, url, body=None, headers=None, timeout=15):
    """(status, body bytes); HTTP errors are answers too. Connection errors raise OSError."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def graphql(base, query, variables=None, extensions=None, token=False, raw_body=None):
    """POSTs a GraphQL request; (status, decoded answer or None)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {TOKEN}"
    if raw_body is None:
        document = {"query": query}
        if variables is not None:
            document["variables"] = variables
        if extensions is not None:
            document["extensions"] = extensions
        raw_body = json.dumps(document).encode()
    status, body = http("POST", f"{base}/graphql", raw_body, headers)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def graphql_get(base, query, variables=None):
    params = {"query": query}
    if variables is not None:
        params["variables"] = json.dumps(variables)
    status, body = http("GET", f"{base}/graphql?{urllib.parse.urlencode(params)}",
                        headers={"Accept": "application/json"})
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def ok(answer, what):
    status, document = answer
    check(document is not None, f"{what}: HTTP {status} with no JSON")
    check(status == 200 and not document.get("errors") and document.get("data") is not None,
          f"{what}: HTTP {status}, {json.dumps(document)[:400]}")
    return document


def sequence_of(document, what):
    sequence = (document.get("extensions") or {}).get("sequence")
    if isinstance(sequence, str) and sequence.isdigit():
        sequence = int(sequence)
    check(isinstance(sequence, int) and sequence > 0,
          f"{what}: no extensions.sequence in {json.dumps(document)[:300]}")
    return sequence


CREATE = "mutation Create($name: String!) { createEntity(input: {kind: COMPANY, name: $name}) { id name } }"
ENTITY = "query Entity($id: ID!) { entity(id: $id) { id name } }"
COUNT = "query Count { entities { totalCount } }"
READ = "query Read { entities(first: 1) { totalCount } }"

created = []  # (id, name, sequence) of every write this check made


def create(base, label, token=True):
    name = f"Replication {label} {RUN}"
    document = ok(graphql(base, CREATE, {"name": name}, token=token), f"the mutation {label}")
    entity = document["data"]["createEntity"]
    check(entity["name"] == name, f"the mutation {label} created {entity}")
    sequence = sequence_of(document, f"the mutation {label}")
    created.append((entity["id"], name, sequence))
    return entity["id"], sequence


# --- which node answered: the nodes' request counters ---------------------------------------


def counters(name):
    """Requests node `name` answered, by route (every status)."""
    status, body = http("GET", f"{URLS[name]}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    check(status == 200, f"{name}'s /metrics answered {status}")
    routes = {}
    for line in body.decode().splitlines():
        if not line.startswith("tiegraph_http_requests_total{"):
            continue
        labels, value = line[len("tiegraph_http_requests_total{"):].rsplit("} ", 1)
        fields = dict(part.split("=", 1) for part in labels.split(","))
        route = fields["route"].strip('"')
        routes[route] = routes.get(route, 0) + int(float(value))
    return routes


def graphql_counts(names, route="/graphql"):
    return {name: counters(name).get(route, 0) for name in names}


def counted(before, route="/graphql"):
    """Requests on `route` each live node answered since `before`."""
    after = graphql_counts(before.keys(), route)
    return {name: after[name] - before[name] for name in before}


# --- HAProxy's view -----------------------------------------------------------------------


def server_states():
    """{(backend, server): status} from HAProxy's CSV statistics."""
    status, body = http("GET", f"{STATS};csv")
    check(status == 200, f"HAProxy's statistics answered {status}")
    lines = body.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    states = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if row.get("svname") in ("FRONTEND", "BACKEND") or not row.get("pxname"):
            continue
        states[(row["pxname"], row["svname"])] = row["status"]
    return states


def wait_states(wanted, what, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        states = server_states()
        if all(states.get(key, "").startswith(value) for key, value in wanted.items()):
            return
        if time.monotonic() > deadline:
            raise Failure(f"{what}: HAProxy still shows {states}")
        time.sleep(0.2)


# --- the nodes' processes -----------------------------------------------------------------


def read_pid(name):
    with open(os.path.join(NODES_DIR, f"{name}.pid")) as f:
        return int(f.read().strip())


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return False


def kill9(name):
    pid = read_pid(name)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid):
        check(time.monotonic() < deadline, f"{name} (pid {pid}) outlived SIGKILL")
        time.sleep(0.05)


def start(name):
    """Starts node `name` again on its data directory, with the command run.sh started it with."""
    with open(os.path.join(NODES_DIR, f"{name}.log"), "ab") as out:
        process = subprocess.Popen(["bash", os.path.join(NODES_DIR, f"{name}.cmd")],
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    with open(os.path.join(NODES_DIR, f"{name}.pid"), "w") as f:
        f.write(f"{process.pid}\n")
    return process


def wait_ready(name, timeout=60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        check(pid_alive(read_pid(name)), f"{name} exited after it was started again")
        try:
            last, _ = http("GET", f"{URLS[name]}/ready", timeout=2)
            if last == 200:
                return
        except OSError as error:
            last = error
        time.sleep(0.2)
    raise Failure(f"{name} was not /ready within {timeout} s (last: {last})")


# --- reads that must keep succeeding ------------------------------------------------------


def reads_through_proxy(count, patience):
    """`count` reads through the proxy, each retried for up to `patience` seconds; returns how
    many needed more than one try. Fails when one never succeeds."""
    retried = 0
    for i in range(count):
        deadline = time.monotonic() + patience
        tries = 0
        while True:
            tries += 1
            try:
                if i % 2:
                    answer = graphql_get(PROXY, READ)
                else:
                    answer = graphql(PROXY, READ)
                status, document = answer
                if status == 200 and document and not document.get("errors"):
                    break
                last = f"HTTP {status}: {json.dumps(document)[:200]}"
            except OSError as error:
                last = repr(error)
            if time.monotonic() > deadline:
                raise Failure(f"read {i} through the proxy failed for {patience} s: {last}")
            time.sleep(0.2)
        if tries > 1:
            retried += 1
    return retried


def spread(count):
    """`count` reads through the proxy; the /graphql requests each node answered meanwhile."""
    before = graphql_counts(URLS.keys())
    for i in range(count):
        answer = graphql_get(PROXY, READ) if i % 2 else graphql(PROXY, READ)
        ok(answer, f"read {i} through the proxy")
    return counted(before)


def has_every_write(name):
    """Node `name` (asked directly) has every entity this check created, and as many entities
    as the writer."""
    if not created:
        return
    latest = max(sequence for _, _, sequence in created)
    for entity_id, entity_name, sequence in created:
        document = ok(graphql(URLS[name], ENTITY, {"id": entity_id}, {"minSequence": sequence}),
                      f"{name}: entity {entity_id}")
        entity = document["data"]["entity"]
        check(entity is not None and entity["name"] == entity_name,
              f"{name} lacks {entity_id} (commit {sequence}): {entity}")
    mine = ok(graphql(URLS[name], COUNT, extensions={"minSequence": latest}), f"{name}: count")
    writers = ok(graphql(URLS["writer"], COUNT), "the writer: count")
    check(mine["data"]["entities"]["totalCount"] == writers["data"]["entities"]["totalCount"],
          f"{name} has {mine['data']['entities']['totalCount']} entities, the writer "
          f"{writers['data']['entities']['totalCount']}")


# --- a websocket through the proxy (graphql-transport-ws), standard library only -------------


class WebSocket:
    def __init__(self, base, path, protocol):
        url = urllib.parse.urlparse(base)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n")
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            check(chunk, "the websocket handshake through the proxy was cut")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        status_line = head.split(b"\r\n", 1)[0].decode()
        check(" 101 " in status_line + " ", f"the websocket upgrade through the proxy: {status_line}")

    def send(self, message):
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            check(chunk, "the websocket through the proxy was closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self, timeout):
        """The next text message, as JSON (pings answered, other frames skipped)."""
        self.sock.settimeout(timeout)
        while True:
            first, second = self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = int.from_bytes(self._read(2), "big")
            elif length == 127:
                length = int.from_bytes(self._read(8), "big")
            payload = self._read(length)
            if opcode == 0x1:
                return json.loads(payload)
            if opcode == 0x8:
                raise Failure(f"the websocket through the proxy was closed: {payload[2:]!r}")
            if opcode == 0x9:
                mask = os.urandom(4)
                self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask
                                  + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- the checks -----------------------------------------------------------------------------


def main():
    seen = []
    wait_states({("writer", "writer"): "UP", ("replicas", "replica1"): "UP",
                 ("replicas", "replica2"): "UP", ("replicas", "writer"): "UP"},
                "the proxy never saw every node up")

    # 1. A mutation through the proxy reaches the writer and says which commit it is.
    before = graphql_counts(URLS.keys())
    first_id, first_sequence = create(PROXY, "first")
    moved = counted(before)
    check(moved == {"writer": 1, "replica1": 0, "replica2": 0},
          f"the mutation through the proxy was answered by {moved}, not by the writer")
    seen.append(f"mutation -> writer (sequence {first_sequence})")

    # 2. Read-your-writes through the proxy: a replica answers, and has the entity.
    before = graphql_counts(URLS.keys())
    document = ok(graphql(PROXY, ENTITY, {"id": first_id}, {"minSequence": first_sequence}),
                  "the query with minSequence through the proxy")
    check(document["data"]["entity"] and document["data"]["entity"]["id"] == first_id,
          f"the query with minSequence through the proxy does not see {first_id}: {document}")
    check(sequence_of(document, "the query with minSequence") >= first_sequence,
          f"the query with minSequence was read at an earlier commit: {document}")
    moved = counted(before)
    check(moved["writer"] == 0 and moved["replica1"] + moved["replica2"] == 1,
          f"the query through the proxy was answered by {moved}, not by one replica")
    for name in REPLICAS:
        has_every_write(name)
    seen.append("read-your-writes query -> a replica; both replicas have the write")

    # 3. Reads are spread over both replicas, and the writer gets none.
    moved = spread(40)
    check(moved["writer"] == 0, f"the writer answered {moved['writer']} of 40 reads")
    check(moved["replica1"] + moved["replica2"] == 40, f"40 reads were answered as {moved}")
    check(min(moved["replica1"], moved["replica2"]) >= 10, f"40 reads were spread as {moved}")
    seen.append(f"40 reads -> replica1 {moved['replica1']}, replica2 {moved['replica2']}")

    # 4. What goes where, beyond the plain cases.
    cases = [
        # (what, request, the backend it must reach)
        ("a query naming the word mutation (a false positive: the writer answers reads)",
         lambda: graphql(PROXY, 'query { entities(filter: {text: "mutation"}) { totalCount } }'),
         "writer"),
        ("a query with the word only inside another (mutations)",
         lambda: graphql(PROXY, 'query { entities(filter: {text: "mutations"}) { totalCount } }'),
         "replica"),
        ("a mutation after a comment line (JSON \\n before the word)",
         lambda: graphql(PROXY, f"# made by the replication check\nmutation {{ createEntity("
                                f"input: {{kind: COMPANY, name: \"Replication comment {RUN}\"}}) {{ id name }} }}",
                         token=True),
         "writer"),
        ("a mutation whose body does not fit one proxy buffer",
         lambda: graphql(PROXY, None, token=True, raw_body=json.dumps({
             "variables": {"padding": "x" * 40000},
             "query": "mutation Big { createEntity(input: "
                      f'{{kind: COMPANY, name: "Replication big {RUN}"}}) {{ id name }} }}',
         }).encode()),
         "writer"),
    ]
    for what, send, backend in cases:
        before = graphql_counts(URLS.keys())
        status, document = send()
        check(status == 200 and document and not document.get("errors"),
              f"{what}: HTTP {status}, {json.dumps(document)[:300]}")
        data = document["data"]
        if "createEntity" in data:
            created.append((data["createEntity"]["id"], data["createEntity"]["name"],
                            sequence_of(document, what)))
        moved = counted(before)
        reached = [name for name, n in moved.items() if n]
        check(len(reached) == 1 and reached[0].startswith(backend),
              f"{what}: answered by {moved}, not by the {backend}")
    status, body = http("POST", f"{PROXY}/admin/checkpoint", b"",
                        {"Authorization": f"Bearer {TOKEN}"})
    check(status == 200, f"POST /admin/checkpoint through the proxy: HTTP {status} {body[:300]!r}")
    seen.append("routing cases (word boundary, escapes, big body, /admin) ok")

    # 5. A mutation sent straight to a replica is refused, naming the writer.
    for name in REPLICAS:
        status, document = graphql(URLS[name], CREATE, {"name": f"Refused {RUN}"}, token=True)
        errors = (document or {}).get("errors") or []
        check(errors, f"a mutation sent to {name} was not refused: HTTP {status} {document}")
        extensions = errors[0].get("extensions") or {}
        check(extensions.get("code") == "READ_ONLY",
              f"a mutation sent to {name} got {errors[0]}, not READ_ONLY")
        check(extensions.get("writer") == URLS["writer"],
              f"{name}'s READ_ONLY names {extensions.get('writer')!r}, not the writer {URLS['writer']}")
    seen.append("mutation to a replica -> READ_ONLY naming the writer")

    # 6. A subscription through the proxy (a websocket upgrade) reaches a replica, which
    #    passes on a write made through the proxy.
    before = graphql_counts(URLS.keys(), "/graphql/ws")
    socket_ = WebSocket(PROXY, "/graphql/ws", "graphql-transport-ws")
    try:
        socket_.send({"type": "connection_init", "payload": {}})
        message = socket_.receive(10)
        check(message.get("type") == "connection_ack", f"the websocket answered {message}")
        socket_.send({"id": "1", "type": "subscribe",
                      "payload": {"query": "subscription { changes { kind recordType id } }"}})
        upgraded = counted(before, "/graphql/ws")
        check(upgraded["writer"] == 0 and upgraded["replica1"] + upgraded["replica2"] == 1,
              f"the websocket through the proxy was answered by {upgraded}, not by one replica")
        time.sleep(0.5)
        live_id, _ = create(PROXY, "live")
        deadline = time.monotonic() + 15
        while True:
            message = socket_.receive(max(0.1, deadline - time.monotonic()))
            check(message.get("type") == "next", f"the subscription answered {message}")
            event = message["payload"]["data"]["changes"]
            if event["id"] == live_id:
                break
            check(time.monotonic() < deadline, "the subscription did not pass on the write")
    except socket.timeout:
        raise Failure("the subscription through the proxy did not pass on the write made through it")
    finally:
        socket_.close()
    seen.append("subscription through the proxy -> a replica, sees a write")

    # 7. kill -9 one replica: reads keep being answered; it gets none while down; started
    #    again on its data directory it becomes ready and has every write, those made while
    #    it was down too.
    kill9("replica1")
    retried = reads_through_proxy(30, patience=5)
    wait_states({("replicas", "replica1"): "DOWN"}, "HAProxy did not take the killed replica1 out")
    before = graphql_counts(["writer", "replica2"])
    for i in range(10):
        ok(graphql(PROXY, READ), f"read {i} with replica1 down")
    moved = counted(before)
    check(moved == {"writer": 0, "replica2": 10}, f"with replica1 down, 10 reads went {moved}")
    create(PROXY, "while replica1 was down")
    start("replica1")
    wait_ready("replica1")
    wait_states({("replicas", "replica1"): "UP"}, "HAProxy did not put replica1 back")
    has_every_write("replica1")
    moved = spread(20)
    check(moved["replica1"] >= 5 and moved["replica2"] >= 5 and moved["writer"] == 0,
          f"after replica1 came back, 20 reads went {moved}")
    seen.append(f"replica1 killed: 30 reads answered ({retried} retried by the client), "
                "back with every write")

    # 8. Both replicas down: the writer (the backup server) answers reads; both come back.
    kill9("replica1")
    kill9("replica2")
    before = graphql_counts(["writer"])
    retried = reads_through_proxy(20, patience=10)
    moved = counted(before)
    check(moved["writer"] >= 20, f"with both replicas down the writer answered {moved['writer']} of 20 reads")
    wait_states({("replicas", "replica1"): "DOWN", ("replicas", "replica2"): "DOWN"},
                "HAProxy did not take both killed replicas out")
    create(PROXY, "while both replicas were down")
    for name in REPLICAS:
        start(name)
    for name in REPLICAS:
        wait_ready(name)
    wait_states({("replicas", "replica1"): "UP", ("replicas", "replica2"): "UP"},
                "HAProxy did not put both replicas back")
    for name in REPLICAS:
        has_every_write(name)
    moved = spread(20)
    check(moved["replica1"] >= 5 and moved["replica2"] >= 5 and moved["writer"] == 0,
          f"after both replicas came back, 20 reads went {moved}")
    seen.append(f"both replicas killed: 20 reads answered by the writer ({retried} retried by "
                "the client), both back with every write")

    print("replication: through HAProxy: " + "; ".join(seen) + f"; {len(created)} writes")


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(f"replication: FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
