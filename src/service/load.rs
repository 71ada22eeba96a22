//! Loading many records at once, into any store, all or nothing: the seed, `tiegraph import`,
//! `POST /admin/import` and the FtM, LittleSis, USAspending and CSV readers all come through
//! [`Service::import_stream`].
//!
//! Three passes over the input, so that memory holds ids, never the records themselves:
//! 1. **check**: every record on its own (built by `records`, as mutations build theirs), every
//!    id once in the file and unique across types in the graph, every reference to something
//!    the file or the graph defines. It also resolves entity records by their identifiers
//!    (`resolve`): which are entities already held, so that every pass ties and writes them
//!    as those. A bad record anywhere stops the load here: nothing written.
//! 2. **write**: each record merged with what the store holds (created times kept, claims
//!    de-duplicated by the one rule in `records`, claim numbers continued), written in chunks
//!    through a store [`Load`](crate::store::Load), whose undo journal makes the whole load
//!    one commit, rolled back if it is interrupted at any point.
//! 3. **announce**: once the load is durable, the records that changed are read back and sent,
//!    in parts, as the commit's change record: applied to the index (sources and entities
//!    first, then relations) and broadcast to subscribers.
//!
//! Importing the same records twice changes nothing: records are matched by id (derived the
//! same way each time when absent) or by identifier, and claims by their content.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::graph::{GraphIndex, Holder};
use crate::model::{
    check_slug, validate_entity, validate_relation, EntityDraft, EntityKind, ModelError,
    RelationDraft, RelationWithClaims, SourceDraft, Timestamp,
};
use crate::store::{Load, Op};

use super::changes::apply_ops;
use super::records::{
    claim_record, derived_relation_id, entity_record, merge_claims, relation_record, source_record,
};
use super::resolve::{self, Resolution};
use super::{Change, ChangeKind, ChangeRecord, RecordType, Result, Service, ServiceError};

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
    /// Entity records that became another entity, by an identifier it holds (see `resolve`).
    pub resolved: usize,
    /// The commit sequence the import produced (unchanged when it changed nothing).
    pub sequence: u64,
    /// Time spent checking the input before writing.
    pub checked_in: Duration,
    pub elapsed: Duration,
}

/// Which pass an import is in, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadPhase {
    Checking,
    Writing,
    Indexing,
}

/// Ops per chunk written and per part of the change record: large enough to amortise sled's
/// per-batch work and a flush per chunk, small enough to keep memory flat.
const CHUNK: usize = 20_000;

/// A record's number in the input, as the caller counts it (a line, or a position).
type Line = usize;

fn at(line: Line, error: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRecord {
        file: None,
        line: Some(line),
        message: error.to_string(),
    }
}

/// How pass 3 announces a load: its commit, whether the store was empty before (then records
/// are rebuilt from the input instead of read back), and whether the index still needs them.
#[derive(Clone, Copy)]
struct Announce {
    sequence: u64,
    into_empty: bool,
    now: Timestamp,
}

/// What pass 2 did to each record, by position, for pass 3.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Outcome {
    Unchanged,
    Created,
    Updated,
}

/// An id the file defines: as what, where, and (for entities) of which kind.
struct Defined {
    holder: Holder,
    line: u32,
    kind: Option<EntityKind>,
}

/// What pass 1 learns of the file's ids.
#[derive(Default)]
struct Definitions {
    ids: HashMap<Box<str>, Defined>,
}

impl Definitions {
    fn define(
        &mut self,
        index: &GraphIndex,
        line: Line,
        id: &str,
        holder: Holder,
        kind: Option<EntityKind>,
    ) -> Result<()> {
        if let Some(first) = self.ids.get(id) {
            return Err(at(
                line,
                format!(
                    "the id `{id}` is given twice (first on line {}, as {})",
                    first.line,
                    first.holder.name()
                ),
            ));
        }
        match index.holder(id) {
            Some(other) if other != holder => {
                return Err(at(
                    line,
                    ServiceError::AlreadyExists {
                        what: other.name(),
                        id: id.to_owned(),
                    },
                ))
            }
            _ => {}
        }
        self.ids.insert(
            id.into(),
            Defined {
                holder,
                line: u32::try_from(line).unwrap_or(u32::MAX),
                kind,
            },
        );
        Ok(())
    }

