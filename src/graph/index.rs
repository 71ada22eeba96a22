use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, NodeIndexable};

use crate::model::{
    Claim, DaySpan, Direction, Entity, EntityKind, Relation, RelationKind, Stance, Standing,
    Status, Timestamp,
};

use super::adjacency::{Adjacency, Tie};
use super::identifiers::IdentifierTable;
use super::search::EntityQuery;

/// What the index keeps of an entity: enough to filter and to search by name.
#[derive(Debug, Clone)]
pub struct NodeData {
    pub id: Box<str>,
    pub kind: EntityKind,
    /// When it was last written: lists may be ordered and filtered by it.
    pub updated_at: Timestamp,
    /// What finds it: see `search.rs`.
    pub(super) search_text: Box<str>,
}

impl NodeData {
    /// Its name as searches compare it (lower-case ASCII words): what lists order by name.
    pub fn name_key(&self) -> &str {
        // The search text's first field is the id, the second the name.
        self.search_text.split('\n').nth(1).unwrap_or_default()
    }
}

/// Entities that may be one real thing recorded twice ([`GraphIndex::duplicate_candidates`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateGroup {
    /// What the group shares, as `name:KIND:words` or `identifier:scheme:value`; its cursor.
    pub key: String,
    /// Why they seem one, in words: the shared name, identifier, or both.
    pub reasons: Vec<String>,
    /// In id order.
    pub ids: Vec<String>,
}

/// What the index keeps of a relation: enough to filter a traversal. Its id is kept apart, in
/// [`RelationIds`], which holds five million ids in a fraction of the memory boxed strings take.
#[derive(Debug, Clone)]
pub struct EdgeData {
    pub kind: RelationKind,
    /// Every claim of the relation denies it: traversals skip it unless asked.
    pub denied: bool,
    /// What its claims say, as far as its standing goes (see [`GraphIndex::standing`]).
    pub(super) says: Says,
    /// When the relation held, as day numbers.
    pub span: DaySpan,
    /// Where it stands in its life, when the sources say.
    pub status: Option<Status>,
    /// The source slot (see [`Provenance`]) its first claim cites; most relations cite one
    /// source, so the others, if any, are kept apart.
    pub(super) source: u32,
}

/// No source slot.
pub(super) const NO_SOURCE: u32 = u32::MAX;

/// What a relation's claims say, in the bits its standing is derived from: whether any claim
/// asserts it, whether any denies it, whether one of its ends asserts it, and whether an entity
/// other than its ends does (who those are is in [`Provenance::outside_asserters`]: whether
/// they speak for an end depends on the offices held when the standing is asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Says(u8);

impl Says {
    const ASSERTED: u8 = 1;
    const DENIED: u8 = 2;
    const ASSERTED_BY_AN_END: u8 = 4;
    const ASSERTED_BY_AN_OUTSIDER: u8 = 8;
    const ALL: u8 = 15;

    pub(super) fn bits(self) -> u8 {
        self.0
    }

    /// None for bits no claims can give (a damaged snapshot).
    pub(super) fn from_bits(bits: u8) -> Option<Says> {
        let says = Says(bits);
        let by_someone = Self::ASSERTED_BY_AN_END | Self::ASSERTED_BY_AN_OUTSIDER;
        (bits & !Self::ALL == 0 && (bits & by_someone == 0 || says.has(Self::ASSERTED)))
            .then_some(says)
    }

