"""Schemathesis checks for the tiegraph GraphQL fuzz (loaded with SCHEMATHESIS_HOOKS=hooks).

Every answer must be a clear GraphQL error or a result: a JSON object whose every error carries
a non-empty string `extensions.code`, never a 5xx, never a timeout (408), never a server-side
failure code. TIEGRAPH_FUZZ_AUTH says whether this run sends the write token: with it a mutation
may run (or fail with a coded error) but is never refused as unauthorised; without it every
mutation must be refused with 401 and code UNAUTHORIZED before it runs.
"""

import json
import os

import schemathesis

AUTHORISED = os.environ.get("TIEGRAPH_FUZZ_AUTH") == "1"
SERVER_SIDE_CODES = {"INTERNAL_SERVER_ERROR"}


def _describe(case, response) -> str:
    body = case.body if isinstance(case.body, str) else repr(case.body)
    text = response.content.decode("utf-8", "replace") if response.content else "<empty body>"
    return f"query:\n{body}\nstatus: {response.status_code}\nresponse: {text[:2000]}"


def _payload(case, response):
    try:
        payload = json.loads(response.content)
    except (ValueError, TypeError) as exc:
        raise AssertionError(f"the answer is not JSON ({exc})\n{_describe(case, response)}")
    if not isinstance(payload, (dict, list)):
        raise AssertionError(f"the answer is not a JSON object\n{_describe(case, response)}")
    return payload


def _answers(payload):
    return payload if isinstance(payload, list) else [payload]


@schemathesis.check
def tiegraph_coded_errors(ctx, response, case):
    """No 5xx, no timeout, a JSON answer, and every GraphQL error with a non-empty extensions.code."""
    if response.status_code >= 500:
        raise AssertionError(f"server error {response.status_code}\n{_describe(case, response)}")
    if response.status_code == 408:
        raise AssertionError(f"the request timed out on the server (hang)\n{_describe(case, response)}")
    payload = _payload(case, response)
    for answer in _answers(payload):
        if not isinstance(answer, dict):
            raise AssertionError(f"an answer is not a JSON object\n{_describe(case, response)}")
        errors = answer.get("errors") or []
        if not isinstance(errors, list):
            raise AssertionError(f"`errors` is not a list\n{_describe(case, response)}")
        if "data" not in answer and not errors:
            raise AssertionError(f"neither data nor errors\n{_describe(case, response)}")
        for error in errors:
            extensions = error.get("extensions") if isinstance(error, dict) else None
            code = extensions.get("code") if isinstance(extensions, dict) else None
            if not isinstance(code, str) or not code:
                raise AssertionError(f"a GraphQL error without extensions.code\n{_describe(case, response)}")
            if code in SERVER_SIDE_CODES:
                raise AssertionError(f"a server-side failure ({code})\n{_describe(case, response)}")
            if not isinstance(error.get("message"), str) or not error["message"]:
                raise AssertionError(f"a GraphQL error without a message\n{_describe(case, response)}")
    return None


def _codes(payload):
    return [
        (error.get("extensions") or {}).get("code") if isinstance(error.get("extensions"), dict) else None
        for answer in _answers(payload)
        if isinstance(answer, dict)
        for error in (answer.get("errors") or [])
        if isinstance(error, dict)
    ]


# Refusals that may come before the token is looked at: the request could not be read, or is
# too large. Everything else a mutation without the token gets must be the 401.
REFUSED_BEFORE_AUTH = {
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_LARGE",
    "BAD_REQUEST",
    "PAYLOAD_TOO_LARGE",
}


@schemathesis.check
class tiegraph_write_access:
    """Mutations: refused with 401 UNAUTHORIZED without the token, never so with it.

    Queries are never refused as unauthorised (reads are open on this server). At the end of a
    run without the token, every mutation field that was fuzzed must have met at least one 401.
    """

    def __init__(self):
        self.mutations = set()
        self.refused = set()

    def after_response(self, ctx, response, case):
        definition = case.operation.definition
        label = case.operation.label
        payload = _payload(case, response)
        codes = _codes(payload)
        if not getattr(definition, "is_mutation", False):
            if response.status_code == 401 or "UNAUTHORIZED" in codes:
                raise AssertionError(f"a query was refused as unauthorised\n{_describe(case, response)}")
            return None
        self.mutations.add(label)
        if AUTHORISED:
            if response.status_code == 401 or "UNAUTHORIZED" in codes:
                raise AssertionError(f"a mutation with the token was refused\n{_describe(case, response)}")
            return None
        if response.status_code == 401:
            if codes != ["UNAUTHORIZED"]:
                raise AssertionError(f"a 401 without the single error UNAUTHORIZED\n{_describe(case, response)}")
            if "www-authenticate" not in {k.lower() for k in response.headers}:
                raise AssertionError(f"a 401 without WWW-Authenticate\n{_describe(case, response)}")
            self.refused.add(label)
            return None
        ran = any(isinstance(a, dict) and a.get("data") is not None for a in _answers(payload))
        if ran or not codes or not set(codes) <= REFUSED_BEFORE_AUTH:
            raise AssertionError(f"a mutation without the token was not refused with 401\n{_describe(case, response)}")
        return None

    def after_run(self, ctx):
        if AUTHORISED:
            return None
        never = self.mutations - self.refused
        if never:
            raise AssertionError("mutations never answered 401 without the token: " + ", ".join(sorted(never)))
        return None
