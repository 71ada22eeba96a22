//! Durable storage of records in sled.
//!
//! Owns the on-disk layout: one tree per concern (names in [`trees`]), the key encoding
//! (in [`keys`]), the record encoding (in `codec`: compact binary, a relation stored with its
//! claims), the schema version and the store's identity kept in the `meta` tree, and the
//! upgrade from older layouts (`upgrade`), and snapshots (`snapshot`) for backups and
//! exports. Every way in is all-or-nothing and durable before
//! it returns: [`Store::commit`] applies a small batch in one transaction; a [`Load`] streams a
//! batch of any size, keeping an undo journal on disk so that an interrupted load is rolled
//! back when the store is next opened. Each of the two moves the commit sequence once.
//!
//! A damaged store is refused, never read as empty: the identity file beside sled's files
//! (`tiegraph.id`) records the store's id and a sequence it is known to have reached, and a
//! store that lost its records or its commits fails to open with a message saying so.
//!
//! It knows the model's types but nothing of the graph index, GraphQL or HTTP, and it enforces
//! no domain rule: the service validates before it writes, and is the store's only user.

mod backup;
mod codec;
mod files;
mod keys;
mod load;
mod snapshot;
mod upgrade;

pub use backup::BackupError;
pub use files::{unpack_files, write_files};
pub use keys::{claim_id, claim_sequence, relation_of_claim};
pub use load::Load;
pub use snapshot::Snapshot;

use crate::model::Timestamp;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use thiserror::Error;

use crate::model::{Claim, Entity, RelationWithClaims, Source};

/// The layout version this build reads and writes. Version 1 stored JSON records with claims
/// and citations in trees of their own; opening such a store upgrades it (see `upgrade`).
pub const SCHEMA_VERSION: u32 = 2;

/// The names of sled's trees: one per concern. Layout 2's names differ from layout 1's, so an
/// upgrade can write the new trees beside the old ones and switch over in one step.
pub mod trees {
    pub const META: &str = "meta";
    pub const ENTITIES: &str = "entities.2";
    pub const RELATIONS: &str = "relations.2";
    pub const SOURCES: &str = "sources.2";
    /// The next claim number of each deleted relation, so a relation re-created under the same
    /// id never hands out a claim id that was used before.
    pub const RETIRED: &str = "retired.2";
    /// The undo journal of the load in progress, if any.
    pub const UNDO: &str = "undo.2";
    /// What each `mergeEntities` did, by the id merged away: how that id still resolves, and
    /// how to undo it.
    pub const MERGES: &str = "merges.2";
}

const SCHEMA_VERSION_KEY: &[u8] = b"schema_version";
const STORE_ID_KEY: &[u8] = b"store_id";
/// Counts commits, so a saved index and a replica can tell which state they hold.
const SEQUENCE_KEY: &[u8] = b"sequence";
/// Present while a load writes outside a transaction; found on open, the load is rolled back.
const LOAD_KEY: &[u8] = b"load_in_progress";

/// The identity file's name in the data directory.
const IDENTITY_FILE: &str = "tiegraph.id";

/// sled's page cache. Its default (1 GiB) would double the server's memory; the index answers
/// traversals, so the cache only serves record lookups.
const CACHE_BYTES: u64 = 64 << 20;

/// An identity no other store has: sixteen random bytes, made when the store is created.
pub type StoreId = [u8; 16];

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("storage engine error: {0}")]
    Engine(#[from] sled::Error),
    #[error(
        "the data directory holds schema version {found}, but this build reads versions 1 to {expected}"
    )]
    SchemaVersion { found: u32, expected: u32 },
    #[error("the store in {dir} is damaged: {problem}. Nothing was changed; restore a backup into a new directory (`tiegraph restore --data-dir NEW FILE`), or move the directory away to start empty")]
    Damaged { dir: String, problem: String },
    #[error("the store in {dir} is in use by another process, most likely a running `tiegraph serve`: stop it first, or send the work to the running server with --server")]
    Locked { dir: String },
    #[error("corrupt record in tree `{tree}` at key `{key}`: {message}")]
    Corrupt {
        tree: &'static str,
        key: String,
        message: String,
    },
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// One change to one record; a batch of them is what a commit writes and what its change
/// record carries, so applying the same ops to another store or index gives the same state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    PutEntity(Entity),
    DeleteEntity(String),
    PutSource(Source),
    DeleteSource(String),
    /// A relation with all its claims, and the number its next claim gets.
    PutRelation {
        record: RelationWithClaims,
        next_claim: u32,
    },
    DeleteRelation(String),
    PutMerge(Box<Merge>),
    /// The merge of the entity with this id is forgotten (it was undone).
    DeleteMerge(String),
}

