//! Loading many records at once: the seed, and files through `tiegraph import`.
//!
//! The whole input is checked before anything is written, so a bad record anywhere means
//! nothing lands. Importing the same records twice changes nothing: records are matched by id
//! (derived the same way each time when absent) and claims by their content.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::model::{
    check_slug, validate_claim, validate_relation, Claim, ClaimDraft, Entity, EntityDraft,
    EntityKind, ModelError, Relation, RelationDraft, SourceDraft, Stance, Timestamp,
};
use crate::store::{claim_id, claim_sequence, Op, WriteBatch};

use super::records::{derived_relation_id, entity_record, relation_record, source_record};
use super::{all_deny, Result, Service, ServiceError};

/// One record of an import, as read from a file.
#[derive(Debug, Clone)]
pub enum ImportItem {
    Entity(EntityDraft),
    Source(SourceDraft),
    Relation(RelationDraft),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub entities_created: usize,
    pub entities_updated: usize,
    pub sources_created: usize,
    pub sources_updated: usize,
    pub relations_created: usize,
    pub relations_updated: usize,
    pub claims_added: usize,
    /// Records that were already there exactly as given.
    pub unchanged: usize,
    /// Time spent checking the input before writing (bulk loads check in a pass of their own).
    pub checked_in: Duration,
    pub elapsed: Duration,
}

/// Above this many changes, an import is written in batches per tree instead of one
/// transaction: sled's transactions hold every change in memory, twice.
const TRANSACTION_LIMIT: usize = 50_000;

type Line = usize;

fn at(line: Line, error: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRecord {
        line: Some(line),
        message: error.to_string(),
    }
}

/// The claim fields that make two claims the same statement.
type ClaimKey = (String, Stance, Option<String>, String);

fn claim_key(source: &str, stance: Stance, claimant: &Option<String>, quote: &str) -> ClaimKey {
    (
        source.to_owned(),
        stance,
        claimant.clone(),
        quote.to_owned(),
    )
}

