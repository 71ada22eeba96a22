//! `GET /graphql/ws`: GraphQL over a websocket (graphql-transport-ws, or the legacy graphql-ws
//! protocol), with the limits of the HTTP path.
//!
//! The protocol and every per-operation limit live in `api::session` and
//! `api::SocketExecutor`; this module frames their messages and adds what belongs to the
//! transport: the largest message (the HTTP body limit, so a 15 MiB document is refused by the
//! framing before anything parses it), the connection's slot under the server's connection cap,
//! and shutdown (queries and mutations under way are answered, up to the grace period, then
//! the socket is closed with 1001). A client that stops reading is dropped by the connection's
//! write timeout; a subscriber that falls behind the change feed is ended by the feed.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use futures_util::{SinkExt, StreamExt};

use super::server::ConnectionSlot;
use super::{refusal, AppState};
use crate::api::{self, unauthorized_message, ErrorCode, Outgoing, SocketExecutor, SocketProtocol};

/// How long the closing frame may take to leave once shutdown closes a socket.
const CLOSE_TIME: Duration = Duration::from_secs(1);

fn frame(outgoing: Outgoing) -> Message {
    match outgoing {
        Outgoing::Text(text) => Message::Text(text.into()),
        Outgoing::Close(code, reason) => Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })),
    }
}

/// The upgrade. The token may come in the upgrade request's `Authorization` header or, for
/// browsers that cannot set one, in the `connection_init` payload's `Authorization`.
pub async fn websocket(
    State(state): State<AppState>,
    headers: HeaderMap,
    slot: Option<Extension<ConnectionSlot>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(SocketProtocol::choose);
    let (Some(protocol), Ok(upgrade)) = (protocol, upgrade) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "this is the websocket endpoint: open a websocket with the graphql-transport-ws (or graphql-ws) protocol",
        );
    };
    let access = state.config.access.clone();
    // A header present decides, even if the payload carries another token.
    let from_header = headers
        .contains_key(header::AUTHORIZATION)
        .then(|| access.credential(&headers));
    let authenticate = move |offered: Option<String>| {
        let credential = from_header.unwrap_or_else(|| access.credential_of(offered.as_deref()));
        if access.may_read(credential) {
            Ok(access.caller(credential))
        } else {
            Err(unauthorized_message(
                credential,
                "this server needs a bearer token to read",
            ))
        }
    };
    let max_message = state.config.max_body_bytes;
    upgrade
        .protocols([protocol.name()])
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .on_failed_upgrade(|error| tracing::debug!(%error, "websocket upgrade failed"))
        .on_upgrade(move |socket| async move {
            // Held until the socket closes: the websocket counts against the connection cap.
            let _slot = slot;
            serve_socket(socket, state, protocol, authenticate).await;
        })
}

async fn serve_socket<A>(
    socket: WebSocket,
    state: AppState,
    protocol: SocketProtocol,
    authenticate: A,
) where
    A: FnOnce(Option<String>) -> Result<api::Caller, String> + Send + 'static,
{
    let reader = run_socket(socket, state, protocol, authenticate).await;
    // The closing handshake, for at most CLOSE_TIME; then the connection goes.
    let abort = reader.abort_handle();
    if tokio::time::timeout(CLOSE_TIME, reader).await.is_err() {
        abort.abort();
    }
}

/// Runs the session until it ends; gives back the task still reading the client's messages.
async fn run_socket<A>(
    socket: WebSocket,
    state: AppState,
    protocol: SocketProtocol,
    authenticate: A,
) -> tokio::task::JoinHandle<()>
where
    A: FnOnce(Option<String>) -> Result<api::Caller, String> + Send + 'static,
{
    let executor = SocketExecutor::new(
        state.api.clone(),
        state.config.socket,
        state.concurrency.clone(),
        state.subscriptions.clone(),
    );
    let (mut sink, mut source) = socket.split();
    // The client's messages reach the session through a small channel (so a client that sends
    // faster than the session reads waits on TCP), from a task that keeps reading after the
    // session has closed: the client's reply to the close frame then completes the closing
    // handshake, rather than the connection being reset with the close frame unread.
    let (messages, received) = tokio::sync::mpsc::channel::<Bytes>(16);
    let reader = tokio::spawn(async move {
        let mut messages = Some(messages);
        // A read error or the end of the socket ends the input; pings, pongs and the client's
        // close frame are the framing's business.
        while let Some(Ok(message)) = source.next().await {
            if let (Some(sender), Message::Text(_) | Message::Binary(_)) = (&messages, &message) {
                if sender.send(message.into_data()).await.is_err() {
                    messages = None;
                }
            }
        }
    });
    let input = futures_util::stream::unfold(received, |mut received| async move {
        received.recv().await.map(|message| (message, received))
    })
    .boxed();
    let mut outgoing = api::session::<Bytes, A>(
        executor.clone(),
        protocol,
        input,
        state.config.websocket_init_timeout,
        authenticate,
    );
    let stopping = state.stopping();
    tokio::pin!(stopping);
    let deadline = loop {
        tokio::select! {
            message = outgoing.next() => {
                let Some(message) = message else { return reader };
                let closing = matches!(message, Outgoing::Close(..));
                if sink.send(frame(message)).await.is_err() || closing {
                    return reader;
                }
            }
            deadline = &mut stopping => break deadline,
        }
    };
    // Shutting down: answers to queries and mutations under way still go out, up to the
    // deadline; subscriptions simply end.
    let drained = tokio::time::timeout_at(deadline.into(), async {
        let idle = executor.idle();
        tokio::pin!(idle);
        loop {
            tokio::select! {
                message = outgoing.next() => {
                    let Some(message) = message else { return false };
                    let closing = matches!(message, Outgoing::Close(..));
                    if sink.send(frame(message)).await.is_err() || closing {
                        return false;
                    }
                }
                () = &mut idle => return true,
            }
        }
    })
    .await;
    if drained != Ok(false) {
        let close = frame(Outgoing::Close(
            1001,
            "the server is shutting down".to_owned(),
        ));
        let _ = tokio::time::timeout(CLOSE_TIME, sink.send(close)).await;
    }
    reader
}
