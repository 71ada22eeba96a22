use hashbrown::HashMap;
use petgraph::stable_graph::NodeIndex;

use super::order::sorted_steps;
use super::pattern::{Automaton, Positions};
use super::{Budget, EdgeData, EdgeFilter, GraphIndex, HopSpec, Step};

/// A pattern search: from `start`, through `hops` in order, optionally ending at `target`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

/// Where a path search starts again: after the path of this length with these relation ids.
#[derive(Debug, Clone, Copy)]
pub struct After<'a> {
    pub length: usize,
    pub key: &'a [String],
}

/// Calls `on_path` with the steps of every simple path matching `query`, shortest first, then
/// by relation ids, until `on_path` returns false or the budget runs out (then
/// `budget.exhausted()` says so). With `after`, the paths up to and including that one are
/// skipped without being searched for, so a page costs what it finds, not what came before.
///
/// Each length is searched depth first, following each entity's relations in relation-id
/// order, carrying the set of pattern positions a path may stand at: so each distinct path
/// comes out once, however a hop's repeat range could split it, and which are found before the
/// budget stops the search depends only on the graph. Memory is the current path, whatever
/// the number of paths. The budget pays for all of an entity's relations before the first is
/// followed.
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
/// find_paths(&index, &query, None, &mut Budget::new(BudgetLimits::default()), |steps| { found.push(steps.to_vec()); true });
/// assert_eq!(found.len(), 1);
/// assert_eq!(index.node_data(found[0][0].to).id.as_ref(), "acme");
/// ```
pub fn find_paths(
    index: &GraphIndex,
    query: &PathQuery,
    after: Option<After<'_>>,
    budget: &mut Budget,
    on_path: impl FnMut(&[Step]) -> bool,
) {
    search(index, query, after, None, budget, on_path);
}

/// [`find_paths`], only through entities at positions `useful` allows (an entity's bits are
/// positions from which a wanted end can still be reached): for counting the paths to a few
/// ends without walking every path.
pub(super) fn search(
    index: &GraphIndex,
    query: &PathQuery,
    after: Option<After<'_>>,
    useful: Option<&Useful>,
    budget: &mut Budget,
    on_path: impl FnMut(&[Step]) -> bool,
) {
    let Some(automaton) = Automaton::new(&query.hops) else {
        budget.exhaust();
        return;
    };
    let (least, most) = automaton.lengths();
    let start = automaton.start(index.node_data(query.start).kind);
    let mut search = Search {
        index,
        query,
        automaton: &automaton,
        useful,
        budget,
        on_path,
        length: 0,
        cursor: None,
        steps: Vec::new(),
        visited: vec![query.start],
        ways: Vec::new(),
    };
    let first = after.map_or(least, |a| a.length.max(least));
    for length in first..=most {
        search.length = length;
        search.cursor = after.filter(|a| a.length == length).map(|a| a.key);
        let on_cursor = search.cursor.is_some();
        if !search.visit(query.start, start, on_cursor) {
            return;
        }
    }
}

/// For each entity, the pattern positions from which a wanted end can be reached.
pub(super) type Useful = HashMap<NodeIndex, Positions>;

struct Search<'a, F> {
    index: &'a GraphIndex,
    query: &'a PathQuery,
    automaton: &'a Automaton<'a>,
    useful: Option<&'a Useful>,
    budget: &'a mut Budget,
    on_path: F,
    /// The length of the paths this round looks for.
    length: usize,
    /// The relation ids of the path to start after, for this round's length.
    cursor: Option<&'a [String]>,
    steps: Vec<Step>,
    // Paths are short (a few hops), so a linear scan beats hashing.
    visited: Vec<NodeIndex>,
    // The admitted steps out of each entity on the current path, by its position: reused buffers.
    ways: Vec<Vec<(Step, Positions)>>,
}