    fn forget(&mut self, id: &str) {
        self.ids.remove(id);
    }

    fn entity_kind(&self, index: &GraphIndex, id: &str) -> Option<EntityKind> {
        match self.ids.get(id) {
            Some(defined) => defined.kind,
            None => index.entity_kind(id),
        }
    }

    fn is(&self, index: &GraphIndex, id: &str, holder: Holder) -> bool {
        match self.ids.get(id) {
            Some(defined) => defined.holder == holder,
            None => index.holder(id) == Some(holder),
        }
    }

    /// Checks a relation's references; `Ok(false)` when one may still be defined further on.
    fn check_references(
        &self,
        index: &GraphIndex,
        line: Line,
        draft: &RelationDraft,
        relation: &crate::model::Relation,
        final_check: bool,
    ) -> Result<bool> {
        let missing = |what: &'static str, id: &str, field: String| -> Result<bool> {
            if final_check {
                Err(at(
                    line,
                    format!("invalid {field}: no {what} has the id `{id}`"),
                ))
            } else {
                Ok(false)
            }
        };
        let (Some(from), Some(to)) = (
            self.entity_kind(index, &draft.from),
            self.entity_kind(index, &draft.to),
        ) else {
            let (end, field) = match self.entity_kind(index, &draft.from) {
                None => (&draft.from, "from"),
                Some(_) => (&draft.to, "to"),
            };
            return missing("entity", end, field.to_owned());
        };
        validate_relation(relation, from, to).map_err(|e| at(line, e))?;
        for (i, claim) in draft.claims.iter().enumerate() {
            if !self.is(index, &claim.source, Holder::Source) {
                return missing("source", &claim.source, format!("claims[{i}].source"));
            }
            if let Some(claimant) = &claim.claimant {
                if !self.is(index, claimant, Holder::Entity) {
                    return missing("entity", claimant, format!("claims[{i}].claimant"));
                }
            }
        }
        Ok(true)
    }
}

/// What merging an entity record needs of its resolution: the import's, the records of
/// entities several records become (joined so far), and whether this one became another.
struct Joins<'a> {
    resolution: &'a Resolution,
    joined: &'a mut Joined,
    renamed: bool,
}

/// The records several input records become, as joined so far in pass 2.
#[derive(Default)]
struct Joined {
    entities: HashMap<Box<str>, crate::model::Entity>,
    ties: HashMap<Box<str>, (RelationWithClaims, u32)>,
}

/// Defines a relation's id in pass 1. Two ties of the file that resolution made one (the
/// same kind between the same entities, named after them) are one relation, their claims
/// joined in pass 2; any other id given twice is an error.
fn define_tie(
    defined: &mut Definitions,
    resolution: &mut Resolution,
    index: &GraphIndex,
    line: Line,
    draft: &RelationDraft,
    id: &str,
    renamed: bool,
) -> Result<()> {
    if renamed {
        resolution.renamed_tie(id);
    }
    let joinable = draft.id.is_none() && resolution.is_renamed_tie(id);
    let defined_here = defined
        .ids
        .get(id)
        .is_some_and(|d| d.holder == Holder::Relation);
    if joinable && defined_here {
        resolution.share_tie(id);
        return Ok(());
    }
    defined.define(index, line, id, Holder::Relation, None)
}

/// A relation draft's id: its own, or the one derived from its ends and kind.
fn relation_id(draft: &RelationDraft) -> String {
    draft
        .id
        .clone()
        .unwrap_or_else(|| derived_relation_id(draft))
}

impl Service {
    /// Imports a small batch held in memory (the FtM and CSV readers, the seed): the same
    /// passes as [`Service::import_stream`], over the batch.
    pub fn import(
        &self,
        items: Vec<(Line, ImportItem)>,
        progress: &dyn Fn(LoadPhase, u64),
    ) -> Result<ImportSummary> {
        self.import_stream(|| Ok(items.iter().cloned().map(Ok)), progress)
    }

