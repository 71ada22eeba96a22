//! Exports and imports at the formats boundary: every writer's output read back with a real
//! reader (quick-xml, csv, serde_json) for the seed graph and for searches' subgraphs, and the
//! FtM and CSV imports on real sled stores (good files, re-imports, bad rows).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use quick_xml::events::Event;
use quick_xml::XmlVersion;
use serde_json::{json, Value};
use tiegraph::formats::export::{ExportFormat, ExportPlan, PatternHop, Scope};
use tiegraph::formats::{csv_import, ftm, jsonl, FormatError, ImportBatch};
use tiegraph::model::{EntityKind, RelationKind, Standing};
use tiegraph::service::{ImportSummary, Limits, Service};

use crate::util::Interrupting;

const SEED_ENTITIES: usize = 12;
const SEED_RELATIONS: usize = 17;

fn seed_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seed/raices-salesforce.jsonl")
}

fn empty_service(dir: &tempfile::TempDir) -> Service {
    Service::open(&dir.path().join("data"), Limits::default()).expect("open a store in a temp dir")
}

fn seeded(dir: &tempfile::TempDir) -> Service {
    let service = empty_service(dir);
    let file = File::open(seed_file()).expect("the seed file");
    let items = jsonl::read(BufReader::new(file), "seed").expect("the seed reads");
    service.import(items, &|_, _| {}).expect("the seed imports");
    service
}

fn export(service: &Service, scope: &Scope, format: ExportFormat) -> String {
    ExportPlan::select(service, scope)
        .and_then(|plan| plan.to_string(service, format))
        .expect("the export writes")
}

fn whole(service: &Service, format: ExportFormat) -> String {
    export(service, &Scope::All, format)
}

/// An export as NetworkX node-link JSON: the entity ids, and the edges as JSON.
fn node_link(service: &Service, scope: &Scope) -> (HashSet<String>, Vec<Value>) {
    let doc: Value = serde_json::from_str(&export(service, scope, ExportFormat::NodeLink)).unwrap();
    let ids = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, doc["edges"].as_array().unwrap().clone())
}

#[test]
fn export_graph_carries_standing_and_sources() {
    let dir = tempfile::tempdir().unwrap();
    let service = seeded(&dir);
    let (nodes, edges) = node_link(&service, &Scope::All);
    assert_eq!((nodes.len(), edges.len()), (SEED_ENTITIES, SEED_RELATIONS));
    let ice = edges
        .iter()
        .find(|e| e["key"] == "salesforce-vendor-to-ice")
        .unwrap();
    assert_eq!(ice["standing"], Standing::Denied.as_str());
    let claims = ice["claims"].as_array().unwrap();
    assert!(!claims.is_empty());
    assert!(claims
        .iter()
        .all(|c| c["source"]["title"] == "RAICES declines Salesforce donation"));
}

