use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use tiegraph::api::{Api, SchemaLimits};
use tiegraph::formats::{jsonl, seed};
use tiegraph::http::{self, AppState, HttpConfig};
use tiegraph::service::{Limits, Service};

pub fn seed_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/seed"))
}

/// A service over a fresh store in a temp dir, loaded with the seed.
pub fn seeded_service() -> (Arc<Service>, TempDir) {
    seeded_service_with(Limits::default())
}

/// [`seeded_service`] with the service's limits given.
pub fn seeded_service_with(limits: Limits) -> (Arc<Service>, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::open(dir.path(), limits).expect("open store");
    seed::load_dir(&service, seed_dir()).expect("load seed");
    (Arc::new(service), dir)
}

/// sled itself, waiting for a just-closed store's lock as `Store::open` does (sled lets go of
/// it from a background thread, a moment after the last handle is dropped).
pub fn open_raw(dir: &Path) -> sled::Db {
    for _ in 0..100 {
        match sled::Config::new().path(dir).open() {
            Ok(db) => return db,
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("cannot open {}: {e}", dir.display()),
        }
    }
    panic!("{} stayed locked", dir.display())
}

/// The whole graph as JSON lines: equal dumps mean equal graphs.
pub fn dump(service: &Service) -> String {
    let mut out = Vec::new();
    jsonl::write_all(service, &mut out).expect("dump");
    String::from_utf8(out).expect("utf-8")
}

/// The real server on 127.0.0.1:0 over a seeded store in a temp dir.
pub struct TestServer {
    pub url: String,
    pub service: Arc<Service>,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
    pub dir: TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let (service, dir) = seeded_service();
        Self::start_with(service, dir).await
    }

    pub async fn start_with(service: Arc<Service>, dir: TempDir) -> TestServer {
        Self::start_configured(service, dir, HttpConfig::default()).await
    }

    pub async fn start_configured(
        service: Arc<Service>,
        dir: TempDir,
        config: HttpConfig,
    ) -> TestServer {
        Self::start_limited(service, dir, config, SchemaLimits::default()).await
    }

    pub async fn start_limited(
        service: Arc<Service>,
        dir: TempDir,
        config: HttpConfig,
        limits: SchemaLimits,
    ) -> TestServer {
        let api = Api::new(Arc::clone(&service), limits);
        let state = AppState::new(api, Arc::clone(&service), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(http::serve(listener, state, async move {
            let _ = rx.await;
        }));
        TestServer {
            url,
            service,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            handle: Some(handle),
            dir,
        }
    }

    /// Stops the server (gracefully, flushing) and gives back its data dir.
    pub async fn stop(mut self) -> TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        self.dir
    }

    /// POSTs a GraphQL request and returns the JSON answer.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.post_json(&json!({ "query": query, "variables": variables }))
            .await
    }

    /// POSTs `body` to `/graphql` as JSON and returns the JSON answer.
    pub async fn post_json(&self, body: &Value) -> Value {
        self.client
            .post(format!("{}/graphql", self.url))
            .json(body)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json answer")
    }

    /// A GraphQL request that must succeed; returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let answer = self.gql(query, variables).await;
        assert!(
            answer.get("errors").is_none(),
            "unexpected errors: {answer:#}"
        );
        answer["data"].clone()
    }
}

/// A `Write` that runs `midway` once, when `at` bytes have been written: writes that land
/// while a backup or an export is half written.
pub struct Interrupting<F: FnOnce()> {
    pub bytes: Vec<u8>,
    pub at: usize,
    pub midway: Option<F>,
}

impl<F: FnOnce()> Interrupting<F> {
    pub fn new(at: usize, midway: F) -> Self {
        Interrupting {
            bytes: Vec::new(),
            at,
            midway: Some(midway),
        }
    }
}

