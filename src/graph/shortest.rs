use std::cmp::Ordering;
use std::collections::BTreeSet;

use hashbrown::{HashMap, HashSet};

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use crate::model::{Direction, Standing};

use super::adjacency::{admits, Tie};
use super::{Budget, EdgeFilter, GraphIndex, Path, Step};

/// Up to `k` shortest loopless paths between two entities, following relations either way.
#[derive(Debug, Clone)]
pub struct ShortestQuery {
    pub from: NodeIndex,
    pub to: NodeIndex,
    pub filter: EdgeFilter,
    pub k: usize,
    /// Paths longer than this are not looked for.
    pub max_length: usize,
}

/// The `k` shortest loopless paths, in [`Rank`] order: bidirectional breadth-first search for
/// the first, Yen's algorithm over it for the rest. Relations count one each (unweighted).
///
/// Among paths of one length, those whose ties stand better come first (see [`Rank`]: fewer
/// denied, then disputed, then reported ties), then by their relation ids. The rank is a
/// property of the path's relations, whichever end it is walked from, so the answer from `to`
/// to `from` is this one reversed, path for path; and it depends only on the graph, never on
/// the order it was loaded in. Each search Yen's algorithm makes finds the best of its
/// shortest spurs by the same rank, so the paths come in that order.
///
/// When the budget runs out the answer is what was found by then (possibly nothing) and
/// `budget.exhausted()` says so: shorter, better or more paths may exist. Paths longer than
/// `query.max_length` are not looked for, budget or not.
///
/// ```
/// use tiegraph::graph::{shortest_paths, Budget, BudgetLimits, EdgeFilter, GraphIndex, ShortestQuery};
/// use tiegraph::model::{Entity, EntityKind, Relation, RelationKind, Period, Timestamp};
/// let entity = |id: &str| Entity { id: id.into(), kind: EntityKind::Company, name: id.into(), aliases: vec![],
///     description: None, country: None, category: None, identifiers: vec![], created_at: Timestamp(0), updated_at: Timestamp(0) };
/// let relation = |id: &str, from: &str, to: &str| Relation { id: id.into(), kind: RelationKind::Owns, from: from.into(),
///     to: to.into(), status: None, role: None, description: None, amount: None, period: Period::default(),
///     created_at: Timestamp(0), updated_at: Timestamp(0) };
/// let mut index = GraphIndex::new();
/// for id in ["a", "b", "c"] { index.upsert_entity(&entity(id)); }
/// index.upsert_relation(&relation("ab", "a", "b"), &[]);
/// index.upsert_relation(&relation("cb", "c", "b"), &[]);
/// index.upsert_relation(&relation("ac", "a", "c"), &[]);
/// let query = ShortestQuery { from: index.node("a").unwrap(), to: index.node("b").unwrap(),
///     filter: EdgeFilter::default(), k: 2, max_length: 6 };
/// let mut budget = Budget::new(BudgetLimits::default());
/// let paths = shortest_paths(&index, &query, &mut budget);
/// assert_eq!(paths.iter().map(|p| p.steps.len()).collect::<Vec<_>>(), vec![1, 2]);
/// assert!(!budget.exhausted());
/// ```
pub fn shortest_paths(index: &GraphIndex, query: &ShortestQuery, budget: &mut Budget) -> Vec<Path> {
    if query.k == 0 || query.from == query.to {
        return Vec::new();
    }
    let mut banned = Banned::default();
    let Some(first) = bidirectional_bfs(index, query.from, query.to, query, &banned, budget) else {
        return Vec::new();
    };
    let mut found = vec![Path {
        start: query.from,
        steps: first,
    }];
    // Candidates in rank order (the steps only make the entries distinct).
    let mut candidates: BTreeSet<(Rank<'_>, Vec<Step>)> = BTreeSet::new();
    while found.len() < query.k {
        let previous = found[found.len() - 1].clone();
        let nodes = path_nodes(&previous);
        for spur_at in 0..previous.steps.len() {
            let root = &previous.steps[..spur_at];
            banned.clear();
            for path in &found {
                if path.steps.len() > spur_at && path.steps[..spur_at] == *root {
                    banned.edges.insert(path.steps[spur_at].edge);
                }
            }
            banned.nodes.extend(nodes[..spur_at].iter().copied());
            let spur_node = nodes[spur_at];
            if let Some(spur) =
                bidirectional_bfs(index, spur_node, query.to, query, &banned, budget)
            {
                let steps: Vec<Step> = root.iter().copied().chain(spur).collect();
                if steps.len() <= query.max_length {
                    candidates.insert((Rank::of(index, &steps), steps));
                }
            }
            if budget.exhausted() {
                break;
            }
        }
        let Some((_, steps)) = candidates.pop_first() else {
            break;
        };
        found.push(Path {
            start: query.from,
            steps,
        });
        if budget.exhausted() {
            break;
        }
    }
    found
}

/// How a path ranks, best first: by length, then by how many of its relations are denied,
/// disputed and reported (in that order of weight: of two paths of one length, the one through a
/// disputed tie comes after one through none, however many reported ties that one crosses),
/// then by its relation ids in ascending order.
///
/// Every part is a property of the set of relations, so a path ranks the same walked either
/// way; two different paths between the same ends never rank equal; and a rank grows with
/// its path (if `a` ranks before `b`, `a` plus a relation in neither ranks before `b` plus it),
/// which lets the search keep only the best way to each entity.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Rank<'a> {
    length: usize,
    denied: u32,
    disputed: u32,
    reported: u32,
    /// Sorted.
    ids: Vec<&'a str>,
}