    /// Imports everything `open` yields, into an empty store or not: checked whole, then
    /// written as one commit, or nothing. `open` is called once per pass and must yield the
    /// same records each time.
    pub fn import_stream<I>(
        &self,
        mut open: impl FnMut() -> Result<I>,
        progress: &dyn Fn(LoadPhase, u64),
    ) -> Result<ImportSummary>
    where
        I: Iterator<Item = Result<(Line, ImportItem)>>,
    {
        let started = Instant::now();
        let _writer = self.begin_write()?;
        let now = Timestamp::now();
        let (counts, resolution) = self.check_input(&mut open, now, progress)?;
        let checked_in = started.elapsed();

        // Declared before the load, so that a load dropped unfinished is rolled back before
        // readers are let in again.
        let readers = self.hold_readers();
        let mut load = self.store.begin_load()?;
        let into_empty = load.was_empty();
        let (outcomes, mut summary, fresh) =
            self.write_input(&mut open, &mut load, now, progress, counts, &resolution)?;
        summary.checked_in = checked_in;
        summary.resolved = resolution.resolved();
        tracing::debug!(checked = ?checked_in, written = ?started.elapsed(), "import passes");
        if outcomes.iter().all(|o| *o == Outcome::Unchanged) {
            // Nothing to commit: the load is dropped, which rolls back nothing.
            drop(load);
            summary.sequence = self.store.sequence()?;
            summary.elapsed = started.elapsed();
            return Ok(summary);
        }
        let how = Announce {
            sequence: self.store.sequence()? + 1,
            into_empty,
            now,
        };
        // A writer puts the load into the change log before committing it: the log's
        // transaction takes every part or none, and a crash before the store's commit leaves
        // the log ahead, applied from it at the next start.
        if let Some(log) = self.log() {
            let sequence = how.sequence;
            let mut batch = log
                .begin(sequence)
                .map_err(|e| self.append_failed(sequence, e))?;
            let mut into_log = |record: ChangeRecord| {
                batch
                    .push(&record)
                    .map_err(|e| self.append_failed(sequence, e))
            };
            self.announce_input(
                &mut open,
                &outcomes,
                &how,
                &resolution,
                &|_, _| {},
                &mut into_log,
            )?;
            batch
                .commit()
                .map_err(|e| self.append_failed(sequence, e))?;
        }
        let sequence = match load.finish() {
            Ok(sequence) => sequence,
            Err(error) => {
                let error = ServiceError::from(error);
                if self.log().is_some() {
                    self.store_behind_log(how.sequence, &error);
                }
                return Err(error);
            }
        };
        drop(readers);
        summary.sequence = sequence;
        tracing::debug!(finished = ?started.elapsed(), "import committed");

        let indexed = fresh.is_some();
        if let Some(fresh) = fresh {
            *self.write_index() = fresh;
        }
        // The change record is read back only when someone needs it: to feed the index (a
        // load into a full store), or a subscriber.
        if !indexed || self.changes.receiver_count() > 0 {
            let mut feed = |record: ChangeRecord| {
                self.publish(record, !indexed);
                Ok(())
            };
            self.announce_input(&mut open, &outcomes, &how, &resolution, progress, &mut feed)?;
        } else {
            self.replication.applied(sequence);
        }
        tracing::debug!(indexed = ?started.elapsed(), "import indexed");
        if into_empty || outcomes.len() >= CHUNK {
            // A big load is worth saving: the next open need not rebuild the index.
            self.save_snapshot()?;
        }
        self.store.seal()?;
        summary.elapsed = started.elapsed();
        Ok(summary)
    }

