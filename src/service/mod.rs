//! The service: the one place that writes, and the questions the API asks.
//!
//! Owns the rules that need the whole graph (ends exist, ids are unique across types, a
//! relation keeps a claim, standing from who speaks for whom) and the order of every write:
//! validate against the index, commit to the store (durable), then update the index, then
//! announce the change. On open it rebuilds the index from the store. It knows nothing of
//! GraphQL, HTTP or file formats: callers hand it model drafts and get model records back.

mod changes;
mod error;
mod load;
mod merges;
mod reads;
mod records;
mod replication;
mod resolve;
mod searches;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::broadcast;

use crate::graph::{BudgetLimits, GraphIndex, SnapshotError};
use crate::store::Store;

pub use changes::{Change, ChangeKind, ChangeRecord, RecordType};
pub use error::ServiceError;
pub use load::{ImportItem, ImportSummary, LoadPhase};
pub use reads::{
    ConnectedPage, ConnectedRequest, EntityPage, Hop, NodeRecord, PathPage, PathRequest, PathView,
    Reach, RelationPage, ShortestRequest, SubgraphView, TextPage, TiesQuery, Topology,
};
pub use replication::{ChangeLog, CheckpointSummary, LogBatch, LogError, ReplicationStatus, Role};
pub use searches::{SearchLimits, SearchStats};
pub use writes::Deleted;

// What callers may know of the store: the ops a change record carries, the errors, the layout
// version. The store itself stays behind the service.
pub use crate::store::{BackupError, Merge, Op, Snapshot, StoreError, SCHEMA_VERSION};

/// Restores a backup into `dir`, which must hold no store yet (see `tiegraph restore`): the
/// backup is verified whole before anything is written, and nothing is left behind on failure.
pub fn restore_backup(dir: &Path, backup: &Path) -> Result<u64, BackupError> {
    Store::restore(dir, backup)
}

/// Unpacks a checkpoint's files (a store's files and its index snapshot, as a writer's
/// checkpoint wrote them) into `dir`, which must not exist; returns how many files.
pub fn unpack_checkpoint(input: impl std::io::Read, dir: &Path) -> Result<u64, BackupError> {
    crate::store::unpack_files(input, dir)
}

/// Reads a backup through without restoring it: whether it is whole, and its record count.
pub fn verify_backup(backup: &Path) -> Result<u64, BackupError> {
    Store::verify_backup(backup)
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Ceilings on what one request may ask of the service, whatever it asks for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most a single search may spend; requests may ask for less.
    pub budget: BudgetLimits,
    /// The most paths an export of a path query gathers before it stops and says it is partial.
    pub max_paths: usize,
    /// How many searches run and wait at once, and how many answers are kept for paging.
    pub searches: SearchLimits,
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
            searches: SearchLimits::default(),
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
    // Readers of records take it shared; an import holds it exclusively while it writes its
    // records into the live trees and commits them, so that no reader is shown a record that
    // a crash before the commit would take back. Mutations need not take it: their
    // transaction is seen whole or not at all.
    committed: RwLock<()>,
    changes: broadcast::Sender<Arc<ChangeRecord>>,
    limits: Limits,
    searches: searches::Searches,
    replication: replication::Replication,
    /// Where the index snapshot lives: beside the store.
    snapshot: PathBuf,
}

/// The index snapshot's file name in the data directory.
const SNAPSHOT_FILE: &str = "index.snapshot";

/// Change records buffered for subscribers; one further behind is dropped rather than buffered.
const CHANGE_BUFFER: usize = 1024;

/// What a snapshot must be tagged with to be this store's at this commit.
fn snapshot_tag(store: &Store) -> Result<Vec<u8>> {
    let mut tag = store.id().to_vec();
    tag.extend_from_slice(&store.sequence()?.to_le_bytes());
    Ok(tag)
}

/// The saved index, if there is one, it is this store's at its current commit, and it is whole.
fn load_snapshot(path: &Path, tag: &[u8]) -> Option<GraphIndex> {
    let file = std::fs::File::open(path).ok()?;
    let mut input = std::io::BufReader::with_capacity(1 << 20, file);
    match GraphIndex::read_snapshot(&mut input, tag) {
        Ok(index) => Some(index),
        Err(SnapshotError::Stale) => {
            tracing::info!("the index snapshot is not this store's current one, or is of an older format; rebuilding");
            None
        }
        Err(error) => {
            tracing::warn!(%error, path = %path.display(), "ignoring the index snapshot; rebuilding the index from the store");
            None
        }
    }
}

