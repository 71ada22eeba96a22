//! GraphQL requests as a transport receives them: a JSON body (one request or a batch) or the
//! parameters of a GET, read into async-graphql requests with refusals a person can act on
//! rather than serde's "data did not match any variant of untagged enum BatchRequest"; and
//! their answers, as the transport sends them.

use std::collections::HashMap;

use async_graphql::{BatchRequest, BatchResponse, Extensions, Request, Value, Variables};
use serde_json::Value as Json;

use super::error::{ensure_codes, grouped, ErrorCode, LimitHit};
use super::limits::{Prepared, Refusal};
use super::{Api, Caller};

/// The requests of one HTTP request body.
pub struct Received {
    pub requests: Vec<Request>,
    /// Sent as a JSON array: answered as one, even with a single element.
    pub batched: bool,
}

fn malformed(message: impl Into<String>) -> Refusal {
    Refusal::new(ErrorCode::GraphqlParseFailed, message)
}

/// Reads a POST body: a request object, or an array of at most `max_batch` of them.
pub fn requests_from_body(body: &[u8], max_batch: usize) -> Result<Received, Refusal> {
    let value: Json = serde_json::from_slice(body).map_err(|error| {
        Refusal::new(
            ErrorCode::BadRequest,
            format!(
                "the body is not JSON (line {}, column {}): send {{\"query\": \"...\"}}",
                error.line(),
                error.column()
            ),
        )
    })?;
    match value {
        Json::Array(items) => {
            if items.is_empty() {
                return Err(malformed(
                    "the batch is empty: send at least one request object in the array",
                ));
            }
            if items.len() > max_batch {
                return Err(Refusal {
                    limit: Some(LimitHit {
                        name: "maxBatch",
                        max: max_batch as u64,
                    }),
                    ..Refusal::new(
                        ErrorCode::BadRequest,
                        format!(
                            "the batch holds {} operations; a batch may hold at most {}",
                            grouped(items.len() as u64),
                            grouped(max_batch as u64)
                        ),
                    )
                });
            }
            let requests = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| request_from_json(item, Some(i)))
                .collect::<Result<_, _>>()?;
            Ok(Received {
                requests,
                batched: true,
            })
        }
        other => Ok(Received {
            requests: vec![request_from_json(other, None)?],
            batched: false,
        }),
    }
}

/// One request object: `query` a string (absent only with a persisted-query extension),
/// `operationName` a string or null, `variables` and `extensions` objects or null.
fn request_from_json(value: Json, index: Option<usize>) -> Result<Request, Refusal> {
    let at = index
        .map(|i| format!(" (batch item {i})"))
        .unwrap_or_default();
    let Json::Object(mut fields) = value else {
        return Err(malformed(format!(
            "a GraphQL request is a JSON object like {{\"query\": \"...\"}}{at}"
        )));
    };
    let query = match fields.remove("query") {
        Some(Json::String(query)) => query,
        None | Some(Json::Null) => String::new(),
        Some(_) => {
            return Err(malformed(format!(
                "`query` must be a string holding a GraphQL document{at}"
            )))
        }
    };
    let operation_name = match fields.remove("operationName") {
        Some(Json::String(name)) => Some(name).filter(|n| !n.is_empty()),
        None | Some(Json::Null) => None,
        Some(_) => {
            return Err(malformed(format!(
                "`operationName` must be a string or null{at}"
            )))
        }
    };
    let variables = object_field(fields.remove("variables"), "variables", &at)?;
    let extensions = object_field(fields.remove("extensions"), "extensions", &at)?;
    build(query, operation_name, variables, extensions)
}

fn object_field(
    value: Option<Json>,
    name: &str,
    at: &str,
) -> Result<Option<serde_json::Map<String, Json>>, Refusal> {
    match value {
        Some(Json::Object(map)) => Ok(Some(map)),
        None | Some(Json::Null) => Ok(None),
        Some(_) => Err(malformed(format!(
            "`{name}` must be a JSON object or null{at}"
        ))),
    }
}

fn build(
    query: String,
    operation_name: Option<String>,
    variables: Option<serde_json::Map<String, Json>>,
    extensions: Option<serde_json::Map<String, Json>>,
) -> Result<Request, Refusal> {
    let has_extensions = extensions.as_ref().is_some_and(|e| !e.is_empty());
    if query.trim().is_empty() && !has_extensions {
        return Err(malformed(
            "the request has no `query`: send the GraphQL document in it",
        ));
    }
    let mut request = Request::new(query);
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = variables {
        request = request.variables(Variables::from_json(Json::Object(variables)));
    }
    if let Some(extensions) = extensions {
        request.extensions = Extensions(
            extensions
                .into_iter()
                .map(|(key, value)| (key, Value::from_json(value).unwrap_or(Value::Null)))
                .collect::<HashMap<String, Value>>(),
        );
    }
    Ok(request)
}

