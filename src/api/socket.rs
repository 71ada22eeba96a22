//! The executor behind the websocket: the same limits as HTTP, per operation, per connection and
//! across the server.
//!
//! async-graphql's websocket protocol handler starts every `subscribe` message it reads as its
//! own stream, all at once, with no checks of its own. [`SocketExecutor`] stands between it and
//! the schema: each operation is prepared (size, nesting, fields, depth, complexity, as over
//! HTTP); a connection runs a bounded number at once; queries and mutations take a slot of the
//! server-wide concurrency limit HTTP requests take; subscriptions take a slot of a server-wide
//! subscription limit. A refusal is the operation's answer, an error with `extensions.code`, and
//! the connection stays open.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor, Request, Response};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::{ensure_codes, grouped, ErrorCode, LimitHit};
use super::limits::Refusal;
use super::{Api, Caller, OperationType};

/// Limits of the websocket path beyond those of each operation.
#[derive(Debug, Clone, Copy)]
pub struct SocketLimits {
    /// Operations (subscriptions included) one connection may have running at once.
    pub max_operations_per_connection: usize,
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            max_operations_per_connection: 16,
        }
    }
}

/// One connection's executor; clones share the connection's counts.
#[derive(Clone)]
pub struct SocketExecutor {
    api: Api,
    limits: SocketLimits,
    /// This connection's operations, of any kind.
    operations: Arc<Semaphore>,
    /// This connection's queries and mutations, so shutdown can wait for their answers.
    running: Arc<Semaphore>,
    /// The server's concurrency limit, shared with HTTP.
    shared: Arc<Semaphore>,
    /// The server's subscription limit.
    subscriptions: Arc<Semaphore>,
    /// Refusals of this connection not yet sent: a client that sends operations faster than
    /// it reads their refusals would otherwise grow the protocol handler's table of streams.
    unsent_refusals: Arc<Semaphore>,
    /// Set when `unsent_refusals` ran out: the session closes the connection (4429).
    flooded: Arc<AtomicBool>,
}

/// Refusals a connection may have waiting to be sent, per operation it may run.
const UNSENT_REFUSALS_PER_OPERATION: usize = 4;

/// Client messages the protocol handler reads in one go before it sends what is ready: it
/// reads every message available otherwise, starting each, before it answers any.
const MESSAGES_PER_POLL: usize = 16;

impl SocketExecutor {
    pub fn new(
        api: Api,
        limits: SocketLimits,
        shared: Arc<Semaphore>,
        subscriptions: Arc<Semaphore>,
    ) -> SocketExecutor {
        let per_connection = limits.max_operations_per_connection;
        SocketExecutor {
            api,
            limits,
            operations: Arc::new(Semaphore::new(per_connection)),
            running: Arc::new(Semaphore::new(per_connection)),
            shared,
            subscriptions,
            unsent_refusals: Arc::new(Semaphore::new(
                per_connection.saturating_mul(UNSENT_REFUSALS_PER_OPERATION),
            )),
            flooded: Arc::default(),
        }
    }

    /// Completes once no query or mutation of this connection is running, so their answers
    /// are sent before the connection is closed.
    pub async fn idle(&self) {
        let all = self.limits.max_operations_per_connection as u32;
        let _ = self.running.acquire_many(all).await;
    }

