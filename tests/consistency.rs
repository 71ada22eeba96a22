use proptest::prelude::*;

use tiegraph::model::{
    ClaimDraft, EntityDraft, EntityKind, EntityPatch, RelationDraft, RelationKind, SourceDraft,
    Stance,
};
use tiegraph::service::{Limits, Service};

use crate::util::dump;

#[derive(Debug, Clone)]
enum Write {
    CreateEntity(u8, EntityKind),
    CreateRelation {
        from: u8,
        to: u8,
        kind: RelationKind,
        denied: bool,
    },
    AddClaim(usize, Stance),
    DeleteClaim(usize),
    DeleteRelation(usize),
    DeleteEntity(u8, bool),
    ChangeKind(u8, EntityKind),
    Merge(u8, u8),
    Unmerge(u8),
}

fn entity_kind() -> impl Strategy<Value = EntityKind> {
    prop::sample::select(EntityKind::ALL.to_vec())
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        3 => (0u8..6, entity_kind()).prop_map(|(i, k)| Write::CreateEntity(i, k)),
        4 => (0u8..6, 0u8..6, prop::sample::select(RelationKind::ALL.to_vec()), any::<bool>())
            .prop_map(|(from, to, kind, denied)| Write::CreateRelation { from, to, kind, denied }),
        2 => (0usize..8, prop_oneof![Just(Stance::Asserts), Just(Stance::Denies)]).prop_map(|(r, s)| Write::AddClaim(r, s)),
        1 => (0usize..8).prop_map(Write::DeleteClaim),
        1 => (0usize..8).prop_map(Write::DeleteRelation),
        1 => (0u8..6, any::<bool>()).prop_map(|(i, c)| Write::DeleteEntity(i, c)),
        1 => (0u8..6, entity_kind()).prop_map(|(i, k)| Write::ChangeKind(i, k)),
        1 => (0u8..6, 0u8..6).prop_map(|(into, from)| Write::Merge(into, from)),
        1 => (0u8..6).prop_map(Write::Unmerge),
    ]
}

fn name(i: u8) -> String {
    format!("e{i}")
}

fn claim(stance: Stance, claimant: Option<String>) -> ClaimDraft {
    ClaimDraft {
        source: "src".into(),
        stance,
        claimant,
        quote: "said so".into(),
    }
}

/// Applies one write; a refused write must leave the graph exactly as it was.
fn apply(service: &Service, write: &Write, relations: &mut Vec<String>) {
    let before = dump(service);
    let pick =
        |relations: &Vec<String>, i: usize| relations.get(i % relations.len().max(1)).cloned();
    let outcome = match write {
        Write::CreateEntity(i, kind) => service
            .create_entity(EntityDraft {
                id: Some(name(*i)),
                kind: *kind,
                name: name(*i),
                aliases: vec![],
                description: None,
                country: None,
                category: None,
                identifiers: vec![],
            })
            .map(drop),
        Write::CreateRelation {
            from,
            to,
            kind,
            denied,
        } => {
            let stance = if *denied {
                Stance::Denies
            } else {
                Stance::Asserts
            };
            service
                .create_relation(RelationDraft {
                    id: None,
                    kind: *kind,
                    from: name(*from),
                    to: name(*to),
                    status: None,
                    role: None,
                    description: None,
                    amount: None,
                    start: None,
                    end: None,
                    claims: vec![claim(stance, Some(name(*from)))],
                })
                .map(|record| relations.push(record.relation.id))
        }
        Write::AddClaim(r, stance) => match pick(relations, *r) {
            Some(id) => service.add_claim(&id, claim(*stance, None)).map(drop),
            None => return,
        },
        Write::DeleteClaim(r) => match pick(relations, *r) {
            Some(id) => service.delete_claim(&format!("{id}.c1")).map(drop),
            None => return,
        },
        Write::DeleteRelation(r) => match pick(relations, *r) {
            Some(id) => service.delete_relation(&id).map(drop),
            None => return,
        },
        Write::DeleteEntity(i, cascade) => service.delete_entity(&name(*i), *cascade).map(drop),
        Write::ChangeKind(i, kind) => service
            .update_entity(
                &name(*i),
                EntityPatch {
                    kind: Some(*kind),
                    ..EntityPatch::default()
                },
            )
            .map(drop),
        Write::Merge(into, from) => service.merge_entities(&name(*into), &name(*from)).map(drop),
        Write::Unmerge(from) => service.unmerge(&name(*from)).map(drop),
    };
    if outcome.is_err() {
        assert_eq!(
            dump(service),
            before,
            "a refused {write:?} changed the graph"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_index_always_agrees_with_the_store(writes in prop::collection::vec(write(), 1..25)) {
        let dir = tempfile::tempdir().unwrap();
        let service = Service::open(dir.path(), Limits::default()).unwrap();
        service.create_source(SourceDraft { id: Some("src".into()), title: "Source".into(), ..SourceDraft::default() }).unwrap();
        let mut relations = Vec::new();
        for write in &writes {
            apply(&service, write, &mut relations);
        }
        let live = service.topology();
        // No relation points at a missing entity.
        for (id, _, from, to, _) in &live.relations {
            prop_assert!(live.entities.iter().any(|(e, _)| e == from), "{id} dangles at {from}");
            prop_assert!(live.entities.iter().any(|(e, _)| e == to), "{id} dangles at {to}");
        }
        drop(service);
        let rebuilt = Service::open(dir.path(), Limits::default()).unwrap();
        prop_assert_eq!(rebuilt.topology(), live);
    }
}
