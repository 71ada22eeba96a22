//! The set form of a pattern search: which entities it reaches, found hop by hop over
//! frontiers, so the cost grows with the relations touched and never with the number of paths
//! (a hub's answer can be reached by millions of paths). Counting and showing the paths to a
//! few of the entities is a second, separate search, pruned to what can still reach them.

use hashbrown::HashMap;
use petgraph::stable_graph::NodeIndex;

use super::adjacency::admits;
use super::order::by_entity_id;
use super::paths::{search, Useful};
use super::pattern::{each, reverse, Automaton, Positions};
use super::{Budget, GraphIndex, Path, PathQuery};

/// What a frontier search found: the entities reached, in id order, and where it stood.
#[derive(Debug, Clone, Default)]
pub struct Reached {
    /// The entities at the end of some walk matching the pattern, other than the start, in id
    /// order. A walk may pass an entity twice; a path may not, so an entity reached only by
    /// walks that do has no paths to show.
    pub ends: Vec<NodeIndex>,
    /// For every entity the search reached, the pattern positions it reached it at.
    seen: HashMap<NodeIndex, Positions>,
}

impl Reached {
    /// Memory held, in entities: for bounding a cache of answers.
    pub fn weight(&self) -> usize {
        self.ends.len() + self.seen.len()
    }
}

/// The entities `query` reaches from its start, hop by hop: one frontier per pattern position,
/// each entity expanded at most once per position. The positions are visited in order and a
/// position's entities are expanded together; when the budget runs out part way through a
/// position, what that position found is dropped, so a partial answer (`budget.exhausted()`)
/// is what the completed positions found and depends only on the graph.
pub fn connected(index: &GraphIndex, query: &PathQuery, budget: &mut Budget) -> Reached {
    let Some(automaton) = Automaton::new(&query.hops) else {
        budget.exhaust();
        return Reached::default();
    };
    let mut seen: HashMap<NodeIndex, Positions> = HashMap::new();
    let mut members: Vec<Vec<NodeIndex>> = vec![Vec::new(); automaton.len()];
    let mut ends: Vec<NodeIndex> = Vec::new();
    let arrive = |node: NodeIndex,
                  positions: Positions,
                  seen: &mut HashMap<NodeIndex, Positions>,
                  members: &mut Vec<Vec<NodeIndex>>,
                  ends: &mut Vec<NodeIndex>| {
        let kind = index.kind_of(node);
        let had = seen.get(&node).copied().unwrap_or(0);
        let new = automaton.close(positions, kind) & !had;
        if new == 0 {
            return;
        }
        seen.insert(node, had | new);
        for position in each(new) {
            members[position].push(node);
        }
        if automaton.accepts(new, kind) && !automaton.accepts(had, kind) && node != query.start {
            ends.push(node);
        }
    };
    arrive(query.start, 1, &mut seen, &mut members, &mut ends);
    let mut found: Vec<(NodeIndex, Positions)> = Vec::new();
    'positions: for position in 0..automaton.len() {
        let frontier = std::mem::take(&mut members[position]);
        let here: Positions = 1 << position;
        let Some(direction) = automaton.directions(here) else {
            continue;
        };
        found.clear();
        for &node in &frontier {
            let whole = index.each_step(node, direction, |step, tie| {
                if !budget.spend() {
                    return false;
                }
                if admits(index, &query.filter, &step, tie) {
                    let crossed = automaton.cross(here, tie.kind, step.direction);
                    if crossed != 0 {
                        found.push((step.to, crossed));
                    }
                }
                true
            });
            if !whole {
                break 'positions;
            }
        }
        for &(node, crossed) in &found {
            arrive(node, crossed, &mut seen, &mut members, &mut ends);
        }
    }
    sort_by_id(index, &mut ends);
    Reached { ends, seen }
}

/// Sorts entities by id. Comparing ids means following a pointer per comparison; sorting by
/// their first sixteen bytes first leaves few comparisons that need it.
fn sort_by_id(index: &GraphIndex, nodes: &mut [NodeIndex]) {
    let prefix = |node: NodeIndex| {
        let id = index.node_data(node).id.as_bytes();
        let mut bytes = [0u8; 16];
        let n = id.len().min(16);
        bytes[..n].copy_from_slice(&id[..n]);
        u128::from_be_bytes(bytes)
    };
    let mut keyed: Vec<(u128, NodeIndex)> = nodes.iter().map(|&n| (prefix(n), n)).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| by_entity_id(index, a.1, b.1)));
    for (slot, (_, node)) in nodes.iter_mut().zip(keyed) {
        *slot = node;
    }
}

