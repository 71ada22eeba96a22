//! The service: the one place that writes, and the questions the API asks.
//!
//! Owns the rules that need the whole graph (ends exist, ids are unique across types, a
//! relation keeps a claim, standing from who speaks for whom) and the order of every write:
//! validate against the index, commit to the store (durable), then update the index, then
//! announce the change. On open it rebuilds the index from the store. It knows nothing of
//! GraphQL, HTTP or file formats: callers hand it model drafts and get model records back.

mod bulk;
mod changes;
mod error;
mod import;
mod reads;
mod records;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::broadcast;

use crate::graph::{BudgetLimits, GraphIndex};
use crate::model::{Claim, Stance};
use crate::store::{Store, StoreError};

pub use bulk::BulkPhase;
pub use changes::{Change, ChangeKind, RecordType};
pub use error::ServiceError;
pub use import::{ImportItem, ImportSummary};
pub use reads::{
    ConnectedPage, ConnectedRequest, EntityPage, Hop, NodeRecord, PathPage, PathRequest, PathView,
    Reach, ShortestRequest, SubgraphView, Topology,
};

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Ceilings on what one request may ask of the service, whatever it asks for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most a single search may spend; requests may ask for less.
    pub budget: BudgetLimits,
    /// The most paths a path query gathers before it stops and says it is partial.
    pub max_paths: usize,
    /// The most relations a pattern may cross (summed over its hops' `maxRepeat`).
    pub max_pattern_length: u32,
    /// The most entities a neighbourhood returns.
    pub max_subgraph_nodes: usize,
    /// The deepest neighbourhood.
    pub max_depth: u32,
    /// The most shortest paths asked for at once.
    pub max_k: usize,
    /// The largest page of any list.
    pub max_page: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            budget: BudgetLimits::default(),
            max_paths: 100_000,
            max_pattern_length: 8,
            max_subgraph_nodes: 5_000,
            max_depth: 4,
            max_k: 20,
            max_page: 1_000,
        }
    }
}

/// The graph service. Share it behind an `Arc`; every method takes `&self`.
pub struct Service {
    store: Store,
    index: RwLock<GraphIndex>,
    // One writer at a time: a write validates against the index, and nothing may change the
    // index between that check and the write landing. Reads never take it.
    writer: Mutex<()>,
    changes: broadcast::Sender<Change>,
    limits: Limits,
    /// Where the index snapshot lives: beside the store.
    snapshot: PathBuf,
}

/// The index snapshot's file name in the data directory.
const SNAPSHOT_FILE: &str = "index.snapshot";

/// The saved index, if there is one and it was saved at the store's current sequence.
fn load_snapshot(path: &Path, sequence: u64) -> Option<GraphIndex> {
    let file = std::fs::File::open(path).ok()?;
    match GraphIndex::read_snapshot(&mut std::io::BufReader::with_capacity(1 << 20, file)) {
        Ok((index, saved)) if saved == sequence => Some(index),
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(%error, "ignoring an unreadable index snapshot");
            None
        }
    }
}

/// Subscribers further behind than this many changes are dropped rather than buffered.
const CHANGE_BUFFER: usize = 1024;