    /// Denied and never asserted: what [`EdgeData::denied`] says, for a relation with claims.
    pub(super) fn denied_by_every_claim(self) -> bool {
        self.has(Self::DENIED) && !self.has(Self::ASSERTED)
    }

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// What a relation's claims say, from `from` to `to`, and the outsiders who assert it.
fn what_claims_say(
    claims: &[Claim],
    from: &str,
    to: &str,
    mut outsider_asserts: impl FnMut(&str),
) -> Says {
    let mut bits = 0;
    for claim in claims {
        match claim.stance {
            Stance::Denies => bits |= Says::DENIED,
            Stance::Asserts => {
                bits |= Says::ASSERTED;
                match claim.claimant.as_deref() {
                    Some(c) if c == from || c == to => bits |= Says::ASSERTED_BY_AN_END,
                    Some(c) => {
                        bits |= Says::ASSERTED_BY_AN_OUTSIDER;
                        outsider_asserts(c);
                    }
                    None => {}
                }
            }
        }
    }
    Says(bits)
}

/// Whether every claim denies the relation (and there is at least one): such relations are
/// hidden from traversals unless asked for.
fn all_deny(claims: &[Claim]) -> bool {
    !claims.is_empty() && claims.iter().all(|c| c.stance == Stance::Denies)
}

/// Where relations' claims come from: which sources they cite, and which entities other than
/// their ends made them. Kept in the index (a few bytes per relation) so that "what cites this
/// source" and "what did this entity say about others" cost what they find, not a scan of
/// every claim, and so that the store needs no citation records of its own.
#[derive(Default)]
pub(super) struct Provenance {
    /// Source ids by slot; a deleted source's slot is `None` until reused.
    pub(super) sources: Vec<Option<Box<str>>>,
    pub(super) slots: HashMap<Box<str>, u32>,
    free: Vec<u32>,
    /// The edges citing each slot, in no order.
    cited_by: Vec<Vec<u32>>,
    /// Slots beyond the first that an edge cites.
    pub(super) more_sources: HashMap<u32, Box<[u32]>>,
    /// Entities other than its ends who made claims about an edge.
    pub(super) outside_claimants: HashMap<u32, Box<[NodeIndex]>>,
    /// Those of an edge's outside claimants who assert it (the rest only deny it): whether
    /// they speak for an end decides between `CONFIRMED` and `REPORTED`.
    pub(super) outside_asserters: HashMap<u32, Box<[NodeIndex]>>,
    /// The edges each entity made claims about without being one of their ends.
    stated_by: HashMap<NodeIndex, Vec<u32>>,
}

/// One way out of an entity along one relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Step {
    pub edge: EdgeIndex,
    pub to: NodeIndex,
    /// `Out` when the step follows the relation from its `from` end, `In` when it goes against it.
    pub direction: Direction,
}

/// Relation ids by edge, and edges by relation id: one string arena, a span per edge, and a
/// hash table of edge numbers (each id is stored once; the table hashes it from the arena).
#[derive(Default)]
struct RelationIds {
    arena: String,
    // Indexed by edge index; a removed edge's span stays until the edge slot is reused.
    spans: Vec<(u32, u32)>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl RelationIds {
    fn get(&self, edge: EdgeIndex) -> &str {
        match self.spans.get(edge.index()) {
            Some(&(start, end)) => &self.arena[start as usize..end as usize],
            None => "",
        }
    }

    fn find(&self, id: &str) -> Option<EdgeIndex> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |&e| self.get(EdgeIndex::new(e as usize)) == id)
            .map(|&e| EdgeIndex::new(e as usize))
    }

    fn insert(&mut self, id: &str, edge: EdgeIndex) {
        let start = self.arena.len() as u32;
        self.arena.push_str(id);
        let span = (start, self.arena.len() as u32);
        if self.spans.len() <= edge.index() {
            self.spans.resize(edge.index() + 1, (0, 0));
        }
        self.spans[edge.index()] = span;
        let hash = self.hasher.hash_one(id);
        let (arena, spans, hasher) = (&self.arena, &self.spans, &self.hasher);
        self.table.insert_unique(hash, edge.index() as u32, |&e| {
            let (start, end) = spans[e as usize];
            hasher.hash_one(&arena[start as usize..end as usize])
        });
    }

    fn remove(&mut self, id: &str) -> Option<EdgeIndex> {
        let hash = self.hasher.hash_one(id);
        let (arena, spans) = (&self.arena, &self.spans);
        let entry = self
            .table
            .find_entry(hash, |&e| {
                let (start, end) = spans[e as usize];
                &arena[start as usize..end as usize] == id
            })
            .ok()?;
        let (edge, _) = entry.remove();
        Some(EdgeIndex::new(edge as usize))
    }

    fn len(&self) -> usize {
        self.table.len()
    }
}

/// Which state of which index an answer was computed on: unique in the process, so an answer
/// kept for one version is never served for another, or for another index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version(u64);

impl Default for Version {
    fn default() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Version(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// The graph's topology in memory, mirroring the store.
#[derive(Default)]
pub struct GraphIndex {
    version: Version,
    /// The compact copy searches read (see [`Adjacency`]), and the nodes it is out of date for.
    adjacency: Adjacency,
    stale: hashbrown::HashSet<NodeIndex>,
    pub(super) graph: StableDiGraph<NodeData, EdgeData, u32>,
    // Ordered so that listing entities by id is a range scan, and cursors are ids.
    pub(super) entities: BTreeMap<Box<str>, NodeIndex>,
    relations: RelationIds,
    pub(super) provenance: Provenance,
    /// Entities by identifier, for resolution.
    identifiers: IdentifierTable,
}

/// What kind of record holds an id: ids are unique across entities, relations and sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Entity,
    Relation,
    Source,
}

impl Holder {
    pub fn name(self) -> &'static str {
        match self {
            Holder::Entity => "entity",
            Holder::Relation => "relation",
            Holder::Source => "source",
        }
    }
}

