//! Loading a big file into an empty store, without holding it in memory.
//!
//! Two passes over the input: the first checks every record and every reference (keeping only
//! ids and kinds), the second writes in large unsynchronised batches and builds the index as it
//! goes. A bad record anywhere is found in the first pass, so nothing is written; a crash in the
//! second leaves a marker that makes the store refuse to open until it is loaded again.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use crate::graph::GraphIndex;
use crate::model::{
    check_slug, validate_claim, validate_relation, Claim, EntityKind, ModelError, Relation,
    RelationDraft, Timestamp,
};
use crate::store::{claim_id, Op, WriteBatch};

use super::records::{derived_relation_id, entity_record, relation_record, source_record};
use super::{all_deny, ImportItem, ImportSummary, Result, Service, ServiceError};

/// Which pass a bulk load is in, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkPhase {
    Checking,
    Writing,
}

/// Records written per batch: large enough to amortise sled's per-batch work, small enough to
/// keep memory flat.
const BATCH_RECORDS: usize = 50_000;

fn at(line: usize, error: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRecord {
        line: Some(line),
        message: error.to_string(),
    }
}

/// The relation and its claims (duplicates within the record dropped), checked on their own.
fn relation_with_claims(
    draft: RelationDraft,
    now: Timestamp,
) -> std::result::Result<(Relation, Vec<Claim>), ModelError> {
    let id = draft
        .id
        .clone()
        .unwrap_or_else(|| derived_relation_id(&draft));
    check_slug("id", &id)?;
    if draft.claims.is_empty() {
        return Err(ModelError::invalid(
            "claims",
            "a relation needs at least one claim citing a source",
        ));
    }
    let relation = relation_record(id, &draft, now)?;
    let mut claims: Vec<Claim> = Vec::with_capacity(draft.claims.len());
    for claim in draft.claims {
        let duplicate = claims.iter().any(|c| {
            (&c.source, c.stance, &c.claimant, &c.quote)
                == (&claim.source, claim.stance, &claim.claimant, &claim.quote)
        });
        if duplicate {
            continue;
        }
        let claim = Claim {
            id: claim_id(&relation.id, claims.len() as u32 + 1),
            relation: relation.id.clone(),
            source: claim.source,
            stance: claim.stance,
            claimant: claim.claimant,
            quote: claim.quote,
            recorded_at: now,
        };
        validate_claim(&claim)?;
        claims.push(claim);
    }
    Ok((relation, claims))
}

/// What the first pass learns: every id the file defines, and the kinds of its entities.
#[derive(Default)]
struct Definitions {
    sources: HashSet<Box<str>>,
    entities: HashMap<Box<str>, EntityKind>,
    relations: HashSet<Box<str>>,
}

impl Definitions {
    fn define(&mut self, line: usize, id: &str, what: &'static str) -> Result<()> {
        let taken = self.sources.contains(id)
            || self.entities.contains_key(id)
            || self.relations.contains(id);
        if taken {
            return Err(at(line, format!("the id `{id}` is defined twice ({what})")));
        }
        Ok(())
    }

