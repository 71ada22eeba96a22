//! `import --format littlesis` on real sled stores: the example file of LittleSis objects
//! through the service and through the `tiegraph` binary (kinds, identifiers, relations,
//! claims, sources, the unknown category in the notes), imported again without change, split
//! into an entities file and a relationships file, and bad records refused by FILE:LINE with
//! nothing written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tiegraph::formats::littlesis;
use tiegraph::formats::{jsonl, FormatError, ImportBatch};
use tiegraph::model::{EntityKind, RelationKind, Stance, Status};
use tiegraph::service::{Limits, Service};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/littlesis.json")
}

fn example_text() -> String {
    std::fs::read_to_string(example()).expect("examples/littlesis.json")
}

fn open(dir: &Path) -> Service {
    Service::open(&dir.join("data"), Limits::default()).expect("open a store in a temp dir")
}

/// What the cli gives the reader: stored entities by their `littlesis:` identifier.
fn batch(text: &str, file: &str, service: &Service) -> Result<ImportBatch, FormatError> {
    let stored: Vec<(u64, String, EntityKind)> = service
        .all_entities()
        .map(|e| e.expect("the store reads"))
        .flat_map(|e| {
            e.identifiers
                .iter()
                .filter(|i| i.scheme == "littlesis")
                .filter_map(|i| i.value.parse().ok())
                .map(|id| (id, e.id.clone(), e.kind))
                .collect::<Vec<_>>()
        })
        .collect();
    littlesis::read(text.as_bytes(), file, &|id| {
        stored
            .iter()
            .find(|(known, _, _)| *known == id)
            .map(|(_, slug, kind)| (slug.clone(), *kind))
    })
}

fn dump(service: &Service) -> String {
    let mut out = Vec::new();
    jsonl::write_all(service, &mut out).expect("dump");
    String::from_utf8(out).expect("utf-8")
}

const NORTHWIND: &str = "northwind-example-analytics-900001";
const RIVER: &str = "friends-of-the-example-river-900002";
const FUND: &str = "example-civic-futures-fund-900003";
const JORDAN: &str = "jordan-q-example-900004";

/// Everything the example should have put in `service`.
fn check_example_graph(service: &Service) {
    assert_eq!((service.entity_count(), service.relation_count()), (4, 3));
    let entity = |id: &str| {
        service
            .entity(id)
            .unwrap()
            .unwrap_or_else(|| panic!("{id}"))
    };
    let northwind = entity(NORTHWIND);
    assert_eq!(
        (
            northwind.kind,
            northwind.name.as_str(),
            northwind.category.as_deref()
        ),
        (
            EntityKind::Company,
            "Northwind Example Analytics",
            Some("Business")
        )
    );
    assert_eq!(northwind.aliases, vec!["Northwind Analytics".to_owned()]);
    assert_eq!(
        northwind
            .identifiers
            .iter()
            .map(|i| format!("{}:{}", i.scheme, i.value))
            .collect::<Vec<_>>(),
        vec!["littlesis:900001".to_owned()]
    );
    for nonprofit in [RIVER, FUND] {
        assert_eq!(entity(nonprofit).kind, EntityKind::Nonprofit, "{nonprofit}");
    }
    assert_eq!(entity(JORDAN).kind, EntityKind::Person);

    let relation = |id: u64| {
        service
            .relation(&littlesis::relation_slug(id))
            .unwrap()
            .unwrap_or_else(|| panic!("relationship {id}"))
    };
    for (id, to, value) in [(910001, RIVER, 25_000.0), (910002, FUND, 10_000.0)] {
        let gift = relation(id);
        assert_eq!(
            (
                gift.relation.kind,
                gift.relation.from.as_str(),
                gift.relation.to.as_str()
            ),
            (RelationKind::Donation, NORTHWIND, to)
        );
        let amount = gift.relation.amount.clone().expect("an amount");
        assert_eq!((amount.value, amount.currency.as_str()), (value, "USD"));
    }
    let gift = relation(910001).relation;
    assert_eq!(
        (
            gift.period.start.map(|d| d.to_string()),
            gift.period.end.map(|d| d.to_string())
        ),
        (Some("2021".to_owned()), Some("2021-12-31".to_owned()))
    );
    let board = relation(910003);
    assert_eq!(
        (
            board.relation.kind,
            board.relation.from.as_str(),
            board.relation.to.as_str(),
            board.relation.role.as_deref(),
            board.relation.status
        ),
        (
            RelationKind::OfficerOf,
            JORDAN,
            RIVER,
            Some("Board Member"),
            Some(Status::Active)
        )
    );
    assert_eq!(board.claims.len(), 1);
    let claim = &board.claims[0];
    assert_eq!(claim.stance, Stance::Asserts);
    assert!(
        claim.quote.starts_with(
            "[generated from LittleSis's fields] LittleSis relationship 910003 (category 1 Position): entity1 900004"
        ),
        "{}",
        claim.quote
    );
    let source = service.source(&claim.source).unwrap().expect("its source");
    assert_eq!(
        (
            source.id.as_str(),
            source.title.as_str(),
            source.publisher.as_deref(),
            source.url.as_deref()
        ),
        (
            "littlesis-relationship-910003-page",
            "LittleSis relationship 910003",
            Some("LittleSis"),
            Some("https://littlesis.org/relationships/910003")
        )
    );
    // The relationship of category 99 is nowhere.
    assert!(service
        .relation(&littlesis::relation_slug(910004))
        .unwrap()
        .is_none());
}

