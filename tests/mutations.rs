use serde_json::{json, Value};

use tiegraph::service::{Limits, Service};

use crate::util::{dump, TestServer};

const SOURCE: &str = "raices-declines-salesforce-donation";

/// Sends a mutation that must be refused with `code` (and `field`, when given), and checks that
/// nothing at all was written.
async fn refused(
    server: &TestServer,
    mutation: &str,
    variables: Value,
    code: &str,
    field: Option<&str>,
) {
    let before = dump(&server.service);
    let answer = server.gql(mutation, variables.clone()).await;
    let error = &answer["errors"][0];
    assert_eq!(
        error["extensions"]["code"], code,
        "{mutation} {variables}: {answer:#}"
    );
    if let Some(field) = field {
        assert_eq!(
            error["extensions"]["field"], field,
            "{mutation} {variables}: {answer:#}"
        );
    }
    assert!(!error["message"].as_str().unwrap_or_default().is_empty());
    assert_eq!(
        dump(&server.service),
        before,
        "{mutation} {variables} wrote something"
    );
}

const CREATE_ENTITY: &str =
    "mutation($input: CreateEntityInput!) { createEntity(input: $input) { id } }";
const UPDATE_ENTITY: &str = "mutation($id: ID!, $input: UpdateEntityInput!) { updateEntity(id: $id, input: $input) { id } }";
const DELETE_ENTITY: &str = "mutation($id: ID!, $cascade: Boolean) { deleteEntity(id: $id, cascade: $cascade) { deletedIds } }";
const CREATE_SOURCE: &str = "mutation($input: SourceInput!) { createSource(input: $input) { id } }";
const UPDATE_SOURCE: &str =
    "mutation($id: ID!, $input: UpdateSourceInput!) { updateSource(id: $id, input: $input) { id } }";
const DELETE_SOURCE: &str = "mutation($id: ID!) { deleteSource(id: $id) { deletedIds } }";
const CREATE_RELATION: &str =
    "mutation($input: CreateRelationInput!) { createRelation(input: $input) { id standing } }";
const UPDATE_RELATION: &str = "mutation($id: ID!, $input: UpdateRelationInput!) { updateRelation(id: $id, input: $input) { id } }";
const DELETE_RELATION: &str = "mutation($id: ID!) { deleteRelation(id: $id) { deletedIds } }";
const ADD_CLAIM: &str = "mutation($relation: ID!, $claim: ClaimInput!) { addClaim(relation: $relation, claim: $claim) { id } }";
const DELETE_CLAIM: &str = "mutation($id: ID!) { deleteClaim(id: $id) { deletedIds } }";

fn relation_input(overrides: Value) -> Value {
    let mut input = json!({
        "kind": "VENDOR_TO", "from": "salesforce", "to": "dhs", "status": "ACTIVE",
        "claim": { "source": SOURCE, "quote": "a quote" }
    });
    for (key, value) in overrides.as_object().unwrap() {
        input[key] = value.clone();
    }
    json!({ "input": input })
}