    /// Checks a relation's references; `Ok(false)` when one may still be defined further on.
    fn check_references(
        &self,
        line: usize,
        relation: &Relation,
        claims: &[Claim],
        final_check: bool,
    ) -> Result<bool> {
        let kind = |end: &str, field: &'static str| -> Result<Option<EntityKind>> {
            match self.entities.get(end) {
                Some(kind) => Ok(Some(*kind)),
                None if final_check => Err(at(line, ServiceError::not_found("entity", end, field))),
                None => Ok(None),
            }
        };
        let (Some(from), Some(to)) = (kind(&relation.from, "from")?, kind(&relation.to, "to")?)
        else {
            return Ok(false);
        };
        validate_relation(relation, from, to).map_err(|e| at(line, e))?;
        for (i, claim) in claims.iter().enumerate() {
            if !self.sources.contains(claim.source.as_str()) {
                if final_check {
                    return Err(at(
                        line,
                        format!(
                            "invalid claims[{i}].source: no source has the id `{}`",
                            claim.source
                        ),
                    ));
                }
                return Ok(false);
            }
            if let Some(claimant) = &claim.claimant {
                if !self.entities.contains_key(claimant.as_str()) {
                    if final_check {
                        return Err(at(
                            line,
                            format!(
                                "invalid claims[{i}].claimant: no entity has the id `{claimant}`"
                            ),
                        ));
                    }
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

impl Service {
    /// Loads everything `open` yields into an empty store: checked whole, then written. `open`
    /// is called once per pass and must yield the same records each time.
    pub fn bulk_load<I>(
        &self,
        mut open: impl FnMut() -> Result<I>,
        progress: &dyn Fn(BulkPhase, u64),
    ) -> Result<ImportSummary>
    where
        I: Iterator<Item = Result<(usize, ImportItem)>>,
    {
        let started = Instant::now();
        let _writer = self.lock_writer();
        if !self.store.is_empty() {
            return Err(ServiceError::BadQuery(
                "a bulk load needs an empty store; use import instead".into(),
            ));
        }
        let now = Timestamp::now();

        // Pass 1: every record on its own, every id once, every reference to something defined.
        let mut defined = Definitions::default();
        let mut forward: Vec<(usize, Relation, Vec<Claim>)> = Vec::new();
        let mut seen = 0u64;
        for item in open()? {
            let (line, item) = item?;
            match item {
                ImportItem::Source(draft) => {
                    let source = source_record(draft, now).map_err(|e| at(line, e))?;
                    defined.define(line, &source.id, "source")?;
                    defined.sources.insert(source.id.into_boxed_str());
                }
                ImportItem::Entity(draft) => {
                    let entity = entity_record(draft, now).map_err(|e| at(line, e))?;
                    defined.define(line, &entity.id, "entity")?;
                    defined
                        .entities
                        .insert(entity.id.into_boxed_str(), entity.kind);
                }
                ImportItem::Relation(draft) => {
                    let (relation, claims) =
                        relation_with_claims(draft, now).map_err(|e| at(line, e))?;
                    defined.define(line, &relation.id, "relation")?;
                    defined.relations.insert(relation.id.as_str().into());
                    if !defined.check_references(line, &relation, &claims, false)? {
                        forward.push((line, relation, claims));
                    }
                }
            }
            seen += 1;
            if seen.is_multiple_of(100_000) {
                progress(BulkPhase::Checking, seen);
            }
        }
        for (line, relation, claims) in &forward {
            defined.check_references(*line, relation, claims, true)?;
        }
        drop(forward);
        progress(BulkPhase::Checking, seen);
        let mut summary = ImportSummary {
            sources_created: defined.sources.len(),
            entities_created: defined.entities.len(),
            relations_created: defined.relations.len(),
            ..ImportSummary::default()
        };
        drop(defined);

        // Pass 2: write, and index as we go. Every record was checked; only I/O can fail now.
        // Parsing and sled's inserts each take a core: a second thread writes the batches the
        // first one builds, through a short queue that keeps memory flat.
        let checked_in = started.elapsed();
        self.store.mark_bulk_load(true)?;
        let mut index =
            GraphIndex::with_capacity(summary.entities_created, summary.relations_created);
        let mut pending_relations: Vec<(Relation, bool)> = Vec::new();
        let store = &self.store;
        let (batches, queue) = std::sync::mpsc::sync_channel::<WriteBatch>(2);
        std::thread::scope(|scope| -> Result<()> {
            let writer = scope.spawn(move || -> Result<()> {
                for batch in queue {
                    store.load_unchecked(&batch)?;
                }
                Ok(())
            });
            let built = (|| -> Result<()> {
                let mut batch = WriteBatch::default();
                let mut written = 0u64;
                for item in open()? {
                    let (line, item) = item?;
                    match item {
                        ImportItem::Source(draft) => batch.push(Op::PutSource(
                            source_record(draft, now).map_err(|e| at(line, e))?,
                        )),
                        ImportItem::Entity(draft) => {
                            let entity = entity_record(draft, now).map_err(|e| at(line, e))?;
                            index.upsert_entity(&entity);
                            batch.push(Op::PutEntity(entity));
                        }
                        ImportItem::Relation(draft) => {
                            let (relation, claims) =
                                relation_with_claims(draft, now).map_err(|e| at(line, e))?;
                            let denied = all_deny(&claims);
                            summary.claims_added += claims.len();
                            // An end defined further on is indexed once every entity is in.
                            if !index.upsert_relation(&relation, denied) {
                                pending_relations.push((relation.clone(), denied));
                            }
                            batch.push(Op::PutRelation(relation));
                            batch.ops.extend(claims.into_iter().map(Op::PutClaim));
                        }
                    }
                    written += 1;
                    if batch.ops.len() >= BATCH_RECORDS {
                        // A closed queue means a writer failed; its error is reported below.
                        if batches.send(std::mem::take(&mut batch)).is_err() {
                            break;
                        }
                        progress(BulkPhase::Writing, written);
                    }
                }
                let _ = batches.send(batch);
                progress(BulkPhase::Writing, written);
                Ok(())
            })();
            drop(batches);
            let wrote = writer.join().unwrap_or(Err(ServiceError::Unavailable));
            built.and(wrote)
        })?;
        summary.checked_in = checked_in;
        for (relation, denied) in &pending_relations {
            index.upsert_relation(relation, *denied);
        }
        self.store.mark_bulk_load(false)?;
        index.shrink_to_fit();
        *self.write_index() = index;
        self.save_snapshot()?;
        summary.elapsed = started.elapsed();
        Ok(summary)
    }
}
