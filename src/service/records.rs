//! Records made from drafts and checked on their own: shared by every way records come in.

use crate::model::{
    slugify, validate_entity, validate_source, Entity, EntityDraft, ModelError, PartialDate,
    Period, Relation, RelationDraft, Source, SourceDraft, Timestamp,
};

/// A source from its draft, its id made from the title when absent, recorded `now`.
pub(super) fn source_record(
    draft: SourceDraft,
    now: Timestamp,
) -> std::result::Result<Source, ModelError> {
    let source = Source {
        id: draft.id.unwrap_or_else(|| slugify(&draft.title)),
        title: draft.title,
        publisher: draft.publisher,
        url: draft.url,
        published: draft
            .published
            .as_deref()
            .map(|d| PartialDate::parse(d, "published"))
            .transpose()?,
        created_at: now,
    };
    validate_source(&source)?;
    Ok(source)
}

/// An entity from its draft, its id made from the name when absent, recorded `now`.
pub(super) fn entity_record(
    draft: EntityDraft,
    now: Timestamp,
) -> std::result::Result<Entity, ModelError> {
    let entity = Entity {
        id: draft.id.unwrap_or_else(|| slugify(&draft.name)),
        kind: draft.kind,
        name: draft.name,
        aliases: draft.aliases,
        description: draft.description,
        country: draft.country,
        category: draft.category,
        identifiers: draft.identifiers,
        created_at: now,
        updated_at: now,
    };
    validate_entity(&entity)?;
    Ok(entity)
}

/// The id a relation gets when its draft has none: its ends and kind, `acme-vendor-to-cbp`.
pub(super) fn derived_relation_id(draft: &RelationDraft) -> String {
    let kind = draft.kind.as_str().to_lowercase().replace('_', "-");
    format!("{}-{kind}-{}", draft.from, draft.to)
}

/// A relation from its draft under `id`, recorded `now`; its claims are the caller's, and so is
/// checking it against its ends' kinds.
pub(super) fn relation_record(
    id: String,
    draft: &RelationDraft,
    now: Timestamp,
) -> Result<Relation, ModelError> {
    let date = |text: &Option<String>, field| {
        text.as_deref()
            .map(|d| PartialDate::parse(d, field))
            .transpose()
    };
    Ok(Relation {
        id,
        kind: draft.kind,
        from: draft.from.clone(),
        to: draft.to.clone(),
        status: draft.status,
        role: draft.role.clone(),
        description: draft.description.clone(),
        amount: draft.amount.clone(),
        period: Period {
            start: date(&draft.start, "start")?,
            end: date(&draft.end, "end")?,
        },
        created_at: now,
        updated_at: now,
    })
}