impl<'a> Rank<'a> {
    fn of(index: &'a GraphIndex, steps: &[Step]) -> Self {
        let mut rank = Rank::default();
        for step in steps {
            rank = rank.with(index, step.edge);
        }
        rank
    }

    /// The counts this rank would have with `edge` added.
    fn counts_with(&self, standing: Standing) -> (usize, u32, u32, u32) {
        let one = |s: Standing| u32::from(standing == s);
        (
            self.length + 1,
            self.denied + one(Standing::Denied),
            self.disputed + one(Standing::Disputed),
            self.reported + one(Standing::Reported),
        )
    }

    fn with(&self, index: &'a GraphIndex, edge: EdgeIndex) -> Self {
        let (length, denied, disputed, reported) = self.counts_with(index.standing(edge));
        let id = index.relation_id(edge);
        let mut ids = Vec::with_capacity(self.ids.len() + 1);
        let at = self.ids.partition_point(|&x| x < id);
        ids.extend_from_slice(&self.ids[..at]);
        ids.push(id);
        ids.extend_from_slice(&self.ids[at..]);
        Rank {
            length,
            denied,
            disputed,
            reported,
            ids,
        }
    }

    /// `self.with(edge).cmp(other)`, without building the new rank.
    fn with_cmp(&self, index: &GraphIndex, edge: EdgeIndex, other: &Rank<'_>) -> Ordering {
        let counts = self.counts_with(index.standing(edge));
        counts
            .cmp(&(other.length, other.denied, other.disputed, other.reported))
            .then_with(|| {
                let id = index.relation_id(edge);
                let at = self.ids.partition_point(|&x| x < id);
                let ids = self.ids[..at]
                    .iter()
                    .copied()
                    .chain(std::iter::once(id))
                    .chain(self.ids[at..].iter().copied());
                ids.cmp(other.ids.iter().copied())
            })
    }
}
fn path_nodes(path: &Path) -> Vec<NodeIndex> {
    std::iter::once(path.start)
        .chain(path.steps.iter().map(|s| s.to))
        .collect()
}

#[derive(Default)]
struct Banned {
    nodes: HashSet<NodeIndex>,
    edges: HashSet<EdgeIndex>,
}

impl Banned {
    fn clear(&mut self) {
        self.nodes.clear();
        self.edges.clear();
    }
}

