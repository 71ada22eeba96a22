//! The in-memory graph index and the traversal algorithms over it.
//!
//! Owns the topology of the graph: which entity (and of which kind) is tied to which by
//! which relation (its kind, validity period and whether it is denied). Record details
//! (names, claims, quotes) stay in the store: keeping them out keeps the index small
//! enough to hold a million entities in memory. Beside petgraph's adjacency it keeps a compact
//! copy for frontier searches (`adjacency.rs`). One file per algorithm, each a free function
//! over [`GraphIndex`] that applies its filters during the search and spends a [`Budget`]. It
//! knows nothing of sled, GraphQL or HTTP.

mod adjacency;
mod budget;
mod connected;
mod filter;
#[cfg(test)]
mod fixture;
mod identifiers;
mod index;
mod listing;
mod neighborhood;
mod order;
mod paths;
mod pattern;
mod search;
mod shortest;
mod snapshot;

pub use budget::{Budget, BudgetLimits};
pub use connected::{connected, paths_to, PathsTo, Reached};
pub use filter::{EdgeFilter, EntityKindSet, HopSpec, KindSet, RelationQuery};
pub use index::{DuplicateGroup, EdgeData, GraphIndex, Holder, NodeData, Step, Version};
pub use listing::{Order, OrderField, Place, SortKey};
pub use neighborhood::{neighborhood, Subgraph};
pub use paths::{find_paths, After, Path, PathQuery};
pub use pattern::MAX_POSITIONS;
/// A relation's place in the index, as [`Node`] is an entity's.
pub use petgraph::stable_graph::EdgeIndex as Edge;
/// An entity's place in the index: a handle only the index gives out and understands, so that
/// no other layer needs petgraph.
pub use petgraph::stable_graph::NodeIndex as Node;
pub use search::EntityQuery;
pub use shortest::{shortest_paths, ShortestQuery};
pub use snapshot::SnapshotError;
