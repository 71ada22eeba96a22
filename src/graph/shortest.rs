use std::collections::{BTreeSet, HashMap, HashSet};

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use crate::model::Direction;

use super::order::by_relation_id;
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

/// The `k` shortest loopless paths, shortest first: bidirectional breadth-first search for the
/// first, Yen's algorithm over it for the rest. Relations count one each (unweighted).
///
/// Ties break by relation ids: the first path is the first of the shortest by relation ids, and
/// each spur Yen's algorithm tries is the first of its shortest too, so the paths (and which
/// are found before the budget runs out) depend only on the graph, never on the order it was
/// loaded in.
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
/// let paths = shortest_paths(&index, &query, &mut Budget::new(BudgetLimits::default()));
/// assert_eq!(paths.iter().map(|p| p.steps.len()).collect::<Vec<_>>(), vec![1, 2]);
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
    // Candidates ordered by length, then by relation ids, so ties break the same way every run.
    let mut candidates: BTreeSet<(usize, Vec<Box<str>>, Vec<Step>)> = BTreeSet::new();
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
                    let key = steps
                        .iter()
                        .map(|s| Box::<str>::from(index.relation_id(s.edge)))
                        .collect();
                    candidates.insert((steps.len(), key, steps));
                }
            }
            if budget.exhausted() {
                break;
            }
        }
        let Some((_, _, steps)) = candidates.pop_first() else {
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
type Levels = HashMap<NodeIndex, usize>;

/// The shortest path from `from` to `to` avoiding `banned` that comes first by relation ids,
/// growing the smaller frontier a whole level at a time so the first meeting level gives the
/// shortest length. Levels are sets, so neither the length, nor the path, nor the visits spent
/// depend on the order the index lists a node's relations in.
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
    let usable = |step: &Step| {
        !banned.nodes.contains(&step.to)
            && !banned.edges.contains(&step.edge)
            && query.filter.admits(index.edge_data(step.edge))
    };
    let mut forward: Levels = HashMap::from([(from, 0)]);
    let mut backward: Levels = HashMap::from([(to, 0)]);
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
            for step in index.steps(node, Direction::Any) {
                if !budget.spend() {
                    return None;
                }
                if levels.contains_key(&step.to) || !usable(&step) {
                    continue;
                }
                levels.insert(step.to, *depth);
                if others.contains_key(&step.to) {
                    meetings.push(step.to);
                }
                next.push(step.to);
            }
        }
        *frontier = next;
        if !meetings.is_empty() {
            return first_by_relation_ids(index, from, &forward, &backward, &meetings, usable);
        }
    }
    None
}

/// Among the shortest paths through the two searches' levels, the first by relation ids.
///
/// Every shortest path crosses the meeting level at a node `forward_depth` from `from` and
/// `backward_depth` from `to` (nearer, and the searches would have met a level before), so the
/// shortest paths are the walks up the forward levels to a meeting node, then down the backward
/// levels to `to`. Walking from `from`, the least relation id that stays on one of them gives
/// the first.
fn first_by_relation_ids(
    index: &GraphIndex,
    from: NodeIndex,
    forward: &Levels,
    backward: &Levels,
    meetings: &[NodeIndex],
    usable: impl Fn(&Step) -> bool,
) -> Option<Vec<Step>> {
    let meeting_depth = *forward.get(meetings.first()?)?;
    // The forward side's nodes on a shortest path: the meetings, and back from them a level at
    // a time (the search follows relations either way, so a step back is a step).
    let mut on_path: HashSet<NodeIndex> = meetings.iter().copied().collect();
    let mut level = meetings.to_vec();
    for depth in (1..=meeting_depth).rev() {
        let mut previous = Vec::new();
        for &node in &level {
            for step in index.steps(node, Direction::Any) {
                if forward.get(&step.to) == Some(&(depth - 1))
                    && usable(&step)
                    && on_path.insert(step.to)
                {
                    previous.push(step.to);
                }
            }
        }
        level = previous;
    }
    let least = |node: NodeIndex, fits: &dyn Fn(&Step) -> bool| {
        index
            .steps(node, Direction::Any)
            .filter(|step| fits(step) && usable(step))
            .min_by(|a, b| by_relation_id(index, a, b))
    };
    let mut steps = Vec::new();
    let mut node = from;
    for depth in 1..=meeting_depth {
        let step = least(node, &|s| {
            forward.get(&s.to) == Some(&depth) && on_path.contains(&s.to)
        })?;
        steps.push(step);
        node = step.to;
    }
    for depth in (0..*backward.get(&node)?).rev() {
        let step = least(node, &|s| backward.get(&s.to) == Some(&depth))?;
        steps.push(step);
        node = step.to;
    }
    Some(steps)
}

#[cfg(test)]
mod test {
    use super::super::fixture::{budget, key, node, same_everywhere, ENTITIES, VISITS};
    use super::*;

    fn answer(
        index: &GraphIndex,
        from: &str,
        to: &str,
        filter: EdgeFilter,
        k: usize,
        visits: u64,
    ) -> Vec<Vec<String>> {
        let query = ShortestQuery {
            from: node(index, from),
            to: node(index, to),
            filter,
            k,
            max_length: 6,
        };
        shortest_paths(index, &query, &mut budget(visits))
            .iter()
            .map(|p| {
                assert_eq!(p.start, query.from);
                assert_eq!(p.end(), query.to);
                key(index, &p.steps)
            })
            .collect()
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
            for (from, _) in ENTITIES {
                for (to, _) in ENTITIES {
                    for filter in filters {
                        for k in [1, 3, 8] {
                            for visits in VISITS {
                                answers.push(answer(index, from, to, filter, k, visits));
                            }
                        }
                    }
                }
            }
            answers
        });
    }

    #[test]
    fn ties_break_by_relation_ids() {
        let paths =
            same_everywhere(|index| answer(index, "s", "t", EdgeFilter::default(), 6, 1_000_000));
        assert_eq!(
            paths,
            [
                vec!["r03", "r09"],
                vec!["r07", "r05"],
                vec!["r11", "r01"],
                vec!["r14", "r09"],
                vec!["r02", "r04", "r06"],
                vec!["r02", "r08", "r05"],
            ]
        );
    }
}
