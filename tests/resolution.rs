//! Entity resolution by identifier (imports and createEntity), and mergeEntities / unmerge.

use serde_json::{json, Value};

use tiegraph::model::{EntityDraft, RelationDraft, SourceDraft};
use tiegraph::service::{ImportItem, ImportSummary, Service};

use crate::util::{dump, records, seeded_service, TestServer};

fn entity(value: Value) -> ImportItem {
    ImportItem::Entity(serde_json::from_value::<EntityDraft>(value).expect("entity draft"))
}

fn relation(value: Value) -> ImportItem {
    ImportItem::Relation(serde_json::from_value::<RelationDraft>(value).expect("relation draft"))
}

fn source(id: &str) -> ImportItem {
    ImportItem::Source(SourceDraft {
        id: Some(id.into()),
        title: format!("Source {id}"),
        ..SourceDraft::default()
    })
}

fn import(service: &Service, items: Vec<ImportItem>) -> Result<ImportSummary, String> {
    let numbered = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| (i + 1, item))
        .collect();
    service
        .import(numbered, &|_, _| {})
        .map_err(|e| e.to_string())
}

fn vendor(from: &str, source_id: &str, quote: &str) -> ImportItem {
    relation(json!({
        "kind": "VENDOR_TO", "from": from, "to": "cbp",
        "claims": [{"source": source_id, "quote": quote}]
    }))
}

/// An award file's view of Salesforce: another id and name, the same UEI.
fn award_file() -> Vec<ImportItem> {
    vec![
        source("award-1"),
        entity(
            json!({"id": "salesforce-inc-sfuei1", "kind": "COMPANY", "name": "SALESFORCE, INC.",
            "identifiers": [{"scheme": "uei", "value": "SFUEI1"}, {"scheme": "duns", "value": "123"}]}),
        ),
        vendor("salesforce-inc-sfuei1", "award-1", "award 1"),
    ]
}

#[test]
fn an_import_record_with_a_held_identifier_becomes_that_entity() {
    let (service, _dir) = seeded_service();
    service
        .update_entity(
            "salesforce",
            tiegraph::model::EntityPatch {
                identifiers: Some(vec![tiegraph::model::Identifier {
                    scheme: "uei".into(),
                    value: "sfuei1".into(),
                }]),
                ..Default::default()
            },
        )
        .unwrap();
    let summary = import(&service, award_file()).unwrap();
    assert_eq!(summary.resolved, 1, "{summary:?}");
    assert_eq!(summary.entities_created, 0, "{summary:?}");
    assert_eq!(summary.entities_updated, 1, "{summary:?}");
    assert!(service.entity("salesforce-inc-sfuei1").unwrap().is_none());
    let salesforce = service.entity("salesforce").unwrap().unwrap();
    assert_eq!(salesforce.name, "Salesforce");
    assert!(
        salesforce.aliases.contains(&"SALESFORCE, INC.".to_owned()),
        "{salesforce:?}"
    );
    let schemes: Vec<&str> = salesforce
        .identifiers
        .iter()
        .map(|i| i.scheme.as_str())
        .collect();
    assert_eq!(
        schemes,
        ["uei", "duns"],
        "the held identifier is not repeated"
    );
    // The tie the file gave the record is the entity's.
    let tie = service
        .relation("salesforce-vendor-to-cbp")
        .unwrap()
        .unwrap();
    assert!(tie.claims.iter().any(|c| c.quote == "award 1"), "{tie:?}");

    // Again: nothing changes.
    let before = records(&service);
    let again = import(&service, award_file()).unwrap();
    assert_eq!(
        again.entities_updated + again.relations_updated + again.claims_added,
        0,
        "{again:?}"
    );
    assert_eq!(records(&service), before);

    // The entity's own file again does not take away the names the other source added.
    let own = import(
        &service,
        vec![entity(
            json!({"id": "salesforce", "kind": "COMPANY", "name": "Salesforce",
            "description": "A cloud computing software company."}),
        )],
    )
    .unwrap();
    assert_eq!(own.unchanged, 1, "{own:?}");
}

