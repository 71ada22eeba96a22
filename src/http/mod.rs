//! HTTP: the routes, GraphQL over HTTP, GraphiQL, health, and the server's life cycle.
//!
//! The only module that imports axum. [`serve`] takes a bound listener and a shutdown future,
//! so tests run the real server on port 0 and stop it at will; on shutdown it drains requests
//! and flushes the store. It knows the schema and the service as values, nothing of sled,
//! petgraph or how the schema is made.

mod explorer;
mod graphql;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;
use tower_http::timeout::TimeoutLayer;

use crate::api::TiegraphSchema;
use crate::service::Service;

/// What the HTTP layer needs: the schema to run queries and the service for health and flushing.
#[derive(Clone)]
pub struct AppState {
    pub schema: TiegraphSchema,
    pub service: Arc<Service>,
    pub config: HttpConfig,
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
    /// Origins allowed by CORS; empty allows any (reads are public by default).
    pub cors_origins: Vec<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(30),
            max_batch: 10,
            cors_origins: Vec::new(),
        }
    }
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let cors = if state.config.cors_origins.is_empty() {
        CorsLayer::permissive()
    } else {
        let origins = state.config.cors_origins.iter().filter_map(|o| o.parse().ok()).collect::<Vec<_>>();
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods(tower_http::cors::Any)
            .allow_headers(tower_http::cors::Any)
    };
    let subscriptions = async_graphql_axum::GraphQLSubscription::new(state.schema.clone());
    Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route_service("/graphql/ws", subscriptions)
        .route("/health", get(health))
        .merge(explorer::routes())
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, state.config.request_timeout))
        .layer(cors)
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes the requests under way and flushes the store.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = Arc::clone(&state.service);
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await?;
    service.flush().map_err(std::io::Error::other)?;
    Ok(())
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

async fn health(State(state): State<AppState>) -> Response {
    Json(serde_json::json!({
        "status": "ok",
        "entities": state.service.entity_count(),
        "relations": state.service.relation_count(),
    }))
    .into_response()
}