    /// Pass 1. Returns how many entities and relations the file defines, and what its entity
    /// records resolve to.
    fn check_input<I>(
        &self,
        open: &mut impl FnMut() -> Result<I>,
        now: Timestamp,
        progress: &dyn Fn(LoadPhase, u64),
    ) -> Result<((usize, usize), Resolution)>
    where
        I: Iterator<Item = Result<(Line, ImportItem)>>,
    {
        let index = self.read_index();
        let mut defined = Definitions::default();
        let mut resolution = Resolution::default();
        let mut forward: Vec<(Line, RelationDraft, crate::model::Relation)> = Vec::new();
        let (mut entities, mut relations) = (0, 0);
        let mut seen = 0u64;
        for item in open()? {
            let (line, item) = item?;
            match item {
                ImportItem::Source(draft) => {
                    let source = source_record(draft, now).map_err(|e| at(line, e))?;
                    defined.define(&index, line, &source.id, Holder::Source, None)?;
                }
                ImportItem::Entity(draft) => {
                    let resolved = resolution.learn(&index, &draft).map_err(|e| at(line, e))?;
                    let entity = entity_record(draft, now).map_err(|e| at(line, e))?;
                    let id = entity.id.as_str();
                    // Another entity's record keeps its id out of the file's other records;
                    // ties that name it are checked against the entity it is.
                    let kind = (resolved == id).then_some(entity.kind);
                    if let (Some(kind), Some(existing)) = (kind, index.entity_kind(id)) {
                        if existing != kind && !index.relations_of(id).is_empty() {
                            return Err(at(
                                line,
                                format!("entity `{id}` has relations, so an import will not change its kind; use updateEntity"),
                            ));
                        }
                    }
                    defined.define(&index, line, id, Holder::Entity, kind)?;
                    entities += 1;
                }
                ImportItem::Relation(draft) => {
                    let renamed = resolution.touches(&draft);
                    let draft = resolution.tie(draft);
                    let id = relation_id(&draft);
                    check_slug("id", &id).map_err(|e| at(line, e))?;
                    if draft.claims.is_empty() {
                        return Err(at(
                            line,
                            ModelError::invalid(
                                "claims",
                                "a relation needs at least one claim citing a source",
                            ),
                        ));
                    }
                    let relation = relation_record(id, &draft, now).map_err(|e| at(line, e))?;
                    for (i, claim) in draft.claims.iter().enumerate() {
                        claim_record(&relation.id, 1, claim.clone(), now, Some(i))
                            .map_err(|e| at(line, e))?;
                    }
                    if let Some(edge) = index.edge(&relation.id) {
                        let same = index.edge_data(edge).kind == relation.kind
                            && index.ends(edge).is_some_and(|(from, to)| {
                                *index.node_data(from).id == *relation.from
                                    && *index.node_data(to).id == *relation.to
                            });
                        if !same {
                            return Err(at(
                                line,
                                format!("relation `{}` exists with another kind or other ends; delete it first", relation.id),
                            ));
                        }
                    }
                    define_tie(
                        &mut defined,
                        &mut resolution,
                        &index,
                        line,
                        &draft,
                        &relation.id,
                        renamed,
                    )?;
                    if !defined.check_references(&index, line, &draft, &relation, false)? {
                        forward.push((line, draft, relation));
                    }
                    relations += 1;
                }
            }
            seen += 1;
            if seen.is_multiple_of(100_000) {
                progress(LoadPhase::Checking, seen);
            }
        }
        resolution.finish_learning();
        for (line, draft, relation) in forward {
            // An end named before its record may have resolved to another entity since.
            let draft = resolution.tie(draft);
            let id = relation_id(&draft);
            let relation = if id == relation.id {
                relation
            } else {
                defined.forget(&relation.id);
                define_tie(
                    &mut defined,
                    &mut resolution,
                    &index,
                    line,
                    &draft,
                    &id,
                    true,
                )?;
                relation_record(id, &draft, now).map_err(|e| at(line, e))?
            };
            defined.check_references(&index, line, &draft, &relation, true)?;
        }
        progress(LoadPhase::Checking, seen);
        Ok(((entities, relations), resolution))
    }

