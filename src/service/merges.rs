//! Merging two entities that are one real thing, and undoing it.
//!
//! `merge_entities(into, from)` is one commit: `from`'s ties become `into`'s (a tie `into`
//! already has, of the same kind to the same entity, takes their claims), the claims `from`
//! made are credited to `into`, `from`'s names and identifiers are added to `into`, and
//! `from` is deleted. The store keeps a [`Merge`] under `from`'s id, so that `from` keeps
//! resolving to `into` (through later merges too), and so that `unmerge` can put back exactly
//! what was there: it first checks that every record the merge wrote is still as the merge
//! left it, and refuses (writing nothing) when something has changed since.

use crate::model::{
    validate_entity, validate_relation, Claim, Entity, ModelError, RelationWithClaims, Timestamp,
};
use crate::store::{Merge, Op};

use super::records::{derived_relation_id_of, joined_entity, moved_claims};
use super::writes::event;
use super::{Change, ChangeKind, RecordType, Result, Service, ServiceError};

/// How many merges an old id is followed through before the chain is called broken: merges
/// are made by hand, so a longer chain is a loop in a damaged store.
const MAX_CHAIN: usize = 64;

/// The change an op makes, as subscribers are told of it.
fn change_of(op: &Op, kind_of_put: ChangeKind) -> Option<Change> {
    Some(match op {
        Op::PutEntity(e) => event(kind_of_put, RecordType::Entity, &e.id, &[&e.id]),
        Op::DeleteEntity(id) => event(ChangeKind::Deleted, RecordType::Entity, id, &[id]),
        Op::PutRelation { record, .. } => {
            let r = &record.relation;
            event(kind_of_put, RecordType::Relation, &r.id, &[&r.from, &r.to])
        }
        Op::DeleteRelation(id) => event(ChangeKind::Deleted, RecordType::Relation, id, &[]),
        _ => return None,
    })
}

impl Service {
    /// Merges `from` into `into` (see the module's documentation); returns `into` as it is now.
    pub fn merge_entities(&self, into: &str, from: &str) -> Result<Entity> {
        let _writer = self.begin_write()?;
        if into == from {
            return Err(
                ModelError::invalid("from", "an entity cannot be merged into itself").into(),
            );
        }
        let target = self
            .store
            .entity(into)?
            .ok_or_else(|| ServiceError::not_found("entity", into, "into"))?;
        let merged = self
            .store
            .entity(from)?
            .ok_or_else(|| ServiceError::not_found("entity", from, "from"))?;
        let now = Timestamp::now();
        let mut joined = joined_entity(
            &target,
            Entity {
                id: target.id.clone(),
                ..merged.clone()
            },
            false,
        );
        joined.updated_at = now;
        validate_entity(&joined)?;

        let mut touched: Vec<String> = {
            let index = self.read_index();
            index
                .relations_of(from)
                .into_iter()
                .chain(index.statements_by(from))
                .map(str::to_owned)
                .collect()
        };
        touched.sort();
        touched.dedup();

        let renamed = |id: &str| if id == from { into } else { id }.to_owned();
        // What the merge writes, and what puts things back: entities first, then ties.
        let mut wrote = vec![Op::PutEntity(joined.clone())];
        let mut restore_relations = Vec::new();
        let mut remove_made = Vec::new();
        let mut deleted: Vec<String> = Vec::new();
        let mut pending: Vec<(String, RelationWithClaims, u32)> = Vec::new();
        for relation_id in &touched {
            let (record, next) = self.stored_relation(relation_id, "from")?;
            restore_relations.push(Op::PutRelation {
                record: record.clone(),
                next_claim: next,
            });
            let old = &record.relation;
            let mut relation = old.clone();
            relation.from = renamed(&old.from);
            relation.to = renamed(&old.to);
            if relation.from == relation.to {
                return Err(ModelError::invalid(
                    "from",
                    format!(
                        "relation `{}` ties the two entities to each other; delete it before merging them",
                        old.id
                    ),
                )
                .into());
            }
            let kind_of = |id: &str| {
                if id == into {
                    Some(joined.kind)
                } else {
                    self.read_index().entity_kind(id)
                }
            };
            if let (Some(a), Some(b)) = (kind_of(&relation.from), kind_of(&relation.to)) {
                validate_relation(&relation, a, b).map_err(|e| {
                    ModelError::invalid(
                        "from",
                        format!("relation `{}` would not be valid on `{into}`: {e}", old.id),
                    )
                })?;
            }
            let claims: Vec<Claim> = record
                .claims
                .iter()
                .map(|c| Claim {
                    claimant: c.claimant.as_deref().map(renamed),
                    ..c.clone()
                })
                .collect();
            relation.updated_at = now;
            // A tie named after its ends is renamed with them.
            let was_derived = old.id == derived_relation_id_of(old.kind, &old.from, &old.to);
            let id = if was_derived {
                derived_relation_id_of(relation.kind, &relation.from, &relation.to)
            } else {
                old.id.clone()
            };
            if id != old.id {
                deleted.push(old.id.clone());
            }
            // The tie it becomes: itself, one this merge already wrote, or one `into` has.
            let found = match pending.iter().position(|(pid, ..)| *pid == id) {
                Some(at) => {
                    let (_, record, next) = pending.remove(at);
                    Some((record, next))
                }
                None if id == old.id => None,
                None => self
                    .store
                    .relation_and_next(&id)?
                    .inspect(|(existing, next)| {
                        restore_relations.push(Op::PutRelation {
                            record: existing.clone(),
                            next_claim: *next,
                        })
                    }),
            };
            let written = match found {
                Some((existing, existing_next)) => {
                    let same = existing.relation.kind == relation.kind
                        && existing.relation.from == relation.from
                        && existing.relation.to == relation.to;
                    if !same {
                        return Err(ModelError::invalid(
                            "from",
                            format!(
                                "relation `{}` would be renamed `{id}`, which is another tie",
                                old.id
                            ),
                        )
                        .into());
                    }
                    let (claims, next) = moved_claims(&id, existing.claims, existing_next, claims);
                    let mut relation = existing.relation;
                    relation.updated_at = now;
                    (RelationWithClaims { relation, claims }, next)
                }
                // Staying as it is, claims and all (only their claimant may have changed).
                None if id == old.id => (RelationWithClaims { relation, claims }, next),
                None => {
                    remove_made.push(Op::DeleteRelation(id.clone()));
                    let first = self.store.first_claim_number(&id)?;
                    let (claims, next) = moved_claims(&id, Vec::new(), first, claims);
                    relation.id = id.clone();
                    (RelationWithClaims { relation, claims }, next)
                }
            };
            pending.push((id, written.0, written.1));
        }
        // Removed before the ties that replace them, so the index never holds both.
        wrote.extend(deleted.into_iter().map(Op::DeleteRelation));
        wrote.extend(
            pending
                .into_iter()
                .map(|(_, record, next_claim)| Op::PutRelation { record, next_claim }),
        );
        wrote.push(Op::DeleteEntity(from.to_owned()));

        let mut undo = vec![Op::PutEntity(target), Op::PutEntity(merged)];
        undo.extend(remove_made);
        undo.extend(restore_relations);
        let mut events: Vec<Change> = wrote
            .iter()
            .filter_map(|op| change_of(op, ChangeKind::Updated))
            .collect();
        let mut ops = wrote.clone();
        ops.push(Op::PutMerge(Box::new(Merge {
            from: from.to_owned(),
            into: into.to_owned(),
            at: now,
            wrote,
            undo,
        })));
        events.dedup_by(|a, b| a.id == b.id && a.record == b.record);
        self.commit(ops, events)?;
        Ok(joined)
    }

