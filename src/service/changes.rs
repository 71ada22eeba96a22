//! The change log: one sequenced, serialisable record per commit, saying exactly what was
//! written. The index is fed from these records (every write path applies its commit's ops
//! through [`ChangeRecord::apply_to`]), the subscription feed is served from them, and they
//! are what a replica would apply: an index fed only with them from an empty start equals the
//! index rebuilt from the store.

use serde::{Deserialize, Serialize};

use crate::graph::GraphIndex;
use crate::store::Op;

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

/// Which sort of record changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordType {
    Entity,
    Relation,
    Source,
    Claim,
}

/// One change as subscribers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub record: RecordType,
    pub id: String,
    /// The entities the change touches (the entity itself, or a relation's two ends), so a
    /// subscriber can follow just the entities on its screen.
    pub entities: Vec<String>,
}

/// What one commit wrote. A load of many records is one commit whose record comes in parts
/// (each with the commit's sequence, the last one marked), announced once the whole load is
/// durable, so that no part is ever held in memory with the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// The store's commit sequence after this commit.
    pub sequence: u64,
    /// Which part of the commit's record this is, from 0.
    pub part: u32,
    /// Whether this is the commit's last part.
    pub last: bool,
    /// The writes, in the order they were applied.
    pub ops: Vec<Op>,
    /// The same writes as subscribers are told of them.
    pub events: Vec<Change>,
}

impl ChangeRecord {
    /// Applies the record's writes to an index. The ops of one commit come in an order that
    /// keeps the index whole: sources and entities before the relations that name them, and
    /// relations removed before their ends.
    pub fn apply_to(&self, index: &mut GraphIndex) {
        apply_ops(index, &self.ops);
    }
}

/// Applies ops to an index: the one place the index learns of a write.
pub(super) fn apply_ops(index: &mut GraphIndex, ops: &[Op]) {
    // Deletions of relations that follow one another go in one call: removed together, a
    // hub's relations cost what they touch (see `GraphIndex::remove_relations`).
    for run in ops.chunk_by(|a, b| deleted_relation(a).is_some() && deleted_relation(b).is_some()) {
        match run {
            [Op::DeleteRelation(_), ..] => {
                index.remove_relations(run.iter().filter_map(deleted_relation))
            }
            _ => run.iter().for_each(|op| apply_op(index, op)),
        }
    }
}

fn deleted_relation(op: &Op) -> Option<&str> {
    match op {
        Op::DeleteRelation(id) => Some(id),
        _ => None,
    }
}

fn apply_op(index: &mut GraphIndex, op: &Op) {
    match op {
        Op::PutEntity(entity) => index.upsert_entity(entity),
        Op::DeleteEntity(id) => index.remove_entity(id),
        Op::PutSource(source) => index.upsert_source(&source.id),
        Op::DeleteSource(id) => index.remove_source(id),
        Op::PutRelation { record, .. } => {
            // The service checked the ends, sources and claimants before committing.
            index.upsert_relation(&record.relation, &record.claims);
        }
        Op::DeleteRelation(id) => index.remove_relation(id),
        // Merges are the store's memory of how ids resolve; the index holds none.
        Op::PutMerge(_) | Op::DeleteMerge(_) => {}
    }
}
