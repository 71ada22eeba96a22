//! HTTP: the routes, GraphQL over HTTP, GraphiQL, health, metrics, access control, limits, and
//! the server's life cycle.
//!
//! The only module that imports axum. [`serve`] takes a bound listener and a shutdown future,
//! so tests run the real server on port 0 and stop it at will; it owns the connections
//! (`server.rs`: header-read, idle and write timeouts, a cap on open connections, a bounded
//! graceful shutdown), and on shutdown drains requests and flushes the store. It decides who
//! the caller is (bearer tokens) and hands the schema a [`Caller`](crate::api::Caller); it
//! knows the schema and the service as values, nothing of sled, petgraph or how the schema is
//! made. Every refusal it makes has the GraphQL error shape, with a code from `api::ErrorCode`.

mod access;
mod backup;
mod explorer;
mod export;
mod graphql;
mod ide;
mod import;
mod metrics;
mod server;
mod stream;
mod ws;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::sync::{watch, Semaphore};
use tower_http::cors::CorsLayer;

use crate::api::{
    error_document, grouped, unauthorized_message, Api, Credential, ErrorCode, LimitHit,
    SocketLimits,
};
use crate::service::{Role, Service};

pub use access::{check_exposure, Access, ExposureError, Token};
pub use metrics::Metrics;
pub use server::{serve, QUIET_LOG_TARGETS};

/// What the HTTP layer needs: the schema to run queries and the service for health and flushing.
#[derive(Clone)]
pub struct AppState {
    pub api: Api,
    pub service: Arc<Service>,
    pub config: HttpConfig,
    pub metrics: Arc<Metrics>,
    /// False once shutdown has begun: `/ready` then says 503 so balancers stop sending.
    pub ready: Arc<AtomicBool>,
    /// GraphQL operations (over HTTP and the websocket) and exports running at once.
    concurrency: Arc<Semaphore>,
    /// Open subscriptions, across connections.
    subscriptions: Arc<Semaphore>,
    /// `None` while serving; the time by which everything must have ended once shutdown began.
    stopping: Arc<watch::Sender<Option<Instant>>>,
}

impl AppState {
    pub fn new(api: Api, service: Arc<Service>, config: HttpConfig) -> Self {
        AppState {
            api,
            service,
            concurrency: Arc::new(Semaphore::new(config.max_concurrency)),
            subscriptions: Arc::new(Semaphore::new(config.max_subscriptions)),
            config,
            metrics: Arc::default(),
            ready: Arc::new(AtomicBool::new(true)),
            stopping: Arc::new(watch::channel(None).0),
        }
    }

    /// Completes once shutdown has begun, with the time by which everything must have ended.
    pub(crate) async fn stopping(&self) -> Instant {
        let mut receiver = self.stopping.subscribe();
        let deadline = match receiver.wait_for(Option::is_some).await {
            Ok(deadline) => *deadline,
            // The sender lives as long as the state: this cannot end otherwise.
            Err(_) => None,
        };
        match deadline {
            Some(deadline) => deadline,
            None => std::future::pending().await,
        }
    }
}

