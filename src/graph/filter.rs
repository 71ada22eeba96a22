use petgraph::stable_graph::EdgeIndex;

use crate::model::{DaySpan, Direction, EntityKind, PartialDate, RelationKind, Standing, Status};

use super::{EdgeData, GraphIndex};

/// A set of relation kinds as a bitmask; empty means every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KindSet(u16);

impl KindSet {
    pub fn of(kinds: &[RelationKind]) -> Self {
        KindSet(kinds.iter().fold(0, |bits, k| bits | k.bit()))
    }

    #[inline]
    pub fn admits(self, kind: RelationKind) -> bool {
        self.0 == 0 || self.0 & kind.bit() != 0
    }
}

/// A set of entity kinds as a bitmask; empty means every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EntityKindSet(u8);

impl EntityKindSet {
    pub fn of(kinds: &[EntityKind]) -> Self {
        EntityKindSet(kinds.iter().fold(0, |bits, k| bits | (1 << (*k as u8))))
    }

    #[inline]
    pub fn admits(self, kind: EntityKind) -> bool {
        self.0 == 0 || self.0 & (1 << (kind as u8)) != 0
    }
}

/// Which relations a search may follow at all, whatever the hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EdgeFilter {
    pub kinds: KindSet,
    /// Follow relations whose every claim denies them.
    pub include_denied: bool,
    /// Follow only relations that may have held on this day.
    pub as_of: Option<PartialDate>,
}

impl EdgeFilter {
    #[inline]
    pub fn admits(&self, edge: &EdgeData) -> bool {
        self.kinds.admits(edge.kind)
            && (self.include_denied || !edge.denied)
            && self.as_of.is_none_or(|day| edge.span.may_hold_on(&day))
    }
}

/// Which of an entity's relations a list keeps: an [`EdgeFilter`], and the statuses,
/// standings and a period the relations may have held in. Empty sets admit everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelationQuery {
    pub edges: EdgeFilter,
    statuses: u16,
    standings: u8,
    during: Option<DaySpan>,
}

impl RelationQuery {
    pub fn new(edges: EdgeFilter) -> Self {
        RelationQuery {
            edges,
            ..RelationQuery::default()
        }
    }

    /// Only relations with one of these statuses (a relation with none has none of them).
    pub fn statuses(mut self, statuses: &[Status]) -> Self {
        self.statuses = statuses.iter().fold(0, |bits, s| bits | 1 << (*s as u16));
        self
    }

    /// Only relations of these standings. Asking for `DENIED` admits denied relations.
    pub fn standings(mut self, standings: &[Standing]) -> Self {
        self.standings = standings.iter().fold(0, |bits, s| bits | 1 << (*s as u8));
        if standings.contains(&Standing::Denied) {
            self.edges.include_denied = true;
        }
        self
    }

    /// Only relations that may have held at some time in `span`.
    pub fn during(mut self, span: Option<DaySpan>) -> Self {
        self.during = span;
        self
    }

    pub fn admits(&self, index: &GraphIndex, edge: EdgeIndex) -> bool {
        let data = index.edge_data(edge);
        self.edges.admits(data)
            && (self.statuses == 0
                || data
                    .status
                    .is_some_and(|s| self.statuses & 1 << (s as u16) != 0))
            && self
                .during
                .is_none_or(|span| data.span.from <= span.until && span.from <= data.span.until)
            && (self.standings == 0 || self.standings & 1 << (index.standing(edge) as u8) != 0)
    }
}

/// One hop of a path pattern: like Cypher's `-[:KINDS*min..max]->(:ENTITY_KINDS)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HopSpec {
    pub kinds: KindSet,
    pub direction: Direction,
    /// The kinds the entity at the end of the hop may be; entities passed on the way are free.
    pub entity_kinds: EntityKindSet,
    pub min_repeat: u32,
    pub max_repeat: u32,
}
