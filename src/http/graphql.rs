//! GraphQL over HTTP, after the GraphQL Foundation's graphql-over-http specification:
//! GET for queries (a mutation over GET is 405 with `Allow: POST`), POST with a JSON body
//! (one request or a bounded batch), and `application/graphql-response+json` or
//! `application/json` answers as the client's `Accept` header asks. With the former, a
//! request that cannot run (unparsable, invalid) is a 400; with the latter it is a 200 with
//! errors, as legacy clients expect.

use std::collections::HashMap;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, Data, Request, Variables};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::{caller, AppState};
use crate::api::{ensure_codes, shape};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// An answer refusing a request before it runs; boxed because a response is large.
type Refusal = Box<Response>;

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
    coded_request_error(status, media, "BAD_REQUEST", message)
}

fn coded_request_error(
    status: StatusCode,
    media: MediaType,
    code: &str,
    message: &str,
) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    response
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
    let authorization = authorization(&headers);
    if let Err(refusal) = check_reader(&state, authorization, media) {
        return *refusal;
    }
    let shape = shape(&request.query, request.operation_name.as_deref());
    if shape.is_some_and(|s| s.operation.is_some_and(|ty| ty != OperationType::Query)) {
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
    let request = match admit(&state, authorization, media, request) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    let response = state.schema.execute(request).await;
    respond(&state, media, BatchResponse::Single(response))
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

fn unauthorized(media: MediaType, message: &str) -> Response {
    let mut response =
        coded_request_error(StatusCode::UNAUTHORIZED, media, "UNAUTHORIZED", message);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn check_reader(
    state: &AppState,
    authorization: Option<&str>,
    media: MediaType,
) -> Result<(), Refusal> {
    if state.config.access.may_read(authorization) {
        Ok(())
    } else {
        Err(Box::new(unauthorized(
            media,
            "this server needs a bearer token to read: send `Authorization: Bearer <token>`",
        )))
    }
}

/// Checks one operation before it runs: its size, and a mutation's right to write. Gives the
/// schema the caller, which the mutations check again (the websocket has no HTTP status to give).
fn admit(
    state: &AppState,
    authorization: Option<&str>,
    media: MediaType,
    request: Request,
) -> Result<Request, Refusal> {
    let caller = caller(&state.config.access, authorization);
    if let Some(shape) = shape(&request.query, request.operation_name.as_deref()) {
        if shape.fields > state.config.max_fields {
            return Err(Box::new(coded_request_error(
                StatusCode::BAD_REQUEST,
                media,
                "QUERY_TOO_LARGE",
                &format!(
                    "the operation selects {} fields (aliases and fragments included); at most {} are allowed",
                    shape.fields, state.config.max_fields
                ),
            )));
        }
        if shape.operation == Some(OperationType::Mutation) && !caller.can_write {
            return Err(Box::new(unauthorized(
                media,
                "writes need a bearer token: send `Authorization: Bearer <token>`",
            )));
        }
    }
    Ok(request.data(caller))
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

/// The answer when the server is at its concurrency limit: try again shortly.
pub fn overloaded() -> Response {
    let mut response = coded_request_error(
        StatusCode::SERVICE_UNAVAILABLE,
        MediaType::Json,
        "UNAVAILABLE",
        "the server is at its limit of concurrent requests; try again shortly",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// `GET /graphql/ws`: subscriptions (and any operation) over graphql-transport-ws or the legacy
/// graphql-ws protocol. The token may come in the upgrade request's `Authorization` header or,
/// for browsers that cannot set one, in the `connection_init` payload's `Authorization`.
pub async fn websocket(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: Result<GraphQLProtocol, StatusCode>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let (Ok(protocol), Ok(upgrade)) = (protocol, upgrade) else {
        return request_error(
            StatusCode::BAD_REQUEST,
            MediaType::Json,
            "this is the websocket endpoint: open a websocket with the graphql-transport-ws (or graphql-ws) protocol",
        );
    };
    let header_token = authorization(&headers).map(str::to_owned);
    let schema = state.schema.clone();
    let access = state.config.access.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let from_payload = ["Authorization", "authorization"]
                        .iter()
                        .find_map(|key| payload.get(*key).and_then(|v| v.as_str()))
                        .map(str::to_owned);
                    let offered = header_token.or(from_payload);
                    if !access.may_read(offered.as_deref()) {
                        return Err(async_graphql::Error::new(
                            "this server needs a bearer token to read",
                        ));
                    }
                    let mut data = Data::default();
                    data.insert(super::caller(&access, offered.as_deref()));
                    Ok(data)
                })
                .serve()
        })
}

/// `POST /graphql`: a JSON body holding one request or a batch.
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return request_error(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accepts neither application/graphql-response+json nor application/json",
        );
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "PAYLOAD_TOO_LARGE"
            } else {
                "BAD_REQUEST"
            };
            return coded_request_error(status, media, code, &rejection.body_text());
        }
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
    let authorization = authorization(&headers);
    if let Err(refusal) = check_reader(&state, authorization, media) {
        return *refusal;
    }
    let batch = match batch {
        BatchRequest::Single(request) => match admit(&state, authorization, media, request) {
            Ok(request) => BatchRequest::Single(request),
            Err(refusal) => return *refusal,
        },
        BatchRequest::Batch(requests) => {
            let admitted: Result<Vec<Request>, Refusal> = requests
                .into_iter()
                .map(|request| admit(&state, authorization, media, request))
                .collect();
            match admitted {
                Ok(requests) => BatchRequest::Batch(requests),
                Err(refusal) => return *refusal,
            }
        }
    };
    let response = state.schema.execute_batch(batch).await;
    respond(&state, media, response)
}

fn respond(state: &AppState, media: MediaType, mut response: BatchResponse) -> Response {
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
    let responses: Vec<&async_graphql::Response> = match &response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter().collect(),
    };
    for error in responses.iter().flat_map(|r| &r.errors) {
        let code = error.extensions.as_ref().and_then(|e| e.get("code"));
        if let Some(async_graphql::Value::String(code)) = code {
            state.metrics.graphql_error(code);
        }
    }
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
