//! The GraphQL API: schema, types, and the mapping of domain errors to error codes.
//!
//! The only module that imports async-graphql. GraphQL types wrap model records and ask the
//! service for whatever they link to; they hold no state of their own. Every service error
//! becomes a GraphQL error with `extensions.code` in [`error`], and nowhere else.
//! Searches and writes run on tokio's blocking pool so that a long search or a disk flush
//! never stalls the async runtime. It knows nothing of sled, petgraph's internals or HTTP.

mod access;
mod connection;
mod enums;
mod error;
mod export;
mod inputs;
mod limits;
mod mutation;
mod persisted;
mod query;
mod socket;
mod subscription;
mod transport;
mod types;

use std::sync::Arc;

use async_graphql::{Context, Schema};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::service::{Service, ServiceError};

pub use access::{unauthorized_message, Caller, Credential};
pub use async_graphql::parser::types::OperationType;
pub use error::{
    client_message, code_of, ensure_codes, error_document, grouped, ErrorCode, LimitHit,
};
use limits::prepare_off_runtime;
pub use limits::{prepare, Prepared, Refusal, MAX_NESTING};
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use socket::{session, Outgoing, SocketExecutor, SocketLimits, SocketProtocol};
pub use subscription::SubscriptionRoot;
pub use transport::{
    await_min_sequence, execute, request_from_params, requests_from_body, Answer, Received,
};

pub type TiegraphSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits and switches the schema enforces on every operation, on every transport, before it
/// runs (see `limits.rs` for how they are checked in linear time).
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    /// Deepest nesting of fields, fragments expanded.
    pub max_depth: usize,
    /// Highest complexity: every field costs 1, list and search fields multiply by their page size.
    pub max_complexity: usize,
    /// Most field selections in one document once its fragments are expanded (aliases and
    /// every spread counted): what alias floods and fragment fan-outs inflate.
    pub max_fields: usize,
    /// Longest query text, in bytes.
    pub max_document_bytes: usize,
    /// Whether `__schema` and `__type` answer.
    pub introspection: bool,
    /// Who may export the whole graph, and how big it may be.
    pub export: ExportPolicy,
    /// Longest a request carrying `extensions.minSequence` waits for that commit to be applied.
    pub max_sequence_wait: std::time::Duration,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        SchemaLimits {
            max_depth: 16,
            max_complexity: 50_000,
            max_fields: 2_000,
            max_document_bytes: 256 * 1024,
            introspection: true,
            export: ExportPolicy::default(),
            max_sequence_wait: std::time::Duration::from_secs(5),
        }
    }
}

/// Whole-graph exports are built in memory (about 12 KB per relation at peak, measured at 200k
/// relations), so they are bounded by configuration; neighbourhood and path exports are bounded
/// by the search limits.
#[derive(Debug, Clone, Copy)]
pub struct ExportPolicy {
    /// Whole-graph exports need the write token.
    pub whole_graph_needs_token: bool,
    /// A whole-graph export of a graph with more relations than this is refused; 0 for no limit.
    pub max_whole_graph_relations: usize,
    /// Exports (of any scope, over `GET /export` and GraphQL together) built at once.
    pub max_concurrent: usize,
}

impl Default for ExportPolicy {
    fn default() -> Self {
        ExportPolicy {
            whole_graph_needs_token: false,
            max_whole_graph_relations: 100_000,
            max_concurrent: 2,
        }
    }
}

/// The slots of `ExportPolicy::max_concurrent`, shared by every transport.
#[derive(Clone)]
struct ExportSlots(Arc<Semaphore>);

impl ExportSlots {
    fn take(&self, max: usize) -> Result<OwnedSemaphorePermit, Refusal> {
        Arc::clone(&self.0)
            .try_acquire_owned()
            .map_err(|_| Refusal {
                limit: Some(LimitHit {
                    name: "maxConcurrentExports",
                    max: max as u64,
                }),
                ..Refusal::new(
                    ErrorCode::Unavailable,
                    format!(
                        "the server is at its limit of {} exports at once; try again shortly",
                        grouped(max as u64)
                    ),
                )
            })
    }
}