#[test]
fn json_formats_hold_every_node_edge_and_claim() {
    let dir = tempfile::tempdir().unwrap();
    let service = seeded(&dir);
    let cy: Value = serde_json::from_str(&whole(&service, ExportFormat::Cytoscape)).unwrap();
    let nodes = cy["elements"]["nodes"].as_array().unwrap();
    let edges = cy["elements"]["edges"].as_array().unwrap();
    assert_eq!((nodes.len(), edges.len()), (SEED_ENTITIES, SEED_RELATIONS));
    let cbp = nodes.iter().find(|n| n["data"]["id"] == "cbp").unwrap();
    assert_eq!(cbp["data"]["kind"], "AGENCY");
    let vendor = edges
        .iter()
        .find(|e| e["data"]["id"] == "salesforce-vendor-to-cbp")
        .unwrap();
    assert_eq!(vendor["data"]["source"], "salesforce");
    assert_eq!(vendor["data"]["target"], "cbp");
    assert_eq!(vendor["data"]["standing"], "CONFIRMED");
    assert_eq!(
        vendor["data"]["claims"][0]["source"]["id"],
        "raices-declines-salesforce-donation"
    );

    let go: Value = serde_json::from_str(&whole(&service, ExportFormat::Graphology)).unwrap();
    assert_eq!(go["options"]["type"], "directed");
    assert_eq!(go["options"]["multi"], true);
    assert_eq!(go["nodes"].as_array().unwrap().len(), SEED_ENTITIES);
    let edges = go["edges"].as_array().unwrap();
    assert_eq!(edges.len(), SEED_RELATIONS);
    let keys: HashSet<&str> = edges.iter().map(|e| e["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), SEED_RELATIONS, "edge keys are unique");

    let nl: Value = serde_json::from_str(&whole(&service, ExportFormat::NodeLink)).unwrap();
    assert_eq!(
        (nl["directed"].as_bool(), nl["multigraph"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(nl["nodes"].as_array().unwrap().len(), SEED_ENTITIES);
    let donation = nl["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "salesforce-donation-to-raices")
        .unwrap();
    assert_eq!(donation["status"], "DECLINED");
    assert_eq!(donation["amount"], 250000.0);
    assert_eq!(donation["currency"], "USD");
}

/// Reads an XML document with quick-xml: element counts by name, the declared key/attribute
/// ids, and every (element, attribute) value, failing on malformed XML.
struct XmlSummary {
    counts: HashMap<String, usize>,
    attributes: Vec<(String, HashMap<String, String>)>,
    texts: Vec<String>,
}

fn read_xml(text: &str) -> XmlSummary {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut summary = XmlSummary {
        counts: HashMap::new(),
        attributes: Vec::new(),
        texts: Vec::new(),
    };
    // quick-xml hands text and the references in it as separate events: gather, then unescape.
    let mut text = String::new();
    loop {
        let event = reader.read_event().expect("well-formed XML");
        if matches!(
            event,
            Event::Start(_) | Event::Empty(_) | Event::End(_) | Event::Eof
        ) && !text.trim().is_empty()
        {
            summary.texts.push(
                quick_xml::escape::unescape(&text)
                    .expect("known references")
                    .into_owned(),
            );
        }
        match event {
            Event::Start(e) | Event::Empty(e) => {
                text.clear();
                let name = e.name().as_ref().to_owned();
                *summary.counts.entry(name.clone()).or_default() += 1;
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("a well-formed attribute");
                        let key = a.key.as_ref().to_owned();
                        let value = a
                            .normalized_value(XmlVersion::Implicit1_0)
                            .expect("an escaped value")
                            .into_owned();
                        (key, value)
                    })
                    .collect();
                summary.attributes.push((name, attrs));
            }
            Event::End(_) => text.clear(),
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                text.push('&');
                text.push_str(&r.xml10_content());
                text.push(';');
            }
            Event::Eof => break,
            _ => {}
        }
    }
    summary
}

#[test]
fn graphml_is_well_formed_and_every_data_key_is_declared() {
    let dir = tempfile::tempdir().unwrap();
    let service = seeded(&dir);
    let xml = whole(&service, ExportFormat::Graphml);
    let summary = read_xml(&xml);
    assert_eq!(summary.counts["node"], SEED_ENTITIES);
    assert_eq!(summary.counts["edge"], SEED_RELATIONS);
    let declared: HashSet<&str> = summary
        .attributes
        .iter()
        .filter(|(n, _)| n == "key")
        .map(|(_, a)| a["id"].as_str())
        .collect();
    for (name, attrs) in &summary.attributes {
        if name == "data" {
            assert!(
                declared.contains(attrs["key"].as_str()),
                "data key {} is declared",
                attrs["key"]
            );
        }
    }
    for name in [
        "e_relation_id",
        "e_kind",
        "e_status",
        "e_standing",
        "e_claims",
        "e_sources",
        "n_kind",
    ] {
        assert!(declared.contains(name), "{name} is declared");
    }
    // The claims cell is JSON that survives XML escaping.
    assert!(summary
        .texts
        .iter()
        .any(|t| t.starts_with("[{") && serde_json::from_str::<Value>(t).is_ok()));
    assert!(summary.texts.iter().any(|t| t == "DENIED"));
    // Every edge carries its relation id as data too (python-igraph drops edge ids).
    let data_keys = summary
        .attributes
        .iter()
        .filter(|(n, a)| n == "data" && a["key"] == "e_relation_id")
        .count();
    assert_eq!(data_keys, SEED_RELATIONS);
    assert!(summary
        .texts
        .iter()
        .any(|t| t == "salesforce-vendor-to-cbp"));
}

#[test]
fn gexf_is_well_formed_with_declared_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let service = seeded(&dir);
    let xml = whole(&service, ExportFormat::Gexf);
    assert!(
        xml.contains(r#"xmlns="http://www.gexf.net/1.2draft""#) && xml.contains(r#"version="1.2""#)
    );
    let summary = read_xml(&xml);
    assert_eq!(summary.counts["node"], SEED_ENTITIES);
    assert_eq!(summary.counts["edge"], SEED_RELATIONS);
    let declared = summary
        .attributes
        .iter()
        .filter(|(n, _)| n == "attribute")
        .count();
    assert!(declared > 10);
    let edge_titles: Vec<&str> = summary
        .attributes
        .iter()
        .filter(|(n, _)| n == "attribute")
        .map(|(_, a)| a["title"].as_str())
        .collect();
    for title in ["kind", "standing", "claims", "sources"] {
        assert!(edge_titles.contains(&title), "{title} is declared");
    }
    let claims: Vec<&String> = summary
        .attributes
        .iter()
        .filter(|(n, a)| n == "attvalue" && a["value"].starts_with("[{"))
        .map(|(_, a)| &a["value"])
        .collect();
    assert_eq!(claims.len(), SEED_RELATIONS);
    for value in claims {
        let parsed: Vec<Value> = serde_json::from_str(value).expect("claims attvalue is JSON");
        assert!(parsed
            .iter()
            .all(|c| c["quote"].is_string() && c["source"]["id"].is_string()));
    }
}

#[test]
fn xml_escapes_line_breaks_and_markup() {
    let dir = tempfile::tempdir().unwrap();
    let service = seeded(&dir);
    let patch = tiegraph::model::EntityPatch {
        description: Some(Some("two\nlines & <tags> \"quoted\" 'bell'".into())),
        ..Default::default()
    };
    service.update_entity("cbp", patch).unwrap();
    for format in [ExportFormat::Graphml, ExportFormat::Gexf] {
        let summary = read_xml(&whole(&service, format));
        let all: Vec<String> = summary
            .texts
            .iter()
            .cloned()
            .chain(
                summary
                    .attributes
                    .iter()
                    .flat_map(|(_, a)| a.values().cloned()),
            )
            .collect();
        assert!(
            all.iter()
                .any(|t| t == "two\nlines & <tags> \"quoted\" 'bell'"),
            "{format:?} keeps the text"
        );
    }
}

#[test]
fn csv_files_have_a_header_and_a_row_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let service = seeded(&dir);
    let nodes = whole(&service, ExportFormat::CsvNodes);
    let mut reader = csv::Reader::from_reader(nodes.as_bytes());
    assert_eq!(&reader.headers().unwrap()[0], "id");
    assert_eq!(reader.records().count(), SEED_ENTITIES);
    let edges = whole(&service, ExportFormat::CsvEdges);
    let mut reader = csv::Reader::from_reader(edges.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let standing = headers.iter().position(|h| h == "standing").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), SEED_RELATIONS);
    assert!(rows.iter().any(|r| &r[standing] == "DISPUTED"));
}

#[test]
fn neighborhood_and_paths_scopes_export_their_subgraphs() {
    let dir = tempfile::tempdir().unwrap();
    let service = seeded(&dir);
    let params = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let scope = Scope::from_params(&params(&[
        ("scope", "neighborhood"),
        ("id", "dhs"),
        ("depth", "1"),
    ]))
    .unwrap();
    let (ids, edges) = node_link(&service, &scope);
    let expected: HashSet<String> = ["dhs", "cbp", "ice"].map(String::from).into();
    assert_eq!(ids, expected);
    assert!(edges
        .iter()
        .all(|e| e["kind"] == RelationKind::PartOf.as_str()));

    let pattern = r#"[{"relationKinds":["VENDOR_TO"],"direction":"IN"},{"direction":"ANY","entityKinds":["NONPROFIT"]}]"#;
    let hops = PatternHop::parse_pattern(pattern).unwrap();
    let scope = Scope::Paths {
        from: "cbp".into(),
        hops,
        to: None,
        include_denied: false,
    };
    let (ids, edges) = node_link(&service, &scope);
    for id in [
        "cbp",
        "salesforce",
        "raices",
        "media-alliance",
        "fight-for-the-future",
    ] {
        assert!(ids.contains(id), "{id} is on a path");
    }
    assert!(!edges.is_empty());
    assert!(edges.iter().all(|e| {
        ids.contains(e["source"].as_str().unwrap()) && ids.contains(e["target"].as_str().unwrap())
    }));

    for bad in [
        &[("scope", "neighborhood")][..],
        &[("scope", "paths"), ("from", "cbp")][..],
        &[
            ("scope", "paths"),
            ("from", "cbp"),
            ("pattern", "[{\"oops\":1}]"),
        ][..],
        &[("scope", "everything")][..],
    ] {
        let get = |name: &str| {
            bad.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        assert!(Scope::from_params(&get).unwrap_err().is_client_error());
    }
    assert!(ExportFormat::parse("pdf").is_err());
}

fn created(summary: &ImportSummary) -> usize {
    summary.entities_created
        + summary.entities_updated
        + summary.sources_created
        + summary.sources_updated
        + summary.relations_created
        + summary.relations_updated
        + summary.claims_added
}

fn jsonl_dump(service: &Service) -> String {
    let mut out = Vec::new();
    jsonl::write_all(service, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn csv_batch(nodes: &str, edges: &str) -> Result<ImportBatch, FormatError> {
    csv_import::read(nodes.as_bytes(), "nodes.csv", edges.as_bytes(), "edges.csv")
}

#[test]
fn csv_export_imports_back_as_it_was_and_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = seeded(&dir);
    let (nodes, edges) = (
        whole(&service, ExportFormat::CsvNodes),
        whole(&service, ExportFormat::CsvEdges),
    );

    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = empty_service(&fresh_dir);
    let summary = csv_batch(&nodes, &edges)
        .unwrap()
        .import(&fresh, &|_, _| {})
        .unwrap();
    assert_eq!(
        (summary.entities_created, summary.relations_created),
        (SEED_ENTITIES, SEED_RELATIONS)
    );
    assert_eq!(jsonl_dump(&fresh), jsonl_dump(&service));

    let again = csv_batch(&nodes, &edges)
        .unwrap()
        .import(&fresh, &|_, _| {})
        .unwrap();
    assert_eq!(created(&again), 0, "{again:?}");
    assert_eq!(jsonl_dump(&fresh), jsonl_dump(&service));
}

#[test]
fn csv_bad_rows_are_reported_by_file_and_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let service = empty_service(&dir);
    let nodes = "id,kind,name\nacme,COMPANY,Acme\nagency,AGENCY,An Agency\n";
    let claims = r#""[{""stance"":""ASSERTS"",""quote"":""Acme sells to the agency."",""source"":{""id"":""memo"",""title"":""A memo""}}]""#;
    // Line 3 names an entity no file holds: the service refuses it, the batch names the line.
    let edges = format!(
        "id,source,target,kind,claims\nacme-vendor-to-agency,acme,agency,VENDOR_TO,{claims}\nghost-vendor-to-agency,ghost,agency,VENDOR_TO,{claims}\n"
    );
    match csv_batch(nodes, &edges)
        .unwrap()
        .import(&service, &|_, _| {})
    {
        Err(FormatError::BadLine {
            file,
            line,
            message,
        }) => {
            assert_eq!((file.as_str(), line), ("edges.csv", 3), "{message}");
            assert!(message.contains("ghost"), "{message}");
        }
        other => panic!("expected a bad line, got {other:?}"),
    }
    assert_eq!((service.entity_count(), service.relation_count()), (0, 0));
    assert!(service.is_empty());

    // A bad kind is caught while reading, on its own line.
    let bad_kind = "id,kind,name\nacme,COMPANY,Acme\nagency,MINISTRY,An Agency\n";
    match csv_batch(bad_kind, "id,source,target,kind,claims\n") {
        Err(FormatError::BadLine { file, line, .. }) => {
            assert_eq!((file.as_str(), line), ("nodes.csv", 3))
        }
        other => panic!("expected a bad line, got {other:?}"),
    }
    match csv_batch("id,kind,name,colour\n", "id,source,target,kind,claims\n") {
        Err(FormatError::BadLine {
            line: 1, message, ..
        }) => assert!(message.contains("colour")),
        other => panic!("expected an unknown column, got {other:?}"),
    }
}

const FTM: &str = r#"{"id": "co-acme", "schema": "Company", "properties": {"name": ["Acme Corp", "ACME"], "country": ["us"], "leiCode": ["5493001KJTIIGC8Y1R12"]}}
{"id": "pb.agency/1", "schema": "PublicBody", "properties": {"name": ["Border Agency"], "country": ["us"]}}
{"id": "org-helpers", "schema": "Organization", "properties": {"name": ["Helpers United"]}}
{"id": "p-jane", "schema": "Person", "properties": {"name": ["Jane Roe"]}}
{"id": "dir-1", "schema": "Directorship", "properties": {"director": ["p-jane"], "organization": ["co-acme"], "role": ["chief executive"], "startDate": ["2018-03-01"], "sourceUrl": ["https://example.org/filing"], "publisher": ["Registry"]}}
{"id": "contract-1", "schema": "Contract", "properties": {"title": ["Cloud services"], "authority": ["pb.agency/1"]}}
{"id": "award-1", "schema": "ContractAward", "properties": {"supplier": ["co-acme"], "contract": ["contract-1"], "amount": ["1200000"], "currency": ["usd"], "startDate": ["2019-05-01T00:00:00"], "sourceUrl": ["https://example.org/awards"]}}
{"id": "pay-1", "schema": "Payment", "properties": {"payer": ["co-acme"], "beneficiary": ["org-helpers"], "amount": ["250000"], "currency": ["USD"], "date": ["2019"], "publisher": ["Newspaper"], "publishedAt": ["2019-07-11"]}}
{"id": "rep-1", "schema": "Representation", "properties": {"agent": ["co-acme"], "client": ["pb.agency/1"], "role": ["lobbying"]}, "datasets": ["lobby_register"]}
{"id": "rep-2", "schema": "Representation", "properties": {"agent": ["p-jane"], "client": ["org-helpers"]}, "datasets": ["lobby_register"]}
{"id": "dir-2", "schema": "Directorship", "properties": {"director": ["co-acme"], "organization": ["org-helpers"]}}
{"id": "addr-1", "schema": "Address", "properties": {"full": ["1 Main St"]}}
{"id": "link-1", "schema": "UnknownLink", "properties": {"subject": ["org-helpers"], "object": ["pb.agency/1"], "role": ["partner"]}}
"#;

fn ftm_batch(text: &str, service: &Service) -> Result<ImportBatch, FormatError> {
    ftm::read(text.as_bytes(), "acme.ftm.json", &|slug| {
        service.entity(slug).ok().flatten().map(|e| e.kind)
    })
}

#[test]
fn ftm_maps_schemata_to_kinds_with_sources_and_generated_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let service = empty_service(&dir);
    let batch = ftm_batch(FTM, &service).unwrap();
    assert!(
        batch.notes.iter().any(|n| n.contains("Address")),
        "{:?}",
        batch.notes
    );
    let summary = batch.import(&service, &|_, _| {}).unwrap();
    assert_eq!(
        (summary.entities_created, summary.relations_created),
        (4, 7)
    );

    let acme = service.entity(&ftm::ftm_slug("co-acme")).unwrap().unwrap();
    assert_eq!(
        (acme.kind, acme.name.as_str(), acme.country.as_deref()),
        (EntityKind::Company, "Acme Corp", Some("US"))
    );
    assert_eq!(acme.aliases, vec!["ACME".to_owned()]);
    assert!(acme
        .identifiers
        .iter()
        .any(|i| i.scheme == "ftm" && i.value == "co-acme"));
    assert!(acme.identifiers.iter().any(|i| i.scheme == "lei"));
    let agency = service
        .entity(&ftm::ftm_slug("pb.agency/1"))
        .unwrap()
        .unwrap();
    assert_eq!(agency.kind, EntityKind::Agency);
    assert_eq!(
        service
            .entity(&ftm::ftm_slug("org-helpers"))
            .unwrap()
            .unwrap()
            .kind,
        EntityKind::Nonprofit
    );

    let relation = |id: &str| {
        service
            .relation(&ftm::ftm_slug(id))
            .unwrap()
            .unwrap()
            .relation
    };
    let officer = relation("dir-1");
    assert_eq!(
        (officer.kind, officer.role.as_deref()),
        (RelationKind::OfficerOf, Some("chief executive"))
    );
    assert_eq!(
        officer.period.start.map(|d| d.to_string()).as_deref(),
        Some("2018-03-01")
    );
    let award = relation("award-1");
    assert_eq!(
        (award.kind, award.to.as_str()),
        (RelationKind::VendorTo, agency.id.as_str())
    );
    assert_eq!(
        award
            .amount
            .as_ref()
            .map(|a| (a.value, a.currency.as_str())),
        Some((1_200_000.0, "USD"))
    );
    assert_eq!(award.description.as_deref(), Some("Cloud services"));
    assert_eq!(relation("pay-1").kind, RelationKind::Donation);
    // An agent acting for a client lobbies nobody by it, whoever the client is; a company
    // directing is no officer.
    assert_eq!(
        (relation("rep-1").kind, relation("rep-1").role.as_deref()),
        (RelationKind::AssociatedWith, Some("represents: lobbying"))
    );
    assert_eq!(
        (relation("rep-2").kind, relation("rep-2").role.as_deref()),
        (RelationKind::AssociatedWith, Some("represents"))
    );
    assert_eq!(
        (relation("dir-2").kind, relation("dir-2").role.as_deref()),
        (RelationKind::AssociatedWith, Some("director"))
    );
    assert_eq!(relation("link-1").kind, RelationKind::AssociatedWith);

    let claims = service.relation(&officer.id).unwrap().unwrap().claims;
    assert_eq!(claims.len(), 1);
    assert!(
        claims[0]
            .quote
            .starts_with("[generated from FollowTheMoney Directorship dir-1]"),
        "{}",
        claims[0].quote
    );
    assert!(claims[0].quote.contains("Jane Roe"));
    let source = service.source(&claims[0].source).unwrap().unwrap();
    assert_eq!(
        (source.url.as_deref(), source.publisher.as_deref()),
        (Some("https://example.org/filing"), Some("Registry"))
    );
    let paid = service
        .relation(&relation("pay-1").id)
        .unwrap()
        .unwrap()
        .claims;
    let source = service.source(&paid[0].source).unwrap().unwrap();
    assert_eq!(
        source.published.map(|d| d.to_string()).as_deref(),
        Some("2019-07-11")
    );
}

#[test]
fn ftm_reimport_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = empty_service(&dir);
    ftm_batch(FTM, &service)
        .unwrap()
        .import(&service, &|_, _| {})
        .unwrap();
    let before = jsonl_dump(&service);
    let again = ftm_batch(FTM, &service)
        .unwrap()
        .import(&service, &|_, _| {})
        .unwrap();
    assert_eq!(created(&again), 0, "{again:?}");
    assert_eq!(jsonl_dump(&service), before);
}

