//! Serving the bundled explorer: the web page at `/explorer` and its assets under
//! `/explorer/...` (script, style sheet, the vendored Cytoscape.js).
//!
//! The files live in the repository's `explorer/` folder and are compiled into the binary with
//! `include_str!`, so the page works offline and a deployed binary needs nothing beside it. The
//! page itself talks to `/graphql` and `/graphql/ws` like any other client; this module only
//! hands out bytes and knows nothing of the schema.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One bundled file: where it is served under `/explorer/`, its media type and its contents.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX_HTML: &str = include_str!("../../explorer/index.html");

/// Every file the page loads. Paths are relative to `/explorer/`.
const ASSETS: &[Asset] = &[
    Asset {
        path: "index.html",
        content_type: "text/html; charset=utf-8",
        body: INDEX_HTML,
    },
    Asset {
        path: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../explorer/app.js"),
    },
    Asset {
        path: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../explorer/style.css"),
    },
    Asset {
        path: "vendor/cytoscape.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../explorer/vendor/cytoscape.min.js"),
    },
];

/// The explorer's routes: the page at `/explorer` and `/explorer/`, the assets below it.
/// Generic over the state so it merges into the main router before `with_state`.
pub(super) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/explorer", get(index))
        .route("/explorer/", get(index))
        .route("/explorer/{*path}", get(asset))
}

async fn index() -> Response {
    respond(INDEX_HTML, "text/html; charset=utf-8")
}

async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(a) => respond(a.body, a.content_type),
        None => super::refusal(
            StatusCode::NOT_FOUND,
            crate::api::ErrorCode::NotFound,
            "no such explorer asset",
        ),
    }
}

/// The bytes with their media type. `no-cache` makes browsers revalidate, so a new binary's
/// page is picked up at once; the files are small and served from memory.
fn respond(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}
