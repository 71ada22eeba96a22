//! Relay cursor connections, written out so that every connection type is described in the
//! schema (async-graphql's generic `Connection` leaves the connection types undescribed).

use async_graphql::SimpleObject;

/// Where a page sits in the whole list (Relay's PageInfo).
#[derive(SimpleObject)]
pub struct PageInfo {
    /// Whether there are items before this page.
    pub has_previous_page: bool,
    /// Whether there are items after this page.
    pub has_next_page: bool,
    /// The cursor of the first item of this page.
    pub start_cursor: Option<String>,
    /// The cursor of the last item of this page: pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

impl PageInfo {
    fn of<T>(items: &[(String, T)], has_previous_page: bool, has_next_page: bool) -> Self {
        PageInfo {
            has_previous_page,
            has_next_page,
            start_cursor: items.first().map(|(c, _)| c.clone()),
            end_cursor: items.last().map(|(c, _)| c.clone()),
        }
    }
}

macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $connection_doc:literal, $edge_doc:literal $(, $extra:ident: $extra_ty:ty => $extra_doc:literal)*) => {
        #[doc = $connection_doc]
        #[derive(async_graphql::SimpleObject)]
        #[graphql(complex)]
        pub struct $connection {
            /// The items of this page, each with the cursor that marks its place.
            pub edges: Vec<$edge>,
            /// Whether there is more before or after this page, and its first and last cursors.
            pub page_info: PageInfo,
            $(
                #[doc = $extra_doc]
                pub $extra: $extra_ty,
            )*
        }

        #[doc = $edge_doc]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Pass it as `after` to get the items that follow this one.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        #[async_graphql::ComplexObject]
        impl $connection {
            /// The items of this page without their cursors, for clients that only page forward
            /// with `pageInfo.endCursor`.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|edge| &edge.node).collect()
            }
        }

        impl $connection {
            pub fn new(items: Vec<(String, $node)>, has_previous: bool, has_next: bool $(, $extra: $extra_ty)*) -> Self {
                let page_info = PageInfo::of(&items, has_previous, has_next);
                let edges = items.into_iter().map(|(cursor, node)| $edge { cursor, node }).collect();
                $connection { edges, page_info $(, $extra)* }
            }
        }
    };
}

use super::types::{Claim, DuplicateCandidate, Entity, Path, Reach, Relation, Source};

connection!(
    EntityConnection,
    EntityEdge,
    Entity,
    "A page of entities: in id order, or best match first for a text search.",
    "An entity and its cursor.",
    total_count: Option<i32> => "Entities in all, across every page. Null on `entities` unless asked for in the same query (then counted, which costs a scan of the entities when the query filters)."
);
connection!(
    RelationConnection,
    RelationEdge,
    Relation,
    "A page of relations, in relation-id order.",
    "A relation and its cursor.",
    total_count: i32 => "Relations in all, across every page (those the arguments admit)."
);
connection!(
    ClaimConnection,
    ClaimEdge,
    Claim,
    "A page of the claims a search found, in relation-id order.",
    "A claim and its cursor (the claim's id).",
    partial: bool => "True when the search stopped at its budget before reading every relation: there may be more claims. When `hasNextPage` is true, the next page goes on from `endCursor`; a page cut short with no claims at all needs a larger budget."
);
connection!(
    SourceConnection,
    SourceEdge,
    Source,
    "A page of the sources a search found, in id order.",
    "A source and its cursor (the source's id).",
    partial: bool => "True when the search stopped at its budget before reading every source: there may be more. When `hasNextPage` is true, the next page goes on from `endCursor`."
);
connection!(
    DuplicateCandidateConnection,
    DuplicateCandidateEdge,
    DuplicateCandidate,
    "A page of groups of entities that may be duplicates, ordered by what they share.",
    "A group and its cursor (what its entities share)."
);
connection!(
    PathConnection,
    PathEdge,
    Path,
    "A page of paths, shortest first, then by the ids of the relations they cross.",
    "A path and its cursor.",
    partial: bool => "True when the search stopped at its budget (relations examined or time): there may be more paths than it found. Each page has its own budget: when `hasNextPage` is true the next page continues after this one.",
    total_count: i32 => "Paths in all, across every page (a lower bound when `partial`). Counting them costs a search as long as the paths are many, so it is done only when asked for."
);
connection!(
    ReachConnection,
    ReachEdge,
    Reach,
    "A page of the entities a pattern reaches, in id order.",
    "An entity reached and its cursor (the entity's id).",
    partial: bool => "True when the search stopped at its budget (relations examined or time): there may be more entities than it found.",
    total_count: i32 => "Entities reached in all, across every page (a lower bound when `partial`). The answer is computed once, by a search that costs the relations it touches, and its pages are served from it until the graph changes."
);
