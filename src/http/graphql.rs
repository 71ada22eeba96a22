//! GraphQL over HTTP, after the GraphQL Foundation's graphql-over-http specification:
//! GET for queries (a mutation over GET is 405 with `Allow: POST`), POST with a JSON body
//! (one request or a bounded batch), and `application/graphql-response+json` or
//! `application/json` answers as the client's `Accept` header asks. With the former, a
//! request that cannot run (unparsable, invalid) is a 400; with the latter it is a 200 with
//! errors, as legacy clients expect.
//!
//! Each document is checked against the limits and parsed once, before it runs (large ones on
//! the blocking pool); the parsed document is what executes. A request that holds a mutation
//! is not cut by the request time limit: its answer is its outcome (see `time_limit`).

use std::collections::HashMap;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{challenge, timed_out, AppState};
use crate::api::{
    await_min_sequence, error_document, execute, request_from_params, requests_from_body,
    unauthorized_message, Answer, Caller, Credential, ErrorCode, OperationType, Prepared, Refusal,
};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The answer's media type, chosen from the request's `Accept`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponse,
    Json,
}

impl MediaType {
    fn as_str(self) -> &'static str {
        match self {
            MediaType::GraphqlResponse => GRAPHQL_RESPONSE_JSON,
            MediaType::Json => JSON,
        }
    }
}

/// `None` when the client accepts neither JSON form (answered 406).
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::Json);
    };
    let mut fallback = None;
    for item in accept.split(',') {
        let media = item
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            GRAPHQL_RESPONSE_JSON => return Some(MediaType::GraphqlResponse),
            JSON | "application/*" | "*/*" => fallback = fallback.or(Some(MediaType::Json)),
            _ => {}
        }
    }
    fallback
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Reading the request body, parsing and running read-only operations share this limit.
const READ_NEED: &str = "this server needs a bearer token to read";

/// A refusal before any GraphQL ran, in the negotiated media type.
fn refusal_as(status: StatusCode, media: MediaType, document: serde_json::Value) -> Response {
    let mut response = (status, document.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    response
}

fn request_error(status: StatusCode, media: MediaType, message: &str) -> Response {
    refusal_as(
        status,
        media,
        error_document(ErrorCode::BadRequest, message, None),
    )
}

/// The answer to a request whose body or parameters are not a GraphQL request: 400 under
/// either media type, as graphql-over-http asks for a request that is not well formed.
fn malformed(state: &AppState, media: MediaType, refusal: &Refusal) -> Response {
    state.metrics.graphql_error(refusal.code.as_str());
    refusal_as(StatusCode::BAD_REQUEST, media, refusal.document())
}

/// The answer to a document refused before it ran. A limit hit is the request's fault under
/// either media type (400); a document that does not parse or validate is a 400 under
/// `application/graphql-response+json` and, as legacy clients expect, a 200 with errors under
/// `application/json`.
fn refused(state: &AppState, media: MediaType, refusal: &Refusal) -> Response {
    state.metrics.graphql_error(refusal.code.as_str());
    let status = match refusal.code {
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ if refusal.limit.is_some() => StatusCode::BAD_REQUEST,
        _ if media == MediaType::GraphqlResponse => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    refusal_as(status, media, refusal.document())
}

fn unauthorized(media: MediaType, credential: Credential, need: &str) -> Response {
    let document = error_document(
        ErrorCode::Unauthorized,
        &unauthorized_message(credential, need),
        None,
    );
    let mut response = refusal_as(StatusCode::UNAUTHORIZED, media, document);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, challenge(credential));
    response
}

/// The caller, or the refusal when reads need a token the request lacks.
fn reader(
    state: &AppState,
    headers: &HeaderMap,
    media: MediaType,
) -> Result<Caller, Box<Response>> {
    let access = &state.config.access;
    let credential = access.credential(headers);
    if access.may_read(credential) {
        Ok(access.caller(credential))
    } else {
        Err(Box::new(unauthorized(media, credential, READ_NEED)))
    }
}

/// `GET /graphql`: GraphiQL for a browser, else a query from the URL's parameters.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return request_error(
            StatusCode::BAD_REQUEST,
            negotiate(&headers).unwrap_or(MediaType::Json),
            "the URL's query string cannot be read: encode `query`, `variables` and `operationName` as URL parameters",
        );
    };
    if !params.contains_key("query") && !params.contains_key("extensions") {
        if wants_html(&headers) {
            return super::ide::page();
        }
        return request_error(
            StatusCode::BAD_REQUEST,
            negotiate(&headers).unwrap_or(MediaType::Json),
            "a GET request needs a `query` parameter",
        );
    }
    let Some(media) = negotiate(&headers) else {
        return request_error(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accepts neither application/graphql-response+json nor application/json",
        );
    };
    let caller = match reader(&state, &headers, media) {
        Ok(caller) => caller,
        Err(refusal) => return *refusal,
    };
    let request = match request_from_params(&params) {
        Ok(request) => request,
        Err(refusal) => return malformed(&state, media, &refusal),
    };
    let prepared = match state.api.prepare(request).await {
        Ok(prepared) => prepared,
        Err(refusal) => return refused(&state, media, &refusal),
    };
    if prepared
        .operation
        .is_some_and(|ty| ty != OperationType::Query)
    {
        let mut response = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            "only queries may be sent with GET; send mutations with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let prepared = vec![prepared];
    if let Err(refusal) = await_min_sequence(&state.api, &prepared).await {
        return match refusal.code {
            ErrorCode::BadRequest => malformed(&state, media, &refusal),
            _ => refused(&state, media, &refusal),
        };
    }
    // The router's time limit applies: a GET only reads.
    let answer = execute(&state.api, prepared, false, caller).await;
    respond(&state, media, answer)
}

