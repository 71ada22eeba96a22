//! GraphQL input objects and their conversion to the service's drafts and requests.

use std::time::Duration;

use async_graphql::{InputObject, MaybeUndefined, Result, ID};

use crate::graph::{BudgetLimits, EntityKindSet, HopSpec, KindSet};
use crate::model::{self, PartialDate};

use super::enums::{Direction, EntityKind, RelationKind, Stance, Status};
use super::error::bad_input;

/// An identifier in another register.
#[derive(InputObject)]
pub struct IdentifierInput {
    /// The register: `wikidata`, `ein`, `uei`, …
    pub scheme: String,
    /// The identifier in it.
    pub value: String,
}

fn identifiers(input: Option<Vec<IdentifierInput>>) -> Vec<model::Identifier> {
    input
        .unwrap_or_default()
        .into_iter()
        .map(|i| model::Identifier {
            scheme: i.scheme,
            value: i.value,
        })
        .collect()
}

/// A new entity.
#[derive(InputObject)]
pub struct CreateEntityInput {
    /// A slug (lower-case words joined by dashes); made from the name when absent.
    pub id: Option<ID>,
    /// What sort of actor it is.
    pub kind: EntityKind,
    /// The name it is best known by.
    pub name: String,
    /// Other names it goes by.
    pub aliases: Option<Vec<String>>,
    /// What it is, in a sentence.
    pub description: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// Free text refining the kind.
    pub category: Option<String>,
    /// Identifiers in other registers.
    pub identifiers: Option<Vec<IdentifierInput>>,
}

impl From<CreateEntityInput> for model::EntityDraft {
    fn from(input: CreateEntityInput) -> Self {
        model::EntityDraft {
            id: input.id.map(|id| id.0),
            kind: input.kind.into(),
            name: input.name,
            aliases: input.aliases.unwrap_or_default(),
            description: input.description,
            country: input.country,
            category: input.category,
            identifiers: identifiers(input.identifiers),
        }
    }
}

/// Changes to an entity: absent fields stay as they are; null clears an optional field.
#[derive(InputObject)]
pub struct UpdateEntityInput {
    /// A new kind; refused if a relation of the entity would no longer make sense.
    pub kind: Option<EntityKind>,
    /// A new name.
    pub name: Option<String>,
    /// The full new list of aliases.
    pub aliases: Option<Vec<String>>,
    /// A new description, or null to clear it.
    pub description: MaybeUndefined<String>,
    /// A new country code, or null to clear it.
    pub country: MaybeUndefined<String>,
    /// A new category, or null to clear it.
    pub category: MaybeUndefined<String>,
    /// The full new list of identifiers.
    pub identifiers: Option<Vec<IdentifierInput>>,
}

fn patch<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

impl From<UpdateEntityInput> for model::EntityPatch {
    fn from(input: UpdateEntityInput) -> Self {
        model::EntityPatch {
            kind: input.kind.map(Into::into),
            name: input.name,
            aliases: input.aliases,
            description: patch(input.description),
            country: patch(input.country),
            category: patch(input.category),
            identifiers: input.identifiers.map(|i| identifiers(Some(i))),
        }
    }
}

/// A document that reports ties.
#[derive(InputObject)]
pub struct SourceInput {
    /// A slug; made from the title when absent.
    pub id: Option<ID>,
    /// Its title or headline.
    pub title: String,
    /// Who published it.
    pub publisher: Option<String>,
    /// Where to read it: an http(s) URL.
    pub url: Option<String>,
    /// When it was published: YYYY, YYYY-MM or YYYY-MM-DD.
    pub published: Option<String>,
}

impl From<SourceInput> for model::SourceDraft {
    fn from(input: SourceInput) -> Self {
        model::SourceDraft {
            id: input.id.map(|id| id.0),
            title: input.title,
            publisher: input.publisher,
            url: input.url,
            published: input.published,
        }
    }
}

