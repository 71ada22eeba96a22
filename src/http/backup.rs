//! `GET /admin/backup`: a consistent online backup, streamed as it is written. Needs the write
//! token, because a backup is everything. Neither writers nor readers wait for it (the store
//! keeps a snapshot for it, see `store/snapshot.rs`). A client that stops reading is dropped by
//! the connection's write timeout (`server.rs`), which drops the body, which fails the next
//! chunk's send, which ends the backup and lets go of the old values it kept.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::{stream, unauthorized, AppState};

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
