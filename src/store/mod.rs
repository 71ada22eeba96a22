//! Durable storage of records in sled.
//!
//! Owns the on-disk layout: one tree per concern (names in [`trees`]), the key encoding
//! (in [`keys`], nowhere else), the record encoding, and the schema version kept in the
//! `meta` tree and checked on open. A [`WriteBatch`] is applied in one transaction across
//! trees and flushed before [`Store::commit`] returns, so a write acknowledged is a write kept.
//! It knows the model's types but nothing of the graph index, GraphQL or HTTP, and it
//! enforces no domain rule: the service validates before it writes. Backups and restores of
//! the raw trees are in [`backup`].

mod backup;
mod keys;

pub use backup::BackupError;

pub use keys::{claim_id, claim_sequence};

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use thiserror::Error;

use crate::model::{Claim, Entity, Relation, Source};

/// The layout version this build reads and writes. Bump it with an upgrade step in
/// [`Store::open`] whenever keys or record encodings change.
pub const SCHEMA_VERSION: u32 = 1;

/// The names of sled's trees: one per concern.
pub mod trees {
    pub const META: &str = "meta";
    pub const ENTITIES: &str = "entities";
    pub const RELATIONS: &str = "relations";
    pub const SOURCES: &str = "sources";
    /// Claims keyed by relation first, so that a relation's claims are one prefix scan.
    pub const CLAIMS: &str = "claims";
    /// Which claims cite a source: `<source id> 0x00 <claim id>` to nothing.
    pub const CITATIONS: &str = "citations";
}

const SCHEMA_VERSION_KEY: &[u8] = b"schema_version";
/// Counts committed writes, so a saved copy of the index can tell whether it is current.
const SEQUENCE_KEY: &[u8] = b"sequence";
/// Present while a bulk load writes without transactions; found on open, it means the load was
/// interrupted and the store holds part of a file.
const BULK_LOAD_KEY: &[u8] = b"bulk_load_in_progress";

/// sled's page cache. Its default (1 GiB) would double the server's memory; the index answers
/// traversals, so the cache only serves record lookups.
const CACHE_BYTES: u64 = 64 << 20;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("storage engine error: {0}")]
    Engine(#[from] sled::Error),
    #[error(
        "the data directory holds schema version {found}, but this build reads version {expected}"
    )]
    SchemaVersion { found: u32, expected: u32 },
    #[error("a bulk load into this store was interrupted, so it holds part of a file: delete the data directory and import again")]
    InterruptedLoad,
    #[error("corrupt record in tree `{tree}` at key `{key}`: {message}")]
    Corrupt {
        tree: &'static str,
        key: String,
        message: String,
    },
}

/// One change to one record.
#[derive(Debug, Clone)]
pub enum Op {
    PutEntity(Entity),
    DeleteEntity(String),
    PutRelation(Relation),
    DeleteRelation(String),
    PutSource(Source),
    DeleteSource(String),
    PutClaim(Claim),
    DeleteClaim(Claim),
}

/// Changes that must land together or not at all.
#[derive(Debug, Clone, Default)]
pub struct WriteBatch {
    pub ops: Vec<Op>,
}

impl WriteBatch {
    pub fn push(&mut self, op: Op) {
        self.ops.push(op);
    }
}

/// The durable record store. Cheap to clone: sled's handles are reference counted.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    meta: sled::Tree,
    entities: sled::Tree,
    relations: sled::Tree,
    sources: sled::Tree,
    claims: sled::Tree,
    citations: sled::Tree,
}

/// A record's encoded bytes, ready to go in a tree.
type Encoded = Vec<u8>;