#[tokio::test]
async fn every_bad_input_to_every_mutation_is_refused_and_writes_nothing() {
    let server = TestServer::start().await;
    let entity = |input: Value| json!({ "input": input });
    // createEntity
    refused(
        &server,
        CREATE_ENTITY,
        entity(json!({ "kind": "COMPANY", "name": "  " })),
        "BAD_USER_INPUT",
        Some("name"),
    )
    .await;
    refused(
        &server,
        CREATE_ENTITY,
        entity(json!({ "id": "Bad Id", "kind": "COMPANY", "name": "x" })),
        "BAD_USER_INPUT",
        Some("id"),
    )
    .await;
    refused(
        &server,
        CREATE_ENTITY,
        entity(json!({ "id": "cbp", "kind": "AGENCY", "name": "x" })),
        "ALREADY_EXISTS",
        Some("id"),
    )
    .await;
    refused(
        &server,
        CREATE_ENTITY,
        entity(json!({ "id": "cbp-part-of-dhs", "kind": "AGENCY", "name": "x" })),
        "ALREADY_EXISTS",
        Some("id"),
    )
    .await;
    refused(
        &server,
        CREATE_ENTITY,
        entity(json!({ "id": SOURCE, "kind": "AGENCY", "name": "x" })),
        "ALREADY_EXISTS",
        Some("id"),
    )
    .await;
    refused(
        &server,
        CREATE_ENTITY,
        entity(json!({ "kind": "COMPANY", "name": "x", "country": "usa" })),
        "BAD_USER_INPUT",
        Some("country"),
    )
    .await;
    refused(
        &server,
        CREATE_ENTITY,
        entity(json!({ "kind": "ROBOT", "name": "x" })),
        "GRAPHQL_VALIDATION_FAILED",
        None,
    )
    .await;
    refused(
        &server,
        CREATE_ENTITY,
        entity(json!({ "name": "x" })),
        "GRAPHQL_VALIDATION_FAILED",
        None,
    )
    .await;
    refused(
        &server,
        CREATE_ENTITY,
        entity(json!({ "kind": "COMPANY", "name": 5 })),
        "GRAPHQL_VALIDATION_FAILED",
        None,
    )
    .await;
    // updateEntity
    refused(
        &server,
        UPDATE_ENTITY,
        json!({ "id": "nobody", "input": { "name": "x" } }),
        "NOT_FOUND",
        Some("id"),
    )
    .await;
    refused(
        &server,
        UPDATE_ENTITY,
        json!({ "id": "cbp", "input": { "name": "" } }),
        "BAD_USER_INPUT",
        Some("name"),
    )
    .await;
    refused(
        &server,
        UPDATE_ENTITY,
        json!({ "id": "marc-benioff", "input": { "kind": "COMPANY" } }),
        "BAD_USER_INPUT",
        Some("kind"),
    )
    .await;
    // deleteEntity
    refused(
        &server,
        DELETE_ENTITY,
        json!({ "id": "nobody" }),
        "NOT_FOUND",
        Some("id"),
    )
    .await;
    refused(
        &server,
        DELETE_ENTITY,
        json!({ "id": "cbp" }),
        "IN_USE",
        None,
    )
    .await;
    // createSource, updateSource, deleteSource
    refused(
        &server,
        CREATE_SOURCE,
        json!({ "input": { "title": "" } }),
        "BAD_USER_INPUT",
        Some("title"),
    )
    .await;
    refused(
        &server,
        CREATE_SOURCE,
        json!({ "input": { "title": "t", "url": "ftp://example.org" } }),
        "BAD_USER_INPUT",
        Some("url"),
    )
    .await;
    refused(
        &server,
        CREATE_SOURCE,
        json!({ "input": { "title": "t", "published": "2019-13-01" } }),
        "BAD_USER_INPUT",
        Some("published"),
    )
    .await;
    refused(
        &server,
        CREATE_SOURCE,
        json!({ "input": { "id": SOURCE, "title": "t" } }),
        "ALREADY_EXISTS",
        Some("id"),
    )
    .await;
    refused(
        &server,
        UPDATE_SOURCE,
        json!({ "id": "nothing", "input": { "title": "t" } }),
        "NOT_FOUND",
        Some("id"),
    )
    .await;
    refused(
        &server,
        UPDATE_SOURCE,
        json!({ "id": SOURCE, "input": { "title": "t", "published": "2019-02-30" } }),
        "BAD_USER_INPUT",
        Some("published"),
    )
    .await;
    refused(
        &server,
        DELETE_SOURCE,
        json!({ "id": SOURCE }),
        "IN_USE",
        None,
    )
    .await;
    refused(
        &server,
        DELETE_SOURCE,
        json!({ "id": "nothing" }),
        "NOT_FOUND",
        Some("id"),
    )
    .await;
    // createRelation
    let bad_relations = [
        (json!({ "from": "nobody" }), "NOT_FOUND", "from"),
        (json!({ "to": "nobody" }), "NOT_FOUND", "to"),
        (json!({ "to": "salesforce" }), "BAD_USER_INPUT", "to"),
        (json!({ "status": "ACCEPTED" }), "BAD_USER_INPUT", "status"),
        (
            json!({ "kind": "OFFICER_OF", "status": null }),
            "BAD_USER_INPUT",
            "from",
        ),
        (json!({ "start": "2019-02-30" }), "BAD_USER_INPUT", "start"),
        (
            json!({ "start": "2020", "end": "2019" }),
            "BAD_USER_INPUT",
            "end",
        ),
        (
            json!({ "amount": { "value": -5, "currency": "USD" } }),
            "BAD_USER_INPUT",
            "amount.value",
        ),
        (
            json!({ "amount": { "value": 5, "currency": "usd" } }),
            "BAD_USER_INPUT",
            "amount.currency",
        ),
        (json!({ "id": "cbp" }), "ALREADY_EXISTS", "id"),
        (json!({ "id": "no spaces" }), "BAD_USER_INPUT", "id"),
        (
            json!({ "claim": { "source": "nothing", "quote": "q" } }),
            "NOT_FOUND",
            "claim.source",
        ),
        (
            json!({ "claim": { "source": SOURCE, "quote": "q", "claimant": "nobody" } }),
            "NOT_FOUND",
            "claim.claimant",
        ),
        (
            json!({ "claim": { "source": SOURCE, "quote": " " } }),
            "BAD_USER_INPUT",
            "claim.quote",
        ),
    ];
    for (overrides, code, field) in bad_relations {
        refused(
            &server,
            CREATE_RELATION,
            relation_input(overrides),
            code,
            Some(field),
        )
        .await;
    }
    refused(
        &server,
        CREATE_RELATION,
        json!({ "input": { "kind": "VENDOR_TO", "from": "a", "to": "b" } }),
        "GRAPHQL_VALIDATION_FAILED",
        None,
    )
    .await;
    // updateRelation, deleteRelation
    refused(
        &server,
        UPDATE_RELATION,
        json!({ "id": "nothing", "input": { "role": "x" } }),
        "NOT_FOUND",
        Some("id"),
    )
    .await;
    refused(
        &server,
        UPDATE_RELATION,
        json!({ "id": "salesforce-vendor-to-cbp", "input": { "status": "DECLINED" } }),
        "BAD_USER_INPUT",
        Some("status"),
    )
    .await;
    refused(
        &server,
        UPDATE_RELATION,
        json!({ "id": "salesforce-vendor-to-cbp", "input": { "end": "soon" } }),
        "BAD_USER_INPUT",
        Some("end"),
    )
    .await;
    refused(
        &server,
        DELETE_RELATION,
        json!({ "id": "nothing" }),
        "NOT_FOUND",
        Some("id"),
    )
    .await;
    // addClaim, deleteClaim
    let claim = |relation: &str, claim: Value| json!({ "relation": relation, "claim": claim });
    refused(
        &server,
        ADD_CLAIM,
        claim("nothing", json!({ "source": SOURCE, "quote": "q" })),
        "NOT_FOUND",
        Some("relation"),
    )
    .await;
    refused(
        &server,
        ADD_CLAIM,
        claim(
            "cbp-part-of-dhs",
            json!({ "source": "nothing", "quote": "q" }),
        ),
        "NOT_FOUND",
        Some("claim.source"),
    )
    .await;
    refused(
        &server,
        ADD_CLAIM,
        claim("cbp-part-of-dhs", json!({ "source": SOURCE, "quote": "" })),
        "BAD_USER_INPUT",
        Some("claim.quote"),
    )
    .await;
    refused(
        &server,
        ADD_CLAIM,
        claim(
            "cbp-part-of-dhs",
            json!({ "source": SOURCE, "quote": "q", "stance": "MAYBE" }),
        ),
        "GRAPHQL_VALIDATION_FAILED",
        None,
    )
    .await;
    refused(
        &server,
        DELETE_CLAIM,
        json!({ "id": "cbp-part-of-dhs.c1" }),
        "IN_USE",
        None,
    )
    .await;
    refused(
        &server,
        DELETE_CLAIM,
        json!({ "id": "cbp-part-of-dhs.c9" }),
        "NOT_FOUND",
        Some("id"),
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn writes_land_are_searchable_and_survive_a_restart() {
    let server = TestServer::start().await;
    let created = server
        .data(CREATE_ENTITY, json!({ "input": { "kind": "COMPANY", "name": "Palantir Technologies", "aliases": ["Palantir"], "country": "US" } }))
        .await;
    assert_eq!(created["createEntity"]["id"], "palantir-technologies");
    let source = server
        .data(CREATE_SOURCE, json!({ "input": { "title": "A report", "url": "https://example.org/r", "published": "2019-07" } }))
        .await;
    assert_eq!(source["createSource"]["id"], "a-report");
    // Only denied at first: hidden from searches.
    let relation = server
        .data(
            CREATE_RELATION,
            relation_input(json!({ "from": "palantir-technologies", "to": "ice", "claim": { "source": "a-report", "stance": "DENIES", "quote": "not a customer" } })),
        )
        .await;
    let relation_id = relation["createRelation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(relation_id, "palantir-technologies-vendor-to-ice");
    assert_eq!(relation["createRelation"]["standing"], "DENIED");
    let vendors = r#"{ paths(from: "ice", pattern: [{relationKinds: [VENDOR_TO], direction: IN}]) { edges { node { end { id } } } } }"#;
    assert_eq!(
        server.data(vendors, json!({})).await["paths"]["edges"],
        json!([])
    );
    // Asserted by someone else too: disputed, and now found.
    let claim = server
        .data(ADD_CLAIM, json!({ "relation": relation_id, "claim": { "source": "a-report", "quote": "is a customer", "claimant": "raices" } }))
        .await;
    assert_eq!(claim["addClaim"]["id"], format!("{relation_id}.c2"));
    let found = server.data(vendors, json!({})).await;
    assert_eq!(
        found["paths"]["edges"][0]["node"]["end"]["id"],
        "palantir-technologies"
    );
    let standing = server
        .data(
            &format!(r#"{{ relation(id: "{relation_id}") {{ standing }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(standing["relation"]["standing"], "DISPUTED");
    // Deleting the denial leaves an assertion by a third party: reported.
    server
        .data(DELETE_CLAIM, json!({ "id": format!("{relation_id}.c1") }))
        .await;
    let standing = server
        .data(
            &format!(r#"{{ relation(id: "{relation_id}") {{ standing claims {{ id }} }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(standing["relation"]["standing"], "REPORTED");
    let updated = server
        .data(UPDATE_RELATION, json!({ "id": relation_id, "input": { "status": "ENDED", "start": "2018", "end": "2019-06" } }))
        .await;
    assert_eq!(updated["updateRelation"]["id"], relation_id.as_str());
    let renamed = server.data(UPDATE_ENTITY, json!({ "id": "palantir-technologies", "input": { "description": "Data analytics", "country": null } })).await;
    assert_eq!(renamed["updateEntity"]["id"], "palantir-technologies");
    // Validity periods filter searches.
    let as_of = |date: &str| {
        format!(
            r#"{{ paths(from: "ice", pattern: [{{relationKinds: [VENDOR_TO], direction: IN}}], asOf: "{date}") {{ totalCount }} }}"#
        )
    };
    assert_eq!(
        server.data(&as_of("2018-06"), json!({})).await["paths"]["totalCount"],
        1
    );
    assert_eq!(
        server.data(&as_of("2020"), json!({})).await["paths"]["totalCount"],
        0
    );

    let before = dump(&server.service);
    let service = std::sync::Arc::clone(&server.service);
    let dir = server.stop().await;
    drop(service);
    let reopened = Service::open(dir.path(), Limits::default()).unwrap();
    assert_eq!(dump(&reopened), before);
    let entity = reopened.entity("palantir-technologies").unwrap().unwrap();
    assert_eq!(
        (entity.description.as_deref(), entity.country),
        (Some("Data analytics"), None)
    );

    // Cascade: the entity, its relation and the relation's claim go together.
    let server = TestServer::start_with(std::sync::Arc::new(reopened), dir).await;
    let deleted = server
        .data(
            DELETE_ENTITY,
            json!({ "id": "palantir-technologies", "cascade": true }),
        )
        .await;
    let mut ids: Vec<&str> = deleted["deleteEntity"]["deletedIds"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "palantir-technologies",
            "palantir-technologies-vendor-to-ice",
            "palantir-technologies-vendor-to-ice.c2"
        ]
    );
    assert_eq!(
        server.data(vendors, json!({})).await["paths"]["edges"],
        json!([])
    );
    assert_eq!(
        server
            .data(DELETE_SOURCE, json!({ "id": "a-report" }))
            .await["deleteSource"]["deletedIds"],
        json!(["a-report"])
    );
    server.stop().await;
}

#[tokio::test]
async fn cascading_an_entity_removes_the_claims_it_made() {
    let server = TestServer::start().await;
    // Marc Benioff made claims about relations he is not part of (the ICE denial among them).
    let deleted = server
        .data(
            DELETE_ENTITY,
            json!({ "id": "marc-benioff", "cascade": true }),
        )
        .await;
    let ids: Vec<&str> = deleted["deleteEntity"]["deletedIds"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(ids.contains(&"marc-benioff-officer-of-salesforce"));
    // The ICE tie had only his denial, so it goes; the CBP tie keeps its other claims.
    assert!(ids.contains(&"salesforce-vendor-to-ice"));
    let data = server
        .data(r#"{ ice: relation(id: "salesforce-vendor-to-ice") { id } cbp: relation(id: "salesforce-vendor-to-cbp") { standing claims { claimant { id } } } }"#, json!({}))
        .await;
    assert_eq!(data["ice"], Value::Null);
    assert_eq!(data["cbp"]["claims"].as_array().unwrap().len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn a_second_report_of_the_same_tie_points_to_add_claim() {
    let server = TestServer::start().await;
    let again = r#"mutation($id: ID) { createRelation(input: {id: $id, kind: VENDOR_TO, from: "salesforce", to: "cbp",
        claim: {source: "raices-declines-salesforce-donation", quote: "CBP is a customer"}}) { id } }"#;
    let refused = server.gql(again, json!({})).await;
    let error = &refused["errors"][0];
    assert_eq!(error["extensions"]["code"], "ALREADY_EXISTS", "{refused}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("salesforce-vendor-to-cbp") && message.contains("addClaim"),
        "{message}"
    );
    assert_eq!(
        server
            .data(
                r#"{ relation(id: "salesforce-vendor-to-cbp-2") { id } }"#,
                json!({})
            )
            .await["relation"],
        Value::Null,
        "nothing was written"
    );
    // A separate tie, asked for by its own id, is recorded.
    let created = server
        .data(again, json!({ "id": "salesforce-vendor-to-cbp-2019" }))
        .await;
    assert_eq!(
        created["createRelation"]["id"],
        "salesforce-vendor-to-cbp-2019"
    );
    server.stop().await;
}

#[tokio::test]
async fn update_source_changes_only_the_fields_given() {
    let server = TestServer::start().await;
    server
        .data(
            r#"mutation { createSource(input: {id: "memo", title: "Memo", publisher: "Desk", url: "https://example.org/memo", published: "2019-06"}) { id } }"#,
            json!({}),
        )
        .await;
    let read = r#"{ source(id: "memo") { title publisher url published } }"#;
    server
        .data(
            UPDATE_SOURCE,
            json!({ "id": "memo", "input": { "title": "The memo" } }),
        )
        .await;
    assert_eq!(
        server.data(read, json!({})).await["source"],
        json!({ "title": "The memo", "publisher": "Desk", "url": "https://example.org/memo", "published": "2019-06" })
    );
    server
        .data(
            UPDATE_SOURCE,
            json!({ "id": "memo", "input": { "publisher": null } }),
        )
        .await;
    assert_eq!(
        server.data(read, json!({})).await["source"],
        json!({ "title": "The memo", "publisher": null, "url": "https://example.org/memo", "published": "2019-06" })
    );
    server.stop().await;
}

#[tokio::test]
async fn wrong_text_codes_and_lists_are_refused_and_write_nothing() {
    let server = TestServer::start().await;
    let entity = |extra: Value| {
        let mut input = json!({ "kind": "COMPANY", "name": "Acme" });
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "input": input })
    };
    for (extra, field) in [
        (json!({ "name": "Ac\u{0}me" }), "name"),
        (json!({ "name": "Ac\u{7}me" }), "name"),
        (json!({ "country": "QQ" }), "country"),
        (json!({ "aliases": ["Acme Inc", "acme inc"] }), "aliases[1]"),
        (
            json!({ "aliases": (0..101).map(|i| format!("a{i}")).collect::<Vec<_>>() }),
            "aliases",
        ),
        (json!({ "description": "one\u{1b}[31m" }), "description"),
    ] {
        refused(
            &server,
            CREATE_ENTITY,
            entity(extra),
            "BAD_USER_INPUT",
            Some(field),
        )
        .await;
    }
    // Line breaks are fine in a description, and a real code is accepted.
    server
        .data(
            CREATE_ENTITY,
            entity(json!({ "id": "acme", "description": "one\ntwo", "country": "DE" })),
        )
        .await;
    refused(
        &server,
        UPDATE_ENTITY,
        json!({ "id": "acme", "input": {} }),
        "BAD_USER_INPUT",
        Some("input"),
    )
    .await;
    refused(
        &server,
        CREATE_RELATION,
        json!({ "input": { "kind": "DONATION", "from": "acme", "to": "raices",
            "amount": { "value": 5, "currency": "ZZZ" },
            "claim": { "source": SOURCE, "quote": "q" } } }),
        "BAD_USER_INPUT",
        Some("amount.currency"),
    )
    .await;
    server.stop().await;
}
