use std::collections::BTreeMap;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;

use crate::model::{DaySpan, Direction, Entity, EntityKind, Relation, RelationKind};

/// What the index keeps of an entity: enough to filter and to search by name.
#[derive(Debug, Clone)]
pub struct NodeData {
    pub id: Box<str>,
    pub kind: EntityKind,
    /// Lower-cased id, name and aliases, separated by newlines, for substring search.
    pub(super) search_text: Box<str>,
}

impl NodeData {
    pub fn matches(&self, lowercase_needle: &str) -> bool {
        self.search_text.contains(lowercase_needle)
    }
}

/// What the index keeps of a relation: enough to filter a traversal. Its id is kept apart, in
/// [`RelationIds`], which holds five million ids in a fraction of the memory boxed strings take.
#[derive(Debug, Clone)]
pub struct EdgeData {
    pub kind: RelationKind,
    /// Every claim of the relation denies it: traversals skip it unless asked.
    pub denied: bool,
    /// When the relation held, as day numbers.
    pub span: DaySpan,
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

/// The graph's topology in memory, mirroring the store.
#[derive(Default)]
pub struct GraphIndex {
    pub(super) graph: StableDiGraph<NodeData, EdgeData, u32>,
    // Ordered so that listing entities by id is a range scan, and cursors are ids.
    pub(super) entities: BTreeMap<Box<str>, NodeIndex>,
    relations: RelationIds,
}

fn search_text(entity: &Entity) -> Box<str> {
    let mut text = entity.id.clone();
    for name in std::iter::once(&entity.name).chain(&entity.aliases) {
        text.push('\n');
        text.push_str(&name.to_lowercase());
    }
    text.into_boxed_str()
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

    /// Gives back memory that growth left unused; called once a load is complete.
    pub fn shrink_to_fit(&mut self) {
        self.graph.shrink_to_fit();
        self.relations.arena.shrink_to_fit();
        self.relations.spans.shrink_to_fit();
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

    pub fn entity_count(&self) -> usize {
        self.entities.len()
    }

    pub fn relation_count(&self) -> usize {
        self.relations.len()
    }

    /// Adds an entity, or refreshes what the index keeps of it.
    pub fn upsert_entity(&mut self, entity: &Entity) {
        let data = NodeData {
            id: entity.id.as_str().into(),
            kind: entity.kind,
            search_text: search_text(entity),
        };
        match self.entities.get(entity.id.as_str()) {
            Some(&node) => self.graph[node] = data,
            None => {
                let node = self.graph.add_node(data);
                self.entities.insert(entity.id.as_str().into(), node);
            }
        }
    }

    /// Removes an entity and any relation still touching it.
    pub fn remove_entity(&mut self, id: &str) {
        if let Some(node) = self.entities.remove(id) {
            let touching: Vec<EdgeIndex> = self
                .graph
                .edges_directed(node, petgraph::Direction::Outgoing)
                .chain(
                    self.graph
                        .edges_directed(node, petgraph::Direction::Incoming),
                )
                .map(|e| e.id())
                .collect();
            for edge in touching {
                let id = self.relations.get(edge).to_owned();
                self.relations.remove(&id);
                self.graph.remove_edge(edge);
            }
            self.graph.remove_node(node);
        }
    }

    /// Adds a relation, or refreshes it; returns false if an end is not in the index.
    pub fn upsert_relation(&mut self, relation: &Relation, denied: bool) -> bool {
        let (Some(&from), Some(&to)) = (
            self.entities.get(relation.from.as_str()),
            self.entities.get(relation.to.as_str()),
        ) else {
            return false;
        };
        let data = EdgeData {
            kind: relation.kind,
            denied,
            span: relation.period.into(),
        };
        match self.relations.find(&relation.id) {
            Some(edge) => self.graph[edge] = data,
            None => self.insert_edge(&relation.id, from, to, data),
        }
        true
    }

    pub(super) fn insert_edge(&mut self, id: &str, from: NodeIndex, to: NodeIndex, data: EdgeData) {
        let edge = self.graph.add_edge(from, to, data);
        self.relations.insert(id, edge);
    }

    pub fn set_denied(&mut self, relation: &str, denied: bool) {
        if let Some(edge) = self.relations.find(relation) {
            self.graph[edge].denied = denied;
        }
    }

    pub fn remove_relation(&mut self, id: &str) {
        if let Some(edge) = self.relations.remove(id) {
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

    /// Entities in id order after `after`, of `kind` if given, whose id, name or alias contains
    /// `search` (case-insensitive). Yields at most `limit`.
    pub fn list_entities<'a>(
        &'a self,
        kind: Option<EntityKind>,
        search: Option<&'a str>,
        after: Option<&'a str>,
    ) -> impl Iterator<Item = &'a NodeData> + 'a {
        use std::ops::Bound;
        let lower = match after {
            Some(after) => Bound::Excluded(after),
            None => Bound::Unbounded,
        };
        self.entities
            .range::<str, _>((lower, Bound::Unbounded))
            .map(|(_, &node)| &self.graph[node])
            .filter(move |data| kind.is_none_or(|k| data.kind == k))
            .filter(move |data| search.is_none_or(|needle| data.matches(needle)))
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