/// A change to a source: fields left out stay as they are; null clears an optional one.
#[derive(InputObject)]
pub struct UpdateSourceInput {
    /// A new title or headline.
    pub title: Option<String>,
    /// A new publisher, or null to clear it.
    pub publisher: MaybeUndefined<String>,
    /// A new http(s) URL, or null to clear it.
    pub url: MaybeUndefined<String>,
    /// A new publication date (YYYY, YYYY-MM or YYYY-MM-DD), or null to clear it.
    pub published: MaybeUndefined<String>,
}

impl From<UpdateSourceInput> for model::SourcePatch {
    fn from(input: UpdateSourceInput) -> Self {
        model::SourcePatch {
            title: input.title,
            publisher: patch(input.publisher),
            url: patch(input.url),
            published: patch(input.published),
        }
    }
}

/// A sum of money.
#[derive(InputObject)]
pub struct AmountInput {
    /// The sum, non-negative.
    pub value: f64,
    /// ISO 4217 currency code, such as USD.
    pub currency: String,
}

impl From<AmountInput> for model::Amount {
    fn from(input: AmountInput) -> Self {
        model::Amount {
            value: input.value,
            currency: input.currency,
        }
    }
}

/// A source's report about a relation.
#[derive(InputObject)]
pub struct ClaimInput {
    /// The id of the source that reports it.
    pub source: ID,
    /// Whether the source says the tie exists (ASSERTS) or not (DENIES).
    #[graphql(default_with = "Some(Stance::Asserts)")]
    pub stance: Option<Stance>,
    /// The entity who made the statement; absent when the source says it in its own voice.
    pub claimant: Option<ID>,
    /// The words of the source, verbatim.
    pub quote: String,
}

impl From<ClaimInput> for model::ClaimDraft {
    fn from(input: ClaimInput) -> Self {
        model::ClaimDraft {
            source: input.source.0,
            stance: input.stance.unwrap_or(Stance::Asserts).into(),
            claimant: input.claimant.map(|c| c.0),
            quote: input.quote,
        }
    }
}

/// A new relation, with the claim that reports it.
#[derive(InputObject)]
pub struct CreateRelationInput {
    /// A slug; made from the ends and kind when absent.
    pub id: Option<ID>,
    /// What sort of tie it is.
    pub kind: RelationKind,
    /// The id of the entity it goes from.
    pub from: ID,
    /// The id of the entity it goes to.
    pub to: ID,
    /// Where the tie stands; must suit the kind.
    pub status: Option<Status>,
    /// The capacity or form of the tie.
    pub role: Option<String>,
    /// What the tie is, in a sentence.
    pub description: Option<String>,
    /// Money involved.
    pub amount: Option<AmountInput>,
    /// When it began: YYYY, YYYY-MM or YYYY-MM-DD.
    pub start: Option<String>,
    /// When it ended: YYYY, YYYY-MM or YYYY-MM-DD.
    pub end: Option<String>,
    /// The claim reporting it: nothing enters the graph without a source.
    pub claim: ClaimInput,
}

impl From<CreateRelationInput> for model::RelationDraft {
    fn from(input: CreateRelationInput) -> Self {
        model::RelationDraft {
            id: input.id.map(|id| id.0),
            kind: input.kind.into(),
            from: input.from.0,
            to: input.to.0,
            status: input.status.map(Into::into),
            role: input.role,
            description: input.description,
            amount: input.amount.map(Into::into),
            start: input.start,
            end: input.end,
            claims: vec![input.claim.into()],
        }
    }
}

/// Changes to a relation's qualifiers: absent fields stay, null clears. Its kind and ends stay.
#[derive(InputObject)]
pub struct UpdateRelationInput {
    /// A new status, or null to clear it.
    pub status: MaybeUndefined<Status>,
    /// A new role, or null to clear it.
    pub role: MaybeUndefined<String>,
    /// A new description, or null to clear it.
    pub description: MaybeUndefined<String>,
    /// A new amount, or null to clear it.
    pub amount: MaybeUndefined<AmountInput>,
    /// A new start date, or null to clear it.
    pub start: MaybeUndefined<String>,
    /// A new end date, or null to clear it.
    pub end: MaybeUndefined<String>,
}

