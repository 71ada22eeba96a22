use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use tiegraph::http::{check_exposure, Access, HttpConfig, Token};
use tiegraph::model::{
    ClaimDraft, EntityDraft, EntityKind, RelationDraft, RelationKind, SourceDraft,
};
use tiegraph::service::{ImportItem, Limits, Service};

use crate::util::{seeded_service, TestServer};

const ORDINARY: &str = r#"{ entity(id: "cbp") { name } }"#;

async fn ordinary_query_is_answered(server: &TestServer) {
    let data = server.data(ORDINARY, json!({})).await;
    assert_eq!(data["entity"]["name"], "U.S. Customs and Border Protection");
}

/// A dense graph where simple paths explode: every search on it must hit its budget.
pub(crate) fn dense_service() -> (Arc<Service>, tempfile::TempDir) {
    dense_service_with(Limits::default())
}

/// [`dense_service`] with the service's limits given.
pub(crate) fn dense_service_with(limits: Limits) -> (Arc<Service>, tempfile::TempDir) {
    let (service, dir) = crate::util::seeded_service_with(limits);
    let mut items = vec![(
        1,
        ImportItem::Source(SourceDraft {
            id: Some("dense".into()),
            title: "Dense".into(),
            ..SourceDraft::default()
        }),
    )];
    for i in 0..60 {
        items.push((
            2,
            ImportItem::Entity(EntityDraft {
                id: Some(format!("d{i}")),
                kind: EntityKind::Company,
                name: format!("Dense {i}"),
                aliases: vec![],
                description: None,
                country: None,
                category: None,
                identifiers: vec![],
            }),
        ));
    }
    for i in 0..60 {
        for j in (i + 1)..60 {
            if (i * 7 + j * 3) % 3 == 0 {
                items.push((
                    3,
                    ImportItem::Relation(RelationDraft {
                        id: Some(format!("d{i}-d{j}")),
                        kind: RelationKind::AssociatedWith,
                        from: format!("d{i}"),
                        to: format!("d{j}"),
                        status: None,
                        role: None,
                        description: None,
                        amount: None,
                        start: None,
                        end: None,
                        claims: vec![ClaimDraft {
                            source: "dense".into(),
                            stance: Default::default(),
                            claimant: None,
                            quote: "q".into(),
                        }],
                    }),
                ));
            }
        }
    }
    service.import(items, &|_, _| {}).unwrap();
    (service, dir)
}