#[test]
fn the_example_imports_through_the_service_and_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    let first = batch(&example_text(), "littlesis.json", &service).expect("the example reads");
    assert_eq!(
        first.notes,
        vec![
            "skipped 1 relationship(s) of unknown category 99: LittleSis's categories are 1 to 12"
                .to_owned()
        ]
    );
    let summary = first
        .import(&service, &|_, _| {})
        .expect("the example imports");
    assert_eq!(
        (
            summary.entities_created,
            summary.relations_created,
            summary.sources_created,
            summary.claims_added
        ),
        (4, 3, 3, 3)
    );
    check_example_graph(&service);

    let before = dump(&service);
    let again = batch(&example_text(), "littlesis.json", &service)
        .unwrap()
        .import(&service, &|_, _| {})
        .unwrap();
    assert_eq!(
        (
            again.entities_created + again.entities_updated,
            again.relations_created + again.relations_updated,
            again.sources_created + again.sources_updated,
            again.claims_added,
            again.unchanged
        ),
        (0, 0, 0, 0, 10),
        "{again:?}"
    );
    assert_eq!(dump(&service), before);
}

#[test]
fn the_same_objects_as_one_bulk_array_import_alike() {
    let lines: Vec<String> = example_text().lines().map(str::to_owned).collect();
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    batch(&example_text(), "littlesis.json", &service)
        .unwrap()
        .import(&service, &|_, _| {})
        .unwrap();
    // The bulk files' shape: one array on one line, entities and relationships concatenated.
    let bulk = format!("[{}][{}]", lines[..4].join(","), lines[4..].join(","));
    let other_dir = tempfile::tempdir().unwrap();
    let other = open(other_dir.path());
    batch(&bulk, "all.json", &other)
        .unwrap()
        .import(&other, &|_, _| {})
        .unwrap();
    assert_eq!(dump(&other), dump(&service));
}

#[test]
fn bad_records_are_refused_by_file_and_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    let mut lines: Vec<String> = example_text().lines().map(str::to_owned).collect();

    // Caught while reading: a date LittleSis never writes, on line 6.
    lines[5] = lines[5].replace("\"2022-03-00\"", "\"March 2022\"");
    match batch(&lines.join("\n"), "littlesis.json", &service) {
        Err(FormatError::BadLine {
            file,
            line,
            message,
        }) => {
            assert_eq!((file.as_str(), line), ("littlesis.json", 6), "{message}");
            assert!(message.contains("March 2022"), "{message}");
        }
        other => panic!("expected line 6 to be refused, got {other:?}"),
    }

    // Caught by the service: a company giving to itself, on line 5.
    let mut lines: Vec<String> = example_text().lines().map(str::to_owned).collect();
    lines[4] = lines[4].replace("\"entity2_id\":900002", "\"entity2_id\":900001");
    match batch(&lines.join("\n"), "littlesis.json", &service)
        .expect("the reader leaves the ends to the model")
        .import(&service, &|_, _| {})
    {
        Err(FormatError::BadLine {
            file,
            line,
            message,
        }) => {
            assert_eq!((file.as_str(), line), ("littlesis.json", 5), "{message}");
            assert!(message.contains("two different entities"), "{message}");
        }
        other => panic!("expected line 5 to be refused, got {other:?}"),
    }
    assert!(service.is_empty());
    assert_eq!((service.entity_count(), service.relation_count()), (0, 0));
}