#[test]
fn records_of_one_file_sharing_an_identifier_are_one_entity() {
    let (service, _dir) = seeded_service();
    let summary = import(
        &service,
        vec![
            source("s1"),
            // The tie names the second record before the file defines it.
            vendor("acme-two", "s1", "second name's contract"),
            entity(json!({"id": "acme-one", "kind": "COMPANY", "name": "Acme One",
                "identifiers": [{"scheme": "ein", "value": "12-345"}]})),
            entity(json!({"id": "acme-two", "kind": "COMPANY", "name": "ACME ONE LLC",
                "identifiers": [{"scheme": "EIN", "value": "12-345 "}, {"scheme": "wikidata", "value": "Q1"}]})),
            vendor("acme-one", "s1", "first name's contract"),
        ],
    )
    .unwrap();
    assert_eq!(summary.resolved, 1, "{summary:?}");
    assert!(service.entity("acme-two").unwrap().is_none());
    let acme = service.entity("acme-one").unwrap().unwrap();
    assert_eq!(acme.aliases, ["ACME ONE LLC"]);
    assert_eq!(acme.identifiers.len(), 2, "{acme:?}");
    let tie = service.relation("acme-one-vendor-to-cbp").unwrap().unwrap();
    let quotes: Vec<&str> = tie.claims.iter().map(|c| c.quote.as_str()).collect();
    assert_eq!(quotes, ["second name's contract", "first name's contract"]);
    // The index agrees with the store.
    let reopened = {
        let text = dump(&service);
        assert!(!text.contains("acme-two"), "{text}");
        text
    };
    assert!(reopened.contains("acme-one-vendor-to-cbp"));
}

#[test]
fn a_record_whose_identifiers_name_two_entities_is_refused_and_nothing_written() {
    let (service, _dir) = seeded_service();
    import(
        &service,
        vec![
            entity(json!({"id": "a", "kind": "COMPANY", "name": "A", "identifiers": [{"scheme": "uei", "value": "U1"}]})),
            entity(json!({"id": "b", "kind": "COMPANY", "name": "B", "identifiers": [{"scheme": "duns", "value": "D1"}]})),
        ],
    )
    .unwrap();
    let before = records(&service);
    let error = import(
        &service,
        vec![
            source("s2"),
            entity(json!({"id": "c", "kind": "COMPANY", "name": "C",
                "identifiers": [{"scheme": "uei", "value": "U1"}, {"scheme": "duns", "value": "D1"}]})),
        ],
    )
    .unwrap_err();
    assert!(error.starts_with("line 2:"), "{error}");
    assert!(
        error.contains("`a` (by uei:u1) and `b` (by duns:d1)"),
        "{error}"
    );
    assert!(error.contains("mergeEntities"), "{error}");
    assert_eq!(records(&service), before);
    // Registration numbers repeat across registers: they join nothing.
    let summary = import(
        &service,
        vec![
            entity(json!({"id": "r1", "kind": "COMPANY", "name": "R1", "identifiers": [{"scheme": "registration", "value": "42"}]})),
            entity(json!({"id": "r2", "kind": "COMPANY", "name": "R2", "identifiers": [{"scheme": "registration", "value": "42"}]})),
        ],
    )
    .unwrap();
    assert_eq!((summary.resolved, summary.entities_created), (0, 2));
}

