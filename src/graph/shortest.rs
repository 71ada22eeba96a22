use std::collections::{BTreeSet, HashMap, HashSet};

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use crate::model::Direction;

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
/// index.upsert_relation(&relation("ab", "a", "b"), false);
/// index.upsert_relation(&relation("cb", "c", "b"), false);
/// index.upsert_relation(&relation("ac", "a", "c"), false);
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

/// How a search side reached a node: the node it came from and the step it took.
type Parents = HashMap<NodeIndex, Option<(NodeIndex, Step)>>;

/// One shortest path from `from` to `to` avoiding `banned`, growing the smaller frontier a whole
/// level at a time so the first meeting level gives a shortest path.
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
    let mut forward: Parents = HashMap::from([(from, None)]);
    let mut backward: Parents = HashMap::from([(to, None)]);
    let mut forward_frontier = vec![from];
    let mut backward_frontier = vec![to];
    let mut length = 0;
    while !forward_frontier.is_empty() && !backward_frontier.is_empty() && length < query.max_length
    {
        let grow_forward = forward_frontier.len() <= backward_frontier.len();
        let (frontier, parents, others) = if grow_forward {
            (&mut forward_frontier, &mut forward, &backward)
        } else {
            (&mut backward_frontier, &mut backward, &forward)
        };
        let mut next = Vec::new();
        let mut meeting = None;
        for &node in frontier.iter() {
            for step in index.steps(node, Direction::Any) {
                if !budget.spend() {
                    return None;
                }
                if parents.contains_key(&step.to)
                    || banned.nodes.contains(&step.to)
                    || banned.edges.contains(&step.edge)
                    || !query.filter.admits(index.edge_data(step.edge))
                {
                    continue;
                }
                parents.insert(step.to, Some((node, step)));
                if meeting.is_none() && others.contains_key(&step.to) {
                    meeting = Some(step.to);
                }
                next.push(step.to);
            }
        }
        *frontier = next;
        length += 1;
        if let Some(meet) = meeting {
            return Some(join(&forward, &backward, meet));
        }
    }
    None
}

/// The forward half up to `meet`, then the backward half turned round.
fn join(forward: &Parents, backward: &Parents, meet: NodeIndex) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut node = meet;
    while let Some(Some((previous, step))) = forward.get(&node) {
        steps.push(*step);
        node = *previous;
    }
    steps.reverse();
    let mut node = meet;
    while let Some(Some((next, step))) = backward.get(&node) {
        // The backward search stepped from `next` to `node`; walking forward goes the other way.
        let direction = match step.direction {
            Direction::Out => Direction::In,
            Direction::In => Direction::Out,
            Direction::Any => Direction::Any,
        };
        steps.push(Step {
            edge: step.edge,
            to: *next,
            direction,
        });
        node = *next;
    }
    steps
}