impl Service {
    /// Checks every item, then writes them all, or nothing. `progress` is told how many items
    /// have been checked, then written, as the work goes.
    pub fn import(
        &self,
        items: Vec<(Line, ImportItem)>,
        progress: &dyn Fn(usize),
    ) -> Result<ImportSummary> {
        let started = Instant::now();
        let _writer = self.lock_writer();
        let now = Timestamp::now();
        let mut summary = ImportSummary::default();
        let mut batch = WriteBatch::default();
        // What the file defines, so later records may refer to earlier ones.
        let mut new_entities: HashMap<String, (Line, EntityKind)> = HashMap::new();
        let mut new_sources: HashMap<String, Line> = HashMap::new();
        let mut new_relations: HashMap<String, Line> = HashMap::new();
        let mut index_entities: Vec<Entity> = Vec::new();
        let mut index_relations: Vec<(Relation, bool)> = Vec::new();
        let mut touched_denied: Vec<String> = Vec::new();

        // Sources and entities first, whatever the order of the file, so relations may cite
        // them from anywhere in it.
        let (definitions, relations): (Vec<_>, Vec<_>) = items
            .into_iter()
            .partition(|(_, item)| !matches!(item, ImportItem::Relation(_)));
        let mut checked = 0;
        for (line, item) in definitions {
            match item {
                ImportItem::Source(draft) => {
                    let mut source = source_record(draft, now).map_err(|e| at(line, e))?;
                    let id = source.id.clone();
                    if let Some(first) = new_sources.insert(id.clone(), line) {
                        return Err(at(
                            line,
                            format!("duplicate source id `{id}` (first on line {first})"),
                        ));
                    }
                    self.check_id_free_for(&id, "source")
                        .map_err(|e| at(line, e))?;
                    let existing = self.store.source(&id)?;
                    if let Some(existing) = &existing {
                        source.created_at = existing.created_at;
                    }
                    match existing {
                        Some(existing) if existing == source => summary.unchanged += 1,
                        Some(_) => {
                            summary.sources_updated += 1;
                            batch.push(Op::PutSource(source));
                        }
                        None => {
                            summary.sources_created += 1;
                            batch.push(Op::PutSource(source));
                        }
                    }
                }
                ImportItem::Entity(draft) => {
                    let mut entity = entity_record(draft, now).map_err(|e| at(line, e))?;
                    let id = entity.id.clone();
                    if let Some((first, _)) = new_entities.insert(id.clone(), (line, entity.kind)) {
                        return Err(at(
                            line,
                            format!("duplicate entity id `{id}` (first on line {first})"),
                        ));
                    }
                    self.check_id_free_for(&id, "entity")
                        .map_err(|e| at(line, e))?;
                    let existing = self.store.entity(&id)?;
                    match existing {
                        Some(existing) => {
                            entity.created_at = existing.created_at;
                            entity.updated_at = existing.updated_at;
                            if existing == entity {
                                summary.unchanged += 1;
                                continue;
                            }
                            if existing.kind != entity.kind
                                && !self.read_index().relations_of(&id).is_empty()
                            {
                                return Err(at(
                                    line,
                                    format!("entity `{id}` has relations, so import will not change its kind; use updateEntity"),
                                ));
                            }
                            entity.updated_at = now;
                            summary.entities_updated += 1;
                        }
                        None => summary.entities_created += 1,
                    }
                    index_entities.push(entity.clone());
                    batch.push(Op::PutEntity(entity));
                }
                // Partitioned out above.
                ImportItem::Relation(_) => continue,
            }
            checked += 1;
            if checked % 10_000 == 0 {
                progress(checked);
            }
        }

        for (line, item) in relations {
            let ImportItem::Relation(draft) = item else {
                continue;
            };
            self.import_relation(
                line,
                draft,
                now,
                &new_entities,
                &new_sources,
                &mut new_relations,
                &mut batch,
                &mut summary,
                &mut index_relations,
                &mut touched_denied,
            )?;
            checked += 1;
            if checked % 10_000 == 0 {
                progress(checked);
            }
        }
        progress(checked);

        if batch.ops.len() <= TRANSACTION_LIMIT {
            self.store.commit(&batch)?;
        } else {
            for chunk in batch.ops.chunks(TRANSACTION_LIMIT) {
                self.store.load_unchecked(&WriteBatch {
                    ops: chunk.to_vec(),
                })?;
            }
            self.store.flush()?;
        }
        {
            let mut index = self.write_index();
            for entity in &index_entities {
                index.upsert_entity(entity);
            }
            for (relation, denied) in &index_relations {
                index.upsert_relation(relation, *denied);
            }
        }
        for relation in touched_denied {
            let claims = self.store.claims_of(&relation)?;
            self.write_index().set_denied(&relation, all_deny(&claims));
        }
        summary.elapsed = started.elapsed();
        Ok(summary)
    }

