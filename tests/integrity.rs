use std::path::Path;
use std::sync::Arc;

use tiegraph::formats::jsonl;
use tiegraph::graph::GraphIndex;
use tiegraph::model::{ClaimDraft, EntityDraft, EntityKind, RelationDraft, RelationKind, Stance};
use tiegraph::service::{
    rebuild_index, ChangeRecord, Limits, Service, ServiceError, StoreError, Topology,
};

use crate::util::{dump, records, seeded_service, write_v1_store};

const SOURCE: &str = "raices-declines-salesforce-donation";

fn open(dir: &Path) -> Result<Service, ServiceError> {
    Service::open(dir, Limits::default())
}

fn sled_trees(dir: &Path) -> Vec<String> {
    let db = crate::util::open_raw(dir);
    let mut names: Vec<String> = db
        .tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_v1_store_upgrades_keeping_every_record() {
    let (seeded, _seeded_dir) = seeded_service();
    let expected = records(&seeded);
    let dir = tempfile::tempdir().unwrap();
    write_v1_store(&seeded, dir.path());
    let upgraded = open(dir.path()).unwrap();
    assert_eq!(records(&upgraded), expected);
    assert_eq!(upgraded.topology(), seeded.topology());
    // The claim numbering goes on where layout 1 left it.
    let claim = upgraded
        .add_claim("salesforce-vendor-to-cbp", draft_claim("a later report"))
        .unwrap();
    let before: Vec<String> = seeded
        .relation("salesforce-vendor-to-cbp")
        .unwrap()
        .unwrap()
        .claims
        .iter()
        .map(|c| c.id.clone())
        .collect();
    assert!(!before.contains(&claim.id), "{} was used before", claim.id);
    drop(upgraded);
    let trees = sled_trees(dir.path());
    for old in ["entities", "relations", "sources", "claims", "citations"] {
        assert!(
            !trees.contains(&old.to_owned()),
            "{old} was kept: {trees:?}"
        );
    }
}

#[test]
fn an_upgrade_interrupted_before_its_switch_starts_again() {
    let (seeded, _seeded_dir) = seeded_service();
    let dir = tempfile::tempdir().unwrap();
    write_v1_store(&seeded, dir.path());
    {
        // What a crash midway leaves: some layout 2 trees written, the version still 1.
        let db = crate::util::open_raw(dir.path());
        db.open_tree("entities.2")
            .unwrap()
            .insert("half-written", &b"\x01garbage"[..])
            .unwrap();
        db.flush().unwrap();
    }
    let upgraded = open(dir.path()).unwrap();
    assert_eq!(records(&upgraded), records(&seeded));
}

fn draft_claim(quote: &str) -> ClaimDraft {
    ClaimDraft {
        source: SOURCE.into(),
        stance: Stance::Asserts,
        claimant: None,
        quote: quote.into(),
    }
}

fn entity(id: &str) -> EntityDraft {
    EntityDraft {
        id: Some(id.into()),
        kind: EntityKind::Company,
        name: id.to_uppercase(),
        aliases: vec![],
        description: None,
        country: None,
        category: None,
        identifiers: vec![],
    }
}

fn relation(from: &str, to: &str, quote: &str) -> RelationDraft {
    RelationDraft {
        id: None,
        kind: RelationKind::VendorTo,
        from: from.into(),
        to: to.into(),
        status: None,
        role: None,
        description: None,
        amount: None,
        start: None,
        end: None,
        claims: vec![draft_claim(quote)],
    }
}

#[test]
fn claim_ids_are_never_reused_even_after_deletes() {
    let (service, _dir) = seeded_service();
    service.create_entity(entity("acme")).unwrap();
    let first = service
        .create_relation(relation("acme", "cbp", "one"))
        .unwrap();
    let id = first.relation.id.clone();
    let second = service.add_claim(&id, draft_claim("two")).unwrap();
    service.delete_claim(&second.id).unwrap();
    let third = service.add_claim(&id, draft_claim("three")).unwrap();
    assert_ne!(third.id, second.id);
    service.delete_relation(&id).unwrap();
    let again = service
        .create_relation(relation("acme", "cbp", "four"))
        .unwrap();
    assert_eq!(again.relation.id, id);
    let used = [&first.claims[0].id, &second.id, &third.id];
    assert!(
        !used.contains(&&again.claims[0].id),
        "{} was used before",
        again.claims[0].id
    );
    // The same statement twice is refused, as an import would drop it.
    let error = service.add_claim(&id, draft_claim("four")).unwrap_err();
    assert!(
        matches!(error, ServiceError::DuplicateClaim { .. }),
        "{error}"
    );
}

#[test]
fn one_id_names_one_record_in_every_import() {
    let (service, _dir) = seeded_service();
    let before = dump(&service);
    let file = "{\"type\":\"entity\",\"id\":\"acme\",\"kind\":\"COMPANY\",\"name\":\"Acme\"}\n\
                {\"type\":\"source\",\"id\":\"acme\",\"title\":\"Acme's report\"}\n";
    let items = jsonl::read(file.as_bytes(), "twice.jsonl").unwrap();
    let error = service.import(items, &|_, _| {}).unwrap_err().to_string();
    assert!(
        error.contains("line 2") && error.contains("acme"),
        "{error}"
    );
    // An id the graph gives to a source cannot name an entity in a file either.
    let file = format!(
        "{{\"type\":\"entity\",\"id\":\"{SOURCE}\",\"kind\":\"COMPANY\",\"name\":\"X\"}}\n"
    );
    let items = jsonl::read(file.as_bytes(), "taken.jsonl").unwrap();
    let error = service.import(items, &|_, _| {}).unwrap_err().to_string();
    assert!(error.contains("already taken by a source"), "{error}");
    assert_eq!(dump(&service), before);
}

/// A file of `n` companies, each selling to CBP: `2n` records.
fn vendors(n: usize, prefix: &str) -> String {
    let mut file = String::new();
    for i in 0..n {
        file.push_str(&format!(
            "{{\"type\":\"entity\",\"id\":\"{prefix}-{i}\",\"kind\":\"COMPANY\",\"name\":\"{prefix} {i}\"}}\n\
             {{\"type\":\"relation\",\"kind\":\"VENDOR_TO\",\"from\":\"{prefix}-{i}\",\"to\":\"cbp\",\"claims\":[{{\"source\":\"{SOURCE}\",\"quote\":\"sells {i}\"}}]}}\n"
        ));
    }
    file
}

fn replay(records: &[Arc<ChangeRecord>]) -> GraphIndex {
    let mut index = GraphIndex::new();
    for record in records {
        record.apply_to(&mut index);
    }
    index
}

#[test]
fn an_index_fed_only_with_the_change_log_equals_the_rebuilt_one() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path()).unwrap();
    let mut feed = service.subscribe();
    tiegraph::formats::seed::load_dir(&service, crate::util::seed_dir()).unwrap();
    service.create_entity(entity("acme")).unwrap();
    let made = service
        .create_relation(relation("acme", "cbp", "sells"))
        .unwrap();
    service
        .add_claim(&made.relation.id, draft_claim("still sells"))
        .unwrap();
    service.delete_entity("media-alliance", true).unwrap();
    // A load of more than one part, into the store that now holds all of that.
    let big = vendors(15_000, "vendor");
    let items = jsonl::read(big.as_bytes(), "big.jsonl").unwrap();
    service.import(items, &|_, _| {}).unwrap();
    service.delete_entity("marc-benioff", true).unwrap();
    let mut log = Vec::new();
    while let Ok(record) = feed.try_recv() {
        log.push(record);
    }
    // One sequence per commit, in order; a load's parts share theirs and end with `last`.
    let mut sequence = 0;
    for record in &log {
        if record.part == 0 {
            assert_eq!(record.sequence, sequence + 1, "a gap or a repeat");
            sequence = record.sequence;
        } else {
            assert_eq!(record.sequence, sequence);
        }
    }
    assert!(
        log.iter().any(|r| r.part > 0),
        "the big load came in one part"
    );
    assert!(log.iter().all(|r| {
        let text = serde_json::to_string(&**r).unwrap();
        serde_json::from_str::<ChangeRecord>(&text).unwrap() == **r
    }));
    let live = service.topology();
    drop(service);
    let replayed = Topology::of(&replay(&log));
    assert_eq!(replayed, Topology::of(&rebuild_index(dir.path()).unwrap()));
    assert_eq!(replayed, live);
}