impl GraphIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty index with room for this many entities and relations, so that loading a known
    /// number of them allocates once instead of doubling (which would leave up to half unused).
    pub fn with_capacity(entities: usize, relations: usize) -> Self {
        let mut index = GraphIndex {
            graph: StableDiGraph::with_capacity(entities, relations),
            ..Self::default()
        };
        index.relations.spans.reserve_exact(relations);
        index.relations.table.reserve(relations, |_| 0);
        index
    }

    /// Gives back memory that growth left unused and builds the compact adjacency; called once
    /// a load is complete.
    pub fn shrink_to_fit(&mut self) {
        self.rebuild_adjacency();
        self.graph.shrink_to_fit();
        self.relations.arena.shrink_to_fit();
        self.relations.spans.shrink_to_fit();
        self.identifiers.shrink_to_fit();
        let (arena, spans, hasher) = (
            &self.relations.arena,
            &self.relations.spans,
            &self.relations.hasher,
        );
        self.relations.table.shrink_to_fit(|&e| {
            let (start, end) = spans[e as usize];
            hasher.hash_one(&arena[start as usize..end as usize])
        });
    }

    /// This state of the index: it changes with every change.
    pub fn version(&self) -> Version {
        self.version
    }

    pub fn entity_count(&self) -> usize {
        self.entities.len()
    }

    /// One more than the highest node number in use: the size of a dense per-node array.
    pub(super) fn node_bound(&self) -> usize {
        self.graph.node_bound()
    }

    /// Rebuilds the compact adjacency from the graph.
    pub fn rebuild_adjacency(&mut self) {
        self.adjacency = Adjacency::build(&self.graph);
        self.stale.clear();
    }

    /// Rebuilds the compact adjacency once enough of it is out of date that searches would
    /// notice: after a small write this costs nothing, and after one in about every sixteen
    /// entities changed it is one pass over the edges.
    pub fn refresh_adjacency(&mut self) {
        let uncovered = self
            .graph
            .node_bound()
            .saturating_sub(self.adjacency.nodes());
        let out_of_date = self.stale.len() + uncovered;
        if out_of_date > (self.entities.len() / 16).max(1024) {
            self.rebuild_adjacency();
        }
    }

    /// Marks a node whose ties or kind change: its steps are read from the graph until the
    /// next rebuild.
    fn touch(&mut self, node: NodeIndex) {
        if node.index() < self.adjacency.nodes() {
            self.stale.insert(node);
        }
    }

    fn is_current(&self, node: NodeIndex) -> bool {
        node.index() < self.adjacency.nodes() && !self.stale.contains(&node)
    }

    /// The kind of the entity at `node`, read from the compact copy where it is current.
    #[inline]
    pub(super) fn kind_of(&self, node: NodeIndex) -> EntityKind {
        if self.is_current(node) {
            self.adjacency.kind(node)
        } else {
            self.graph[node].kind
        }
    }

    /// Calls `f` with each step out of `node` in `direction` and what a search needs of its
    /// tie, in no particular order, until `f` returns false; false then. Reads the compact
    /// adjacency where it is current, the graph elsewhere.
    #[inline]
    pub(super) fn each_step(
        &self,
        node: NodeIndex,
        direction: Direction,
        mut f: impl FnMut(Step, Tie) -> bool,
    ) -> bool {
        if self.is_current(node) {
            return self.adjacency.each_step(node, direction, f);
        }
        for step in self.steps(node, direction) {
            let data = &self.graph[step.edge];
            let tie = Tie {
                kind: data.kind,
                denied: data.denied,
            };
            if !f(step, tie) {
                return false;
            }
        }
        true
    }

    pub fn relation_count(&self) -> usize {
        self.relations.len()
    }

    /// Adds an entity, or refreshes what the index keeps of it.
    pub fn upsert_entity(&mut self, entity: &Entity) {
        self.version = Version::default();
        let data = NodeData {
            id: entity.id.as_str().into(),
            kind: entity.kind,
            updated_at: entity.updated_at,
            search_text: super::search::search_text(entity),
        };
        let node = match self.entities.get(entity.id.as_str()) {
            Some(&node) => {
                if self.graph[node].kind != data.kind {
                    self.touch(node);
                }
                self.forget_identifiers(node);
                self.graph[node] = data;
                node
            }
            None => {
                let node = self.graph.add_node(data);
                self.entities.insert(entity.id.as_str().into(), node);
                node
            }
        };
        self.learn_identifiers(node);
    }

    /// Files the node's identifiers (from its search text) in the identifier table.
    pub(super) fn learn_identifiers(&mut self, node: NodeIndex) {
        let data = &self.graph[node];
        for key in super::search::identifiers_in(&data.search_text) {
            self.identifiers.insert(key, node);
        }
    }

    fn forget_identifiers(&mut self, node: NodeIndex) {
        let data = &self.graph[node];
        for key in super::search::identifiers_in(&data.search_text) {
            self.identifiers.remove(key, node);
        }
    }

    /// The entities holding the identifier `scheme:value` (compared as searches compare
    /// identifiers: trimmed, any case), in id order.
    pub fn entities_with_identifier(&self, scheme: &str, value: &str) -> Vec<&str> {
        let key = crate::model::identifier_key(scheme, value);
        let mut found: Vec<&str> = self
            .identifiers
            .candidates(&key)
            .filter_map(|node| self.graph.node_weight(node))
            .filter(|data| super::search::identifiers_in(&data.search_text).any(|k| k == key))
            .map(|data| &*data.id)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Removes an entity and any relation still touching it.
    pub fn remove_entity(&mut self, id: &str) {
        self.version = Version::default();
        if let Some(node) = self.entities.remove(id) {
            self.forget_identifiers(node);
            let touching: Vec<EdgeIndex> = self
                .graph
                .edges_directed(node, petgraph::Direction::Outgoing)
                .chain(
                    self.graph
                        .edges_directed(node, petgraph::Direction::Incoming),
                )
                .map(|e| e.id())
                .collect();
            let ids: Vec<String> = touching
                .into_iter()
                .map(|edge| self.relations.get(edge).to_owned())
                .collect();
            self.remove_relations(ids.iter().map(String::as_str));
            if let Some(stated) = self.provenance.stated_by.remove(&node) {
                let p = &mut self.provenance;
                for e in stated {
                    for map in [&mut p.outside_claimants, &mut p.outside_asserters] {
                        if let Some(claimants) = map.get_mut(&e) {
                            let kept: Box<[NodeIndex]> =
                                claimants.iter().copied().filter(|&n| n != node).collect();
                            if kept.is_empty() {
                                map.remove(&e);
                            } else {
                                *claimants = kept;
                            }
                        }
                    }
                }
            }
            self.touch(node);
            self.graph.remove_node(node);
        }
    }

    /// Adds a relation with its claims, or refreshes it; returns false if an end (or a source
    /// or claimant a claim names) is not in the index, and then changes nothing.
    pub fn upsert_relation(&mut self, relation: &Relation, claims: &[Claim]) -> bool {
        self.version = Version::default();
        let (Some(&from), Some(&to)) = (
            self.entities.get(relation.from.as_str()),
            self.entities.get(relation.to.as_str()),
        ) else {
            return false;
        };
        let mut sources: Vec<u32> = Vec::new();
        let mut claimants: Vec<NodeIndex> = Vec::new();
        for claim in claims {
            let Some(&slot) = self.provenance.slots.get(claim.source.as_str()) else {
                return false;
            };
            if !sources.contains(&slot) {
                sources.push(slot);
            }
            if let Some(claimant) = &claim.claimant {
                let Some(&node) = self.entities.get(claimant.as_str()) else {
                    return false;
                };
                if node != from && node != to && !claimants.contains(&node) {
                    claimants.push(node);
                }
            }
        }
        let mut asserters: Vec<NodeIndex> = Vec::new();
        let says = what_claims_say(claims, &relation.from, &relation.to, |claimant| {
            // Every claimant is in the index: checked above.
            if let Some(&node) = self.entities.get(claimant) {
                if !asserters.contains(&node) {
                    asserters.push(node);
                }
            }
        });
        let data = EdgeData {
            kind: relation.kind,
            denied: all_deny(claims),
            says,
            span: relation.period.into(),
            status: relation.status,
            source: sources.first().copied().unwrap_or(NO_SOURCE),
        };
        let edge = match self.relations.find(&relation.id) {
            Some(edge) if self.graph.edge_endpoints(edge) == Some((from, to)) => {
                self.forget_provenance(edge);
                self.graph[edge] = data;
                edge
            }
            // Its ends changed (a merge re-pointed it): it is a new edge between them.
            Some(_) => {
                self.remove_relation(&relation.id);
                self.insert_edge(&relation.id, from, to, data)
            }
            None => self.insert_edge(&relation.id, from, to, data),
        };
        self.touch(from);
        self.touch(to);
        self.record_provenance(edge, &sources, &claimants, &asserters);
        true
    }

    pub(super) fn insert_edge(
        &mut self,
        id: &str,
        from: NodeIndex,
        to: NodeIndex,
        data: EdgeData,
    ) -> EdgeIndex {
        let edge = self.graph.add_edge(from, to, data);
        self.relations.insert(id, edge);
        edge
    }

    /// Files `edge` under its sources and its outside claimants (`asserters` are those of them
    /// who assert it); the first source is already in the edge's data.
    pub(super) fn record_provenance(
        &mut self,
        edge: EdgeIndex,
        sources: &[u32],
        claimants: &[NodeIndex],
        asserters: &[NodeIndex],
    ) {
        let e = edge.index() as u32;
        let p = &mut self.provenance;
        for &slot in sources {
            if let Some(citing) = p.cited_by.get_mut(slot as usize) {
                citing.push(e);
            }
        }
        if sources.len() > 1 {
            p.more_sources.insert(e, sources[1..].into());
        }
        if !claimants.is_empty() {
            for &node in claimants {
                p.stated_by.entry(node).or_default().push(e);
            }
            p.outside_claimants.insert(e, claimants.into());
        }
        if !asserters.is_empty() {
            p.outside_asserters.insert(e, asserters.into());
        }
    }

    fn forget_provenance(&mut self, edge: EdgeIndex) {
        let e = edge.index() as u32;
        let first = self.graph[edge].source;
        let p = &mut self.provenance;
        let more = p.more_sources.remove(&e).unwrap_or_default();
        for slot in std::iter::once(first).chain(more.iter().copied()) {
            if let Some(citing) = p.cited_by.get_mut(slot as usize) {
                if let Some(at) = citing.iter().position(|&x| x == e) {
                    citing.swap_remove(at);
                }
            }
        }
        p.outside_asserters.remove(&e);
        for node in p.outside_claimants.remove(&e).unwrap_or_default().iter() {
            if let Some(stated) = p.stated_by.get_mut(node) {
                stated.retain(|&x| x != e);
                if stated.is_empty() {
                    p.stated_by.remove(node);
                }
            }
        }
    }

    /// Adds a source id (claims may then cite it); a no-op for one already there.
    pub fn upsert_source(&mut self, id: &str) {
        self.version = Version::default();
        let p = &mut self.provenance;
        if p.slots.contains_key(id) {
            return;
        }
        let slot = match p.free.pop() {
            Some(slot) => {
                p.sources[slot as usize] = Some(id.into());
                slot
            }
            None => {
                p.sources.push(Some(id.into()));
                p.cited_by.push(Vec::new());
                (p.sources.len() - 1) as u32
            }
        };
        p.slots.insert(id.into(), slot);
    }

    /// Removes a source id; the service only does so once no claim cites it.
    pub fn remove_source(&mut self, id: &str) {
        self.version = Version::default();
        let p = &mut self.provenance;
        if let Some(slot) = p.slots.remove(id) {
            p.sources[slot as usize] = None;
            p.cited_by[slot as usize].clear();
            p.free.push(slot);
        }
    }

    /// Every source id, in id order.
    pub fn source_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.provenance.slots.keys().map(|k| &**k).collect();
        ids.sort_unstable();
        ids
    }

    /// Ids of the relations with a claim citing `source`, in id order.
    pub fn relations_citing(&self, source: &str) -> Vec<&str> {
        let Some(&slot) = self.provenance.slots.get(source) else {
            return Vec::new();
        };
        let mut ids: Vec<&str> = self.provenance.cited_by[slot as usize]
            .iter()
            .map(|&e| self.relation_id(EdgeIndex::new(e as usize)))
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Ids of the relations `entity` made a claim about without being one of their ends, in
    /// id order.
    pub fn statements_by(&self, entity: &str) -> Vec<&str> {
        let Some(node) = self.node(entity) else {
            return Vec::new();
        };
        let mut ids: Vec<&str> = self
            .provenance
            .stated_by
            .get(&node)
            .map(|edges| {
                edges
                    .iter()
                    .map(|&e| self.relation_id(EdgeIndex::new(e as usize)))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    /// Which kind of record holds `id`, if any.
    pub fn holder(&self, id: &str) -> Option<Holder> {
        if self.entities.contains_key(id) {
            Some(Holder::Entity)
        } else if self.relations.find(id).is_some() {
            Some(Holder::Relation)
        } else if self.provenance.slots.contains_key(id) {
            Some(Holder::Source)
        } else {
            None
        }
    }

    pub fn remove_relation(&mut self, id: &str) {
        self.remove_relations([id]);
    }

    /// Removes many relations at once (an entity's, when it is deleted with them).
    ///
    /// petgraph unlinks an edge by walking each end's edge list from its head to the edge, so
    /// removing a hub's relations in any other order than its list's costs the square of its
    /// degree (2.4 s for 12,584 relations). Here an end that loses several edges has them taken
    /// in its list's order, the end that loses most first, so each walk stops at the head or
    /// after the edges that stay; an edge that is the only one its ends lose is unlinked as
    /// petgraph does, which is as short.
    pub fn remove_relations<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        self.version = Version::default();
        let mut doomed = hashbrown::HashSet::new();
        let mut ends = Vec::new();
        for id in ids {
            let Some(edge) = self.relations.find(id) else {
                continue;
            };
            if let Some((from, to)) = self.graph.edge_endpoints(edge) {
                self.touch(from);
                self.touch(to);
                ends.extend([from, to]);
            }
            self.forget_provenance(edge);
            self.relations.remove(id);
            doomed.insert(edge);
        }
        ends.sort_unstable();
        let mut losses: Vec<(usize, NodeIndex)> = ends
            .chunk_by(|a, b| a == b)
            .map(|run| (run.len(), run[0]))
            .filter(|&(lost, _)| lost > 1)
            .collect();
        losses.sort_unstable_by_key(|&(lost, _)| std::cmp::Reverse(lost));
        for (_, node) in losses {
            for direction in [petgraph::Direction::Outgoing, petgraph::Direction::Incoming] {
                let in_list_order: Vec<EdgeIndex> = self
                    .graph
                    .edges_directed(node, direction)
                    .map(|e| e.id())
                    .filter(|e| doomed.remove(e))
                    .collect();
                for edge in in_list_order {
                    self.graph.remove_edge(edge);
                }
            }
        }
        for edge in doomed {
            self.graph.remove_edge(edge);
        }
    }

    /// The id of the relation an edge stands for.
    pub fn relation_id(&self, edge: EdgeIndex) -> &str {
        self.relations.get(edge)
    }

    pub fn node(&self, id: &str) -> Option<NodeIndex> {
        self.entities.get(id).copied()
    }

    pub fn node_data(&self, node: NodeIndex) -> &NodeData {
        &self.graph[node]
    }

    /// How many relations the entity is an end of (one from itself to itself counts twice).
    pub fn degree(&self, node: NodeIndex) -> usize {
        self.graph
            .edges_directed(node, petgraph::Direction::Outgoing)
            .count()
            + self
                .graph
                .edges_directed(node, petgraph::Direction::Incoming)
                .count()
    }

    pub fn edge_data(&self, edge: EdgeIndex) -> &EdgeData {
        &self.graph[edge]
    }

    pub fn edge(&self, id: &str) -> Option<EdgeIndex> {
        self.relations.find(id)
    }

    /// The `(from, to)` entities of a relation.
    pub fn ends(&self, edge: EdgeIndex) -> Option<(NodeIndex, NodeIndex)> {
        self.graph.edge_endpoints(edge)
    }

    pub fn entity_kind(&self, id: &str) -> Option<EntityKind> {
        self.node(id).map(|n| self.graph[n].kind)
    }

    /// The ways out of `node` in `direction` (`Any` gives both), outgoing first.
    pub fn steps(&self, node: NodeIndex, direction: Direction) -> impl Iterator<Item = Step> + '_ {
        let out = matches!(direction, Direction::Out | Direction::Any);
        let inc = matches!(direction, Direction::In | Direction::Any);
        let outgoing = self
            .graph
            .edges_directed(node, petgraph::Direction::Outgoing)
            .filter(move |_| out)
            .map(|e| Step {
                edge: e.id(),
                to: e.target(),
                direction: Direction::Out,
            });
        let incoming = self
            .graph
            .edges_directed(node, petgraph::Direction::Incoming)
            .filter(move |_| inc)
            .map(|e| Step {
                edge: e.id(),
                to: e.source(),
                direction: Direction::In,
            });
        outgoing.chain(incoming)
    }

    /// Ids of the relations touching `id`, in either direction.
    pub fn relations_of(&self, id: &str) -> Vec<&str> {
        match self.node(id) {
            Some(node) => self
                .steps(node, Direction::Any)
                .map(|s| self.relation_id(s.edge))
                .collect(),
            None => Vec::new(),
        }
    }

    /// A relation's standing, exactly as `model::derive_standing` gives it from the relation's
    /// claims when a claimant speaks for a party if it is an end of the relation or an officer
    /// (an undenied `OFFICER_OF`) of one: the claims' part is kept in the edge, the offices are
    /// looked up now, so the standing follows offices as they are added, denied or removed.
    pub fn standing(&self, edge: EdgeIndex) -> Standing {
        let says = self.graph[edge].says;
        match (says.has(Says::ASSERTED), says.has(Says::DENIED)) {
            (true, true) => Standing::Disputed,
            (false, true) => Standing::Denied,
            _ if says.has(Says::ASSERTED_BY_AN_END) => Standing::Confirmed,
            _ if says.has(Says::ASSERTED_BY_AN_OUTSIDER) && self.an_officer_asserts(edge) => {
                Standing::Confirmed
            }
            _ => Standing::Reported,
        }
    }

    /// Whether one of the outsiders who assert `edge` is an officer of one of its ends.
    fn an_officer_asserts(&self, edge: EdgeIndex) -> bool {
        let (Some(asserters), Some((from, to))) = (
            self.provenance
                .outside_asserters
                .get(&(edge.index() as u32)),
            self.graph.edge_endpoints(edge),
        ) else {
            return false;
        };
        let officer = |person: NodeIndex, organisation: NodeIndex| {
            self.graph
                .edges_connecting(person, organisation)
                .any(|e| e.weight().kind == RelationKind::OfficerOf && !e.weight().denied)
        };
        asserters
            .iter()
            .any(|&person| officer(person, from) || officer(person, to))
    }

    /// Whether `person` holds an office (an undenied `OFFICER_OF`) in `organisation`.
    pub fn is_officer_of(&self, person: &str, organisation: &str) -> bool {
        let (Some(person), Some(organisation)) = (self.node(person), self.node(organisation))
        else {
            return false;
        };
        self.graph
            .edges_connecting(person, organisation)
            .any(|e| e.weight().kind == RelationKind::OfficerOf && !e.weight().denied)
    }

    /// Groups of entities that may be one real thing: the same name or alias once case,
    /// accents, punctuation and legal forms are set aside (within one kind), or the same
    /// identifier (of any kind). Groups are ordered by their key; nothing is merged.
    pub fn duplicate_candidates(&self, kind: Option<EntityKind>) -> Vec<DuplicateGroup> {
        // By key: the reason it gives, and the entities that share it.
        let mut by_key: BTreeMap<String, (String, Vec<&str>)> = BTreeMap::new();
        for data in self.entities.values().map(|&node| &self.graph[node]) {
            if kind.is_some_and(|k| k != data.kind) {
                continue;
            }
            let (names, identifiers) = super::search::resolution_keys(&data.search_text);
            for name in names {
                let key = format!("name:{}:{name}", data.kind.as_str());
                by_key
                    .entry(key)
                    .or_insert_with(|| (format!("the same name once case, accents, punctuation and legal forms are set aside: `{name}`"), Vec::new()))
                    .1
                    .push(&data.id);
            }
            for identifier in identifiers {
                by_key
                    .entry(format!("identifier:{identifier}"))
                    .or_insert_with(|| (format!("the same identifier `{identifier}`"), Vec::new()))
                    .1
                    .push(&data.id);
            }
        }
        let mut groups: Vec<DuplicateGroup> = Vec::new();
        let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
        for (key, (reason, mut ids)) in by_key {
            ids.sort_unstable();
            ids.dedup();
            if ids.len() < 2 {
                continue;
            }
            let ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
            // One group for the same entities, however many reasons there are.
            match seen.get(&ids) {
                Some(&at) => groups[at].reasons.push(reason),
                None => {
                    seen.insert(ids.clone(), groups.len());
                    groups.push(DuplicateGroup {
                        key,
                        reasons: vec![reason],
                        ids,
                    });
                }
            }
        }
        groups
    }

    /// Every entity a ranked `query` finds, best first, then by id.
    pub fn ranked_entities<'a>(&'a self, query: &'a EntityQuery) -> Vec<(u8, &'a str)> {
        let mut found: Vec<(u8, &str)> = self
            .find_entities(query, None)
            .map(|(rank, data)| (rank, &*data.id))
            .collect();
        found.sort_unstable();
        found
    }

    /// The entities `query` finds, with their rank, in id order after `after`.
    pub fn find_entities<'a>(
        &'a self,
        query: &'a EntityQuery,
        after: Option<&'a str>,
    ) -> Box<dyn Iterator<Item = (u8, &'a NodeData)> + 'a> {
        use std::ops::Bound;
        let ranked = move |data: &'a NodeData| query.rank_of(data).map(|rank| (rank, data));
        // An identifier names few entities: the identifier table finds them without a scan
        // (the rank confirms each, as for any other filter).
        if let Some(key) = query.identifier() {
            let mut found: Vec<&NodeData> = self
                .identifiers
                .candidates(key)
                .filter_map(|node| self.graph.node_weight(node))
                .filter(|data| after.is_none_or(|after| &*data.id > after))
                .collect();
            found.sort_unstable_by(|a, b| a.id.cmp(&b.id));
            found.dedup_by(|a, b| a.id == b.id);
            return Box::new(found.into_iter().filter_map(ranked));
        }
        let lower = match after {
            Some(after) => Bound::Excluded(after),
            None => Bound::Unbounded,
        };
        Box::new(
            self.entities
                .range::<str, _>((lower, Bound::Unbounded))
                .map(|(_, &node)| &self.graph[node])
                .filter_map(ranked),
        )
    }

    /// Every relation id in the index, unordered; for consistency checks.
    pub fn relation_ids(&self) -> impl Iterator<Item = &str> {
        self.graph.edge_indices().map(|e| self.relation_id(e))
    }

    /// Every entity id in the index, in order; for consistency checks.
    pub fn entity_ids(&self) -> impl Iterator<Item = &str> {
        self.entities.keys().map(|k| &**k)
    }
}

