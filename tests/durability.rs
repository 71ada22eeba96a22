use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use tiegraph::service::restore_backup;
use tiegraph::service::{Limits, Service};

use crate::util::{seed_dir, TestServer};

const TOKEN: &str = "crash-test-secret-token";

/// A small seeded generator, so a failing run can be repeated with its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The real binary, serving `dir` on a free loopback port; its log is collected in `log`.
fn start_binary(dir: &Path, log: Arc<Mutex<String>>) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiegraph"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .arg("--seed-dir")
        .arg(seed_dir())
        .env("TIEGRAPH_TOKEN", TOKEN)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start tiegraph");
    let stderr = child.stderr.take().expect("stderr");
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("http://").nth(1) {
                if line.contains("serving GraphQL") {
                    let _ = found.send(rest.split('/').next().unwrap_or_default().to_owned());
                }
            }
            log.lock().unwrap().push_str(&line);
            log.lock().unwrap().push('\n');
        }
    });
    let address = address
        .recv_timeout(Duration::from_secs(30))
        .expect("the server said where it listens");
    (child, address)
}

/// What one writer had acknowledged before the server died.
#[derive(Default)]
struct Acknowledged {
    entities: Vec<String>,
    relations: Vec<String>,
}

async fn writer(url: String, prefix: String, acknowledged: Arc<Mutex<Acknowledged>>) {
    let client = reqwest::Client::new();
    for n in 0.. {
        let entity = format!("{prefix}-{n}");
        let create = json!({ "query": "mutation($id: ID!) { createEntity(input: {id: $id, kind: COMPANY, name: $id}) { id } }", "variables": { "id": entity } });
        let Ok(response) = client
            .post(&url)
            .bearer_auth(TOKEN)
            .json(&create)
            .send()
            .await
        else {
            return;
        };
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        if body["data"]["createEntity"]["id"] != entity.as_str() {
            return;
        }
        acknowledged.lock().unwrap().entities.push(entity.clone());
        let relation = format!("{entity}-owns");
        let link = json!({
            "query": "mutation($id: ID!, $from: ID!) { createRelation(input: {id: $id, kind: OWNS, from: $from, to: \"salesforce\", claim: {source: \"raices-declines-salesforce-donation\", quote: \"a test write\"}}) { id } }",
            "variables": { "id": relation, "from": entity }
        });
        let Ok(response) = client
            .post(&url)
            .bearer_auth(TOKEN)
            .json(&link)
            .send()
            .await
        else {
            return;
        };
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        if body["data"]["createRelation"]["id"] != relation.as_str() {
            return;
        }
        acknowledged.lock().unwrap().relations.push(relation);
    }
}

/// Everything acknowledged is there; nothing is half there; nothing dangles.
fn check_store(dir: &Path, acknowledged: &Acknowledged) -> (usize, usize) {
    // Opening rebuilds the index, which refuses a relation whose end is missing.
    let service = Service::open(dir, Limits::default()).expect("the store reopens after SIGKILL");
    for id in &acknowledged.entities {
        assert!(
            service.entity(id).unwrap().is_some(),
            "acknowledged entity {id} was lost"
        );
    }
    for id in &acknowledged.relations {
        assert!(
            service.relation(id).unwrap().is_some(),
            "acknowledged relation {id} was lost"
        );
    }
    let mut relations = 0;
    for record in service.all_relations() {
        let record = record.unwrap();
        let relation = &record.relation;
        assert!(
            !record.claims.is_empty(),
            "{} has no claim: half applied",
            relation.id
        );
        assert!(
            service.entity(&relation.from).unwrap().is_some(),
            "{} dangles",
            relation.id
        );
        assert!(
            service.entity(&relation.to).unwrap().is_some(),
            "{} dangles",
            relation.id
        );
        relations += 1;
    }
    (service.entity_count(), relations)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_at_any_moment() {
    let seed: u64 = std::env::var("TIEGRAPH_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("crash test seed: {seed} (rerun with TIEGRAPH_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let cycles = 8;
    let mut total = Acknowledged::default();
    for cycle in 0..cycles {
        let (mut child, address) = start_binary(dir.path(), Arc::clone(&log));
        let url = format!("http://{address}/graphql");
        let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
        let writers: Vec<_> = (0..3)
            .map(|w| {
                tokio::spawn(writer(
                    url.clone(),
                    format!("c{cycle}-w{w}"),
                    Arc::clone(&acknowledged),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100 + rng.below(500))).await;
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        let mut acknowledged = Arc::try_unwrap(acknowledged)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap();
        total.entities.append(&mut acknowledged.entities);
        total.relations.append(&mut acknowledged.relations);
        // Every write acknowledged in any cycle so far must still be there.
        check_store(dir.path(), &total);
    }
    let (entities, relations) = check_store(dir.path(), &total);
    println!(
        "crash test: {cycles} SIGKILL cycles, {} writes acknowledged ({} entities, {} relations), 0 lost; store holds {entities} entities, {relations} relations",
        total.entities.len() + total.relations.len(),
        total.entities.len(),
        total.relations.len()
    );
    assert!(
        total.entities.len() > cycles,
        "too few writes to prove anything"
    );
    let log = log.lock().unwrap();
    assert!(log.contains("request_id"), "requests are logged");
    assert!(!log.contains(TOKEN), "the token appeared in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_online_backup_under_writes_restores_to_a_consistent_graph() {
    let server = TestServer::start().await;
    let url = format!("{}/graphql", server.url);
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let url = url.clone();
            let acknowledged = Arc::clone(&acknowledged);
            tokio::spawn(async move {
                tokio::time::timeout(
                    Duration::from_millis(1500),
                    writer(url, format!("b{w}"), acknowledged),
                )
                .await
                .ok();
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_backup: Vec<String> = acknowledged.lock().unwrap().entities.clone();
    let backup = server
        .client
        .get(format!("{}/admin/backup", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(backup.status(), 200);
    let bytes = backup.bytes().await.unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    assert!(!acknowledged.lock().unwrap().entities.is_empty());

    let restored = tempfile::tempdir().unwrap();
    let file = restored.path().join("graph.backup");
    std::fs::write(&file, &bytes).unwrap();
    let target = restored.path().join("data");
    let records = restore_backup(&target, &file).expect("the backup restores");
    assert!(records > 0);
    let (entities, relations) = check_store(
        &target,
        &Acknowledged {
            entities: before_backup,
            relations: vec![],
        },
    );
    assert!(entities > 11 && relations >= 16);
    // Restoring over an existing store, or from a backup cut short, is refused.
    assert!(restore_backup(&target, &file).is_err());
    let cut = restored.path().join("cut.backup");
    std::fs::write(&cut, &bytes[..bytes.len() - 5]).unwrap();
    assert!(restore_backup(&restored.path().join("cut"), &cut).is_err());
    assert!(!restored.path().join("cut").exists());
    server.stop().await;
}
