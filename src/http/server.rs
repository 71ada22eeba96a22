//! The server's connections: accepting them under a cap, serving each with hyper's HTTP/1
//! connection (axum's `serve` has no header-read timeout), and a shutdown that ends within a
//! bounded time whatever the clients do.
//!
//! - **Header-read and idle timeout.** hyper's `header_read_timeout` runs from the moment a
//!   connection waits for a request head, on a new connection and between keep-alive
//!   requests alike, so a client that sends its head one byte a second, or holds an idle
//!   connection open, is dropped after `header_timeout`.
//! - **Write timeout.** [`TimedIo`] fails a write that makes no progress for `write_timeout`,
//!   so a client that stops reading (an answer, a backup, a websocket) is dropped rather than
//!   holding its connection, and what the server was streaming to it, for ever.
//! - **A cap on open connections.** Each connection holds a slot of a semaphore for as long as
//!   it is open, an upgraded websocket included; past `max_connections` a new connection gets
//!   a 503 in the error shape and is closed, so the process keeps file descriptors for the
//!   connections it serves.
//! - **hyper's own refusals in the error shape.** A request head hyper cannot read (not HTTP,
//!   a malformed header, headers over [`MAX_HEAD_BYTES`]) is answered by hyper itself, with an
//!   empty `400` or `431`, before any of our code runs. [`TimedIo`] recognises those answers
//!   (a `4xx` with `connection: close` and no body, which our own refusals never are) and
//!   writes the same status with a JSON error in their place.
//! - **Bounded shutdown.** On shutdown the listener closes, idle connections close at once,
//!   requests under way get `shutdown_grace` to finish, and every connection still open after
//!   it is dropped; the store is then flushed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tower::ServiceExt;

use super::{router, AppState, HttpConfig};
use crate::api::{error_document, grouped, ErrorCode, LimitHit};

/// Log targets capped at `debug`, whatever `RUST_LOG` asks: at `trace` the websocket library
/// logs every message it receives, `connection_init` tokens included.
pub const QUIET_LOG_TARGETS: &[&str] = &["tungstenite", "tokio_tungstenite"];

/// Over-the-cap connections being answered 503 at once; past this they are closed unanswered,
/// so refusing cannot itself use up file descriptors.
const REFUSALS_AT_ONCE: usize = 64;

/// How long an over-the-cap connection is given to take its 503.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// The most a request head (request line and headers) may take; hyper answers `431` past it.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A connection's slot under the cap. Requests carry a clone, so an upgraded websocket keeps
/// the slot after its HTTP connection has handed it over.
#[derive(Clone)]
pub(crate) struct ConnectionSlot(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

/// Serves until `shutdown` completes, then lets requests under way finish for at most
/// `shutdown_grace`, drops whatever is still open, and flushes the store.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let config = state.config.clone();
    let app = router(state.clone());
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Typically out of file descriptors: wait for some to close rather than spin.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => {
                tokio::spawn(connection(stream, app.clone(), slot, state.clone()));
            }
            Err(_) => {
                state.metrics.connection_refused();
                if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
                    tokio::spawn(refuse(stream, config.max_connections, permit));
                }
            }
        }
    }
    drop(listener);
    let deadline = Instant::now() + config.shutdown_grace;
    state.ready.store(false, Ordering::SeqCst);
    state.stopping.send_replace(Some(deadline));
    // Every connection holds a slot until it has ended: all slots free means all ended.
    let all = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout_at(deadline.into(), slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            grace_seconds = config.shutdown_grace.as_secs_f64(),
            "connections still open after the shutdown grace period were dropped"
        );
    }
    state.service.flush().map_err(io::Error::other)?;
    Ok(())
}