/// Limits and switches of the HTTP layer. The defaults are the README's.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes (`/admin/import` has its own).
    pub max_body_bytes: usize,
    /// Longest a read may take before it is answered 408. Writes are not cut (see
    /// `time_limit`).
    pub request_timeout: Duration,
    /// Most operations in one batched request.
    pub max_batch: usize,
    /// GraphQL operations (HTTP and websocket) and exports run at once; more are refused with
    /// 503 at once rather than queued.
    pub max_concurrency: usize,
    /// Open connections; more are answered 503 and closed.
    pub max_connections: usize,
    /// Longest a client may take to send a request's head, and longest an idle keep-alive
    /// connection stays open.
    pub header_timeout: Duration,
    /// Longest the server waits for a client to take any of what it sends (an answer, a
    /// backup, websocket messages) before it drops the connection.
    pub write_timeout: Duration,
    /// How long shutdown waits for requests under way before it closes their connections.
    pub shutdown_grace: Duration,
    /// Longest a websocket may stay open without completing `connection_init`.
    pub websocket_init_timeout: Duration,
    /// Limits of each websocket connection.
    pub socket: SocketLimits,
    /// Subscriptions open at once, across connections.
    pub max_subscriptions: usize,
    /// Origins allowed by CORS; empty allows any (reads are public by default).
    pub cors_origins: Vec<String>,
    /// Who may read and who may write.
    pub access: Access,
    /// A replica is ready only within this many commits of the log's head.
    pub max_lag: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(30),
            max_batch: 10,
            max_concurrency: 256,
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            websocket_init_timeout: Duration::from_secs(10),
            socket: SocketLimits::default(),
            max_subscriptions: 1_000,
            cors_origins: Vec::new(),
            access: Access::default(),
            max_lag: 100,
        }
    }
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let cors = if state.config.cors_origins.is_empty() {
        CorsLayer::permissive()
    } else {
        let origins: Vec<HeaderValue> = state
            .config
            .cors_origins
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect();
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods(tower_http::cors::Any)
            .allow_headers(tower_http::cors::Any)
    };
    // Only GraphQL requests and exports are limited: health checks and metrics must answer
    // under load. Exports take their slot themselves, so it lasts as long as their body.
    let graphql = Router::new()
        .route(
            "/graphql",
            get(graphql_get)
                .post(graphql::post)
                .fallback(graphql::other_method),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            limit_concurrency,
        ));
    Router::new()
        .merge(graphql)
        .merge(ide::routes())
        .route("/graphql/ws", get(ws::websocket))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/admin/backup", get(backup::backup))
        .route("/admin/checkpoint", axum::routing::post(backup::checkpoint))
        .route(
            "/admin/import",
            axum::routing::post(import::import)
                .layer(DefaultBodyLimit::max(import::MAX_IMPORT_BYTES)),
        )
        .route("/export", get(export::get))
        .merge(explorer::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
        .layer(cors)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// A refusal on any route: the GraphQL error shape, as `application/json`.
pub(crate) fn refusal(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    refusal_with(status, code, message, None)
}

pub(crate) fn refusal_with(
    status: StatusCode,
    code: ErrorCode,
    message: &str,
    limit: Option<LimitHit>,
) -> Response {
    (status, Json(error_document(code, message, limit))).into_response()
}

/// 401 for a caller without the right token. `need` says what needs one; the message adds
/// what was wrong with what was sent, and `WWW-Authenticate` says the same (RFC 6750).
pub(crate) fn unauthorized(credential: Credential, need: &str) -> Response {
    let mut response = refusal(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthorized,
        &unauthorized_message(credential, need),
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, challenge(credential));
    response
}

pub(crate) fn challenge(credential: Credential) -> HeaderValue {
    HeaderValue::from_static(match credential {
        Credential::Missing | Credential::Valid => "Bearer",
        Credential::Malformed => "Bearer error=\"invalid_request\"",
        Credential::Wrong => "Bearer error=\"invalid_token\"",
    })
}

/// The answer when the server is at a concurrency limit: try again shortly.
pub(crate) fn overloaded(max: usize, what: &str, limit: &'static str) -> Response {
    let mut response = refusal_with(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        &format!(
            "the server is at its limit of {} {what} at once; try again shortly",
            grouped(max as u64)
        ),
        Some(LimitHit {
            name: limit,
            max: max as u64,
        }),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Refuses a GraphQL request at once when `max_concurrency` operations already run (HTTP and
/// websocket together), rather than queueing it.
async fn limit_concurrency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(_slot) = Arc::clone(&state.concurrency).try_acquire_owned() else {
        state.metrics.shed();
        return overloaded(
            state.config.max_concurrency,
            "concurrent requests",
            "maxConcurrency",
        );
    };
    next.run(request).await
}

/// The request time limit, answered 408 in the error shape. A request that may write is not
/// cut here: once a write is handed to the service it lands whether or not anyone still
/// waits, so a timeout would answer "failed" for a write that then succeeds. `POST /graphql`
/// and `POST /admin/import` apply the limit themselves to what can be cut safely (reading the
/// body; operations that only read) and answer a write with its outcome however long it takes.
async fn time_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let may_write = request.method() == Method::POST
        && matches!(request.uri().path(), "/graphql" | "/admin/import");
    if may_write {
        return next.run(request).await;
    }
    match tokio::time::timeout(state.config.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => timed_out(&state.config, "the request"),
    }
}

/// 408: `what` took longer than the request time limit. Only ever sent for work that writes
/// nothing.
pub(crate) fn timed_out(config: &HttpConfig, what: &str) -> Response {
    let limit = config.request_timeout;
    refusal_with(
        StatusCode::REQUEST_TIMEOUT,
        ErrorCode::RequestTimeout,
        &format!(
            "{what} took longer than the server's limit of {} s and was stopped; nothing was written",
            limit.as_secs_f64()
        ),
        Some(LimitHit {
            name: "requestTimeoutSeconds",
            max: limit.as_secs(),
        }),
    )
}

async fn not_found() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such route: GraphQL is at /graphql (the README lists every route)",
    )
}