    async fn start(
        self,
        request: Request,
        session_data: Option<Arc<Data>>,
        connection_slot: OwnedSemaphorePermit,
    ) -> BoxStream<'static, Response> {
        let prepared = match self.api.prepare(request).await {
            Ok(prepared) => prepared,
            Err(refusal) => return refused(&refusal),
        };
        let session_data = session_data.unwrap_or_default();
        let slots = match prepared.operation {
            Some(OperationType::Subscription) => {
                let Ok(slot) = Arc::clone(&self.subscriptions).try_acquire_owned() else {
                    return refused(&Refusal::new(
                        ErrorCode::Unavailable,
                        "the server is at its limit of open subscriptions; try again later",
                    ));
                };
                (slot, None)
            }
            _ => {
                let Ok(slot) = Arc::clone(&self.shared).try_acquire_owned() else {
                    return refused(&Refusal::new(
                        ErrorCode::Unavailable,
                        "the server is at its limit of concurrent requests; try again shortly",
                    ));
                };
                // Never fails: `running` has as many permits as `operations`, whose permit
                // this operation holds.
                let running = Arc::clone(&self.running).try_acquire_owned().ok();
                (slot, running)
            }
        };
        let held = (connection_slot, slots);
        self.api
            .schema
            .execute_stream_with_session_data(prepared.request, session_data)
            .map(move |mut response| {
                // The slots are released when the operation's stream is dropped, which the
                // protocol handler does when it ends or the client stops it.
                let _held = &held;
                ensure_codes(&mut response);
                response
            })
            .boxed()
    }
}

fn refused(refusal: &Refusal) -> BoxStream<'static, Response> {
    stream::once(futures_util::future::ready(refusal.response())).boxed()
}

impl Executor for SocketExecutor {
    async fn execute(&self, request: Request) -> Response {
        let mut responses = self.execute_stream(request, None);
        responses.next().await.unwrap_or_default()
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let Ok(slot) = Arc::clone(&self.operations).try_acquire_owned() else {
            let Ok(unsent) = Arc::clone(&self.unsent_refusals).try_acquire_owned() else {
                self.flooded.store(true, Ordering::SeqCst);
                return stream::empty().boxed();
            };
            let max = self.limits.max_operations_per_connection;
            let refusal = refused(&Refusal {
                limit: Some(LimitHit {
                    name: "maxOperationsPerConnection",
                    max: max as u64,
                }),
                ..Refusal::new(
                    ErrorCode::Unavailable,
                    format!(
                        "this connection already runs {} operations, the most one connection may run at once; complete or stop one first",
                        grouped(max as u64)
                    ),
                )
            });
            // Released once the refusal has been taken from the stream, to be sent.
            let mut unsent = Some(unsent);
            return refusal
                .map(move |response| {
                    unsent.take();
                    response
                })
                .boxed();
        };
        let this = self.clone();
        stream::once(this.start(request, session_data, slot))
            .flatten()
            .boxed()
    }
}

/// One of the two websocket protocols async-graphql speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketProtocol(WebSocketProtocols);

impl SocketProtocol {
    /// The first protocol of a `Sec-WebSocket-Protocol` header this server speaks.
    pub fn choose(header: &str) -> Option<SocketProtocol> {
        header
            .split(',')
            .map(str::trim)
            .find_map(|name| name.parse::<WebSocketProtocols>().ok())
            .map(SocketProtocol)
    }

    /// Its name, for the upgrade's `Sec-WebSocket-Protocol`.
    pub fn name(self) -> &'static str {
        self.0.sec_websocket_protocol()
    }
}

/// What a session sends: the transport frames it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Text(String),
    /// A close frame; the session ends after it.
    Close(u16, String),
}

/// A close frame's reason is at most 123 bytes.
fn close_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

fn message_type(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get("type")?.as_str().map(str::to_owned)
}