#[test]
fn an_import_into_a_full_store_moves_the_sequence_and_outdates_the_snapshot() {
    let (service, dir) = seeded_service();
    let service = Arc::try_unwrap(service).ok().unwrap();
    service.flush().unwrap();
    let before = service.sequence().unwrap();
    let big = vendors(30_000, "co");
    let items = jsonl::read(big.as_bytes(), "big.jsonl").unwrap();
    let summary = service.import(items, &|_, _| {}).unwrap();
    assert_eq!(summary.sequence, before + 1);
    assert_eq!(service.entity_count(), 12 + 30_000);
    drop(service);
    // No flush: the saved index is of the commit before and must not be used.
    let reopened = open(dir.path()).unwrap();
    assert_eq!(reopened.entity_count(), 12 + 30_000);
    assert_eq!(reopened.relation_count(), 17 + 30_000);
    // An imported id is taken.
    assert!(matches!(
        reopened.create_entity(entity("co-7")),
        Err(ServiceError::AlreadyExists { .. })
    ));
}

#[test]
fn a_snapshot_is_only_ever_used_with_its_own_store() {
    let (service, dir) = seeded_service();
    service.flush().unwrap();
    drop(service);
    let snapshot = std::fs::read(dir.path().join("index.snapshot")).unwrap();
    // A new store in another directory, with as many commits (one per seed file), and the
    // old store's snapshot copied beside it.
    let other = tempfile::tempdir().unwrap();
    {
        let fresh = open(other.path()).unwrap();
        let file = "{\"type\":\"source\",\"id\":\"s\",\"title\":\"S\"}\n";
        fresh
            .import(jsonl::read(file.as_bytes(), "one").unwrap(), &|_, _| {})
            .unwrap();
    }
    std::fs::write(other.path().join("index.snapshot"), &snapshot).unwrap();
    let fresh = open(other.path()).unwrap();
    let topology = fresh.topology();
    assert!(topology.entities.is_empty() && topology.relations.is_empty());
    assert_eq!(topology.sources, vec![("s".to_owned(), vec![])]);
}