    /// Undoes the merge that took `from` away; returns the two entities as they are again
    /// (the one merged into, then `from`). Refused, writing nothing, when a record the merge
    /// wrote has changed since (a later merge, edit or import): undo those first.
    pub fn unmerge(&self, from: &str) -> Result<Vec<Entity>> {
        let _writer = self.begin_write()?;
        let merge = self
            .store
            .merge(from)?
            .ok_or_else(|| ServiceError::not_found("merged entity", from, "from"))?;
        for op in &merge.wrote {
            let (what, id, as_left) = match op {
                Op::PutEntity(e) => (
                    "entity",
                    &e.id,
                    self.store.entity(&e.id)?.as_ref() == Some(e),
                ),
                Op::DeleteEntity(id) => ("entity", id, self.id_holder(id).is_none()),
                Op::PutRelation { record, .. } => (
                    "relation",
                    &record.relation.id,
                    self.store.relation(&record.relation.id)?.as_ref() == Some(record),
                ),
                Op::DeleteRelation(id) => ("relation", id, self.id_holder(id).is_none()),
                _ => continue,
            };
            if !as_left {
                let later = match self.store.merge(&merge.into)? {
                    Some(later) => format!(
                        " (`{}` was merged into `{}` since: unmerge that first)",
                        merge.into, later.into
                    ),
                    None => String::new(),
                };
                return Err(ServiceError::Conflict {
                    message: format!(
                        "{what} `{id}` has changed since `{from}` was merged into `{}`{later}; unmerging would lose that change, so nothing was done",
                        merge.into
                    ),
                });
            }
        }
        let mut events: Vec<Change> = merge
            .undo
            .iter()
            .filter_map(|op| change_of(op, ChangeKind::Updated))
            .collect();
        if let Some(first) = events.iter_mut().find(|e| e.id == from) {
            first.kind = ChangeKind::Created;
        }
        let restored: Vec<Entity> = merge
            .undo
            .iter()
            .filter_map(|op| match op {
                Op::PutEntity(e) => Some(e.clone()),
                _ => None,
            })
            .collect();
        let mut ops = merge.undo;
        ops.push(Op::DeleteMerge(from.to_owned()));
        self.commit(ops, events)?;
        Ok(restored)
    }

    /// The entity an id now is: its own, or, for an id merged away, the entity it was merged
    /// into (through later merges too).
    pub fn entity_or_merged(&self, id: &str) -> Result<Option<Entity>> {
        if let Some(entity) = self.entity(id)? {
            return Ok(Some(entity));
        }
        match self.merged_into(id)? {
            Some(into) => self.entity(&into),
            None => Ok(None),
        }
    }

    /// Where an id merged away leads now: the last entity of its chain of merges; `None` for
    /// an id never merged away.
    pub fn merged_into(&self, id: &str) -> Result<Option<String>> {
        let store = self.committed();
        let mut at = id.to_owned();
        for _ in 0..MAX_CHAIN {
            match store.merge(&at)? {
                Some(merge) => at = merge.into,
                None => return Ok((at != id).then_some(at)),
            }
        }
        Err(ServiceError::Conflict {
            message: format!("the merges of `{id}` go round in a loop: the store is damaged"),
        })
    }

    /// The ids merged into `id` directly, in id order.
    pub fn merged_from(&self, id: &str) -> Result<Vec<String>> {
        let mut from = Vec::new();
        for merge in self.gated(self.store.merges()) {
            let merge = merge?;
            if merge.into == id {
                from.push(merge.from);
            }
        }
        Ok(from)
    }
}
