//! One writer and read replicas following a change log in a real PostgreSQL (started by the
//! suite, see `postgres.rs`): replicas start from a checkpoint and apply every commit in
//! order, imports of many parts arrive whole, checkpoints drop the log they cover, a writer
//! whose store is behind the log (a crash between the two) applies it at start, a second
//! writer and a store of another log are refused, replicas refuse writes naming the writer,
//! and read-your-writes over HTTP (`extensions.sequence`, `minSequence`).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

use tiegraph::api::SchemaLimits;
use tiegraph::formats::seed;
use tiegraph::http::HttpConfig;
use tiegraph::model::{EntityDraft, EntityKind};
use tiegraph::replication::{self, Config, Node, ReplicationError};
use tiegraph::service::{ImportItem, Limits, Role, Service, ServiceError};

use crate::postgres::postgres;
use crate::util::{crash_seed, dump, records, seed_dir, start_binary_with, TestServer, TOKEN};

pub fn config(role: Role, log: &str, dir: &Path) -> Config {
    Config {
        role,
        log_url: log.to_owned(),
        data_dir: dir.to_owned(),
        advertise: Some("http://writer.test:8080".into()),
        checkpoint_every: 0,
        connect_wait: Duration::from_secs(5),
    }
}

fn open(dir: &Path) -> Result<Service, ServiceError> {
    Service::open(dir, Limits::default())
}

