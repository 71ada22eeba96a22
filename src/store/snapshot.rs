//! Snapshots: the store as it was at one moment, read while writers go on, for backups and
//! whole-graph exports.
//!
//! sled has no snapshots of its own, so the store keeps them: a snapshot reads the live trees,
//! and every write first hands each open snapshot the old value of every record it is about to
//! change that the snapshot has not read yet ([`Freezes::keep`]). The snapshot reads each
//! record under the same lock writers record under, so a record is either read before any
//! write touched it, or its kept old value is used instead; records created since are skipped,
//! records deleted since come from what was kept. Writers never wait for a snapshot. Old values
//! are held in memory until the snapshot has read past them (a bulk import while a snapshot
//! is read keeps that much), and each tree is read at most once, in key order.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sled::IVec;

use super::{codec, Store, StoreError};
use crate::model::{Entity, RelationWithClaims, Source};

/// The snapshots open on a store, each with the old values of records changed since it was
/// taken. Shared by every clone of the store.
#[derive(Default)]
pub(super) struct Freezes {
    open: Mutex<Vec<Arc<Mutex<Frozen>>>>,
    /// How many are open, so writes check without a lock when none is.
    count: AtomicUsize,
}

/// How far a snapshot has read one tree.
enum Progress {
    Unread,
    /// Up to and including this key.
    Reading(IVec),
    Read,
}

/// What one snapshot has read, and what it must read instead of what the trees now hold.
struct Frozen {
    /// The trees there were when the snapshot was taken, sorted.
    trees: Vec<IVec>,
    /// Aligned with `trees`.
    progress: Vec<Progress>,
    /// Old values (`None`: the record did not exist) of records changed since, by tree (its
    /// place in `trees`) and key.
    kept: BTreeMap<(usize, IVec), Option<IVec>>,
}

impl Frozen {
    fn read_already(&self, tree: usize, key: &[u8]) -> bool {
        match &self.progress[tree] {
            Progress::Unread => false,
            Progress::Reading(last) => key <= last.as_ref(),
            Progress::Read => true,
        }
    }

    /// The kept records of one tree that existed when the snapshot was taken; forgets them.
    fn take_kept(&mut self, tree: usize) -> Vec<(IVec, IVec)> {
        let mut of_tree = self.kept.split_off(&(tree, IVec::default()));
        let mut after = of_tree.split_off(&(tree + 1, IVec::default()));
        self.kept.append(&mut after);
        of_tree
            .into_iter()
            .filter_map(|((_, key), value)| value.map(|value| (key, value)))
            .collect()
    }
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Freezes {
    /// Called by every write before it changes `key` in `tree`: an open snapshot that has not
    /// read that record yet keeps its present value.
    pub(super) fn keep(&self, tree: &sled::Tree, key: &[u8]) -> Result<(), sled::Error> {
        if self.count.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        let name = tree.name();
        let mut present: Option<Option<IVec>> = None;
        for frozen in locked(&self.open).iter() {
            let mut frozen = locked(frozen);
            let Ok(place) = frozen.trees.binary_search(&name) else {
                continue;
            };
            if frozen.read_already(place, key) || frozen.kept.contains_key(&(place, key.into())) {
                continue;
            }
            let value = match &present {
                Some(value) => value.clone(),
                None => present.insert(tree.get(key)?).clone(),
            };
            frozen.kept.insert((place, key.into()), value);
        }
        Ok(())
    }

    /// [`Freezes::keep`] for every record `ops` will change, and the commit sequence.
    pub(super) fn keep_ops(&self, store: &Store, ops: &[super::Op]) -> Result<(), sled::Error> {
        if self.count.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        for op in ops {
            for (tree, key) in super::load::keys_of(op) {
                self.keep(super::load::tree_of(store, tree), &key)?;
            }
        }
        self.keep(&store.meta, super::SEQUENCE_KEY)
    }

    /// [`Freezes::keep`] for every record of `tree`, before it is cleared.
    pub(super) fn keep_all(&self, tree: &sled::Tree) -> Result<(), sled::Error> {
        if self.count.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        for key in tree.iter().keys() {
            self.keep(tree, &key?)?;
        }
        Ok(())
    }
}

/// The store as it was when [`Store::snapshot`] was called. Until it is dropped, writes keep
/// old values for it.
pub struct Snapshot {
    pub(super) store: Store,
    frozen: Arc<Mutex<Frozen>>,
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let freezes = &self.store.freezes;
        locked(&freezes.open).retain(|f| !Arc::ptr_eq(f, &self.frozen));
        freezes.count.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Store {
    /// Takes a snapshot. The caller keeps writers out for this call only (the service does):
    /// a write half done now would be half in it.
    pub fn snapshot(&self) -> Snapshot {
        let mut trees = self.db.tree_names();
        // sled lists its trees in no particular order: sorted, two backups of one store match.
        trees.sort();
        let progress = trees.iter().map(|_| Progress::Unread).collect();
        let frozen = Arc::new(Mutex::new(Frozen {
            trees,
            progress,
            kept: BTreeMap::new(),
        }));
        let freezes = &self.freezes;
        locked(&freezes.open).push(Arc::clone(&frozen));
        freezes.count.fetch_add(1, Ordering::AcqRel);
        Snapshot {
            store: self.clone(),
            frozen,
        }
    }
}

impl Snapshot {
    /// The trees there were, sorted by name.
    pub(super) fn trees(&self) -> Vec<IVec> {
        locked(&self.frozen).trees.clone()
    }

