//! `GET /admin/backup`: a consistent online backup, streamed as it is written. Needs the write
//! token, because a backup is everything. Neither writers nor readers wait for it (the store
//! keeps a snapshot for it, see `store/snapshot.rs`). A client that stops reading is dropped by
//! the connection's write timeout (`server.rs`), which drops the body, which fails the next
//! chunk's send, which ends the backup and lets go of the old values it kept.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::{refusal, stream, unauthorized, AppState};
use crate::api::code_of;

pub async fn backup(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let access = &state.config.access;
    let credential = access.credential(&headers);
    if !access.may_write(credential) {
        return unauthorized(credential, "a backup needs the write token");
    }
    let (mut writer, body) = stream::channel();
    let service = state.service.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(error) = service.backup(&mut writer) {
            tracing::error!(%error, "backup failed");
            writer.fail("the backup failed");
        }
    });
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"tiegraph.backup\""),
    );
    response
}

/// `POST /admin/checkpoint`: the writer writes a checkpoint of its store into the change log
/// and drops the log rows it covers. Needs the write token.
pub async fn checkpoint(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let access = &state.config.access;
    let credential = access.credential(&headers);
    if !access.may_write(credential) {
        return unauthorized(credential, "a checkpoint needs the write token");
    }
    let service = state.service.clone();
    let written = tokio::task::spawn_blocking(move || service.checkpoint()).await;
    match written {
        Ok(Ok(summary)) => axum::Json(serde_json::json!({
            "sequence": summary.sequence,
            "records": summary.records,
            "bytes": summary.bytes,
            "droppedLogRows": summary.dropped,
        }))
        .into_response(),
        Ok(Err(error)) => {
            let code = code_of(&error);
            let status = match code {
                crate::api::ErrorCode::BadUserInput => axum::http::StatusCode::CONFLICT,
                _ => axum::http::StatusCode::SERVICE_UNAVAILABLE,
            };
            refusal(status, code, &crate::api::client_message(&error))
        }
        Err(_) => refusal(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            crate::api::ErrorCode::Internal,
            "the checkpoint failed",
        ),
    }
}