#[cfg(test)]
mod test {
    use crate::graph::fixture::{add_entity, add_relation};
    use crate::model::RelationKind;

    use super::GraphIndex;

    /// A hub loses most of its relations in one call, in another order than they were added
    /// (ids in order, as a cascade lists them): exactly those go, the rest keep their ends.
    #[test]
    fn relations_removed_together_leave_exactly_the_others() {
        let mut index = GraphIndex::new();
        let spokes: Vec<String> = (0..40).map(|i| format!("n{i}")).collect();
        for id in std::iter::once("hub").chain(spokes.iter().map(String::as_str)) {
            add_entity(&mut index, id);
        }
        let mut ids = Vec::new();
        for (i, spoke) in spokes.iter().enumerate() {
            let id = format!("h{i:02}");
            let (from, to) = match i % 3 {
                0 => (spoke.as_str(), "hub"),
                _ => ("hub", spoke.as_str()),
            };
            add_relation(
                &mut index,
                (&id, RelationKind::AssociatedWith, from, to, false),
            );
            ids.push((id, from.to_owned(), to.to_owned()));
        }
        add_relation(&mut index, ("side", RelationKind::Owns, "n1", "n2", false));
        let (gone, kept): (Vec<_>, Vec<_>) = ids.iter().partition(|(id, ..)| !id.ends_with('7'));
        let mut doomed: Vec<&str> = gone.iter().map(|(id, ..)| id.as_str()).collect();
        doomed.push("side");
        doomed.sort_unstable();
        index.remove_relations(doomed.iter().copied());

        let hub = index.node("hub").expect("the hub stays");
        assert_eq!(index.degree(hub), kept.len());
        let mut left: Vec<&str> = index.relations_of("hub");
        left.sort_unstable();
        let expected: Vec<&str> = kept.iter().map(|(id, ..)| id.as_str()).collect();
        assert_eq!(left, expected);
        for (id, from, to) in &kept {
            let edge = index.relations.find(id).expect("a kept relation is found");
            let ends = index.graph.edge_endpoints(edge).expect("its edge is there");
            assert_eq!(ends, (index.node(from).unwrap(), index.node(to).unwrap()));
        }
        for id in doomed {
            assert!(index.relations.find(id).is_none(), "{id} is gone");
        }
        assert_eq!(index.graph.edge_count(), kept.len());
    }
}
