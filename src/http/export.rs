//! `GET /export`: a subgraph as a downloadable document in an exchange format.
//!
//! `format` is one of cytoscape, graphology, node-link, graphml, gexf, csv-nodes, csv-edges;
//! `scope` is all (the default), neighborhood (`id`, `depth`, `relationKinds`) or paths
//! (`from`, `pattern` as JSON, `to`); `includeDenied` applies to both searches. CSV comes as
//! two requests (csv-nodes, csv-edges) rather than an archive, so any HTTP client can fetch it.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::formats::export::{ExportError, ExportFormat, ExportGraph, Scope};
use crate::service::ServiceError;

fn error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !state.config.access.may_read(authorization) {
        return error(
            StatusCode::UNAUTHORIZED,
            "this server needs a bearer token to read".into(),
        );
    }
    let Some(format) = params.get("format") else {
        return error(StatusCode::BAD_REQUEST, "`format` is required: cytoscape, graphology, node-link, graphml, gexf, csv-nodes or csv-edges".into());
    };
    let format = match ExportFormat::parse(format) {
        Ok(format) => format,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let scope = match Scope::from_params(&|name| params.get(name).cloned()) {
        Ok(scope) => scope,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let service = state.service.clone();
    // Building and writing read the whole subgraph from the store: off the async runtime.
    let built = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ExportError> {
        let graph = ExportGraph::build(&service, &scope)?;
        let mut body = Vec::new();
        graph.write(format, &mut body)?;
        Ok(body)
    })
    .await;
    let body = match built {
        Ok(Ok(body)) => body,
        Ok(Err(ExportError::Service(e @ ServiceError::NotFound { .. }))) => {
            return error(StatusCode::NOT_FOUND, e.to_string())
        }
        Ok(Err(e)) if e.is_client_error() => return error(StatusCode::BAD_REQUEST, e.to_string()),
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(_) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the export was interrupted".into(),
            )
        }
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", format.file_name()))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
}