/// Reads a GET's parameters: `query`, `operationName`, and `variables` and `extensions` as
/// JSON objects.
pub fn request_from_params(params: &HashMap<String, String>) -> Result<Request, Refusal> {
    let json_object = |name: &str| -> Result<Option<serde_json::Map<String, Json>>, Refusal> {
        match params.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => match serde_json::from_str::<Json>(text) {
                Ok(Json::Object(map)) => Ok(Some(map)),
                _ => Err(Refusal::new(
                    ErrorCode::BadRequest,
                    format!("`{name}` must be a JSON object"),
                )),
            },
        }
    };
    let variables = json_object("variables")?;
    let extensions = json_object("extensions")?;
    let query = params.get("query").cloned().unwrap_or_default();
    let operation_name = params
        .get("operationName")
        .filter(|n| !n.is_empty())
        .cloned();
    build(query, operation_name, variables, extensions)
}

/// What running a request gave, ready for the transport to send.
pub struct Answer {
    /// The JSON answer: one response, or an array for a batch.
    pub body: String,
    /// No data and an error of the kind that stops a request from starting: graphql-over-http
    /// answers it with a 4xx under its own media type.
    pub failed_before_running: bool,
    /// The `extensions.code` of every error, for the metrics.
    pub codes: Vec<String>,
}

/// Read-your-writes: a request whose `extensions.minSequence` names a commit this server has
/// not applied yet waits for it (a replica behind its writer), for at most the configured
/// wait, and is refused with UNAVAILABLE if it is still not there. Every answer says in
/// `extensions.sequence` which commit it was read at (for a write: at or after its own).
pub async fn await_min_sequence(api: &Api, prepared: &[Prepared]) -> Result<(), Refusal> {
    let mut wanted = 0u64;
    for p in prepared {
        let Some(value) = p.request.extensions.get("minSequence") else {
            continue;
        };
        let sequence = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let Some(sequence) = sequence else {
            return Err(Refusal::new(
                ErrorCode::BadRequest,
                "`extensions.minSequence` must be a commit sequence: a whole number, as `extensions.sequence` of an answer gives it",
            ));
        };
        wanted = wanted.max(sequence);
    }
    let service = &api.service;
    if wanted <= service.applied_sequence() {
        return Ok(());
    }
    let wait = api.limits.max_sequence_wait;
    let reached = service.wait_for_sequence(wanted, wait).await;
    if reached >= wanted {
        return Ok(());
    }
    Err(Refusal::new(
        ErrorCode::Unavailable,
        format!(
            "this server has applied commit {reached}, not yet commit {wanted} (minSequence), after waiting {} ms: try again, or ask the writer",
            wait.as_millis()
        ),
    ))
}

/// Runs prepared requests as `caller`: one, or a batch when `batched` (one at a time, in order,
/// as async-graphql runs batches).
pub async fn execute(api: &Api, prepared: Vec<Prepared>, batched: bool, caller: Caller) -> Answer {
    let mut requests = prepared.into_iter().map(|p| p.request.data(caller));
    let batch = match (batched, requests.next()) {
        (false, Some(request)) => BatchRequest::Single(request),
        (_, first) => BatchRequest::Batch(first.into_iter().chain(requests).collect()),
    };
    let mut response = api.schema.execute_batch(batch).await;
    let sequence = Value::from(api.service.applied_sequence());
    match &mut response {
        BatchResponse::Single(r) => drop(r.extensions.insert("sequence".into(), sequence)),
        BatchResponse::Batch(rs) => rs
            .iter_mut()
            .for_each(|r| drop(r.extensions.insert("sequence".into(), sequence.clone()))),
    }
    let failed_before_running = match &mut response {
        BatchResponse::Single(r) => ensure_codes(r),
        // A batch ran, even if some of its operations could not: each answer says so itself.
        BatchResponse::Batch(rs) => {
            rs.iter_mut().for_each(|r| {
                ensure_codes(r);
            });
            false
        }
    };
    let responses: Vec<&async_graphql::Response> = match &response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter().collect(),
    };
    let codes = responses
        .iter()
        .flat_map(|r| &r.errors)
        .filter_map(|error| match error.extensions.as_ref()?.get("code")? {
            Value::String(code) => Some(code.clone()),
            _ => None,
        })
        .collect();
    let body = serde_json::to_string(&response).unwrap_or_else(|_| {
        super::error::error_document(ErrorCode::Internal, "the answer could not be written", None)
            .to_string()
    });
    Answer {
        body,
        failed_before_running,
        codes,
    }
}
