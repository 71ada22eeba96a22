//! Every mutation: validate against the index, then [`Service::commit`] (store, index, change
//! record, in that order) with records built by `records`.

use crate::graph::Holder;
use crate::model::{
    check_slug, slugify, validate_entity, validate_relation, Claim, ClaimDraft, Entity,
    EntityDraft, EntityPatch, ModelError, PartialDate, Relation, RelationDraft, RelationPatch,
    RelationWithClaims, Source, SourceDraft, SourcePatch, Timestamp,
};
use crate::store::Op;

use super::records::{
    claim_record, derived_relation_id, entity_record, merge_claims, relation_record,
    same_statement, source_record,
};
use super::resolve;
use super::{Change, ChangeKind, RecordType, Result, Service, ServiceError};

/// What a delete removed, so a client can update its view without asking again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    pub entities: Vec<String>,
    pub relations: Vec<String>,
    pub claims: Vec<String>,
}

pub(super) fn event(kind: ChangeKind, record: RecordType, id: &str, entities: &[&str]) -> Change {
    Change {
        kind,
        record,
        id: id.to_owned(),
        entities: entities.iter().map(|e| (*e).to_owned()).collect(),
    }
}

/// An update that names no field would change nothing but the record's timestamp: most likely
/// a mistake in the request, so it is refused.
fn refuse_empty(empty: bool) -> Result<()> {
    if empty {
        return Err(ModelError::invalid("input", "names no field to change").into());
    }
    Ok(())
}

/// A relation's change touches its ends and whoever made its claims.
fn relation_event(kind: ChangeKind, record: &RelationWithClaims) -> Change {
    let relation = &record.relation;
    let mut entities = vec![relation.from.as_str(), relation.to.as_str()];
    for claimant in record.claims.iter().filter_map(|c| c.claimant.as_deref()) {
        if !entities.contains(&claimant) {
            entities.push(claimant);
        }
    }
    event(kind, RecordType::Relation, &relation.id, &entities)
}

/// A claim's change touches its relation's ends and whoever made it.
fn claim_event(kind: ChangeKind, claim: &Claim, relation: &Relation) -> Change {
    let mut entities = vec![relation.from.as_str(), relation.to.as_str()];
    if let Some(claimant) = claim.claimant.as_deref() {
        if !entities.contains(&claimant) {
            entities.push(claimant);
        }
    }
    event(kind, RecordType::Claim, &claim.id, &entities)
}

impl Service {
    /// Which type already holds `id`, if any: ids are unique across entities, relations and sources.
    pub(super) fn id_holder(&self, id: &str) -> Option<Holder> {
        self.read_index().holder(id)
    }

