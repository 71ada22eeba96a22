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
mod mutation;
mod query;
mod subscription;
mod types;

use std::sync::Arc;

use async_graphql::{Context, Schema};

use crate::service::{Service, ServiceError};

pub use access::{shape, Caller, RequestShape};
pub use error::{ensure_codes, ErrorCode};
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

pub type TiegraphSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits and switches the schema enforces on every query, before it runs.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    /// Deepest nesting of selections.
    pub max_depth: usize,
    /// Highest complexity: every field costs 1, list and search fields multiply by their page size.
    pub max_complexity: usize,
    /// Whether `__schema` and `__type` answer.
    pub introspection: bool,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        SchemaLimits {
            max_depth: 16,
            max_complexity: 50_000,
            introspection: true,
        }
    }
}

/// Builds the schema over `service`.
pub fn build_schema(service: Arc<Service>, limits: SchemaLimits) -> TiegraphSchema {
    let builder = Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
        .data(service)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity);
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
