//! The export resolvers: a subgraph as one document in an exchange format, returned as the
//! `JSON` scalar: the document itself for the JSON formats (an object a client hands to
//! Cytoscape.js, graphology or NetworkX without parsing it again), a string holding it for
//! GraphML, GEXF and CSV.

use async_graphql::{
    Context, Description, InputValueError, InputValueResult, Result, Scalar, ScalarType, Value,
};

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

/// The `JSON` scalar; its description (the schema's) says what an export holds.
pub struct Json(pub serde_json::Value);

impl Description for Json {
    fn description() -> &'static str {
        "Any JSON value. An `export` is the document itself for the JSON formats (Cytoscape.js, graphology, NetworkX node-link): an object; and a string holding the document for GraphML, GEXF and CSV."
    }
}

#[Scalar(name = "JSON", use_type_description)]
impl ScalarType for Json {
    fn parse(value: Value) -> InputValueResult<Self> {
        value
            .into_json()
            .map(Json)
            .map_err(|e| InputValueError::custom(e.to_string()))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}

/// A written document as the `JSON` scalar: parsed for a JSON format, a string for the others.
fn document(
    format: crate::formats::export::ExportFormat,
    text: String,
) -> std::result::Result<Json, ServiceError> {
    use crate::formats::export::ExportFormat as F;
    match format {
        F::Cytoscape | F::Graphology | F::NodeLink => serde_json::from_str(&text)
            .map(Json)
            // The writers write JSON; a document that is not is a bug, not the client's.
            .map_err(|_| ServiceError::Unavailable),
        F::Graphml | F::Gexf | F::CsvNodes | F::CsvEdges => {
            Ok(Json(serde_json::Value::String(text)))
        }
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
pub(super) async fn export(ctx: &Context<'_>, format: ExportFormat, scope: Scope) -> Result<Json> {
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
            .and_then(|text| document(format, text))
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
) -> Result<Json> {
    let slot = take_slot(ctx)?;
    let format = format.into();
    blocking(ctx, move |service| {
        let _slot = slot;
        ExportPlan::listed(title, nodes, edges, partial)
            .to_string(service, format)
            .map_err(to_service_error)
            .and_then(|text| document(format, text))
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
