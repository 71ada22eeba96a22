//! Upgrades from older layouts, run by [`Store::open`](super::Store::open).
//!
//! Layout 1 kept JSON records, with each claim under a key of its own in a `claims` tree and
//! an index of citations beside it (about 3.5 keys per relation). Layout 2's trees have other
//! names, so the upgrade writes them beside the old ones and then switches the schema version
//! in one step: a crash before the switch leaves a version 1 store (the next open starts the
//! upgrade again, from scratch), a crash after it leaves a version 2 store whose old trees are
//! dropped on the next open.

use serde::de::DeserializeOwned;

use crate::model::{Claim, Entity, Relation, RelationWithClaims, Source};

use super::keys::claim_sequence;
use super::{
    codec, trees, StoreError, SCHEMA_VERSION, SCHEMA_VERSION_KEY, SEQUENCE_KEY, STORE_ID_KEY,
};

/// Layout 1's trees.
const V1_ENTITIES: &str = "entities";
const V1_RELATIONS: &str = "relations";
const V1_SOURCES: &str = "sources";
const V1_CLAIMS: &str = "claims";
const V1_CITATIONS: &str = "citations";

fn json<T: DeserializeOwned>(
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

pub(super) fn v1_to_v2(db: &sled::Db) -> Result<(), StoreError> {
    tracing::info!("upgrading the store from layout 1 to layout {SCHEMA_VERSION}");
    for name in [
        trees::ENTITIES,
        trees::RELATIONS,
        trees::SOURCES,
        trees::RETIRED,
        trees::UNDO,
    ] {
        db.open_tree(name)?.clear()?;
    }
    let entities = db.open_tree(trees::ENTITIES)?;
    for item in db.open_tree(V1_ENTITIES)?.iter() {
        let (key, value) = item?;
        let entity: Entity = json(V1_ENTITIES, &key, &value)?;
        entities.insert(key, codec::encode_entity(&entity))?;
    }
    let sources = db.open_tree(trees::SOURCES)?;
    for item in db.open_tree(V1_SOURCES)?.iter() {
        let (key, value) = item?;
        let source: Source = json(V1_SOURCES, &key, &value)?;
        sources.insert(key, codec::encode_source(&source))?;
    }
    let relations = db.open_tree(trees::RELATIONS)?;
    let claims_tree = db.open_tree(V1_CLAIMS)?;
    for item in db.open_tree(V1_RELATIONS)?.iter() {
        let (key, value) = item?;
        let relation: Relation = json(V1_RELATIONS, &key, &value)?;
        let mut prefix = key.to_vec();
        prefix.push(0);
        let mut claims: Vec<Claim> = claims_tree
            .scan_prefix(&prefix)
            .map(|item| {
                let (key, value) = item?;
                json(V1_CLAIMS, &key, &value)
            })
            .collect::<Result<_, StoreError>>()?;
        claims.sort_by_key(|c| claim_sequence(&c.id));
        let next_claim = claims
            .iter()
            .map(|c| claim_sequence(&c.id))
            .max()
            .unwrap_or(0)
            + 1;
        let record = RelationWithClaims { relation, claims };
        relations.insert(key, codec::encode_relation(&record, next_claim))?;
    }
    db.flush()?;
    let meta = db.open_tree(trees::META)?;
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| StoreError::Io {
        path: "the system's random source".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let sequence = meta
        .get(SEQUENCE_KEY)?
        .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
        .map_or(0, u64::from_be_bytes);
    let mut switch = sled::Batch::default();
    switch.insert(STORE_ID_KEY, &id);
    switch.insert(SEQUENCE_KEY, &(sequence + 1).to_be_bytes());
    switch.insert(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_be_bytes());
    meta.apply_batch(switch)?;
    db.flush()?;
    drop_v1_trees(db)
}

/// Removes layout 1's trees once the switch to layout 2 is durable.
pub(super) fn drop_v1_trees(db: &sled::Db) -> Result<(), StoreError> {
    for name in [
        V1_ENTITIES,
        V1_RELATIONS,
        V1_SOURCES,
        V1_CLAIMS,
        V1_CITATIONS,
    ] {
        if db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == name.as_bytes())
        {
            db.drop_tree(name)?;
        }
    }
    db.flush()?;
    Ok(())
}
