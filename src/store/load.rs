//! Loads of any size, all or nothing, without holding them in memory.
//!
//! sled's transactions keep every change in memory (twice), so a load writes with plain
//! inserts instead and gets its all-or-nothing from an undo journal: before each chunk of ops
//! is written, the bytes it will overwrite (or the fact that a key was absent) are written to
//! the `undo` tree and flushed. A marker in `meta` says a load is under way. Finishing is one
//! small transaction that moves the sequence and removes the marker; a store opened with the
//! marker still there is rolled back, chunk by chunk in reverse, to exactly what it held
//! before. A load into an empty store needs no journal: rolling it back empties the store.

use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::codec::{self, Undo};
use super::{decode_u64, Op, Store, StoreError, LOAD_KEY, SEQUENCE_KEY};

/// The trees a load writes, by the number an undo entry names them with.
const ENTITIES: u8 = 0;
const RELATIONS: u8 = 1;
const SOURCES: u8 = 2;
const RETIRED: u8 = 3;
const MERGES: u8 = 4;

/// A load under way. Write chunks with [`Load::write`], then [`Load::finish`]; dropped
/// unfinished (or after a failed write), it rolls back what it wrote.
pub struct Load<'a> {
    store: &'a Store,
    empty_before: bool,
    chunks: u32,
    finished: bool,
}

impl<'a> Load<'a> {
    pub(super) fn begin(store: &'a Store) -> Result<Self, StoreError> {
        // A journal left by a load whose marker was already removed must not be replayed.
        store.freezes.keep_all(&store.undo)?;
        store.undo.clear()?;
        let empty_before = store.is_empty() && store.retired.is_empty();
        store.freezes.keep(&store.meta, LOAD_KEY)?;
        store.meta.insert(LOAD_KEY, &[u8::from(empty_before)])?;
        store.db.flush()?;
        Ok(Load {
            store,
            empty_before,
            chunks: 0,
            finished: false,
        })
    }

    /// Whether the store was empty when the load began (such loads keep no journal).
    pub fn was_empty(&self) -> bool {
        self.empty_before
    }

    /// Writes one chunk of ops: their undo entries first (durably), then the ops themselves.
    pub fn write(&mut self, ops: &[Op]) -> Result<(), StoreError> {
        self.store.freezes.keep_ops(self.store, ops)?;
        if !self.empty_before {
            let mut entries = Vec::with_capacity(ops.len());
            for op in ops {
                for (tree, key) in keys_of(op) {
                    let previous = self.tree(tree).get(&key)?.map(|v| v.to_vec());
                    entries.push(Undo {
                        tree,
                        key,
                        previous,
                    });
                }
            }
            let chunk = self.chunks.to_be_bytes();
            self.store.freezes.keep(&self.store.undo, &chunk)?;
            self.store
                .undo
                .insert(chunk, codec::encode_undo(&entries))?;
            self.store.db.flush()?;
        }
        self.chunks += 1;
        let s = self.store;
        for op in ops {
            match op {
                Op::PutEntity(e) => drop(
                    s.entities
                        .insert(e.id.as_bytes(), codec::encode_entity(e))?,
                ),
                Op::DeleteEntity(id) => drop(s.entities.remove(id.as_bytes())?),
                Op::PutSource(x) => {
                    drop(s.sources.insert(x.id.as_bytes(), codec::encode_source(x))?)
                }
                Op::DeleteSource(id) => drop(s.sources.remove(id.as_bytes())?),
                Op::PutRelation { record, next_claim } => {
                    let key = record.relation.id.as_bytes();
                    s.relations
                        .insert(key, codec::encode_relation(record, *next_claim))?;
                    s.retired.remove(key)?;
                }
                Op::DeleteRelation(id) => {
                    if let Some(old) = s.relations.remove(id.as_bytes())? {
                        let next = codec::decode_relation(id.as_bytes(), &old)?.next_claim;
                        s.retired.insert(id.as_bytes(), &next.to_be_bytes())?;
                    }
                }
                Op::PutMerge(merge) => drop(
                    s.merges
                        .insert(merge.from.as_bytes(), codec::encode_merge(merge))?,
                ),
                Op::DeleteMerge(id) => drop(s.merges.remove(id.as_bytes())?),
            }
        }
        Ok(())
    }

