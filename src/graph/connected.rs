use std::collections::{BTreeMap, HashSet};

use petgraph::stable_graph::NodeIndex;

use super::{find_paths, Budget, GraphIndex, Path, PathQuery, Step};

/// An entity a pattern reaches, how many paths reach it, and the first few of them.
#[derive(Debug, Clone)]
pub struct Reached {
    pub node: NodeIndex,
    /// Distinct paths found; a lower bound when the search ran out of budget.
    pub paths: u64,
    /// Up to the requested number of paths, shortest first, then by relation ids.
    pub examples: Vec<Path>,
}

/// The set form of [`find_paths`]: each entity the pattern reaches once, in id order.
/// A path whose relations are the same as another's counts once, however the pattern's
/// repeat ranges split it. The search follows relations in id order and the examples are
/// chosen by length and relation ids, so counts and examples (a budget's cut included) depend
/// only on the graph.
pub fn connected(
    index: &GraphIndex,
    query: &PathQuery,
    examples: usize,
    budget: &mut Budget,
) -> Vec<Reached> {
    let ambiguous = query.hops.iter().any(|h| h.min_repeat != h.max_repeat);
    let mut seen: HashSet<Vec<Step>> = HashSet::new();
    let mut by_end: BTreeMap<&str, Reached> = BTreeMap::new();
    find_paths(index, query, budget, |steps| {
        if ambiguous && !seen.insert(steps.to_vec()) {
            return true;
        }
        let end = steps[steps.len() - 1].to;
        let reached = by_end
            .entry(&index.node_data(end).id)
            .or_insert_with(|| Reached {
                node: end,
                paths: 0,
                examples: Vec::new(),
            });
        reached.paths += 1;
        let path = Path {
            start: query.start,
            steps: steps.to_vec(),
        };
        keep_first(index, &mut reached.examples, path, examples);
        true
    });
    by_end.into_values().collect()
}

/// Keeps `examples` sorted and at most `limit` long, shortest first then by relation ids, so the
/// examples shown do not depend on the order the search happened to take.
fn keep_first(index: &GraphIndex, examples: &mut Vec<Path>, path: Path, limit: usize) {
    if limit == 0 {
        return;
    }
    let order = |p: &Path| (p.steps.len(), p.key(index));
    let position = examples.partition_point(|p| order(p) <= order(&path));
    if position < limit {
        examples.insert(position, path);
        examples.truncate(limit);
    }
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
        let reached = connected(index, &query, examples, &mut budget)
            .into_iter()
            .map(|r| {
                let examples = r.examples.iter().map(|p| key(index, &p.steps)).collect();
                (index.node_data(r.node).id.to_string(), r.paths, examples)
            })
            .collect();
        (reached, budget.exhausted())
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
}