/// Any other method on `/graphql`: only GET and POST mean something there.
pub async fn other_method() -> Response {
    let mut response = request_error(
        StatusCode::METHOD_NOT_ALLOWED,
        MediaType::Json,
        "use GET for queries or POST for any operation",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

/// `POST /graphql`: a JSON body holding one request or a batch.
pub async fn post(State(state): State<AppState>, request: Request) -> Response {
    let deadline = Instant::now() + state.config.request_timeout;
    let headers = request.headers().clone();
    let Some(media) = negotiate(&headers) else {
        return request_error(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accepts neither application/graphql-response+json nor application/json",
        );
    };
    let caller = match reader(&state, &headers, media) {
        Ok(caller) => caller,
        Err(refusal) => return *refusal,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case(JSON)
    {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "send the request as Content-Type: application/json",
        );
    }
    // Nothing has been written while the body arrives: a slow one is cut at the time limit.
    let body = match tokio::time::timeout_at(deadline.into(), Bytes::from_request(request, &state))
        .await
    {
        Err(_) => return timed_out(&state.config, "sending the request body"),
        Ok(Err(rejection)) => {
            let status = rejection.status();
            let (code, message) = if status == StatusCode::PAYLOAD_TOO_LARGE {
                (
                    ErrorCode::PayloadTooLarge,
                    format!(
                        "the body is over the server's limit of {} bytes",
                        crate::api::grouped(state.config.max_body_bytes as u64)
                    ),
                )
            } else {
                (
                    ErrorCode::BadRequest,
                    "the request body could not be read".to_owned(),
                )
            };
            return refusal_as(status, media, error_document(code, &message, None));
        }
        Ok(Ok(body)) => body,
    };
    let received = match requests_from_body(&body, state.config.max_batch) {
        Ok(received) => received,
        Err(refusal) => return malformed(&state, media, &refusal),
    };
    let mut prepared: Vec<Prepared> = Vec::with_capacity(received.requests.len());
    for request in received.requests {
        match state.api.prepare(request).await {
            Ok(request) => prepared.push(request),
            Err(refusal) => return refused(&state, media, &refusal),
        }
    }
    let writes = prepared
        .iter()
        .any(|p| p.operation == Some(OperationType::Mutation));
    // A batch smuggling a mutation behind a query is refused whole. The mutations check the
    // caller again, for the websocket, which has no status to give.
    if writes && !caller.can_write {
        return unauthorized(media, caller.credential, "writes need a bearer token");
    }
    if let Err(refusal) = await_min_sequence(&state.api, &prepared).await {
        return match refusal.code {
            ErrorCode::BadRequest => malformed(&state, media, &refusal),
            _ => refused(&state, media, &refusal),
        };
    }
    let run = execute(&state.api, prepared, received.batched, caller);
    let answer = if writes {
        // A write, once started, lands whether or not anyone waits: answer its outcome.
        run.await
    } else {
        match tokio::time::timeout_at(deadline.into(), run).await {
            Ok(answer) => answer,
            Err(_) => return timed_out(&state.config, "the query"),
        }
    };
    respond(&state, media, answer)
}

fn respond(state: &AppState, media: MediaType, answer: Answer) -> Response {
    for code in &answer.codes {
        state.metrics.graphql_error(code);
    }
    // A request that could not run at all is the client's fault: 400 under the new media
    // type, 200 under the legacy one.
    let status = if answer.failed_before_running && media == MediaType::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = (status, answer.body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    response
}
