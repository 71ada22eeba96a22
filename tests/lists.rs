//! Lists like other GraphQL APIs (issue 14): `entities`, `Entity.relations` and
//! `Entity.neighbors` take a `filter` and an `orderBy` (name, id, degree, last change; either
//! way), page by cursors of their order, and count everything the filter keeps, over real HTTP.

use serde_json::{json, Value};

use crate::util::TestServer;

const ENTITIES: &str = r#"query($filter: EntityFilter, $orderBy: EntityOrder, $first: Int, $after: String) {
  entities(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    edges { cursor node { id name kind updatedAt relations(includeDenied: true, first: 0) { totalCount } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

const RELATIONS: &str = r#"query($id: ID!, $filter: RelationFilter, $other: EntityFilter, $orderBy: RelationOrder, $first: Int, $after: String) {
  entity(id: $id) {
    relations(filter: $filter, other: $other, orderBy: $orderBy, first: $first, after: $after) {
      totalCount
      edges { cursor node { id status standing updatedAt from { id name } to { id name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"#;

const NEIGHBORS: &str = r#"query($id: ID!, $filter: EntityFilter, $via: RelationFilter, $orderBy: EntityOrder, $first: Int, $after: String) {
  entity(id: $id) {
    neighbors(filter: $filter, via: $via, orderBy: $orderBy, first: $first, after: $after) {
      totalCount
      edges { cursor node { id name kind relations(includeDenied: true, first: 0) { totalCount } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"#;

/// The connection at `path` (`entities`, or `entity.relations`) of an answer.
fn connection<'a>(answer: &'a Value, path: &[&str]) -> &'a Value {
    let mut at = &answer["data"];
    for field in path {
        at = &at[field];
    }
    assert!(at.is_object(), "no {path:?} in {answer}");
    at
}

/// Every node of a list, read a page of `page` at a time by its cursors; checks that every
/// page says the same total and that the total is what the pages held.
async fn every_page(
    server: &TestServer,
    query: &str,
    path: &[&str],
    variables: Value,
    page: usize,
) -> Vec<Value> {
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    let mut total = None;
    loop {
        let mut vars = variables.clone();
        vars["first"] = json!(page);
        vars["after"] = after.clone();
        let answer = server.gql(query, vars).await;
        let list = connection(&answer, path);
        let this_total = list["totalCount"].as_u64();
        assert!(total.is_none() || total == this_total, "{answer}");
        total = this_total;
        for edge in list["edges"].as_array().unwrap() {
            nodes.push(edge["node"].clone());
        }
        if list["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        total,
        Some(nodes.len() as u64),
        "totalCount counts every page"
    );
    nodes
}

fn ids(nodes: &[Value]) -> Vec<&str> {
    nodes.iter().map(|n| n["id"].as_str().unwrap()).collect()
}

fn sorted(mut ids: Vec<&str>) -> Vec<&str> {
    ids.sort_unstable();
    ids
}

/// A name as lists compare it: lower-case ASCII words.
fn name_key(name: &str) -> String {
    let spaced: String = name
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_lowercase(),
            false => ' ',
        })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn degree(node: &Value) -> u64 {
    node["relations"]["totalCount"].as_u64().unwrap()
}

/// Whether `nodes` run in `key` order, `descending` or not, ties broken by id.
fn in_order<K: Ord>(nodes: &[Value], key: impl Fn(&Value) -> K, descending: bool) -> bool {
    nodes.windows(2).all(|pair| {
        let (a, b) = (key(&pair[0]), key(&pair[1]));
        let by_key = if descending { b.cmp(&a) } else { a.cmp(&b) };
        by_key
            .then(pair[0]["id"].as_str().cmp(&pair[1]["id"].as_str()))
            .is_lt()
    })
}

fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {answer}"))
}

#[tokio::test]
async fn entities_come_in_every_order_either_way_and_pages_follow_their_cursors() {
    let server = TestServer::start().await;
    let changed = server
        .gql(
            r#"mutation { updateEntity(id: "dhs", input: {description: "A cabinet department."}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(changed["data"]["updateEntity"]["id"], "dhs", "{changed}");
    let listed = every_page(&server, ENTITIES, &["entities"], json!({}), 100).await;
    let everything = sorted(ids(&listed));
    assert_eq!(everything.len(), 12, "the seed's entities");
    for field in ["ID", "NAME", "DEGREE", "UPDATED_AT"] {
        for direction in ["ASC", "DESC"] {
            let order = json!({ "orderBy": { "field": field, "direction": direction } });
            let paged = every_page(&server, ENTITIES, &["entities"], order.clone(), 3).await;
            let whole = every_page(&server, ENTITIES, &["entities"], order, 100).await;
            assert_eq!(ids(&paged), ids(&whole), "{field} {direction}: pages of 3");
            assert_eq!(sorted(ids(&paged)), everything, "{field} {direction}");
            let descending = direction == "DESC";
            let ordered = match field {
                "ID" => {
                    let mut expected = everything.clone();
                    if descending {
                        expected.reverse();
                    }
                    ids(&paged) == expected
                }
                "NAME" => in_order(
                    &paged,
                    |n| name_key(n["name"].as_str().unwrap()),
                    descending,
                ),
                "DEGREE" => in_order(&paged, degree, descending),
                _ => in_order(
                    &paged,
                    |n| n["updatedAt"].as_str().unwrap().to_owned(),
                    descending,
                ),
            };
            assert!(ordered, "{field} {direction}: {:?}", ids(&paged));
            if (field, direction) == ("UPDATED_AT", "DESC") {
                assert_eq!(ids(&paged)[0], "dhs", "the last change comes first");
            }
            if (field, direction) == ("DEGREE", "DESC") {
                assert_eq!(ids(&paged)[0], "salesforce", "the hub comes first");
            }
        }
    }
    // A text with an order is a filter; without one, the best match comes first.
    let text = every_page(
        &server,
        ENTITIES,
        &["entities"],
        json!({ "filter": { "text": "sales" }, "orderBy": { "field": "NAME", "direction": "DESC" } }),
        1,
    )
    .await;
    assert_eq!(
        ids(&text),
        [
            "other-nonprofits",
            "salesforce-employees",
            "salesforce",
            "marc-benioff"
        ],
        "descriptions are searched too"
    );
    server.stop().await;
}

#[tokio::test]
async fn entity_filters_keep_what_they_say_and_bad_ones_are_refused() {
    let server = TestServer::start().await;
    let list = |filter: Value| {
        let server = &server;
        async move {
            let nodes = every_page(
                server,
                ENTITIES,
                &["entities"],
                json!({ "filter": filter }),
                2,
            )
            .await;
            sorted(ids(&nodes))
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(json!({ "kinds": ["AGENCY", "NONPROFIT"] })).await,
        [
            "cbp",
            "dhs",
            "fight-for-the-future",
            "ice",
            "media-alliance",
            "raices",
            "trump-administration"
        ]
    );
    assert_eq!(list(json!({ "country": "us" })).await, ["cbp"]);
    let created = server
        .gql(
            r#"mutation { createEntity(input: {kind: COMPANY, name: "Acme Analytics", country: "FR",
                identifiers: [{scheme: "UEI", value: "ACME123"}]}) { id updatedAt } }"#,
            json!({}),
        )
        .await;
    let acme = &created["data"]["createEntity"];
    assert_eq!(acme["id"], "acme-analytics", "{created}");
    assert_eq!(
        list(json!({ "identifierScheme": " uei " })).await,
        ["acme-analytics"]
    );
    assert!(list(json!({ "identifierScheme": "wikidata" }))
        .await
        .is_empty());
    assert_eq!(
        list(json!({ "identifier": "uei:acme123", "kinds": ["COMPANY"] })).await,
        ["acme-analytics"]
    );
    assert!(
        list(json!({ "identifier": "uei:acme123", "kinds": ["PERSON"] }))
            .await
            .is_empty()
    );
    let at = acme["updatedAt"].as_str().unwrap();
    assert_eq!(
        list(json!({ "updatedSince": at })).await,
        ["acme-analytics"],
        "the seed was loaded before"
    );
    assert_eq!(list(json!({ "updatedBefore": at })).await.len(), 12);
    assert_eq!(
        list(json!({ "updatedBefore": "2000-01-01" })).await.len(),
        0
    );
    assert_eq!(
        list(json!({ "text": "analytics", "country": "FR" })).await,
        ["acme-analytics"]
    );

    let refused = [
        (
            json!({ "filter": { "updatedSince": "yesterday" } }),
            "filter.updatedSince",
        ),
        (
            json!({ "filter": { "identifier": "acme123" } }),
            "filter.identifier",
        ),
        (
            json!({ "filter": { "identifierScheme": " " } }),
            "filter.identifierScheme",
        ),
        (
            json!({ "orderBy": { "field": "NAME" }, "after": "degree:3:salesforce" }),
            "",
        ),
    ];
    for (variables, field) in refused {
        let answer = server.gql(ENTITIES, variables.clone()).await;
        assert_eq!(code(&answer), "BAD_USER_INPUT", "{variables}: {answer}");
        if !field.is_empty() {
            assert_eq!(
                answer["errors"][0]["extensions"]["field"], field,
                "{answer}"
            );
        } else {
            // The refusal names the cursor, not some other argument.
            let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("`degree:3:salesforce` is not a cursor of this list"),
                "{answer}"
            );
        }
    }
    let both = server
        .gql(
            r#"{ entities(kind: AGENCY, filter: {country: "US"}) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&both), "BAD_USER_INPUT", "{both}");
    // The older arguments still work alone.
    let old = server
        .gql(r#"{ entities(kind: AGENCY) { totalCount } }"#, json!({}))
        .await;
    assert_eq!(old["data"]["entities"]["totalCount"], 4, "{old}");
    server.stop().await;
}

#[tokio::test]
async fn relations_and_neighbors_filter_by_status_standing_period_and_other_end() {
    let server = TestServer::start().await;
    let relations = |filter: Value, other: Value, order: Value| {
        let server = &server;
        async move {
            let vars =
                json!({ "id": "salesforce", "filter": filter, "other": other, "orderBy": order });
            every_page(server, RELATIONS, &["entity", "relations"], vars, 2).await
        }
    };
    let all = relations(
        json!({ "standings": ["CONFIRMED", "REPORTED", "DISPUTED", "DENIED"] }),
        Value::Null,
        Value::Null,
    )
    .await;
    assert_eq!(all.len(), 14, "every relation of the hub: {:?}", ids(&all));
    assert_eq!(ids(&all), sorted(ids(&all)), "relation-id order by default");

    let threatened = relations(
        json!({ "statuses": ["THREATENED"] }),
        Value::Null,
        Value::Null,
    )
    .await;
    assert_eq!(
        ids(&threatened),
        [
            "salesforce-vendor-to-fight-for-the-future",
            "salesforce-vendor-to-media-alliance"
        ]
    );
    let pressured_by_nonprofits = relations(
        json!({ "kinds": ["PRESSURED"] }),
        json!({ "kinds": ["NONPROFIT"] }),
        Value::Null,
    )
    .await;
    assert_eq!(
        ids(&pressured_by_nonprofits),
        [
            "fight-for-the-future-pressured-salesforce",
            "media-alliance-pressured-salesforce",
            "raices-pressured-salesforce"
        ]
    );
    // Each standing keeps exactly the relations of that standing.
    for standing in ["CONFIRMED", "REPORTED", "DISPUTED", "DENIED"] {
        let kept = relations(json!({ "standings": [standing] }), Value::Null, Value::Null).await;
        let expected: Vec<&str> = all
            .iter()
            .filter(|r| r["standing"] == standing)
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids(&kept), expected, "{standing}");
    }

    // A relation given a period is kept by ranges it may have held in; open ones by any.
    let dated = server
        .gql(
            r#"mutation { updateRelation(id: "salesforce-vendor-to-cbp", input: {start: "2018-06", end: "2019"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        dated["data"]["updateRelation"]["id"], "salesforce-vendor-to-cbp",
        "{dated}"
    );
    let held = |range: Value| {
        relations(
            json!({ "kinds": ["VENDOR_TO"], "heldBetween": range }),
            Value::Null,
            Value::Null,
        )
    };
    assert!(ids(&held(json!({ "from": "2019-12-31" })).await).contains(&"salesforce-vendor-to-cbp"));
    assert!(!ids(&held(json!({ "from": "2020" })).await).contains(&"salesforce-vendor-to-cbp"));
    assert!(!ids(&held(json!({ "to": "2018-05" })).await).contains(&"salesforce-vendor-to-cbp"));
    assert_eq!(
        held(json!({ "from": "2020" })).await.len(),
        3,
        "the undated ones stay"
    );

    // Orders: by the other end's name, and by last change.
    let by_name = relations(Value::Null, Value::Null, json!({ "field": "NAME" })).await;
    let other_name = |r: &Value| {
        let end = if r["from"]["id"] == "salesforce" {
            &r["to"]
        } else {
            &r["from"]
        };
        name_key(end["name"].as_str().unwrap())
    };
    assert!(in_order(&by_name, other_name, false), "{:?}", ids(&by_name));
    let newest = relations(
        Value::Null,
        Value::Null,
        json!({ "field": "UPDATED_AT", "direction": "DESC" }),
    )
    .await;
    assert_eq!(ids(&newest)[0], "salesforce-vendor-to-cbp");
    assert!(in_order(
        &newest,
        |r| r["updatedAt"].as_str().unwrap().to_owned(),
        true
    ));
    assert_eq!(sorted(ids(&newest)), sorted(ids(&by_name)));

    // Neighbours: which entities, across which relations, in which order.
    let neighbors = |filter: Value, via: Value, order: Value| {
        let server = &server;
        async move {
            let vars =
                json!({ "id": "salesforce", "filter": filter, "via": via, "orderBy": order });
            every_page(server, NEIGHBORS, &["entity", "neighbors"], vars, 2).await
        }
    };
    assert_eq!(
        ids(&neighbors(
            json!({ "kinds": ["NONPROFIT"] }),
            json!({ "kinds": ["PRESSURED"] }),
            Value::Null
        )
        .await),
        ["fight-for-the-future", "media-alliance", "raices"]
    );
    assert_eq!(
        ids(&neighbors(Value::Null, json!({ "statuses": ["ACTIVE"] }), Value::Null).await),
        [
            "cbp",
            "fight-for-the-future",
            "marc-benioff",
            "media-alliance",
            "salesforce-employees"
        ]
    );
    let by_degree = neighbors(
        Value::Null,
        Value::Null,
        json!({ "field": "DEGREE", "direction": "DESC" }),
    )
    .await;
    assert!(in_order(&by_degree, degree, true), "{:?}", ids(&by_degree));
    assert_eq!(by_degree.len(), 8, "ICE is only across a denied relation");

    let both = server
        .gql(
            r#"{ entity(id: "salesforce") { relations(kinds: [OWNS], filter: {kinds: [OWNS]}) { totalCount } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&both), "BAD_USER_INPUT", "{both}");
    let backwards = server
        .gql(RELATIONS, json!({ "id": "salesforce", "filter": { "heldBetween": { "from": "2020", "to": "2019" } } }))
        .await;
    assert_eq!(code(&backwards), "BAD_USER_INPUT", "{backwards}");
    assert_eq!(
        backwards["errors"][0]["extensions"]["field"],
        "filter.heldBetween"
    );
    server.stop().await;
}
