//! Beyond one machine: one writer and any number of read replicas, following a change log
//! kept in PostgreSQL.
//!
//! Owns the log's tables and statements (`pg`), a data directory's joining of a log
//! (`local`: starting from a checkpoint, the marker that keeps local writes out), and the
//! background work of each role (`follow`: a replica applying the log as it grows, the
//! writer settling an append whose answer was lost). The unit of the log is the service's
//! own change record, so what a replica applies is exactly what the writer's index was fed.
//!
//! The service knows the log only as [`crate::service::ChangeLog`]; this module knows the
//! service only through its public API, and nothing of GraphQL or HTTP. Only this module
//! imports `postgres`.

mod follow;
mod local;
mod pg;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::service::{Role, Service, ServiceError};

pub use local::joined_log;

#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Log(String),
    #[error("{0}")]
    Local(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// How a process takes part, resolved once from its flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// `Writer` or `Replica`.
    pub role: Role,
    /// The log: a PostgreSQL connection string.
    pub log_url: String,
    pub data_dir: PathBuf,
    /// The writer's address as clients should reach it, named in replicas' refusals.
    pub advertise: Option<String>,
    /// A writer writes a checkpoint (and drops the log rows it covers) every this many
    /// commits; 0 never does on its own.
    pub checkpoint_every: u64,
    /// How long to keep trying to reach the log when starting.
    pub connect_wait: Duration,
}

/// A process in its role, with its background work running.
pub struct Node {
    service: Arc<Service>,
    stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
}

impl Node {
    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }

    /// Stops the background work and waits for it (a commit being applied is finished).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Opens the service in `config.data_dir` in its role: the writer takes the log's lease,
/// applies what the log holds beyond its store (or starts the log from its store), and
/// attaches the log; a replica starts from the log's checkpoint when its store is empty or
/// too far behind, and follows the log from there. `open` opens a store directory; `seed`
/// fills an empty writer's store before it starts a new log.
pub fn start(
    config: &Config,
    open: &dyn Fn(&Path) -> Result<Service, ServiceError>,
    seed: &dyn Fn(&Service) -> Result<(), String>,
) -> Result<Node, ReplicationError> {
    let location = pg::Location::parse(&config.log_url)?;
    let mut reader = connect_patiently(&location, config.connect_wait)?;
    reader.ensure_schema()?;
    let stop = Arc::new(AtomicBool::new(false));
    match config.role {
        Role::Writer => start_writer(config, location, reader, open, seed, stop),
        Role::Replica => start_replica(config, location, reader, open, stop),
        Role::Single => Err(ReplicationError::Config(
            "a single node keeps no log: start it without --log".into(),
        )),
    }
}

fn connect_patiently(
    location: &pg::Location,
    wait: Duration,
) -> Result<pg::Reader, ReplicationError> {
    let deadline = Instant::now() + wait;
    loop {
        match pg::Reader::open(location) {
            Ok(reader) => return Ok(reader),
            Err(error) if Instant::now() < deadline => {
                tracing::warn!(%error, "waiting for the log");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(error) => return Err(error),
        }
    }
}

fn start_writer(
    config: &Config,
    location: pg::Location,
    mut reader: pg::Reader,
    open: &dyn Fn(&Path) -> Result<Service, ServiceError>,
    seed: &dyn Fn(&Service) -> Result<(), String>,
    stop: Arc<AtomicBool>,
) -> Result<Node, ReplicationError> {
    let dir = &config.data_dir;
    let lease = pg::Lease::take(&location)?;
    let service = match reader.cluster()? {
        None => {
            let service = local::open_own(dir, open)?;
            if service.is_empty() {
                seed(&service).map_err(ReplicationError::Local)?;
            }
            let head = service.sequence()?;
            if !reader.found_cluster(&service.store_id(), head)? {
                return Err(ReplicationError::Log(
                    "another writer started the log at the same moment; start this one again"
                        .into(),
                ));
            }
            tracing::info!(
                head,
                log = location.shown(),
                "started a new change log from this store"
            );
            service
        }
        Some(cluster) => {
            let service = local::prepare(dir, &cluster, &mut reader, open)?;
            let applied = follow::catch_up(&service, &mut reader)?;
            tracing::info!(
                applied,
                head = service.sequence()?,
                "the store holds the whole log"
            );
            service
        }
    };
    let service = Arc::new(service);
    let appender = Arc::new(pg::Appender::new(location.clone()));
    service.attach_log(appender.clone(), config.advertise.clone());
    reader.set_writer_url(config.advertise.as_deref())?;
    if reader.latest_checkpoint()?.is_none() {
        let summary = service.checkpoint()?;
        tracing::info!(
            sequence = summary.sequence,
            records = summary.records,
            "wrote the log's first checkpoint"
        );
    }
    local::mark(dir, &service.store_id(), location.shown())?;
    let worker = {
        let service = Arc::clone(&service);
        let stop = Arc::clone(&stop);
        let every = config.checkpoint_every;
        std::thread::Builder::new()
            .name("tiegraph-log-writer".into())
            .spawn(move || follow::tend_writer(&service, location, appender, lease, every, &stop))
            .map_err(|e| ReplicationError::Local(format!("cannot start the log's worker: {e}")))?
    };
    Ok(Node {
        service,
        stop,
        worker: Some(worker),
    })
}

fn start_replica(
    config: &Config,
    location: pg::Location,
    mut reader: pg::Reader,
    open: &dyn Fn(&Path) -> Result<Service, ServiceError>,
    stop: Arc<AtomicBool>,
) -> Result<Node, ReplicationError> {
    let dir = &config.data_dir;
    let cluster = loop {
        if let Some(cluster) = reader.cluster()? {
            if reader.latest_checkpoint()?.is_some() {
                break cluster;
            }
        }
        tracing::info!(
            "waiting for a writer to start the log at {}",
            location.shown()
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    let service = local::prepare(dir, &cluster, &mut reader, open)?;
    service.become_replica(cluster.writer_url.clone());
    service.observe_log(cluster.head, Duration::ZERO, true);
    local::mark(dir, &service.store_id(), location.shown())?;
    let service = Arc::new(service);
    let worker = {
        let service = Arc::clone(&service);
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("tiegraph-log-follower".into())
            .spawn(move || follow::follow(&service, &location, &stop))
            .map_err(|e| ReplicationError::Local(format!("cannot start the log's follower: {e}")))?
    };
    Ok(Node {
        service,
        stop,
        worker: Some(worker),
    })
}
