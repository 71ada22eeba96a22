//! GraphQL input objects and their conversion to the service's drafts and requests.

use std::time::Duration;

use async_graphql::{InputObject, MaybeUndefined, Result, ID};

use crate::graph::{BudgetLimits, EntityKindSet, HopSpec, KindSet};
use crate::model::{self, PartialDate};

use super::enums::{
    Direction, EntityKind, EntityOrderField, OrderDirection, RelationKind, RelationOrderField,
    Stance, Standing, Status,
};
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

/// Which entities a list keeps. Every condition given must hold; an empty filter keeps all.
#[derive(InputObject, Default)]
pub struct EntityFilter {
    /// Only entities of these kinds.
    pub kinds: Option<Vec<EntityKind>>,
    /// Only entities of this country (ISO 3166-1 alpha-2, any case).
    pub country: Option<String>,
    /// Only entities with an identifier in this register (`uei`, `ein`, `wikidata`), any case.
    pub identifier_scheme: Option<String>,
    /// Only entities with this identifier, written `scheme:value` (`uei:J7M9HPTGJ1S9`), any case.
    pub identifier: Option<String>,
    /// Only entities whose names, aliases or description hold these words, in any order,
    /// ignoring case and accents (`customs border`, `cafe`). Without `orderBy`, the best
    /// matches come first (see `Query.entities`).
    pub text: Option<String>,
    /// Only entities that last changed at or after this time: RFC 3339
    /// (`2025-06-01T12:00:00Z`) or a date (`2025-06-01`, midnight UTC).
    pub updated_since: Option<String>,
    /// Only entities that last changed before this time, written as `updatedSince` is.
    pub updated_before: Option<String>,
}

impl EntityFilter {
    /// The query it asks for; `field` names the argument it came in, for errors.
    pub fn query(self, field: &str) -> Result<crate::graph::EntityQuery> {
        if self.identifier.as_deref().is_some_and(|i| !i.contains(':')) {
            return Err(bad_input(
                &format!("{field}.identifier"),
                "an identifier is written `scheme:value`, e.g. `uei:J7M9HPTGJ1S9`",
            ));
        }
        if self
            .identifier_scheme
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            return Err(bad_input(
                &format!("{field}.identifierScheme"),
                "an identifier scheme is a register's name, such as `uei`",
            ));
        }
        let since = instant(self.updated_since, &format!("{field}.updatedSince"))?;
        let before = instant(self.updated_before, &format!("{field}.updatedBefore"))?;
        let kinds: Vec<model::EntityKind> = self
            .kinds
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(
            crate::graph::EntityQuery::new(&kinds, self.country, self.identifier)
                .scheme(self.identifier_scheme.as_deref())
                .updated(since, before)
                .text(self.text.as_deref()),
        )
    }
}

/// A time written in RFC 3339 or as a date (midnight UTC).
fn instant(text: Option<String>, field: &str) -> Result<Option<model::Timestamp>> {
    let Some(text) = text else {
        return Ok(None);
    };
    let refused = || {
        bad_input(
            field,
            format!(
                "`{text}` is not a time: write RFC 3339 (`2025-06-01T12:00:00Z`) or a date (`2025-06-01`)"
            ),
        )
    };
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let at = match time::OffsetDateTime::parse(text.trim(), rfc3339) {
        Ok(at) => at,
        Err(_) => {
            let date = time::format_description::parse_borrowed::<2>("[year]-[month]-[day]")
                .map_err(|_| refused())?;
            time::Date::parse(text.trim(), &date)
                .map_err(|_| refused())?
                .midnight()
                .assume_utc()
        }
    };
    let millis = at.unix_timestamp_nanos() / 1_000_000;
    Ok(Some(model::Timestamp(
        i64::try_from(millis).map_err(|_| refused())?,
    )))
}

/// A span of time by partial dates; either end may be left open.
#[derive(InputObject)]
pub struct DateRange {
    /// The first day: YYYY, YYYY-MM or YYYY-MM-DD (its earliest day).
    pub from: Option<String>,
    /// The last day: YYYY, YYYY-MM or YYYY-MM-DD (its latest day).
    pub to: Option<String>,
}

