use std::path::Path;
use std::sync::Arc;

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
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::open(dir.path(), Limits::default()).expect("open store");
    seed::load_dir(&service, seed_dir()).expect("load seed");
    (Arc::new(service), dir)
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
        self.client
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": query, "variables": variables }))
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

/// Writes `service`'s records into `dir` as a store of layout 1 (JSON records; claims and
/// citations in trees of their own), the way builds before layout 2 wrote them.
pub fn write_v1_store(service: &Service, dir: &Path) {
    let db = sled::open(dir).expect("open sled");
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
