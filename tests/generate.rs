//! The generator against the real import path: what it writes must load into a fresh sled
//! store unchanged, with every kind of entity and relation and every standing present.

use std::collections::HashSet;

use tiegraph::formats::generate::{generate, GenerateConfig};
use tiegraph::formats::jsonl::{self, Record};
use tiegraph::model::{EntityKind, RelationKind, Standing};
use tiegraph::service::{Limits, Service};

fn generated(config: &GenerateConfig) -> Vec<u8> {
    let mut out = Vec::new();
    generate(config, &mut out, &mut |_| {}).expect("generation writes to memory");
    out
}

#[test]
fn same_seed_gives_the_same_bytes() {
    let config = GenerateConfig {
        entities: 500,
        relations: 3_000,
        seed: 42,
    };
    assert_eq!(generated(&config), generated(&config));
    assert_ne!(
        generated(&config),
        generated(&GenerateConfig { seed: 43, ..config })
    );
}

#[test]
fn every_kind_appears() {
    let out = generated(&GenerateConfig {
        entities: 400,
        relations: 3_000,
        seed: 5,
    });
    let (mut entity_kinds, mut relation_kinds) = (HashSet::new(), HashSet::new());
    for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<Record>(line).expect("every line is a record") {
            Record::Entity(e) => {
                entity_kinds.insert(e.kind);
            }
            Record::Relation(r) => {
                assert_ne!(r.from, r.to, "no self loops");
                assert!(!r.claims.is_empty(), "every relation has a claim");
                relation_kinds.insert(r.kind);
            }
            Record::Source(_) => {}
        }
    }
    assert_eq!(entity_kinds, EntityKind::ALL.into_iter().collect());
    assert_eq!(relation_kinds, RelationKind::ALL.into_iter().collect());
}

#[test]
fn the_output_imports_cleanly_into_a_fresh_store() {
    let config = GenerateConfig {
        entities: 300,
        relations: 2_000,
        seed: 9,
    };
    let out = generated(&config);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let service = Service::open(dir.path(), Limits::default()).expect("a fresh store opens");
    let items = jsonl::read(&out[..], "generated").expect("the output parses");
    let summary = service
        .import(items, &|_, _| {})
        .expect("the output imports");
    assert_eq!(summary.entities_created, 300);
    assert_eq!(summary.relations_created, 2_000);
    assert_eq!(service.entity_count(), 300);
    assert_eq!(service.relation_count(), 2_000);

    let mut standings = HashSet::new();
    for r in 0..2_000 {
        let relation = service
            .relation(&format!("r{r}"))
            .expect("reads work")
            .expect("every relation landed");
        standings.insert(service.standing(&relation.relation, &relation.claims));
    }
    for standing in [
        Standing::Confirmed,
        Standing::Reported,
        Standing::Disputed,
        Standing::Denied,
    ] {
        assert!(standings.contains(&standing), "no relation is {standing:?}");
    }
}
