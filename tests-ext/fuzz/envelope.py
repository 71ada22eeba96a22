"""Fuzzes what schemathesis leaves alone: the HTTP envelope around a GraphQL request.

Hypothesis draws bodies (arbitrary bytes, arbitrary JSON, request objects with fields of the
wrong types, batches of any size), GET parameters, media types and the token, around queries
and mutations that hypothesis-graphql draws from the live schema. Every answer must be a clear
GraphQL answer: never a 5xx, never a timeout, a JSON body whose every error carries a non-empty
string `extensions.code`. Prints each failure (the request and the answer) and exits 1 on any.

    python3 envelope.py URL TOKEN [EXAMPLES] [SEED]
"""

import json
import sys
import traceback

import requests
from graphql import build_client_schema, get_introspection_query, print_ast
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode
from hypothesis_graphql import strategies as gql

URL, TOKEN = sys.argv[1], sys.argv[2]
EXAMPLES = int(sys.argv[3]) if len(sys.argv) > 3 else 150
SEED = int(sys.argv[4]) if len(sys.argv) > 4 else 20240601
SESSION = requests.Session()
TIMEOUT = 40
failures = []
sent = 0

introspection = SESSION.post(URL, json={"query": get_introspection_query()}, timeout=TIMEOUT)
introspection.raise_for_status()
SCHEMA = build_client_schema(introspection.json()["data"])

# Queries and mutations from the schema, valid and (in negative mode) invalid.
operations = st.one_of(
    gql.queries(SCHEMA, print_ast=print_ast),
    gql.mutations(SCHEMA, print_ast=print_ast),
    gql.queries(SCHEMA, print_ast=print_ast, mode=Mode.NEGATIVE),
    gql.mutations(SCHEMA, print_ast=print_ast, mode=Mode.NEGATIVE),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
# A request object whose fields may be right, missing, or of the wrong type.
request_objects = st.fixed_dictionaries(
    {},
    optional={
        "query": operations | json_values,
        "variables": json_values | st.dictionaries(st.text(max_size=10), json_values, max_size=4),
        "operationName": st.none() | st.text(max_size=12) | json_values,
        "extensions": json_values,
    },
)
bodies = st.one_of(
    request_objects.map(json.dumps),
    st.lists(request_objects, max_size=13).map(json.dumps),  # batches, empty and over the limit
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", None]
)
accepts = st.sampled_from(
    [None, "application/json", "application/graphql-response+json", "*/*", "application/*",
     "text/plain", "application/graphql-response+json;q=0.9, application/json;q=0.8", ""]
)
tokens = st.sampled_from([None, f"Bearer {TOKEN}", "Bearer wrong", "Basic abc", "Bearer", ""])


def headers_of(content_type, accept, token):
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if accept is not None:
        headers["Accept"] = accept
    if token is not None:
        headers["Authorization"] = token
    return headers


def judge(method, headers, data, params, response):
    """Returns what is wrong with the answer, or None."""
    if response.status_code >= 500:
        return f"server error {response.status_code}"
    if response.status_code == 408:
        return "the request timed out on the server (hang)"
    try:
        payload = response.json()
    except ValueError:
        return f"the answer is not JSON (status {response.status_code})"
    answers = payload if isinstance(payload, list) else [payload]
    for answer in answers:
        if not isinstance(answer, dict):
            return "an answer is not a JSON object"
        errors = answer.get("errors") or []
        if "data" not in answer and not errors:
            return "an answer with neither data nor errors"
        for error in errors:
            extensions = error.get("extensions") if isinstance(error, dict) else None
            code = extensions.get("code") if isinstance(extensions, dict) else None
            if not isinstance(code, str) or not code:
                return "a GraphQL error without extensions.code"
            if code == "INTERNAL_SERVER_ERROR":
                return "a server-side failure (INTERNAL_SERVER_ERROR)"
    if response.status_code >= 400 and not any(isinstance(a, dict) and a.get("errors") for a in answers):
        return f"a {response.status_code} without a GraphQL error"
    return None


def _clip(text, keep=300):
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text)} characters in all)"