    /// The records of `tree` as they were, raw, in key order but for the ones changed since,
    /// which come last. Read each tree once: once read through, the snapshot keeps no old
    /// values for it, and a second reading shows the tree as it is now.
    pub(super) fn records(&self, tree: &sled::Tree) -> Records<'_> {
        let place = locked(&self.frozen).trees.binary_search(&tree.name()).ok();
        Records {
            snapshot: self,
            // A tree made since the snapshot was taken was empty then.
            live: place.map(|place| (place, tree.iter())),
            kept: Vec::new().into_iter(),
        }
    }

    /// Every entity, in id order but for the ones changed since the snapshot.
    pub fn entities(&self) -> impl Iterator<Item = Result<Entity, StoreError>> + '_ {
        self.records(&self.store.entities)
            .map(|record| record.and_then(|(key, value)| codec::decode_entity(&key, &value)))
    }

    /// Every relation with its claims, as [`Snapshot::entities`].
    pub fn relations(&self) -> impl Iterator<Item = Result<RelationWithClaims, StoreError>> + '_ {
        self.records(&self.store.relations).map(|record| {
            record.and_then(|(key, value)| codec::decode_relation(&key, &value).map(|d| d.relation))
        })
    }

    /// Every source, as [`Snapshot::entities`].
    pub fn sources(&self) -> impl Iterator<Item = Result<Source, StoreError>> + '_ {
        self.records(&self.store.sources)
            .map(|record| record.and_then(|(key, value)| codec::decode_source(&key, &value)))
    }
}

/// The records of one tree as a snapshot shows them.
pub(super) struct Records<'s> {
    snapshot: &'s Snapshot,
    /// The tree's place in the snapshot and its live records, until they are read through.
    live: Option<(usize, sled::Iter)>,
    /// Then the old values of records changed ahead of the reading.
    kept: std::vec::IntoIter<(IVec, IVec)>,
}

impl Iterator for Records<'_> {
    type Item = Result<(IVec, IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some((place, live)) = &mut self.live {
            let place = *place;
            for item in live.by_ref() {
                let (key, value) = match item {
                    Ok(record) => record,
                    Err(e) => return Some(Err(e.into())),
                };
                let changed = {
                    let mut frozen = locked(&self.snapshot.frozen);
                    frozen.progress[place] = Progress::Reading(key.clone());
                    frozen.kept.contains_key(&(place, key.clone()))
                };
                if !changed {
                    return Some(Ok((key, value)));
                }
            }
            let kept = {
                let mut frozen = locked(&self.snapshot.frozen);
                frozen.progress[place] = Progress::Read;
                frozen.take_kept(place)
            };
            self.live = None;
            self.kept = kept.into_iter();
        }
        self.kept.next().map(Ok)
    }
}