/// One websocket session: the protocol (async-graphql's state machine) over `input`, the
/// client's messages, with `executor` running the operations. `authenticate` is given the
/// `Authorization` of the `connection_init` payload (if any) and returns the caller, or the
/// message refusing it.
///
/// Besides the protocol, the session closes a connection that has not completed
/// `connection_init` within `init_timeout` (4408, as graphql-transport-ws says), closes a
/// refused `connection_init` with 4403 and a malformed message with 4400 (instead of 1002 with
/// serde's words), and gives the legacy protocol's `connection_error` an `extensions.code`.
pub fn session<T, A>(
    executor: SocketExecutor,
    protocol: SocketProtocol,
    input: impl Stream<Item = T> + Send + Unpin + 'static,
    init_timeout: Duration,
    authenticate: A,
) -> BoxStream<'static, Outgoing>
where
    T: AsRef<[u8]> + Send + 'static,
    A: FnOnce(Option<String>) -> Result<Caller, String> + Send + 'static,
{
    let refused: Arc<Mutex<Option<String>>> = Arc::default();
    let refused_at_init = Arc::clone(&refused);
    let flooded = Arc::clone(&executor.flooded);
    let input = Throttled {
        inner: input,
        left: MESSAGES_PER_POLL,
    };
    let machine = WebSocket::new(executor, input, protocol.0).on_connection_init(
        move |payload: serde_json::Value| async move {
            let offered = ["Authorization", "authorization"]
                .iter()
                .find_map(|key| payload.get(*key).and_then(|v| v.as_str()))
                .map(str::to_owned);
            match authenticate(offered) {
                Ok(caller) => {
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                }
                Err(message) => {
                    *lock(&refused_at_init) = Some(message.clone());
                    Err(async_graphql::Error::new(message))
                }
            }
        },
    );
    struct State {
        machine: BoxStream<'static, WsMessage>,
        acked: bool,
        done: bool,
        init_deadline: Pin<Box<tokio::time::Sleep>>,
        refused: Arc<Mutex<Option<String>>>,
        flooded: Arc<AtomicBool>,
    }
    let state = State {
        machine: machine.boxed(),
        acked: false,
        done: false,
        init_deadline: Box::pin(tokio::time::sleep(init_timeout)),
        refused,
        flooded,
    };
    stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        if state.flooded.load(Ordering::SeqCst) {
            state.done = true;
            let close = Outgoing::Close(
                4429,
                "Too many operations: this connection sent operations faster than it read their refusals".to_owned(),
            );
            return Some((close, state));
        }
        let message = if state.acked {
            state.machine.next().await
        } else {
            tokio::select! {
                message = state.machine.next() => message,
                () = &mut state.init_deadline => {
                    state.done = true;
                    let close = Outgoing::Close(4408, "Connection initialisation timeout".to_owned());
                    return Some((close, state));
                }
            }
        }?;
        let outgoing = match message {
            WsMessage::Text(text) if state.acked => Outgoing::Text(text),
            WsMessage::Text(text) => match message_type(&text).as_deref() {
                Some("connection_ack") => {
                    state.acked = true;
                    Outgoing::Text(text)
                }
                Some("connection_error") => {
                    let (code, message) = match lock(&state.refused).take() {
                        Some(message) => (ErrorCode::Unauthorized, message),
                        None => (
                            ErrorCode::BadRequest,
                            "the message is not valid for this protocol".to_owned(),
                        ),
                    };
                    let payload = &super::error::error_document(code, &message, None)["errors"][0];
                    let text =
                        serde_json::json!({ "type": "connection_error", "payload": payload });
                    Outgoing::Text(text.to_string())
                }
                _ => Outgoing::Text(text),
            },
            WsMessage::Close(code, reason) => {
                state.done = true;
                match (lock(&state.refused).take(), code) {
                    (Some(message), _) => Outgoing::Close(4403, close_reason(&format!("Forbidden: {message}"))),
                    (None, 1002) => Outgoing::Close(
                        4400,
                        "the message is not a valid graphql-transport-ws message".to_owned(),
                    ),
                    (None, 1011) => Outgoing::Close(
                        4401,
                        "Unauthorized: send connection_init and wait for connection_ack first".to_owned(),
                    ),
                    (None, code) => Outgoing::Close(code, close_reason(&reason)),
                }
            }
        };
        Some((outgoing, state))
    })
    .boxed()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Client messages, at most [`MESSAGES_PER_POLL`] at a time: then the stream says "not now"
/// (and asks to be polled again at once), so the protocol handler sends what is ready before it
/// reads and starts more.
struct Throttled<S> {
    inner: S,
    left: usize,
}

impl<S: Stream + Unpin> Stream for Throttled<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if self.left == 0 {
            self.left = MESSAGES_PER_POLL;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let poll = Pin::new(&mut self.inner).poll_next(cx);
        match poll {
            Poll::Ready(Some(_)) => self.left -= 1,
            _ => self.left = MESSAGES_PER_POLL,
        }
        poll
    }
}
