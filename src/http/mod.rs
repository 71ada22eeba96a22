//! HTTP: the routes, GraphQL over HTTP, GraphiQL, health, metrics, access control, limits, and
//! the server's life cycle.
//!
//! The only module that imports axum. [`serve`] takes a bound listener and a shutdown future,
//! so tests run the real server on port 0 and stop it at will; on shutdown it drains requests
//! and flushes the store. It decides who the caller is (bearer tokens) and hands the schema a
//! [`Caller`]; it knows the schema and the service as values, nothing of sled, petgraph or how
//! the schema is made.

mod access;
mod backup;
mod explorer;
mod export;
mod graphql;
mod import;
mod metrics;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::cors::CorsLayer;
use tower_http::timeout::TimeoutLayer;

use crate::api::{Caller, TiegraphSchema};
use crate::service::Service;

pub use access::{check_exposure, Access, ExposureError, Token};
pub use metrics::Metrics;

/// What the HTTP layer needs: the schema to run queries and the service for health and flushing.
#[derive(Clone)]
pub struct AppState {
    pub schema: TiegraphSchema,
    pub service: Arc<Service>,
    pub config: HttpConfig,
    pub metrics: Arc<Metrics>,
    /// False once shutdown has begun: `/ready` then says 503 so balancers stop sending.
    pub ready: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(schema: TiegraphSchema, service: Arc<Service>, config: HttpConfig) -> Self {
        AppState {
            schema,
            service,
            config,
            metrics: Arc::default(),
            ready: Arc::new(AtomicBool::new(true)),
        }
    }
}

/// Limits and switches of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Most operations in one batched request.
    pub max_batch: usize,
    /// Most field selections in one operation (aliases and fragments counted).
    pub max_fields: usize,
    /// GraphQL requests answered at once; more are refused with 503 at once rather than queued.
    pub max_concurrency: usize,
    /// Origins allowed by CORS; empty allows any (reads are public by default).
    pub cors_origins: Vec<String>,
    /// Who may read and who may write.
    pub access: Access,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(30),
            max_batch: 10,
            max_fields: 2_000,
            max_concurrency: 256,
            cors_origins: Vec::new(),
            access: Access::default(),
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
    let shed_metrics = Arc::clone(&state.metrics);
    // Only GraphQL requests are limited: health checks and metrics must answer under load.
    let graphql = Router::new()
        .route(
            "/graphql",
            get(graphql::get)
                .post(graphql::post)
                .fallback(graphql::other_method),
        )
        .route_layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(move |_: tower::BoxError| {
                    let metrics = Arc::clone(&shed_metrics);
                    async move {
                        metrics.shed();
                        graphql::overloaded()
                    }
                }))
                .load_shed()
                .concurrency_limit(state.config.max_concurrency),
        );
    Router::new()
        .merge(graphql)
        .route("/", get(graphiql))
        .route("/graphql/ws", get(graphql::websocket))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/admin/backup", get(backup::backup))
        .route(
            "/admin/import",
            axum::routing::post(import::import)
                .layer(DefaultBodyLimit::max(import::MAX_IMPORT_BYTES)),
        )
        .route("/export", get(export::get))
        .merge(explorer::routes())
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ))
        .layer(cors)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes the requests under way and flushes the store.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = Arc::clone(&state.service);
    let ready = Arc::clone(&state.ready);
    let shutdown = async move {
        shutdown.await;
        ready.store(false, Ordering::SeqCst);
    };
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    service.flush().map_err(std::io::Error::other)?;
    Ok(())
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

pub(crate) fn graphiql_page() -> String {
    async_graphql::http::GraphiQLSource::build()
        .endpoint("/graphql")
        .subscription_endpoint("/graphql/ws")
        .title("tiegraph")
        .finish()
}

async fn graphiql() -> Html<String> {
    Html(graphiql_page())
}

/// Liveness: the process answers, with the graph's size.
async fn health(State(state): State<AppState>) -> Response {
    Json(serde_json::json!({
        "status": "ok",
        "entities": state.service.entity_count(),
        "relations": state.service.relation_count(),
    }))
    .into_response()
}

/// Readiness: the graph is loaded and the server is not shutting down.
async fn ready(State(state): State<AppState>) -> Response {
    if state.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let service = &state.service;
    let store_bytes = service.size_on_disk().ok();
    let body = state.metrics.render(
        service.entity_count(),
        service.relation_count(),
        store_bytes,
    );
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// The caller of a request, from its `Authorization` header.
pub(crate) fn caller(access: &Access, authorization: Option<&str>) -> Caller {
    Caller {
        can_write: access.may_write(authorization),
    }
}