/// Serves one connection until it ends, or until shutdown's deadline.
async fn connection(stream: TcpStream, app: Router, slot: OwnedSemaphorePermit, state: AppState) {
    let config: &HttpConfig = &state.config;
    let slot = ConnectionSlot(Arc::new(slot));
    let io = TokioIo::new(TimedIo::new(stream, config.write_timeout));
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(slot.clone());
        app.clone().oneshot(request.map(Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let connection = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(connection);
    let deadline = tokio::select! {
        _ = connection.as_mut() => return,
        deadline = state.stopping() => deadline,
    };
    // Closes the connection once the request under way (if any) is answered.
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout_at(deadline.into(), connection).await;
}

/// Answers a connection over the cap with a 503 and closes it. The request is not read: what
/// the client sent is drained (for at most [`REFUSAL_TIME`]) so that closing does not reset
/// the connection before the client reads the answer.
async fn refuse(mut stream: TcpStream, max: usize, _permit: OwnedSemaphorePermit) {
    let body = error_document(
        ErrorCode::Unavailable,
        &format!(
            "the server is at its limit of {} open connections; try again shortly",
            grouped(max as u64)
        ),
        Some(LimitHit {
            name: "maxConnections",
            max: max as u64,
        }),
    )
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), io::Error>(())
    })
    .await;
}

/// A client's stream: writes fail once they have made no progress for `timeout` (the peer has
/// stopped reading), and hyper's bodiless refusals are written in the error shape instead.
pub(crate) struct TimedIo<T> {
    inner: T,
    timeout: Duration,
    /// Running while a write waits for the peer; reset by any progress.
    stalled: Option<Pin<Box<Sleep>>>,
    /// What is being written in place of one of hyper's refusals, and how much of it is out.
    replacement: Option<(Vec<u8>, usize)>,
}

/// Our answer in place of hyper's, when `head` is one of hyper's bodiless refusals.
fn replace_hyper_refusal(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head.get(..head.len().min(200))?).ok()?;
    let status_line = text.strip_prefix("HTTP/1.1 ")?;
    let (status, rest) = status_line.split_once("\r\n")?;
    if !status.starts_with('4') || !rest.starts_with("connection: close\r\ncontent-length: 0\r\n") {
        return None;
    }
    let message = if status.starts_with("431") {
        format!(
            "the request's headers are too large: the server reads at most about {} KiB of request line and headers",
            MAX_HEAD_BYTES / 1024
        )
    } else {
        "the request is not HTTP/1.1 the server can read: its request line or a header is malformed"
            .to_owned()
    };
    let limit = status.starts_with("431").then_some(LimitHit {
        name: "maxHeadBytes",
        max: MAX_HEAD_BYTES as u64,
    });
    let body = error_document(ErrorCode::BadRequest, &message, limit).to_string();
    Some(
        format!(
            "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<T> TimedIo<T> {
    pub(crate) fn new(inner: T, timeout: Duration) -> Self {
        TimedIo {
            inner,
            timeout,
            stalled: None,
            replacement: None,
        }
    }

    /// Called when a write is pending: fails once the stall has lasted `timeout`.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let timeout = self.timeout;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            )),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progress<R>(
        &mut self,
        poll: Poll<io::Result<R>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<R>> {
        match poll {
            Poll::Pending => self.poll_stall(cx).map(Err),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> TimedIo<T> {
    /// Writes our answer in place of hyper's refusal `buf`; done when all of it is out, and
    /// then reports `buf` written.
    fn poll_replacement(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            let Some((bytes, sent)) = &mut self.replacement else {
                return Poll::Ready(Ok(buf.len()));
            };
            if *sent == bytes.len() {
                self.replacement = None;
                return Poll::Ready(Ok(buf.len()));
            }
            let poll = Pin::new(&mut self.inner).poll_write(cx, &bytes[*sent..]);
            match self.progress(poll, cx) {
                Poll::Ready(Ok(n)) => {
                    if let Some((_, sent)) = &mut self.replacement {
                        *sent += n;
                    }
                    if n == 0 {
                        return Poll::Ready(Ok(0));
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.replacement.is_none() {
            this.replacement = replace_hyper_refusal(buf).map(|bytes| (bytes, 0));
        }
        if this.replacement.is_some() {
            return this.poll_replacement(cx, buf);
        }
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.progress(poll, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        // hyper's refusals are one buffer; a vectored write of one goes the plain way.
        let mut written = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (written.next(), written.next()) {
            return Pin::new(this).poll_write(cx, only);
        }
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.progress(poll, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.progress(poll, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.progress(poll, cx)
    }
}
