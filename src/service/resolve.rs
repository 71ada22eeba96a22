//! Entity resolution: a record whose identifier (`uei:`, `duns:`, `wikidata:`, `littlesis:`,
//! `ftm:`, ... see [`Identifier::resolves`]) an entity already holds becomes that entity, in
//! every import and in `createEntity`. The record's names become aliases of the entity, its
//! identifiers are added, and ties that named the record's id are tied to the entity instead.
//!
//! Within one import, an earlier record counts as "already held": two records of a file
//! sharing an identifier are one entity, under the first one's id. A record under an id the
//! graph already has is that entity whatever its identifiers say (duplicates that exist are
//! for `duplicateCandidates` and `mergeEntities`, not for an import to guess at). A record
//! whose identifiers point at two different entities is refused: which one it is, is a
//! question for a person.

use std::collections::{HashMap, HashSet};

use crate::graph::GraphIndex;
use crate::model::{slugify, Entity, EntityDraft, RelationDraft};

use super::load::ImportItem;
use super::records::joined_entity;
use super::{Result, ServiceError};

/// The id an entity draft asks for: its own, or the slug of its name.
pub(super) fn draft_id(draft: &EntityDraft) -> String {
    draft.id.clone().unwrap_or_else(|| slugify(&draft.name))
}

/// The entities of the index holding one of `entity`'s resolving identifiers, other than
/// itself, with the identifier each was found by; in id order.
fn held_elsewhere(index: &GraphIndex, entity_id: &str, keys: &[String]) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for key in keys {
        let Some((scheme, value)) = key.split_once(':') else {
            continue;
        };
        for holder in index.entities_with_identifier(scheme, value) {
            if holder != entity_id && !found.iter().any(|(id, _)| id == holder) {
                found.push((holder.to_owned(), key.clone()));
            }
        }
    }
    found.sort();
    found
}