/// How many relations from where a search side started each node it reached is.
///
/// Dense, one byte per node: a search from a hub reaches hundreds of thousands of nodes, and
/// a lookup per step in a hash map cost more than the step.
struct Levels(Vec<u8>);

impl Levels {
    fn new(index: &GraphIndex, start: NodeIndex) -> Levels {
        let mut levels = Levels(vec![0; index.node_bound()]);
        levels.insert(start, 0);
        levels
    }

    #[inline]
    fn get(&self, node: NodeIndex) -> Option<usize> {
        match self.0.get(node.index()) {
            Some(0) | None => None,
            Some(&level) => Some(usize::from(level) - 1),
        }
    }

    #[inline]
    fn contains(&self, node: NodeIndex) -> bool {
        self.get(node).is_some()
    }

    /// Levels stop at [`u8::MAX`] - 1, beyond any path length a query may ask for.
    #[inline]
    fn insert(&mut self, node: NodeIndex, level: usize) {
        if let Some(slot) = self.0.get_mut(node.index()) {
            *slot = u8::try_from(level + 1).unwrap_or(u8::MAX);
        }
    }
}

/// The shortest path from `from` to `to` avoiding `banned` that comes first by [`Rank`],
/// growing the smaller frontier a whole level at a time so the first meeting level gives the
/// shortest length. Levels are sets, so neither the length, nor the path, nor the visits spent
/// depend on the order the index lists a node's relations in. None when there is no such path
/// within `query.max_length`, or when the budget runs out (then it says so).
fn bidirectional_bfs(
    index: &GraphIndex,
    from: NodeIndex,
    to: NodeIndex,
    query: &ShortestQuery,
    banned: &Banned,
    budget: &mut Budget,
) -> Option<Vec<Step>> {
    if banned.nodes.contains(&from) || banned.nodes.contains(&to) {
        return None;
    }
    if from == to {
        return Some(Vec::new());
    }
    let mut forward = Levels::new(index, from);
    let mut backward = Levels::new(index, to);
    // Yen's spurs ban nodes and edges; the first search bans none, and skips the lookups.
    let unbanned = banned.nodes.is_empty() && banned.edges.is_empty();
    let is_banned = |step: &Step| {
        !unbanned && (banned.nodes.contains(&step.to) || banned.edges.contains(&step.edge))
    };
    let usable =
        |step: &Step, tie: Tie| !is_banned(step) && admits(index, &query.filter, step, tie);
    let mut forward_frontier = vec![from];
    let mut backward_frontier = vec![to];
    let (mut forward_depth, mut backward_depth) = (0, 0);
    while !forward_frontier.is_empty()
        && !backward_frontier.is_empty()
        && forward_depth + backward_depth < query.max_length
    {
        let grow_forward = forward_frontier.len() <= backward_frontier.len();
        let (frontier, levels, others, depth) = if grow_forward {
            (
                &mut forward_frontier,
                &mut forward,
                &backward,
                &mut forward_depth,
            )
        } else {
            (
                &mut backward_frontier,
                &mut backward,
                &forward,
                &mut backward_depth,
            )
        };
        *depth += 1;
        let mut next = Vec::new();
        let mut meetings = Vec::new();
        for &node in frontier.iter() {
            let whole = index.each_step(node, Direction::Any, |step, tie| {
                if !budget.spend() {
                    return false;
                }
                if levels.contains(step.to) || !usable(&step, tie) {
                    return true;
                }
                levels.insert(step.to, *depth);
                if others.contains(step.to) {
                    meetings.push(step.to);
                }
                next.push(step.to);
                true
            });
            if !whole {
                return None;
            }
        }
        *frontier = next;
        if !meetings.is_empty() {
            return best_of_shortest(index, from, &forward, &backward, &meetings, usable, budget);
        }
    }
    None
}

