//! The domain model: entities, relations, sources, claims and the rules they obey.
//!
//! Owns the plain types every other layer passes around, their validation, and the
//! derivation of a relation's standing from its claims. It knows nothing of sled,
//! petgraph, GraphQL or HTTP: serde is its only outside dependency, so any layer
//! may use it and it may use none of them.

mod date;
mod error;
mod kinds;
mod records;
mod standing;
mod validate;

pub use date::{DaySpan, PartialDate, Period, Timestamp};
pub use error::ModelError;
pub use kinds::{Direction, EntityKind, RelationKind, Stance, Standing, Status};
pub use records::{
    identifier_key, Amount, Claim, ClaimDraft, Entity, EntityDraft, EntityPatch, Identifier,
    Relation, RelationDraft, RelationPatch, RelationWithClaims, Source, SourceDraft, SourcePatch,
};
pub use standing::derive_standing;
pub use validate::{
    check_slug, is_country_code, search_words, slugify, validate_claim, validate_entity,
    validate_relation, validate_source,
};
