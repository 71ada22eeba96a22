use std::sync::Arc;

use async_graphql::Request;
use proptest::prelude::*;
use serde_json::Value;

use tiegraph::api::{build_schema, ensure_codes, Caller, SchemaLimits};
use tiegraph::formats::{jsonl, seed};
use tiegraph::service::{Limits, Service};

use crate::util::{dump, seeded_service};

/// The seed's lines, to mutate: realistic records are where parsers have edge cases.
fn seed_lines() -> Vec<String> {
    let path = crate::util::seed_dir().join("raices-salesforce.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A seed line with a few characters replaced, inserted or removed.
fn mutated_file() -> impl Strategy<Value = String> {
    let lines = seed_lines();
    let count = lines.len();
    (prop::collection::vec(
        (
            0..count,
            any::<prop::sample::Index>(),
            any::<char>(),
            0u8..3,
        ),
        0..6,
    ))
    .prop_map(move |edits| {
        let mut lines = lines.clone();
        for (line, at, c, how) in edits {
            let text = &mut lines[line];
            let chars: Vec<char> = text.chars().collect();
            if chars.is_empty() {
                continue;
            }
            let i = at.index(chars.len());
            let mut chars = chars;
            match how {
                0 => chars[i] = c,
                1 => chars.insert(i, c),
                _ => {
                    chars.remove(i);
                }
            }
            *text = chars.into_iter().collect();
        }
        lines.join("\n")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the importer is given, it answers (records or a line-numbered error), and an
    /// import that fails writes nothing.
    #[test]
    fn the_importer_never_panics_and_never_half_imports(file in mutated_file()) {
        let dir = tempfile::tempdir().unwrap();
        let service = Service::open(dir.path(), Limits::default()).unwrap();
        match jsonl::read(file.as_bytes(), "fuzz.jsonl") {
            Err(error) => prop_assert!(error.to_string().starts_with("fuzz.jsonl:")),
            Ok(items) => {
                if let Err(error) = service.import(items, &|_, _| {}) {
                    prop_assert!(!error.to_string().is_empty());
                    prop_assert_eq!(service.entity_count(), 0);
                    prop_assert_eq!(dump(&service), "");
                }
            }
        }
    }

    /// The seed loader, given a damaged seed directory, loads it or refuses it whole.
    #[test]
    fn the_seed_loader_loads_or_refuses_whole(file in mutated_file()) {
        let seed_dir = tempfile::tempdir().unwrap();
        std::fs::write(seed_dir.path().join("seed.jsonl"), &file).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let service = Service::open(dir.path(), Limits::default()).unwrap();
        if seed::load_dir(&service, seed_dir.path()).is_err() {
            prop_assert_eq!(dump(&service), "");
        }
    }

    /// Arbitrary bytes are refused with a line number, never a panic.
    #[test]
    fn arbitrary_bytes_are_refused_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().unwrap();
        let service = Service::open(dir.path(), Limits::default()).unwrap();
        if let Ok(items) = jsonl::read(&bytes[..], "bytes") {
            let _ = service.import(items, &|_, _| {});
        }
    }
}

fn hop() -> impl Strategy<Value = String> {
    let kinds = prop::sample::subsequence(
        vec![
            "VENDOR_TO",
            "PART_OF",
            "OFFICER_OF",
            "DONATION",
            "PRESSURED",
            "ASSOCIATED_WITH",
        ],
        0..3,
    );
    let entity_kinds = prop::sample::subsequence(
        vec!["COMPANY", "AGENCY", "NONPROFIT", "PERSON", "GROUP"],
        0..3,
    );
    let direction = prop::sample::select(vec!["OUT", "IN", "ANY"]);
    (kinds, direction, entity_kinds, -2i32..6, -2i32..10).prop_map(|(kinds, direction, entity_kinds, min, max)| {
        format!(
            "{{relationKinds: [{}], direction: {direction}, entityKinds: [{}], minRepeat: {min}, maxRepeat: {max}}}",
            kinds.join(", "),
            entity_kinds.join(", ")
        )
    })
}

fn search() -> impl Strategy<Value = String> {
    let from = prop::sample::select(vec![
        "cbp",
        "salesforce",
        "marc-benioff",
        "nobody",
        "",
        "dhs",
    ]);
    let to = prop::sample::select(vec!["", ", to: \"raices\"", ", to: \"nobody\""]);
    let extra = prop::sample::select(vec![
        "",
        ", includeDenied: true",
        ", asOf: \"2019\"",
        ", asOf: \"bad\"",
        ", first: -1",
        ", first: 3, after: \"1:x\"",
        ", budget: {maxVisits: 5}",
        ", budget: {maxMillis: 0}",
    ]);
    (from, prop::collection::vec(hop(), 0..4), to, extra, any::<bool>()).prop_map(|(from, hops, to, extra, set)| {
        if set {
            format!(r#"{{ connected(from: "{from}", pattern: [{}]{extra}) {{ partial totalCount edges {{ node {{ entity {{ id }} pathCount examples {{ length }} }} }} }} }}"#, hops.join(", "))
        } else {
            format!(r#"{{ paths(from: "{from}", pattern: [{}]{to}{extra}) {{ partial totalCount edges {{ node {{ length hops {{ direction relation {{ id standing }} }} }} }} }} }}"#, hops.join(", "))
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Every pattern a client can write gets an answer or errors that each carry a code.
    #[test]
    fn every_pattern_gets_an_answer_or_coded_errors(query in search()) {
        let (service, _dir) = seeded_service();
        let schema = build_schema(Arc::clone(&service), SchemaLimits::default());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let mut response = runtime.block_on(schema.execute(Request::new(query.clone()).data(Caller::default())));
        ensure_codes(&mut response);
        let json: Value = serde_json::to_value(&response).unwrap();
        for error in json["errors"].as_array().cloned().unwrap_or_default() {
            prop_assert!(error["extensions"]["code"].as_str().is_some_and(|c| !c.is_empty()), "{query}: {error}");
        }
        if response.errors.is_empty() {
            let connection = json["data"].as_object().and_then(|d| d.values().next()).cloned().unwrap_or_default();
            prop_assert!(connection["edges"].as_array().is_some_and(|e| e.len() <= 20), "{query}");
        }
    }
}
