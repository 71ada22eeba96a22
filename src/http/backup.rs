//! `GET /admin/backup`: a consistent online backup, streamed as it is written. Needs the write
//! token, because a backup is everything. Neither writers nor readers wait for it (the store
//! keeps a snapshot for it, see `store/backup.rs`). A client that stops reading is dropped by
//! the connection's write timeout (`server.rs`), which drops the body, which fails the next
//! chunk's send, which ends the backup and lets go of the old values it kept.

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::mpsc;

use super::{unauthorized, AppState};

/// Bytes handed to the response at a time.
const CHUNK: usize = 256 * 1024;

/// A `Write` that sends full chunks to the response body; fails once the client is gone, which
/// ends the backup and lets writers in again.
struct ChannelWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<io::Result<Bytes>>,
}

impl ChannelWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send_buffer()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

pub async fn backup(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let access = &state.config.access;
    let credential = access.credential(&headers);
    if !access.may_write(credential) {
        return unauthorized(credential, "a backup needs the write token");
    }
    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(4);
    let service = state.service.clone();
    tokio::task::spawn_blocking(move || {
        let failure = sender.clone();
        let mut writer = ChannelWriter {
            buffer: Vec::with_capacity(CHUNK),
            sender,
        };
        if let Err(error) = service.backup(&mut writer) {
            tracing::error!(%error, "backup failed");
            // Ends the body with an error, so the client sees a broken download, not a short
            // file; the details stay in the log.
            let _ = failure.blocking_send(Err(io::Error::other("the backup failed")));
        }
    });
    let body = Body::from_stream(stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    }));
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
