//! Serving the bundled GraphiQL: the page at `/` (and, for a browser, at `GET /graphql`) and
//! its assets under `/ide/...`.
//!
//! The page, its script and style sheet live in the repository's `ide/` folder; GraphiQL 3.9.0
//! and React 18.3.1 (production builds, with their licences) in `ide/vendor/`. All are compiled
//! into the binary with `include_bytes!`, so the page works offline and loads nothing from
//! elsewhere. The vendored files are served under paths that name their version and are cached
//! for a year (`immutable`): a new version is a new path. The page and tiegraph's own script and
//! style are `no-cache`, so a new binary's page is picked up at once. The page talks to
//! `/graphql` and `/graphql/ws` like any other client; this module only hands out bytes.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// How long a browser may keep a file: versioned files for a year, the others revalidated.
#[derive(Clone, Copy)]
enum Caching {
    Versioned,
    Revalidate,
}

/// One bundled file: where it is served under `/ide/`, its media type, caching and contents.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    caching: Caching,
    body: &'static [u8],
}

const PAGE: &[u8] = include_bytes!("../../ide/index.html");
const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file the page loads, by its path below `/ide/`. The vendored ones carry their
/// version in the path (`ide/vendor/README.md` says where each comes from).
const ASSETS: &[Asset] = &[
    Asset {
        path: "ide.js",
        content_type: JS,
        caching: Caching::Revalidate,
        body: include_bytes!("../../ide/ide.js"),
    },
    Asset {
        path: "ide.css",
        content_type: CSS,
        caching: Caching::Revalidate,
        body: include_bytes!("../../ide/ide.css"),
    },
    Asset {
        path: "vendor/graphiql-3.9.0/graphiql.min.js",
        content_type: JS,
        caching: Caching::Versioned,
        body: include_bytes!("../../ide/vendor/graphiql.min.js"),
    },
    Asset {
        path: "vendor/graphiql-3.9.0/graphiql.min.css",
        content_type: CSS,
        caching: Caching::Versioned,
        body: include_bytes!("../../ide/vendor/graphiql.min.css"),
    },
    Asset {
        path: "vendor/react-18.3.1/react.production.min.js",
        content_type: JS,
        caching: Caching::Versioned,
        body: include_bytes!("../../ide/vendor/react.production.min.js"),
    },
    Asset {
        path: "vendor/react-dom-18.3.1/react-dom.production.min.js",
        content_type: JS,
        caching: Caching::Versioned,
        body: include_bytes!("../../ide/vendor/react-dom.production.min.js"),
    },
];

/// The routes: the page at `/`, the assets below `/ide/`. Generic over the state so it merges
/// into the main router before `with_state`.
pub(super) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/", get(index))
        .route("/ide/{*path}", get(asset))
}

/// The GraphiQL page, also what `GET /graphql` gives a browser.
pub(super) fn page() -> Response {
    respond(PAGE, HTML, Caching::Revalidate)
}

async fn index() -> Response {
    page()
}

async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(a) => respond(a.body, a.content_type, a.caching),
        None => super::refusal(
            StatusCode::NOT_FOUND,
            crate::api::ErrorCode::NotFound,
            "no such GraphiQL asset",
        ),
    }
}

fn respond(body: &'static [u8], content_type: &'static str, caching: Caching) -> Response {
    let cache = match caching {
        Caching::Versioned => "public, max-age=31536000, immutable",
        Caching::Revalidate => "no-cache",
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}