#[test]
fn ftm_bad_rows_are_reported_by_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let service = empty_service(&dir);
    let lines: Vec<&str> = FTM.lines().collect();

    // Caught while reading: a payment whose amount is no number, on line 3.
    let bad_amount = [lines[0], lines[2], r#"{"id": "pay-x", "schema": "Payment", "properties": {"payer": ["co-acme"], "beneficiary": ["org-helpers"], "amount": ["lots"], "currency": ["USD"]}}"#].join("\n");
    match ftm_batch(&bad_amount, &service) {
        Err(FormatError::BadLine {
            line: 3, message, ..
        }) => assert!(message.contains("lots"), "{message}"),
        other => panic!("expected line 3 to be refused, got {other:?}"),
    }
    // Caught by the service: a director the store does not hold, on line 2.
    let ghost = [lines[0], r#"{"id": "dir-x", "schema": "Directorship", "properties": {"director": ["p-ghost"], "organization": ["co-acme"]}}"#].join("\n");
    match ftm_batch(&ghost, &service)
        .unwrap()
        .import(&service, &|_, _| {})
    {
        Err(FormatError::BadLine {
            file,
            line,
            message,
        }) => {
            assert_eq!((file.as_str(), line), ("acme.ftm.json", 2), "{message}");
        }
        other => panic!("expected line 2 to be refused, got {other:?}"),
    }
    // Not JSON at all, on line 2.
    match ftm_batch(&format!("{}\nnot json\n", lines[0]), &service) {
        Err(FormatError::BadLine { line: 2, .. }) => {}
        other => panic!("expected line 2 to be refused, got {other:?}"),
    }
    assert!(service.is_empty());
    assert_eq!((service.entity_count(), service.relation_count()), (0, 0));
}

#[test]
fn ftm_slugs_are_deterministic_slugs() {
    for id in [
        "co-acme",
        "pb.agency/1",
        "NK-9ZxQ",
        "a3f9e0c1b2d4",
        "",
        "ÜBER GmbH",
    ] {
        let slug = ftm::ftm_slug(id);
        assert_eq!(slug, ftm::ftm_slug(id));
        tiegraph::model::check_slug("id", &slug).unwrap();
    }
    assert_ne!(ftm::ftm_slug("a.b"), ftm::ftm_slug("a-b"));
}

/// Three lines of `text`-like records, the third with a Latin-1 `é` (0xE9, no UTF-8) in place of
/// `@`; and where that byte is in its line, counting from 1.
fn bad_byte_on_line_3(text: &str) -> (Vec<u8>, usize) {
    assert_eq!(text.lines().count(), 3, "three lines");
    let third = text.lines().nth(2).unwrap();
    let column = third.find('@').unwrap() + 1;
    let bytes = text
        .bytes()
        .map(|b| if b == b'@' { 0xE9 } else { b })
        .collect();
    (bytes, column)
}

#[test]
fn jsonl_invalid_utf8_is_reported_by_file_and_line_and_nothing_is_written() {
    let text = "# a comment counts as a line\n\
        {\"type\":\"entity\",\"id\":\"acme\",\"kind\":\"COMPANY\",\"name\":\"Acme\"}\n\
        {\"type\":\"entity\",\"id\":\"cafe\",\"kind\":\"COMPANY\",\"name\":\"Caf@\"}\n";
    let (bytes, column) = bad_byte_on_line_3(text);
    let expected = format!("data.jsonl:3: the line is not valid UTF-8 (byte {column})");

    // `read`, then an import (the CLI, /admin/import and the seed loader): nothing is imported.
    let dir = tempfile::tempdir().unwrap();
    let service = seeded(&dir);
    let before = jsonl_dump(&service);
    let imported = jsonl::read(&bytes[..], "data.jsonl").and_then(|items| {
        service
            .import(items, &|_, _| {})
            .map_err(|source| FormatError::Service {
                file: "data.jsonl".into(),
                source,
            })
    });
    match imported {
        Err(error @ FormatError::BadLine { .. }) => {
            assert_eq!(error.to_string(), expected);
            match error {
                FormatError::BadLine { file, line, .. } => {
                    assert_eq!((file.as_str(), line), ("data.jsonl", 3))
                }
                _ => unreachable!(),
            }
        }
        other => panic!("expected line 3 to be refused, got {other:?}"),
    }
    assert_eq!(jsonl_dump(&service), before);

    // `stream`, as the bulk load into an empty store reads it: refused in the checking pass.
    let empty_dir = tempfile::tempdir().unwrap();
    let empty = empty_service(&empty_dir);
    let loaded = empty.import_stream(
        || Ok(jsonl::import_items(&bytes[..], "data.jsonl".into())),
        &|_, _| {},
    );
    match loaded {
        Err(error) => assert!(error.to_string().contains(&expected), "{error}"),
        Ok(summary) => panic!("expected line 3 to be refused, got {summary:?}"),
    }
    assert!(empty.is_empty());
    assert_eq!((empty.entity_count(), empty.relation_count()), (0, 0));
}

#[test]
fn csv_invalid_utf8_is_reported_by_file_and_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let service = empty_service(&dir);
    let import = |nodes: &[u8], edges: &[u8]| {
        csv_import::read(nodes, "nodes.csv", edges, "edges.csv")
            .and_then(|batch| batch.import(&service, &|_, _| {}))
    };
    let nodes = "id,kind,name\nacme,COMPANY,Acme\nagency,AGENCY,An Agenc@\n";
    let good_nodes = nodes.replace('@', "y");
    let claims = r#""[{""stance"":""ASSERTS"",""quote"":""Acme sells to the agency."",""source"":{""id"":""memo"",""title"":""A memo""}}]""#;
    let edges = "id,source,target,kind,claims\n";

    let (bad_nodes, _) = bad_byte_on_line_3(nodes);
    match import(&bad_nodes, edges.as_bytes()) {
        Err(error @ FormatError::BadLine { .. }) => assert_eq!(
            error.to_string(),
            "nodes.csv:3: the line is not valid UTF-8 (in column `name`)"
        ),
        other => panic!("expected nodes.csv:3 to be refused, got {other:?}"),
    }

    // The bad byte is in a quoted cell that starts on line 2 and goes on to line 3.
    let edges = format!(
        "id,source,target,kind,description,claims\n\
         acme-vendor-to-agency,acme,agency,VENDOR_TO,\"Sells cloud services,\n\
         caf@ included\",{claims}\n"
    );
    let (bad_edges, _) = bad_byte_on_line_3(&edges);
    match import(good_nodes.as_bytes(), &bad_edges) {
        Err(error @ FormatError::BadLine { .. }) => assert_eq!(
            error.to_string(),
            "edges.csv:3: the line is not valid UTF-8 (in column `description`)"
        ),
        other => panic!("expected edges.csv:3 to be refused, got {other:?}"),
    }

    // In the header, where the column has no name yet.
    match import(b"id,kind,n\xE9me\n", edges.as_bytes()) {
        Err(error @ FormatError::BadLine { .. }) => assert_eq!(
            error.to_string(),
            "nodes.csv:1: the line is not valid UTF-8 (in field 3)"
        ),
        other => panic!("expected nodes.csv:1 to be refused, got {other:?}"),
    }

    assert!(service.is_empty());
    assert_eq!((service.entity_count(), service.relation_count()), (0, 0));
    // The same files, UTF-8 throughout, import.
    let good_edges = edges.replace('@', "e");
    import(good_nodes.as_bytes(), good_edges.as_bytes()).unwrap();
    assert_eq!((service.entity_count(), service.relation_count()), (2, 1));
}

