use serde::{Deserialize, Serialize};

use super::{EntityKind, PartialDate, Period, RelationKind, Stance, Status, Timestamp};

/// An identifier an entity has in another register (`wikidata:Q…`, `ein:…`, `uei:…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identifier {
    pub scheme: String,
    pub value: String,
}

impl Identifier {
    /// Whether the identifier names one thing wherever it is found, so that two records holding
    /// it are one entity. Registration numbers repeat from one register or country to the next:
    /// they are kept and found by searches, but join nothing.
    pub fn resolves(&self) -> bool {
        !self.scheme.trim().eq_ignore_ascii_case("registration")
    }

    /// The identifier as searches and resolution compare them: `scheme:value`, trimmed,
    /// lower case.
    pub fn key(&self) -> String {
        identifier_key(&self.scheme, &self.value)
    }

    pub fn same_as(&self, other: &Identifier) -> bool {
        self.key() == other.key()
    }
}

/// [`Identifier::key`] of a scheme and value.
pub fn identifier_key(scheme: &str, value: &str) -> String {
    format!(
        "{}:{}",
        scheme.trim().to_lowercase(),
        value.trim().to_lowercase()
    )
}

/// A company, government body, nonprofit, person or informal group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub id: String,
    pub kind: EntityKind,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    /// Free text refining the kind: "department", "federal agency", "union".
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub identifiers: Vec<Identifier>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A sum of money in an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amount {
    pub value: f64,
    pub currency: String,
}

/// A directed tie between two entities. Its claims are kept apart, keyed by relation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub id: String,
    pub kind: RelationKind,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub amount: Option<Amount>,
    #[serde(default)]
    pub period: Period,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A document that reports ties: an article, letter, statement, filing or dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub publisher: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub published: Option<PartialDate>,
    pub created_at: Timestamp,
}

/// A source's report that a relation holds (or does not), in someone's words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub id: String,
    pub relation: String,
    pub source: String,
    pub stance: Stance,
    /// Who made the statement; `None` when the source reports it in its own voice.
    #[serde(default)]
    pub claimant: Option<String>,
    pub quote: String,
    pub recorded_at: Timestamp,
}

/// What a client supplies to create an entity; the id is derived from the name when absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityDraft {
    #[serde(default)]
    pub id: Option<String>,
    pub kind: EntityKind,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub identifiers: Vec<Identifier>,
}

/// A change to an entity: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityPatch {
    pub kind: Option<EntityKind>,
    pub name: Option<String>,
    pub aliases: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub category: Option<Option<String>>,
    pub identifiers: Option<Vec<Identifier>>,
}

impl EntityPatch {
    /// The entity as it would be after this patch.
    pub fn apply_to(&self, entity: &Entity, now: Timestamp) -> Entity {
        let mut next = entity.clone();
        if let Some(kind) = self.kind {
            next.kind = kind;
        }
        if let Some(name) = &self.name {
            next.name = name.clone();
        }
        if let Some(aliases) = &self.aliases {
            next.aliases = aliases.clone();
        }
        if let Some(description) = &self.description {
            next.description = description.clone();
        }
        if let Some(country) = &self.country {
            next.country = country.clone();
        }
        if let Some(category) = &self.category {
            next.category = category.clone();
        }
        if let Some(identifiers) = &self.identifiers {
            next.identifiers = identifiers.clone();
        }
        next.updated_at = now;
        next
    }
}

/// What a client supplies to create a source; the id is derived from the title when absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceDraft {
    #[serde(default)]
    pub id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub publisher: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub published: Option<String>,
}

/// A change to a source: absent fields stay as they are; `Some(None)` clears one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourcePatch {
    pub title: Option<String>,
    pub publisher: Option<Option<String>>,
    pub url: Option<Option<String>>,
    pub published: Option<Option<String>>,
}

/// What a client supplies to add a claim to a relation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimDraft {
    pub source: String,
    #[serde(default)]
    pub stance: Stance,
    #[serde(default)]
    pub claimant: Option<String>,
    pub quote: String,
}

/// What a client supplies to create a relation: the tie and the first claim for it,
/// because nothing enters the graph without a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationDraft {
    #[serde(default)]
    pub id: Option<String>,
    pub kind: RelationKind,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub amount: Option<Amount>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    pub claims: Vec<ClaimDraft>,
}

/// A change to a relation's qualifiers; its kind and ends are what it is, and stay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RelationPatch {
    pub status: Option<Option<Status>>,
    pub role: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub amount: Option<Option<Amount>>,
    pub start: Option<Option<String>>,
    pub end: Option<Option<String>>,
}

/// A relation together with its claims, as one commit left them: stored, read and announced as
/// one unit, so nobody sees a relation without the claims that support it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationWithClaims {
    pub relation: Relation,
    /// In the order they were recorded.
    pub claims: Vec<Claim>,
}
