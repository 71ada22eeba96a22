//! Finding things as people type them (issue 11): words in any order, case and accents
//! ignored, whole words before parts of words, descriptions searched, counts and filters on
//! `entities`, and searches over claims and sources, over real HTTP.

use serde_json::{json, Value};

use crate::util::TestServer;

fn ids(answer: &Value, field: &str) -> Vec<String> {
    answer["data"][field]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges in {answer}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

const ENTITIES: &str = r#"query($search: String, $country: String, $identifier: String, $first: Int, $after: String) {
  entities(search: $search, country: $country, identifier: $identifier, first: $first, after: $after) {
    totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor }
  }
}"#;

#[tokio::test]
async fn entity_search_finds_words_in_any_order_whole_words_first() {
    let server = TestServer::start().await;
    let find = |search: &str| server.gql(ENTITIES, json!({ "search": search }));
    let answer = find("border customs").await;
    assert_eq!(ids(&answer, "entities"), ["cbp"], "{answer}");
    assert_eq!(answer["data"]["entities"]["totalCount"], 1);
    // ICE is its alias, whole; RAICES only holds the letters.
    let ice = ids(&find("ICE").await, "entities");
    assert_eq!(ice.first().map(String::as_str), Some("ice"), "{ice:?}");
    let raices = ice
        .iter()
        .position(|id| id == "raices")
        .expect("RAICES holds `ice`");
    assert!(raices > 0);
    // Descriptions are searched, after names.
    assert_eq!(
        ids(&find("cloud computing").await, "entities"),
        ["salesforce"]
    );
    // Accents and case.
    let created = server
        .gql(
            r#"mutation { createEntity(input: {kind: PERSON, name: "Café René"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        created["data"]["createEntity"]["id"], "cafe-rene",
        "{created}"
    );
    assert_eq!(ids(&find("CAFE").await, "entities"), ["cafe-rene"]);
    assert_eq!(ids(&find("rené café").await, "entities"), ["cafe-rene"]);
    server.stop().await;
}

#[tokio::test]
async fn entity_search_pages_by_its_own_cursors_and_counts() {
    let server = TestServer::start().await;
    let all = server
        .gql(ENTITIES, json!({ "search": "a", "first": 100 }))
        .await;
    let expected = ids(&all, "entities");
    let total = all["data"]["entities"]["totalCount"].as_i64().unwrap() as usize;
    assert_eq!(total, expected.len());
    assert!(total > 4, "{all}");
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = server
            .gql(
                ENTITIES,
                json!({ "search": "a", "first": 2, "after": after }),
            )
            .await;
        seen.extend(ids(&page, "entities"));
        let info = &page["data"]["entities"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(
        seen, expected,
        "pages give the one ranking, without repeats"
    );
    // Without a search: id order, and the count of them all.
    let plain = server.gql(ENTITIES, json!({ "first": 3 })).await;
    assert_eq!(plain["data"]["entities"]["totalCount"], 12, "{plain}");
    assert_eq!(
        ids(&plain, "entities"),
        ["cbp", "dhs", "fight-for-the-future"]
    );
    let bad = server
        .gql(ENTITIES, json!({ "search": "a", "after": "cbp" }))
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad}"
    );
    server.stop().await;
}

