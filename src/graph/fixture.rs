//! One small graph, full of ties, built in several insertion orders, for the algorithms'
//! tests: the index lists a node's relations in an order that depends on how it was built, and
//! no answer may depend on that.

use std::fmt::Debug;

use petgraph::stable_graph::NodeIndex;

use crate::model::{
    Claim, Direction, Entity, EntityKind, Period, Relation, RelationKind, Stance, Timestamp,
};

use super::{Budget, BudgetLimits, EntityKindSet, GraphIndex, HopSpec, KindSet, Step};

pub(super) const ENTITIES: [(&str, EntityKind); 11] = [
    ("m1", EntityKind::Company),
    ("m2", EntityKind::Company),
    ("m3", EntityKind::Person),
    ("s", EntityKind::Company),
    ("t", EntityKind::Agency),
    ("u", EntityKind::Group),
    ("v", EntityKind::Company),
    ("w", EntityKind::Person),
    ("x", EntityKind::Company),
    ("y", EntityKind::Nonprofit),
    ("z", EntityKind::Agency),
];

/// Id, kind, from, to, denied. `s` and `t` are two relations apart four ways (two of them
/// through `m2`, by parallel relations), and three apart through `x`. What the claims of a few
/// of them say is in [`CLAIMANTS`].
const RELATIONS: [(&str, RelationKind, &str, &str, bool); 18] = [
    ("r01", RelationKind::Owns, "m3", "t", false),
    ("r02", RelationKind::Owns, "s", "x", false),
    ("r03", RelationKind::VendorTo, "m2", "s", false),
    ("r04", RelationKind::Owns, "x", "y", false),
    ("r05", RelationKind::Owns, "m1", "t", false),
    ("r06", RelationKind::VendorTo, "y", "t", false),
    ("r07", RelationKind::Owns, "s", "m1", false),
    ("r08", RelationKind::AssociatedWith, "m1", "x", false),
    ("r09", RelationKind::VendorTo, "t", "m2", false),
    ("r10", RelationKind::Owns, "t", "z", false),
    ("r11", RelationKind::Owns, "s", "m3", false),
    ("r12", RelationKind::Owns, "z", "w", false),
    ("r13", RelationKind::Owns, "s", "w", true),
    ("r14", RelationKind::AssociatedWith, "m2", "s", false),
    ("r15", RelationKind::Owns, "v", "s", false),
    ("r16", RelationKind::Owns, "u", "v", false),
    ("r17", RelationKind::Owns, "v", "m1", false),
    ("r18", RelationKind::Owns, "w", "u", false),
];

/// Relations with claims other than one claim in the source's own voice, so that they stand
/// differently: each claim's stance and claimant. Claims by an end confirm; a claim for and one
/// against dispute. The rest are reported (or denied, as [`RELATIONS`] says).
const CLAIMANTS: [(&str, Said); 4] = [
    ("r02", &[(Stance::Asserts, Some("s"))]),
    (
        "r03",
        &[(Stance::Asserts, None), (Stance::Denies, Some("m2"))],
    ),
    (
        "r07",
        &[(Stance::Asserts, Some("m1")), (Stance::Asserts, None)],
    ),
    (
        "r14",
        &[(Stance::Asserts, Some("w")), (Stance::Denies, None)],
    ),
];

/// Claims as their stance and claimant.
type Said = &'static [(Stance, Option<&'static str>)];