    /// Makes the whole load durable and moves the sequence, in one step. Returns the sequence.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        self.store.db.flush()?;
        self.store.freezes.keep(&self.store.meta, SEQUENCE_KEY)?;
        self.store.freezes.keep(&self.store.meta, LOAD_KEY)?;
        let result: Result<u64, TransactionError<()>> = self.store.meta.transaction(|meta| {
            let sequence = meta.get(SEQUENCE_KEY)?.map_or(0, |b| decode_u64(&b)) + 1;
            meta.insert(SEQUENCE_KEY, &sequence.to_be_bytes())?;
            meta.remove(LOAD_KEY)?;
            Ok::<u64, ConflictableTransactionError<()>>(sequence)
        });
        let sequence = match result {
            Ok(sequence) => sequence,
            Err(TransactionError::Storage(e)) => return Err(e.into()),
            Err(TransactionError::Abort(())) => self.store.sequence()?,
        };
        self.store.db.flush()?;
        self.finished = true;
        // The journal is no longer needed; a crash before it is cleared leaves entries that
        // the next load overwrites and that no rollback reads (the marker is gone).
        self.store.freezes.keep_all(&self.store.undo)?;
        self.store.undo.clear()?;
        Ok(sequence)
    }

    fn tree(&self, tree: u8) -> &sled::Tree {
        tree_of(self.store, tree)
    }
}

impl Drop for Load<'_> {
    fn drop(&mut self) {
        if !self.finished {
            if let Err(error) = rollback(self.store) {
                // The marker stays: the next open tries again.
                tracing::error!(%error, "could not roll back an unfinished load");
            }
        }
    }
}

pub(super) fn tree_of(store: &Store, tree: u8) -> &sled::Tree {
    match tree {
        ENTITIES => &store.entities,
        RELATIONS => &store.relations,
        SOURCES => &store.sources,
        MERGES => &store.merges,
        _ => &store.retired,
    }
}

/// The keys an op may change, so their old values can be journaled.
pub(super) fn keys_of(op: &Op) -> Vec<(u8, Vec<u8>)> {
    match op {
        Op::PutEntity(e) => vec![(ENTITIES, e.id.as_bytes().to_vec())],
        Op::DeleteEntity(id) => vec![(ENTITIES, id.as_bytes().to_vec())],
        Op::PutSource(s) => vec![(SOURCES, s.id.as_bytes().to_vec())],
        Op::DeleteSource(id) => vec![(SOURCES, id.as_bytes().to_vec())],
        Op::PutRelation { record, .. } => {
            let key = record.relation.id.as_bytes().to_vec();
            vec![(RELATIONS, key.clone()), (RETIRED, key)]
        }
        Op::DeleteRelation(id) => {
            let key = id.as_bytes().to_vec();
            vec![(RELATIONS, key.clone()), (RETIRED, key)]
        }
        Op::PutMerge(merge) => vec![(MERGES, merge.from.as_bytes().to_vec())],
        Op::DeleteMerge(id) => vec![(MERGES, id.as_bytes().to_vec())],
    }
}

/// Rolls back an interrupted load, if the store holds one. Called on open.
pub(super) fn recover(store: &Store) -> Result<(), StoreError> {
    if store.meta.contains_key(LOAD_KEY)? {
        tracing::warn!(
            dir = %store.dir.display(),
            "a load was interrupted; rolling it back to what the store held before it"
        );
        rollback(store)?;
    }
    Ok(())
}

fn rollback(store: &Store) -> Result<(), StoreError> {
    let Some(marker) = store.meta.get(LOAD_KEY)? else {
        return Ok(());
    };
    let freezes = &store.freezes;
    if marker.first() == Some(&1) {
        for tree in [ENTITIES, RELATIONS, SOURCES, RETIRED, MERGES] {
            freezes.keep_all(tree_of(store, tree))?;
            tree_of(store, tree).clear()?;
        }
    } else {
        for chunk in store.undo.iter().rev() {
            let (key, value) = chunk?;
            // Within a chunk, undo in reverse too: the first entry for a key holds its oldest value.
            for entry in codec::decode_undo(&key, &value)?.into_iter().rev() {
                let tree = tree_of(store, entry.tree);
                freezes.keep(tree, &entry.key)?;
                match entry.previous {
                    Some(previous) => drop(tree.insert(entry.key, previous)?),
                    None => drop(tree.remove(entry.key)?),
                }
            }
        }
    }
    store.db.flush()?;
    freezes.keep(&store.meta, LOAD_KEY)?;
    store.meta.remove(LOAD_KEY)?;
    store.db.flush()?;
    freezes.keep_all(&store.undo)?;
    store.undo.clear()?;
    store.db.flush()?;
    Ok(())
}
