//! The attacks of issue 10, each bounded in time, each run while checking that `/health` and an
//! ordinary query are still answered within a second.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use tiegraph::api::{ExportPolicy, SchemaLimits, SocketLimits};
use tiegraph::http::{Access, HttpConfig, Token};
use tiegraph::model::{EntityDraft, EntityKind};
use tiegraph::service::{ImportItem, Service};

use crate::hardening::dense_service;
use crate::util::{seed_dir, seeded_service, TestServer};

const ORDINARY: &str = r#"{ entity(id: "cbp") { name } }"#;
const TOKEN: &str = "attack-test-token";

/// `work`, which must finish within a second.
async fn within_a_second<T>(what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(1), work)
        .await
        .unwrap_or_else(|_| panic!("{what} took more than a second"))
}

/// `/health` and an ordinary query, each answered within a second.
async fn still_answering(url: &str) {
    let client = reqwest::Client::new();
    let health = within_a_second("/health", client.get(format!("{url}/health")).send())
        .await
        .expect("/health answers");
    assert_eq!(health.status(), 200);
    let answer: Value = within_a_second("an ordinary query", async {
        client
            .post(format!("{url}/graphql"))
            .bearer_auth(TOKEN)
            .json(&json!({ "query": ORDINARY }))
            .send()
            .await
            .expect("the query is answered")
            .json()
            .await
            .expect("a JSON answer")
    })
    .await;
    assert_eq!(
        answer["data"]["entity"]["name"], "U.S. Customs and Border Protection",
        "{answer}"
    );
}

fn address(server: &TestServer) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

/// `query{...F1} fragment F1 on QueryRoot{...F2 ...F2} ... fragment F26 on QueryRoot{stats{entities}}`
fn fan_out() -> String {
    let mut query = String::from("query{...F1}");
    for i in 1..26 {
        query.push_str(&format!(
            " fragment F{i} on QueryRoot{{...F{} ...F{}}}",
            i + 1,
            i + 1
        ));
    }
    query.push_str(" fragment F26 on QueryRoot{stats{entities}}");
    query
}

#[tokio::test]
async fn fragment_fan_out_is_refused_in_milliseconds_while_the_server_answers() {
    let server = TestServer::start().await;
    let query = fan_out();
    assert!(query.len() < 1_200, "{} bytes", query.len());
    let attackers: Vec<_> = (0..8)
        .map(|_| {
            let request = server
                .client
                .post(format!("{}/graphql", server.url))
                .json(&json!({ "query": query }))
                .send();
            tokio::spawn(async move {
                let started = Instant::now();
                let answer: Value = request.await.unwrap().json().await.unwrap();
                (started.elapsed(), answer)
            })
        })
        .collect();
    still_answering(&server.url).await;
    for attacker in attackers {
        let (took, answer) = attacker.await.unwrap();
        assert!(took < Duration::from_secs(1), "refused after {took:?}");
        let error = &answer["errors"][0];
        assert_eq!(error["extensions"]["code"], "QUERY_TOO_LARGE", "{answer}");
        assert_eq!(error["extensions"]["limit"], "maxFields", "{answer}");
        assert_eq!(error["extensions"]["max"], 2_000, "{answer}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("67,108,864 fields"), "{message}");
        assert!(message.contains("at most 2,000"), "{message}");
    }
    // A fragment that spreads itself is refused too, not walked for ever.
    let cycle = server
        .gql(
            "{ ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }",
            json!({}),
        )
        .await;
    assert_eq!(
        cycle["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{cycle}"
    );
    // A million opening braces never reach the parser's recursion.
    let braces = server
        .client
        .post(format!("{}/graphql", server.url))
        .json(&json!({ "query": "{".repeat(300_000) }))
        .send()
        .await
        .unwrap();
    assert_eq!(braces.status(), 400);
    let braces: Value = braces.json().await.unwrap();
    assert_eq!(
        braces["errors"][0]["extensions"]["limit"],
        "maxDocumentBytes"
    );
    let nested = server.gql(&"{".repeat(100_000), json!({})).await;
    assert_eq!(
        nested["errors"][0]["extensions"]["limit"], "maxNesting",
        "{nested}"
    );
    still_answering(&server.url).await;
    server.stop().await;
}

#[tokio::test]
async fn depth_and_complexity_refusals_name_the_limit_and_the_value() {
    let server = TestServer::start().await;
    let deep = format!(
        "{{ entity(id: \"cbp\") {{ {} id {} }} }}",
        "relations { edges { node { from { ".repeat(5),
        "} } } } ".repeat(5)
    );
    let answer = server.gql(&deep, json!({})).await;
    let error = &answer["errors"][0];
    assert_eq!(error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(error["extensions"]["limit"], "maxDepth");
    assert_eq!(
        error["message"],
        "the query nests fields 22 deep; at most 16 levels are allowed"
    );
    let wide = r#"{ entities(first: 1000) { edges { node { relations(first: 1000) { edges { node { id } } } } } } }"#;
    let answer = server.gql(wide, json!({})).await;
    let error = &answer["errors"][0];
    assert_eq!(error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(error["extensions"]["limit"], "maxComplexity");
    assert_eq!(error["extensions"]["max"], 50_000);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("the query's complexity is 3,00"),
        "{message}"
    );
    assert!(message.contains("at most 50,000 is allowed"), "{message}");
    assert!(!message.contains("Query is too complex"), "{message}");
    // The same query, fragments expanded the same way, over a spread.
    let spread = r#"{ ...W } fragment W on QueryRoot { entities(first: 1000) { edges { node { relations(first: 1000) { edges { node { id } } } } } } }"#;
    let answer = server.gql(spread, json!({})).await;
    assert_eq!(answer["errors"][0]["extensions"]["limit"], "maxComplexity");
    server.stop().await;
}

/// Sends `head` one byte a second (at most `seconds` bytes); returns how long the server kept
/// the connection open, or `None` if it was still open at the end.
async fn one_byte_a_second(
    address: String,
    head: &'static [u8],
    seconds: usize,
) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.ok()?;
    let mut answer = [0u8; 1024];
    for byte in head.iter().take(seconds) {
        if stream.write_all(&[*byte]).await.is_err() {
            return Some(started.elapsed());
        }
        // Any answer or the end of the stream means the server is done with the connection.
        let answered = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut answer)).await;
        if answered.is_ok() {
            return Some(started.elapsed());
        }
    }
    None
}

