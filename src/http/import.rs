//! `POST /admin/import`: tiegraph's JSON lines into the running server, all or nothing, with
//! the same checks as `tiegraph import`. Needs the write token.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::AppState;
use crate::formats::jsonl;

/// Largest file accepted through the server; bigger ones go to `tiegraph import` with the
/// server stopped, which streams them.
pub const MAX_IMPORT_BYTES: usize = 256 << 20;

fn refusal(status: StatusCode, code: &str, message: String) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

pub async fn import(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !state.config.access.may_write(authorization) {
        let mut response = refusal(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "an import needs the write token".into(),
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let service = state.service.clone();
    let done = tokio::task::spawn_blocking(move || {
        // Streamed through the same passes as `tiegraph import`: the parsed records are never
        // all held at once, only the body is.
        let open = || {
            Ok(jsonl::import_items(
                body.as_ref(),
                "request body".to_owned(),
            ))
        };
        service
            .import_stream(open, &|_, _| {})
            .map_err(|e| e.in_file("request body").to_string())
    })
    .await;
    match done {
        Ok(Ok(summary)) => Json(json!({
            "entitiesCreated": summary.entities_created,
            "entitiesUpdated": summary.entities_updated,
            "sourcesCreated": summary.sources_created,
            "sourcesUpdated": summary.sources_updated,
            "relationsCreated": summary.relations_created,
            "relationsUpdated": summary.relations_updated,
            "claimsAdded": summary.claims_added,
            "unchanged": summary.unchanged,
            "sequence": summary.sequence,
            "seconds": summary.elapsed.as_secs_f64(),
        }))
        .into_response(),
        Ok(Err(message)) => refusal(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            format!("nothing was imported: {message}"),
        ),
        Err(_) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the import was interrupted".into(),
        ),
    }
}