fn seed_it(service: &Service) -> Result<(), String> {
    seed::load_dir(service, seed_dir())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

pub fn start(role: Role, log: &str, dir: &Path) -> Result<Node, ReplicationError> {
    replication::start(&config(role, log, dir), &open, &seed_it)
}

fn company(id: &str) -> EntityDraft {
    EntityDraft {
        id: Some(id.into()),
        kind: EntityKind::Company,
        name: format!("Company {id}"),
        aliases: vec![],
        description: None,
        country: None,
        category: None,
        identifiers: vec![],
    }
}

/// Waits until `replica` has applied (store and index) everything `writer` has.
fn caught_up(writer: &Service, replica: &Service) {
    let target = writer.sequence().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while replica.applied_sequence() < target {
        assert!(
            Instant::now() < deadline,
            "the replica is at {} of {target} after 60 s",
            replica.applied_sequence()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn same_graph(writer: &Service, replica: &Service) {
    assert_eq!(records(writer), records(replica), "the records differ");
    assert_eq!(dump(writer), dump(replica), "the graphs differ");
    assert_eq!(writer.entity_count(), replica.entity_count());
    assert_eq!(writer.relation_count(), replica.relation_count());
}

#[test]
fn a_replica_starts_from_the_checkpoint_and_follows_every_commit() {
    let log = postgres().database("follow");
    let (writer_dir, replica_dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let writer = start(Role::Writer, &log, writer_dir.path()).unwrap();
    let w = writer.service();
    assert!(w.entity_count() > 0, "the writer's empty store was seeded");
    for i in 0..10 {
        w.create_entity(company(&format!("before-{i}"))).unwrap();
    }
    let replica = start(Role::Replica, &log, replica_dir.path()).unwrap();
    let r = replica.service();
    for i in 0..25 {
        w.create_entity(company(&format!("after-{i}"))).unwrap();
    }
    w.delete_entity("after-3", false).unwrap();
    caught_up(w, r);
    same_graph(w, r);
    assert_eq!(r.replication_status().role, Role::Replica);
    assert_eq!(r.replication_status().lag_commits(), 0);

    // A write on a replica is refused, naming the writer, and writes nothing.
    let before = r.sequence().unwrap();
    match r.create_entity(company("on-the-replica")) {
        Err(ServiceError::ReadOnly { writer }) => {
            assert_eq!(writer.as_deref(), Some("http://writer.test:8080"))
        }
        other => panic!("a replica took a write: {other:?}"),
    }
    assert_eq!(r.sequence().unwrap(), before);
    assert!(r.entity("on-the-replica").unwrap().is_none());
    replica.stop();
    writer.stop();
}

#[test]
fn an_import_of_many_parts_goes_through_the_log_whole() {
    let pg = postgres();
    let log = pg.database("parts");
    let (writer_dir, replica_dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let writer = start(Role::Writer, &log, writer_dir.path()).unwrap();
    let replica = start(Role::Replica, &log, replica_dir.path()).unwrap();
    let (w, r) = (writer.service(), replica.service());
    // More records than one part of a load's change record holds (20,000).
    let items: Vec<_> = (0..25_000)
        .map(|i| (i + 1, ImportItem::Entity(company(&format!("bulk-{i:05}")))))
        .collect();
    let summary = w.import(items, &|_, _| {}).unwrap();
    assert_eq!(summary.entities_created, 25_000);
    let parts = pg.psql(
        &database_of(&log),
        &format!(
            "SELECT count(*) FROM tiegraph_log WHERE sequence = {}",
            summary.sequence
        ),
    );
    assert_eq!(
        parts, "2",
        "the import's change record is two parts in one commit"
    );
    caught_up(w, r);
    same_graph(w, r);
    replica.stop();
    writer.stop();
}

fn database_of(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}

#[test]
fn a_checkpoint_drops_the_log_it_covers_and_new_replicas_start_from_it() {
    let pg = postgres();
    let log = pg.database("checkpoint");
    let writer_dir = TempDir::new().unwrap();
    let writer = start(Role::Writer, &log, writer_dir.path()).unwrap();
    let w = writer.service();
    for i in 0..20 {
        w.create_entity(company(&format!("c-{i}"))).unwrap();
    }
    let summary = w.checkpoint().unwrap();
    assert_eq!(summary.sequence, w.sequence().unwrap());
    assert_eq!(
        summary.dropped, 20,
        "the rows of the 20 commits the checkpoint covers"
    );
    let db = database_of(&log);
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM tiegraph_log"), "0");
    assert_eq!(
        pg.psql(&db, "SELECT count(*) FROM tiegraph_checkpoints"),
        "1"
    );
    for i in 0..5 {
        w.create_entity(company(&format!("d-{i}"))).unwrap();
    }
    let replica_dir = TempDir::new().unwrap();
    let replica = start(Role::Replica, &log, replica_dir.path()).unwrap();
    caught_up(w, replica.service());
    same_graph(w, replica.service());
    replica.stop();

    // A replica stopped, then left behind by a checkpoint, starts again from it.
    let stale_dir = TempDir::new().unwrap();
    let stale = start(Role::Replica, &log, stale_dir.path()).unwrap();
    caught_up(w, stale.service());
    stale.stop();
    for i in 0..5 {
        w.create_entity(company(&format!("e-{i}"))).unwrap();
    }
    w.checkpoint().unwrap();
    w.create_entity(company("f")).unwrap();
    let stale = start_again(Role::Replica, &log, stale_dir.path());
    caught_up(w, stale.service());
    same_graph(w, stale.service());
    stale.stop();
    writer.stop();
}

#[test]
fn a_replica_starts_from_the_index_of_the_checkpoint_and_a_damaged_one_is_refused() {
    let pg = postgres();
    let log = pg.database("damaged");
    let writer_dir = TempDir::new().unwrap();
    let writer = start(Role::Writer, &log, writer_dir.path()).unwrap();
    let w = writer.service();
    for i in 0..10 {
        w.create_entity(company(&format!("g-{i}"))).unwrap();
    }
    w.checkpoint().unwrap();
    assert!(
        !writer_dir.path().join("checkpoint.partial").exists(),
        "the copy sent is removed"
    );
    let holder = TempDir::new().unwrap();
    let replica_dir = holder.path().join("replica");
    let replica = start(Role::Replica, &log, &replica_dir).unwrap();
    caught_up(w, replica.service());
    same_graph(w, replica.service());
    replica.stop();
    assert!(
        replica_dir.join("index.snapshot").exists(),
        "the index came with the checkpoint"
    );

    // One byte of the checkpoint changed in the log: refused, and nothing is left behind.
    let db = database_of(&log);
    pg.psql(
        &db,
        "UPDATE tiegraph_checkpoint_chunks SET data = set_byte(data, 200, get_byte(data, 200) # 1) WHERE chunk = 0",
    );
    let damaged_dir = holder.path().join("damaged");
    match start(Role::Replica, &log, &damaged_dir) {
        Err(error) => assert!(error.to_string().contains("checksum"), "{error}"),
        Ok(_) => panic!("a replica started from a damaged checkpoint"),
    }
    let left: Vec<_> = std::fs::read_dir(holder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("damaged"))
        .collect();
    assert!(
        left.is_empty()
            || (left == ["damaged"] && std::fs::read_dir(&damaged_dir).unwrap().next().is_none()),
        "left behind: {left:?}"
    );
    writer.stop();
}

/// Starts a node on a directory another node just let go of (sled frees its lock a moment
/// after the last handle is dropped).
fn start_again(role: Role, log: &str, dir: &Path) -> Node {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match start(role, log, dir) {
            Ok(node) => return node,
            Err(error) if Instant::now() < deadline && error.to_string().contains("in use") => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(error) => panic!("cannot start again on {}: {error}", dir.display()),
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The crash between the log and the store, or one that took the commits the store had not
/// flushed yet: the log holds commits the writer's store does not. Made here by a second
/// writer on a copy of the store, which appends three more; the first writer, started again
/// on the original, applies them from the log before it takes writes.
#[test]
fn a_writer_whose_store_is_behind_the_log_applies_the_log_at_start() {
    let log = postgres().database("behind");
    let dir = TempDir::new().unwrap();
    let writer = start(Role::Writer, &log, dir.path()).unwrap();
    writer.service().create_entity(company("one")).unwrap();
    let at = writer.service().sequence().unwrap();
    writer.stop();
    let copy = TempDir::new().unwrap();
    wait_unlocked(dir.path());
    copy_dir(dir.path(), copy.path());
    let other = start_again(Role::Writer, &log, copy.path());
    for id in ["two", "two-b", "two-c"] {
        other.service().create_entity(company(id)).unwrap();
    }
    let expected = records(other.service());
    other.stop();

    let writer = start_again(Role::Writer, &log, dir.path());
    let w = writer.service();
    assert_eq!(
        w.sequence().unwrap(),
        at + 3,
        "the commits the store lacked were applied"
    );
    assert!(w.entity("two-c").unwrap().is_some());
    assert_eq!(records(w), expected);
    // And it takes writes after it.
    w.create_entity(company("three")).unwrap();
    writer.stop();
}

/// Waits until nothing holds the store in `dir` any more.
fn wait_unlocked(dir: &Path) {
    drop(crate::util::open_raw(dir));
}

#[test]
fn a_second_writer_is_refused_while_one_holds_the_log() {
    let log = postgres().database("lease");
    let (a, b) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let writer = start(Role::Writer, &log, a.path()).unwrap();
    let error = start(Role::Writer, &log, b.path())
        .err()
        .expect("a second writer");
    assert!(
        error.to_string().contains("another writer holds the log"),
        "{error}"
    );
    writer.stop();
}

#[test]
fn a_store_of_another_log_is_refused() {
    let log = postgres().database("lineage");
    let writer_dir = TempDir::new().unwrap();
    let writer = start(Role::Writer, &log, writer_dir.path()).unwrap();
    // A store of its own, never started from this log's checkpoint.
    let other = TempDir::new().unwrap();
    drop(Service::open(other.path(), Limits::default()).unwrap());
    wait_unlocked(other.path());
    let error = start(Role::Replica, &log, other.path())
        .err()
        .expect("a replica of another store");
    assert!(
        error.to_string().contains("but the log is of store"),
        "{error}"
    );
    writer.stop();
}

#[test]
fn a_log_that_is_not_a_postgresql_address_is_refused() {
    let dir = TempDir::new().unwrap();
    let error = start(
        Role::Replica,
        "postgres://127.0.0.1:1/none?sslmode=nonsense",
        dir.path(),
    )
    .err()
    .expect("a bad address");
    assert!(
        error
            .to_string()
            .contains("not a PostgreSQL connection string"),
        "{error}"
    );
}

fn answer_sequence(answer: &Value) -> u64 {
    answer["extensions"]["sequence"]
        .as_u64()
        .unwrap_or_else(|| panic!("no extensions.sequence in {answer:#}"))
}

/// Read-your-writes over HTTP: the writer's answer says which commit the write is, and a
/// query to a replica carrying it as `minSequence` waits until the replica has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_waits_for_min_sequence_and_refuses_writes_over_http() {
    let log = postgres().database("http");
    let (writer_dir, replica_dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let (wlog, wpath) = (log.clone(), writer_dir.path().to_owned());
    let writer = tokio::task::spawn_blocking(move || start(Role::Writer, &wlog, &wpath))
        .await
        .unwrap()
        .unwrap();
    let (rlog, rpath) = (log.clone(), replica_dir.path().to_owned());
    let replica = tokio::task::spawn_blocking(move || start(Role::Replica, &rlog, &rpath))
        .await
        .unwrap()
        .unwrap();
    let limits = SchemaLimits {
        max_sequence_wait: Duration::from_millis(700),
        ..SchemaLimits::default()
    };
    let w = TestServer::start_limited(
        Arc::clone(writer.service()),
        TempDir::new().unwrap(),
        HttpConfig::default(),
        limits,
    )
    .await;
    let r = TestServer::start_limited(
        Arc::clone(replica.service()),
        TempDir::new().unwrap(),
        HttpConfig::default(),
        limits,
    )
    .await;

    let created = w
        .gql(
            "mutation { createEntity(input: {id: \"ryw\", kind: COMPANY, name: \"Read Your Writes\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(created["data"]["createEntity"]["id"], "ryw", "{created:#}");
    let sequence = answer_sequence(&created);
    let read = r
        .post_json(&json!({
            "query": "{ entity(id: \"ryw\") { name } }",
            "extensions": { "minSequence": sequence }
        }))
        .await;
    assert_eq!(
        read["data"]["entity"]["name"], "Read Your Writes",
        "{read:#}"
    );
    assert!(answer_sequence(&read) >= sequence);

    // A commit that is not coming: refused once the wait runs out, with 503.
    let started = Instant::now();
    let response = r
        .client
        .post(format!("{}/graphql", r.url))
        .json(&json!({ "query": "{ entity(id: \"ryw\") { name } }", "extensions": { "minSequence": sequence + 1000 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(started.elapsed() >= Duration::from_millis(700));
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{body:#}"
    );
    let bad = r
        .client
        .post(format!("{}/graphql", r.url))
        .json(&json!({ "query": "{ entity(id: \"ryw\") { name } }", "extensions": { "minSequence": "soon" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // A mutation sent to the replica: READ_ONLY, naming the writer.
    let refused = r
        .gql(
            "mutation { createEntity(input: {id: \"nope\", kind: COMPANY, name: \"Nope\"}) { id } }",
            json!({}),
        )
        .await;
    let error = &refused["errors"][0];
    assert_eq!(error["extensions"]["code"], "READ_ONLY", "{refused:#}");
    assert_eq!(error["extensions"]["writer"], "http://writer.test:8080");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("http://writer.test:8080"));

    // Ready, and the metrics say where the replica is.
    let ready = r
        .client
        .get(format!("{}/ready", r.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = r
        .client
        .get(format!("{}/metrics", r.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tiegraph_replication_role{role=\"replica\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("tiegraph_replication_applied_sequence {sequence}")),
        "{metrics}"
    );
    assert!(
        metrics.contains("tiegraph_replication_lag_commits 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tiegraph_replication_lag_seconds 0"),
        "{metrics}"
    );

    r.stop().await;
    w.stop().await;
    tokio::task::spawn_blocking(move || {
        replica.stop();
        writer.stop();
    })
    .await
    .unwrap();
}

/// A process of the cluster: the real binary, its address, its log.
struct Process {
    role: &'static str,
    dir: TempDir,
    child: Option<std::process::Child>,
    address: String,
    output: Arc<std::sync::Mutex<String>>,
}

impl Process {
    fn start(role: &'static str, log: &str, dir: TempDir) -> Process {
        let mut process = Process {
            role,
            dir,
            child: None,
            address: String::new(),
            output: Arc::default(),
        };
        process.restart(log);
        process
    }

    fn restart(&mut self, log: &str) {
        let (child, address) = start_binary_with(
            self.dir.path(),
            Arc::clone(&self.output),
            &["--role", self.role, "--log", log, "--checkpoint-every", "0"],
        );
        self.child = Some(child);
        self.address = address;
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, and waits for the clean shutdown (its store flushed) to end.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let sent = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(sent, "cannot send SIGTERM to the {}", self.role);
            let status = child.wait().unwrap();
            assert!(status.success(), "the {} stopped with {status}", self.role);
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the clients saw.
#[derive(Default)]
struct Writes {
    acknowledged: Vec<String>,
    refused: usize,
}

/// Creates entities at whatever address the writer has now, until told to stop; a write the
/// server answered for is acknowledged, anything else (a refused connection, UNAVAILABLE) is
/// not, and the client goes on with the next id.
async fn client(
    name: String,
    writer: Arc<std::sync::Mutex<String>>,
    writes: Arc<std::sync::Mutex<Writes>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut n = 0;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        n += 1;
        let id = format!("{name}-{n}");
        let url = format!("{}/graphql", writer.lock().unwrap());
        let body = json!({
            "query": "mutation($id: ID!) { createEntity(input: {id: $id, kind: COMPANY, name: $id}) { id } }",
            "variables": { "id": id }
        });
        let answer = async {
            http.post(&url)
                .bearer_auth(TOKEN)
                .json(&body)
                .send()
                .await
                .ok()?
                .json::<Value>()
                .await
                .ok()
        }
        .await;
        match answer {
            Some(answer) if answer["data"]["createEntity"]["id"] == id.as_str() => {
                writes.lock().unwrap().acknowledged.push(id)
            }
            _ => {
                writes.lock().unwrap().refused += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn get_status(url: &str) -> u16 {
    reqwest::get(url).await.map_or(0, |r| r.status().as_u16())
}

async fn applied(process: &Process) -> Option<u64> {
    let metrics = reqwest::get(format!("{}/metrics", process.url()))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("tiegraph_replication_applied_sequence "))
        .and_then(|v| v.parse().ok())
}

/// Every entity id the server at `url` lists, in id order, through every page.
async fn listed(url: &str) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let answer: Value = http
            .post(format!("{url}/graphql"))
            .json(&json!({
                "query": "query($after: String) { entities(first: 1000, after: $after) { edges { node { id name } } pageInfo { hasNextPage endCursor } } }",
                "variables": { "after": after }
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page = &answer["data"]["entities"];
        for edge in page["edges"].as_array().unwrap() {
            ids.push(format!("{} {}", edge["node"]["id"], edge["node"]["name"]));
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return ids;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// Issue 13's failure test: a writer and two replicas (the real binary) on a real
/// PostgreSQL, two clients writing all along; the writer, each replica and the log's
/// connections killed at seeded moments (each at least twice), each restarted at once. Then
/// every acknowledged write must be on the writer and on both replicas, each commit in the log
/// once and in order, and every replica's answers and records equal the writer's.
#[test]
fn killing_the_writer_replicas_and_log_connections_loses_and_duplicates_nothing() {
    let (seed, mut rng) = crash_seed("replication");
    let pg = postgres();
    let log = pg.database("kills");
    let database = database_of(&log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut writer = Process::start("writer", &log, TempDir::new().unwrap());
    let mut replicas = [
        Process::start("replica", &log, TempDir::new().unwrap()),
        Process::start("replica", &log, TempDir::new().unwrap()),
    ];
    let address = Arc::new(std::sync::Mutex::new(writer.url()));
    let writes = Arc::new(std::sync::Mutex::new(Writes::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..2)
        .map(|k| {
            runtime.spawn(client(
                format!("w{k}"),
                Arc::clone(&address),
                Arc::clone(&writes),
                Arc::clone(&stop),
            ))
        })
        .collect();
    // Each target at least twice, in a seeded order, at seeded moments.
    let mut events = vec![0, 0, 1, 1, 2, 2, 3, 3, rng.below(4)];
    for i in (1..events.len()).rev() {
        events.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut kills = [0; 4];
    for &event in &events {
        std::thread::sleep(Duration::from_millis(300 + rng.below(1200)));
        kills[event as usize] += 1;
        match event {
            0 => {
                writer.kill();
                writer.restart(&log);
                *address.lock().unwrap() = writer.url();
            }
            1 | 2 => {
                let replica = &mut replicas[event as usize - 1];
                replica.kill();
                replica.restart(&log);
            }
            _ => {
                pg.psql(
                    &database,
                    // Only this test's database: the other tests' logs share the server.
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE application_name = 'tiegraph' AND datname = current_database()",
                );
            }
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for client in clients {
        runtime.block_on(client).unwrap();
    }

    // The writer takes writes again, and each replica catches up with it.
    runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while get_status(&format!("{}/ready", writer.url())).await != 200 {
            assert!(
                Instant::now() < deadline,
                "the writer never became ready again:\n{}",
                writer.output.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let head = applied(&writer).await.expect("the writer's metrics");
        for replica in &replicas {
            while applied(replica).await.is_none_or(|a| a < head) {
                assert!(
                    Instant::now() < deadline,
                    "a replica never caught up to {head}:\n{}",
                    replica.output.lock().unwrap()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(get_status(&format!("{}/ready", replica.url())).await, 200);
        }
    });

    let writes = writes.lock().unwrap();
    let on_writer = runtime.block_on(listed(&writer.url()));
    let mut lost = 0;
    for replica in &replicas {
        let on_replica = runtime.block_on(listed(&replica.url()));
        assert_eq!(
            on_replica, on_writer,
            "a replica answers differently from the writer"
        );
    }
    for id in &writes.acknowledged {
        if !on_writer
            .iter()
            .any(|line| line.starts_with(&format!("\"{id}\" ")))
        {
            lost += 1;
        }
    }

    // The log: each commit once, in order, no gap; each write in one commit only.
    let rows = pg.psql(
        &database,
        "SELECT count(*) || ' ' || count(DISTINCT sequence) || ' ' || coalesce(max(sequence) - min(sequence) + 1, 0) FROM tiegraph_log WHERE last",
    );
    let counts: Vec<u64> = rows.split(' ').map(|n| n.parse().unwrap()).collect();
    assert_eq!(counts[0], counts[1], "a commit appears twice in the log");
    assert_eq!(counts[0], counts[2], "the log has a gap");
    let head: u64 = pg
        .psql(&database, "SELECT head FROM tiegraph_cluster")
        .parse()
        .unwrap();
    let max: u64 = pg
        .psql(&database, "SELECT max(sequence) FROM tiegraph_log")
        .parse()
        .unwrap();
    assert_eq!(head, max);
    let created = pg.psql(
        &database,
        "SELECT convert_from(record, 'UTF8') FROM tiegraph_log ORDER BY sequence, part",
    );
    let mut creations = std::collections::HashMap::<String, usize>::new();
    for line in created.lines() {
        let record: tiegraph::service::ChangeRecord = serde_json::from_str(line).unwrap();
        for event in record.events {
            if event.kind == tiegraph::service::ChangeKind::Created {
                *creations.entry(event.id).or_default() += 1;
            }
        }
    }
    let duplicated = creations.values().filter(|&&n| n > 1).count();
    let settled = writer
        .output
        .lock()
        .unwrap()
        .matches("writes resumed")
        .count();
    println!(
        "replication: seed {seed}; kills: writer {}, replica A {}, replica B {}, log connections {}; writes acknowledged {}, not acknowledged {}, lost {lost}, duplicated {duplicated}; {} commits in the log; writes halted and resumed {settled} times",
        kills[0],
        kills[1],
        kills[2],
        kills[3],
        writes.acknowledged.len(),
        writes.refused,
        counts[0],
    );
    assert!(!writes.acknowledged.is_empty(), "no write was acknowledged");
    assert_eq!(lost, 0, "acknowledged writes were lost");
    assert_eq!(duplicated, 0, "a write was applied twice");

    // And the stores themselves: every replica's records are the writer's. Stopped cleanly:
    // killed, a store may lack its latest commits (the log holds them, and gives them back
    // when it starts again).
    writer.stop();
    replicas.iter_mut().for_each(Process::stop);
    let expected = records(&Service::open(writer.dir.path(), Limits::default()).unwrap());
    for replica in &replicas {
        wait_unlocked(replica.dir.path());
        let service = Service::open(replica.dir.path(), Limits::default()).unwrap();
        assert_eq!(
            records(&service),
            expected,
            "a replica's store differs from the writer's"
        );
    }
}

/// A data directory that joined a log takes no write except through the log: `import
/// --data-dir` and `serve` without `--log` refuse it; the flags go together.
#[test]
fn a_directory_of_the_log_refuses_writes_that_bypass_it() {
    let log = postgres().database("marked");
    let dir = TempDir::new().unwrap();
    start(Role::Writer, &log, dir.path()).unwrap().stop();
    wait_unlocked(dir.path());
    let file = dir.path().with_extension("jsonl");
    std::fs::write(
        &file,
        "{\"type\":\"entity\",\"id\":\"bypass\",\"kind\":\"COMPANY\",\"name\":\"Bypass\"}\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_tiegraph"))
            .args(args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let data = dir.path().to_str().unwrap();
    let refused = run(&["import", "--data-dir", data, file.to_str().unwrap()]);
    assert!(refused.contains("follows the change log"), "{refused}");
    let refused = run(&["serve", "--listen", "127.0.0.1:0", "--data-dir", data]);
    assert!(refused.contains("follows the change log"), "{refused}");
    let refused = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data,
        "--role",
        "writer",
    ]);
    assert!(refused.contains("--role needs --log"), "{refused}");
    let refused = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data,
        "--log",
        &log,
    ]);
    assert!(refused.contains("--log needs --role"), "{refused}");
    let _ = std::fs::remove_file(&file);
    let service = Service::open(dir.path(), Limits::default()).unwrap();
    assert!(service.entity("bypass").unwrap().is_none());
}