/// Connects and sends nothing; returns how long the server kept the connection (at most 8 s).
async fn silent_client(address: String) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.ok()?;
    let mut answer = [0u8; 64];
    tokio::time::timeout(Duration::from_secs(8), stream.read(&mut answer))
        .await
        .ok()
        .map(|_| started.elapsed())
}

/// Sends one request, reads its answer, then idles on the kept-alive connection; returns how
/// long after the answer the server closed it (at most 8 s).
async fn idle_after_a_request(address: String) -> Option<Duration> {
    let mut stream = TcpStream::connect(address).await.ok()?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .ok()?;
    let mut answer = [0u8; 4096];
    let read = stream.read(&mut answer).await.ok()?;
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    match tokio::time::timeout(Duration::from_secs(8), stream.read(&mut answer)).await {
        Ok(Ok(0)) | Ok(Err(_)) => Some(answered.elapsed()),
        _ => None,
    }
}

#[tokio::test]
async fn slow_request_heads_are_dropped_at_the_header_timeout_while_the_server_answers() {
    let (service, dir) = seeded_service();
    let config = HttpConfig {
        header_timeout: Duration::from_secs(2),
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let head: &'static [u8] = b"GET /health HTTP/1.1\r\nHost: attacker\r\nX-Slow: 1\r\n\r\n";
    let slow: Vec<_> = (0..150)
        .map(|_| tokio::spawn(one_byte_a_second(address(&server), head, 8)))
        .collect();
    // Also clients that open a connection and send nothing at all.
    let silent: Vec<_> = (0..50)
        .map(|_| tokio::spawn(silent_client(address(&server))))
        .collect();
    // And keep-alive connections left idle after a request.
    let idle: Vec<_> = (0..20)
        .map(|_| tokio::spawn(idle_after_a_request(address(&server))))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..3 {
        still_answering(&server.url).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for client in slow {
        let held = client
            .await
            .unwrap()
            .expect("the server closed the connection");
        assert!(held < Duration::from_secs(5), "held for {held:?}");
    }
    for client in silent.into_iter().chain(idle) {
        let held = client
            .await
            .unwrap()
            .expect("the server closed the connection");
        assert!(held < Duration::from_secs(5), "held for {held:?}");
    }
    still_answering(&server.url).await;
    server.stop().await;
}

#[tokio::test]
async fn past_the_connection_cap_a_connection_gets_a_clear_503_and_slots_come_back() {
    let (service, dir) = seeded_service();
    let config = HttpConfig {
        max_connections: 20,
        header_timeout: Duration::from_secs(2),
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(address(&server)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut refused = TcpStream::connect(address(&server)).await.unwrap();
    let _ = refused
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut answer = String::new();
    within_a_second("the refusal", refused.read_to_string(&mut answer))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAVAILABLE");
    assert_eq!(body["errors"][0]["extensions"]["limit"], "maxConnections");
    assert_eq!(body["errors"][0]["extensions"]["max"], 20);
    // The held connections send nothing: the header timeout frees their slots.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    still_answering(&server.url).await;
    drop(held);
    server.stop().await;
}

fn binary(
    dir: &std::path::Path,
    extra: &[&str],
    log: Arc<Mutex<String>>,
    rust_log: &str,
) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiegraph"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .arg("--seed-dir")
        .arg(seed_dir())
        .args(extra)
        .env("TIEGRAPH_TOKEN", TOKEN)
        .env("RUST_LOG", rust_log)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start tiegraph");
    let stderr = child.stderr.take().expect("stderr");
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("serving GraphQL") {
                if let Some(rest) = line.split("http://").nth(1) {
                    let _ = found.send(rest.split('/').next().unwrap_or_default().to_owned());
                }
            }
            let mut log = log.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let address = address
        .recv_timeout(Duration::from_secs(60))
        .expect("the server said where it listens");
    (child, address)
}

/// Waits at most `limit` for the child to exit.
fn exits_within(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test]
async fn sigterm_ends_the_server_within_the_grace_period_whatever_clients_do() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (mut child, address) = binary(
        dir.path(),
        &["--header-timeout", "60", "--shutdown-grace", "2"],
        Arc::clone(&log),
        "info",
    );
    let url = format!("http://{address}");
    still_answering(&url).await;
    // Heads sent one byte a second, and a request whose body never finishes.
    let slow: Vec<_> = (0..50)
        .map(|_| {
            tokio::spawn(one_byte_a_second(
                address.clone(),
                b"GET /health HTTP/1.1\r\nHost: attacker\r\n\r\n",
                20,
            ))
        })
        .collect();
    let mut unfinished = TcpStream::connect(&address).await.unwrap();
    unfinished
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\":")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    still_answering(&url).await;
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let started = Instant::now();
    let status = tokio::task::spawn_blocking(move || {
        let status = exits_within(&mut child, Duration::from_secs(8));
        if status.is_none() {
            let _ = child.kill();
        }
        status
    })
    .await
    .unwrap();
    let status = status
        .unwrap_or_else(|| panic!("still running 8 s after SIGTERM:\n{}", log.lock().unwrap()));
    assert!(status.success(), "{status}: {}", log.lock().unwrap());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(log.lock().unwrap().contains("stopped; store flushed"));
    for client in slow {
        assert!(
            client.await.unwrap().is_some(),
            "a slow client was still connected"
        );
    }
}

#[tokio::test]
async fn tokens_never_reach_the_log_even_at_trace() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (mut child, address) = binary(dir.path(), &[], Arc::clone(&log), "trace");
    let url = format!("http://{address}");
    still_answering(&url).await;
    // The token in a header, in lower case, and in a websocket's connection_init payload.
    let lower = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .header("authorization", format!("bearer {TOKEN}"))
        .json(&json!({ "query": "mutation { createEntity(input: {id: \"logged\", kind: COMPANY, name: \"Logged\"}) { id } }" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(lower["data"]["createEntity"]["id"], "logged", "{lower}");
    let mut socket = connect(&format!("ws://{address}/graphql/ws"), None).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {TOKEN}") } }),
    )
    .await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": ORDINARY } }),
    )
    .await;
    assert_eq!(next(&mut socket).await["type"], "next");
    // A clean close, which the websocket library logs at debug: its log is captured.
    let _ = socket.close(None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status =
        tokio::task::spawn_blocking(move || exits_within(&mut child, Duration::from_secs(15)))
            .await
            .unwrap();
    assert!(status.is_some_and(|s| s.success()));
    let log = log.lock().unwrap();
    assert!(log.contains("TRACE"), "not a trace log");
    assert!(
        log.contains("Received close frame"),
        "the websocket library's log is not captured, so this test shows nothing"
    );
    assert!(
        log.contains("connection_init") || log.contains("request"),
        "the log saw the requests"
    );
    assert!(!log.contains(TOKEN), "the token is in the log");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, authorization: Option<&str>) -> Socket {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    if let Some(value) = authorization {
        request
            .headers_mut()
            .insert("authorization", HeaderValue::from_str(value).unwrap());
    }
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next JSON message, skipping pings; panics after ten seconds.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message in time")
            .expect("an open socket")
            .unwrap();
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] != "ping" {
                    return value;
                }
            }
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// The close frame the server sends next, within ten seconds.
async fn closed(socket: &mut Socket) -> Option<(CloseCode, String)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let message = tokio::time::timeout_at(deadline.into(), socket.next())
            .await
            .expect("closed in time");
        match message {
            Some(Ok(Message::Close(frame))) => {
                return frame.map(|f| (f.code, f.reason.to_string()));
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return None,
        }
    }
}

