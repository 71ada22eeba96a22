use crate::model::{Direction, EntityKind, PartialDate, RelationKind};

use super::EdgeData;

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
