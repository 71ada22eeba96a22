use tiegraph::model::{
    Claim, Entity, EntityKind, Period, Relation, RelationKind, Source, Stance, Status, Timestamp,
};
use tiegraph::service::{Limits, Service};
use tiegraph::store::{Op, Store, StoreError, WriteBatch, SCHEMA_VERSION};

use crate::util::{dump, seeded_service};

fn records() -> (Vec<Entity>, Source, Relation, Vec<Claim>) {
    let entity = |id: &str, kind| Entity {
        id: id.into(),
        kind,
        name: id.to_uppercase(),
        aliases: vec![format!("{id} alias")],
        description: Some("described".into()),
        country: Some("US".into()),
        category: None,
        identifiers: vec![],
        created_at: Timestamp(1),
        updated_at: Timestamp(2),
    };
    let source = Source {
        id: "a-source".into(),
        title: "A source".into(),
        publisher: Some("Publisher".into()),
        url: Some("https://example.org".into()),
        published: None,
        created_at: Timestamp(3),
    };
    let relation = Relation {
        id: "acme-vendor-to-agency".into(),
        kind: RelationKind::VendorTo,
        from: "acme".into(),
        to: "agency".into(),
        status: Some(Status::Active),
        role: None,
        description: None,
        amount: None,
        period: Period::default(),
        created_at: Timestamp(4),
        updated_at: Timestamp(4),
    };
    let claim = |n: u32, stance| Claim {
        id: format!("acme-vendor-to-agency.c{n}"),
        relation: relation.id.clone(),
        source: source.id.clone(),
        stance,
        claimant: Some("acme".into()),
        quote: format!("quote {n}"),
        recorded_at: Timestamp(5),
    };
    let claims = (1..=11)
        .map(|n| {
            claim(
                n,
                if n % 2 == 0 {
                    Stance::Denies
                } else {
                    Stance::Asserts
                },
            )
        })
        .collect();
    (
        vec![
            entity("acme", EntityKind::Company),
            entity("agency", EntityKind::Agency),
        ],
        source,
        relation,
        claims,
    )
}

#[test]
fn reopening_gives_back_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let (entities, source, relation, claims) = records();
    {
        let store = Store::open(dir.path()).unwrap();
        let mut batch = WriteBatch::default();
        batch.push(Op::PutSource(source.clone()));
        entities
            .iter()
            .cloned()
            .for_each(|e| batch.push(Op::PutEntity(e)));
        batch.push(Op::PutRelation(relation.clone()));
        claims
            .iter()
            .cloned()
            .for_each(|c| batch.push(Op::PutClaim(c)));
        store.commit(&batch).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.entity("acme").unwrap().as_ref(), Some(&entities[0]));
    assert_eq!(
        store.entities().collect::<Result<Vec<_>, _>>().unwrap(),
        entities
    );
    assert_eq!(store.source("a-source").unwrap(), Some(source));
    assert_eq!(
        store.relation(&relation.id).unwrap(),
        Some(relation.clone())
    );
    // In recorded order, c10 and c11 after c9, although they sort before c2 as text.
    assert_eq!(store.claims_of(&relation.id).unwrap(), claims);
    assert_eq!(
        store.claim("acme-vendor-to-agency.c10").unwrap().as_ref(),
        Some(&claims[9])
    );
    assert_eq!(store.claim("nothing.c1").unwrap(), None);
    assert_eq!(store.citing_claims("a-source").unwrap().len(), 11);
    assert_eq!(store.schema_version().unwrap(), Some(SCHEMA_VERSION));

    let mut batch = WriteBatch::default();
    batch.push(Op::DeleteClaim(claims[0].clone()));
    batch.push(Op::DeleteEntity("agency".into()));
    store.commit(&batch).unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.entity("agency").unwrap(), None);
    assert_eq!(store.claims_of(&relation.id).unwrap().len(), 10);
    assert_eq!(store.citing_claims("a-source").unwrap().len(), 10);
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
        }) => assert_eq!(expected, SCHEMA_VERSION),
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a store of schema version 99 was opened"),
    }
}

#[test]
fn the_seed_survives_a_reopen_and_a_dump_round_trip() {
    let (service, dir) = seeded_service();
    let before = dump(&service);
    assert_eq!(service.entity_count(), 11);
    let topology = service.topology();
    drop(service);
    let reopened = Service::open(dir.path(), Limits::default()).unwrap();
    assert_eq!(dump(&reopened), before);
    assert_eq!(reopened.topology(), topology);

    // Load the dump into an empty store and dump again: the same graph.
    let other = tempfile::tempdir().unwrap();
    let copy = Service::open(other.path(), Limits::default()).unwrap();
    let items = tiegraph::formats::jsonl::read(before.as_bytes(), "dump").unwrap();
    copy.import(items, &|_| {}).unwrap();
    assert_eq!(dump(&copy), before);
    assert_eq!(copy.topology(), topology);
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let (service, _dir) = seeded_service();
    let before = dump(&service);
    let summaries = tiegraph::formats::seed::load_dir(&service, crate::util::seed_dir()).unwrap();
    for (_, summary) in summaries {
        assert_eq!(
            summary.entities_created + summary.relations_created + summary.claims_added,
            0
        );
        assert_eq!(
            summary.entities_updated + summary.relations_updated + summary.sources_updated,
            0
        );
    }
    assert_eq!(dump(&service), before);
}