fn tiegraph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tiegraph"))
        .args(args)
        .env_remove("TIEGRAPH_DATA_DIR")
        .env_remove("TIEGRAPH_LISTEN")
        .env_remove("TIEGRAPH_TOKEN")
        .output()
        .expect("the binary runs")
}

fn import(file: &Path, data: &Path) -> Output {
    tiegraph(&[
        "import",
        "--format",
        "littlesis",
        file.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_binary_imports_the_example_notes_the_unknown_category_and_refuses_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = import(&example(), &data);
    let (out, err) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{out}\n{err}");
    assert!(
        err.contains(
            "note: skipped 1 relationship(s) of unknown category 99: LittleSis's categories are 1 to 12"
        ),
        "{err}"
    );
    assert!(
        out.contains("4 entities created, 0 updated; 3 sources created, 0 updated; 3 relations created, 0 updated; 3 claims added"),
        "{out}"
    );
    let output = import(&example(), &data);
    let out = text(&output.stdout);
    assert!(output.status.success());
    assert!(
        out.contains("0 entities created, 0 updated; 0 sources created, 0 updated; 0 relations created, 0 updated; 0 claims added; 10 records unchanged"),
        "{out}"
    );

    // A relationship naming an entity nobody has, on line 2: refused, nothing written.
    let bad = dir.path().join("bad.json");
    let lines: Vec<&str> = include_str!("../examples/littlesis.json").lines().collect();
    let ghost = lines[6].replace("\"entity2_id\":900002", "\"entity2_id\":123456789");
    std::fs::write(
        &bad,
        format!("{}\n{ghost}\n", lines[0].replace("900001", "900011")),
    )
    .unwrap();
    let output = import(&bad, &data);
    let err = text(&output.stderr);
    assert!(!output.status.success());
    assert!(
        err.contains("bad.json:2: object 2 (LittleSis relationship 910003): entity2_id 123456789"),
        "{err}"
    );
    let service = open(dir.path());
    assert!(service
        .entity(&littlesis::entity_slug(
            "Northwind Example Analytics",
            900011
        ))
        .unwrap()
        .is_none());
    check_example_graph(&service);
}

#[test]
fn the_binary_imports_entities_then_relationships_from_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lines: Vec<&str> = include_str!("../examples/littlesis.json").lines().collect();
    let entities = dir.path().join("entities.json");
    let relationships = dir.path().join("relationships.json");
    // The bulk files' own shape: each one JSON array on one line.
    std::fs::write(&entities, format!("[{}]", lines[..4].join(","))).unwrap();
    std::fs::write(&relationships, format!("[{}]", lines[4..].join(","))).unwrap();

    // Relationships first: their entities are nowhere yet.
    let output = import(&relationships, &data);
    assert!(!output.status.success());
    let err = text(&output.stderr);
    assert!(err.contains("relationships.json:1: object 1 (LittleSis relationship 910001): entity1_id 900001 is no entity in this file"), "{err}");

    for file in [&entities, &relationships] {
        let output = import(file, &data);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    check_example_graph(&open(dir.path()));
}

/// The example with a few characters replaced, inserted or removed, anywhere.
fn mutated_example() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let chars: Vec<char> = include_str!("../examples/littlesis.json").chars().collect();
    prop::collection::vec((any::<prop::sample::Index>(), any::<char>(), 0u8..3), 1..6).prop_map(
        move |edits| {
            let mut chars = chars.clone();
            for (at, c, how) in edits {
                let i = at.index(chars.len());
                match how {
                    0 => chars[i] = c,
                    1 => chars.insert(i, c),
                    _ => {
                        chars.remove(i);
                    }
                }
            }
            chars.into_iter().collect()
        },
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

    /// Whatever the damage, the reader answers (never panics), a refusal names a line of the
    /// file, and a refused import leaves the store empty.
    #[test]
    fn damaged_files_are_read_or_refused_by_a_line_of_theirs(text in mutated_example()) {
        let dir = tempfile::tempdir().unwrap();
        let service = open(dir.path());
        let lines = text.split('\n').count();
        let outcome = batch(&text, "damaged.json", &service)
            .and_then(|batch| batch.import(&service, &|_, _| {}));
        match outcome {
            Ok(_) => {}
            Err(FormatError::BadLine { file, line, .. }) => {
                proptest::prop_assert_eq!(file.as_str(), "damaged.json");
                proptest::prop_assert!((1..=lines).contains(&line), "line {} of {}", line, lines);
                proptest::prop_assert!(service.is_empty());
            }
            Err(other) => proptest::prop_assert!(false, "not a FILE:LINE refusal: {}", other),
        }
    }
}
