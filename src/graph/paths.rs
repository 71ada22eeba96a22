use petgraph::stable_graph::NodeIndex;

use super::order::sorted_steps;
use super::{Budget, EdgeData, EdgeFilter, GraphIndex, HopSpec, Step};

/// A pattern search: from `start`, through `hops` in order, optionally ending at `target`.
#[derive(Debug, Clone)]
pub struct PathQuery {
    pub start: NodeIndex,
    pub hops: Vec<HopSpec>,
    pub target: Option<NodeIndex>,
    pub filter: EdgeFilter,
}

/// A walk through the graph that never visits an entity twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    pub start: NodeIndex,
    pub steps: Vec<Step>,
}

impl Path {
    pub fn end(&self) -> NodeIndex {
        self.steps.last().map_or(self.start, |s| s.to)
    }

    /// The relation ids along the path, which identify it: for ordering and cursors.
    pub fn key<'a>(&self, index: &'a GraphIndex) -> Vec<&'a str> {
        self.steps
            .iter()
            .map(|s| index.relation_id(s.edge))
            .collect()
    }
}

/// Calls `on_path` with the steps of every simple path matching `query`, depth first, until
/// `on_path` returns false or the budget runs out (then `budget.exhausted()` says so).
///
/// Each entity's relations are followed in relation-id order, so the order paths come in, and
/// so which are found before a cap or the budget stops the search, depend only on the graph.
/// The budget pays for all of an entity's relations before the first is followed.
///
/// Filters are applied as the search goes: a hop only follows relations of its kinds, in its
/// direction, that `query.filter` admits, and only ends on entities of its entity kinds.
///
/// ```
/// use tiegraph::graph::{find_paths, Budget, BudgetLimits, EdgeFilter, GraphIndex, HopSpec, KindSet, EntityKindSet, PathQuery};
/// use tiegraph::model::{Direction, Entity, EntityKind, Relation, RelationKind, Period, Timestamp};
/// let entity = |id: &str, kind| Entity { id: id.into(), kind, name: id.into(), aliases: vec![], description: None,
///     country: None, category: None, identifiers: vec![], created_at: Timestamp(0), updated_at: Timestamp(0) };
/// let relation = |id: &str, kind, from: &str, to: &str| Relation { id: id.into(), kind, from: from.into(), to: to.into(),
///     status: None, role: None, description: None, amount: None, period: Period::default(),
///     created_at: Timestamp(0), updated_at: Timestamp(0) };
/// let mut index = GraphIndex::new();
/// index.upsert_entity(&entity("acme", EntityKind::Company));
/// index.upsert_entity(&entity("agency", EntityKind::Agency));
/// index.upsert_relation(&relation("r1", RelationKind::VendorTo, "acme", "agency"), &[]);
/// let query = PathQuery {
///     start: index.node("agency").unwrap(),
///     hops: vec![HopSpec { kinds: KindSet::of(&[RelationKind::VendorTo]), direction: Direction::In,
///         entity_kinds: EntityKindSet::default(), min_repeat: 1, max_repeat: 1 }],
///     target: None,
///     filter: EdgeFilter::default(),
/// };
/// let mut found = Vec::new();
/// find_paths(&index, &query, &mut Budget::new(BudgetLimits::default()), |steps| { found.push(steps.to_vec()); true });
/// assert_eq!(found.len(), 1);
/// assert_eq!(index.node_data(found[0][0].to).id.as_ref(), "acme");
/// ```
pub fn find_paths(
    index: &GraphIndex,
    query: &PathQuery,
    budget: &mut Budget,
    on_path: impl FnMut(&[Step]) -> bool,
) {
    if query.hops.is_empty() {
        return;
    }
    let mut search = Search {
        index,
        query,
        budget,
        on_path,
        steps: Vec::new(),
        visited: vec![query.start],
        ways: Vec::new(),
    };
    search.visit(query.start, 0, 0);
}

