use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::util::TestServer;

const MISSION: &str = r#"
query Mission($includeDenied: Boolean) {
  paths(from: "cbp", pattern: [{relationKinds: [VENDOR_TO], direction: IN}, {direction: ANY, entityKinds: [NONPROFIT]}],
        includeDenied: $includeDenied, first: 100) {
    partial totalCount
    pageInfo { hasNextPage }
    edges { cursor node {
      start { id } end { id kind } length
      hops { direction from { id } to { id }
        relation { id kind status standing from { id } to { id }
          claims { id stance quote claimant { id } source { id title } } } }
    } }
  }
}"#;

fn ids(values: &[Value], pointer: &str) -> BTreeSet<String> {
    values
        .iter()
        .map(|v| {
            v.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_mission_query_names_the_three_nonprofits_with_every_hop_cited() {
    let server = TestServer::start().await;
    let data = server.data(MISSION, json!({})).await;
    let paths = &data["paths"];
    assert_eq!(paths["partial"], false);
    let edges = paths["edges"].as_array().unwrap();
    assert_eq!(paths["totalCount"].as_u64().unwrap() as usize, edges.len());
    let ends = ids(edges, "/node/end/id");
    assert_eq!(
        ends,
        BTreeSet::from([
            "raices".into(),
            "media-alliance".into(),
            "fight-for-the-future".into()
        ])
    );
    for edge in edges {
        let path = &edge["node"];
        assert_eq!(path["start"]["id"], "cbp");
        assert_eq!(path["end"]["kind"], "NONPROFIT");
        assert_eq!(path["length"], 2);
        let hops = path["hops"].as_array().unwrap();
        assert_eq!(hops[0]["relation"]["kind"], "VENDOR_TO");
        assert_eq!(hops[0]["direction"], "IN");
        assert_eq!(hops[0]["from"]["id"], "cbp");
        assert_eq!(hops[0]["to"]["id"], "salesforce");
        for hop in hops {
            let relation = &hop["relation"];
            // The hop's direction says which end of the relation it left from.
            let (left, reached) = match hop["direction"].as_str().unwrap() {
                "OUT" => (&relation["from"]["id"], &relation["to"]["id"]),
                _ => (&relation["to"]["id"], &relation["from"]["id"]),
            };
            assert_eq!((left, reached), (&hop["from"]["id"], &hop["to"]["id"]));
            assert_ne!(relation["standing"], "DENIED");
            let claims = relation["claims"].as_array().unwrap();
            assert!(!claims.is_empty());
            for claim in claims {
                assert!(!claim["quote"].as_str().unwrap().is_empty());
                assert_eq!(claim["source"]["id"], "raices-declines-salesforce-donation");
                assert!(claim["stance"] == "ASSERTS" || claim["stance"] == "DENIES");
            }
        }
    }
    // The vendor tie is confirmed by Salesforce's chief executive.
    let vendor = edges
        .iter()
        .flat_map(|e| e["node"]["hops"].as_array().unwrap())
        .find(|h| h["relation"]["id"] == "salesforce-vendor-to-cbp")
        .unwrap();
    assert_eq!(vendor["relation"]["standing"], "CONFIRMED");
    assert_eq!(vendor["relation"]["status"], "ACTIVE");
    assert!(vendor["relation"]["claims"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["claimant"]["id"] == "marc-benioff"));
    // The employees' allegation that the CEO denied is a disputed tie that still carries both claims.
    let disputed = server
        .data(r#"{ relation(id: "salesforce-vendor-to-cbp-family-separation") { standing claims { stance claimant { id } } } }"#, json!({}))
        .await;
    assert_eq!(disputed["relation"]["standing"], "DISPUTED");
    let stances = ids(
        disputed["relation"]["claims"].as_array().unwrap(),
        "/stance",
    );
    assert_eq!(stances, BTreeSet::from(["ASSERTS".into(), "DENIES".into()]));
    server.stop().await;
}

#[tokio::test]
async fn denied_ties_only_appear_when_asked_for() {
    let server = TestServer::start().await;
    let query = r#"query($d: Boolean) { paths(from: "ice", pattern: [{relationKinds: [VENDOR_TO], direction: IN}], includeDenied: $d) {
        edges { node { end { id } hops { relation { standing } } } } } }"#;
    let hidden = server.data(query, json!({ "d": false })).await;
    assert_eq!(hidden["paths"]["edges"], json!([]));
    let shown = server.data(query, json!({ "d": true })).await;
    let edges = shown["paths"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["end"]["id"], "salesforce");
    assert_eq!(
        edges[0]["node"]["hops"][0]["relation"]["standing"],
        "DENIED"
    );
    // Nor do they appear in the mission answer, with or without them; the ICE tie leads to no nonprofit.
    let with_denied = server.data(MISSION, json!({ "includeDenied": true })).await;
    let ends = ids(
        with_denied["paths"]["edges"].as_array().unwrap(),
        "/node/end/id",
    );
    assert_eq!(ends.len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn connected_is_the_set_form_of_the_mission_question() {
    let server = TestServer::start().await;
    let data = server
        .data(
            r#"{ connected(from: "cbp", pattern: [{relationKinds: [VENDOR_TO], direction: IN}, {entityKinds: [NONPROFIT]}], examples: 2) {
                partial totalCount edges { cursor node { entity { id } pathCount examples { length hops { relation { id claims { quote } } } } } } } }"#,
            json!({}),
        )
        .await;
    let edges = data["connected"]["edges"].as_array().unwrap();
    let reached: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["entity"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        reached,
        ["fight-for-the-future", "media-alliance", "raices"]
    );
    assert_eq!(data["connected"]["totalCount"], 3);
    for edge in edges {
        let examples = edge["node"]["examples"].as_array().unwrap();
        let count = edge["node"]["pathCount"].as_u64().unwrap();
        assert!(
            count >= 2,
            "two vendor ties to CBP, so at least two paths each"
        );
        assert_eq!(examples.len(), 2);
        assert!(examples
            .iter()
            .all(|p| !p["hops"][1]["relation"]["claims"][0]["quote"]
                .as_str()
                .unwrap()
                .is_empty()));
    }
    // Pagination: after the first entity come the other two.
    let page = server
        .data(
            r#"{ connected(from: "cbp", pattern: [{relationKinds: [VENDOR_TO], direction: IN}, {entityKinds: [NONPROFIT]}], first: 1, after: "fight-for-the-future") {
                pageInfo { hasNextPage hasPreviousPage } edges { node { entity { id } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        page["connected"]["edges"][0]["node"]["entity"]["id"],
        "media-alliance"
    );
    assert_eq!(
        page["connected"]["pageInfo"],
        json!({ "hasNextPage": true, "hasPreviousPage": true })
    );
    server.stop().await;
}

#[tokio::test]
async fn paths_paginate_without_gaps_or_repeats() {
    let server = TestServer::start().await;
    let all = server.data(MISSION, json!({})).await;
    let every: Vec<String> = all["paths"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().to_owned())
        .collect();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = server
            .data(
                r#"query($after: String) { paths(from: "cbp", pattern: [{relationKinds: [VENDOR_TO], direction: IN}, {direction: ANY, entityKinds: [NONPROFIT]}], first: 5, after: $after) {
                    pageInfo { hasNextPage endCursor } edges { cursor } } }"#,
                json!({ "after": after }),
            )
            .await;
        let paths = &page["paths"];
        seen.extend(
            paths["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["cursor"].as_str().unwrap().to_owned()),
        );
        if paths["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = paths["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, every);
    let bad = server
        .gql(
            r#"{ paths(from: "cbp", pattern: [{direction: IN}], after: "nonsense") { edges { cursor } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    server.stop().await;
}

#[tokio::test]
async fn lookups_by_id_and_search() {
    let server = TestServer::start().await;
    let data = server
        .data(
            r#"{ entity(id: "cbp") { id kind name aliases country }
                 missing: entity(id: "nobody") { id }
                 relation(id: "salesforce-donation-to-raices") { status amount { value currency } standing from { id } to { id } }
                 source(id: "raices-declines-salesforce-donation") { title claims(first: 3) { id } }
                 e: node(id: "raices") { id __typename }
                 r: node(id: "cbp-part-of-dhs") { id __typename }
                 s: node(id: "raices-declines-salesforce-donation") { id __typename }
                 c: node(id: "salesforce-vendor-to-ice.c1") { id __typename ... on Claim { stance } }
                 n: node(id: "nothing-here") { id }
                 stats { entities relations } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["entity"],
        json!({ "id": "cbp", "kind": "AGENCY", "name": "U.S. Customs and Border Protection", "aliases": ["CBP"], "country": "US" })
    );
    assert_eq!(data["missing"], Value::Null);
    assert_eq!(data["relation"]["status"], "DECLINED");
    assert_eq!(
        data["relation"]["amount"],
        json!({ "value": 250000.0, "currency": "USD" })
    );
    assert_eq!(data["relation"]["standing"], "CONFIRMED");
    assert_eq!(data["source"]["claims"].as_array().unwrap().len(), 3);
    assert_eq!(data["e"]["__typename"], "Entity");
    assert_eq!(data["r"]["__typename"], "Relation");
    assert_eq!(data["s"]["__typename"], "Source");
    assert_eq!(
        data["c"],
        json!({ "id": "salesforce-vendor-to-ice.c1", "__typename": "Claim", "stance": "DENIES" })
    );
    assert_eq!(data["n"], Value::Null);
    assert_eq!(data["stats"], json!({ "entities": 12, "relations": 17 }));

    let search = server
        .data(
            r#"{ entities(search: "SALES") { edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    let found: Vec<&str> = search["entities"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    // Names first; then entities whose description names Salesforce.
    assert_eq!(
        found[..2],
        ["salesforce", "salesforce-employees"],
        "{found:?}"
    );
    assert!(found[2..].contains(&"marc-benioff"), "{found:?}");
    let agencies = server
        .data(
            r#"{ entities(kind: AGENCY) { edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(agencies["entities"]["edges"].as_array().unwrap().len(), 4);

    // Pages in id order, no overlap, all eleven.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = server
            .data(
                r#"query($after: String) { entities(first: 4, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } }"#,
                json!({ "after": after }),
            )
            .await;
        seen.extend(
            page["entities"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_owned()),
        );
        if page["entities"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["entities"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), seen), (12, sorted));
    server.stop().await;
}

#[tokio::test]
async fn relations_neighbors_shortest_paths_and_neighborhoods() {
    let server = TestServer::start().await;
    let data = server
        .data(
            r#"{ entity(id: "salesforce") {
                   out: relations(direction: OUT, kinds: [VENDOR_TO]) { edges { node { id to { id } } } }
                   all: relations(includeDenied: true) { edges { node { id } } }
                   neighbors(entityKinds: [NONPROFIT]) { edges { node { id } } } }
                 shortestPaths(from: "marc-benioff", to: "dhs", k: 2) { partial paths { length hops { relation { id } to { id } } } }
                 none: shortestPaths(from: "marc-benioff", to: "dhs", relationKinds: [DONATION]) { partial paths { length } }
                 neighborhood(id: "cbp") { partial nodes { id } edges { id } } }"#,
            json!({}),
        )
        .await;
    let out = ids(
        data["entity"]["out"]["edges"].as_array().unwrap(),
        "/node/to/id",
    );
    assert_eq!(
        out,
        BTreeSet::from([
            "cbp".into(),
            "media-alliance".into(),
            "fight-for-the-future".into()
        ])
    );
    assert_eq!(data["entity"]["all"]["edges"].as_array().unwrap().len(), 14);
    let neighbors = ids(
        data["entity"]["neighbors"]["edges"].as_array().unwrap(),
        "/node/id",
    );
    assert_eq!(
        neighbors,
        BTreeSet::from([
            "raices".into(),
            "media-alliance".into(),
            "fight-for-the-future".into()
        ])
    );
    // benioff -> salesforce -> cbp -> dhs, by either vendor tie to CBP.
    assert_eq!(data["shortestPaths"]["partial"], false);
    let shortest = data["shortestPaths"]["paths"].as_array().unwrap();
    assert_eq!(shortest.len(), 2);
    assert!(shortest.iter().all(|p| p["length"] == 3));
    assert_ne!(
        shortest[0]["hops"][1]["relation"]["id"],
        shortest[1]["hops"][1]["relation"]["id"]
    );
    assert_eq!(data["none"], json!({"partial": false, "paths": []}));
    let hood = &data["neighborhood"];
    assert_eq!(hood["partial"], false);
    assert_eq!(hood["nodes"][0]["id"], "cbp");
    assert_eq!(
        ids(hood["nodes"].as_array().unwrap(), "/id"),
        BTreeSet::from(["cbp".into(), "salesforce".into(), "dhs".into()])
    );
    assert_eq!(hood["edges"].as_array().unwrap().len(), 3);
    server.stop().await;
}

/// The paths of a `shortestPaths` answer as relation ids, each with its standing.
fn ranked_paths(answer: &Value) -> Vec<Vec<(String, String)>> {
    answer["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["hops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    let relation = &h["relation"];
                    (
                        relation["id"].as_str().unwrap().to_owned(),
                        relation["standing"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn shortest_paths_rank_by_standing_the_same_from_either_end_and_say_when_partial() {
    let server = TestServer::start().await;
    let paths = "partial paths { length hops { relation { id standing } } }";
    let data = server
        .data(
            &format!(
                r#"{{ there: shortestPaths(from: "tracy-rosenberg", to: "cbp", k: 4) {{ {paths} }}
                     back: shortestPaths(from: "cbp", to: "tracy-rosenberg", k: 4) {{ {paths} }}
                     first: shortestPaths(from: "cbp", to: "tracy-rosenberg") {{ {paths} }}
                     cut: shortestPaths(from: "tracy-rosenberg", to: "cbp", budget: {{maxVisits: 2}}) {{ {paths} }}
                     none: shortestPaths(from: "tracy-rosenberg", to: "cbp", relationKinds: [DONATION]) {{ {paths} }} }}"#
            ),
            json!({}),
        )
        .await;
    for answer in ["there", "back", "first", "none"] {
        assert_eq!(data[answer]["partial"], false, "{answer}");
    }
    let there = ranked_paths(&data["there"]);
    // Rosenberg is an officer of Media Alliance, which Salesforce ties to two ways; Salesforce
    // sells to CBP by two ties, one of them (family separation) disputed. The confirmed tie
    // comes first, however the two middle ties' ids sort.
    let to_cbp = |p: &Vec<(String, String)>| p[2].clone();
    let confirmed = (
        "salesforce-vendor-to-cbp".to_owned(),
        "CONFIRMED".to_owned(),
    );
    let disputed = (
        "salesforce-vendor-to-cbp-family-separation".to_owned(),
        "DISPUTED".to_owned(),
    );
    assert_eq!(there.len(), 4);
    assert!(data["there"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["length"] == 3));
    assert_eq!(
        there.iter().map(to_cbp).collect::<Vec<_>>(),
        [confirmed.clone(), confirmed, disputed.clone(), disputed]
    );
    // The same paths in the same order from CBP, each walked the other way.
    let mut back = ranked_paths(&data["back"]);
    back.iter_mut().for_each(|p| p.reverse());
    assert_eq!(back, there);
    let mut first = ranked_paths(&data["first"]);
    first.iter_mut().for_each(|p| p.reverse());
    assert_eq!(first, there[..1]);
    // Out of budget: nothing found, and it says so; no path at all: nothing, and complete.
    assert_eq!(data["cut"], json!({"partial": true, "paths": []}));
    assert_eq!(data["none"], json!({"partial": false, "paths": []}));
    server.stop().await;
}

#[tokio::test]
async fn searches_from_unknown_entities_and_bad_patterns_are_clear_errors() {
    let server = TestServer::start().await;
    let cases = [
        (
            r#"{ paths(from: "nobody", pattern: [{}]) { totalCount } }"#,
            "NOT_FOUND",
        ),
        (
            r#"{ paths(from: "cbp", pattern: []) { totalCount } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{ paths(from: "cbp", pattern: [{minRepeat: 3, maxRepeat: 1}]) { totalCount } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{ paths(from: "cbp", pattern: [{maxRepeat: 50}]) { totalCount } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{ paths(from: "cbp", pattern: [{minRepeat: -1}]) { totalCount } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{ paths(from: "cbp", pattern: [{}], asOf: "yesterday") { totalCount } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{ paths(from: "cbp", pattern: [{}], first: -1) { totalCount } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{ shortestPaths(from: "cbp", to: "nobody") { paths { length } } }"#,
            "NOT_FOUND",
        ),
        (
            r#"{ shortestPaths(from: "cbp", to: "dhs", k: 0) { paths { length } } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{ neighborhood(id: "cbp", depth: 99) { partial } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{ connected(from: "cbp", pattern: [{}], examples: 99) { totalCount } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{ entities(kind: ROBOT) { edges { cursor } } }"#,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (r#"{ entity { id } }"#, "GRAPHQL_VALIDATION_FAILED"),
        (r#"{ nonsense "#, "GRAPHQL_PARSE_FAILED"),
    ];
    for (query, code) in cases {
        let answer = server.gql(query, json!({})).await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], code,
            "{query}: {answer}"
        );
    }
    // A search bounded by the client's own budget says it is partial.
    let partial = server
        .data(r#"{ paths(from: "salesforce", pattern: [{maxRepeat: 4}], budget: {maxVisits: 3}) { partial } }"#, json!({}))
        .await;
    assert_eq!(partial["paths"]["partial"], true);
    server.stop().await;
}

#[tokio::test]
async fn the_graphql_over_http_contract() {
    let server = TestServer::start().await;
    let url = format!("{}/graphql", server.url);
    let client = &server.client;

    let get = client
        .get(&url)
        .query(&[("query", "{ entity(id: \"cbp\") { name } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    assert_eq!(get.headers()["content-type"], "application/json");
    let body: Value = get.json().await.unwrap();
    assert_eq!(
        body["data"]["entity"]["name"],
        "U.S. Customs and Border Protection"
    );

    let mutation = client
        .get(&url)
        .query(&[(
            "query",
            "mutation { deleteEntity(id: \"cbp\", cascade: true) { deletedIds } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(mutation.status(), 405);
    assert_eq!(mutation.headers()["allow"], "POST");
    assert!(server.service.entity("cbp").unwrap().is_some());

    let modern = client
        .post(&url)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ nonsense" }))
        .send()
        .await
        .unwrap();
    assert_eq!(modern.status(), 400);
    assert_eq!(
        modern.headers()["content-type"],
        "application/graphql-response+json"
    );
    let legacy = client
        .post(&url)
        .json(&json!({ "query": "{ nonsense" }))
        .send()
        .await
        .unwrap();
    assert_eq!(legacy.status(), 200);

    let not_json = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let body: Value = not_json.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    let wrong_type = client
        .post(&url)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
    let unacceptable = client
        .post(&url)
        .header("accept", "text/csv")
        .json(&json!({ "query": "{ stats { entities } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unacceptable.status(), 406);

    let batch: Value = client
        .post(&url)
        .json(&json!([{ "query": "{ stats { entities } }" }, { "query": "{ entity(id: \"ice\") { id } }" }]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(batch[0]["data"]["stats"]["entities"], 12);
    assert_eq!(batch[1]["data"]["entity"]["id"], "ice");
    let too_many: Vec<Value> = (0..50)
        .map(|_| json!({ "query": "{ stats { entities } }" }))
        .collect();
    assert_eq!(
        client
            .post(&url)
            .json(&too_many)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let huge = "x".repeat(2 << 20);
    assert_eq!(
        client
            .post(&url)
            .json(&json!({ "query": huge }))
            .send()
            .await
            .unwrap()
            .status(),
        413
    );

    let page = client
        .get(&url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .to_lowercase()
        .contains("graphiql"));
    let root = client
        .get(&server.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(root.to_lowercase().contains("graphiql"));
    let health: Value = client
        .get(format!("{}/health", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    server.stop().await;
}

#[tokio::test]
async fn files_import_through_the_running_server_all_or_nothing() {
    let (service, dir) = crate::util::seeded_service();
    let access = tiegraph::http::Access {
        write_token: tiegraph::http::Token::new("import-token"),
        reads_need_token: false,
        ..Default::default()
    };
    let config = tiegraph::http::HttpConfig {
        access,
        ..Default::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let url = format!("{}/admin/import", server.url);
    let good = "{\"type\":\"entity\",\"id\":\"acme\",\"kind\":\"COMPANY\",\"name\":\"Acme\"}\n\
                {\"type\":\"relation\",\"kind\":\"VENDOR_TO\",\"from\":\"acme\",\"to\":\"cbp\",\"claims\":[{\"source\":\"raices-declines-salesforce-donation\",\"quote\":\"q\"}]}\n";
    let bad = format!("{good}{{\"type\":\"entity\",\"kind\":\"ROBOT\",\"name\":\"x\"}}\n");
    assert_eq!(
        server
            .client
            .post(&url)
            .body(good)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let refused = server
        .client
        .post(&url)
        .bearer_auth("import-token")
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(":3:"),
        "{body}"
    );
    assert!(server.service.entity("acme").unwrap().is_none());
    let done: Value = server
        .client
        .post(&url)
        .bearer_auth("import-token")
        .body(good)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            done["entitiesCreated"].as_u64(),
            done["relationsCreated"].as_u64()
        ),
        (Some(1), Some(1))
    );
    // The import is live at once, and importing it again changes nothing.
    let vendors = server
        .data(
            r#"{ entity(id: "acme") { neighbors { edges { node { id } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        vendors["entity"]["neighbors"]["edges"][0]["node"]["id"],
        "cbp"
    );
    let again: Value = server
        .client
        .post(&url)
        .bearer_auth("import-token")
        .body(good)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["unchanged"], 2);
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_id_suggests_what_was_meant() {
    let server = TestServer::start().await;
    for (from, meant) in [
        ("CBP", "cbp"),
        ("Benioff", "marc-benioff"),
        ("Media Alliance", "media-alliance"),
    ] {
        let answer = server
            .gql(
                &format!(r#"{{ connected(from: "{from}", pattern: [{{}}]) {{ totalCount }} }}"#),
                json!({}),
            )
            .await;
        let error = &answer["errors"][0];
        assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{answer}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("did you mean `{meant}`")),
            "{from}: {message}"
        );
    }
    let answer = server
        .gql(
            r#"{ connected(from: "zzz-nothing", pattern: [{}]) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert!(!answer["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean"));
    server.stop().await;
}

/// The values of `attr` in every `<tag ...>` of an HTML page (enough for our own pages).
fn attribute_values(page: &str, tag: &str, attr: &str) -> Vec<String> {
    let open = format!("<{tag}");
    let needle = format!("{attr}=\"");
    page.match_indices(&open)
        .filter_map(|(at, _)| {
            let element = &page[at..at + page[at..].find('>')?];
            let start = element.find(&needle)? + needle.len();
            let end = start + element[start..].find('"')?;
            Some(element[start..end].to_owned())
        })
        .collect()
}

#[tokio::test]
async fn graphiql_is_served_from_the_binary_with_every_asset_and_the_mission_query() {
    let server = TestServer::start().await;
    let client = &server.client;
    let root = client.get(format!("{}/", server.url)).send().await.unwrap();
    assert_eq!(root.status(), 200);
    assert_eq!(
        root.headers()["content-type"],
        "text/html; charset=utf-8",
        "the page's media type"
    );
    assert_eq!(root.headers()["cache-control"], "no-cache");
    let page = root.text().await.unwrap();
    // A browser asking GET /graphql gets the same page.
    let from_graphql = client
        .get(format!("{}/graphql", server.url))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(from_graphql.status(), 200);
    assert_eq!(from_graphql.text().await.unwrap(), page);

    // Nothing outside this server: no absolute or protocol-relative URL anywhere in the page.
    for outside in ["http://", "https://", "=\"//", "unpkg", "jsdelivr"] {
        assert!(!page.contains(outside), "the page names {outside}");
    }
    assert!(
        !page.contains("development"),
        "the page loads development builds"
    );
    assert!(
        page.contains("href=\"/explorer\""),
        "the page links to the explorer"
    );

    // Every script and style sheet it loads is served from the binary with its media type;
    // the vendored ones under a versioned path with a year-long cache.
    let scripts = attribute_values(&page, "script", "src");
    let sheets: Vec<String> = attribute_values(&page, "link", "href")
        .into_iter()
        .filter(|href| !href.starts_with("data:"))
        .collect();
    assert_eq!(
        scripts.len(),
        4,
        "React, ReactDOM, GraphiQL and ours: {scripts:?}"
    );
    assert_eq!(
        sheets.len(),
        2,
        "GraphiQL's style sheet and ours: {sheets:?}"
    );
    for (path, media) in scripts
        .iter()
        .map(|p| (p, "text/javascript; charset=utf-8"))
        .chain(sheets.iter().map(|p| (p, "text/css; charset=utf-8")))
    {
        assert!(path.starts_with("/ide/"), "{path} is not the binary's");
        let answer = client
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        assert_eq!(answer.headers()["content-type"], media, "{path}");
        assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
        let cache = answer.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned();
        let versioned = path.starts_with("/ide/vendor/");
        if versioned {
            let version = path.split('/').nth(3).unwrap();
            assert!(
                version.rsplit('-').next().unwrap().split('.').count() == 3,
                "{path} names no version"
            );
            assert_eq!(cache, "public, max-age=31536000, immutable", "{path}");
        } else {
            assert_eq!(cache, "no-cache", "{path}");
        }
        let body = answer.text().await.unwrap();
        assert!(
            body.len() > if versioned { 10_000 } else { 100 },
            "{path} is only {} bytes",
            body.len()
        );
        assert!(
            !body.contains("sourceMappingURL"),
            "{path} points to a source map the binary does not hold"
        );
    }
    for (script, needle) in [
        ("react.production.min.js", "react.production.min.js"),
        ("react-dom.production.min.js", "react-dom.production.min.js"),
        ("graphiql.min.js", "graphiql-3.9.0/graphiql.min.js"),
    ] {
        assert!(
            scripts.iter().any(|s| s.ends_with(needle)),
            "the page loads no {script}"
        );
    }
    let missing = client
        .get(format!("{}/ide/vendor/nothing.js", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let refusal: Value = missing.json().await.unwrap();
    assert_eq!(refusal["errors"][0]["extensions"]["code"], "NOT_FOUND");

    // The page opens on the README's mission query, word for word.
    let readme = include_str!("../README.md");
    let section = &readme[readme.find("## The mission query").unwrap()..];
    let start = section.find("```graphql\n").unwrap() + "```graphql\n".len();
    let mission = &section[start..start + section[start..].find("```").unwrap()];
    let tag = "<script type=\"application/graphql\" id=\"mission-query\">";
    let held = &page[page.find(tag).expect("the page holds the mission query") + tag.len()..];
    let held = &held[..held.find("</script>").unwrap()];
    assert_eq!(held.trim(), mission.trim());
    // And that query answers as the README says.
    let answer = server.gql(mission, json!({})).await;
    assert_eq!(answer["data"]["connected"]["totalCount"], 3, "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn entity_relations_and_neighbors_count_every_page_of_themselves() {
    let server = TestServer::start().await;
    let all = server
        .data(
            r#"{ entity(id: "salesforce") { relations(first: 100) { totalCount edges { node { id } } } } }"#,
            json!({}),
        )
        .await;
    let every = all["entity"]["relations"]["edges"]
        .as_array()
        .unwrap()
        .len();
    assert!(every > 2, "{all}");
    assert_eq!(all["entity"]["relations"]["totalCount"], every);
    let first = server
        .data(
            r#"{ entity(id: "salesforce") { relations(first: 1) { totalCount pageInfo { endCursor } }
                 neighbors(first: 1, kinds: [VENDOR_TO]) { totalCount } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(first["entity"]["relations"]["totalCount"], every);
    let after = first["entity"]["relations"]["pageInfo"]["endCursor"].clone();
    let second = server
        .data(
            r#"query($after: String) { entity(id: "salesforce") { relations(first: 1, after: $after) { totalCount } } }"#,
            json!({ "after": after }),
        )
        .await;
    assert_eq!(
        second["entity"]["relations"]["totalCount"], every,
        "the count is of every page"
    );
    let vendors = server
        .data(
            r#"{ entity(id: "salesforce") { neighbors(first: 100, kinds: [VENDOR_TO]) { edges { node { id } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        first["entity"]["neighbors"]["totalCount"],
        vendors["entity"]["neighbors"]["edges"]
            .as_array()
            .unwrap()
            .len()
    );
    server.stop().await;
}