/// Among the shortest paths through the two searches' levels, the first by [`Rank`]; None,
/// with the budget spent, when the budget runs out on the way.
///
/// Every shortest path crosses the meeting level at a node `forward_depth` from `from` and
/// `backward_depth` from `to` (nearer, and the searches would have met a level before), so the
/// shortest paths are the walks up the forward levels to a meeting node, then down the backward
/// levels to `to`: a layered graph. Ranks grow with their paths, so walking it a layer at a time
/// and keeping the best-ranked way into each node gives the best path. The forward side's
/// relations on a shortest path are found going back from the meetings (each node's relations
/// examined once), the backward side's going down from them (once more for the meetings); every
/// examination spends a visit, and since the work is a function of the levels (sets), so is
/// whether the budget covers it.
fn best_of_shortest<'g>(
    index: &'g GraphIndex,
    from: NodeIndex,
    forward: &Levels,
    backward: &Levels,
    meetings: &[NodeIndex],
    usable: impl Fn(&Step, Tie) -> bool,
    budget: &mut Budget,
) -> Option<Vec<Step>> {
    let meeting_depth = forward.get(*meetings.first()?)?;
    let length = meeting_depth + backward.get(*meetings.first()?)?;
    // The forward side's nodes on a shortest path, by level: the meetings, and back from them a
    // level at a time (the search follows relations either way, so a step back is a step); and
    // the steps into each level from the one before, with the node each leaves.
    let mut on_path: HashSet<NodeIndex> = meetings.iter().copied().collect();
    let mut into: Vec<Vec<(NodeIndex, Step)>> = vec![Vec::new(); meeting_depth + 1];
    let mut level = meetings.to_vec();
    for depth in (1..=meeting_depth).rev() {
        let mut previous = Vec::new();
        for &node in &level {
            let whole = index.each_step(node, Direction::Any, |step, tie| {
                if !budget.spend() {
                    return false;
                }
                if forward.get(step.to) != Some(depth - 1) || !usable(&step, tie) {
                    return true;
                }
                if on_path.insert(step.to) {
                    previous.push(step.to);
                }
                let direction = match step.direction {
                    Direction::Out => Direction::In,
                    _ => Direction::Out,
                };
                let back = Step {
                    edge: step.edge,
                    to: node,
                    direction,
                };
                into[depth].push((step.to, back));
                true
            });
            if !whole {
                return None;
            }
        }
        level = previous;
    }
    // The best rank of a way to each node of each layer, and the step it ends with.
    let mut ranks: Vec<HashMap<NodeIndex, Rank<'g>>> = vec![HashMap::new(); length + 1];
    ranks[0].insert(from, Rank::default());
    let mut came_by: HashMap<NodeIndex, (NodeIndex, Step)> = HashMap::new();
    for distance in 1..=length {
        let (done, rest) = ranks.split_at_mut(distance);
        let (previous, layer) = (&done[distance - 1], &mut rest[0]);
        let mut offer = |node: NodeIndex, base: &Rank<'g>, step: Step| {
            let better = layer
                .get(&step.to)
                .is_none_or(|rank| base.with_cmp(index, step.edge, rank) == Ordering::Less);
            if better {
                layer.insert(step.to, base.with(index, step.edge));
                came_by.insert(step.to, (node, step));
            }
        };
        if distance <= meeting_depth {
            for &(node, step) in &into[distance] {
                if let Some(base) = previous.get(&node) {
                    offer(node, base, step);
                }
            }
        } else {
            // Down the backward levels: `to` is level 0.
            let next_level = length - distance;
            for (&node, base) in previous {
                let whole = index.each_step(node, Direction::Any, |step, tie| {
                    if !budget.spend() {
                        return false;
                    }
                    if backward.get(step.to) == Some(next_level) && usable(&step, tie) {
                        offer(node, base, step);
                    }
                    true
                });
                if !whole {
                    return None;
                }
            }
        }
    }
    // `to` is the last layer's one node; walk back from it.
    let mut node = *ranks[length].keys().next()?;
    let mut steps = Vec::with_capacity(length);
    while node != from {
        let &(previous, step) = came_by.get(&node)?;
        steps.push(step);
        node = previous;
    }
    steps.reverse();
    Some(steps)
}