impl From<UpdateRelationInput> for model::RelationPatch {
    fn from(input: UpdateRelationInput) -> Self {
        model::RelationPatch {
            status: patch(input.status).map(|s| s.map(Into::into)),
            role: patch(input.role),
            description: patch(input.description),
            amount: patch(input.amount).map(|a| a.map(Into::into)),
            start: patch(input.start),
            end: patch(input.end),
        }
    }
}

/// One hop of a path pattern, like Cypher's `-[:KINDS*min..max]->(:ENTITY_KINDS)`.
#[derive(InputObject)]
pub struct HopInput {
    /// Relation kinds the hop may cross (any when absent).
    pub relation_kinds: Option<Vec<RelationKind>>,
    /// OUT follows relations from→to, IN to→from, ANY either way.
    #[graphql(default_with = "Some(Direction::Any)")]
    pub direction: Option<Direction>,
    /// Kinds the entity at the end of the hop may be (any when absent); entities passed
    /// within a repeated hop are not filtered.
    pub entity_kinds: Option<Vec<EntityKind>>,
    /// Fewest relations the hop crosses (0 lets the hop be skipped).
    #[graphql(default_with = "Some(1)")]
    pub min_repeat: Option<i32>,
    /// Most relations the hop crosses.
    #[graphql(default_with = "Some(1)")]
    pub max_repeat: Option<i32>,
}

pub fn hop_specs(pattern: Vec<HopInput>) -> Result<Vec<HopSpec>> {
    pattern
        .into_iter()
        .enumerate()
        .map(|(i, hop)| {
            let repeat = |n: i32, name: &str| {
                u32::try_from(n).map_err(|_| {
                    bad_input(
                        &format!("pattern[{i}].{name}"),
                        format!("{name} must not be negative"),
                    )
                })
            };
            let kinds: Vec<model::RelationKind> = hop
                .relation_kinds
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect();
            let entity_kinds: Vec<model::EntityKind> = hop
                .entity_kinds
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect();
            Ok(HopSpec {
                kinds: KindSet::of(&kinds),
                direction: hop.direction.unwrap_or(Direction::Any).into(),
                entity_kinds: EntityKindSet::of(&entity_kinds),
                min_repeat: repeat(hop.min_repeat.unwrap_or(1), "minRepeat")?,
                max_repeat: repeat(hop.max_repeat.unwrap_or(1), "maxRepeat")?,
            })
        })
        .collect()
}

/// How much work a search may do; the server's own limits apply when these are higher.
#[derive(InputObject)]
pub struct BudgetInput {
    /// Relations the search may examine.
    pub max_visits: Option<i32>,
    /// Milliseconds the search may take.
    pub max_millis: Option<i32>,
}

pub fn budget(input: Option<BudgetInput>) -> Result<Option<BudgetLimits>> {
    let Some(input) = input else { return Ok(None) };
    let server = BudgetLimits::default();
    let visits = match input.max_visits {
        Some(n) if n <= 0 => {
            return Err(bad_input("budget.maxVisits", "maxVisits must be positive"))
        }
        Some(n) => n as u64,
        None => server.max_visits,
    };
    let time = match input.max_millis {
        Some(n) if n <= 0 => {
            return Err(bad_input("budget.maxMillis", "maxMillis must be positive"))
        }
        Some(n) => Duration::from_millis(n as u64),
        None => server.max_time,
    };
    Ok(Some(BudgetLimits {
        max_visits: visits,
        max_time: time,
    }))
}

pub fn as_of(input: Option<String>) -> Result<Option<PartialDate>> {
    input
        .map(|text| PartialDate::parse(&text, "asOf").map_err(|e| bad_input("asOf", e.to_string())))
        .transpose()
}
