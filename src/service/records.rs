//! Records made from drafts and checked on their own, with the id rules and the claim
//! de-duplication rule: shared by every way records come in (mutations and every import).

use crate::model::{
    slugify, validate_claim, validate_entity, validate_source, Claim, ClaimDraft, Entity,
    EntityDraft, ModelError, PartialDate, Period, Relation, RelationDraft, RelationKind, Source,
    SourceDraft, Timestamp,
};
use crate::store::claim_id;

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

/// How a record that comes in joins the entity the store holds: under the same id, the fields
/// it gives replace the stored ones; resolved to another entity (by an identifier), the stored
/// fields stay, the record's fill those missing, and its name becomes an alias. Names and
/// identifiers are only ever added, so that records from several sources about one entity can
/// be imported in any order, and again, without undoing each other.
pub(super) fn joined_entity(existing: &Entity, incoming: Entity, same_id: bool) -> Entity {
    let mut joined = existing.clone();
    let names: Vec<String> = if same_id {
        joined.kind = incoming.kind;
        joined.name = incoming.name;
        joined.description = incoming.description.or(joined.description);
        joined.country = incoming.country.or(joined.country);
        joined.category = incoming.category.or(joined.category);
        incoming.aliases
    } else {
        joined.description = joined.description.or(incoming.description);
        joined.country = joined.country.or(incoming.country);
        joined.category = joined.category.or(incoming.category);
        std::iter::once(incoming.name)
            .chain(incoming.aliases)
            .collect()
    };
    for name in names {
        let folded = name.trim().to_lowercase();
        let known = std::iter::once(&joined.name)
            .chain(&joined.aliases)
            .any(|n| n.trim().to_lowercase() == folded);
        if !known {
            joined.aliases.push(name);
        }
    }
    // A name that is now the entity's name is no longer an alias of it.
    let name = joined.name.trim().to_lowercase();
    joined.aliases.retain(|a| a.trim().to_lowercase() != name);
    for identifier in incoming.identifiers {
        if !joined.identifiers.iter().any(|i| i.same_as(&identifier)) {
            joined.identifiers.push(identifier);
        }
    }
    joined
}

/// The id a relation gets when its draft has none: its ends and kind, `acme-vendor-to-cbp`.
pub(super) fn derived_relation_id(draft: &RelationDraft) -> String {
    derived_relation_id_of(draft.kind, &draft.from, &draft.to)
}

pub(super) fn derived_relation_id_of(kind: RelationKind, from: &str, to: &str) -> String {
    let kind = kind.as_str().to_lowercase().replace('_', "-");
    format!("{from}-{kind}-{to}")
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

/// The one rule for when two claims are the same statement: same source, stance, claimant
/// and quote. A relation never holds the same statement twice, whichever way it came in.
pub(super) fn same_statement(claim: &Claim, draft: &ClaimDraft) -> bool {
    (&claim.source, claim.stance, &claim.claimant, &claim.quote)
        == (&draft.source, draft.stance, &draft.claimant, &draft.quote)
}

/// The claim numbered `n` of `relation` from its draft, recorded `now`, checked on its own.
/// Errors name the field as `claims[i].field` when `position` is given.
pub(super) fn claim_record(
    relation: &str,
    n: u32,
    draft: ClaimDraft,
    now: Timestamp,
    position: Option<usize>,
) -> Result<Claim, ModelError> {
    let claim = Claim {
        id: claim_id(relation, n),
        relation: relation.to_owned(),
        source: draft.source,
        stance: draft.stance,
        claimant: draft.claimant,
        quote: draft.quote,
        recorded_at: now,
    };
    validate_claim(&claim).map_err(|ModelError::Invalid { field, message }| {
        let field = match position {
            Some(i) => format!("claims[{i}].{field}"),
            None => format!("claim.{field}"),
        };
        ModelError::Invalid { field, message }
    })?;
    Ok(claim)
}

/// `existing` claims followed by the drafts that are new statements, numbered from `next`;
/// returns the claims, how many were added, and the number the next claim will get. Errors
/// name a draft's field by its position when `positioned` (imports carry a list of claims;
/// `createRelation` takes one).
pub(super) fn merge_claims(
    relation: &str,
    mut claims: Vec<Claim>,
    mut next: u32,
    drafts: Vec<ClaimDraft>,
    now: Timestamp,
    positioned: bool,
) -> Result<(Vec<Claim>, usize, u32), ModelError> {
    let mut added = 0;
    for (i, draft) in drafts.into_iter().enumerate() {
        if claims.iter().any(|c| same_statement(c, &draft)) {
            continue;
        }
        claims.push(claim_record(
            relation,
            next,
            draft,
            now,
            positioned.then_some(i),
        )?);
        next += 1;
        added += 1;
    }
    Ok((claims, added, next))
}

/// Claims moving to the relation `relation` (a merge re-points ties): `existing` followed by
/// those of `incoming` that are new statements there, renumbered from `next`, each keeping
/// when it was recorded. Returns the claims and the number the next claim will get.
pub(super) fn moved_claims(
    relation: &str,
    mut claims: Vec<Claim>,
    mut next: u32,
    incoming: Vec<Claim>,
) -> (Vec<Claim>, u32) {
    for claim in incoming {
        let statement = ClaimDraft {
            source: claim.source.clone(),
            stance: claim.stance,
            claimant: claim.claimant.clone(),
            quote: claim.quote.clone(),
        };
        if claims.iter().any(|c| same_statement(c, &statement)) {
            continue;
        }
        claims.push(Claim {
            id: claim_id(relation, next),
            relation: relation.to_owned(),
            ..claim
        });
        next += 1;
    }
    (claims, next)
}
