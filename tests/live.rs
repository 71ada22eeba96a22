use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use tiegraph::http::{Access, HttpConfig, Token};

use crate::util::{seeded_service, TestServer};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(server: &TestServer, protocol: &'static str) -> Socket {
    connect_to(server, "/graphql/ws", protocol).await
}

async fn connect_to(server: &TestServer, path: &str, protocol: &'static str) -> Socket {
    let url = format!("{}{path}", server.url.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_static(protocol));
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next JSON message, skipping pings.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message in time")
            .expect("an open socket")
            .unwrap();
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] != "ping" && value["type"] != "ka" {
                return value;
            }
        }
    }
}

const CHANGES: &str =
    "subscription($entity: ID) { changes(entity: $entity) { kind recordType id entities } }";

#[tokio::test]
async fn the_changes_subscription_streams_committed_writes_filtered_by_entity() {
    let server = TestServer::start().await;
    let mut socket = connect(&server, "graphql-transport-ws").await;
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": CHANGES, "variables": { "entity": "cbp" } } })).await;
    // Give the subscription a moment to be registered before writing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A write elsewhere is not sent; one touching CBP is.
    server.data(r#"mutation { createEntity(input: {id: "elsewhere", kind: COMPANY, name: "Elsewhere"}) { id } }"#, json!({})).await;
    server
        .data(
            r#"mutation { createRelation(input: {kind: VENDOR_TO, from: "elsewhere", to: "cbp",
                claim: {source: "raices-declines-salesforce-donation", quote: "q"}}) { id } }"#,
            json!({}),
        )
        .await;
    let message = next(&mut socket).await;
    assert_eq!(message["type"], "next", "{message}");
    let change = &message["payload"]["data"]["changes"];
    assert_eq!(change["kind"], "CREATED");
    assert_eq!(change["recordType"], "RELATION");
    assert_eq!(change["id"], "elsewhere-vendor-to-cbp");
    assert_eq!(change["entities"], json!(["elsewhere", "cbp"]));
    send(&mut socket, json!({ "id": "1", "type": "complete" })).await;
    server.stop().await;
}

#[tokio::test]
async fn a_claim_deleted_reaches_whoever_made_it_and_an_unknown_entity_is_refused() {
    let server = TestServer::start().await;
    let mut socket = connect(&server, "graphql-transport-ws").await;
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    send(&mut socket, json!({ "id": "nope", "type": "subscribe", "payload": { "query": CHANGES, "variables": { "entity": "nope" } } })).await;
    let refused = next(&mut socket).await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
    // Marc Benioff is no end of the CBP tie, but he made its first claim.
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": CHANGES, "variables": { "entity": "marc-benioff" } } })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server
        .data(
            r#"mutation { deleteClaim(id: "salesforce-vendor-to-cbp.c1") { deletedIds } }"#,
            json!({}),
        )
        .await;
    let mut message = next(&mut socket).await;
    while message["id"] == "nope" {
        message = next(&mut socket).await;
    }
    let change = &message["payload"]["data"]["changes"];
    assert_eq!(change["kind"], "DELETED", "{message}");
    assert_eq!(change["recordType"], "CLAIM");
    assert_eq!(
        change["entities"],
        json!(["salesforce", "cbp", "marc-benioff"])
    );
    server.stop().await;
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_works_too() {
    let server = TestServer::start().await;
    let mut socket = connect(&server, "graphql-ws").await;
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    send(
        &mut socket,
        json!({ "id": "7", "type": "start", "payload": { "query": CHANGES } }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.data(r#"mutation { createEntity(input: {id: "legacy", kind: GROUP, name: "Legacy"}) { id } }"#, json!({})).await;
    let message = next(&mut socket).await;
    assert_eq!(message["type"], "data", "{message}");
    assert_eq!(message["payload"]["data"]["changes"]["id"], "legacy");
    server.stop().await;
}

#[tokio::test]
async fn the_graphql_path_itself_upgrades_to_the_websocket_in_both_protocols() {
    let server = TestServer::start().await;
    for (protocol, subscribe, next_type) in [
        ("graphql-transport-ws", "subscribe", "next"),
        ("graphql-ws", "start", "data"),
    ] {
        let mut socket = connect_to(&server, "/graphql", protocol).await;
        send(&mut socket, json!({ "type": "connection_init" })).await;
        assert_eq!(
            next(&mut socket).await["type"],
            "connection_ack",
            "{protocol}"
        );
        send(
            &mut socket,
            json!({ "id": "1", "type": subscribe, "payload": { "query": CHANGES } }),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let id = format!("on-the-graphql-path-{}", protocol.len());
        server
            .data(
                &format!(r#"mutation {{ createEntity(input: {{id: "{id}", kind: GROUP, name: "{id}"}}) {{ id }} }}"#),
                json!({}),
            )
            .await;
        let message = next(&mut socket).await;
        assert_eq!(message["type"], next_type, "{protocol}: {message}");
        assert_eq!(message["payload"]["data"]["changes"]["id"], id.as_str());
    }
    // Without an upgrade, a GET of /graphql is still GraphQL over HTTP.
    let answer: Value = server
        .client
        .get(format!("{}/graphql?query=%7B__typename%7D", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["__typename"], "QueryRoot");
    server.stop().await;
}

#[tokio::test]
async fn over_the_websocket_writes_need_the_token_too() {
    let (service, dir) = seeded_service();
    let access = Access {
        write_token: Token::new("ws-token"),
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
    let mutation =
        r#"mutation { createEntity(input: {id: "sneaky", kind: COMPANY, name: "Sneaky"}) { id } }"#;
    for (payload, allowed) in [
        (json!({}), false),
        (json!({ "Authorization": "Bearer ws-token" }), true),
    ] {
        let mut socket = connect(&server, "graphql-transport-ws").await;
        send(
            &mut socket,
            json!({ "type": "connection_init", "payload": payload }),
        )
        .await;
        assert_eq!(next(&mut socket).await["type"], "connection_ack");
        send(
            &mut socket,
            json!({ "id": "m", "type": "subscribe", "payload": { "query": mutation } }),
        )
        .await;
        let message = next(&mut socket).await;
        if allowed {
            assert_eq!(
                message["payload"]["data"]["createEntity"]["id"], "sneaky",
                "{message}"
            );
        } else {
            assert_eq!(
                message["payload"]["errors"][0]["extensions"]["code"], "UNAUTHORIZED",
                "{message}"
            );
            assert!(server.service.entity("sneaky").unwrap().is_none());
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_dropped_not_buffered() {
    let (service, _dir) = seeded_service();
    let mut receiver = service.subscribe();
    for i in 0..1_100 {
        let draft = tiegraph::model::EntityDraft {
            id: Some(format!("burst-{i}")),
            kind: tiegraph::model::EntityKind::Company,
            name: format!("Burst {i}"),
            aliases: vec![],
            description: None,
            country: None,
            category: None,
            identifiers: vec![],
        };
        service.create_entity(draft).unwrap();
    }
    // The feed kept only its buffer: the reader learns it lagged (and the API ends its stream).
    assert!(matches!(
        receiver.recv().await,
        Err(tokio::sync::broadcast::error::RecvError::Lagged(_))
    ));
}