impl Service {
    /// Opens the store in `dir` and rebuilds the index from it.
    /// Opens the store in `dir` and loads the index: from the snapshot saved at the last clean
    /// shutdown when it is still current, else by rebuilding it from the store.
    pub fn open(dir: &Path, limits: Limits) -> Result<Self> {
        let store = Store::open(dir)?;
        let snapshot = dir.join(SNAPSHOT_FILE);
        let index = match load_snapshot(&snapshot, store.sequence()?) {
            Some(index) => index,
            None => build_index(&store)?,
        };
        let (changes, _) = broadcast::channel(CHANGE_BUFFER);
        Ok(Service {
            store,
            index: RwLock::new(index),
            writer: Mutex::new(()),
            changes,
            limits,
            snapshot,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Makes everything durable; the server calls it on shutdown.
    /// Makes everything durable and saves the index beside the store, so the next open is fast.
    pub fn flush(&self) -> Result<()> {
        let _writer = self.lock_writer();
        self.store.flush()?;
        self.save_snapshot()
    }

    /// Writes the index snapshot, tagged with the store's sequence. The caller holds the writer
    /// lock, so the two agree. Written to a temporary file and renamed: a crash leaves the old
    /// snapshot or the new one, never half of one.
    fn save_snapshot(&self) -> Result<()> {
        let path = &self.snapshot;
        let sequence = self.store.sequence()?;
        let partial = path.with_extension("partial");
        let written = std::fs::File::create(&partial).and_then(|file| {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            self.read_index().write_snapshot(&mut out, sequence)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        });
        match written.and_then(|()| std::fs::rename(&partial, path)) {
            Ok(()) => Ok(()),
            Err(error) => {
                // The snapshot only saves time: without it the next open rebuilds the index.
                tracing::warn!(%error, "could not save the index snapshot");
                let _ = std::fs::remove_file(&partial);
                Ok(())
            }
        }
    }

    /// Writes a consistent backup of the whole store: writers wait until it is done, readers
    /// do not. Returns the number of records written.
    pub fn backup(&self, out: &mut impl std::io::Write) -> Result<u64> {
        let _writer = self.lock_writer();
        Ok(self.store.backup(out)?)
    }

    /// A live feed of committed writes. A subscriber that falls more than a buffer behind gets
    /// `Lagged` and should be dropped.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    pub fn entity_count(&self) -> usize {
        self.read_index().entity_count()
    }

    pub fn relation_count(&self) -> usize {
        self.read_index().relation_count()
    }

    // A panic while holding the lock cannot leave the index half-updated in a way a reader
    // could trip on (each update is a handful of map and graph operations), so a poisoned
    // lock is recovered rather than turned into an outage.
    fn read_index(&self) -> RwLockReadGuard<'_, GraphIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_index(&self) -> RwLockWriteGuard<'_, GraphIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether every claim denies: such relations are hidden from traversals unless asked for.
pub(crate) fn all_deny<'a>(claims: impl IntoIterator<Item = &'a Claim>) -> bool {
    let mut any = false;
    for claim in claims {
        if claim.stance == Stance::Asserts {
            return false;
        }
        any = true;
    }
    any
}

/// Reads the whole store into a fresh index. Relations and claims are both stored in relation-id
/// order, so one merged pass finds each relation's claims without holding them all.
fn build_index(store: &Store) -> Result<GraphIndex> {
    let mut index = GraphIndex::new();
    for entity in store.entities() {
        index.upsert_entity(&entity?);
    }
    let mut claims = store.claims().peekable();
    for relation in store.relations() {
        let relation = relation?;
        let mut asserted = false;
        let mut denied = false;
        while let Some(next) = claims.peek() {
            let claim = match next {
                Ok(claim) => claim,
                Err(_) => {
                    return Err(claims
                        .next()
                        .and_then(|r| r.err())
                        .map(ServiceError::from)
                        .unwrap_or(ServiceError::Unavailable))
                }
            };
            if claim.relation.as_str() > relation.id.as_str() {
                break;
            }
            if claim.relation == relation.id {
                match claim.stance {
                    Stance::Asserts => asserted = true,
                    Stance::Denies => denied = true,
                }
            }
            claims.next();
        }
        if !index.upsert_relation(&relation, denied && !asserted) {
            return Err(ServiceError::Store(StoreError::Corrupt {
                tree: crate::store::trees::RELATIONS,
                key: relation.id.clone(),
                message: format!(
                    "an end of the relation is missing ({} -> {})",
                    relation.from, relation.to
                ),
            }));
        }
    }
    index.shrink_to_fit();
    Ok(index)
}