#[tokio::test]
async fn create_entity_with_a_held_identifier_returns_the_holder() {
    let server = TestServer::start().await;
    let first = server
        .data(
            r#"mutation { createEntity(input: {kind: COMPANY, name: "Northwind", identifiers: [{scheme: "uei", value: "NW1"}]}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(first["createEntity"]["id"], "northwind");
    let second = server
        .data(
            r#"mutation { createEntity(input: {kind: NONPROFIT, name: "NORTHWIND INC", identifiers: [{scheme: "UEI", value: "nw1"}, {scheme: "ein", value: "9"}]}) { id kind name aliases identifiers { scheme value } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        second["createEntity"],
        json!({"id": "northwind", "kind": "COMPANY", "name": "Northwind", "aliases": ["NORTHWIND INC"],
               "identifiers": [{"scheme": "uei", "value": "NW1"}, {"scheme": "ein", "value": "9"}]})
    );
    let taken = server
        .gql(
            r#"mutation { createEntity(input: {id: "northwind", kind: COMPANY, name: "Other"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        taken["errors"][0]["extensions"]["code"], "ALREADY_EXISTS",
        "{taken}"
    );
    server.stop().await;
}

/// The live index equals one rebuilt from the store.
fn assert_index_is_the_stores(service: &Service) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    let file = dir.path().join("backup");
    let mut out = std::fs::File::create(&file).unwrap();
    service.backup(&mut out).unwrap();
    tiegraph::service::restore_backup(&copy, &file).unwrap();
    let rebuilt = Service::open(&copy, Default::default()).unwrap();
    assert_eq!(rebuilt.topology(), service.topology());
}

const ENTITY_VIEW: &str = r#"query($id: ID!) {
    entity(id: $id) { id aliases mergedFrom identifiers { scheme value }
        relations(first: 50) { edges { node { id kind from { id } to { id } claims { id quote claimant { id } } } } } }
    mergedInto(id: $id) { id }
}"#;

