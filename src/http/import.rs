//! `POST /admin/import`: tiegraph's JSON lines into the running server, all or nothing, with
//! the same checks as `tiegraph import`. Needs the write token. The body must arrive within the
//! request time limit; the import itself is answered with its outcome however long it takes
//! (a timeout could not honestly say whether it landed).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{refusal, timed_out, unauthorized, AppState};
use crate::api::{client_message, code_of, grouped, ErrorCode};
use crate::formats::jsonl;

/// Largest file accepted through the server; bigger ones go to `tiegraph import` with the
/// server stopped, which streams them.
pub const MAX_IMPORT_BYTES: usize = 256 << 20;

pub async fn import(State(state): State<AppState>, request: Request) -> Response {
    let deadline = Instant::now() + state.config.request_timeout;
    let access = &state.config.access;
    let credential = access.credential(request.headers());
    if !access.may_write(credential) {
        return unauthorized(credential, "an import needs the write token");
    }
    let body = match tokio::time::timeout_at(deadline.into(), Bytes::from_request(request, &state))
        .await
    {
        Err(_) => return timed_out(&state.config, "sending the file"),
        Ok(Err(rejection)) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                &format!(
                    "the file is over the {} bytes an import through the server may be; use `tiegraph import` with the server stopped",
                    grouped(MAX_IMPORT_BYTES as u64)
                ),
            )
        }
        Ok(Err(_)) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                "the request body could not be read",
            )
        }
        Ok(Ok(body)) => body,
    };
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
        service.import_stream(open, &|_, _| {}).map_err(|e| {
            if code_of(&e) == ErrorCode::Internal {
                tracing::error!(error = %e, "import failed");
            }
            (code_of(&e), client_message(&e.in_file("request body")))
        })
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
            "resolved": summary.resolved,
            "sequence": summary.sequence,
            "seconds": summary.elapsed.as_secs_f64(),
        }))
        .into_response(),
        Ok(Err((code, message))) => refusal(
            if code == ErrorCode::Internal {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::BAD_REQUEST
            },
            code,
            &format!("nothing was imported: {message}"),
        ),
        Err(_) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "the import was interrupted",
        ),
    }
}