impl ExportPolicy {
    /// Whether a caller may export the whole graph of `relations` relations.
    pub fn check_whole_graph(&self, relations: usize, caller: &Caller) -> Result<(), Refusal> {
        // "The token" is the right to write: on a server with no token (loopback only), anyone
        // who may write may export.
        if self.whole_graph_needs_token && !caller.can_write {
            return Err(Refusal::new(
                ErrorCode::Unauthorized,
                unauthorized_message(
                    caller.credential,
                    "a whole-graph export needs the write token on this server (export a neighborhood or paths without it)",
                ),
            ));
        }
        let max = self.max_whole_graph_relations;
        if max > 0 && relations > max {
            return Err(Refusal {
                limit: Some(LimitHit {
                    name: "maxExportRelations",
                    max: max as u64,
                }),
                ..Refusal::new(
                    ErrorCode::ExportTooLarge,
                    format!(
                        "the whole graph has {} relations; whole-graph exports are limited to {} on this server: export a neighborhood or paths, or run `tiegraph export` on the data directory",
                        grouped(relations as u64),
                        grouped(max as u64)
                    ),
                )
            });
        }
        Ok(())
    }
}

/// The schema with the limits it was built with: what the transports need to admit and run
/// operations.
#[derive(Clone)]
pub struct Api {
    pub schema: TiegraphSchema,
    pub limits: SchemaLimits,
    exports: ExportSlots,
    persisted: Arc<persisted::PersistedQueries>,
    service: Arc<Service>,
}

impl Api {
    pub fn new(service: Arc<Service>, limits: SchemaLimits) -> Api {
        let exports = ExportSlots(Arc::new(Semaphore::new(limits.export.max_concurrent)));
        Api {
            schema: build(Arc::clone(&service), limits, exports.clone()),
            limits,
            exports,
            persisted: Arc::default(),
            service,
        }
    }

    /// Admits one request: fills in a persisted query's document (or remembers it), then checks
    /// it against the limits and parses it, off the async runtime when it is large.
    pub async fn prepare(&self, mut request: async_graphql::Request) -> Result<Prepared, Refusal> {
        self.persisted.resolve(&self.limits, &mut request)?;
        prepare_off_runtime(self.limits, request).await
    }

    /// A slot to build an export in, held until the export has been sent; refused at once
    /// when `max_concurrent` exports are being built.
    pub fn export_slot(&self) -> Result<OwnedSemaphorePermit, Refusal> {
        self.exports.take(self.limits.export.max_concurrent)
    }
}

/// Builds the schema over `service`. Depth and complexity are checked by [`limits::Limiter`]
/// rather than async-graphql's own limits, so the refusal names the limit and the value.
pub fn build_schema(service: Arc<Service>, limits: SchemaLimits) -> TiegraphSchema {
    let exports = ExportSlots(Arc::new(Semaphore::new(limits.export.max_concurrent)));
    build(service, limits, exports)
}

fn build(service: Arc<Service>, limits: SchemaLimits, exports: ExportSlots) -> TiegraphSchema {
    let builder = Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
        .data(service)
        .data(limits)
        .data(exports)
        .extension(limits::Limiter(limits));
    if limits.introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema's SDL, as `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
        .finish()
        .sdl()
}

fn service<'a>(ctx: &Context<'a>) -> &'a Arc<Service> {
    // The schema is only ever built by `build_schema`, which always provides the service.
    ctx.data_unchecked::<Arc<Service>>()
}

/// Runs `work` on the blocking pool: searches can take a while and writes wait for the disk.
async fn blocking<T, F>(ctx: &Context<'_>, work: F) -> async_graphql::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Service) -> Result<T, ServiceError> + Send + 'static,
{
    let service = Arc::clone(service(ctx));
    match tokio::task::spawn_blocking(move || work(&service)).await {
        Ok(result) => result.map_err(error::to_graphql),
        Err(_) => Err(error::to_graphql(ServiceError::Unavailable)),
    }
}

/// The page size when a client does not say.
const DEFAULT_PAGE: usize = 20;

/// Resolves a `first` argument: absent means the default; negative or above the server's
/// largest page is refused rather than silently changed.
fn page_size(first: Option<i32>, max: usize) -> async_graphql::Result<usize> {
    match first {
        None => Ok(DEFAULT_PAGE.min(max)),
        Some(n) if n < 0 => Err(error::bad_input("first", "first must not be negative")),
        Some(n) if n as usize > max => Err(error::bad_input(
            "first",
            format!("first may be at most {max}"),
        )),
        Some(n) => Ok(n as usize),
    }
}
