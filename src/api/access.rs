//! Who may do what, and how big a request may be, as the schema sees it.
//!
//! The transport (HTTP or the websocket) decides who the caller is and puts a [`Caller`] in the
//! request's data; the schema only asks it. A request with no `Caller` may not write: an
//! unidentified caller is never trusted.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Context, Guard, Result};

use super::error::{coded, ErrorCode};

/// What the transport established about the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub can_write: bool,
}

/// Lets a mutation run only for a caller allowed to write.
pub struct WriteGuard;

impl Guard for WriteGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        match ctx.data_opt::<Caller>() {
            Some(caller) if caller.can_write => Ok(()),
            _ => Err(coded(
                ErrorCode::Unauthorized,
                "writes need a bearer token: send `Authorization: Bearer <token>`",
            )),
        }
    }
}

/// What a parsed request would run, for checks before running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestShape {
    /// The operation named (or the only one); `None` when the document names no operation it holds.
    pub operation: Option<OperationType>,
    /// Field selections in the whole document, aliases and fragments included: what an alias
    /// flood inflates.
    pub fields: usize,
}

/// Parses `query` and measures it; `None` when it does not parse (execution reports that).
pub fn shape(query: &str, operation_name: Option<&str>) -> Option<RequestShape> {
    let document = async_graphql::parser::parse_query(query).ok()?;
    Some(RequestShape {
        operation: operation_type(&document, operation_name),
        fields: count_fields(&document),
    })
}

fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), None) => Some(op.node.ty),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

fn count_fields(document: &ExecutableDocument) -> usize {
    fn count(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => 1 + count(&field.node.selection_set.node),
                Selection::InlineFragment(fragment) => count(&fragment.node.selection_set.node),
                // Spreads are counted where their fragment is defined, once.
                Selection::FragmentSpread(_) => 1,
            })
            .sum()
    }
    let operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|f| count(&f.node.selection_set.node))
        .sum();
    operations + fragments
}
