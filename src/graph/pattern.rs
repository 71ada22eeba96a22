//! A path pattern compiled into a small automaton over sets of positions, which both the
//! frontier search (`connected`) and the path search (`paths`) run. A position is "`reps`
//! relations into hop `hop`"; a set of them fits in a `u64`. Carrying the whole set along a path
//! (rather than trying one position at a time) is what makes each distinct path come out once,
//! however a hop's repeat range could split it, and in relation-id order.

use crate::model::{Direction, EntityKind, RelationKind};

use super::HopSpec;

/// A set of positions, one bit each.
pub(super) type Positions = u64;

/// The positions in a set, in increasing order.
pub(super) fn each(positions: Positions) -> impl Iterator<Item = usize> {
    let mut pending = positions;
    std::iter::from_fn(move || {
        (pending != 0).then(|| {
            let position = pending.trailing_zeros() as usize;
            pending &= pending - 1;
            position
        })
    })
}

/// The most positions a pattern may have: hops plus the relations they may cross.
pub const MAX_POSITIONS: usize = 64;

pub(super) struct Automaton<'a> {
    hops: &'a [HopSpec],
    /// The position of hop `h` after `reps` relations is `first[h] + reps`.
    first: Vec<usize>,
    /// Each position's hop and repeats.
    positions: Vec<(usize, u32)>,
    /// Positions where the last hop may end.
    last: Positions,
}

impl<'a> Automaton<'a> {
    /// None when the pattern has more than [`MAX_POSITIONS`] positions.
    pub(super) fn new(hops: &'a [HopSpec]) -> Option<Self> {
        let mut first = Vec::with_capacity(hops.len());
        let mut positions = Vec::new();
        for (h, hop) in hops.iter().enumerate() {
            first.push(positions.len());
            positions.extend((0..=hop.max_repeat).map(|reps| (h, reps)));
            if positions.len() > MAX_POSITIONS {
                return None;
            }
        }
        let last = match hops.last() {
            Some(hop) => (hop.min_repeat..=hop.max_repeat)
                .map(|reps| 1 << (first[hops.len() - 1] + reps as usize))
                .fold(0, |bits, bit| bits | bit),
            None => 0,
        };
        Some(Automaton {
            hops,
            first,
            positions,
            last,
        })
    }

    pub(super) fn len(&self) -> usize {
        self.positions.len()
    }

    /// Where a search starting at an entity of `kind` stands.
    pub(super) fn start(&self, kind: EntityKind) -> Positions {
        self.close(1, kind)
    }

    /// Adds the positions reachable from `positions` without crossing a relation: where a hop
    /// may end on an entity of `kind`, the next hop may begin.
    pub(super) fn close(&self, mut positions: Positions, kind: EntityKind) -> Positions {
        let mut pending = positions;
        while pending != 0 {
            let position = pending.trailing_zeros() as usize;
            pending &= pending - 1;
            let (h, reps) = self.positions[position];
            let hop = &self.hops[h];
            if h + 1 < self.hops.len() && reps >= hop.min_repeat && hop.entity_kinds.admits(kind) {
                // The next hop's first position is always later, so the loop reaches it.
                let next = 1 << self.first[h + 1];
                if positions & next == 0 {
                    positions |= next;
                    pending |= next;
                }
            }
        }
        positions
    }

    /// Whether a path standing at `positions` on an entity of `kind` matches the whole pattern.
    pub(super) fn accepts(&self, positions: Positions, kind: EntityKind) -> bool {
        positions & self.last != 0
            && self
                .hops
                .last()
                .is_some_and(|hop| hop.entity_kinds.admits(kind))
    }

    /// The positions after crossing a relation of `kind` in `direction`, before closing them
    /// at its far end.
    pub(super) fn cross(
        &self,
        positions: Positions,
        kind: RelationKind,
        direction: Direction,
    ) -> Positions {
        let mut crossed = 0;
        for position in each(positions) {
            let (h, reps) = self.positions[position];
            let hop = &self.hops[h];
            if reps < hop.max_repeat
                && hop.kinds.admits(kind)
                && (hop.direction == Direction::Any || hop.direction == direction)
            {
                crossed |= 1 << (position + 1);
            }
        }
        crossed
    }

    /// The directions a relation may be crossed in from `positions`.
    pub(super) fn directions(&self, positions: Positions) -> Option<Direction> {
        let (mut out, mut inward) = (false, false);
        for position in each(positions) {
            let (h, reps) = self.positions[position];
            let hop = &self.hops[h];
            if reps < hop.max_repeat {
                out |= hop.direction != Direction::In;
                inward |= hop.direction != Direction::Out;
            }
        }
        match (out, inward) {
            (true, true) => Some(Direction::Any),
            (true, false) => Some(Direction::Out),
            (false, true) => Some(Direction::In),
            (false, false) => None,
        }
    }

    /// For a search run backwards: the positions a crossing into `position` came from (at most
    /// one: the same hop, one repeat fewer) and the hop it crossed.
    pub(super) fn crossed_into(&self, position: usize) -> Option<(usize, &HopSpec)> {
        let (h, reps) = self.positions[position];
        (reps > 0).then(|| (position - 1, &self.hops[h]))
    }

    /// For a search run backwards: the positions that lead to `position` without crossing a
    /// relation, on an entity of `kind`.
    pub(super) fn closed_into(&self, position: usize, kind: EntityKind) -> Positions {
        let (h, reps) = self.positions[position];
        if reps != 0 || h == 0 {
            return 0;
        }
        let before = &self.hops[h - 1];
        if !before.entity_kinds.admits(kind) {
            return 0;
        }
        (before.min_repeat..=before.max_repeat)
            .map(|reps| 1 << (self.first[h - 1] + reps as usize))
            .fold(0, |bits, bit| bits | bit)
    }

    /// The fewest and most relations a matching path crosses.
    pub(super) fn lengths(&self) -> (usize, usize) {
        let least: u32 = self.hops.iter().map(|h| h.min_repeat).sum();
        let most: u32 = self.hops.iter().map(|h| h.max_repeat).sum();
        ((least as usize).max(1), most as usize)
    }

    /// Positions where the last hop may end.
    pub(super) fn last(&self) -> Positions {
        self.last
    }
}

/// The opposite direction, for walking a pattern backwards.
pub(super) fn reverse(direction: Direction) -> Direction {
    match direction {
        Direction::Out => Direction::In,
        Direction::In => Direction::Out,
        Direction::Any => Direction::Any,
    }
}