#[tokio::test]
async fn merge_entities_moves_ties_claims_and_names_and_unmerge_puts_them_back() {
    let server = TestServer::start().await;
    // A second record of Salesforce, tied to CBP (a tie Salesforce has too) and to DHS, and
    // saying something about RAICES' tie to Salesforce.
    let made = server
        .gql(
            r#"mutation {
                e: createEntity(input: {id: "sfdc", kind: COMPANY, name: "SFDC", aliases: ["Salesforce.com"], identifiers: [{scheme: "wikidata", value: "Q941127"}]}) { id }
                a: createRelation(input: {kind: VENDOR_TO, from: "sfdc", to: "cbp", claim: {source: "raices-declines-salesforce-donation", quote: "sfdc sells to cbp"}}) { id }
                b: createRelation(input: {kind: VENDOR_TO, from: "sfdc", to: "dhs", claim: {source: "raices-declines-salesforce-donation", quote: "sfdc sells to dhs"}}) { id }
                c: createRelation(input: {id: "sfdc-gift", kind: DONATION, from: "sfdc", to: "raices", claim: {source: "raices-declines-salesforce-donation", quote: "sfdc offered a gift"}}) { id }
            }"#,
            json!({}),
        )
        .await;
    assert!(made["errors"].is_null(), "{made}");
    let before = records(&server.service);

    let merged = server
        .gql(
            r#"mutation { mergeEntities(into: "salesforce", from: "sfdc") { id aliases mergedFrom } }"#,
            json!({}),
        )
        .await;
    assert!(merged["errors"].is_null(), "{merged}");
    assert_eq!(
        merged["data"]["mergeEntities"],
        json!({"id": "salesforce", "aliases": ["SFDC", "Salesforce.com"], "mergedFrom": ["sfdc"]})
    );
    let view = server.data(ENTITY_VIEW, json!({"id": "sfdc"})).await;
    assert_eq!(
        view["entity"]["id"], "salesforce",
        "the old id leads to the merged entity"
    );
    assert_eq!(view["mergedInto"]["id"], "salesforce");
    let ties = view["entity"]["relations"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    let tie = |id: &str| {
        ties.iter()
            .map(|e| &e["node"])
            .find(|n| n["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {ties:?}"))
            .clone()
    };
    let cbp = tie("salesforce-vendor-to-cbp");
    let quotes: Vec<&str> = cbp["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["quote"].as_str().unwrap())
        .collect();
    assert!(quotes.contains(&"sfdc sells to cbp"), "{cbp}");
    assert!(
        quotes.len() >= 2,
        "the tie Salesforce had keeps its own claims: {cbp}"
    );
    assert_eq!(tie("salesforce-vendor-to-dhs")["from"]["id"], "salesforce");
    // A tie with an id of its own keeps it, and is found from its other end too.
    assert_eq!(tie("sfdc-gift")["from"]["id"], "salesforce");
    let raices = server
        .data(
            r#"{ entity(id: "raices") { relations(first: 50) { edges { node { id } } } } }"#,
            json!({}),
        )
        .await;
    assert!(raices.to_string().contains("sfdc-gift"), "{raices}");
    assert_index_is_the_stores(&server.service);
    // The identifier moved with the merge: the identifier filter finds the merged entity.
    let by_identifier = server
        .data(
            r#"{ entities(identifier: "wikidata:q941127") { totalCount edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        by_identifier["entities"],
        json!({"totalCount": 1, "edges": [{"node": {"id": "salesforce"}}]})
    );
    let sf = server.data(ENTITY_VIEW, json!({"id": "salesforce"})).await;
    assert!(sf["mergedInto"].is_null());
    assert!(server.service.entity("sfdc").unwrap().is_none());
    let stale = server
        .gql(
            r#"{ relation(id: "sfdc-vendor-to-dhs") { id } }"#,
            json!({}),
        )
        .await;
    assert!(stale["data"]["relation"].is_null(), "{stale}");

    // Undone: every record as it was, timestamps and claim ids included.
    let undone = server
        .gql(r#"mutation { unmerge(from: "sfdc") { id } }"#, json!({}))
        .await;
    assert_eq!(
        undone["data"]["unmerge"],
        json!([{"id": "salesforce"}, {"id": "sfdc"}]),
        "{undone}"
    );
    assert_eq!(records(&server.service), before);
    assert_index_is_the_stores(&server.service);
    let gone = server.data(ENTITY_VIEW, json!({"id": "sfdc"})).await;
    assert_eq!(gone["entity"]["id"], "sfdc");
    assert!(gone["mergedInto"].is_null());
    let again = server
        .gql(r#"mutation { unmerge(from: "sfdc") { id } }"#, json!({}))
        .await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{again}"
    );
    server.stop().await;
}

#[tokio::test]
async fn unmerge_after_a_later_change_is_refused_and_merges_survive_a_restart() {
    let server = TestServer::start().await;
    let made = server
        .gql(
            r#"mutation {
                e: createEntity(input: {id: "benioff-2", kind: PERSON, name: "M. Benioff"}) { id }
                m: mergeEntities(into: "marc-benioff", from: "benioff-2") { id }
                u: updateEntity(id: "marc-benioff", input: {description: "Changed since."}) { id }
            }"#,
            json!({}),
        )
        .await;
    assert!(made["errors"].is_null(), "{made}");
    let before = records(&server.service);
    let refused = server
        .gql(
            r#"mutation { unmerge(from: "benioff-2") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "CONFLICT",
        "{refused}"
    );
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("entity `marc-benioff` has changed since"),
        "{message}"
    );
    assert_eq!(
        records(&server.service),
        before,
        "a refused unmerge writes nothing"
    );

    for (query, code) in [
        (
            r#"mutation { mergeEntities(into: "cbp", from: "cbp") { id } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"mutation { mergeEntities(into: "cbp", from: "nobody") { id } }"#,
            "NOT_FOUND",
        ),
        // CBP is part of DHS: the tie between them would tie DHS to itself.
        (
            r#"mutation { mergeEntities(into: "dhs", from: "cbp") { id } }"#,
            "BAD_USER_INPUT",
        ),
    ] {
        let answer = server.gql(query, json!({})).await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], code,
            "{query}: {answer}"
        );
    }
    assert_eq!(records(&server.service), before);

    let dir = server.stop().await;
    let reopened = Service::open(dir.path(), Default::default()).unwrap();
    assert_eq!(
        reopened.merged_into("benioff-2").unwrap().as_deref(),
        Some("marc-benioff")
    );
    assert_eq!(
        reopened.entity_or_merged("benioff-2").unwrap().unwrap().id,
        "marc-benioff"
    );
}

