//! Entities by identifier: which entities hold `scheme:value`, in constant time, so that an
//! import resolving a hundred thousand records against a million entities asks a hash table
//! instead of scanning. The table keeps only a hash and a node number per identifier (twelve
//! bytes); a hit is confirmed against the entity's search text, which lists its identifiers
//! (see `search.rs`), so two identifiers that share a hash never find each other's entities.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use petgraph::stable_graph::NodeIndex;

#[derive(Default)]
pub(super) struct IdentifierTable {
    table: HashTable<(u64, u32)>,
    hasher: DefaultHashBuilder,
}

impl IdentifierTable {
    /// Records that `node` holds `key` (an identifier as `identifier_key` writes it).
    pub(super) fn insert(&mut self, key: &str, node: NodeIndex) {
        let hash = self.hasher.hash_one(key);
        let entry = (hash, node.index() as u32);
        if self.table.find(hash, |e| *e == entry).is_none() {
            self.table.insert_unique(hash, entry, |e| e.0);
        }
    }

    pub(super) fn remove(&mut self, key: &str, node: NodeIndex) {
        let hash = self.hasher.hash_one(key);
        let entry = (hash, node.index() as u32);
        if let Ok(found) = self.table.find_entry(hash, |e| *e == entry) {
            found.remove();
        }
    }

    /// The nodes that may hold `key`: every one that does, and rarely one whose identifier
    /// shares its hash (the caller confirms).
    pub(super) fn candidates(&self, key: &str) -> impl Iterator<Item = NodeIndex> + '_ {
        let hash = self.hasher.hash_one(key);
        self.table
            .iter_hash(hash)
            .filter(move |e| e.0 == hash)
            .map(|e| NodeIndex::new(e.1 as usize))
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.table.shrink_to_fit(|e| e.0);
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn finds_what_was_inserted_until_it_is_removed() {
        let mut table = IdentifierTable::default();
        let (a, b) = (NodeIndex::new(1), NodeIndex::new(2));
        table.insert("uei:abc", a);
        table.insert("uei:abc", a);
        table.insert("uei:abc", b);
        table.insert("duns:1", b);
        let mut found: Vec<_> = table.candidates("uei:abc").collect();
        found.sort();
        assert_eq!(found, vec![a, b]);
        table.remove("uei:abc", a);
        assert_eq!(table.candidates("uei:abc").collect::<Vec<_>>(), vec![b]);
        assert_eq!(table.candidates("uei:abd").count(), 0);
        assert_eq!(table.candidates("duns:1").collect::<Vec<_>>(), vec![b]);
    }
}