struct Search<'a, F> {
    index: &'a GraphIndex,
    query: &'a PathQuery,
    budget: &'a mut Budget,
    on_path: F,
    steps: Vec<Step>,
    // Paths are short (a few hops), so a linear scan beats hashing.
    visited: Vec<NodeIndex>,
    // The sorted steps out of each entity on the current path, by its position: reused buffers.
    ways: Vec<Vec<Step>>,
}

impl<F: FnMut(&[Step]) -> bool> Search<'_, F> {
    /// Continues the search at `node`, `reps` relations into hop `hop`; false means stop.
    fn visit(&mut self, node: NodeIndex, hop: usize, reps: u32) -> bool {
        let spec = self.query.hops[hop];
        let may_end_hop_here =
            reps >= spec.min_repeat && spec.entity_kinds.admits(self.index.node_data(node).kind);
        if may_end_hop_here {
            if hop + 1 == self.query.hops.len() {
                let on_target = self.query.target.is_none_or(|t| t == node);
                if on_target && !self.steps.is_empty() && !(self.on_path)(&self.steps) {
                    return false;
                }
            } else if !self.visit(node, hop + 1, 0) {
                return false;
            }
        }
        if reps >= spec.max_repeat {
            return true;
        }
        let depth = self.steps.len();
        if self.ways.len() <= depth {
            self.ways.resize_with(depth + 1, Vec::new);
        }
        let mut ways = std::mem::take(&mut self.ways[depth]);
        let go_on = self.follow(node, hop, reps, &mut ways);
        self.ways[depth] = ways;
        go_on
    }

    /// Follows each step out of `node` that hop `hop` admits, in relation-id order.
    fn follow(&mut self, node: NodeIndex, hop: usize, reps: u32, ways: &mut Vec<Step>) -> bool {
        let spec = self.query.hops[hop];
        let filter = &self.query.filter;
        let admits = |edge: &EdgeData| spec.kinds.admits(edge.kind) && filter.admits(edge);
        if !sorted_steps(self.index, node, spec.direction, admits, self.budget, ways) {
            return false;
        }
        for &step in ways.iter() {
            if self.visited.contains(&step.to) {
                continue;
            }
            self.steps.push(step);
            self.visited.push(step.to);
            let go_on = self.visit(step.to, hop, reps + 1);
            self.steps.pop();
            self.visited.pop();
            if !go_on {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod test {
    use super::super::fixture::{
        budget, hop, key, node, patterns, same_everywhere, ENTITIES, VISITS,
    };
    use super::*;
    use crate::model::Direction;

    /// The paths in the order the search yields them, at most `cap`, and whether it ran out.
    fn answer(
        index: &GraphIndex,
        start: &str,
        hops: &[HopSpec],
        target: Option<&str>,
        cap: usize,
        visits: u64,
    ) -> (Vec<Vec<String>>, bool) {
        let query = PathQuery {
            start: node(index, start),
            hops: hops.to_vec(),
            target: target.map(|t| node(index, t)),
            filter: EdgeFilter::default(),
        };
        let mut found = Vec::new();
        let mut budget = budget(visits);
        find_paths(index, &query, &mut budget, |steps| {
            found.push(key(index, steps));
            found.len() < cap
        });
        (found, budget.exhausted())
    }

    #[test]
    fn answers_do_not_depend_on_insertion_order() {
        let patterns = patterns();
        same_everywhere(|index| {
            let mut answers = Vec::new();
            for (start, _) in ENTITIES {
                for hops in &patterns {
                    for target in [None, Some("t")] {
                        for cap in [1, 4, usize::MAX] {
                            for visits in VISITS {
                                answers.push(answer(index, start, hops, target, cap, visits));
                            }
                        }
                    }
                }
            }
            answers
        });
    }

    #[test]
    fn relations_are_followed_in_id_order() {
        let (paths, exhausted) = same_everywhere(|index| {
            answer(
                index,
                "s",
                &[hop(Direction::Any, 1, 1)],
                None,
                usize::MAX,
                1_000_000,
            )
        });
        assert_eq!(
            paths,
            [["r02"], ["r03"], ["r07"], ["r11"], ["r14"], ["r15"]]
        );
        assert!(!exhausted);
    }
}
