//! The store on its own: records round trip, loads roll back, versions are checked.

use crate::model::{
    Claim, Entity, EntityKind, Period, Relation, RelationKind, RelationWithClaims, Source, Stance,
    Status, Timestamp,
};

use super::{Op, Store, StoreError, SCHEMA_VERSION};

fn entity(id: &str) -> Entity {
    Entity {
        id: id.into(),
        kind: EntityKind::Company,
        name: id.to_uppercase(),
        aliases: vec![format!("{id} alias")],
        description: Some("described".into()),
        country: Some("US".into()),
        category: None,
        identifiers: vec![],
        created_at: Timestamp(1),
        updated_at: Timestamp(2),
    }
}

fn source() -> Source {
    Source {
        id: "a-source".into(),
        title: "A source".into(),
        publisher: Some("Publisher".into()),
        url: Some("https://example.org".into()),
        published: None,
        created_at: Timestamp(3),
    }
}

fn relation(id: &str, from: &str, to: &str, claims: u32) -> RelationWithClaims {
    RelationWithClaims {
        relation: Relation {
            id: id.into(),
            kind: RelationKind::VendorTo,
            from: from.into(),
            to: to.into(),
            status: Some(Status::Active),
            role: None,
            description: Some("sells".into()),
            amount: None,
            period: Period::default(),
            created_at: Timestamp(4),
            updated_at: Timestamp(5),
        },
        claims: (1..=claims)
            .map(|n| Claim {
                id: format!("{id}.c{n}"),
                relation: id.into(),
                source: "a-source".into(),
                stance: if n % 2 == 0 {
                    Stance::Denies
                } else {
                    Stance::Asserts
                },
                claimant: (n == 3).then(|| from.to_owned()),
                quote: format!("quote {n}"),
                recorded_at: Timestamp(6),
            })
            .collect(),
    }
}

fn put(record: RelationWithClaims) -> Op {
    let next_claim = record.claims.len() as u32 + 1;
    Op::PutRelation { record, next_claim }
}

fn seeded(dir: &std::path::Path) -> Store {
    let store = Store::open(dir).unwrap();
    store
        .commit(&[
            Op::PutSource(source()),
            Op::PutEntity(entity("acme")),
            Op::PutEntity(entity("agency")),
            put(relation("acme-vendor-to-agency", "acme", "agency", 11)),
        ])
        .unwrap();
    store
}

#[test]
fn records_round_trip_through_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded(dir.path()));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.entity("acme").unwrap(), Some(entity("acme")));
    assert_eq!(store.source("a-source").unwrap(), Some(source()));
    let expected = relation("acme-vendor-to-agency", "acme", "agency", 11);
    assert_eq!(
        store.relation("acme-vendor-to-agency").unwrap(),
        Some(expected.clone())
    );
    // In recorded order, c10 and c11 after c9, although they sort before c2 as text.
    assert_eq!(
        store.claim("acme-vendor-to-agency.c10").unwrap().as_ref(),
        Some(&expected.claims[9])
    );
    assert_eq!(store.claim("nothing.c1").unwrap(), None);
    assert_eq!(store.sequence().unwrap(), 1);
}

#[test]
fn a_deleted_relation_retires_its_claim_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    assert_eq!(
        store.first_claim_number("acme-vendor-to-agency").unwrap(),
        1
    );
    store
        .commit(&[Op::DeleteRelation("acme-vendor-to-agency".into())])
        .unwrap();
    assert_eq!(store.relation("acme-vendor-to-agency").unwrap(), None);
    assert_eq!(
        store.first_claim_number("acme-vendor-to-agency").unwrap(),
        12
    );
    assert_eq!(store.sequence().unwrap(), 2);
}

#[test]
fn an_interrupted_load_is_rolled_back_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    let before: Vec<_> = store.entities().map(Result::unwrap).collect();
    let mut load = store.begin_load().unwrap();
    assert!(!load.was_empty());
    let mut changed = entity("acme");
    changed.name = "Changed".into();
    load.write(&[Op::PutEntity(changed), Op::PutEntity(entity("new"))])
        .unwrap();
    load.write(&[Op::DeleteRelation("acme-vendor-to-agency".into())])
        .unwrap();
    // A crash: the load never finishes and nothing runs its rollback.
    std::mem::forget(load);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.entities().map(Result::unwrap).collect::<Vec<_>>(),
        before
    );
    assert!(store.relation("acme-vendor-to-agency").unwrap().is_some());
    assert_eq!(
        store.first_claim_number("acme-vendor-to-agency").unwrap(),
        1
    );
    assert_eq!(store.sequence().unwrap(), 1);
}

#[test]
fn an_interrupted_load_into_an_empty_store_leaves_it_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut load = store.begin_load().unwrap();
    assert!(load.was_empty());
    load.write(&[Op::PutEntity(entity("acme"))]).unwrap();
    std::mem::forget(load);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.is_empty());
}

#[test]
fn a_finished_load_is_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    let mut load = store.begin_load().unwrap();
    load.write(&[Op::PutEntity(entity("b"))]).unwrap();
    load.write(&[Op::PutEntity(entity("c"))]).unwrap();
    assert_eq!(load.finish().unwrap(), 2);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.entities().count(), 4);
    // A load dropped unfinished (a failed write) is rolled back at once.
    let mut load = store.begin_load().unwrap();
    load.write(&[Op::DeleteEntity("b".into())]).unwrap();
    drop(load);
    assert!(store.entity("b").unwrap().is_some());
}

#[test]
fn a_store_of_another_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", &99u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    match Store::open(dir.path()) {
        Err(StoreError::SchemaVersion {
            found: 99,
            expected,
        }) => {
            assert_eq!(expected, SCHEMA_VERSION)
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a store of schema version 99 was opened"),
    }
}

#[test]
fn a_store_behind_its_identity_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    store.commit(&[Op::PutEntity(entity("later"))]).unwrap();
    store.seal().unwrap();
    drop(store);
    // The identity file of a later state, beside records of an earlier one.
    let identity = std::fs::read(dir.path().join("tiegraph.id")).unwrap();
    let text = String::from_utf8(identity)
        .unwrap()
        .replace("\"sequence\": 2", "\"sequence\": 9");
    std::fs::write(dir.path().join("tiegraph.id"), text).unwrap();
    match Store::open(dir.path()) {
        Err(StoreError::Damaged { problem, .. }) => assert!(problem.contains("lost commits")),
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a store that lost commits was opened"),
    }
}
