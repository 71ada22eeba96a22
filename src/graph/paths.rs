use petgraph::stable_graph::NodeIndex;

use super::{Budget, EdgeFilter, GraphIndex, HopSpec, Step};

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
/// index.upsert_relation(&relation("r1", RelationKind::VendorTo, "acme", "agency"), false);
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
        for step in self.index.steps(node, spec.direction) {
            if !self.budget.spend() {
                return false;
            }
            let edge = self.index.edge_data(step.edge);
            if !spec.kinds.admits(edge.kind)
                || !self.query.filter.admits(edge)
                || self.visited.contains(&step.to)
            {
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
