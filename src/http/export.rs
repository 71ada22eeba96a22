//! `GET /export`: a subgraph as a downloadable document in an exchange format.
//!
//! `format` is one of cytoscape, graphology, node-link, graphml, gexf, csv-nodes, csv-edges;
//! `scope` is all (the default), neighborhood (`id`, `depth`, `relationKinds`) or paths
//! (`from`, `pattern` as JSON, `to`); `includeDenied` applies to both searches. CSV comes as
//! two requests (csv-nodes, csv-edges) rather than an archive, so any HTTP client can fetch it.
//!
//! An export streams: the scope's search runs first (its failure is an ordinary refusal), then
//! the document is written record by record as the client reads it, so memory stays flat.
//! Each export holds a slot of the server's concurrency limit and one of the (smaller) export
//! limit until its body is sent or its client has gone, and a whole-graph export is bounded
//! by the export policy (`api::ExportPolicy`). The body has no length: an export that fails
//! midway ends the body with an error, so no client takes a cut document for a whole one.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{challenge, overloaded, refusal, refusal_with, stream, unauthorized, AppState};
use crate::api::{client_message, ErrorCode};
use crate::formats::export::{ExportError, ExportFormat, ExportPlan, Scope};
use crate::service::ServiceError;

fn error(status: StatusCode, message: String) -> Response {
    refusal(status, ErrorCode::BadRequest, &message)
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let access = &state.config.access;
    let credential = access.credential(&headers);
    if !access.may_read(credential) {
        return unauthorized(credential, "this server needs a bearer token to read");
    }
    let Ok(Query(params)) = params else {
        return error(
            StatusCode::BAD_REQUEST,
            "the URL's query string cannot be read: encode the parameters as URL parameters".into(),
        );
    };
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
    if matches!(scope, Scope::All) {
        let policy = state.api.limits.export;
        let relations = state.service.relation_count();
        if let Err(refused) = policy.check_whole_graph(relations, &access.caller(credential)) {
            let status = match refused.code {
                ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
                _ => StatusCode::FORBIDDEN,
            };
            let mut response = refusal_with(status, refused.code, &refused.message, refused.limit);
            if status == StatusCode::UNAUTHORIZED {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, challenge(credential));
            }
            return response;
        }
    }
    // Both slots are held by the build and by the body: a build cut by the request time
    // limit still holds its memory until it ends, so it keeps its slots until then.
    let Ok(slot) = Arc::clone(&state.concurrency).try_acquire_owned() else {
        state.metrics.shed();
        return overloaded(
            state.config.max_concurrency,
            "concurrent requests",
            "maxConcurrency",
        );
    };
    let export_slot = match state.api.export_slot() {
        Ok(slot) => slot,
        Err(refused) => {
            state.metrics.shed();
            let mut response = refusal_with(
                StatusCode::SERVICE_UNAVAILABLE,
                refused.code,
                &refused.message,
                refused.limit,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
    };
    let service = state.service.clone();
    // The search and the writing read the store: off the async runtime. The search's outcome
    // decides the status; then the document streams, holding both slots until it is sent or
    // the client has gone.
    let (ready, searched) = tokio::sync::oneshot::channel::<Result<(), ExportError>>();
    let (mut writer, body) = stream::channel();
    tokio::task::spawn_blocking(move || {
        let _slots = (slot, export_slot);
        let plan = match ExportPlan::select(&service, &scope) {
            Ok(plan) => plan,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        if ready.send(Ok(())).is_err() {
            return;
        }
        match plan.write(&service, format, &mut writer) {
            Ok(()) => {}
            Err(ExportError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(error) => {
                tracing::error!(%error, "export failed");
                writer.fail("the export failed");
            }
        }
    });
    match searched.await {
        Ok(Ok(())) => {}
        Ok(Err(ExportError::Service(e @ ServiceError::NotFound { .. }))) => {
            return refusal(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                &client_message(&e),
            )
        }
        Ok(Err(e)) if e.is_client_error() => {
            return refusal(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &e.to_string(),
            )
        }
        Ok(Err(e)) => {
            // The details are for the operator's log.
            tracing::error!(error = %e, "export failed");
            return refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "the export failed",
            );
        }
        Err(_) => {
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the export was interrupted",
            )
        }
    }
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