/// One merge of two entities, kept under the id merged away (`from`): so that the id still
/// leads to the entity it became, and so that the merge can be undone exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merge {
    pub from: String,
    pub into: String,
    pub at: Timestamp,
    /// The records as the merge left them: an unmerge first checks they are still so.
    pub wrote: Vec<Op>,
    /// The ops that put back what the merge changed.
    pub undo: Vec<Op>,
}

/// The durable record store. Cheap to clone: sled's handles are reference counted.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    meta: sled::Tree,
    entities: sled::Tree,
    relations: sled::Tree,
    sources: sled::Tree,
    retired: sled::Tree,
    undo: sled::Tree,
    merges: sled::Tree,
    dir: PathBuf,
    id: StoreId,
    /// The snapshots open, which every write tells what it is about to change.
    freezes: std::sync::Arc<snapshot::Freezes>,
}

/// What the identity file says: which store lives here, and a sequence it has reached.
#[derive(Debug, Serialize, Deserialize)]
struct Identity {
    store: String,
    sequence: u64,
}

fn hex(id: &StoreId) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Store {
    /// Opens (creating if needed) the store in `dir`: checks that it is whole and of a known
    /// version, upgrades an older layout, and rolls back a load that was interrupted.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let damaged = |problem: String| StoreError::Damaged {
            dir: dir.display().to_string(),
            problem,
        };
        let identity = read_identity(dir)?;
        // sled may panic on a damaged file instead of returning an error: that is a damaged
        // store too, not a reason to take the process down.
        let opened = std::panic::catch_unwind(|| open_db(dir))
            .map_err(|_| damaged("the storage engine could not read its files".into()))?;
        let db = match opened {
            Ok(db) => db,
            Err(sled::Error::Corruption { .. }) => {
                return Err(damaged("the storage engine found corrupt data".into()))
            }
            Err(sled::Error::Io(e)) if is_lock_held(&e) => {
                return Err(StoreError::Locked {
                    dir: dir.display().to_string(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let meta = db.open_tree(trees::META)?;
        let version = match meta.get(SCHEMA_VERSION_KEY)? {
            Some(bytes) => Some(
                <[u8; 4]>::try_from(bytes.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| damaged("its schema version is unreadable".into()))?,
            ),
            None => None,
        };
        match version {
            None if identity.is_some() => {
                return Err(damaged(
                    "its records are gone, though its identity file says it held some".into(),
                ))
            }
            None if holds_records(&db)? => {
                return Err(damaged("it has records but no schema version".into()))
            }
            None => {
                let mut id = [0u8; 16];
                getrandom::fill(&mut id).map_err(|e| StoreError::Io {
                    path: dir.display().to_string(),
                    source: std::io::Error::other(e.to_string()),
                })?;
                meta.insert(STORE_ID_KEY, &id)?;
                meta.insert(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_be_bytes())?;
                db.flush()?;
            }
            Some(1) => upgrade::v1_to_v2(&db)?,
            Some(SCHEMA_VERSION) => upgrade::drop_v1_trees(&db)?,
            Some(found) => {
                return Err(StoreError::SchemaVersion {
                    found,
                    expected: SCHEMA_VERSION,
                })
            }
        }
        let id: StoreId = match meta.get(STORE_ID_KEY)? {
            Some(bytes) => <StoreId>::try_from(bytes.as_ref())
                .map_err(|_| damaged("its store id is unreadable".into()))?,
            None => return Err(damaged("it has no store id".into())),
        };
        let store = Store {
            entities: db.open_tree(trees::ENTITIES)?,
            relations: db.open_tree(trees::RELATIONS)?,
            sources: db.open_tree(trees::SOURCES)?,
            retired: db.open_tree(trees::RETIRED)?,
            undo: db.open_tree(trees::UNDO)?,
            merges: db.open_tree(trees::MERGES)?,
            meta,
            db,
            dir: dir.to_owned(),
            id,
            freezes: Default::default(),
        };
        load::recover(&store)?;
        let sequence = store.sequence()?;
        match identity {
            Some(identity) if identity.store != hex(&id) => {
                return Err(damaged(format!(
                    "its identity file names store {}, but the records are those of store {}",
                    identity.store,
                    hex(&id)
                )))
            }
            Some(identity) if identity.sequence > sequence => {
                return Err(damaged(format!(
                    "it has lost commits: it had reached commit {}, its records stop at commit {sequence}",
                    identity.sequence
                )))
            }
            Some(_) => {}
            None => store.seal()?,
        }
        Ok(store)
    }

    /// This store's identity: a saved index is only ever used with the store it was saved from.
    pub fn id(&self) -> StoreId {
        self.id
    }

    pub fn id_hex(&self) -> String {
        hex(&self.id)
    }

    /// Records in the identity file that the store has reached its current sequence, so that a
    /// store found behind it later is known to have lost commits. Called at clean shutdown and
    /// after loads; a crash between two seals only means the check is less strict.
    pub fn seal(&self) -> Result<(), StoreError> {
        let identity = Identity {
            store: hex(&self.id),
            sequence: self.sequence()?,
        };
        let path = self.dir.join(IDENTITY_FILE);
        let partial = path.with_extension("partial");
        let text = serde_json::to_vec_pretty(&identity).unwrap_or_default();
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::File::open(&partial)?.sync_all())
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(io_error(&path))
    }

    /// Applies every op of `ops` in one transaction, moves the sequence, then flushes to disk.
    /// Returns the new sequence.
    pub fn commit(&self, ops: &[Op]) -> Result<u64, StoreError> {
        let sequence = self.commit_unflushed(ops)?;
        self.db.flush()?;
        Ok(sequence)
    }

    /// [`commit`](Self::commit) without waiting for the disk, for a store whose commits are
    /// durable elsewhere first (a change log that gives them back after a crash). Each
    /// transaction is atomic; a crash loses only the latest ones, never part of one, until
    /// sled's background flush (every 500 ms) or the next [`flush`](Self::flush).
    pub fn commit_unflushed(&self, ops: &[Op]) -> Result<u64, StoreError> {
        self.freezes.keep_ops(self, ops)?;
        let result: Result<u64, TransactionError<()>> = (
            &self.entities,
            &self.relations,
            &self.sources,
            &self.retired,
            &self.merges,
            &self.meta,
        )
            .transaction(|(entities, relations, sources, retired, merges, meta)| {
                for op in ops {
                    match op {
                        Op::PutEntity(e) => {
                            entities.insert(e.id.as_bytes(), codec::encode_entity(e))?;
                        }
                        Op::DeleteEntity(id) => {
                            entities.remove(id.as_bytes())?;
                        }
                        Op::PutSource(s) => {
                            sources.insert(s.id.as_bytes(), codec::encode_source(s))?;
                        }
                        Op::DeleteSource(id) => {
                            sources.remove(id.as_bytes())?;
                        }
                        Op::PutRelation { record, next_claim } => {
                            let key = record.relation.id.as_bytes();
                            relations.insert(key, codec::encode_relation(record, *next_claim))?;
                            retired.remove(key)?;
                        }
                        Op::DeleteRelation(id) => {
                            if let Some(old) = relations.remove(id.as_bytes())? {
                                let next = codec::decode_relation(id.as_bytes(), &old)
                                    .map(|d| d.next_claim)
                                    .unwrap_or(u32::MAX / 2);
                                retired.insert(id.as_bytes(), &next.to_be_bytes())?;
                            }
                        }
                        Op::PutMerge(merge) => {
                            merges.insert(merge.from.as_bytes(), codec::encode_merge(merge))?;
                        }
                        Op::DeleteMerge(id) => {
                            merges.remove(id.as_bytes())?;
                        }
                    }
                }
                let sequence = meta.get(SEQUENCE_KEY)?.map_or(0, |b| decode_u64(&b)) + 1;
                meta.insert(SEQUENCE_KEY, &sequence.to_be_bytes())?;
                Ok::<u64, ConflictableTransactionError<()>>(sequence)
            });
        let sequence = match result {
            Ok(sequence) => sequence,
            Err(TransactionError::Storage(e)) => return Err(StoreError::Engine(e)),
            // Our closure never aborts; sled retries conflicts itself.
            Err(TransactionError::Abort(())) => self.sequence()?,
        };
        Ok(sequence)
    }

    /// Starts a load of any size, all or nothing (see [`Load`]). The caller keeps other
    /// writers out until it is finished.
    pub fn begin_load(&self) -> Result<Load<'_>, StoreError> {
        Load::begin(self)
    }

    /// How many commits the store has seen.
    pub fn sequence(&self) -> Result<u64, StoreError> {
        Ok(self.meta.get(SEQUENCE_KEY)?.map_or(0, |b| decode_u64(&b)))
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub fn entity(&self, id: &str) -> Result<Option<Entity>, StoreError> {
        match self.entities.get(id.as_bytes())? {
            Some(bytes) => codec::decode_entity(id.as_bytes(), &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// A relation with its claims, as one commit left them.
    pub fn relation(&self, id: &str) -> Result<Option<RelationWithClaims>, StoreError> {
        Ok(self.relation_and_next(id)?.map(|(record, _)| record))
    }

    /// A relation with its claims and the number its next claim gets; for a relation that does
    /// not exist, the number a new one under that id starts from.
    pub fn relation_and_next(
        &self,
        id: &str,
    ) -> Result<Option<(RelationWithClaims, u32)>, StoreError> {
        match self.relations.get(id.as_bytes())? {
            Some(bytes) => {
                let decoded = codec::decode_relation(id.as_bytes(), &bytes)?;
                Ok(Some((decoded.relation, decoded.next_claim)))
            }
            None => Ok(None),
        }
    }

    /// The first claim number of a new relation under `id`: 1, or where a deleted relation of
    /// that id left off.
    pub fn first_claim_number(&self, id: &str) -> Result<u32, StoreError> {
        Ok(match self.retired.get(id.as_bytes())? {
            Some(bytes) => <[u8; 4]>::try_from(bytes.as_ref())
                .map(u32::from_be_bytes)
                .unwrap_or(u32::MAX / 2),
            None => 1,
        })
    }

    /// The merge that took `id` away, if one did.
    pub fn merge(&self, id: &str) -> Result<Option<Merge>, StoreError> {
        match self.merges.get(id.as_bytes())? {
            Some(bytes) => codec::decode_merge(id.as_bytes(), &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every merge kept, by the id merged away.
    pub fn merges(&self) -> impl Iterator<Item = Result<Merge, StoreError>> + '_ {
        self.merges.iter().map(|item| {
            let (key, value) = item?;
            codec::decode_merge(&key, &value)
        })
    }

    pub fn source(&self, id: &str) -> Result<Option<Source>, StoreError> {
        match self.sources.get(id.as_bytes())? {
            Some(bytes) => codec::decode_source(id.as_bytes(), &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Looks a claim up by its id alone; a claim's id names its relation (see [`keys`]).
    pub fn claim(&self, id: &str) -> Result<Option<Claim>, StoreError> {
        let Some(relation) = keys::relation_of_claim(id) else {
            return Ok(None);
        };
        Ok(self
            .relation(relation)?
            .and_then(|r| r.claims.into_iter().find(|c| c.id == id)))
    }

    pub fn entities(&self) -> impl Iterator<Item = Result<Entity, StoreError>> + '_ {
        self.entities.iter().map(|item| {
            let (key, value) = item?;
            codec::decode_entity(&key, &value)
        })
    }

    /// Every relation with its claims, in id order.
    pub fn relations(&self) -> impl Iterator<Item = Result<RelationWithClaims, StoreError>> + '_ {
        self.relations_from("")
    }

    /// Every relation with its claims from `start` on, in id order.
    pub fn relations_from(
        &self,
        start: &str,
    ) -> impl Iterator<Item = Result<RelationWithClaims, StoreError>> + '_ {
        self.relations.range(start.as_bytes()..).map(|item| {
            let (key, value) = item?;
            codec::decode_relation(&key, &value).map(|d| d.relation)
        })
    }

    /// Every source from `start` on, in id order.
    pub fn sources_from(
        &self,
        start: &str,
    ) -> impl Iterator<Item = Result<Source, StoreError>> + '_ {
        self.sources.range(start.as_bytes()..).map(|item| {
            let (key, value) = item?;
            codec::decode_source(&key, &value)
        })
    }

    pub fn sources(&self) -> impl Iterator<Item = Result<Source, StoreError>> + '_ {
        self.sources_from("")
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty() && self.sources.is_empty() && self.relations.is_empty()
    }

    /// Bytes the store takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

fn open_db(dir: &Path) -> Result<sled::Db, sled::Error> {
    // sled releases a closed store's file lock from a background thread, a moment after the
    // last handle is dropped: reopening in the same process may find it still held.
    let mut attempts = 0;
    loop {
        match sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
        {
            Err(sled::Error::Io(e)) if attempts < 100 && is_lock_held(&e) => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// sled's refusal when another process holds the store (it says so only in the message).
fn is_lock_held(error: &std::io::Error) -> bool {
    error.to_string().contains("could not acquire lock")
}

fn holds_records(db: &sled::Db) -> Result<bool, sled::Error> {
    for name in db.tree_names() {
        if !db.open_tree(&name)?.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

fn read_identity(dir: &Path) -> Result<Option<Identity>, StoreError> {
    let path = dir.join(IDENTITY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Damaged {
                dir: dir.display().to_string(),
                problem: format!("its identity file {} is unreadable ({e})", path.display()),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&path)(e)),
    }
}

fn decode_u64(bytes: &[u8]) -> u64 {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