impl<F: FnOnce()> std::io::Write for Interrupting<F> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(bytes);
        if self.bytes.len() >= self.at {
            if let Some(midway) = self.midway.take() {
                midway();
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `service`'s records into `dir` as a store of layout 1 (JSON records; claims and
/// citations in trees of their own), the way builds before layout 2 wrote them.
pub fn write_v1_store(service: &Service, dir: &Path) {
    let db = open_raw(dir);
    let tree = |name: &str| db.open_tree(name).expect("tree");
    let (entities, sources, relations, claims, citations, meta) = (
        tree("entities"),
        tree("sources"),
        tree("relations"),
        tree("claims"),
        tree("citations"),
        tree("meta"),
    );
    for entity in service.all_entities() {
        let entity = entity.unwrap();
        entities
            .insert(entity.id.as_bytes(), serde_json::to_vec(&entity).unwrap())
            .unwrap();
    }
    for source in service.all_sources() {
        let source = source.unwrap();
        sources
            .insert(source.id.as_bytes(), serde_json::to_vec(&source).unwrap())
            .unwrap();
    }
    for record in service.all_relations() {
        let record = record.unwrap();
        let id = &record.relation.id;
        relations
            .insert(id.as_bytes(), serde_json::to_vec(&record.relation).unwrap())
            .unwrap();
        for claim in &record.claims {
            let key = |prefix: &str| [prefix.as_bytes(), &[0], claim.id.as_bytes()].concat();
            claims
                .insert(key(id), serde_json::to_vec(claim).unwrap())
                .unwrap();
            citations.insert(key(&claim.source), &[]).unwrap();
        }
    }
    meta.insert("schema_version", &1u32.to_be_bytes()).unwrap();
    meta.insert("sequence", &7u64.to_be_bytes()).unwrap();
    db.flush().unwrap();
}

/// Every record of the graph, in full (timestamps and claim ids included).
pub fn records(service: &Service) -> String {
    let mut out = String::new();
    for source in service.all_sources() {
        out.push_str(&format!("{:?}\n", source.unwrap()));
    }
    for entity in service.all_entities() {
        out.push_str(&format!("{:?}\n", entity.unwrap()));
    }
    for relation in service.all_relations() {
        out.push_str(&format!("{:?}\n", relation.unwrap()));
    }
    out
}

/// The write token the crash tests' servers run with.
pub const TOKEN: &str = "crash-test-secret-token";

/// A small seeded generator, so a failing run can be repeated with its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// A crash test's seed: TIEGRAPH_CRASH_SEED when set, else the clock; printed so that a
/// failing run can be repeated.
pub fn crash_seed(test: &str) -> (u64, Rng) {
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
    println!("{test}: seed {seed} (rerun with TIEGRAPH_CRASH_SEED={seed})");
    (seed, Rng(seed | 1))
}

/// The real binary, serving `dir` on a free loopback port with the write token [`TOKEN`]
/// (seeding the store if it is empty); its log is collected in `log`.
pub fn start_binary(dir: &Path, log: Arc<Mutex<String>>) -> (Child, String) {
    start_binary_with(dir, log, &[])
}

/// [`start_binary`] with more arguments to `serve`.
pub fn start_binary_with(dir: &Path, log: Arc<Mutex<String>>, more: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiegraph"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(more)
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
    let lines = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // Logged before the address is handed on, so a caller sees the line that gave it.
            {
                let mut lines = lines.lock().unwrap();
                lines.push_str(&line);
                lines.push('\n');
            }
            if let Some(rest) = line.split("http://").nth(1) {
                if line.contains("serving GraphQL") {
                    let _ = found.send(rest.split('/').next().unwrap_or_default().to_owned());
                }
            }
        }
    });
    let Ok(address) = address.recv_timeout(Duration::from_secs(45)) else {
        let _ = child.kill();
        panic!(
            "the server did not say where it listens; its log:\n{}",
            log.lock().unwrap()
        );
    };
    (child, address)
}

/// What one writer had acknowledged before the server died.
#[derive(Default)]
pub struct Acknowledged {
    pub entities: Vec<String>,
    pub relations: Vec<String>,
}

/// Creates entities and relations through GraphQL at `url` until a request fails, recording
/// each one the server answered for.
pub async fn writer(url: String, prefix: String, acknowledged: Arc<Mutex<Acknowledged>>) {
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

/// What [`check_store`] found.
pub struct StoreCheck {
    pub entities: usize,
    pub relations: usize,
    /// Acknowledged writes that are not in the store.
    pub lost: Vec<String>,
}

/// Opens the store in `dir`: nothing is half there, nothing dangles (panics if so), and every
/// acknowledged write not found is listed as lost.
pub fn check_store(dir: &Path, acknowledged: &Acknowledged) -> StoreCheck {
    // Opening rebuilds the index, which refuses a relation whose end is missing.
    let service = Service::open(dir, Limits::default()).expect("the store reopens after SIGKILL");
    let mut lost = Vec::new();
    for id in &acknowledged.entities {
        if service.entity(id).unwrap().is_none() {
            lost.push(id.clone());
        }
    }
    for id in &acknowledged.relations {
        if service.relation(id).unwrap().is_none() {
            lost.push(id.clone());
        }
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
    StoreCheck {
        entities: service.entity_count(),
        relations,
        lost,
    }
}