/// Which relations a list keeps. Every condition given must hold; an empty filter keeps all
/// but those whose every claim denies them (see `includeDenied` and `standings`).
#[derive(InputObject, Default)]
pub struct RelationFilter {
    /// Only relations of these kinds.
    pub kinds: Option<Vec<RelationKind>>,
    /// Only relations with one of these statuses (a relation with no status has none).
    pub statuses: Option<Vec<Status>>,
    /// Only relations of these standings; listing DENIED keeps denied relations.
    pub standings: Option<Vec<Standing>>,
    /// Only relations that may have held at some time in this range (a relation with no
    /// period may have held at any time).
    pub held_between: Option<DateRange>,
}

impl RelationFilter {
    /// The query it asks for, on top of `include_denied`; `field` names its argument.
    pub fn query(self, include_denied: bool, field: &str) -> Result<crate::graph::RelationQuery> {
        let kinds: Vec<model::RelationKind> = self
            .kinds
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let statuses: Vec<model::Status> = self
            .statuses
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let standings: Vec<model::Standing> = self
            .standings
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let during = match self.held_between {
            None => None,
            Some(range) => {
                let date = |text: Option<String>, end: &str| {
                    let field = format!("{field}.heldBetween.{end}");
                    text.map(|t| {
                        PartialDate::parse(&t, &field).map_err(|e| bad_input(&field, e.to_string()))
                    })
                    .transpose()
                };
                let period = model::Period {
                    start: date(range.from, "from")?,
                    end: date(range.to, "to")?,
                };
                let span = model::DaySpan::from(period);
                if span.from > span.until {
                    return Err(bad_input(
                        &format!("{field}.heldBetween"),
                        "the range ends before it starts",
                    ));
                }
                Some(span)
            }
        };
        let edges = crate::graph::EdgeFilter {
            kinds: KindSet::of(&kinds),
            include_denied,
            as_of: None,
        };
        Ok(crate::graph::RelationQuery::new(edges)
            .statuses(&statuses)
            .standings(&standings)
            .during(during))
    }
}

/// The order of a list of entities.
#[derive(InputObject)]
pub struct EntityOrder {
    /// What to order by.
    pub field: EntityOrderField,
    /// Which way.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// The order of a list of relations.
#[derive(InputObject)]
pub struct RelationOrder {
    /// What to order by.
    pub field: RelationOrderField,
    /// Which way.
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl From<EntityOrder> for crate::graph::Order {
    fn from(order: EntityOrder) -> Self {
        use crate::graph::OrderField;
        crate::graph::Order {
            field: match order.field {
                EntityOrderField::Id => OrderField::Id,
                EntityOrderField::Name => OrderField::Name,
                EntityOrderField::Degree => OrderField::Degree,
                EntityOrderField::UpdatedAt => OrderField::UpdatedAt,
            },
            descending: order.direction == OrderDirection::Desc,
        }
    }
}

impl From<RelationOrder> for crate::graph::Order {
    fn from(order: RelationOrder) -> Self {
        use crate::graph::OrderField;
        crate::graph::Order {
            field: match order.field {
                RelationOrderField::Id => OrderField::Id,
                RelationOrderField::Name => OrderField::Name,
                RelationOrderField::Degree => OrderField::Degree,
                RelationOrderField::UpdatedAt => OrderField::UpdatedAt,
            },
            descending: order.direction == OrderDirection::Desc,
        }
    }
}

/// Refuses a deprecated argument given beside the filter that replaces it.
pub fn one_way(filter_given: bool, old: &[(&str, bool)], filter: &str) -> Result<()> {
    match old.iter().find(|(_, given)| *given) {
        Some((name, _)) if filter_given => Err(bad_input(
            name,
            format!("`{name}` is an older way to say what `{filter}` says: give `{filter}` alone"),
        )),
        _ => Ok(()),
    }
}
