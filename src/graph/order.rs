//! The orders the algorithms visit the graph in, which depend only on its content: a node's
//! steps by relation id, nodes by entity id. The index's own adjacency order depends on the
//! order entities and relations were inserted (a rebuild from the store, a snapshot and live
//! mutations each give a different one), so no answer may follow it.

use std::cmp::Ordering;

use petgraph::stable_graph::NodeIndex;

use crate::model::Direction;

use super::{Budget, EdgeData, GraphIndex, Step};

/// Steps by relation id; the two steps of a relation from an entity to itself, outgoing first.
pub(super) fn by_relation_id(index: &GraphIndex, a: &Step, b: &Step) -> Ordering {
    index
        .relation_id(a.edge)
        .cmp(index.relation_id(b.edge))
        .then(a.direction.cmp(&b.direction))
}

/// Nodes by entity id.
pub(super) fn by_entity_id(index: &GraphIndex, a: NodeIndex, b: NodeIndex) -> Ordering {
    index.node_data(a).id.cmp(&index.node_data(b).id)
}

/// Fills `out` with the steps out of `node` in `direction` that `keep` takes, each with what
/// `keep` carries over it, in relation-id order, spending one visit per step examined. False,
/// with `out` empty, once the budget is spent: then none of the node's steps is taken, so where
/// a search stops does not depend on the adjacency order either.
pub(super) fn sorted_steps<T>(
    index: &GraphIndex,
    node: NodeIndex,
    direction: Direction,
    keep: impl Fn(&Step, &EdgeData) -> Option<T>,
    budget: &mut Budget,
    out: &mut Vec<(Step, T)>,
) -> bool {
    out.clear();
    for step in index.steps(node, direction) {
        if !budget.spend() {
            out.clear();
            return false;
        }
        if let Some(carried) = keep(&step, index.edge_data(step.edge)) {
            out.push((step, carried));
        }
    }
    out.sort_unstable_by(|a, b| by_relation_id(index, &a.0, &b.0));
    true
}
