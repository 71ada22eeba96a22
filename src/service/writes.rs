//! Every write: validate against the index, commit to the store, update the index, announce.

use crate::model::{
    check_slug, slugify, validate_claim, validate_entity, validate_relation, Claim, ClaimDraft,
    Entity, EntityDraft, EntityPatch, ModelError, PartialDate, Relation, RelationDraft,
    RelationPatch, Source, SourceDraft, Timestamp,
};
use crate::store::{claim_id, claim_sequence, Op, WriteBatch};

use super::records::{derived_relation_id, entity_record, relation_record, source_record};
use super::{all_deny, Change, ChangeKind, RecordType, Result, Service, ServiceError};

/// What a delete removed, so a client can update its view without asking again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    pub entities: Vec<String>,
    pub relations: Vec<String>,
    pub claims: Vec<String>,
}

impl Service {
    /// Which type already holds `id`, if any: ids are unique across entities, relations and sources.
    pub(super) fn id_holder(&self, id: &str) -> Result<Option<&'static str>> {
        let index = self.read_index();
        if index.node(id).is_some() {
            return Ok(Some("entity"));
        }
        if index.edge(id).is_some() {
            return Ok(Some("relation"));
        }
        drop(index);
        Ok(self.store.source(id)?.map(|_| "source"))
    }

    /// `wanted` if given (and free), else a slug of `text` made unique with a numeric suffix.
    fn choose_id(&self, wanted: Option<&str>, text: &str) -> Result<String> {
        if let Some(id) = wanted {
            check_slug("id", id)?;
            return match self.id_holder(id)? {
                Some(what) => Err(ServiceError::AlreadyExists {
                    what,
                    id: id.to_owned(),
                }),
                None => Ok(id.to_owned()),
            };
        }
        let base = slugify(text);
        let mut candidate = base.clone();
        let mut n = 2;
        while self.id_holder(&candidate)?.is_some() {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        Ok(candidate)
    }

    fn announce(&self, kind: ChangeKind, record: RecordType, id: &str, entities: Vec<String>) {
        // No subscriber is not an error: the feed is best-effort, the store is the record.
        let _ = self.changes.send(Change {
            kind,
            record,
            id: id.to_owned(),
            entities,
        });
    }

    pub fn create_entity(&self, draft: EntityDraft) -> Result<Entity> {
        let _writer = self.lock_writer();
        let id = self.choose_id(draft.id.as_deref(), &draft.name)?;
        let entity = entity_record(
            EntityDraft {
                id: Some(id),
                ..draft
            },
            Timestamp::now(),
        )?;
        self.store.commit(&WriteBatch {
            ops: vec![Op::PutEntity(entity.clone())],
        })?;
        self.write_index().upsert_entity(&entity);
        self.announce(
            ChangeKind::Created,
            RecordType::Entity,
            &entity.id,
            vec![entity.id.clone()],
        );
        Ok(entity)
    }

    pub fn update_entity(&self, id: &str, patch: EntityPatch) -> Result<Entity> {
        let _writer = self.lock_writer();
        let current = self
            .store
            .entity(id)?
            .ok_or_else(|| ServiceError::not_found("entity", id, "id"))?;
        let entity = patch.apply_to(&current, Timestamp::now());
        validate_entity(&entity)?;
        if entity.kind != current.kind {
            // A new kind must still suit every relation the entity is an end of.
            for relation_id in self.read_index().relations_of(id) {
                if let Some(relation) = self.store.relation(relation_id)? {
                    let kind_of = |end: &str| {
                        if end == id {
                            Some(entity.kind)
                        } else {
                            self.read_index_kind(end)
                        }
                    };
                    if let (Some(from), Some(to)) = (kind_of(&relation.from), kind_of(&relation.to))
                    {
                        validate_relation(&relation, from, to).map_err(|e| {
                            ModelError::invalid(
                                "kind",
                                format!("relation `{}` would no longer be valid: {e}", relation.id),
                            )
                        })?;
                    }
                }
            }
        }
        self.store.commit(&WriteBatch {
            ops: vec![Op::PutEntity(entity.clone())],
        })?;
        self.write_index().upsert_entity(&entity);
        self.announce(
            ChangeKind::Updated,
            RecordType::Entity,
            id,
            vec![id.to_owned()],
        );
        Ok(entity)
    }

    fn read_index_kind(&self, id: &str) -> Option<crate::model::EntityKind> {
        self.read_index().entity_kind(id)
    }

    /// Deletes an entity. With `cascade`, also its relations and the claims it made (and a
    /// relation left with no claim by that); without, refuses while any of those exist.
    pub fn delete_entity(&self, id: &str, cascade: bool) -> Result<Deleted> {
        let _writer = self.lock_writer();
        if self.store.entity(id)?.is_none() {
            return Err(ServiceError::not_found("entity", id, "id"));
        }
        let relations: Vec<String> = self
            .read_index()
            .relations_of(id)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let statements = self.claims_by_claimant(id)?;
        if !cascade && (!relations.is_empty() || !statements.is_empty()) {
            return Err(ServiceError::HasRelations {
                id: id.to_owned(),
                count: relations.len() + statements.len(),
            });
        }
        let mut deleted = Deleted {
            entities: vec![id.to_owned()],
            ..Deleted::default()
        };
        let mut batch = WriteBatch::default();
        let mut doomed_relations: Vec<String> = relations;
        // A claim by the entity about a relation that survives: drop the claim, and the
        // relation with it if nothing else supports it.
        let mut trimmed: Vec<String> = Vec::new();
        for claim in &statements {
            if doomed_relations.contains(&claim.relation) {
                continue;
            }
            let remaining = self
                .store
                .claims_of(&claim.relation)?
                .into_iter()
                .filter(|c| c.claimant.as_deref() != Some(id))
                .count();
            if remaining == 0 {
                doomed_relations.push(claim.relation.clone());
            } else {
                batch.push(Op::DeleteClaim(claim.clone()));
                deleted.claims.push(claim.id.clone());
                if !trimmed.contains(&claim.relation) {
                    trimmed.push(claim.relation.clone());
                }
            }
        }
        doomed_relations.sort();
        doomed_relations.dedup();
        for relation in &doomed_relations {
            for claim in self.store.claims_of(relation)? {
                deleted.claims.push(claim.id.clone());
                batch.push(Op::DeleteClaim(claim));
            }
            batch.push(Op::DeleteRelation(relation.clone()));
        }
        batch.push(Op::DeleteEntity(id.to_owned()));
        self.store.commit(&batch)?;
        {
            let mut index = self.write_index();
            for relation in &doomed_relations {
                index.remove_relation(relation);
            }
            index.remove_entity(id);
        }
        for relation in &trimmed {
            self.refresh_denied(relation)?;
        }
        deleted.relations = doomed_relations;
        for relation in &deleted.relations {
            self.announce(ChangeKind::Deleted, RecordType::Relation, relation, vec![]);
        }
        self.announce(
            ChangeKind::Deleted,
            RecordType::Entity,
            id,
            vec![id.to_owned()],
        );
        Ok(deleted)
    }

    /// Claims whose claimant is `id`. Claimants are not indexed because only deleting an entity
    /// asks, and that is rare: this walks every claim, so keep it off hot paths.
    fn claims_by_claimant(&self, id: &str) -> Result<Vec<Claim>> {
        let mut found = Vec::new();
        for claim in self.store.claims() {
            let claim = claim?;
            if claim.claimant.as_deref() == Some(id) {
                found.push(claim);
            }
        }
        Ok(found)
    }

    pub fn create_source(&self, draft: SourceDraft) -> Result<Source> {
        let _writer = self.lock_writer();
        let id = self.choose_id(draft.id.as_deref(), &draft.title)?;
        let source = source_record(
            SourceDraft {
                id: Some(id),
                ..draft
            },
            Timestamp::now(),
        )?;
        self.store.commit(&WriteBatch {
            ops: vec![Op::PutSource(source.clone())],
        })?;
        self.announce(ChangeKind::Created, RecordType::Source, &source.id, vec![]);
        Ok(source)
    }

    /// Replaces a source's fields (its id stays); fields absent from `draft` become empty.
    pub fn update_source(&self, id: &str, draft: SourceDraft) -> Result<Source> {
        let _writer = self.lock_writer();
        let current = self
            .store
            .source(id)?
            .ok_or_else(|| ServiceError::not_found("source", id, "id"))?;
        let mut source = source_record(
            SourceDraft {
                id: Some(current.id),
                ..draft
            },
            Timestamp::now(),
        )?;
        source.created_at = current.created_at;
        self.store.commit(&WriteBatch {
            ops: vec![Op::PutSource(source.clone())],
        })?;
        self.announce(ChangeKind::Updated, RecordType::Source, id, vec![]);
        Ok(source)
    }

    pub fn delete_source(&self, id: &str) -> Result<()> {
        let _writer = self.lock_writer();
        if self.store.source(id)?.is_none() {
            return Err(ServiceError::not_found("source", id, "id"));
        }
        let citing = self.store.citing_claims(id)?;
        if !citing.is_empty() {
            return Err(ServiceError::SourceInUse {
                id: id.to_owned(),
                count: citing.len(),
            });
        }
        self.store.commit(&WriteBatch {
            ops: vec![Op::DeleteSource(id.to_owned())],
        })?;
        self.announce(ChangeKind::Deleted, RecordType::Source, id, vec![]);
        Ok(())
    }

    /// Checks a claim draft against the graph and makes it the `n`th claim of `relation`.
    fn claim_from_draft(&self, relation: &str, n: u32, draft: ClaimDraft) -> Result<Claim> {
        if self.store.source(&draft.source)?.is_none() {
            return Err(ServiceError::not_found(
                "source",
                &draft.source,
                "claim.source",
            ));
        }
        if let Some(claimant) = &draft.claimant {
            if self.read_index().node(claimant).is_none() {
                return Err(ServiceError::not_found(
                    "entity",
                    claimant,
                    "claim.claimant",
                ));
            }
        }
        let claim = Claim {
            id: claim_id(relation, n),
            relation: relation.to_owned(),
            source: draft.source,
            stance: draft.stance,
            claimant: draft.claimant,
            quote: draft.quote,
            recorded_at: Timestamp::now(),
        };
        validate_claim(&claim).map_err(|ModelError::Invalid { field, message }| {
            ModelError::Invalid {
                field: format!("claim.{field}"),
                message,
            }
        })?;
        Ok(claim)
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
    pub fn create_relation(&self, draft: RelationDraft) -> Result<(Relation, Vec<Claim>)> {
        let _writer = self.lock_writer();
        if draft.claims.is_empty() {
            return Err(ModelError::invalid(
                "claim",
                "a relation needs at least one claim citing a source",
            )
            .into());
        }
        let derived = derived_relation_id(&draft);
        let id = self.choose_id(draft.id.as_deref(), &derived)?;
        let relation = self.relation_from_draft(id, &draft, Timestamp::now())?;
        let claims = draft
            .claims
            .iter()
            .zip(1..)
            .map(|(claim, n)| self.claim_from_draft(&relation.id, n, claim.clone()))
            .collect::<Result<Vec<_>>>()?;
        let mut batch = WriteBatch {
            ops: vec![Op::PutRelation(relation.clone())],
        };
        batch.ops.extend(claims.iter().cloned().map(Op::PutClaim));
        self.store.commit(&batch)?;
        self.write_index()
            .upsert_relation(&relation, all_deny(&claims));
        self.announce(
            ChangeKind::Created,
            RecordType::Relation,
            &relation.id,
            vec![relation.from.clone(), relation.to.clone()],
        );
        Ok((relation, claims))
    }

    pub fn update_relation(&self, id: &str, patch: RelationPatch) -> Result<Relation> {
        let _writer = self.lock_writer();
        let current = self
            .store
            .relation(id)?
            .ok_or_else(|| ServiceError::not_found("relation", id, "id"))?;
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
        self.store.commit(&WriteBatch {
            ops: vec![Op::PutRelation(relation.clone())],
        })?;
        let denied = all_deny(&self.store.claims_of(id)?);
        self.write_index().upsert_relation(&relation, denied);
        self.announce(
            ChangeKind::Updated,
            RecordType::Relation,
            id,
            vec![relation.from.clone(), relation.to.clone()],
        );
        Ok(relation)
    }

    pub fn delete_relation(&self, id: &str) -> Result<Deleted> {
        let _writer = self.lock_writer();
        let relation = self
            .store
            .relation(id)?
            .ok_or_else(|| ServiceError::not_found("relation", id, "id"))?;
        let claims = self.store.claims_of(id)?;
        let mut deleted = Deleted {
            relations: vec![id.to_owned()],
            ..Deleted::default()
        };
        let mut batch = WriteBatch::default();
        for claim in claims {
            deleted.claims.push(claim.id.clone());
            batch.push(Op::DeleteClaim(claim));
        }
        batch.push(Op::DeleteRelation(id.to_owned()));
        self.store.commit(&batch)?;
        self.write_index().remove_relation(id);
        self.announce(
            ChangeKind::Deleted,
            RecordType::Relation,
            id,
            vec![relation.from, relation.to],
        );
        Ok(deleted)
    }

    pub fn add_claim(&self, relation_id: &str, draft: ClaimDraft) -> Result<Claim> {
        let _writer = self.lock_writer();
        let relation = self
            .store
            .relation(relation_id)?
            .ok_or_else(|| ServiceError::not_found("relation", relation_id, "relation"))?;
        let mut claims = self.store.claims_of(relation_id)?;
        let next = claims
            .iter()
            .map(|c| claim_sequence(&c.id))
            .max()
            .unwrap_or(0)
            + 1;
        let claim = self.claim_from_draft(relation_id, next, draft)?;
        self.store.commit(&WriteBatch {
            ops: vec![Op::PutClaim(claim.clone())],
        })?;
        claims.push(claim.clone());
        self.write_index()
            .set_denied(relation_id, all_deny(&claims));
        self.announce(
            ChangeKind::Created,
            RecordType::Claim,
            &claim.id,
            vec![relation.from, relation.to],
        );
        Ok(claim)
    }

    pub fn delete_claim(&self, id: &str) -> Result<()> {
        let _writer = self.lock_writer();
        let claim = self
            .store
            .claim(id)?
            .ok_or_else(|| ServiceError::not_found("claim", id, "id"))?;
        let remaining: Vec<Claim> = self
            .store
            .claims_of(&claim.relation)?
            .into_iter()
            .filter(|c| c.id != id)
            .collect();
        if remaining.is_empty() {
            return Err(ServiceError::LastClaim {
                id: id.to_owned(),
                relation: claim.relation,
            });
        }
        self.store.commit(&WriteBatch {
            ops: vec![Op::DeleteClaim(claim.clone())],
        })?;
        self.write_index()
            .set_denied(&claim.relation, all_deny(&remaining));
        self.announce(ChangeKind::Deleted, RecordType::Claim, id, vec![]);
        Ok(())
    }

    fn refresh_denied(&self, relation: &str) -> Result<()> {
        let claims = self.store.claims_of(relation)?;
        self.write_index().set_denied(relation, all_deny(&claims));
        Ok(())
    }
}