#[test]
fn ftm_invalid_utf8_is_reported_by_file_and_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let service = empty_service(&dir);
    let lines: Vec<&str> = FTM.lines().collect();
    let third =
        r#"{"id": "org-cafe", "schema": "Organization", "properties": {"name": ["Caf@ United"]}}"#;
    let (bytes, column) = bad_byte_on_line_3(&[lines[0], lines[1], third].join("\n"));
    let imported = ftm::read(&bytes[..], "acme.ftm.json", &|_| None)
        .and_then(|batch| batch.import(&service, &|_, _| {}));
    match imported {
        Err(error @ FormatError::BadLine { .. }) => assert_eq!(
            error.to_string(),
            format!("acme.ftm.json:3: the line is not valid UTF-8 (byte {column})")
        ),
        other => panic!("expected line 3 to be refused, got {other:?}"),
    }
    assert!(service.is_empty());
    assert_eq!((service.entity_count(), service.relation_count()), (0, 0));
}

/// A node-link document's nodes and edges, each sorted by id: what it holds, in any order.
fn contents(document: &str) -> (Vec<Value>, Vec<Value>) {
    let doc: Value = serde_json::from_str(document).unwrap();
    let sorted = |list: &Value, key: &str| {
        let mut items = list.as_array().unwrap().clone();
        items.sort_by(|a, b| a[key].as_str().cmp(&b[key].as_str()));
        items
    };
    (sorted(&doc["nodes"], "id"), sorted(&doc["edges"], "key"))
}