#[tokio::test]
async fn entities_filter_by_country_and_identifier() {
    let server = TestServer::start().await;
    let us = server.gql(ENTITIES, json!({ "country": "us" })).await;
    let us_ids = ids(&us, "entities");
    assert!(us_ids.contains(&"cbp".to_owned()), "{us}");
    assert_eq!(
        us["data"]["entities"]["totalCount"].as_i64().unwrap() as usize,
        us_ids.len()
    );
    let updated = server
        .gql(
            r#"mutation { updateEntity(id: "salesforce", input: {identifiers: [{scheme: "uei", value: "SF123"}]}) { id } }"#,
            json!({}),
        )
        .await;
    assert!(updated["errors"].is_null(), "{updated}");
    let found = server
        .gql(ENTITIES, json!({ "identifier": "UEI:sf123" }))
        .await;
    assert_eq!(ids(&found, "entities"), ["salesforce"], "{found}");
    let none = server
        .gql(ENTITIES, json!({ "identifier": "uei:nothing" }))
        .await;
    assert_eq!(none["data"]["entities"]["totalCount"], 0);
    let malformed = server.gql(ENTITIES, json!({ "identifier": "SF123" })).await;
    assert_eq!(
        malformed["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{malformed}"
    );
    server.stop().await;
}

#[tokio::test]
async fn claims_and_sources_are_searched_by_their_words() {
    let server = TestServer::start().await;
    let claims = server
        .gql(
            r#"{ claims(search: "Backbone operational") { partial edges { node { id claimant { id } quote source { id } } } } }"#,
            json!({}),
        )
        .await;
    let edges = claims["data"]["claims"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1, "{claims}");
    let claim = &edges[0]["node"];
    assert_eq!(claim["claimant"]["id"], "raices", "{claims}");
    assert!(claim["quote"]
        .as_str()
        .unwrap()
        .contains("operational backbone"));
    assert_eq!(claims["data"]["claims"]["partial"], false);
    // A budget too small to read every relation says so, and the next page goes on.
    let cut = server
        .gql(
            r#"{ claims(search: "salesforce", first: 50, budget: {maxVisits: 3}) { partial pageInfo { hasNextPage } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(cut["data"]["claims"]["partial"], true, "{cut}");
    assert_eq!(cut["data"]["claims"]["pageInfo"]["hasNextPage"], true);
    let sources = server
        .gql(
            r#"{ sources(search: "declines donation") { edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        ids(&sources, "sources"),
        ["raices-declines-salesforce-donation"]
    );
    let empty = server
        .gql(r#"{ claims(search: " ... ") { partial } }"#, json!({}))
        .await;
    assert_eq!(
        empty["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{empty}"
    );
    server.stop().await;
}

#[tokio::test]
async fn duplicate_candidates_are_suggested_with_their_reason_and_never_merged() {
    let server = TestServer::start().await;
    let created = server
        .gql(
            r#"mutation {
                a: createEntity(input: {kind: COMPANY, name: "SALESFORCE, INC.", identifiers: [{scheme: "uei", value: "SF1"}]}) { id }
                b: createEntity(input: {kind: COMPANY, name: "Sales Force Holdings"}) { id }
            }"#,
            json!({}),
        )
        .await;
    assert!(created["errors"].is_null(), "{created}");
    // createEntity would resolve a record with a held identifier to its holder; an update
    // is how two entities come to share one.
    let created = server
        .gql(
            r#"mutation {
                updateEntity(id: "sales-force-holdings", input: {identifiers: [{scheme: "UEI", value: "sf1"}]}) { id }
            }"#,
            json!({}),
        )
        .await;
    assert!(created["errors"].is_null(), "{created}");
    let query = r#"query($after: String) { duplicateCandidates(kind: COMPANY, first: 1, after: $after) {
        edges { cursor node { reasons entities { id } } } pageInfo { hasNextPage endCursor } } }"#;
    let mut groups = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = server.gql(query, json!({ "after": after })).await;
        let connection = &page["data"]["duplicateCandidates"];
        for edge in connection["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"))
        {
            let ids: Vec<&str> = edge["node"]["entities"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap())
                .collect();
            groups.push((
                ids.join(" "),
                edge["node"]["reasons"][0].as_str().unwrap().to_owned(),
            ));
        }
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    let by_identifier = groups
        .iter()
        .find(|(ids, _)| ids == "sales-force-holdings salesforce-inc")
        .unwrap_or_else(|| panic!("{groups:?}"));
    assert!(
        by_identifier.1.contains("identifier `uei:sf1`"),
        "{groups:?}"
    );
    let by_name = groups
        .iter()
        .find(|(ids, _)| ids == "salesforce salesforce-inc")
        .unwrap_or_else(|| panic!("{groups:?}"));
    assert!(by_name.1.contains("`salesforce`"), "{groups:?}");
    // Suggested only: both are still there.
    let stats = server.gql("{ stats { entities } }", json!({})).await;
    assert_eq!(stats["data"]["stats"]["entities"], 14);
    server.stop().await;
}