/// The next message about operation `id` other than its `complete`.
async fn answer_to(socket: &mut Socket, id: &str) -> Value {
    loop {
        let message = next(socket).await;
        if message["id"] == id && message["type"] != "complete" {
            return message;
        }
    }
}

/// The first error of an operation's answer: a `next` with errors, or an `error` message.
fn ws_error(message: &Value) -> &Value {
    match message["type"].as_str() {
        Some("error") => &message["payload"][0],
        _ => &message["payload"]["errors"][0],
    }
}

fn ws_url(server: &TestServer) -> String {
    format!("{}/graphql/ws", server.url.replace("http://", "ws://"))
}

async fn initialised(server: &TestServer) -> Socket {
    let mut socket = connect(&ws_url(server), None).await;
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    socket
}

#[tokio::test]
async fn the_websocket_applies_the_http_limits() {
    let (service, dir) = dense_service();
    let config = HttpConfig {
        websocket_init_timeout: Duration::from_secs(1),
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;

    // A 10,000-field operation: refused like over HTTP; the socket stays usable.
    let mut socket = initialised(&server).await;
    let flood: String = (0..10_000).map(|i| format!("a{i}:__typename ")).collect();
    send(&mut socket, json!({ "id": "flood", "type": "subscribe", "payload": { "query": format!("{{ {flood} }}") } })).await;
    let answer = answer_to(&mut socket, "flood").await;
    assert_eq!(
        ws_error(&answer)["extensions"]["code"],
        "QUERY_TOO_LARGE",
        "{answer}"
    );
    assert_eq!(ws_error(&answer)["extensions"]["limit"], "maxFields");
    send(
        &mut socket,
        json!({ "id": "fine", "type": "subscribe", "payload": { "query": ORDINARY } }),
    )
    .await;
    let answer = answer_to(&mut socket, "fine").await;
    assert_eq!(
        answer["payload"]["data"]["entity"]["name"], "U.S. Customs and Border Protection",
        "{answer}"
    );
    // Depth, complexity and fan-out, as over HTTP.
    send(
        &mut socket,
        json!({ "id": "fan", "type": "subscribe", "payload": { "query": fan_out() } }),
    )
    .await;
    let answer = answer_to(&mut socket, "fan").await;
    assert_eq!(
        ws_error(&answer)["extensions"]["limit"],
        "maxFields",
        "{answer}"
    );
    let wide = r#"{ entities(first: 1000) { edges { node { relations(first: 1000) { edges { node { id } } } } } } }"#;
    send(
        &mut socket,
        json!({ "id": "wide", "type": "subscribe", "payload": { "query": wide } }),
    )
    .await;
    let answer = answer_to(&mut socket, "wide").await;
    assert_eq!(
        ws_error(&answer)["extensions"]["limit"],
        "maxComplexity",
        "{answer}"
    );

    // 300 slow searches sent at once on one socket: at most 16 run, the others are refused at
    // once, and a client that sends faster than it takes its refusals is disconnected (4429)
    // rather than having them buffered.
    let search = r#"{ paths(from: "d0", pattern: [{maxRepeat: 8}], first: 1, budget: {maxMillis: 1500}) { partial totalCount } }"#;
    for i in 0..300 {
        send(
            &mut socket,
            json!({ "id": format!("s{i}"), "type": "subscribe", "payload": { "query": search } }),
        )
        .await;
    }
    let reader = tokio::spawn(async move {
        let mut first = std::collections::HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut close = None;
        while first.len() < 300 {
            let message = tokio::time::timeout_at(deadline.into(), socket.next())
                .await
                .expect("every search answered or the socket closed in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).unwrap();
                    if let Some(id) = message["id"].as_str() {
                        if message["type"] != "complete" {
                            first.entry(id.to_owned()).or_insert(message);
                        }
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    close = frame.map(|f| u16::from(f.code));
                    break;
                }
                Some(Ok(_)) => {}
                None | Some(Err(_)) => break,
            }
        }
        (first, close)
    });
    still_answering(&server.url).await;
    let (first, close) = reader.await.unwrap();
    let ran = first
        .values()
        .filter(|m| m["payload"]["data"]["paths"]["partial"].is_boolean())
        .count();
    let refused: Vec<_> = first
        .values()
        .filter(|m| ws_error(m)["extensions"]["limit"] == "maxOperationsPerConnection")
        .collect();
    assert!(ran <= 16, "{ran} ran at once");
    assert!(!refused.is_empty(), "none refused");
    assert_eq!(ws_error(refused[0])["extensions"]["code"], "UNAVAILABLE");
    if ran + refused.len() < 300 {
        assert_eq!(
            close,
            Some(4429),
            "neither all answered nor closed for flooding"
        );
    }
    still_answering(&server.url).await;

    // A flood of subscriptions on one socket: closed with 4429, the server answering.
    let mut flood = initialised(&server).await;
    for i in 0..2_000 {
        if flood
            .send(Message::Text(
                json!({ "id": format!("f{i}"), "type": "subscribe", "payload": { "query": "subscription { changes { id } }" } })
                    .to_string()
                    .into(),
            ))
            .await
            .is_err()
        {
            break;
        }
    }
    // Every operation past the 16 that run is refused, or, if the refusals pile up because the
    // client sends faster than it reads them, the socket is closed with 4429.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut refusals = 0;
    let mut close = None;
    while refusals < 2_000 - 16 {
        match tokio::time::timeout_at(deadline.into(), flood.next())
            .await
            .expect("refused or closed in time")
        {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                if ws_error(&message)["extensions"]["limit"] == "maxOperationsPerConnection" {
                    refusals += 1;
                }
            }
            Some(Ok(Message::Close(frame))) => {
                close = frame.map(|f| u16::from(f.code));
                break;
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => break,
        }
    }
    assert!(
        refusals == 2_000 - 16 || close == Some(4429),
        "{refusals} refused, closed with {close:?}"
    );
    still_answering(&server.url).await;

    // A 15 MiB document is refused by the framing before anything reads it.
    let mut big = initialised(&server).await;
    let document = format!("{{ stats {{ entities }} }} #{}", "x".repeat(15 << 20));
    let _ = big
        .send(Message::Text(
            json!({ "id": "big", "type": "subscribe", "payload": { "query": document } })
                .to_string()
                .into(),
        ))
        .await;
    if let Some((code, _)) = closed(&mut big).await {
        assert_eq!(code, CloseCode::Size);
    }
    still_answering(&server.url).await;

    // A socket that never completes connection_init is closed with 4408.
    let mut idle = connect(&ws_url(&server), None).await;
    let (code, reason) = closed(&mut idle).await.expect("a close frame");
    assert_eq!(u16::from(code), 4408, "{reason}");
    server.stop().await;
}

#[tokio::test]
async fn websocket_refusals_say_what_was_wrong() {
    let (service, dir) = seeded_service();
    let access = Access {
        write_token: Token::new(TOKEN),
        reads_need_token: true,
        ..Default::default()
    };
    let config = HttpConfig {
        access,
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let mut missing = connect(&ws_url(&server), None).await;
    send(&mut missing, json!({ "type": "connection_init" })).await;
    let (code, reason) = closed(&mut missing).await.expect("a close frame");
    assert_eq!(u16::from(code), 4403);
    assert!(
        reason.contains("send `Authorization: Bearer <token>`"),
        "{reason}"
    );
    let mut wrong = connect(&ws_url(&server), None).await;
    send(
        &mut wrong,
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer nope" } }),
    )
    .await;
    let (code, reason) = closed(&mut wrong).await.expect("a close frame");
    assert_eq!(u16::from(code), 4403);
    assert!(reason.contains("not this server's"), "{reason}");
    // Lower-case scheme, in the upgrade's header.
    let mut lower = connect(&ws_url(&server), Some(&format!("bearer {TOKEN}"))).await;
    send(&mut lower, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut lower).await["type"], "connection_ack");
    // A message that is not the protocol's: 4400, not serde's words.
    send(&mut lower, json!({ "type": "nonsense" })).await;
    let (code, reason) = closed(&mut lower).await.expect("a close frame");
    assert_eq!(u16::from(code), 4400, "{reason}");
    server.stop().await;
}

#[tokio::test]
async fn every_refusal_has_the_error_shape_and_says_what_to_do() {
    let (service, dir) = seeded_service();
    let access = Access {
        write_token: Token::new(TOKEN),
        reads_need_token: false,
        ..Default::default()
    };
    let config = HttpConfig {
        access,
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let client = &server.client;
    let graphql = format!("{}/graphql", server.url);
    let post = |body: &'static str| {
        client
            .post(&graphql)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases: Vec<(&str, reqwest::Response, u16, &str)> = vec![
        ("query: 5", post(r#"{"query": 5}"#).await.unwrap(), 400, "GRAPHQL_PARSE_FAILED"),
        ("empty batch", post("[]").await.unwrap(), 400, "GRAPHQL_PARSE_FAILED"),
        ("syntax", post(r#"{"query": "{ nonsense"}"#).await.unwrap(), 200, "GRAPHQL_PARSE_FAILED"),
        ("not json", post("{not json").await.unwrap(), 400, "BAD_REQUEST"),
        (
            "persisted query",
            post(r#"{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}}"#)
                .await
                .unwrap(),
            200,
            "PERSISTED_QUERY_NOT_FOUND",
        ),
        (
            "persisted query over GET, with a hash that is no hash",
            client
                .get(&graphql)
                .query(&[("extensions", r#"{"persistedQuery":{"version":1,"sha256Hash":"abc"}}"#)])
                .send()
                .await
                .unwrap(),
            200,
            "BAD_REQUEST",
        ),
        ("export without format", client.get(format!("{}/export", server.url)).send().await.unwrap(), 400, "BAD_REQUEST"),
        (
            "export of an unknown entity",
            client.get(format!("{}/export?format=cytoscape&scope=neighborhood&id=nobody", server.url)).send().await.unwrap(),
            404,
            "NOT_FOUND",
        ),
        ("backup without a token", client.get(format!("{}/admin/backup", server.url)).send().await.unwrap(), 401, "UNAUTHORIZED"),
        ("import without a token", client.post(format!("{}/admin/import", server.url)).body("").send().await.unwrap(), 401, "UNAUTHORIZED"),
        ("no such route", client.get(format!("{}/nowhere", server.url)).send().await.unwrap(), 404, "NOT_FOUND"),
        ("wrong method", client.delete(format!("{}/health", server.url)).send().await.unwrap(), 405, "BAD_REQUEST"),
        ("plain GET on the websocket", client.get(format!("{}/graphql/ws", server.url)).send().await.unwrap(), 400, "BAD_REQUEST"),
    ];
    for (what, response, status, code) in cases {
        assert_eq!(response.status(), status, "{what}");
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], code, "{what}: {body}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{what}");
        for internal in [
            "untagged enum",
            "BatchRequest",
            "serde",
            "sled",
            "Error {",
            "-->",
        ] {
            assert!(!message.contains(internal), "{what}: {message}");
        }
    }
    let syntax = server.gql("{ nonsense", json!({})).await;
    assert_eq!(
        syntax["errors"][0]["message"],
        "the query does not parse at line 1, column 11: expected selection_set, selection, directive, or arguments",
        "{syntax}"
    );

    // A missing, a malformed and a wrong token are told apart; the scheme's case does not matter.
    let create = json!({ "query": "mutation { createEntity(input: {id: \"acme\", kind: COMPANY, name: \"Acme\"}) { id } }" });
    let mut messages = Vec::new();
    for authorization in [None, Some("Token abc"), Some("Bearer wrong")] {
        let mut request = client.post(&graphql).json(&create);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHORIZED");
        messages.push(body["errors"][0]["message"].as_str().unwrap().to_owned());
    }
    assert!(
        messages[0].contains("send `Authorization: Bearer <token>`"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("not of the form `Bearer <token>`"),
        "{messages:?}"
    );
    assert!(messages[2].contains("not this server's"), "{messages:?}");
    let created: Value = client
        .post(&graphql)
        .header("authorization", format!("BEARER {TOKEN}"))
        .json(&create)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["data"]["createEntity"]["id"], "acme", "{created}");
    // "an entity", not "a entity".
    let taken: Value = client
        .post(&graphql)
        .bearer_auth(TOKEN)
        .json(&create)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        taken["errors"][0]["message"], "the id `acme` is already taken by an entity",
        "{taken}"
    );
    still_answering(&server.url).await;
    server.stop().await;
}

#[tokio::test]
async fn automatic_persisted_queries_follow_apollos_protocol() {
    use sha2::Digest;
    let server = TestServer::start().await;
    let graphql = format!("{}/graphql", server.url);
    let query = "{ entity(id: \"cbp\") { name } }";
    let hash: String = sha2::Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let hash_only_get = || {
        server
            .client
            .get(&graphql)
            .header("accept", "application/json")
            .query(&[("extensions", extensions.to_string())])
            .send()
    };
    // Apollo's link first sends the hash alone; an unknown hash asks for the document.
    let first: Value = hash_only_get().await.unwrap().json().await.unwrap();
    assert_eq!(
        first["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{first}"
    );
    assert!(first["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("PersistedQueryNotFound"));
    // Then the document with its hash, which runs and is remembered.
    let sent = server
        .post_json(&json!({ "query": query, "extensions": extensions }))
        .await;
    assert_eq!(
        sent["data"]["entity"]["name"], "U.S. Customs and Border Protection",
        "{sent}"
    );
    // From then on the hash alone runs it, over GET and POST.
    let again: Value = hash_only_get().await.unwrap().json().await.unwrap();
    assert_eq!(again, sent);
    let posted = server.post_json(&json!({ "extensions": extensions })).await;
    assert_eq!(posted, sent);
    // A document that does not match its hash is refused, and not remembered.
    let other = "{ stats { entities } }";
    let mismatch = server
        .post_json(&json!({ "query": other, "extensions": extensions }))
        .await;
    assert_eq!(
        mismatch["errors"][0]["extensions"]["code"], "BAD_REQUEST",
        "{mismatch}"
    );
    assert_eq!(
        hash_only_get()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
        sent
    );
    server.stop().await;
}

/// What the server answers to `request` sent raw: the status line and the JSON body.
async fn raw_answer(server: &TestServer, request: &[u8]) -> (String, Value) {
    let mut stream = TcpStream::connect(address(server)).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("content-type: application/json"), "{head}");
    let status = head.lines().next().unwrap().to_owned();
    (status, serde_json::from_str(body).unwrap())
}

#[tokio::test]
async fn request_heads_hyper_cannot_read_are_refused_in_the_error_shape() {
    let server = TestServer::start().await;
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
    ] {
        let (status, body) = raw_answer(&server, garbage).await;
        assert_eq!(status, "HTTP/1.1 400 Bad Request");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_REQUEST",
            "{body}"
        );
        assert!(body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("malformed"));
    }
    let mut huge = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 300_000));
    huge.extend(b"\r\n\r\n");
    let (status, body) = raw_answer(&server, &huge).await;
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    assert_eq!(
        body["errors"][0]["extensions"]["limit"], "maxHeadBytes",
        "{body}"
    );
    still_answering(&server.url).await;
    server.stop().await;
}

#[tokio::test]
async fn the_read_token_covers_health_counts_and_metrics() {
    let (service, dir) = seeded_service();
    let access = Access {
        write_token: Token::new(TOKEN),
        reads_need_token: true,
        metrics_token: Token::new("scraper-token"),
    };
    let config = HttpConfig {
        access,
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let client = &server.client;
    let health: Value = client
        .get(format!("{}/health", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({ "status": "ok" }));
    let health: Value = client
        .get(format!("{}/health", server.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["entities"], 12);
    let metrics = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 401);
    let body: Value = metrics.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHORIZED");
    for token in ["scraper-token", TOKEN] {
        let metrics = client
            .get(format!("{}/metrics", server.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(metrics.status(), 200);
        assert!(metrics
            .text()
            .await
            .unwrap()
            .contains("tiegraph_graph_entities 12"));
    }
    // The scraper's token reads nothing else.
    let query = client
        .post(format!("{}/graphql", server.url))
        .bearer_auth("scraper-token")
        .json(&json!({ "query": ORDINARY }))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 401);
    let export = client
        .get(format!("{}/export?format=cytoscape", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn exports_count_against_the_limits_and_whole_graph_exports_follow_the_policy() {
    // A whole-graph export over the size limit, or without the token when it needs one.
    let (service, dir) = seeded_service();
    let limits = SchemaLimits {
        export: ExportPolicy {
            whole_graph_needs_token: true,
            max_whole_graph_relations: 10,
            ..ExportPolicy::default()
        },
        ..SchemaLimits::default()
    };
    let config = HttpConfig {
        access: Access {
            write_token: Token::new(TOKEN),
            ..Default::default()
        },
        ..HttpConfig::default()
    };
    let server = TestServer::start_limited(service, dir, config, limits).await;
    let client = &server.client;
    let anonymous = client
        .get(format!("{}/export?format=cytoscape", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("whole-graph export needs the write token"),
        "{body}"
    );
    let too_big = client
        .get(format!("{}/export?format=cytoscape", server.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 403);
    let body: Value = too_big.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "EXPORT_TOO_LARGE");
    assert_eq!(body["errors"][0]["extensions"]["max"], 10);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("17 relations"),
        "{body}"
    );
    // The same policy over GraphQL; a neighbourhood is not a whole-graph export.
    let graphql = server.gql("{ export(format: CYTOSCAPE) }", json!({})).await;
    assert_eq!(
        graphql["errors"][0]["extensions"]["code"], "UNAUTHORIZED",
        "{graphql}"
    );
    let neighborhood = client
        .get(format!(
            "{}/export?format=cytoscape&scope=neighborhood&id=cbp",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(neighborhood.status(), 200);
    server.stop().await;

    // Exports take a slot of the concurrency limit: with it full of searches, an export waits
    // for nobody and is refused.
    let (service, dir) = dense_service();
    let config = HttpConfig {
        max_concurrency: 2,
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let search = json!({ "query": r#"{ paths(from: "d0", pattern: [{maxRepeat: 8}], first: 1, budget: {maxMillis: 1500}) { partial totalCount } }"# });
    let busy: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(
                server
                    .client
                    .post(format!("{}/graphql", server.url))
                    .json(&search)
                    .send(),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let export = server
        .client
        .get(format!(
            "{}/export?format=cytoscape&scope=neighborhood&id=d0",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 503);
    let body: Value = export.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["limit"], "maxConcurrency",
        "{body}"
    );
    let health = within_a_second(
        "/health",
        server.client.get(format!("{}/health", server.url)).send(),
    )
    .await
    .unwrap();
    assert_eq!(health.status(), 200);
    for request in busy {
        request.await.unwrap().unwrap();
    }
    server.stop().await;
}

/// A seeded store with 1,500 more entities of 19 KB each: about 30 MB, far more than the
/// sockets' buffers hold.
fn big_service() -> (Arc<Service>, tempfile::TempDir) {
    let (service, dir) = seeded_service();
    let description = "tiegraph backup stall test ".repeat(700);
    let items: Vec<_> = (0..1_500)
        .map(|i| {
            (
                i + 1,
                ImportItem::Entity(EntityDraft {
                    id: Some(format!("bulk-{i}")),
                    kind: EntityKind::Company,
                    name: format!("Bulk {i}"),
                    aliases: vec![],
                    description: Some(description.clone()),
                    country: None,
                    category: None,
                    identifiers: vec![],
                }),
            )
        })
        .collect();
    service.import(items, &|_, _| {}).unwrap();
    (service, dir)
}

/// A connection that sends `request` with the write token, reads the answer's head and then
/// reads nothing more; its receive buffer is small, so the server soon has to wait for it.
async fn stalled_download(server: &TestServer, path: &str) -> (tokio::net::TcpStream, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket
        .connect(address(server).parse().unwrap())
        .await
        .unwrap();
    stalled
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut first = [0u8; 1024];
    let read = stalled.read(&mut first).await.unwrap();
    let head = String::from_utf8_lossy(&first[..read]).into_owned();
    (stalled, head)
}

#[tokio::test]
async fn a_stalled_backup_client_holds_up_no_write_and_is_dropped() {
    let (service, dir) = big_service();
    let config = HttpConfig {
        // Shorter than the stall: a write held up by the backup would be cut by it.
        request_timeout: Duration::from_secs(1),
        write_timeout: Duration::from_secs(3),
        access: Access {
            write_token: Token::new(TOKEN),
            ..Default::default()
        },
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let (mut stalled, head) = stalled_download(&server, "/admin/backup").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // The client reads no more. Writes do not wait for it: the backup reads a snapshot.
    let stalled_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..3 {
        let started = Instant::now();
        let response = server
            .client
            .post(format!("{}/graphql", server.url))
            .bearer_auth(TOKEN)
            .json(&json!({ "query": format!("mutation {{ createEntity(input: {{id: \"after-stall-{n}\", kind: COMPANY, name: \"After\"}}) {{ id }} }}") }))
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["data"]["createEntity"]["id"],
            format!("after-stall-{n}"),
            "{body}"
        );
        assert!(
            took < Duration::from_secs(1),
            "{took:?}: the write waited for the backup"
        );
        still_answering(&server.url).await;
    }
    // Past the 3 s write timeout, the stalled connection was dropped: what is left to read
    // ends early.
    tokio::time::sleep(Duration::from_secs(4).saturating_sub(stalled_at.elapsed())).await;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut rest)).await;
    assert!(
        rest.len() < 20 << 20,
        "{} bytes: the backup kept streaming",
        rest.len()
    );
    server.stop().await;
}

#[tokio::test]
async fn an_export_streams_and_a_stalled_export_client_holds_its_slot_only_until_the_write_timeout()
{
    let (service, dir) = big_service();
    let limits = SchemaLimits {
        export: ExportPolicy {
            max_concurrent: 1,
            ..ExportPolicy::default()
        },
        ..SchemaLimits::default()
    };
    let config = HttpConfig {
        write_timeout: Duration::from_secs(3),
        access: Access {
            write_token: Token::new(TOKEN),
            ..Default::default()
        },
        ..HttpConfig::default()
    };
    let server = TestServer::start_limited(service, dir, config, limits).await;
    let (mut stalled, head) = stalled_download(&server, "/export?format=cytoscape").await;
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    // Streamed as it is written: no length known up front.
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let stalled_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    still_answering(&server.url).await;
    // The stalled export holds the only export slot.
    let second = within_a_second(
        "a second export",
        server
            .client
            .get(format!("{}/export?format=graphml", server.url))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(second.status(), 503);
    let body: Value = second.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{body}"
    );
    // Past the write timeout the stalled client is dropped, and its slot comes back.
    tokio::time::sleep(Duration::from_secs(4).saturating_sub(stalled_at.elapsed())).await;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut rest)).await;
    assert!(
        rest.len() < 20 << 20,
        "{} bytes: the export kept streaming",
        rest.len()
    );
    let whole = server
        .client
        .get(format!("{}/export?format=cytoscape", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert!(whole.headers().get("content-length").is_none());
    let document: Value = whole.json().await.unwrap();
    assert_eq!(
        document["elements"]["nodes"].as_array().unwrap().len(),
        1_512
    );
    server.stop().await;
}

#[tokio::test]
async fn socket_limits_are_configurable() {
    // Two operations per connection: the third waits for nobody.
    let (service, dir) = dense_service();
    let config = HttpConfig {
        socket: SocketLimits {
            max_operations_per_connection: 2,
        },
        ..HttpConfig::default()
    };
    let server = TestServer::start_configured(service, dir, config).await;
    let mut socket = initialised(&server).await;
    for id in ["a", "b", "c"] {
        send(&mut socket, json!({ "id": id, "type": "subscribe", "payload": { "query": "subscription { changes { id } }" } })).await;
    }
    let refused = next(&mut socket).await;
    assert_eq!(refused["id"], "c", "{refused}");
    assert_eq!(ws_error(&refused)["extensions"]["max"], 2, "{refused}");
    still_answering(&server.url).await;
    server.stop().await;
}