#[test]
fn a_whole_graph_export_is_the_graph_as_it_began_whatever_is_written_meanwhile() {
    use tiegraph::model::{EntityDraft, EntityPatch, RelationDraft};

    let dir = tempfile::tempdir().unwrap();
    let service = seeded(&dir);
    let before = whole(&service, ExportFormat::NodeLink);
    let entity = |id: &str| EntityDraft {
        id: Some(id.into()),
        kind: EntityKind::Company,
        name: "Created meanwhile".into(),
        aliases: vec![],
        description: None,
        country: None,
        category: None,
        identifiers: vec![],
    };
    let writes = || {
        // An entity created with a tie to it: in the export, the tie would point at nothing.
        service.create_entity(entity("aaa-created")).unwrap();
        service.create_entity(entity("zzz-created")).unwrap();
        let draft: RelationDraft = serde_json::from_value(serde_json::json!({
            "from": "zzz-created", "to": "cbp", "kind": "VENDOR_TO",
            "claims": [{"source": "raices-declines-salesforce-donation", "stance": "ASSERTS",
                        "quote": "RAICES"}]
        }))
        .unwrap();
        service.create_relation(draft).unwrap();
        service.delete_relation("salesforce-vendor-to-ice").unwrap();
        let patch = EntityPatch {
            name: Some("Renamed meanwhile".into()),
            ..Default::default()
        };
        service.update_entity("salesforce", patch).unwrap();
    };
    let mut out = Interrupting::new(2_000, writes);
    ExportPlan::select(&service, &Scope::All)
        .unwrap()
        .write(&service, ExportFormat::NodeLink, &mut out)
        .unwrap();
    assert!(out.midway.is_none() && out.bytes.len() > 2 * out.at);
    let during = String::from_utf8(out.bytes).unwrap();
    assert_eq!(contents(&during), contents(&before));
    assert_ne!(
        contents(&whole(&service, ExportFormat::NodeLink)),
        contents(&before),
        "the writes landed"
    );
}