/// The README's worked example: three datasets answer the mission question together only once
/// their records of one vendor are one entity.
#[tokio::test]
async fn the_worked_example_connects_an_agency_to_nonprofits_after_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    for (format, file) in [
        ("usaspending", "usaspending-awards.csv"),
        ("littlesis", "littlesis.json"),
        ("ftm", "ftm-statements.json"),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_tiegraph"))
            .args(["import", "--format", format, "--data-dir"])
            .arg(dir.path())
            .arg(format!("{examples}/{file}"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{file}: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        if format == "ftm" {
            assert!(
                stdout.contains("1 entity records were entities already held"),
                "{stdout}"
            );
        }
    }
    let service = std::sync::Arc::new(Service::open(dir.path(), Default::default()).unwrap());
    let server = TestServer::start_with(service, dir).await;
    let mission = r#"{ connected(from: "u-s-customs-and-border-protection", pattern: [
        {relationKinds: [VENDOR_TO], direction: IN}, {direction: ANY, entityKinds: [NONPROFIT]}], examples: 0) {
        totalCount edges { node { entity { name } } } } }"#;
    let names = |answer: &Value| -> Vec<String> {
        let mut names: Vec<String> = answer["connected"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["entity"]["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    // The FtM record of the vendor carries its UEI: it is the award file's recipient already.
    let before = server.data(mission, json!({})).await;
    assert_eq!(names(&before), ["Example Literacy Alliance"]);
    // LittleSis' record of it has no UEI: a duplicate by name, merged by hand.
    let candidates = server
        .data(r#"{ duplicateCandidates(kind: COMPANY, first: 10) { edges { node { entities { id } } } } }"#, json!({}))
        .await;
    assert!(
        candidates.to_string().contains(r#"[{"id":"northwind-example-analytics-900001"},{"id":"northwind-example-analytics-inc-nwexample001"}]"#),
        "{candidates}"
    );
    server
        .data(
            r#"mutation { mergeEntities(into: "northwind-example-analytics-inc-nwexample001", from: "northwind-example-analytics-900001") { id } }"#,
            json!({}),
        )
        .await;
    let after = server.data(mission, json!({})).await;
    assert_eq!(
        names(&after),
        [
            "Example Civic Futures Fund",
            "Example Literacy Alliance",
            "Friends of the Example River"
        ]
    );
    server.stop().await;
}

fn import_file(dir: &std::path::Path, format: &str, file: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tiegraph"))
        .args(["import", "--format", format, "--data-dir"])
        .arg(dir)
        .arg(format!("{}/examples/{file}", env!("CARGO_MANIFEST_DIR")))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{file}: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// After a merge, the same download finds the ties where the merge put them: nothing changes.
#[test]
fn a_download_imported_again_after_a_merge_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    import_file(dir.path(), "usaspending", "usaspending-awards.csv");
    import_file(dir.path(), "littlesis", "littlesis.json");
    {
        let service = Service::open(dir.path(), Default::default()).unwrap();
        service
            .merge_entities(
                "northwind-example-analytics-900001",
                "northwind-example-analytics-inc-nwexample001",
            )
            .unwrap();
        // And CBP's record is merged into one made by hand.
        service
            .create_entity(
                serde_json::from_value(json!({"id": "cbp", "kind": "AGENCY", "name": "CBP"}))
                    .unwrap(),
            )
            .unwrap();
        service
            .merge_entities("cbp", "u-s-customs-and-border-protection")
            .unwrap();
    }
    let again = import_file(dir.path(), "usaspending", "usaspending-awards.csv");
    assert!(
        again.contains("0 entities created")
            && again.contains("0 relations created, 0 updated; 0 claims added"),
        "{again}"
    );
    let service = Service::open(dir.path(), Default::default()).unwrap();
    assert!(service
        .entity("u-s-customs-and-border-protection")
        .unwrap()
        .is_none());
    let tie = service
        .relation("northwind-example-analytics-900001-vendor-to-cbp")
        .unwrap()
        .expect("the merged tie");
    assert_eq!(tie.relation.amount.map(|a| a.value), Some(2_248_000.0));
}
