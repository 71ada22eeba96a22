//! Hub-proof searches (issue 9): set answers from frontiers, pages served from one search,
//! cursors across graph versions, path counts only when asked, paths streamed page by page,
//! a bounded number of searches at once, and a document parsed once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use tiegraph::api::{build_schema, prepare, SchemaLimits};
use tiegraph::model::{
    ClaimDraft, EntityDraft, EntityKind, RelationDraft, RelationKind, SourceDraft,
};
use tiegraph::service::{ImportItem, Limits, SearchLimits, Service};

use crate::util::TestServer;

const VENDORS: usize = 300;
const NONPROFITS: usize = 120;

fn entity(id: String, kind: EntityKind) -> ImportItem {
    ImportItem::Entity(EntityDraft {
        id: Some(id.clone()),
        kind,
        name: id,
        aliases: vec![],
        description: None,
        country: None,
        category: None,
        identifiers: vec![],
    })
}

fn relation(id: String, kind: RelationKind, from: String, to: String) -> ImportItem {
    ImportItem::Relation(RelationDraft {
        id: Some(id),
        kind,
        from,
        to,
        status: None,
        role: None,
        description: None,
        amount: None,
        start: None,
        end: None,
        claims: vec![ClaimDraft {
            source: "hub-source".into(),
            stance: Default::default(),
            claimant: None,
            quote: "q".into(),
        }],
    })
}

/// A hub agency with many vendors, each tied to one to three of a pool of nonprofits.
fn hub_service(limits: Limits) -> (Arc<Service>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let service = Arc::new(Service::open(dir.path(), limits).unwrap());
    let mut items = vec![(
        1,
        ImportItem::Source(SourceDraft {
            id: Some("hub-source".into()),
            title: "Hub".into(),
            ..SourceDraft::default()
        }),
    )];
    items.push((2, entity("agency".into(), EntityKind::Agency)));
    for n in 0..NONPROFITS {
        items.push((2, entity(format!("np{n:03}"), EntityKind::Nonprofit)));
    }
    for v in 0..VENDORS {
        items.push((2, entity(format!("v{v:03}"), EntityKind::Company)));
        items.push((
            3,
            relation(
                format!("sell{v:03}"),
                RelationKind::VendorTo,
                format!("v{v:03}"),
                "agency".into(),
            ),
        ));
        for k in 0..(1 + v % 3) {
            let n = (v * 7 + k * 13) % NONPROFITS;
            items.push((
                3,
                relation(
                    format!("give{v:03}-{k}"),
                    RelationKind::Donation,
                    format!("v{v:03}"),
                    format!("np{n:03}"),
                ),
            ));
        }
    }
    service.import(items, &|_, _| {}).unwrap();
    (service, dir)
}

/// The nonprofits the vendor pattern reaches, by brute force over the same ties.
fn expected_nonprofits() -> BTreeSet<String> {
    (0..VENDORS)
        .flat_map(|v| {
            (0..(1 + v % 3)).map(move |k| format!("np{:03}", (v * 7 + k * 13) % NONPROFITS))
        })
        .collect()
}

const VENDOR_PATTERN: &str =
    r#"[{relationKinds: [VENDOR_TO], direction: IN}, {direction: ANY, entityKinds: [NONPROFIT]}]"#;

fn connected_page(first: usize, after: Option<&str>, fields: &str) -> String {
    let after = after.map_or(String::new(), |a| format!(", after: \"{a}\""));
    format!(
        r#"{{ connected(from: "agency", pattern: {VENDOR_PATTERN}, first: {first}{after}) {{ partial totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ entity {{ id }} {fields} }} }} }} }}"#
    )
}