#[test]
fn a_damaged_snapshot_means_a_rebuild_never_a_wrong_index() {
    let (service, dir) = seeded_service();
    let topology = service.topology();
    service.flush().unwrap();
    drop(service);
    let path = dir.path().join("index.snapshot");
    let good = std::fs::read(&path).unwrap();
    let mut tried = 0;
    for position in (0..good.len()).step_by(7).chain([good.len() - 1]) {
        let mut bad = good.clone();
        bad[position] ^= 0x20;
        std::fs::write(&path, &bad).unwrap();
        let reopened = open(dir.path()).unwrap();
        assert_eq!(reopened.topology(), topology, "flip at {position}");
        tried += 1;
    }
    for length in [0, 10, good.len() / 2, good.len() - 1] {
        std::fs::write(&path, &good[..length]).unwrap();
        assert_eq!(
            open(dir.path()).unwrap().topology(),
            topology,
            "cut at {length}"
        );
    }
    assert!(tried > 50);
}

/// sled's files in a store directory, largest first.
fn sled_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name != "index.snapshot" && name != "tiegraph.id"
        })
        .collect();
    files.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).unwrap().len()));
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Opening a damaged store either refuses it, naming the directory and what to do, or (when
/// the damage hit bytes sled does not need) gives back every record: never an empty or a
/// partial store.
fn check_damaged(dir: &Path, expected: &str, what: &str) {
    match std::panic::catch_unwind(|| open(dir)) {
        Err(_) => panic!("{what}: opening panicked"),
        Ok(Ok(service)) => assert_eq!(
            records(&service),
            expected,
            "{what}: opened with other records"
        ),
        Ok(Err(error)) => {
            let message = error.to_string();
            let refused = matches!(
                error,
                ServiceError::Store(StoreError::Damaged { .. })
                    | ServiceError::Store(StoreError::Corrupt { .. })
                    | ServiceError::Store(StoreError::Engine(_))
            );
            assert!(refused, "{what}: {message}");
            if let ServiceError::Store(StoreError::Damaged { .. }) = error {
                assert!(
                    message.contains(&dir.display().to_string()) && message.contains("restore"),
                    "{what}: {message}"
                );
            }
        }
    }
}

#[test]
fn a_damaged_or_truncated_store_is_refused_never_read_as_empty() {
    let (service, dir) = seeded_service();
    let expected = records(&service);
    service.flush().unwrap();
    drop(service);
    let work = tempfile::tempdir().unwrap();
    let files = sled_files(dir.path());
    let db_file = files[0].clone();
    let relative = db_file.strip_prefix(dir.path()).unwrap().to_owned();
    let size = std::fs::metadata(&db_file).unwrap().len() as usize;
    let mut case = 0;
    let mut try_case = |damage: &dyn Fn(&Path), what: String| {
        case += 1;
        let copy = work.path().join(format!("case-{case}"));
        copy_dir(dir.path(), &copy);
        damage(&copy.join(&relative));
        check_damaged(&copy, &expected, &what);
    };
    for length in [0, 1, size / 4, size / 2, size - 1] {
        try_case(
            &|file: &Path| {
                let bytes = std::fs::read(file).unwrap();
                std::fs::write(file, &bytes[..length]).unwrap();
            },
            format!("{} cut to {length} bytes", relative.display()),
        );
    }
    for position in (0..size).step_by((size / 40).max(1)) {
        try_case(
            &|file: &Path| {
                let mut bytes = std::fs::read(file).unwrap();
                bytes[position] ^= 0xff;
                std::fs::write(file, &bytes).unwrap();
            },
            format!("{} with byte {position} flipped", relative.display()),
        );
    }
    try_case(
        &|file: &Path| std::fs::remove_file(file).unwrap(),
        format!("{} removed", relative.display()),
    );
}