    /// `wanted` if given (and free), else a slug of `text` made unique with a numeric suffix.
    fn choose_id(&self, wanted: Option<&str>, text: &str) -> Result<String> {
        if let Some(id) = wanted {
            check_slug("id", id)?;
            return match self.id_holder(id) {
                Some(holder) => Err(ServiceError::AlreadyExists {
                    what: holder.name(),
                    id: id.to_owned(),
                }),
                None => Ok(id.to_owned()),
            };
        }
        let base = slugify(text);
        let mut candidate = base.clone();
        let mut n = 2;
        while self.id_holder(&candidate).is_some() {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        Ok(candidate)
    }

    /// A relation as stored, with the number its next claim gets.
    pub(super) fn stored_relation(
        &self,
        id: &str,
        field: &'static str,
    ) -> Result<(RelationWithClaims, u32)> {
        self.store
            .relation_and_next(id)?
            .ok_or_else(|| ServiceError::not_found("relation", id, field))
    }

    /// Records a new entity; or, when an identifier it gives is held already (see `resolve`),
    /// adds its names and identifiers to the entity holding it, and returns that.
    pub fn create_entity(&self, draft: EntityDraft) -> Result<Entity> {
        let _writer = self.begin_write()?;
        let resolved = resolve::resolve_new(&self.read_index(), &draft)?;
        if let Some(target) = resolved {
            let existing = self
                .store
                .entity(&target)?
                .ok_or_else(|| ServiceError::not_found("entity", &target, "identifiers"))?;
            let now = Timestamp::now();
            let incoming = entity_record(
                EntityDraft {
                    id: Some(target.clone()),
                    ..draft
                },
                now,
            )?;
            let mut joined = resolve::join(Some(&existing), incoming, true);
            validate_entity(&joined)?;
            if joined == existing {
                return Ok(existing);
            }
            joined.updated_at = now;
            let events = vec![event(
                ChangeKind::Updated,
                RecordType::Entity,
                &target,
                &[&target],
            )];
            self.commit(vec![Op::PutEntity(joined.clone())], events)?;
            return Ok(joined);
        }
        let id = self.choose_id(draft.id.as_deref(), &draft.name)?;
        let entity = entity_record(
            EntityDraft {
                id: Some(id),
                ..draft
            },
            Timestamp::now(),
        )?;
        let events = vec![event(
            ChangeKind::Created,
            RecordType::Entity,
            &entity.id,
            &[&entity.id],
        )];
        self.commit(vec![Op::PutEntity(entity.clone())], events)?;
        Ok(entity)
    }

    pub fn update_entity(&self, id: &str, patch: EntityPatch) -> Result<Entity> {
        refuse_empty(patch == EntityPatch::default())?;
        let _writer = self.begin_write()?;
        let current = self
            .store
            .entity(id)?
            .ok_or_else(|| ServiceError::not_found("entity", id, "id"))?;
        let entity = patch.apply_to(&current, Timestamp::now());
        validate_entity(&entity)?;
        if entity.kind != current.kind {
            // A new kind must still suit every relation the entity is an end of.
            let relations: Vec<String> = self
                .read_index()
                .relations_of(id)
                .into_iter()
                .map(str::to_owned)
                .collect();
            for relation_id in relations {
                let Some(record) = self.store.relation(&relation_id)? else {
                    continue;
                };
                let relation = record.relation;
                let kind_of = |end: &str| {
                    if end == id {
                        Some(entity.kind)
                    } else {
                        self.read_index().entity_kind(end)
                    }
                };
                if let (Some(from), Some(to)) = (kind_of(&relation.from), kind_of(&relation.to)) {
                    validate_relation(&relation, from, to).map_err(|e| {
                        ModelError::invalid(
                            "kind",
                            format!("relation `{}` would no longer be valid: {e}", relation.id),
                        )
                    })?;
                }
            }
        }
        let events = vec![event(ChangeKind::Updated, RecordType::Entity, id, &[id])];
        self.commit(vec![Op::PutEntity(entity.clone())], events)?;
        Ok(entity)
    }

    /// Deletes an entity. With `cascade`, also its relations and the claims it made about
    /// others (and a relation left with no claim by that); without, refuses while any exist.
    pub fn delete_entity(&self, id: &str, cascade: bool) -> Result<Deleted> {
        let _writer = self.begin_write()?;
        if self.store.entity(id)?.is_none() {
            return Err(ServiceError::not_found("entity", id, "id"));
        }
        let (mut doomed, statements): (Vec<String>, Vec<String>) = {
            let index = self.read_index();
            let own = index
                .relations_of(id)
                .into_iter()
                .map(str::to_owned)
                .collect();
            let said = index
                .statements_by(id)
                .into_iter()
                .map(str::to_owned)
                .collect();
            (own, said)
        };
        doomed.sort();
        doomed.dedup();
        if !cascade && (!doomed.is_empty() || !statements.is_empty()) {
            return Err(ServiceError::HasRelations {
                id: id.to_owned(),
                relations: doomed.len(),
                claims: statements.len(),
            });
        }
        let mut deleted = Deleted {
            entities: vec![id.to_owned()],
            ..Deleted::default()
        };
        let mut ops = Vec::new();
        let mut events = Vec::new();
        // A relation the entity only spoke of loses the entity's claims, and goes with them
        // if nothing else supports it.
        for relation_id in &statements {
            let (mut record, next_claim) = self.stored_relation(relation_id, "id")?;
            let (gone, kept): (Vec<Claim>, Vec<Claim>) = record
                .claims
                .into_iter()
                .partition(|c| c.claimant.as_deref() == Some(id));
            if kept.is_empty() {
                doomed.push(relation_id.clone());
                continue;
            }
            for claim in &gone {
                deleted.claims.push(claim.id.clone());
                events.push(claim_event(ChangeKind::Deleted, claim, &record.relation));
            }
            record.claims = kept;
            ops.push(Op::PutRelation { record, next_claim });
        }
        for relation_id in &doomed {
            let (record, _) = self.stored_relation(relation_id, "id")?;
            deleted
                .claims
                .extend(record.claims.iter().map(|c| c.id.clone()));
            events.push(relation_event(ChangeKind::Deleted, &record));
            ops.push(Op::DeleteRelation(relation_id.clone()));
        }
        ops.push(Op::DeleteEntity(id.to_owned()));
        events.push(event(ChangeKind::Deleted, RecordType::Entity, id, &[id]));
        self.commit(ops, events)?;
        deleted.relations = doomed;
        Ok(deleted)
    }

    pub fn create_source(&self, draft: SourceDraft) -> Result<Source> {
        let _writer = self.begin_write()?;
        let id = self.choose_id(draft.id.as_deref(), &draft.title)?;
        let source = source_record(
            SourceDraft {
                id: Some(id),
                ..draft
            },
            Timestamp::now(),
        )?;
        let events = vec![event(
            ChangeKind::Created,
            RecordType::Source,
            &source.id,
            &[],
        )];
        self.commit(vec![Op::PutSource(source.clone())], events)?;
        Ok(source)
    }

    /// Changes the fields `patch` names; the others stay as they are (its id always does).
    pub fn update_source(&self, id: &str, patch: SourcePatch) -> Result<Source> {
        refuse_empty(patch == SourcePatch::default())?;
        let _writer = self.begin_write()?;
        let current = self
            .store
            .source(id)?
            .ok_or_else(|| ServiceError::not_found("source", id, "id"))?;
        let mut source = source_record(
            SourceDraft {
                id: Some(current.id),
                title: patch.title.unwrap_or(current.title),
                publisher: patch.publisher.unwrap_or(current.publisher),
                url: patch.url.unwrap_or(current.url),
                published: patch
                    .published
                    .unwrap_or_else(|| current.published.map(|d| d.to_string())),
            },
            Timestamp::now(),
        )?;
        source.created_at = current.created_at;
        let events = vec![event(ChangeKind::Updated, RecordType::Source, id, &[])];
        self.commit(vec![Op::PutSource(source.clone())], events)?;
        Ok(source)
    }

    pub fn delete_source(&self, id: &str) -> Result<()> {
        let _writer = self.begin_write()?;
        if self.store.source(id)?.is_none() {
            return Err(ServiceError::not_found("source", id, "id"));
        }
        let citing = self.claims_citing(id)?;
        if !citing.is_empty() {
            return Err(ServiceError::SourceInUse {
                id: id.to_owned(),
                count: citing.len(),
            });
        }
        let events = vec![event(ChangeKind::Deleted, RecordType::Source, id, &[])];
        self.commit(vec![Op::DeleteSource(id.to_owned())], events)?;
        Ok(())
    }

    /// Checks that what a claim draft names exists.
    fn check_claim_references(&self, draft: &ClaimDraft, field: &'static str) -> Result<()> {
        let index = self.read_index();
        if index.holder(&draft.source) != Some(Holder::Source) {
            return Err(ServiceError::not_found("source", &draft.source, field));
        }
        if let Some(claimant) = &draft.claimant {
            if index.node(claimant).is_none() {
                return Err(ServiceError::not_found(
                    "entity",
                    claimant,
                    "claim.claimant",
                ));
            }
        }
        Ok(())
    }

    /// Builds a relation from a draft, checking its ends against the index.
    fn relation_from_draft(
        &self,
        id: String,
        draft: &RelationDraft,
        now: Timestamp,
    ) -> Result<Relation> {
        let relation = relation_record(id, draft, now)?;
        let index = self.read_index();
        let from = index
            .entity_kind(&relation.from)
            .ok_or_else(|| ServiceError::not_found("entity", &relation.from, "from"))?;
        let to = index
            .entity_kind(&relation.to)
            .ok_or_else(|| ServiceError::not_found("entity", &relation.to, "to"))?;
        drop(index);
        validate_relation(&relation, from, to)?;
        Ok(relation)
    }

    /// Creates a relation together with its claims (at least one: nothing enters without a source).
    pub fn create_relation(&self, draft: RelationDraft) -> Result<RelationWithClaims> {
        let _writer = self.begin_write()?;
        if draft.claims.is_empty() {
            return Err(ModelError::invalid(
                "claim",
                "a relation needs at least one claim citing a source",
            )
            .into());
        }
        let derived = derived_relation_id(&draft);
        if draft.id.is_none() {
            self.refuse_the_same_tie(&derived, &draft)?;
        }
        let id = self.choose_id(draft.id.as_deref(), &derived)?;
        let now = Timestamp::now();
        let relation = self.relation_from_draft(id, &draft, now)?;
        for claim in &draft.claims {
            self.check_claim_references(claim, "claim.source")?;
        }
        let first = self.store.first_claim_number(&relation.id)?;
        let (claims, _, next_claim) =
            merge_claims(&relation.id, Vec::new(), first, draft.claims, now, false)?;
        let record = RelationWithClaims { relation, claims };
        self.commit_relation(ChangeKind::Created, record, next_claim)
    }

    /// A relation drafted without an id whose derived id names a relation of the same kind
    /// between the same ends, in the same role, is most likely a second report of that tie:
    /// refused, pointing to `addClaim`, rather than silently made `...-2`. A client that means
    /// a separate tie says so by giving it an id.
    fn refuse_the_same_tie(&self, derived: &str, draft: &RelationDraft) -> Result<()> {
        let Some(existing) = self.store.relation(&slugify(derived))? else {
            return Ok(());
        };
        let same = &existing.relation;
        if same.kind == draft.kind
            && same.from == draft.from
            && same.to == draft.to
            && same.role == draft.role
        {
            return Err(ServiceError::SameTie {
                id: same.id.clone(),
                from: same.from.clone(),
                to: same.to.clone(),
                kind: same.kind.as_str(),
            });
        }
        Ok(())
    }

    /// Commits a relation created or changed (not its claims), announcing it as such.
    fn commit_relation(
        &self,
        kind: ChangeKind,
        record: RelationWithClaims,
        next_claim: u32,
    ) -> Result<RelationWithClaims> {
        let events = vec![relation_event(kind, &record)];
        self.commit(
            vec![Op::PutRelation {
                record: record.clone(),
                next_claim,
            }],
            events,
        )?;
        Ok(record)
    }

    pub fn update_relation(&self, id: &str, patch: RelationPatch) -> Result<RelationWithClaims> {
        refuse_empty(patch == RelationPatch::default())?;
        let _writer = self.begin_write()?;
        let (current, next_claim) = self.stored_relation(id, "id")?;
        let RelationWithClaims {
            relation: current,
            claims,
        } = current;
        let format_date = |d: Option<PartialDate>| d.map(|d| d.to_string());
        let draft = RelationDraft {
            id: None,
            kind: current.kind,
            from: current.from.clone(),
            to: current.to.clone(),
            status: patch.status.unwrap_or(current.status),
            role: patch.role.unwrap_or(current.role.clone()),
            description: patch.description.unwrap_or(current.description.clone()),
            amount: patch.amount.unwrap_or(current.amount.clone()),
            start: patch.start.unwrap_or(format_date(current.period.start)),
            end: patch.end.unwrap_or(format_date(current.period.end)),
            claims: Vec::new(),
        };
        let mut relation =
            self.relation_from_draft(current.id.clone(), &draft, Timestamp::now())?;
        relation.created_at = current.created_at;
        let record = RelationWithClaims { relation, claims };
        self.commit_relation(ChangeKind::Updated, record, next_claim)
    }

    pub fn delete_relation(&self, id: &str) -> Result<Deleted> {
        let _writer = self.begin_write()?;
        let (record, _) = self.stored_relation(id, "id")?;
        let deleted = Deleted {
            relations: vec![id.to_owned()],
            claims: record.claims.iter().map(|c| c.id.clone()).collect(),
            ..Deleted::default()
        };
        let events = vec![relation_event(ChangeKind::Deleted, &record)];
        self.commit(vec![Op::DeleteRelation(id.to_owned())], events)?;
        Ok(deleted)
    }

    pub fn add_claim(&self, relation_id: &str, draft: ClaimDraft) -> Result<Claim> {
        let _writer = self.begin_write()?;
        let (mut record, next_claim) = self.stored_relation(relation_id, "relation")?;
        self.check_claim_references(&draft, "claim.source")?;
        if let Some(same) = record.claims.iter().find(|c| same_statement(c, &draft)) {
            return Err(ServiceError::DuplicateClaim {
                id: same.id.clone(),
                relation: relation_id.to_owned(),
            });
        }
        let claim = claim_record(relation_id, next_claim, draft, Timestamp::now(), None)?;
        record.claims.push(claim.clone());
        let events = vec![claim_event(ChangeKind::Created, &claim, &record.relation)];
        self.commit(
            vec![Op::PutRelation {
                record,
                next_claim: next_claim + 1,
            }],
            events,
        )?;
        Ok(claim)
    }

    pub fn delete_claim(&self, id: &str) -> Result<()> {
        let _writer = self.begin_write()?;
        let not_found = || ServiceError::not_found("claim", id, "id");
        let relation_id = crate::store::relation_of_claim(id).ok_or_else(not_found)?;
        let (mut record, next_claim) = self
            .store
            .relation_and_next(relation_id)?
            .ok_or_else(not_found)?;
        let Some(at) = record.claims.iter().position(|c| c.id == id) else {
            return Err(not_found());
        };
        let claim = record.claims.remove(at);
        if record.claims.is_empty() {
            return Err(ServiceError::LastClaim {
                id: id.to_owned(),
                relation: relation_id.to_owned(),
            });
        }
        let events = vec![claim_event(ChangeKind::Deleted, &claim, &record.relation)];
        self.commit(vec![Op::PutRelation { record, next_claim }], events)?;
        Ok(())
    }
}