fn ids(page: &Value) -> Vec<String> {
    page["connected"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["entity"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn metric(server: &TestServer, name: &str) -> u64 {
    let text = server
        .client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} in {text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn every_page_of_a_hub_answer_comes_from_one_search() {
    let (service, dir) = hub_service(Limits::default());
    let server = TestServer::start_with(service, dir).await;
    let expected = expected_nonprofits();
    let before = metric(&server, "tiegraph_searches_total").await;
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = server
            .data(&connected_page(7, after.as_deref(), ""), json!({}))
            .await;
        assert_eq!(page["connected"]["partial"], false);
        assert_eq!(page["connected"]["totalCount"], expected.len());
        all.extend(ids(&page));
        pages += 1;
        if page["connected"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["connected"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(all, expected.iter().cloned().collect::<Vec<_>>());
    assert!(pages > 10);
    // One search for all those pages; the rest were served from its kept answer.
    assert_eq!(metric(&server, "tiegraph_searches_total").await - before, 1);
    assert_eq!(
        metric(&server, "tiegraph_search_answers_kept_served_total").await,
        pages - 1
    );
    server.stop().await;
}

#[tokio::test]
async fn a_cursor_from_an_older_graph_continues_after_its_place() {
    let (service, dir) = hub_service(Limits::default());
    let server = TestServer::start_with(Arc::clone(&service), dir).await;
    let first = server.data(&connected_page(10, None, ""), json!({})).await;
    let seen = ids(&first);
    let cursor = first["connected"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    // The graph changes between pages: a nonprofit before the cursor and one after it join.
    let add = |id: &str, via: &str| {
        format!(
            r#"mutation {{ a: createEntity(input: {{id: "{id}", kind: NONPROFIT, name: "{id}"}}) {{ id }}
               b: createRelation(input: {{id: "{via}", kind: DONATION, from: "v001", to: "{id}", claim: {{source: "hub-source", quote: "q"}}}}) {{ id }} }}"#
        )
    };
    server.data(&add("np000a", "late-early"), json!({})).await;
    server.data(&add("npzzz", "late-late"), json!({})).await;
    let mut rest = Vec::new();
    let mut after = Some(cursor.clone());
    loop {
        let page = server
            .data(&connected_page(50, after.as_deref(), ""), json!({}))
            .await;
        rest.extend(ids(&page));
        if page["connected"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["connected"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    // Nothing repeats and nothing after the cursor is skipped: the new one after it is there.
    assert!(rest.iter().all(|id| id.as_str() > cursor.as_str()));
    assert!(rest.iter().all(|id| !seen.contains(id)));
    let mut expected: Vec<String> = expected_nonprofits()
        .into_iter()
        .chain(["npzzz".to_owned()])
        .filter(|id| id.as_str() > cursor.as_str())
        .collect();
    expected.sort();
    assert_eq!(rest, expected);
    server.stop().await;
}

#[tokio::test]
async fn path_counts_are_computed_when_asked_and_say_when_they_are_lower_bounds() {
    let (service, dir) = hub_service(Limits::default());
    let server = TestServer::start_with(service, dir).await;
    let page = server
        .data(
            &connected_page(
                200,
                None,
                "pathCount pathCountExact examples { hops { relation { id } } }",
            ),
            json!({}),
        )
        .await;
    // Brute force: each vendor tie to a nonprofit is one path.
    for edge in page["connected"]["edges"].as_array().unwrap() {
        let id = edge["node"]["entity"]["id"].as_str().unwrap();
        let paths = (0..VENDORS)
            .flat_map(|v| (0..(1 + v % 3)).map(move |k| (v, (v * 7 + k * 13) % NONPROFITS)))
            .filter(|(_, n)| format!("np{n:03}") == id)
            .count();
        assert_eq!(edge["node"]["pathCount"], paths, "{id}");
        assert_eq!(edge["node"]["pathCountExact"], true);
        let examples = edge["node"]["examples"].as_array().unwrap();
        assert_eq!(examples.len(), paths.min(3));
    }
    // A budget too small for the counts, yet enough for the set: the counts say so.
    let tight = format!(
        r#"{{ connected(from: "agency", pattern: {VENDOR_PATTERN}, first: 200, budget: {{maxVisits: 2000}}) {{ partial totalCount edges {{ node {{ pathCount pathCountExact }} }} }} }}"#
    );
    let page = server.data(&tight, json!({})).await;
    assert_eq!(page["connected"]["partial"], false, "{page}");
    let edges = page["connected"]["edges"].as_array().unwrap();
    assert!(
        edges.iter().all(|e| e["node"]["pathCountExact"] == false),
        "{page}"
    );
    server.stop().await;
}

#[tokio::test]
async fn path_pages_follow_their_cursor_and_count_only_when_asked() {
    let (service, dir) = hub_service(Limits::default());
    let server = TestServer::start_with(service, dir).await;
    let page = |after: Option<&str>| {
        let after = after.map_or(String::new(), |a| format!(", after: \"{a}\""));
        format!(
            r#"{{ paths(from: "agency", pattern: {VENDOR_PATTERN}, first: 25{after}) {{ partial pageInfo {{ hasNextPage endCursor }} edges {{ node {{ hops {{ relation {{ id }} }} }} }} }} }}"#
        )
    };
    let mut keys: Vec<Vec<String>> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = server.data(&page(after.as_deref()), json!({})).await;
        assert_eq!(data["paths"]["partial"], false);
        for edge in data["paths"]["edges"].as_array().unwrap() {
            keys.push(
                edge["node"]["hops"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h["relation"]["id"].as_str().unwrap().to_owned())
                    .collect(),
            );
        }
        if data["paths"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = data["paths"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "in relation-id order, none twice");
    let expected: usize = (0..VENDORS).map(|v| 1 + v % 3).sum();
    assert_eq!(keys.len(), expected);
    let counted = server
        .data(
            &format!(r#"{{ paths(from: "agency", pattern: {VENDOR_PATTERN}, first: 1) {{ totalCount }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(counted["paths"]["totalCount"], expected);
    server.stop().await;
}

#[tokio::test]
async fn searches_past_the_queue_are_refused_with_unavailable() {
    let limits = Limits {
        searches: SearchLimits {
            running: 1,
            waiting: 1,
            wait: Duration::from_millis(200),
            ..SearchLimits::default()
        },
        ..Limits::default()
    };
    let (service, dir) = crate::hardening::dense_service_with(limits);
    let server = TestServer::start_with(service, dir).await;
    // Counting every path of an exploding pattern takes the whole time budget.
    let slow = r#"{ paths(from: "d0", pattern: [{maxRepeat: 8}], first: 1, budget: {maxMillis: 1500}) { partial totalCount } }"#;
    let answers: Vec<Value> =
        futures_util::future::join_all((0..6).map(|_| server.gql(slow, json!({})))).await;
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|a| a["errors"][0]["extensions"]["code"] == "UNAVAILABLE")
        .collect();
    let answered = answers
        .iter()
        .filter(|a| a["data"]["paths"]["partial"] == true)
        .count();
    assert!(answered >= 1, "{answers:?}");
    assert!(refused.len() >= 4, "{answers:?}");
    assert!(refused[0]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("too many searches"));
    assert!(metric(&server, "tiegraph_searches_refused_total").await >= 4);
    // Turns come back: once the others are done, a search runs again.
    let data = server
        .data(
            r#"{ connected(from: "d0", pattern: [{}], first: 1) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert!(data["connected"]["totalCount"].as_i64().unwrap() > 0);
    server.stop().await;
}

#[tokio::test]
async fn a_prepared_document_is_not_parsed_or_measured_again() {
    let (service, _dir) = hub_service(Limits::default());
    let limits = SchemaLimits::default();
    let schema = build_schema(service, limits);
    let request = async_graphql::Request::new(r#"{ entity(id: "agency") { id } }"#);
    let mut prepared = prepare(&limits, request).expect("an ordinary query passes");
    // Were the text parsed or measured again, this would be refused: it is over the size limit
    // and not a query.
    prepared.request.query = format!("}} {}", "#".repeat(limits.max_document_bytes));
    let response = schema.execute(prepared.request).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(
        response.data.into_json().unwrap(),
        json!({ "entity": { "id": "agency" } })
    );
}