    /// Pass 2: every record merged with the store's and written through `load`. Parsing and
    /// merging take one core and sled's inserts another: a second thread writes the chunks
    /// the first builds, through a short queue that keeps memory flat.
    fn write_input<I>(
        &self,
        open: &mut impl FnMut() -> Result<I>,
        load: &mut Load<'_>,
        now: Timestamp,
        progress: &dyn Fn(LoadPhase, u64),
        counts: (usize, usize),
        resolution: &Resolution,
    ) -> Result<(Vec<Outcome>, ImportSummary, Option<GraphIndex>)>
    where
        I: Iterator<Item = Result<(Line, ImportItem)>>,
    {
        let into_empty = load.was_empty();
        let mut summary = ImportSummary::default();
        let mut outcomes: Vec<Outcome> = Vec::new();
        let (chunks, queue) = std::sync::mpsc::sync_channel::<Vec<Op>>(2);
        // Into an empty store, the index is built here, from what is written, instead of by
        // reading everything back afterwards: the records are exactly those written.
        let mut fresh = into_empty.then(|| GraphIndex::with_capacity(counts.0, counts.1));
        // Relations whose ends (or sources) the file defines further on.
        let mut forward: Vec<Op> = Vec::new();
        std::thread::scope(|scope| -> Result<()> {
            let writer = scope.spawn(move || -> Result<()> {
                for chunk in queue {
                    load.write(&chunk)?;
                }
                Ok(())
            });
            let built = (|| -> Result<()> {
                let mut chunk: Vec<Op> = Vec::with_capacity(CHUNK);
                let mut joined = Joined::default();
                for item in open()? {
                    let (line, item) = item?;
                    let (item, renamed) = resolution.apply(item);
                    let joins = Joins {
                        resolution,
                        joined: &mut joined,
                        renamed,
                    };
                    let (outcome, op) =
                        self.merge(line, item, into_empty, now, &mut summary, joins)?;
                    outcomes.push(outcome);
                    let Some(op) = op else { continue };
                    if let Some(index) = fresh.as_mut() {
                        match &op {
                            Op::PutRelation { record, .. }
                                if !index.upsert_relation(&record.relation, &record.claims) =>
                            {
                                forward.push(op.clone())
                            }
                            Op::PutRelation { .. } => {}
                            _ => apply_ops(index, std::slice::from_ref(&op)),
                        }
                    }
                    chunk.push(op);
                    if chunk.len() >= CHUNK {
                        // A closed queue means the writer failed; its error is reported below.
                        if chunks.send(std::mem::take(&mut chunk)).is_err() {
                            break;
                        }
                        progress(LoadPhase::Writing, outcomes.len() as u64);
                    }
                }
                if !chunk.is_empty() {
                    let _ = chunks.send(chunk);
                }
                progress(LoadPhase::Writing, outcomes.len() as u64);
                Ok(())
            })();
            drop(chunks);
            let wrote = writer.join().unwrap_or(Err(ServiceError::Unavailable));
            built.and(wrote)
        })?;
        if let Some(index) = fresh.as_mut() {
            apply_ops(index, &forward);
            index.shrink_to_fit();
        }
        Ok((outcomes, summary, fresh))
    }

