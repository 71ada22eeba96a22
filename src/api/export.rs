//! The export resolvers: a subgraph as one document in an exchange format, returned as a string
//! (JSON formats hold JSON a client parses again; XML and CSV hold those documents).

use async_graphql::{Context, Result};

use crate::formats::export::{ExportError, ExportPlan, Scope};
use crate::graph::HopSpec;
use crate::model;
use crate::service::ServiceError;

use super::enums::ExportFormat;
use super::error::bad_input;
use super::{blocking, service, Caller, ExportSlots, SchemaLimits};

fn to_service_error(error: ExportError) -> ServiceError {
    match error {
        ExportError::Service(e) => e,
        ExportError::BadRequest(message) => ServiceError::BadQuery(message),
        // Writing into memory only fails on a bug; the client gets the generic failure.
        _ => ServiceError::Unavailable,
    }
}

/// A slot of the export limit, shared with `GET /export`.
fn take_slot(ctx: &Context<'_>) -> Result<tokio::sync::OwnedSemaphorePermit> {
    // The schema is only ever built by `build`, which always provides the slots and limits.
    let max = ctx.data_unchecked::<SchemaLimits>().export.max_concurrent;
    ctx.data_unchecked::<ExportSlots>()
        .take(max)
        .map_err(|refusal| refusal.error())
}

/// Builds the scope's subgraph and writes it as `format`, on the blocking pool.
pub(super) async fn export(
    ctx: &Context<'_>,
    format: ExportFormat,
    scope: Scope,
) -> Result<String> {
    if matches!(scope, Scope::All) {
        // The schema is only ever built by `build_schema`, which always provides the limits.
        let policy = ctx.data_unchecked::<SchemaLimits>().export;
        let caller = ctx.data_opt::<Caller>().copied().unwrap_or_default();
        policy
            .check_whole_graph(service(ctx).relation_count(), &caller)
            .map_err(|refusal| refusal.error())?;
    }
    let slot = take_slot(ctx)?;
    let format = format.into();
    blocking(ctx, move |service| {
        // Held until the document is built, even if the request has gone.
        let _slot = slot;
        ExportPlan::select(service, &scope)
            .and_then(|plan| plan.to_string(service, format))
            .map_err(to_service_error)
    })
    .await
}

/// Writes a subgraph another query found (`Subgraph.export`).
pub(super) async fn export_ids(
    ctx: &Context<'_>,
    format: ExportFormat,
    title: String,
    nodes: Vec<String>,
    edges: Vec<String>,
    partial: bool,
) -> Result<String> {
    let slot = take_slot(ctx)?;
    let format = format.into();
    blocking(ctx, move |service| {
        let _slot = slot;
        ExportPlan::listed(title, nodes, edges, partial)
            .to_string(service, format)
            .map_err(to_service_error)
    })
    .await
}

/// The scope `Query.export`'s arguments describe.
pub(super) fn scope(
    scope: super::enums::ExportScope,
    id: Option<String>,
    depth: i32,
    relation_kinds: Vec<model::RelationKind>,
    pattern: Option<Vec<HopSpec>>,
    to: Option<String>,
    include_denied: bool,
) -> Result<Scope> {
    use super::enums::ExportScope as S;
    Ok(match scope {
        S::All => Scope::All,
        S::Neighborhood => Scope::Neighborhood {
            id: id.ok_or_else(|| bad_input("id", "scope NEIGHBORHOOD needs an `id`"))?,
            depth: u32::try_from(depth)
                .map_err(|_| bad_input("depth", "depth must not be negative"))?,
            relation_kinds,
            include_denied,
        },
        S::Paths => Scope::Paths {
            from: id.ok_or_else(|| bad_input("id", "scope PATHS needs an `id` to start from"))?,
            hops: pattern.ok_or_else(|| bad_input("pattern", "scope PATHS needs a `pattern`"))?,
            to,
            include_denied,
        },
    })
}