#[test]
fn a_bad_record_anywhere_means_nothing_is_imported() {
    let (service, _dir) = seeded_service();
    let before = dump(&service);
    let file = r#"{"type":"entity","id":"new-co","kind":"COMPANY","name":"New Co"}
# a comment line
{"type":"relation","kind":"VENDOR_TO","from":"new-co","to":"cbp","claims":[{"source":"raices-declines-salesforce-donation","quote":"q"}]}
{"type":"relation","kind":"VENDOR_TO","from":"new-co","to":"nobody","claims":[{"source":"raices-declines-salesforce-donation","quote":"q"}]}
"#;
    let items = tiegraph::formats::jsonl::read(file.as_bytes(), "bad.jsonl").unwrap();
    let error = service.import(items, &|_| {}).unwrap_err().to_string();
    assert!(
        error.starts_with("line 4:") && error.contains("nobody"),
        "{error}"
    );
    assert_eq!(dump(&service), before);

    let unparsable =
        "{\"type\":\"entity\",\"kind\":\"COMPANY\",\"name\":\"x\",\"nmae\":\"typo\"}\n";
    let error = tiegraph::formats::jsonl::read(unparsable.as_bytes(), "typo.jsonl")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("typo.jsonl:1:") && error.contains("nmae"),
        "{error}"
    );
}

#[test]
fn a_clean_shutdown_saves_the_index_and_a_later_write_makes_it_stale() {
    let (service, dir) = seeded_service();
    let topology = service.topology();
    service.flush().unwrap();
    drop(service);
    assert!(dir.path().join("index.snapshot").exists());
    let reopened = Service::open(dir.path(), Limits::default()).unwrap();
    assert_eq!(reopened.topology(), topology);
    // A write after the snapshot, then a crash (no flush): the snapshot is stale and unused.
    let draft = tiegraph::model::EntityDraft {
        id: Some("late".into()),
        kind: EntityKind::Company,
        name: "Late".into(),
        aliases: vec![],
        description: None,
        country: None,
        category: None,
        identifiers: vec![],
    };
    reopened.create_entity(draft).unwrap();
    drop(reopened);
    let rebuilt = Service::open(dir.path(), Limits::default()).unwrap();
    assert!(rebuilt
        .topology()
        .entities
        .iter()
        .any(|(id, _)| id == "late"));
    assert_eq!(rebuilt.entity_count(), 12);
}

fn seed_stream() -> impl FnMut() -> tiegraph::service::Result<
    std::vec::IntoIter<tiegraph::service::Result<(usize, tiegraph::service::ImportItem)>>,
> {
    || {
        let path = crate::util::seed_dir().join("raices-salesforce.jsonl");
        let text = std::fs::read_to_string(path).unwrap();
        let items: Vec<_> = tiegraph::formats::jsonl::stream(text.as_bytes(), "seed".into())
            .map(|r| {
                r.map_err(|e| tiegraph::service::ServiceError::BadRecord {
                    line: None,
                    message: e.to_string(),
                })
            })
            .collect();
        Ok(items.into_iter())
    }
}

#[test]
fn a_bulk_load_gives_the_same_graph_as_an_import() {
    let (imported, _dir) = seeded_service();
    let dir = tempfile::tempdir().unwrap();
    let service = Service::open(dir.path(), Limits::default()).unwrap();
    let summary = service.bulk_load(seed_stream(), &|_, _| {}).unwrap();
    assert_eq!(
        (
            summary.entities_created,
            summary.relations_created,
            summary.claims_added
        ),
        (11, 16, 22)
    );
    assert_eq!(service.topology(), imported.topology());
    assert_eq!(dump(&service), dump(&imported));
    drop(service);
    let reopened = Service::open(dir.path(), Limits::default()).unwrap();
    assert_eq!(reopened.topology(), imported.topology());
    // A bulk load needs an empty store.
    assert!(reopened.bulk_load(seed_stream(), &|_, _| {}).is_err());
}

#[test]
fn a_bulk_load_with_a_bad_record_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::open(dir.path(), Limits::default()).unwrap();
    let file = "{\"type\":\"entity\",\"id\":\"a\",\"kind\":\"COMPANY\",\"name\":\"A\"}\n\
                {\"type\":\"relation\",\"kind\":\"OWNS\",\"from\":\"a\",\"to\":\"b\",\"claims\":[{\"source\":\"s\",\"quote\":\"q\"}]}\n\
                {\"type\":\"source\",\"id\":\"s\",\"title\":\"S\"}\n";
    let open = || -> tiegraph::service::Result<_> {
        let items: Vec<_> = tiegraph::formats::jsonl::stream(file.as_bytes(), "bad".into())
            .map(|r| {
                r.map_err(|e| tiegraph::service::ServiceError::BadRecord {
                    line: None,
                    message: e.to_string(),
                })
            })
            .collect();
        Ok(items.into_iter())
    };
    let error = service.bulk_load(open, &|_, _| {}).unwrap_err().to_string();
    assert!(error.contains("line 2") && error.contains("`b`"), "{error}");
    assert!(service.store().is_empty());
    drop(service);
    assert!(Service::open(dir.path(), Limits::default()).is_ok());
}

#[test]
fn an_interrupted_bulk_load_is_refused_on_open() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path())
        .unwrap()
        .mark_bulk_load(true)
        .unwrap();
    assert!(matches!(
        Store::open(dir.path()),
        Err(StoreError::InterruptedLoad)
    ));
}
