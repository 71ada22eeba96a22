use std::collections::{HashSet, VecDeque};

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use crate::model::Direction;

use super::{Budget, EdgeFilter, GraphIndex};

/// Entities and the relations among them, ready to draw.
#[derive(Debug, Clone, Default)]
pub struct Subgraph {
    /// In the order they were reached, the centre first.
    pub nodes: Vec<NodeIndex>,
    pub edges: Vec<EdgeIndex>,
    /// The search stopped at its budget or node cap before reaching `depth` everywhere.
    pub partial: bool,
}

/// The entities within `depth` relations of `center` (any direction), at most `max_nodes` of
/// them, and every relation `filter` admits between two of them.
pub fn neighborhood(
    index: &GraphIndex,
    center: NodeIndex,
    depth: u32,
    filter: &EdgeFilter,
    max_nodes: usize,
    budget: &mut Budget,
) -> Subgraph {
    let mut subgraph = Subgraph {
        nodes: vec![center],
        ..Subgraph::default()
    };
    let mut reached: HashSet<NodeIndex> = HashSet::from([center]);
    let mut queue = VecDeque::from([(center, 0u32)]);
    'search: while let Some((node, distance)) = queue.pop_front() {
        if distance == depth {
            continue;
        }
        for step in index.steps(node, Direction::Any) {
            if !budget.spend() {
                subgraph.partial = true;
                break 'search;
            }
            if !filter.admits(index.edge_data(step.edge)) || reached.contains(&step.to) {
                continue;
            }
            if subgraph.nodes.len() >= max_nodes {
                subgraph.partial = true;
                break 'search;
            }
            reached.insert(step.to);
            subgraph.nodes.push(step.to);
            queue.push_back((step.to, distance + 1));
        }
    }
    // Every admitted relation between two reached entities, each once (from its `from` end).
    for &node in &subgraph.nodes {
        for step in index.steps(node, Direction::Out) {
            if reached.contains(&step.to) && filter.admits(index.edge_data(step.edge)) {
                subgraph.edges.push(step.edge);
            }
        }
    }
    subgraph
}