/// How many paths reach one entity, and the first few of them.
#[derive(Debug, Clone, Default)]
pub struct PathsTo {
    /// Distinct simple paths; a lower bound when the search's budget ran out.
    pub count: u64,
    /// Up to the requested number of paths, shortest first, then by relation ids.
    pub examples: Vec<Path>,
}

/// Counts the simple paths from the start of `reached`'s search to each of `ends` (entities it
/// reached) and keeps the first `examples` of each: a path search that only goes where
/// one of `ends` can still be reached, found by walking the frontiers back from them. So it
/// costs the paths to those ends, not every path. `budget.exhausted()` afterwards means the
/// counts are lower bounds.
pub fn paths_to(
    index: &GraphIndex,
    query: &PathQuery,
    reached: &Reached,
    ends: &[NodeIndex],
    examples: usize,
    budget: &mut Budget,
) -> Vec<PathsTo> {
    let mut answers = vec![PathsTo::default(); ends.len()];
    let Some(automaton) = Automaton::new(&query.hops) else {
        budget.exhaust();
        return answers;
    };
    let Some(useful) = useful(index, query, &automaton, reached, ends, budget) else {
        return answers;
    };
    let slot: HashMap<NodeIndex, usize> = ends.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    search(index, query, None, Some(&useful), budget, |steps| {
        if let Some(&i) = steps.last().and_then(|s| slot.get(&s.to)) {
            let answer = &mut answers[i];
            answer.count += 1;
            // Paths come shortest first, then by relation ids: the first ones are the examples.
            if answer.examples.len() < examples {
                answer.examples.push(Path {
                    start: query.start,
                    steps: steps.to_vec(),
                });
            }
        }
        true
    });
    answers
}

/// For each entity on the way from the start to `ends`, the positions from which one of them
/// can be reached: the frontiers of `reached` walked backwards from `ends`. None when the
/// budget ran out.
fn useful(
    index: &GraphIndex,
    query: &PathQuery,
    automaton: &Automaton<'_>,
    reached: &Reached,
    ends: &[NodeIndex],
    budget: &mut Budget,
) -> Option<Useful> {
    let seen = |node: NodeIndex| reached.seen.get(&node).copied().unwrap_or(0);
    let mut useful: Useful = HashMap::new();
    let mut members: Vec<Vec<NodeIndex>> = vec![Vec::new(); automaton.len()];
    let mark = |node: NodeIndex,
                positions: Positions,
                useful: &mut Useful,
                members: &mut Vec<Vec<NodeIndex>>| {
        let had = useful.get(&node).copied().unwrap_or(0);
        let new = positions & seen(node) & !had;
        if new != 0 {
            useful.insert(node, had | new);
            for position in each(new) {
                members[position].push(node);
            }
        }
    };
    for &end in ends {
        if automaton.accepts(seen(end), index.kind_of(end)) {
            mark(end, automaton.last(), &mut useful, &mut members);
        }
    }
    for position in (0..automaton.len()).rev() {
        let nodes = std::mem::take(&mut members[position]);
        for &node in &nodes {
            let closed = automaton.closed_into(position, index.kind_of(node));
            if closed != 0 {
                mark(node, closed, &mut useful, &mut members);
            }
        }
        let Some((before, hop)) = automaton.crossed_into(position) else {
            continue;
        };
        for &node in &nodes {
            let whole = index.each_step(node, reverse(hop.direction), |step, tie| {
                if !budget.spend() {
                    return false;
                }
                if hop.kinds.admits(tie.kind) && admits(index, &query.filter, &step, tie) {
                    mark(step.to, 1 << before, &mut useful, &mut members);
                }
                true
            });
            if !whole {
                return None;
            }
        }
    }
    Some(useful)
}

#[cfg(test)]
mod test {
    use super::super::fixture::{budget, key, node, patterns, same_everywhere, ENTITIES, VISITS};
    use super::super::EdgeFilter;
    use super::*;

    type Answer = (Vec<(String, u64, Vec<Vec<String>>)>, bool);

    fn answer(
        index: &GraphIndex,
        start: &str,
        hops: &[super::super::HopSpec],
        examples: usize,
        visits: u64,
    ) -> Answer {
        let query = PathQuery {
            start: node(index, start),
            hops: hops.to_vec(),
            target: None,
            filter: EdgeFilter::default(),
        };
        let mut budget = budget(visits);
        let reached = connected(index, &query, &mut budget);
        let exhausted = budget.exhausted();
        let mut counting = super::super::fixture::budget(visits);
        let paths = paths_to(
            index,
            &query,
            &reached,
            &reached.ends,
            examples,
            &mut counting,
        );
        let reached = reached
            .ends
            .iter()
            .zip(paths)
            .map(|(&end, p)| {
                let examples = p.examples.iter().map(|p| key(index, &p.steps)).collect();
                (index.node_data(end).id.to_string(), p.count, examples)
            })
            .collect();
        (reached, exhausted || counting.exhausted())
    }

