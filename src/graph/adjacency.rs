//! A read-optimised copy of the index's adjacency: each entity's ties in one contiguous run
//! (compressed sparse rows), outgoing then incoming, with each tie's kind and denial beside it,
//! and each entity's kind in a dense array.
//!
//! Why: petgraph's adjacency is a linked list through the edge array, so every step of a
//! search is a cache miss on a 40-byte edge record, plus another on the far entity's record to
//! learn its kind. A frontier search from a hub takes hundreds of thousands of steps; reading
//! them from contiguous 10-byte entries is several times faster (ARCHITECTURE.md has the
//! figures). The copy is rebuilt from the index in one sequential pass over its edges.
//!
//! It is never wrong: an entity whose ties or kind changed since the copy was built is marked
//! stale in the index, and its steps are read from petgraph until the next rebuild.

use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences, NodeIndexable};

use crate::model::{Direction, EntityKind, RelationKind};

use super::index::{EdgeData, NodeData};
use super::{EdgeFilter, GraphIndex, Step};

/// What a search needs of a tie without reading its record.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tie {
    pub kind: RelationKind,
    pub denied: bool,
}

#[derive(Default)]
pub(super) struct Adjacency {
    /// By node index: where its outgoing ties begin; its incoming ones begin at `split`, and
    /// end where the next node's begin.
    start: Vec<u32>,
    split: Vec<u32>,
    /// By tie: the entity at the far end and the edge.
    ends: Vec<(u32, u32)>,
    ties: Vec<Tie>,
    /// By node index: the entity's kind when the copy was built.
    kinds: Vec<EntityKind>,
}

impl Adjacency {
    pub(super) fn build(graph: &StableDiGraph<NodeData, EdgeData, u32>) -> Adjacency {
        let nodes = graph.node_bound();
        // Counts first, so every run has its place before anything is written.
        let mut outgoing = vec![0u32; nodes];
        let mut incoming = vec![0u32; nodes];
        for edge in graph.edge_references() {
            outgoing[edge.source().index()] += 1;
            incoming[edge.target().index()] += 1;
        }
        let mut start = Vec::with_capacity(nodes + 1);
        let mut split = Vec::with_capacity(nodes);
        let mut at = 0u32;
        for n in 0..nodes {
            start.push(at);
            split.push(at + outgoing[n]);
            at += outgoing[n] + incoming[n];
        }
        start.push(at);
        let total = at as usize;
        let mut ends = vec![(0u32, 0u32); total];
        let mut ties = vec![
            Tie {
                kind: RelationKind::AssociatedWith,
                denied: false,
            };
            total
        ];
        // The next free place in each node's outgoing and incoming runs.
        let mut next_out: Vec<u32> = start[..nodes].to_vec();
        let mut next_in: Vec<u32> = split.clone();
        for edge in graph.edge_references() {
            let (from, to) = (edge.source().index(), edge.target().index());
            let data = edge.weight();
            let tie = Tie {
                kind: data.kind,
                denied: data.denied,
            };
            let id = edge.id().index() as u32;
            let place = next_out[from] as usize;
            ends[place] = (to as u32, id);
            ties[place] = tie;
            next_out[from] += 1;
            let place = next_in[to] as usize;
            ends[place] = (from as u32, id);
            ties[place] = tie;
            next_in[to] += 1;
        }
        let kinds = (0..nodes)
            .map(|n| {
                graph
                    .node_weight(NodeIndex::new(n))
                    .map_or(EntityKind::Company, |node| node.kind)
            })
            .collect();
        Adjacency {
            start,
            split,
            ends,
            ties,
            kinds,
        }
    }

    /// How many nodes the copy covers: nodes added later are not in it.
    pub(super) fn nodes(&self) -> usize {
        self.split.len()
    }

    pub(super) fn kind(&self, node: NodeIndex) -> EntityKind {
        self.kinds[node.index()]
    }

    /// Calls `f` with each step out of `node` (which the copy covers) in `direction`, outgoing
    /// first, until it returns false; false then.
    #[inline]
    pub(super) fn each_step(
        &self,
        node: NodeIndex,
        direction: Direction,
        mut f: impl FnMut(Step, Tie) -> bool,
    ) -> bool {
        let n = node.index();
        let (start, split, end) = (
            self.start[n] as usize,
            self.split[n] as usize,
            self.start[n + 1] as usize,
        );
        let runs = [(Direction::Out, start..split), (Direction::In, split..end)];
        for (way, run) in runs {
            if direction != Direction::Any && direction != way {
                continue;
            }
            for place in run {
                let (to, edge) = self.ends[place];
                let step = Step {
                    edge: EdgeIndex::new(edge as usize),
                    to: NodeIndex::new(to as usize),
                    direction: way,
                };
                if !f(step, self.ties[place]) {
                    return false;
                }
            }
        }
        true
    }
}

/// Whether `filter` lets a search cross `tie`; its period is read from the relation's record
/// only when the filter has a date.
#[inline]
pub(super) fn admits(index: &GraphIndex, filter: &EdgeFilter, step: &Step, tie: Tie) -> bool {
    filter.kinds.admits(tie.kind)
        && (filter.include_denied || !tie.denied)
        && (filter.as_of.is_none() || filter.admits(index.edge_data(step.edge)))
}