    /// An id may be reused by a record of the same type (that is an update), never by another type.
    fn check_id_free_for(&self, id: &str, what: &'static str) -> Result<()> {
        match self.id_holder(id)? {
            Some(holder) if holder != what => Err(ServiceError::AlreadyExists {
                what: holder,
                id: id.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn import_relation(
        &self,
        line: Line,
        draft: RelationDraft,
        now: Timestamp,
        new_entities: &HashMap<String, (Line, EntityKind)>,
        new_sources: &HashMap<String, Line>,
        new_relations: &mut HashMap<String, Line>,
        batch: &mut WriteBatch,
        summary: &mut ImportSummary,
        index_relations: &mut Vec<(Relation, bool)>,
        touched_denied: &mut Vec<String>,
    ) -> Result<()> {
        let id = draft
            .id
            .clone()
            .unwrap_or_else(|| derived_relation_id(&draft));
        check_slug("id", &id).map_err(|e| at(line, e))?;
        if let Some(first) = new_relations.insert(id.clone(), line) {
            return Err(at(
                line,
                format!("duplicate relation id `{id}` (first on line {first})"),
            ));
        }
        self.check_id_free_for(&id, "relation")
            .map_err(|e| at(line, e))?;
        if draft.claims.is_empty() {
            return Err(at(
                line,
                ModelError::invalid(
                    "claims",
                    "a relation needs at least one claim citing a source",
                ),
            ));
        }
        let kind_of = |end: &str, field: &'static str| -> Result<EntityKind> {
            new_entities
                .get(end)
                .map(|(_, kind)| *kind)
                .or_else(|| self.read_index().entity_kind(end))
                .ok_or_else(|| at(line, ServiceError::not_found("entity", end, field)))
        };
        let from_kind = kind_of(&draft.from, "from")?;
        let to_kind = kind_of(&draft.to, "to")?;
        let existing = self.store.relation(&id)?;
        let mut relation = relation_record(id.clone(), &draft, now).map_err(|e| at(line, e))?;
        validate_relation(&relation, from_kind, to_kind).map_err(|e| at(line, e))?;
        let (mut known, mut next): (HashSet<ClaimKey>, u32) = (HashSet::new(), 1);
        if let Some(existing) = &existing {
            if (existing.kind, &existing.from, &existing.to)
                != (relation.kind, &relation.from, &relation.to)
            {
                return Err(at(
                    line,
                    format!(
                        "relation `{id}` exists with another kind or other ends; delete it first"
                    ),
                ));
            }
            for claim in self.store.claims_of(&id)? {
                next = next.max(claim_sequence(&claim.id) + 1);
                known.insert(claim_key(
                    &claim.source,
                    claim.stance,
                    &claim.claimant,
                    &claim.quote,
                ));
            }
            relation.created_at = existing.created_at;
            relation.updated_at = existing.updated_at;
        }
        let mut claims: Vec<Claim> = Vec::new();
        for (i, draft) in draft.claims.into_iter().enumerate() {
            let ClaimDraft {
                source,
                stance,
                claimant,
                quote,
            } = draft;
            let field = |name: &str| format!("claims[{i}].{name}");
            if !new_sources.contains_key(&source) && self.store.source(&source)?.is_none() {
                return Err(at(
                    line,
                    format!(
                        "invalid {}: no source has the id `{source}`",
                        field("source")
                    ),
                ));
            }
            if let Some(claimant) = &claimant {
                if !new_entities.contains_key(claimant)
                    && self.read_index().node(claimant).is_none()
                {
                    return Err(at(
                        line,
                        format!(
                            "invalid {}: no entity has the id `{claimant}`",
                            field("claimant")
                        ),
                    ));
                }
            }
            if !known.insert(claim_key(&source, stance, &claimant, &quote)) {
                continue;
            }
            let claim = Claim {
                id: claim_id(&id, next),
                relation: id.clone(),
                source,
                stance,
                claimant,
                quote,
                recorded_at: now,
            };
            validate_claim(&claim)
                .map_err(|e| at(line, format!("invalid {}: {}", field(e.field()), e)))?;
            next += 1;
            claims.push(claim);
        }
        match existing {
            Some(existing) if existing == relation && claims.is_empty() => {
                summary.unchanged += 1;
                return Ok(());
            }
            Some(existing) => {
                if existing != relation {
                    relation.updated_at = now;
                    summary.relations_updated += 1;
                    batch.push(Op::PutRelation(relation.clone()));
                    index_relations.push((relation, false));
                }
                touched_denied.push(id);
            }
            None => {
                summary.relations_created += 1;
                index_relations.push((relation.clone(), all_deny(&claims)));
                batch.push(Op::PutRelation(relation));
            }
        }
        summary.claims_added += claims.len();
        batch.ops.extend(claims.into_iter().map(Op::PutClaim));
        Ok(())
    }
}