#[cfg(test)]
mod test {
    use super::super::fixture::{budget, builds, key, node, same_everywhere, ENTITIES, VISITS};
    use super::*;
    use crate::model::{
        derive_standing, Claim, Entity, EntityKind, Period, Relation, RelationKind, Stance,
        Timestamp,
    };

    /// The paths as relation ids, and whether the search ran out of budget.
    fn search(
        index: &GraphIndex,
        from: &str,
        to: &str,
        filter: EdgeFilter,
        k: usize,
        visits: u64,
    ) -> (Vec<Vec<String>>, bool) {
        let query = ShortestQuery {
            from: node(index, from),
            to: node(index, to),
            filter,
            k,
            max_length: 6,
        };
        let mut budget = budget(visits);
        let paths = shortest_paths(index, &query, &mut budget)
            .iter()
            .map(|p| {
                assert_eq!(p.start, query.from);
                assert_eq!(p.end(), query.to);
                key(index, &p.steps)
            })
            .collect();
        (paths, budget.exhausted())
    }

    fn answer(
        index: &GraphIndex,
        from: &str,
        to: &str,
        filter: EdgeFilter,
        k: usize,
        visits: u64,
    ) -> Vec<Vec<String>> {
        search(index, from, to, filter, k, visits).0
    }

    /// Denied relations left out, and followed.
    fn filters() -> [EdgeFilter; 2] {
        [false, true].map(|include_denied| EdgeFilter {
            include_denied,
            ..EdgeFilter::default()
        })
    }

    #[test]
    fn answers_do_not_depend_on_insertion_order() {
        same_everywhere(|index| {
            let mut answers = Vec::new();
            for (from, _) in ENTITIES {
                for (to, _) in ENTITIES {
                    for filter in filters() {
                        for k in [1, 3, 8] {
                            for visits in VISITS {
                                answers.push(search(index, from, to, filter, k, visits));
                            }
                        }
                    }
                }
            }
            answers
        });
    }

    #[test]
    fn ties_break_by_standing_then_relation_ids() {
        // r07 is confirmed (by its end m1), r02 too (by s); r03 and r14 are disputed; the
        // rest are reported.
        let paths =
            same_everywhere(|index| answer(index, "s", "t", EdgeFilter::default(), 6, 1_000_000));
        assert_eq!(
            paths,
            [
                vec!["r07", "r05"],
                vec!["r11", "r01"],
                vec!["r03", "r09"],
                vec!["r14", "r09"],
                vec!["r02", "r04", "r06"],
                vec!["r02", "r08", "r05"],
            ]
        );
    }

    #[test]
    fn the_same_paths_from_either_end() {
        same_everywhere(|index| {
            let mut answers = Vec::new();
            for (from, _) in ENTITIES {
                for (to, _) in ENTITIES {
                    for filter in filters() {
                        for k in [1, 3, 8] {
                            let (there, partial) = search(index, from, to, filter, k, 1_000_000);
                            assert!(!partial);
                            let (mut back, _) = search(index, to, from, filter, k, 1_000_000);
                            back.iter_mut().for_each(|p| p.reverse());
                            assert_eq!(there, back, "{from} to {to}, k {k}, {filter:?}");
                            answers.push(there);
                        }
                    }
                }
            }
            answers
        });
    }