fn encode<T: Serialize>(record: &T) -> Encoded {
    // Our record types hold only strings, numbers and enums, which serde_json cannot fail on.
    serde_json::to_vec(record).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        key: String::from_utf8_lossy(key).into_owned(),
        message: e.to_string(),
    })
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, checking its schema version.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        // sled releases a closed store's file lock from a background thread, a moment after the
        // last handle is dropped: reopening in the same process may find it still held.
        let mut attempts = 0;
        loop {
            match sled::Config::new()
                .path(dir)
                .cache_capacity(CACHE_BYTES)
                .open()
            {
                Ok(db) => return Self::from_db(db),
                Err(sled::Error::Io(e))
                    if attempts < 100 && e.to_string().contains("could not acquire lock") =>
                {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn from_db(db: sled::Db) -> Result<Self, StoreError> {
        let meta = db.open_tree(trees::META)?;
        match meta.get(SCHEMA_VERSION_KEY)? {
            Some(bytes) => {
                let found = <[u8; 4]>::try_from(bytes.as_ref())
                    .map(u32::from_be_bytes)
                    .unwrap_or(0);
                if found != SCHEMA_VERSION {
                    return Err(StoreError::SchemaVersion {
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            None => {
                meta.insert(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_be_bytes())?;
                db.flush()?;
            }
        }
        if meta.contains_key(BULK_LOAD_KEY)? {
            return Err(StoreError::InterruptedLoad);
        }
        Ok(Store {
            entities: db.open_tree(trees::ENTITIES)?,
            relations: db.open_tree(trees::RELATIONS)?,
            sources: db.open_tree(trees::SOURCES)?,
            claims: db.open_tree(trees::CLAIMS)?,
            citations: db.open_tree(trees::CITATIONS)?,
            meta,
            db,
        })
    }

    /// Applies every change of `batch` in one transaction, then flushes to disk.
    pub fn commit(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        if batch.ops.is_empty() {
            return Ok(());
        }
        let encoded: Vec<(&Op, Option<Encoded>)> = batch
            .ops
            .iter()
            .map(|op| {
                let bytes = match op {
                    Op::PutEntity(e) => Some(encode(e)),
                    Op::PutRelation(r) => Some(encode(r)),
                    Op::PutSource(s) => Some(encode(s)),
                    Op::PutClaim(c) => Some(encode(c)),
                    _ => None,
                };
                (op, bytes)
            })
            .collect();
        let result: Result<(), TransactionError<()>> = (
            &self.entities,
            &self.relations,
            &self.sources,
            &self.claims,
            &self.citations,
            &self.meta,
        )
            .transaction(|(entities, relations, sources, claims, citations, meta)| {
                for (op, bytes) in &encoded {
                    let bytes = bytes.clone().unwrap_or_default();
                    match op {
                        Op::PutEntity(e) => entities.insert(e.id.as_bytes(), bytes).map(drop)?,
                        Op::DeleteEntity(id) => entities.remove(id.as_bytes()).map(drop)?,
                        Op::PutRelation(r) => relations.insert(r.id.as_bytes(), bytes).map(drop)?,
                        Op::DeleteRelation(id) => relations.remove(id.as_bytes()).map(drop)?,
                        Op::PutSource(s) => sources.insert(s.id.as_bytes(), bytes).map(drop)?,
                        Op::DeleteSource(id) => sources.remove(id.as_bytes()).map(drop)?,
                        Op::PutClaim(c) => {
                            claims.insert(keys::claim(&c.relation, &c.id), bytes)?;
                            citations.insert(keys::citation(&c.source, &c.id), &[])?;
                        }
                        Op::DeleteClaim(c) => {
                            claims.remove(keys::claim(&c.relation, &c.id))?;
                            citations.remove(keys::citation(&c.source, &c.id))?;
                        }
                    }
                }
                let sequence = meta.get(SEQUENCE_KEY)?.map_or(0, |b| decode_u64(&b));
                meta.insert(SEQUENCE_KEY, &(sequence + 1).to_be_bytes())?;
                Ok::<(), ConflictableTransactionError<()>>(())
            });
        match result {
            Ok(()) => {}
            Err(TransactionError::Storage(e)) => return Err(StoreError::Engine(e)),
            // Our closure never aborts; sled retries conflicts itself.
            Err(TransactionError::Abort(())) => {}
        }
        self.db.flush()?;
        Ok(())
    }

    /// How many commits the store has seen: a saved index is current only for the same number.
    pub fn sequence(&self) -> Result<u64, StoreError> {
        Ok(self.meta.get(SEQUENCE_KEY)?.map_or(0, |b| decode_u64(&b)))
    }

    /// Marks the start (or, once everything is written and flushed, the end) of a bulk load, so
    /// that an interrupted one is noticed when the store is next opened.
    pub fn mark_bulk_load(&self, in_progress: bool) -> Result<(), StoreError> {
        if in_progress {
            self.meta.insert(BULK_LOAD_KEY, &[])?;
        } else {
            self.db.flush()?;
            let sequence = self.sequence()?;
            self.meta
                .insert(SEQUENCE_KEY, &(sequence + 1).to_be_bytes())?;
            self.meta.remove(BULK_LOAD_KEY)?;
        }
        self.db.flush()?;
        Ok(())
    }

    /// Writes many records without a transaction, for bulk loads that have been validated as a
    /// whole beforehand and bracketed by [`Store::mark_bulk_load`]; the caller flushes.
    pub fn load_unchecked(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        // Plain inserts: sled's atomic batches cost far more per key and hold everything in
        // memory, and a bulk load's all-or-nothing comes from its marker, not from sled.
        for op in &batch.ops {
            match op {
                Op::PutEntity(e) => self.entities.insert(e.id.as_bytes(), encode(e)).map(drop)?,
                Op::DeleteEntity(id) => self.entities.remove(id.as_bytes()).map(drop)?,
                Op::PutRelation(r) => self
                    .relations
                    .insert(r.id.as_bytes(), encode(r))
                    .map(drop)?,
                Op::DeleteRelation(id) => self.relations.remove(id.as_bytes()).map(drop)?,
                Op::PutSource(s) => self.sources.insert(s.id.as_bytes(), encode(s)).map(drop)?,
                Op::DeleteSource(id) => self.sources.remove(id.as_bytes()).map(drop)?,
                Op::PutClaim(c) => {
                    self.claims
                        .insert(keys::claim(&c.relation, &c.id), encode(c))?;
                    self.citations
                        .insert(keys::citation(&c.source, &c.id), &[])?;
                }
                Op::DeleteClaim(c) => {
                    self.claims.remove(keys::claim(&c.relation, &c.id))?;
                    self.citations.remove(keys::citation(&c.source, &c.id))?;
                }
            }
        }
        Ok(())
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub fn entity(&self, id: &str) -> Result<Option<Entity>, StoreError> {
        get(&self.entities, trees::ENTITIES, id.as_bytes())
    }

    pub fn relation(&self, id: &str) -> Result<Option<Relation>, StoreError> {
        get(&self.relations, trees::RELATIONS, id.as_bytes())
    }

    pub fn source(&self, id: &str) -> Result<Option<Source>, StoreError> {
        get(&self.sources, trees::SOURCES, id.as_bytes())
    }

    /// Looks a claim up by its id alone; a claim's id names its relation (see [`keys`]).
    pub fn claim(&self, id: &str) -> Result<Option<Claim>, StoreError> {
        match keys::relation_of_claim(id) {
            Some(relation) => get(&self.claims, trees::CLAIMS, &keys::claim(relation, id)),
            None => Ok(None),
        }
    }

    /// A relation's claims, in the order they were recorded.
    pub fn claims_of(&self, relation: &str) -> Result<Vec<Claim>, StoreError> {
        let mut claims: Vec<Claim> = self
            .claims
            .scan_prefix(keys::claims_prefix(relation))
            .map(|item| {
                let (key, value) = item?;
                decode(trees::CLAIMS, &key, &value)
            })
            .collect::<Result<_, _>>()?;
        claims.sort_by_key(|c| keys::claim_sequence(&c.id));
        Ok(claims)
    }

    /// The ids of the claims that cite `source`, in key order.
    pub fn citing_claims(&self, source: &str) -> Result<Vec<String>, StoreError> {
        let prefix = keys::citations_prefix(source);
        self.citations
            .scan_prefix(&prefix)
            .keys()
            .map(|key| Ok(String::from_utf8_lossy(&key?[prefix.len()..]).into_owned()))
            .collect()
    }

    pub fn entities(&self) -> impl Iterator<Item = Result<Entity, StoreError>> + '_ {
        scan(&self.entities, trees::ENTITIES)
    }

    pub fn relations(&self) -> impl Iterator<Item = Result<Relation, StoreError>> + '_ {
        scan(&self.relations, trees::RELATIONS)
    }

    pub fn sources(&self) -> impl Iterator<Item = Result<Source, StoreError>> + '_ {
        scan(&self.sources, trees::SOURCES)
    }

    pub fn claims(&self) -> impl Iterator<Item = Result<Claim, StoreError>> + '_ {
        scan(&self.claims, trees::CLAIMS)
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty() && self.sources.is_empty() && self.relations.is_empty()
    }

    /// Bytes the store takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    /// Whether the schema-version record is present: a sanity check for tools.
    pub fn schema_version(&self) -> Result<Option<u32>, StoreError> {
        Ok(self
            .meta
            .get(SCHEMA_VERSION_KEY)?
            .and_then(|b| <[u8; 4]>::try_from(b.as_ref()).ok())
            .map(u32::from_be_bytes))
    }
}

fn decode_u64(bytes: &[u8]) -> u64 {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

fn get<T: DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
    key: &[u8],
) -> Result<Option<T>, StoreError> {
    match tree.get(key)? {
        Some(bytes) => decode(name, key, &bytes).map(Some),
        None => Ok(None),
    }
}

fn scan<'a, T: DeserializeOwned + 'a>(
    tree: &'a sled::Tree,
    name: &'static str,
) -> impl Iterator<Item = Result<T, StoreError>> + 'a {
    tree.iter().map(move |item| {
        let (key, value) = item?;
        decode(name, &key, &value)
    })
}