/// The entities and relations an FtM text imports into an empty store, by FtM id.
fn ftm_import(text: &str) -> (Service, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let service = empty_service(&dir);
    let batch = ftm::read(text.as_bytes(), "data.ftm", &|_| None).expect("the file reads");
    batch
        .import(&service, &|_, _| {})
        .expect("the file imports");
    (service, dir)
}

#[test]
fn ftm_statements_fragments_and_nested_entities_become_whole_records() {
    // Statements as JSON lines (`ftm` and OpenSanctions' statements export).
    let statements = r#"
{"id": "s1", "entity_id": "co-1", "canonical_id": "co-1", "schema": "Company", "prop": "id", "value": "co-1", "dataset": "d"}
{"id": "s2", "entity_id": "co-1", "schema": "Company", "prop": "name", "value": "Fictional Widgets Inc", "dataset": "d"}
{"id": "s3", "entity_id": "co-1", "schema": "Company", "prop": "alias", "value": "FWI", "dataset": "d"}
{"id": "s4", "entity_id": "pb-1", "schema": "PublicBody", "prop": "name", "value": "Office of Imaginary Affairs", "dataset": "d"}
{"id": "s5", "entity_id": "rep-1", "schema": "Representation", "prop": "agent", "value": "co-1", "dataset": "d"}
{"id": "s6", "entity_id": "rep-1", "schema": "Representation", "prop": "client", "value": "pb-1", "dataset": "d"}
"#;
    let (service, _dir) = ftm_import(statements);
    let company = service.entity(&ftm::ftm_slug("co-1")).unwrap().unwrap();
    assert_eq!(
        (company.name.as_str(), company.aliases.clone()),
        ("Fictional Widgets Inc", vec!["FWI".to_owned()])
    );
    let tie = service
        .relation(&ftm::ftm_slug("rep-1"))
        .unwrap()
        .unwrap()
        .relation;
    assert_eq!(
        (tie.kind, tie.role.as_deref()),
        (RelationKind::AssociatedWith, Some("represents"))
    );

    // The same statements as CSV.
    let csv = "id,entity_id,canonical_id,prop,prop_type,schema,value,dataset\n\
s2,co-1,co-1,name,name,Company,Fictional Widgets Inc,d\n\
s4,pb-1,pb-1,name,name,PublicBody,Office of Imaginary Affairs,d\n\
s5,rep-1,rep-1,agent,entity,Representation,co-1,d\n\
s6,rep-1,rep-1,client,entity,Representation,pb-1,d\n";
    let (service, _dir) = ftm_import(csv);
    assert_eq!(
        service
            .entity(&ftm::ftm_slug("pb-1"))
            .unwrap()
            .unwrap()
            .kind,
        EntityKind::Agency
    );
    assert!(service.relation(&ftm::ftm_slug("rep-1")).unwrap().is_some());

    // Fragments of one entity on several lines, a generic schema among them, are one entity.
    let fragments = r#"
{"id": "co-2", "schema": "LegalEntity", "properties": {"name": ["Made-Up Holdings"]}}
{"id": "co-2", "schema": "Company", "properties": {"alias": ["MUH"], "country": ["us"]}}
"#;
    let (service, _dir) = ftm_import(fragments);
    let merged = service.entity(&ftm::ftm_slug("co-2")).unwrap().unwrap();
    assert_eq!(
        (merged.kind, merged.name.as_str(), merged.country.as_deref()),
        (EntityKind::Company, "Made-Up Holdings", Some("US"))
    );

    // OpenSanctions' nested style: a link and its far end inside the near end's properties.
    let nested = r#"{"id": "p-1", "schema": "Person", "properties": {"name": ["Jo Example"], "ownershipOwner": [{"id": "own-1", "schema": "Ownership", "properties": {"owner": ["p-1"], "asset": [{"id": "co-3", "schema": "Company", "properties": {"name": ["Example Shell Ltd"]}}]}}]}}"#;
    let (service, _dir) = ftm_import(nested);
    assert!(service.entity(&ftm::ftm_slug("co-3")).unwrap().is_some());
    let owns = service
        .relation(&ftm::ftm_slug("own-1"))
        .unwrap()
        .unwrap()
        .relation;
    assert_eq!(
        (owns.kind, owns.from.as_str(), owns.to.as_str()),
        (
            RelationKind::Owns,
            ftm::ftm_slug("p-1").as_str(),
            ftm::ftm_slug("co-3").as_str()
        )
    );

    // Fragments that disagree on a specific schema are refused, naming the line.
    let clash = "{\"id\": \"x\", \"schema\": \"Company\", \"properties\": {\"name\": [\"X\"]}}\n{\"id\": \"x\", \"schema\": \"Person\", \"properties\": {}}\n";
    let error = ftm::read(clash.as_bytes(), "clash.ftm", &|_| None).unwrap_err();
    assert!(error.to_string().contains("clash.ftm:2"), "{error}");
    assert!(error.to_string().contains("two schemata"), "{error}");
}

#[tokio::test]
async fn the_graphql_export_is_json_for_json_formats_and_a_string_for_the_others() {
    let server = crate::util::TestServer::start().await;
    let answer = server
        .data(
            r#"{ c: export(format: CYTOSCAPE) n: export(format: NODE_LINK) }"#,
            json!({}),
        )
        .await;
    // The server builds two exports at once at most: the rest in a second request.
    let more = server
        .data(
            r#"{ x: export(format: GRAPHML)
                 neighborhood(id: "cbp") { g: export(format: GRAPHOLOGY) } }"#,
            json!({}),
        )
        .await;
    let csv = server
        .data(
            r#"{ neighborhood(id: "cbp") { csv: export(format: CSV_EDGES) } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        answer["c"]["elements"]["nodes"].as_array().map(Vec::len),
        Some(SEED_ENTITIES)
    );
    assert_eq!(answer["n"]["directed"], true);
    assert!(more["neighborhood"]["g"]["nodes"].is_array(), "{more}");
    assert!(more["x"].as_str().is_some_and(|x| x.starts_with("<?xml")));
    assert!(csv["neighborhood"]["csv"]
        .as_str()
        .is_some_and(|csv| csv.contains("salesforce-vendor-to-cbp")));
    server.stop().await;
}
