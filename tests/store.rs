use tiegraph::model::EntityKind;
use tiegraph::service::{Limits, Service};

use crate::util::{dump, seeded_service};

#[test]
fn the_seed_survives_a_reopen_and_a_dump_round_trip() {
    let (service, dir) = seeded_service();
    let before = dump(&service);
    assert_eq!(service.entity_count(), 12);
    let topology = service.topology();
    drop(service);
    let reopened = Service::open(dir.path(), Limits::default()).unwrap();
    assert_eq!(dump(&reopened), before);
    assert_eq!(reopened.topology(), topology);

    // Load the dump into an empty store and dump again: the same graph.
    let other = tempfile::tempdir().unwrap();
    let copy = Service::open(other.path(), Limits::default()).unwrap();
    let items = tiegraph::formats::jsonl::read(before.as_bytes(), "dump").unwrap();
    copy.import(items, &|_, _| {}).unwrap();
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
    let error = service.import(items, &|_, _| {}).unwrap_err().to_string();
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
    assert_eq!(rebuilt.entity_count(), 13);
}

fn seed_stream() -> impl FnMut() -> tiegraph::service::Result<
    std::vec::IntoIter<tiegraph::service::Result<(usize, tiegraph::service::ImportItem)>>,
> {
    || {
        let path = crate::util::seed_dir().join("raices-salesforce.jsonl");
        let text = std::fs::read_to_string(path).unwrap();
        let items: Vec<_> =
            tiegraph::formats::jsonl::import_items(text.as_bytes(), "seed".into()).collect();
        Ok(items.into_iter())
    }
}

#[test]
fn a_bulk_load_gives_the_same_graph_as_an_import() {
    let (imported, _dir) = seeded_service();
    let dir = tempfile::tempdir().unwrap();
    let service = Service::open(dir.path(), Limits::default()).unwrap();
    let summary = service.import_stream(seed_stream(), &|_, _| {}).unwrap();
    assert_eq!(
        (
            summary.entities_created,
            summary.relations_created,
            summary.claims_added
        ),
        (12, 17, 24)
    );
    assert_eq!(service.topology(), imported.topology());
    assert_eq!(dump(&service), dump(&imported));
    drop(service);
    let reopened = Service::open(dir.path(), Limits::default()).unwrap();
    assert_eq!(reopened.topology(), imported.topology());
    // Streamed again into the now full store: nothing changes.
    let again = reopened.import_stream(seed_stream(), &|_, _| {}).unwrap();
    assert_eq!(again.unchanged, 12 + 17 + 1);
    assert_eq!(dump(&reopened), dump(&imported));
}

#[test]
fn a_bulk_load_with_a_bad_record_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::open(dir.path(), Limits::default()).unwrap();
    let file = "{\"type\":\"entity\",\"id\":\"a\",\"kind\":\"COMPANY\",\"name\":\"A\"}\n\
                {\"type\":\"relation\",\"kind\":\"OWNS\",\"from\":\"a\",\"to\":\"b\",\"claims\":[{\"source\":\"s\",\"quote\":\"q\"}]}\n\
                {\"type\":\"source\",\"id\":\"s\",\"title\":\"S\"}\n";
    let open = || -> tiegraph::service::Result<_> {
        let items: Vec<_> =
            tiegraph::formats::jsonl::import_items(file.as_bytes(), "bad".into()).collect();
        Ok(items.into_iter())
    };
    let error = service
        .import_stream(open, &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(error.contains("line 2") && error.contains("`b`"), "{error}");
    assert!(service.is_empty());
    drop(service);
    assert!(Service::open(dir.path(), Limits::default()).is_ok());
}

#[test]
fn every_seed_quote_is_verbatim_in_its_source_document() {
    let document = std::fs::read_to_string(
        crate::util::seed_dir().join("sources/raices-declines-salesforce-donation.txt"),
    )
    .unwrap();
    let (service, _dir) = seeded_service();
    let mut quotes = 0;
    for relation in service.all_relations() {
        for claim in relation.unwrap().claims {
            assert!(
                document.contains(&claim.quote),
                "{}: not in the document: {}",
                claim.id,
                claim.quote
            );
            quotes += 1;
        }
    }
    assert_eq!(quotes, 24);
}

#[test]
fn seed_claims_are_credited_to_who_says_them_and_disputed_ties_are_described_neutrally() {
    let (service, _dir) = seeded_service();
    let claims = |relation: &str| service.relation(relation).unwrap().unwrap().claims;
    let claimant = |relation: &str, start: &str| {
        claims(relation)
            .into_iter()
            .find(|c| c.quote.starts_with(start))
            .unwrap_or_else(|| panic!("{relation}: no claim starting {start:?}"))
            .claimant
    };
    // "RAICES ... said Salesforce had approached the group ... after the company's employees
    // complained": RAICES says it, not the employees.
    for relation in [
        "salesforce-vendor-to-cbp",
        "salesforce-employees-employee-of-salesforce",
        "salesforce-employees-pressured-salesforce",
    ] {
        assert_eq!(
            claimant(relation, "Salesforce had approached").as_deref(),
            Some("raices"),
            "{relation}"
        );
    }
    // The refusal to cancel the contract, in RAICES's words, and the other nonprofits' letters.
    assert_eq!(
        claimant("salesforce-vendor-to-cbp", "The group said").as_deref(),
        Some("raices")
    );
    assert!(claims("other-nonprofits-pressured-salesforce")
        .iter()
        .any(|c| c
            .quote
            .starts_with("Several other nonprofits have sent letters")));
    // A disputed tie's description gives both sides rather than the allegation as fact.
    let family = service
        .relation("salesforce-vendor-to-cbp-family-separation")
        .unwrap()
        .unwrap();
    let description = family.relation.description.unwrap_or_default();
    assert!(description.contains("charge") && description.contains("does not work with CBP"));
}