    /// Every simple path from `from` to `to` of at most `max` relations, by brute force.
    fn every_path(
        index: &GraphIndex,
        from: NodeIndex,
        to: NodeIndex,
        filter: &EdgeFilter,
        max: usize,
    ) -> Vec<Vec<Step>> {
        struct Walk<'a> {
            index: &'a GraphIndex,
            to: NodeIndex,
            filter: &'a EdgeFilter,
            max: usize,
            steps: Vec<Step>,
            seen: Vec<NodeIndex>,
            out: Vec<Vec<Step>>,
        }
        impl Walk<'_> {
            fn from(&mut self, at: NodeIndex) {
                if at == self.to {
                    self.out.push(self.steps.clone());
                    return;
                }
                if self.steps.len() == self.max {
                    return;
                }
                for step in self.index.steps(at, Direction::Any).collect::<Vec<_>>() {
                    let admitted = self.filter.admits(self.index.edge_data(step.edge));
                    if self.seen.contains(&step.to) || !admitted {
                        continue;
                    }
                    self.steps.push(step);
                    self.seen.push(step.to);
                    self.from(step.to);
                    self.steps.pop();
                    self.seen.pop();
                }
            }
        }
        let mut walk = Walk {
            index,
            to,
            filter,
            max,
            steps: Vec::new(),
            seen: vec![from],
            out: Vec::new(),
        };
        walk.from(from);
        walk.out
    }

    #[test]
    fn the_k_best_by_rank_of_every_path() {
        for (name, index) in builds() {
            for (from, _) in ENTITIES {
                for (to, _) in ENTITIES {
                    if from == to {
                        continue;
                    }
                    for filter in filters() {
                        let (a, b) = (node(&index, from), node(&index, to));
                        // Ranked by a key written out here: length, then denied, disputed and
                        // reported ties, then the sorted relation ids.
                        let mut all: Vec<_> = every_path(&index, a, b, &filter, 6)
                            .into_iter()
                            .map(|steps| {
                                let count = |s: Standing| {
                                    steps
                                        .iter()
                                        .filter(|st| index.standing(st.edge) == s)
                                        .count()
                                };
                                let mut ids = key(&index, &steps);
                                ids.sort();
                                let key = (
                                    steps.len(),
                                    count(Standing::Denied),
                                    count(Standing::Disputed),
                                    count(Standing::Reported),
                                    ids,
                                );
                                (key, super::super::fixture::key(&index, &steps))
                            })
                            .collect();
                        all.sort();
                        let expected: Vec<Vec<String>> =
                            all.into_iter().take(8).map(|(_, p)| p).collect();
                        assert_eq!(
                            answer(&index, from, to, filter, 8, 1_000_000),
                            expected,
                            "{name}: {from} to {to}, {filter:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn partial_when_the_budget_runs_out_complete_when_there_is_no_path() {
        same_everywhere(|index| {
            // Too little to find even the first path: nothing, and flagged.
            let (paths, partial) = search(index, "s", "t", EdgeFilter::default(), 1, 3);
            assert!(paths.is_empty());
            assert!(partial);
            // Enough for some paths, not all asked for.
            let (paths, partial) = search(index, "s", "t", EdgeFilter::default(), 8, 60);
            assert!(partial);
            assert!(paths.len() < 8);
            // No path at all: nothing, and complete.
            let donations = EdgeFilter {
                kinds: super::super::KindSet::of(&[RelationKind::Donation]),
                ..EdgeFilter::default()
            };
            let (paths, partial) = search(index, "s", "t", donations, 3, 1_000_000);
            assert!(paths.is_empty());
            assert!(!partial);
            // Fewer paths than asked for: all of them, and complete.
            let (paths, partial) = search(index, "u", "w", EdgeFilter::default(), 20, 1_000_000);
            assert!(!partial);
            assert!(!paths.is_empty() && paths.len() < 20);
            paths
        });
    }

    fn entity(id: &str, kind: EntityKind) -> Entity {
        Entity {
            id: id.into(),
            kind,
            name: id.into(),
            aliases: vec![],
            description: None,
            country: None,
            category: None,
            identifiers: vec![],
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn relation(id: &str, kind: RelationKind, from: &str, to: &str) -> Relation {
        Relation {
            id: id.into(),
            kind,
            from: from.into(),
            to: to.into(),
            status: None,
            role: None,
            description: None,
            amount: None,
            period: Period::default(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn claim(relation: &str, n: usize, stance: Stance, claimant: Option<&str>) -> Claim {
        Claim {
            id: format!("{relation}.c{n}"),
            relation: relation.into(),
            source: "src".into(),
            stance,
            claimant: claimant.map(Into::into),
            quote: "q".into(),
            recorded_at: Timestamp(0),
        }
    }

    /// The index's standing is the one `derive_standing` gives with the service's rule (a
    /// claimant speaks for a party when it is an end or an undenied officer of one), offices
    /// added, denied and removed later included.
    #[test]
    fn the_index_knows_each_relations_standing() {
        let mut index = GraphIndex::new();
        index.upsert_source("src");
        for (id, kind) in [
            ("acme", EntityKind::Company),
            ("agency", EntityKind::Agency),
            ("ceo", EntityKind::Person),
            ("press", EntityKind::Nonprofit),
        ] {
            index.upsert_entity(&entity(id, kind));
        }
        let tie = relation("tie", RelationKind::VendorTo, "acme", "agency");
        let office = relation("office", RelationKind::OfficerOf, "ceo", "acme");
        let officer = |index: &GraphIndex, c: &str| {
            c == "acme"
                || c == "agency"
                || index.is_officer_of(c, "acme")
                || index.is_officer_of(c, "agency")
        };
        let cases: Vec<Vec<Claim>> = vec![
            vec![],
            vec![claim("tie", 1, Stance::Asserts, None)],
            vec![claim("tie", 1, Stance::Asserts, Some("press"))],
            vec![claim("tie", 1, Stance::Asserts, Some("agency"))],
            vec![claim("tie", 1, Stance::Asserts, Some("ceo"))],
            vec![
                claim("tie", 1, Stance::Asserts, Some("press")),
                claim("tie", 2, Stance::Denies, Some("ceo")),
            ],
            vec![
                claim("tie", 1, Stance::Denies, Some("ceo")),
                claim("tie", 2, Stance::Asserts, Some("press")),
            ],
            vec![claim("tie", 1, Stance::Denies, Some("ceo"))],
            vec![
                claim("tie", 1, Stance::Denies, Some("press")),
                claim("tie", 2, Stance::Asserts, Some("acme")),
            ],
        ];
        // The office: absent, held, denied, held again, removed.
        let offices: [Option<Stance>; 5] = [
            None,
            Some(Stance::Asserts),
            Some(Stance::Denies),
            Some(Stance::Asserts),
            None,
        ];
        let mut confirmed_by_the_ceo = 0;
        for claims in &cases {
            assert!(index.upsert_relation(&tie, claims));
            for held in offices {
                match held {
                    Some(stance) => {
                        assert!(index
                            .upsert_relation(&office, &[claim("office", 1, stance, Some("ceo"))]));
                    }
                    None => index.remove_relation("office"),
                }
                let edge = index.edge("tie").expect("the tie is in");
                let expected = derive_standing(claims, |c| officer(&index, c));
                assert_eq!(
                    index.standing(edge),
                    expected,
                    "{claims:?}, office {held:?}"
                );
                let mut snapshot = Vec::new();
                index.write_snapshot(&mut snapshot, b"t").expect("writes");
                let read = GraphIndex::read_snapshot(&mut std::io::Cursor::new(snapshot), b"t")
                    .expect("reads back");
                let edge = read.edge("tie").expect("the tie is in");
                assert_eq!(read.standing(edge), expected, "{claims:?} from a snapshot");
                if held == Some(Stance::Asserts) && expected == Standing::Confirmed {
                    confirmed_by_the_ceo += 1;
                }
            }
        }
        assert!(
            confirmed_by_the_ceo >= 2,
            "the office makes the ceo's claim a party's"
        );
        // A claimant deleted with its claims' relation refreshed: no longer counted.
        assert!(index.upsert_relation(&office, &[claim("office", 1, Stance::Asserts, Some("ceo"))]));
        assert!(index.upsert_relation(&tie, &[claim("tie", 1, Stance::Asserts, Some("ceo"))]));
        let edge = index.edge("tie").expect("the tie is in");
        assert_eq!(index.standing(edge), Standing::Confirmed);
        index.remove_entity("ceo");
        assert_eq!(index.standing(edge), Standing::Reported);
    }
}