impl<F: FnMut(&[Step]) -> bool> Search<'_, F> {
    /// Continues the search at `node`, standing at `positions`; `on_cursor` while the path so
    /// far is the start of the cursor's path. False means stop.
    fn visit(&mut self, node: NodeIndex, positions: Positions, on_cursor: bool) -> bool {
        let depth = self.steps.len();
        if depth == self.length {
            let kind = self.index.node_data(node).kind;
            let wanted = self.automaton.accepts(positions, kind)
                && self.query.target.is_none_or(|t| t == node)
                // The cursor's own path was on the previous page.
                && !on_cursor;
            return !wanted || (self.on_path)(&self.steps);
        }
        if self.ways.len() <= depth {
            self.ways.resize_with(depth + 1, Vec::new);
        }
        let mut ways = std::mem::take(&mut self.ways[depth]);
        let go_on = self.follow(node, positions, on_cursor, &mut ways);
        self.ways[depth] = ways;
        go_on
    }

    /// Follows each step out of `node` the pattern admits from `positions`, in relation-id order.
    fn follow(
        &mut self,
        node: NodeIndex,
        positions: Positions,
        on_cursor: bool,
        ways: &mut Vec<(Step, Positions)>,
    ) -> bool {
        let Some(direction) = self.automaton.directions(positions) else {
            return true;
        };
        let (index, automaton, filter, useful) =
            (self.index, self.automaton, &self.query.filter, self.useful);
        let next = |step: &Step, edge: &EdgeData| {
            if !filter.admits(edge) {
                return None;
            }
            let crossed = automaton.cross(positions, edge.kind, step.direction);
            if crossed == 0 {
                return None;
            }
            let closed = automaton.close(crossed, index.node_data(step.to).kind);
            let closed = match useful {
                Some(useful) => closed & useful.get(&step.to).copied().unwrap_or(0),
                None => closed,
            };
            (closed != 0).then_some(closed)
        };
        if !sorted_steps(index, node, direction, next, self.budget, ways) {
            return false;
        }
        let depth = self.steps.len();
        let mut start = 0;
        let mut bound = None;
        if on_cursor {
            if let Some(id) = self.cursor.and_then(|key| key.get(depth)) {
                start = ways.partition_point(|(s, _)| index.relation_id(s.edge) < id.as_str());
                bound = Some(id.as_str());
            }
        }
        for &(step, next) in &ways[start..] {
            if self.visited.contains(&step.to) {
                continue;
            }
            let still_on_cursor = bound.is_some_and(|id| index.relation_id(step.edge) == id);
            self.steps.push(step);
            self.visited.push(step.to);
            let go_on = self.visit(step.to, next, still_on_cursor);
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
        find_paths(index, &query, None, &mut budget, |steps| {
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

    #[test]
    fn paths_come_once_shortest_first_and_resume_after_a_cursor() {
        same_everywhere(|index| {
            for (start, _) in ENTITIES {
                for hops in patterns() {
                    let query = PathQuery {
                        start: node(index, start),
                        hops: hops.clone(),
                        target: None,
                        filter: EdgeFilter::default(),
                    };
                    let mut all: Vec<Vec<String>> = Vec::new();
                    find_paths(index, &query, None, &mut budget(1_000_000), |steps| {
                        all.push(key(index, steps));
                        true
                    });
                    let mut sorted = all.clone();
                    sorted.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
                    sorted.dedup();
                    assert_eq!(all, sorted, "{start} {hops:?}");
                    // Two at a time, each page starting after the last path of the one before.
                    let mut paged: Vec<Vec<String>> = Vec::new();
                    loop {
                        let last = paged.last().cloned();
                        let after = last.as_ref().map(|key| After {
                            length: key.len(),
                            key,
                        });
                        let mut page = Vec::new();
                        find_paths(index, &query, after, &mut budget(1_000_000), |steps| {
                            page.push(key(index, steps));
                            page.len() < 2
                        });
                        if page.is_empty() {
                            break;
                        }
                        paged.extend(page);
                    }
                    assert_eq!(paged, all, "{start} {hops:?}");
                }
            }
            0
        });
    }
}