    #[test]
    fn answers_do_not_depend_on_insertion_order() {
        let patterns = patterns();
        same_everywhere(|index| {
            let mut answers = Vec::new();
            for (start, _) in ENTITIES {
                for hops in &patterns {
                    for examples in [0, 1, 3] {
                        for visits in VISITS {
                            answers.push(answer(index, start, hops, examples, visits));
                        }
                    }
                }
            }
            answers
        });
    }

    #[test]
    fn examples_are_the_shortest_then_first_by_relation_ids() {
        let (reached, _) =
            same_everywhere(|index| answer(index, "s", &patterns()[0], 2, 1_000_000));
        let (_, paths, examples) = reached
            .iter()
            .find(|(id, _, _)| id == "t")
            .expect("s reaches t");
        assert!(*paths >= 7, "{paths}");
        assert_eq!(examples, &[vec!["r03", "r09"], vec!["r07", "r05"]]);
    }

    /// Every end of a walk (entities may repeat) matching `hops`, by brute force over
    /// (entity, hop, repeats): the meaning `connected` must have, found another way.
    fn walk_ends(
        index: &GraphIndex,
        start: NodeIndex,
        hops: &[super::super::HopSpec],
    ) -> Vec<String> {
        fn go(
            index: &GraphIndex,
            hops: &[super::super::HopSpec],
            node: NodeIndex,
            hop: usize,
            reps: u32,
            steps: usize,
            ends: &mut std::collections::BTreeSet<String>,
        ) {
            let spec = hops[hop];
            let kind = index.node_data(node).kind;
            if reps >= spec.min_repeat && spec.entity_kinds.admits(kind) {
                if hop + 1 == hops.len() {
                    if steps > 0 {
                        ends.insert(index.node_data(node).id.to_string());
                    }
                } else {
                    go(index, hops, node, hop + 1, 0, steps, ends);
                }
            }
            if reps < spec.max_repeat {
                for step in index.steps(node, spec.direction) {
                    let edge = index.edge_data(step.edge);
                    if spec.kinds.admits(edge.kind) && EdgeFilter::default().admits(edge) {
                        go(index, hops, step.to, hop, reps + 1, steps + 1, ends);
                    }
                }
            }
        }
        let mut ends = std::collections::BTreeSet::new();
        go(index, hops, start, 0, 0, 0, &mut ends);
        ends.remove(index.node_data(start).id.as_ref());
        ends.into_iter().collect()
    }

    #[test]
    fn reaches_the_ends_of_walks_and_counts_the_paths() {
        same_everywhere(|index| {
            for (start, _) in ENTITIES {
                for hops in patterns() {
                    let (reached, partial) = answer(index, start, &hops, 10, 1_000_000);
                    assert!(!partial);
                    let ends: Vec<String> = reached.iter().map(|(id, _, _)| id.clone()).collect();
                    assert_eq!(
                        ends,
                        walk_ends(index, node(index, start), &hops),
                        "{start} {hops:?}"
                    );
                    // The counts are those of the path search, one by one.
                    let query = PathQuery {
                        start: node(index, start),
                        hops: hops.clone(),
                        target: None,
                        filter: EdgeFilter::default(),
                    };
                    let mut counts = std::collections::BTreeMap::<String, u64>::new();
                    super::super::find_paths(
                        index,
                        &query,
                        None,
                        &mut budget(1_000_000),
                        |steps| {
                            let end = steps[steps.len() - 1].to;
                            *counts
                                .entry(index.node_data(end).id.to_string())
                                .or_default() += 1;
                            true
                        },
                    );
                    for (id, count, examples) in &reached {
                        assert_eq!(
                            *count,
                            counts.get(id).copied().unwrap_or(0),
                            "{start} {id} {hops:?}"
                        );
                        assert_eq!(examples.len() as u64, (*count).min(10));
                    }
                }
            }
        });
    }

    #[test]
    fn a_budget_cut_keeps_whole_positions() {
        // Less budget never finds more, and a partial answer is a subset of the whole one.
        same_everywhere(|index| {
            let hops = &patterns()[0];
            let (whole, _) = answer(index, "s", hops, 0, 1_000_000);
            let mut last = 0;
            for visits in VISITS {
                let (part, _) = answer(index, "s", hops, 0, visits);
                assert!(part.len() >= last);
                assert!(part.iter().all(|p| whole.iter().any(|w| w.0 == p.0)));
                last = part.len();
            }
        });
    }
}