    /// One record (resolved) as it will be written, or nothing when the store holds it already.
    fn merge(
        &self,
        line: Line,
        item: ImportItem,
        into_empty: bool,
        now: Timestamp,
        summary: &mut ImportSummary,
        joins: Joins<'_>,
    ) -> Result<(Outcome, Option<Op>)> {
        Ok(match item {
            ImportItem::Source(draft) => {
                let mut source = source_record(draft, now).map_err(|e| at(line, e))?;
                let existing = match into_empty {
                    true => None,
                    false => self.store.source(&source.id)?,
                };
                match existing {
                    Some(existing) => {
                        source.created_at = existing.created_at;
                        if existing == source {
                            summary.unchanged += 1;
                            (Outcome::Unchanged, None)
                        } else {
                            summary.sources_updated += 1;
                            (Outcome::Updated, Some(Op::PutSource(source)))
                        }
                    }
                    None => {
                        summary.sources_created += 1;
                        (Outcome::Created, Some(Op::PutSource(source)))
                    }
                }
            }
            ImportItem::Entity(draft) => {
                let entity = entity_record(draft, now).map_err(|e| at(line, e))?;
                let shared = joins.resolution.is_shared(&entity.id);
                let existing = match joins.joined.entities.get(entity.id.as_str()) {
                    Some(joined) => Some(joined.clone()),
                    None if into_empty => None,
                    None => self.store.entity(&entity.id)?,
                };
                let mut entity = resolve::join(existing.as_ref(), entity, joins.renamed);
                validate_entity(&entity).map_err(|e| at(line, e))?;
                let outcome = match existing {
                    Some(existing) if existing == entity => {
                        summary.unchanged += 1;
                        Outcome::Unchanged
                    }
                    Some(_) => {
                        entity.updated_at = now;
                        summary.entities_updated += 1;
                        Outcome::Updated
                    }
                    None => {
                        summary.entities_created += 1;
                        Outcome::Created
                    }
                };
                if shared {
                    joins
                        .joined
                        .entities
                        .insert(entity.id.as_str().into(), entity.clone());
                }
                match outcome {
                    Outcome::Unchanged => (outcome, None),
                    _ => (outcome, Some(Op::PutEntity(entity))),
                }
            }
            ImportItem::Relation(draft) => {
                let id = relation_id(&draft);
                let mut relation = relation_record(id, &draft, now).map_err(|e| at(line, e))?;
                let shared = joins.resolution.is_shared_tie(&relation.id);
                let existing = match joins.joined.ties.get(relation.id.as_str()) {
                    Some(joined) => Some(joined.clone()),
                    None if into_empty => None,
                    None => self.store.relation_and_next(&relation.id)?,
                };
                let (claims, next, outcome) = match existing {
                    Some((existing, next)) => {
                        relation.created_at = existing.relation.created_at;
                        relation.updated_at = existing.relation.updated_at;
                        let changed = existing.relation != relation;
                        if changed {
                            relation.updated_at = now;
                        }
                        let (claims, added, next) = merge_claims(
                            &relation.id,
                            existing.claims,
                            next,
                            draft.claims,
                            now,
                            true,
                        )
                        .map_err(|e| at(line, e))?;
                        summary.claims_added += added;
                        if !changed && added == 0 {
                            summary.unchanged += 1;
                            return Ok((Outcome::Unchanged, None));
                        }
                        summary.relations_updated += 1;
                        (claims, next, Outcome::Updated)
                    }
                    None => {
                        let first = match into_empty {
                            true => 1,
                            false => self.store.first_claim_number(&relation.id)?,
                        };
                        let (claims, added, next) =
                            merge_claims(&relation.id, Vec::new(), first, draft.claims, now, true)
                                .map_err(|e| at(line, e))?;
                        summary.claims_added += added;
                        summary.relations_created += 1;
                        (claims, next, Outcome::Created)
                    }
                };
                let record = RelationWithClaims { relation, claims };
                if shared {
                    joins
                        .joined
                        .ties
                        .insert(record.relation.id.as_str().into(), (record.clone(), next));
                }
                (
                    outcome,
                    Some(Op::PutRelation {
                        record,
                        next_claim: next,
                    }),
                )
            }
        })
    }