fn entity(id: &str, kind: EntityKind) -> Entity {
    Entity {
        id: id.into(),
        kind,
        name: id.to_uppercase(),
        aliases: vec![],
        description: None,
        country: None,
        category: None,
        identifiers: vec![],
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

pub(super) fn add_entity(index: &mut GraphIndex, id: &str) {
    let kind = ENTITIES
        .iter()
        .find(|(e, _)| *e == id)
        .map_or(EntityKind::Company, |(_, kind)| *kind);
    index.upsert_entity(&entity(id, kind));
}

pub(super) fn add_relation(
    index: &mut GraphIndex,
    (id, kind, from, to, denied): (&str, RelationKind, &str, &str, bool),
) {
    let relation = Relation {
        id: id.into(),
        kind,
        from: from.into(),
        to: to.into(),
        status: None,
        role: None,
        description: None,
        amount: None,
        period: Period::default(),
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    };
    let stance = if denied {
        Stance::Denies
    } else {
        Stance::Asserts
    };
    let own_voice = [(stance, None)];
    let said: &[(Stance, Option<&str>)] = CLAIMANTS
        .iter()
        .find(|c| c.0 == id)
        .map_or(&own_voice, |c| c.1);
    let claims: Vec<Claim> = said
        .iter()
        .enumerate()
        .map(|(n, &(stance, claimant))| Claim {
            id: format!("{id}.c{}", n + 1),
            relation: id.into(),
            source: "s".into(),
            stance,
            claimant: claimant.map(Into::into),
            quote: "q".into(),
            recorded_at: Timestamp(0),
        })
        .collect();
    index.upsert_source("s");
    assert!(
        index.upsert_relation(&relation, &claims),
        "{id}: both ends are in"
    );
}

fn relation(id: &str) -> (&'static str, RelationKind, &'static str, &'static str, bool) {
    RELATIONS
        .into_iter()
        .find(|r| r.0 == id)
        .unwrap_or_else(|| panic!("no relation {id}"))
}

/// Entities, then relations, each in id order: like a rebuild from the store.
fn in_id_order() -> GraphIndex {
    let mut index = GraphIndex::new();
    for (id, _) in ENTITIES {
        add_entity(&mut index, id);
    }
    for r in RELATIONS {
        add_relation(&mut index, r);
    }
    index
}

/// Everything backwards, with a temporary entity whose slots are reused (some of its relations
/// removed together out of their list's order, as a cascading delete does, before it goes),
/// relations deleted and added again, and an entity (so its relations) deleted and added again
/// in another order: like live mutations. With `compact_first`, the compact adjacency is built before the
/// deletions, so searches read it for some entities and the graph for the changed ones.
fn backwards_with_deletions(compact_first: bool) -> GraphIndex {
    let mut index = GraphIndex::new();
    add_entity(&mut index, "tmp");
    for (id, _) in ENTITIES.iter().rev() {
        add_entity(&mut index, id);
    }
    add_relation(&mut index, ("tmp-1", RelationKind::Owns, "tmp", "s", false));
    add_relation(&mut index, ("tmp-2", RelationKind::Owns, "t", "tmp", false));
    let spokes: Vec<String> = (3..20).map(|i| format!("tmp-{i}")).collect();
    for (i, id) in spokes.iter().enumerate() {
        let other = ENTITIES[i % ENTITIES.len()].0;
        let (from, to) = if i % 2 == 0 {
            ("tmp", other)
        } else {
            (other, "tmp")
        };
        add_relation(
            &mut index,
            (id, RelationKind::AssociatedWith, from, to, false),
        );
    }
    for r in RELATIONS.iter().rev() {
        add_relation(&mut index, *r);
    }
    if compact_first {
        index.rebuild_adjacency();
    }
    index.remove_relations(spokes.iter().step_by(2).map(String::as_str));
    index.remove_entity("tmp");
    index.remove_relations(["r07", "r05"]);
    add_relation(&mut index, relation("r05"));
    add_relation(&mut index, relation("r07"));
    index.remove_entity("m2");
    add_entity(&mut index, "m2");
    for id in ["r14", "r09", "r03"] {
        add_relation(&mut index, relation(id));
    }
    index
}

/// Each relation as soon as both its ends are in, entities in no particular order.
fn interleaved() -> GraphIndex {
    let mut index = GraphIndex::new();
    let order = ["w", "t", "s", "u", "z", "m1", "y", "x", "v", "m3", "m2"];
    let mut pending: Vec<_> = RELATIONS.iter().rev().copied().collect();
    pending.rotate_left(7);
    for (i, id) in order.iter().enumerate() {
        add_entity(&mut index, id);
        let present = &order[..=i];
        let (ready, rest): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|r| present.contains(&r.2) && present.contains(&r.3));
        for r in ready {
            add_relation(&mut index, r);
        }
        pending = rest;
    }
    assert!(pending.is_empty());
    index
}

/// The graph in every order, named; the last read back from a snapshot of the second.
pub(super) fn builds() -> Vec<(&'static str, GraphIndex)> {
    let mut snapshot = Vec::new();
    backwards_with_deletions(false)
        .write_snapshot(&mut snapshot, b"tag")
        .expect("a snapshot writes to memory");
    let from_snapshot = GraphIndex::read_snapshot(&mut std::io::Cursor::new(snapshot), b"tag")
        .expect("the snapshot reads back");
    vec![
        ("in id order", in_id_order()),
        ("backwards with deletions", backwards_with_deletions(false)),
        ("compact, then deletions", backwards_with_deletions(true)),
        ("interleaved", interleaved()),
        ("from a snapshot", from_snapshot),
    ]
}

/// `answer` for every build, checked to be the same; the answer.
pub(super) fn same_everywhere<T: Debug + PartialEq>(answer: impl Fn(&GraphIndex) -> T) -> T {
    let mut builds = builds().into_iter();
    let (first_name, first) = builds.next().expect("at least one build");
    let expected = answer(&first);
    for (name, index) in builds {
        assert_eq!(
            answer(&index),
            expected,
            "{name} answers as {first_name} does"
        );
    }
    expected
}

pub(super) fn node(index: &GraphIndex, id: &str) -> NodeIndex {
    index.node(id).unwrap_or_else(|| panic!("no entity {id}"))
}

pub(super) fn ids(index: &GraphIndex, nodes: &[NodeIndex]) -> Vec<String> {
    nodes
        .iter()
        .map(|&n| index.node_data(n).id.to_string())
        .collect()
}

/// A path as its relation ids.
pub(super) fn key(index: &GraphIndex, steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .map(|s| index.relation_id(s.edge).to_owned())
        .collect()
}

pub(super) fn budget(visits: u64) -> Budget {
    Budget::new(BudgetLimits {
        max_visits: visits,
        ..BudgetLimits::default()
    })
}

/// Budgets from too small for anything to plenty.
pub(super) const VISITS: [u64; 6] = [0, 3, 8, 20, 60, 1_000_000];

pub(super) fn hop(direction: Direction, min_repeat: u32, max_repeat: u32) -> HopSpec {
    HopSpec {
        kinds: KindSet::default(),
        direction,
        entity_kinds: EntityKindSet::default(),
        min_repeat,
        max_repeat,
    }
}

/// Patterns from the loosest to one with kinds and a hop that may cross nothing.
pub(super) fn patterns() -> Vec<Vec<HopSpec>> {
    vec![
        vec![hop(Direction::Any, 1, 3)],
        vec![hop(Direction::Out, 1, 2), hop(Direction::In, 1, 1)],
        vec![
            HopSpec {
                kinds: KindSet::of(&[RelationKind::Owns, RelationKind::VendorTo]),
                entity_kinds: EntityKindSet::of(&[EntityKind::Company, EntityKind::Agency]),
                ..hop(Direction::Any, 1, 2)
            },
            hop(Direction::Any, 0, 2),
        ],
    ]
}

#[test]
fn the_builds_list_relations_in_different_orders() {
    let builds = builds();
    let adjacency = |index: &GraphIndex| -> Vec<Vec<String>> {
        ENTITIES
            .iter()
            .map(|(id, _)| {
                index
                    .relations_of(id)
                    .iter()
                    .map(|r| r.to_string())
                    .collect()
            })
            .collect()
    };
    let first = adjacency(&builds[0].1);
    for (name, index) in &builds[1..] {
        assert_ne!(
            adjacency(index),
            first,
            "{name} lists relations as the first build does"
        );
        let mut sorted = adjacency(index);
        sorted.iter_mut().for_each(|r| r.sort());
        let mut expected = first.clone();
        expected.iter_mut().for_each(|r| r.sort());
        assert_eq!(sorted, expected, "{name} holds the same relations");
    }
}