def send(method, headers, data=None, params=None):
    global sent
    sent += 1
    try:
        response = SESSION.request(method, URL, headers=headers, data=data, params=params, timeout=TIMEOUT)
    except requests.RequestException as exc:
        problem, response = f"no answer: {exc!r}", None
    else:
        problem = judge(method, headers, data, params, response)
    if problem:
        shown = data if isinstance(data, str) or data is None else data.decode("utf-8", "replace")
        answer = "<none>" if response is None else f"{response.status_code} {response.text[:1500]}"
        raise AssertionError(
            f"{problem}\n  {method} {URL} params={params!r}\n  headers={headers!r}\n"
            f"  body={_clip(str(shown))!r}\n  answer: {answer}"
        )


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@seed(SEED)
@SETTINGS
@given(body=bodies, content_type=content_types, accept=accepts, token=tokens)
def test_post(body, content_type, accept, token):
    data = body.encode("utf-8") if isinstance(body, str) else body
    send("POST", headers_of(content_type, accept, token), data=data)


@seed(SEED + 1)
@SETTINGS
@given(
    query=operations | st.text(max_size=60),
    variables=st.none() | json_values.map(json.dumps) | st.text(max_size=20),
    operation_name=st.none() | st.text(max_size=12),
    extra=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2),
    accept=accepts.filter(lambda a: a is None or "text/html" not in a),
    token=tokens,
)
def test_get(query, variables, operation_name, extra, accept, token):
    params = dict(extra)
    params["query"] = query
    if variables is not None:
        params["variables"] = variables
    if operation_name is not None:
        params["operationName"] = operation_name
    send("GET", headers_of(None, accept, token), params=params)


@seed(SEED + 2)
@SETTINGS
@given(
    query=st.binary(min_size=1, max_size=40),
    accept=accepts.filter(lambda a: a is None or "text/html" not in a),
)
def test_get_raw_query_string(query, accept):
    # A query string that is not valid UTF-8 once percent-decoded.
    params = "query=" + "".join(f"%{b:02X}" for b in query)
    send("GET", headers_of(None, accept, None), params=params)


@seed(SEED + 3)
@settings(SETTINGS, max_examples=min(EXAMPLES, 10), phases=[Phase.generate])  # no shrinking MiBs
@given(size=st.integers(min_value=(1 << 20) + 1, max_value=(1 << 20) + 4096), token=tokens)
def test_post_too_large(size, token):
    query = "{ stats { entities } }"
    body = json.dumps({"query": query, "variables": {"pad": "x" * size}}).encode()
    send("POST", headers_of("application/json", None, token), data=body)


@seed(SEED + 4)
@settings(SETTINGS, max_examples=min(EXAMPLES, 10))
@given(method=st.sampled_from(["PUT", "DELETE", "PATCH"]), body=request_objects.map(json.dumps), token=tokens)
def test_other_methods(method, body, token):
    # Not GraphQL over HTTP's methods: still a refusal a GraphQL client can read.
    send(method, headers_of("application/json", None, token), data=body.encode())


TESTS = [test_post, test_get, test_get_raw_query_string, test_post_too_large, test_other_methods]
for test in TESTS:
    try:
        test()
        print(f"envelope: {test.__name__}: passed")
    except AssertionError as exc:
        # Hypothesis has shrunk it to a minimal failing request.
        message = str(exc).split("\nFalsifying example")[0]
        failures.append((test.__name__, message))
        print(f"envelope: {test.__name__}: FAILED\n{message}\n")
    except Exception:  # noqa: BLE001 - a crash of the fuzzer is a failure too
        failures.append((test.__name__, traceback.format_exc()))
        print(f"envelope: {test.__name__}: ERROR\n{traceback.format_exc()}")

print(f"envelope: {sent} requests, {len(TESTS) - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