async fn method_not_allowed() -> Response {
    refusal(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::BadRequest,
        "this route does not take that method",
    )
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// Gives every request an id (echoed in `x-request-id`), logs it when answered, and counts it.
/// Only the method, route, status and timing are logged: never headers, which carry tokens.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let id = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
    let route: &'static str = match request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    {
        Some("/graphql") => "/graphql",
        Some("/graphql/ws") => "/graphql/ws",
        Some("/health") => "/health",
        Some("/ready") => "/ready",
        Some("/metrics") => "/metrics",
        Some("/admin/backup") => "/admin/backup",
        Some("/admin/import") => "/admin/import",
        Some("/export") => "/export",
        Some("/explorer") => "/explorer",
        Some("/") => "/",
        _ => "other",
    };
    let method = request.method().clone();
    let started = Instant::now();
    state.metrics.started();
    let mut response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    state.metrics.finished(route, status.as_u16(), elapsed);
    tracing::info!(
        request_id = id,
        %method,
        route,
        status = status.as_u16(),
        micros = elapsed.as_micros() as u64,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Liveness: the process answers, with the graph's size when the caller may read.
async fn health(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let access = &state.config.access;
    if !access.may_read(access.credential(&headers)) {
        return Json(serde_json::json!({ "status": "ok" })).into_response();
    }
    Json(serde_json::json!({
        "status": "ok",
        "entities": state.service.entity_count(),
        "relations": state.service.relation_count(),
    }))
    .into_response()
}

/// Readiness: the graph is loaded and the server is not shutting down; a writer is taking
/// writes; a replica reaches the log and is within `max_lag` commits of its head.
async fn ready(State(state): State<AppState>) -> Response {
    let unready = |why: String| {
        refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            &why,
        )
    };
    if !state.ready.load(Ordering::SeqCst) {
        return unready("shutting down".into());
    }
    let status = state.service.replication_status();
    match status.role {
        Role::Single => {}
        Role::Writer => {
            if let Some(why) = status.halted {
                return unready(why);
            }
        }
        Role::Replica => {
            if !status.connected {
                return unready("the replica cannot reach the change log".into());
            }
            if status.lag_commits() > state.config.max_lag {
                return unready(format!(
                    "the replica is {} commits behind the log (ready within {})",
                    status.lag_commits(),
                    state.config.max_lag
                ));
            }
        }
    }
    (StatusCode::OK, "ready").into_response()
}

/// Prometheus metrics: counts of the graph and of requests, so behind the read token when
/// reads need one, or behind the metrics token when one is set.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let access = &state.config.access;
    if !access.may_scrape(&headers) {
        let need = if access.metrics_token.is_some() {
            "metrics need the metrics token or the write token"
        } else {
            "this server needs a bearer token to read, metrics included"
        };
        return unauthorized(access.credential(&headers), need);
    }
    let service = &state.service;
    let store_bytes = service.size_on_disk().ok();
    let body = state.metrics.render(
        service.entity_count(),
        service.relation_count(),
        store_bytes,
        service.search_stats(),
        &service.replication_status(),
    );
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// `GET /graphql`: a websocket upgrade is the websocket (as Apollo Server, Yoga and Hasura
/// serve subscriptions on the GraphQL path itself); anything else is GraphQL over HTTP or the
/// IDE. `/graphql/ws` stays the websocket's own path.
async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    use axum::handler::Handler;
    let upgrade = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        ws::websocket.call(request, state).await
    } else {
        graphql::get.call(request, state).await
    }
}