impl Service {
    /// Opens the store in `dir` and loads the index: from the snapshot saved at the last clean
    /// shutdown when it is this store's at its current commit, else by rebuilding it.
    pub fn open(dir: &Path, limits: Limits) -> Result<Self> {
        let started = std::time::Instant::now();
        let store = Store::open(dir)?;
        let opened = started.elapsed();
        let snapshot = dir.join(SNAPSHOT_FILE);
        let (index, how) = match load_snapshot(&snapshot, &snapshot_tag(&store)?) {
            Some(index) => (index, "loaded from its snapshot"),
            None => (build_index(&store)?, "rebuilt from the store"),
        };
        tracing::info!(
            store = ?opened,
            index = ?(started.elapsed() - opened),
            "store opened; index {how}"
        );
        let (changes, _) = broadcast::channel(CHANGE_BUFFER);
        let replication = replication::Replication::new(store.sequence()?);
        Ok(Service {
            store,
            index: RwLock::new(index),
            writer: Mutex::new(()),
            committed: RwLock::new(()),
            changes,
            limits,
            searches: searches::Searches::new(limits.searches),
            replication,
            snapshot,
        })
    }

    /// What the searches have done since the service opened.
    pub fn search_stats(&self) -> SearchStats {
        self.searches.stats()
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether the store holds no record at all (a new store, to be seeded).
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Bytes the store takes on disk, the index snapshot included.
    pub fn size_on_disk(&self) -> Result<u64> {
        let snapshot = std::fs::metadata(&self.snapshot).map_or(0, |m| m.len());
        Ok(self.store.size_on_disk()? + snapshot)
    }

    /// The store's identity, in hex: a replica's store is a copy of its writer's, so has the
    /// same.
    pub fn store_id(&self) -> String {
        self.store.id_hex()
    }

    /// The store's commit sequence: how many commits it has seen.
    pub fn sequence(&self) -> Result<u64> {
        Ok(self.store.sequence()?)
    }

    /// Makes everything durable and saves the index beside the store, so the next open is fast.
    pub fn flush(&self) -> Result<()> {
        let _writer = self.lock_writer();
        self.store.flush()?;
        self.save_snapshot()?;
        Ok(self.store.seal()?)
    }

    /// Writes the index snapshot, tagged with the store's identity and sequence. The caller
    /// holds the writer lock, so the two agree. Written to a temporary file and renamed: a
    /// crash leaves the old snapshot or the new one, never half of one.
    fn save_snapshot(&self) -> Result<()> {
        self.write_snapshot(&self.snapshot)
    }

    /// [`save_snapshot`](Self::save_snapshot) to `path`.
    fn write_snapshot(&self, path: &Path) -> Result<()> {
        let tag = snapshot_tag(&self.store)?;
        let partial = path.with_extension("partial");
        let written = std::fs::File::create(&partial).and_then(|file| {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            self.read_index().write_snapshot(&mut out, &tag)?;
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

    /// The store as it is now, to read while writes go on: neither writers nor readers wait
    /// for it (only this call waits for a write under way to finish).
    pub fn snapshot(&self) -> Snapshot {
        let _writer = self.lock_writer();
        self.store.snapshot()
    }

    /// Writes a consistent backup of the whole store, from a [`Service::snapshot`]. Returns
    /// the number of records written.
    pub fn backup(&self, out: &mut impl std::io::Write) -> Result<u64> {
        Ok(self.snapshot().write_backup(out)?)
    }

    /// A live feed of the change log: every commit's record, in commit order. A subscriber
    /// that falls more than a buffer behind gets `Lagged` and should be dropped.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeRecord>> {
        self.changes.subscribe()
    }

    /// Commits `ops` (already validated by the caller, who holds the writer lock): into the
    /// change log first when this is a writer, then the store, then feeds them to the index,
    /// then announces them. The order every small write follows. With a log, the log is what
    /// makes the commit durable (the store's files follow within sled's flush interval, and
    /// a store a crash left behind applies the log again at start), so the store does not
    /// wait for its disk; alone, it does.
    fn commit(&self, ops: Vec<Op>, events: Vec<Change>) -> Result<u64> {
        let record = ChangeRecord {
            sequence: self.store.sequence()? + 1,
            part: 0,
            last: true,
            ops,
            events,
        };
        if let Some(log) = self.log() {
            let appended = log
                .begin(record.sequence)
                .and_then(|mut batch| batch.push(&record).map(|()| batch))
                .and_then(|batch| batch.commit());
            if let Err(error) = appended {
                return Err(self.append_failed(record.sequence, error));
            }
        }
        let committed = match self.log() {
            Some(_) => self.store.commit_unflushed(&record.ops),
            None => self.store.commit(&record.ops),
        };
        let sequence = match committed {
            Ok(sequence) => sequence,
            Err(error) => {
                let error = ServiceError::from(error);
                if self.log().is_some() {
                    self.store_behind_log(record.sequence, &error);
                }
                return Err(error);
            }
        };
        self.publish(record, true);
        Ok(sequence)
    }

    /// Feeds one part of a commit's record to the index (the adjacency is refreshed after the
    /// last), then announces it; a last part also tells those waiting for the sequence.
    fn publish(&self, record: ChangeRecord, feed_index: bool) {
        if feed_index {
            let mut index = self.write_index();
            record.apply_to(&mut index);
            if record.last {
                index.refresh_adjacency();
            }
        }
        if record.last {
            self.replication.applied(record.sequence);
        }
        self.announce(record);
    }

    fn announce(&self, record: ChangeRecord) {
        // No subscriber is not an error: the feed is best-effort, the store is the record.
        let _ = self.changes.send(Arc::new(record));
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

    /// The writer lock for a write a client asked for: refused at once on a replica, and on
    /// a writer whose writes are halted (see `replication`).
    fn begin_write(&self) -> Result<std::sync::MutexGuard<'_, ()>> {
        self.refuse_writes()?;
        let writer = self.lock_writer();
        // Checked again under the lock: a write that waited may find writes halted by the one
        // before it.
        self.refuse_writes()?;
        Ok(writer)
    }

    /// The store as readers may see it: only what is committed (see `committed`).
    fn committed(&self) -> Committed<'_> {
        Committed {
            store: &self.store,
            _gate: self.committed.read().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Keeps readers out while an import writes records it has not committed yet.
    fn hold_readers(&self) -> RwLockWriteGuard<'_, ()> {
        self.committed.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A scan of the store that reads each item as committed, waiting out an import's writes.
    fn gated<'a, T: 'a>(
        &'a self,
        mut inner: impl Iterator<Item = T> + 'a,
    ) -> impl Iterator<Item = T> + 'a {
        std::iter::from_fn(move || {
            let _gate = self.committed.read().unwrap_or_else(|e| e.into_inner());
            inner.next()
        })
    }
}

/// The store with the readers' gate held: dereferences to the store for one read.
struct Committed<'a> {
    store: &'a Store,
    _gate: RwLockReadGuard<'a, ()>,
}

impl std::ops::Deref for Committed<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store
    }
}

/// Reads the whole store into a fresh index.
fn build_index(store: &Store) -> Result<GraphIndex> {
    let mut index = GraphIndex::new();
    for source in store.sources() {
        index.upsert_source(&source?.id);
    }
    for entity in store.entities() {
        index.upsert_entity(&entity?);
    }
    for record in store.relations() {
        let record = record?;
        if !index.upsert_relation(&record.relation, &record.claims) {
            let r = &record.relation;
            return Err(ServiceError::Store(StoreError::Corrupt {
                tree: crate::store::trees::RELATIONS,
                key: r.id.clone(),
                message: format!(
                    "it names an entity or source that is not in the store ({} -> {})",
                    r.from, r.to
                ),
            }));
        }
    }
    index.shrink_to_fit();
    Ok(index)
}

/// Rebuilds an index from a store directory's records alone, ignoring any snapshot: for
/// checking that a snapshot or a replayed change log gives the same index.
pub fn rebuild_index(dir: &Path) -> Result<GraphIndex> {
    build_index(&Store::open(dir)?)
}
