use std::collections::HashSet;

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use crate::model::Direction;

use super::order::{by_entity_id, sorted_steps};
use super::{Budget, EdgeData, EdgeFilter, GraphIndex, Step};

/// Entities and the relations among them, ready to draw.
#[derive(Debug, Clone, Default)]
pub struct Subgraph {
    /// By distance from the centre (the centre first), then by id.
    pub nodes: Vec<NodeIndex>,
    /// By relation id.
    pub edges: Vec<EdgeIndex>,
    /// The search stopped at its budget or node cap before reaching `depth` everywhere.
    pub partial: bool,
}

/// The entities within `depth` relations of `center` (any direction), at most `max_nodes` of
/// them, and every relation `filter` admits between two of them.
///
/// Breadth first, a level at a time: each level's entities in id order, each entity's
/// relations in id order, so which entities a cap or the budget leaves out depends only on the
/// graph, never on the order it was loaded in.
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
    let mut frontier = vec![center];
    let mut steps = Vec::new();
    for _ in 0..depth {
        let mut next = Vec::new();
        let mut stopped = false;
        'level: for &node in &frontier {
            let admits = |_: &Step, edge: &EdgeData| filter.admits(edge).then_some(());
            if !sorted_steps(index, node, Direction::Any, admits, budget, &mut steps) {
                stopped = true;
                break;
            }
            for (step, ()) in &steps {
                if reached.contains(&step.to) {
                    continue;
                }
                if subgraph.nodes.len() + next.len() >= max_nodes {
                    stopped = true;
                    break 'level;
                }
                reached.insert(step.to);
                next.push(step.to);
            }
        }
        next.sort_unstable_by(|&a, &b| by_entity_id(index, a, b));
        subgraph.nodes.extend_from_slice(&next);
        if stopped {
            subgraph.partial = true;
            break;
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
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
        .edges
        .sort_unstable_by(|&a, &b| index.relation_id(a).cmp(index.relation_id(b)));
    subgraph
}

#[cfg(test)]
mod test {
    use super::super::fixture::{budget, ids, node, same_everywhere, ENTITIES, VISITS};
    use super::*;

    fn answer(
        index: &GraphIndex,
        center: &str,
        depth: u32,
        filter: &EdgeFilter,
        max_nodes: usize,
        visits: u64,
    ) -> (Vec<String>, Vec<String>, bool) {
        let center = node(index, center);
        let subgraph = neighborhood(index, center, depth, filter, max_nodes, &mut budget(visits));
        let edges = subgraph
            .edges
            .iter()
            .map(|&e| index.relation_id(e).to_owned())
            .collect();
        (ids(index, &subgraph.nodes), edges, subgraph.partial)
    }

    #[test]
    fn answers_do_not_depend_on_insertion_order() {
        let filters = [
            EdgeFilter::default(),
            EdgeFilter {
                include_denied: true,
                ..EdgeFilter::default()
            },
        ];
        same_everywhere(|index| {
            let mut answers = Vec::new();
            for (center, _) in ENTITIES {
                for depth in 0..=3 {
                    for filter in &filters {
                        for max_nodes in [1, 3, 5, 100] {
                            for visits in VISITS {
                                answers
                                    .push(answer(index, center, depth, filter, max_nodes, visits));
                            }
                        }
                    }
                }
            }
            answers
        });
    }

    #[test]
    fn nodes_come_by_distance_then_id_and_edges_by_id() {
        let everything = EdgeFilter::default();
        let (nodes, edges, partial) =
            same_everywhere(|index| answer(index, "s", 1, &everything, 100, 1_000_000));
        assert_eq!(nodes, ["s", "m1", "m2", "m3", "v", "x"]);
        assert_eq!(
            edges,
            ["r02", "r03", "r07", "r08", "r11", "r14", "r15", "r17"]
        );
        assert!(!partial);

        // A cap keeps the entities reached first: `s`'s relations in id order are r02 (x) and
        // r03 (m2), whatever order the index lists them in.
        let (nodes, _, partial) =
            same_everywhere(|index| answer(index, "s", 2, &everything, 3, 1_000_000));
        assert_eq!(nodes, ["s", "m2", "x"]);
        assert!(partial);

        let (nodes, _, _) =
            same_everywhere(|index| answer(index, "t", 2, &everything, 100, 1_000_000));
        assert_eq!(nodes, ["t", "m1", "m2", "m3", "y", "z", "s", "v", "w", "x"]);
    }
}
