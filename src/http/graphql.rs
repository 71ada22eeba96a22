//! GraphQL over HTTP, after the GraphQL Foundation's graphql-over-http specification:
//! GET for queries (a mutation over GET is 405 with `Allow: POST`), POST with a JSON body
//! (one request or a bounded batch), and `application/graphql-response+json` or
//! `application/json` answers as the client's `Accept` header asks. With the former, a
//! request that cannot run (unparsable, invalid) is a 400; with the latter it is a 200 with
//! errors, as legacy clients expect.

use std::collections::HashMap;

use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, Request, Variables};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::api::ensure_codes;

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

/// An error about the HTTP request itself, before any GraphQL ran.
fn request_error(status: StatusCode, media: MediaType, message: &str) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    response
}

/// The operation type a request would run, or `None` when the document does not parse or
/// names no operation it holds (execution then reports that properly).
fn operation_type(request: &Request) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    let operations = &document.operations;
    match &request.operation_name {
        Some(name) => operations
            .iter()
            .find(|(n, _)| n.is_some_and(|n| n.as_str() == name))
            .map(|(_, op)| op.node.ty),
        None => operations.iter().next().map(|(_, op)| op.node.ty),
    }
}

/// `GET /graphql`: GraphiQL for a browser, else a query from the URL's parameters.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(query) = params.get("query") else {
        if wants_html(&headers) {
            return Html(super::graphiql_page()).into_response();
        }
        let media = negotiate(&headers).unwrap_or(MediaType::Json);
        return request_error(
            StatusCode::BAD_REQUEST,
            media,
            "a GET request needs a `query` parameter",
        );
    };
    let Some(media) = negotiate(&headers) else {
        return request_error(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accepts neither application/graphql-response+json nor application/json",
        );
    };
    let mut request = Request::new(query.clone());
    if let Some(name) = params.get("operationName").filter(|n| !n.is_empty()) {
        request = request.operation_name(name.clone());
    }
    if let Some(variables) = params.get("variables").filter(|v| !v.is_empty()) {
        match serde_json::from_str::<serde_json::Value>(variables) {
            Ok(value @ serde_json::Value::Object(_)) => {
                request = request.variables(Variables::from_json(value))
            }
            _ => {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    media,
                    "`variables` must be a JSON object",
                )
            }
        }
    }
    if operation_type(&request).is_some_and(|ty| ty != OperationType::Query) {
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
    let response = state.schema.execute(request).await;
    respond(media, BatchResponse::Single(response))
}

/// `POST /graphql`: a JSON body holding one request or a batch.
pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(media) = negotiate(&headers) else {
        return request_error(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accepts neither application/graphql-response+json nor application/json",
        );
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
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                &format!("the body is not a GraphQL request: {e}"),
            )
        }
    };
    if let BatchRequest::Batch(requests) = &batch {
        if requests.len() > state.config.max_batch {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                &format!(
                    "a batch may hold at most {} operations",
                    state.config.max_batch
                ),
            );
        }
        if requests.is_empty() {
            return request_error(StatusCode::BAD_REQUEST, media, "the batch is empty");
        }
    }
    let response = state.schema.execute_batch(batch).await;
    respond(media, response)
}

fn respond(media: MediaType, mut response: BatchResponse) -> Response {
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
    // A request that could not run at all is the client's fault: 400 under the new media
    // type, 200 under the legacy one.
    let status = if failed_before_running && media == MediaType::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = match serde_json::to_string(&response) {
        Ok(body) => body,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mut answer = (status, body).into_response();
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    answer
}