#[tokio::test]
async fn each_abuse_class_is_refused_while_ordinary_queries_are_answered() {
    let (service, dir) = dense_service();
    let server = TestServer::start_with(service, dir).await;
    let url = format!("{}/graphql", server.url);
    let client = &server.client;

    // Deep nesting.
    let deep = format!(
        "{{ entity(id: \"cbp\") {{ {} id {} }} }}",
        "relations { edges { node { from { ".repeat(10),
        "} } } } ".repeat(10)
    );
    let answer: Value = client
        .post(&url)
        .json(&json!({ "query": deep }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{answer}"
    );
    ordinary_query_is_answered(&server).await;

    // Alias floods.
    let flood: String = (0..5_000)
        .map(|i| format!("a{i}: stats {{ entities }} "))
        .collect();
    let answer = client
        .post(&url)
        .json(&json!({ "query": format!("{{ {flood} }}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["errors"][0]["extensions"]["code"], "QUERY_TOO_LARGE");
    ordinary_query_is_answered(&server).await;

    // Complexity: pages of pages of pages.
    let wide = r#"{ entities(first: 1000) { edges { node { relations(first: 1000) { edges { node { from { neighbors(first: 1000) { edges { cursor } } } } } } } } } }"#;
    let answer: Value = client
        .post(&url)
        .json(&json!({ "query": wide }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{answer}"
    );

    // Huge batches and huge bodies.
    let batch: Vec<Value> = (0..1_000).map(|_| json!({ "query": ORDINARY })).collect();
    assert_eq!(
        client
            .post(&url)
            .json(&batch)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let body = format!("{{\"query\": \"{}\"}}", " ".repeat(8 << 20));
    assert_eq!(
        client
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status(),
        413
    );
    ordinary_query_is_answered(&server).await;

    // Unbounded path searches stop at the server's budget and say so.
    let explosive =
        r#"{ paths(from: "d0", pattern: [{maxRepeat: 8}], first: 1) { partial totalCount } }"#;
    let answer = server.data(explosive, json!({})).await;
    assert_eq!(answer["paths"]["partial"], true);
    // The same pattern's set of entities costs its frontiers, not its paths: it comes back whole.
    let answer = server
        .data(
            r#"{ connected(from: "d0", pattern: [{maxRepeat: 8}], first: 1) { partial totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(answer["connected"]["partial"], false, "{answer}");
    assert!(
        answer["connected"]["totalCount"].as_i64().unwrap() >= 59,
        "{answer}"
    );
    let answer = server
        .data(
            r#"{ neighborhood(id: "d0", depth: 4) { partial nodes { id } } }"#,
            json!({}),
        )
        .await;
    assert!(
        answer["neighborhood"]["nodes"].as_array().unwrap().len()
            <= Limits::default().max_subgraph_nodes
    );
    ordinary_query_is_answered(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn past_the_concurrency_limit_requests_are_shed_not_queued() {
    let (service, dir) = dense_service();
    let config = HttpConfig {
        max_concurrency: 2,
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let url = format!("{}/graphql", server.url);
    let slow = json!({ "query": r#"{ paths(from: "d0", pattern: [{maxRepeat: 8}], first: 1, budget: {maxMillis: 1500}) { partial totalCount } }"# });
    let requests: Vec<_> = (0..12)
        .map(|_| {
            let request = server.client.post(&url).json(&slow).send();
            tokio::spawn(request)
        })
        .collect();
    let mut statuses = Vec::new();
    for request in requests {
        let response = request.await.unwrap().unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 503 {
            assert_eq!(response.headers()["retry-after"], "1");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["errors"][0]["extensions"]["code"], "UNAVAILABLE");
        }
    }
    assert!(statuses.contains(&503), "none shed: {statuses:?}");
    assert!(statuses.contains(&200), "none answered: {statuses:?}");
    // Health and metrics stay outside the limit, and once the load is gone queries are answered.
    ordinary_query_is_answered(&server).await;
    let metrics = server
        .client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tiegraph_http_requests_shed_total"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test]
async fn slow_clients_time_out_while_others_are_answered() {
    let (service, dir) = seeded_service();
    let config = HttpConfig {
        request_timeout: Duration::from_millis(800),
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let address = server.url.trim_start_matches("http://").to_owned();
    // Clients that announce a body and never finish sending it.
    let slow: Vec<_> = (0..20)
        .map(|_| {
            let address = address.clone();
            tokio::task::spawn_blocking(move || {
                let mut stream = std::net::TcpStream::connect(address).unwrap();
                stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                stream
                    .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\":")
                    .unwrap();
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                answer
            })
        })
        .collect();
    ordinary_query_is_answered(&server).await;
    for client in slow {
        let answer = client.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    ordinary_query_is_answered(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn writes_need_the_token_and_reads_may_too() {
    let (service, dir) = seeded_service();
    let access = Access {
        write_token: Token::new("s3cret-token"),
        reads_need_token: false,
        ..Default::default()
    };
    let server = TestServer::start_configured(
        service,
        dir,
        HttpConfig {
            access,
            ..HttpConfig::default()
        },
    )
    .await;
    let url = format!("{}/graphql", server.url);
    let mutation = json!({ "query": r#"mutation { createEntity(input: {kind: COMPANY, name: "Acme"}) { id } }"# });
    for authorization in [
        None,
        Some("Bearer wrong"),
        Some("s3cret-token"),
        Some("Bearer s3cret-token-and-more"),
    ] {
        let mut request = server.client.post(&url).json(&mutation);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHORIZED");
    }
    assert!(server.service.entity("acme").unwrap().is_none());
    // A batch smuggling a mutation behind a query is refused whole.
    let batch = json!([{ "query": ORDINARY }, mutation]);
    assert_eq!(
        server
            .client
            .post(&url)
            .json(&batch)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    ordinary_query_is_answered(&server).await;
    let written: Value = server
        .client
        .post(&url)
        .bearer_auth("s3cret-token")
        .json(&mutation)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(written["data"]["createEntity"]["id"], "acme");
    server.stop().await;

    let (service, dir) = seeded_service();
    let access = Access {
        write_token: Token::new("s3cret-token"),
        reads_need_token: true,
        ..Default::default()
    };
    let server = TestServer::start_configured(
        service,
        dir,
        HttpConfig {
            access,
            ..HttpConfig::default()
        },
    )
    .await;
    let refused = server
        .client
        .post(format!("{}/graphql", server.url))
        .json(&json!({ "query": ORDINARY }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let allowed: Value = server
        .client
        .post(format!("{}/graphql", server.url))
        .bearer_auth("s3cret-token")
        .json(&json!({ "query": ORDINARY }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        allowed["data"]["entity"]["name"],
        "U.S. Customs and Border Protection"
    );
    server.stop().await;
}

#[test]
fn open_writes_are_only_allowed_on_loopback() {
    let open = Access::default();
    assert!(check_exposure("127.0.0.1:8080".parse().unwrap(), &open).is_ok());
    assert!(check_exposure("[::1]:8080".parse().unwrap(), &open).is_ok());
    assert!(check_exposure("0.0.0.0:8080".parse().unwrap(), &open).is_err());
    assert!(check_exposure("10.1.2.3:8080".parse().unwrap(), &open).is_err());
    let guarded = Access {
        write_token: Token::new("t"),
        reads_need_token: true,
        ..Default::default()
    };
    assert!(check_exposure("0.0.0.0:8080".parse().unwrap(), &guarded).is_ok());
    assert!(Token::new("   ").is_none());
    assert_eq!(
        format!("{:?}", Token::new("secret").unwrap()),
        "Token(<redacted>)"
    );
}

#[tokio::test]
async fn metrics_readiness_and_request_ids() {
    let server = TestServer::start().await;
    ordinary_query_is_answered(&server).await;
    let _ = server.gql("{ nonsense", json!({})).await;
    let response = server
        .client
        .get(format!("{}/health", server.url))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let ready = server
        .client
        .get(format!("{}/ready", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = server
        .client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "tiegraph_http_requests_total{route=\"/graphql\",status=\"200\"}",
        "tiegraph_http_request_duration_seconds_bucket{le=\"+Inf\"}",
        "tiegraph_graphql_errors_total{code=\"GRAPHQL_PARSE_FAILED\"} 1",
        "tiegraph_graph_entities 12",
        "tiegraph_graph_relations 17",
        "tiegraph_store_bytes",
    ] {
        assert!(
            metrics.contains(expected),
            "{expected} missing from:\n{metrics}"
        );
    }
    server.stop().await;
}