fn resolving_keys(draft: &EntityDraft) -> Vec<String> {
    let mut keys: Vec<String> = draft
        .identifiers
        .iter()
        .filter(|i| i.resolves())
        .map(|i| i.key())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn ambiguous(id: &str, matches: &[(String, String)]) -> ServiceError {
    let listed: Vec<String> = matches
        .iter()
        .map(|(holder, key)| format!("`{holder}` (by {key})"))
        .collect();
    ServiceError::Conflict {
        message: format!(
            "entity `{id}` is, by its identifiers, {}: they seem to be one entity recorded twice; merge them first (mergeEntities), or correct the identifiers",
            listed.join(" and ")
        ),
    }
}

/// The one entity `matches` name, if any; several are a conflict for a person to settle.
fn the_one(id: &str, matches: &[(String, String)]) -> Result<Option<String>> {
    match matches {
        [] => Ok(None),
        [(holder, _)] => Ok(Some(holder.clone())),
        _ => Err(ambiguous(id, matches)),
    }
}

/// Which entity an import's record is, when its identifiers say it is another than the id it
/// asks for (as pass 1 of an import decides, for a record alone); `None` when it is itself.
pub(super) fn resolve_one(index: &GraphIndex, draft: &EntityDraft) -> Result<Option<String>> {
    let id = draft_id(draft);
    if index.holder(&id).is_some() {
        return Ok(None);
    }
    the_one(&id, &held_elsewhere(index, &id, &resolving_keys(draft)))
}

/// Which entity a new record (`createEntity`'s) is, when an identifier it gives is held
/// already; `None` when it is new, or asks for an id that exists (which is then refused).
pub(super) fn resolve_new(index: &GraphIndex, draft: &EntityDraft) -> Result<Option<String>> {
    if draft
        .id
        .as_deref()
        .is_some_and(|id| index.holder(id).is_some())
    {
        return Ok(None);
    }
    the_one(
        &draft_id(draft),
        &held_elsewhere(index, "", &resolving_keys(draft)),
    )
}

/// What an import's records resolve to: found in its first pass, applied to every record in
/// every pass, so that the ties of a record that became another entity are that entity's.
#[derive(Default)]
pub(super) struct Resolution {
    /// A record's id, and the id of the entity it is.
    renames: HashMap<Box<str>, Box<str>>,
    /// The ids several records of the import become: their records are joined in memory, in
    /// the order of the input, instead of each with the store's.
    shared: HashSet<Box<str>>,
    /// Relation ids several ties of the import become, once their ends are resolved.
    shared_ties: HashSet<Box<str>>,
    /// While the first pass runs: the import's own identifiers, and the id holding each.
    held_here: HashMap<String, Box<str>>,
    /// While the first pass runs: the ids of ties whose ends resolution changed.
    renamed_ties: HashSet<Box<str>>,
}

impl Resolution {
    /// Resolves one entity record of the first pass (in input order); returns the id it is.
    pub(super) fn learn(&mut self, index: &GraphIndex, draft: &EntityDraft) -> Result<String> {
        let id = draft_id(draft);
        let keys = resolving_keys(draft);
        let resolved = if index.holder(&id).is_some() {
            id.clone()
        } else {
            let mut matches = held_elsewhere(index, &id, &keys);
            for key in &keys {
                if let Some(holder) = self.held_here.get(key) {
                    if **holder != *id && !matches.iter().any(|(m, _)| **m == **holder) {
                        matches.push((holder.to_string(), key.clone()));
                    }
                }
            }
            the_one(&id, &matches)?.unwrap_or_else(|| id.clone())
        };
        if resolved != id {
            self.renames
                .insert(id.into_boxed_str(), resolved.as_str().into());
            self.shared.insert(resolved.as_str().into());
        }
        for key in keys {
            self.held_here
                .entry(key)
                .or_insert_with(|| resolved.as_str().into());
        }
        Ok(resolved)
    }

    /// Ends the first pass: what later passes need is kept, the rest let go.
    pub(super) fn finish_learning(&mut self) {
        self.held_here = HashMap::new();
    }

    /// Whether resolution changes an end or a claimant of the tie `draft`.
    pub(super) fn touches(&self, draft: &RelationDraft) -> bool {
        !self.renames.is_empty()
            && std::iter::once(&draft.from)
                .chain(std::iter::once(&draft.to))
                .chain(draft.claims.iter().filter_map(|c| c.claimant.as_ref()))
                .any(|id| self.renames.contains_key(id.as_str()))
    }

    pub(super) fn renamed_tie(&mut self, id: &str) {
        self.renamed_ties.insert(id.into());
    }

    pub(super) fn is_renamed_tie(&self, id: &str) -> bool {
        self.renamed_ties.contains(id)
    }

    pub(super) fn share_tie(&mut self, id: &str) {
        self.shared_ties.insert(id.into());
    }

    pub(super) fn is_shared_tie(&self, id: &str) -> bool {
        self.shared_ties.contains(id)
    }

    /// How many records became another entity.
    pub(super) fn resolved(&self) -> usize {
        self.renames.len()
    }

    fn renamed<'a>(&'a self, id: &'a str) -> &'a str {
        self.renames.get(id).map_or(id, |to| to)
    }

    /// The record as it resolves: an entity under the id of the entity it is (and whether
    /// that is another than it asked for), a relation tied and credited to resolved ids.
    pub(super) fn apply(&self, item: ImportItem) -> (ImportItem, bool) {
        if self.renames.is_empty() {
            return (item, false);
        }
        match item {
            ImportItem::Entity(mut draft) => {
                let id = draft_id(&draft);
                let resolved = self.renamed(&id);
                let renamed = resolved != id;
                draft.id = Some(resolved.to_owned());
                (ImportItem::Entity(draft), renamed)
            }
            ImportItem::Relation(draft) => (ImportItem::Relation(self.tie(draft)), false),
            source => (source, false),
        }
    }

    pub(super) fn tie(&self, mut draft: RelationDraft) -> RelationDraft {
        if self.renames.is_empty() {
            return draft;
        }
        draft.from = self.renamed(&draft.from).to_owned();
        draft.to = self.renamed(&draft.to).to_owned();
        for claim in &mut draft.claims {
            if let Some(claimant) = &claim.claimant {
                claim.claimant = Some(self.renamed(claimant).to_owned());
            }
        }
        draft
    }

    /// Whether any record or tie of the import is joined with another: when none is, the
    /// passes need not ask of each record.
    pub(super) fn joins_any(&self) -> bool {
        !self.shared.is_empty() || !self.shared_ties.is_empty()
    }

    /// Whether several records become the entity `id`.
    pub(super) fn is_shared(&self, id: &str) -> bool {
        self.shared.contains(id)
    }
}

/// Joins `incoming` (a record, under the id it resolved to) with the entity it is; `renamed`
/// when that is another id than the record asked for.
pub(super) fn join(existing: Option<&Entity>, incoming: Entity, renamed: bool) -> Entity {
    match existing {
        Some(existing) => {
            let mut joined = joined_entity(existing, incoming, !renamed);
            joined.created_at = existing.created_at;
            joined.updated_at = existing.updated_at;
            joined
        }
        None => incoming,
    }
}