    /// Pass 3: the change record of the load, in parts, handed to `sink` (the change log, or
    /// the index and subscribers). Two sweeps (sources and entities, then relations), so that
    /// every part applies to an index that already holds what it names. Records are rebuilt
    /// from the input when the store was empty (they are exactly what was written), else read
    /// back from the store's trees, which hold them from pass 2 on.
    fn announce_input<I>(
        &self,
        open: &mut impl FnMut() -> Result<I>,
        outcomes: &[Outcome],
        how: &Announce,
        resolution: &Resolution,
        progress: &dyn Fn(LoadPhase, u64),
        sink: &mut dyn FnMut(ChangeRecord) -> Result<()>,
    ) -> Result<()>
    where
        I: Iterator<Item = Result<(Line, ImportItem)>>,
    {
        let Announce {
            sequence,
            into_empty,
            now,
        } = *how;
        let mut emit = |part: u32, last: bool, ops: &mut Vec<Op>, events: &mut Vec<Change>| {
            sink(ChangeRecord {
                sequence,
                part,
                last,
                ops: std::mem::take(ops),
                events: std::mem::take(events),
            })
        };
        let mut part = 0u32;
        let mut ops: Vec<Op> = Vec::with_capacity(CHUNK);
        let mut events: Vec<Change> = Vec::with_capacity(CHUNK);
        let mut done = 0u64;
        // Several records that became one entity announce it once, as it was written last.
        let mut announced_shared: std::collections::HashSet<String> = Default::default();
        for relations in [false, true] {
            for (position, item) in open()?.enumerate() {
                let (line, item) = item?;
                let (item, _) = resolution.apply(item);
                let outcome = outcomes
                    .get(position)
                    .copied()
                    .unwrap_or(Outcome::Unchanged);
                if outcome == Outcome::Unchanged
                    || matches!(item, ImportItem::Relation(_)) != relations
                {
                    continue;
                }
                let shared_id = match &item {
                    _ if !resolution.joins_any() => None,
                    ImportItem::Entity(draft) => {
                        Some(resolve::draft_id(draft)).filter(|id| resolution.is_shared(id))
                    }
                    ImportItem::Relation(draft) => {
                        Some(relation_id(draft)).filter(|id| resolution.is_shared_tie(id))
                    }
                    ImportItem::Source(_) => None,
                };
                let shared = shared_id.is_some();
                if let Some(id) = shared_id {
                    if !announced_shared.insert(id) {
                        continue;
                    }
                }
                let op = if into_empty && !shared {
                    let mut scratch = ImportSummary::default();
                    let joins = Joins {
                        resolution,
                        joined: &mut Joined::default(),
                        renamed: false,
                    };
                    self.merge(line, item, true, now, &mut scratch, joins)?.1
                } else {
                    self.read_back(item, now)?
                };
                let Some(op) = op else { continue };
                events.push(load_event(&op, outcome));
                ops.push(op);
                done += 1;
                if ops.len() >= CHUNK {
                    emit(part, false, &mut ops, &mut events)?;
                    part += 1;
                    progress(LoadPhase::Indexing, done);
                }
            }
        }
        emit(part, true, &mut ops, &mut events)?;
        progress(LoadPhase::Indexing, done);
        Ok(())
    }

    /// The record an input item names, as the store now holds it.
    fn read_back(&self, item: ImportItem, now: Timestamp) -> Result<Option<Op>> {
        Ok(match item {
            ImportItem::Source(draft) => {
                let id = source_record(draft, now)?.id;
                self.store.source(&id)?.map(Op::PutSource)
            }
            ImportItem::Entity(draft) => {
                let id = entity_record(draft, now)?.id;
                self.store.entity(&id)?.map(Op::PutEntity)
            }
            ImportItem::Relation(draft) => self
                .store
                .relation_and_next(&relation_id(&draft))?
                .map(|(record, next_claim)| Op::PutRelation { record, next_claim }),
        })
    }
}

fn load_event(op: &Op, outcome: Outcome) -> Change {
    let kind = match outcome {
        Outcome::Updated => ChangeKind::Updated,
        _ => ChangeKind::Created,
    };
    let (record, id, entities) = match op {
        Op::PutEntity(e) => (RecordType::Entity, e.id.clone(), vec![e.id.clone()]),
        Op::PutSource(s) => (RecordType::Source, s.id.clone(), vec![]),
        Op::PutRelation { record, .. } => {
            let r = &record.relation;
            (
                RecordType::Relation,
                r.id.clone(),
                vec![r.from.clone(), r.to.clone()],
            )
        }
        // A load writes neither deletes nor merges.
        Op::DeleteEntity(id)
        | Op::DeleteSource(id)
        | Op::DeleteRelation(id)
        | Op::DeleteMerge(id) => (RecordType::Entity, id.clone(), vec![]),
        Op::PutMerge(merge) => (RecordType::Entity, merge.from.clone(), vec![]),
    };
    Change {
        kind,
        record,
        id,
        entities,
    }
}
