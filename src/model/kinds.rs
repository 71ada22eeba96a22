use serde::{Deserialize, Serialize};

/// What sort of actor an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityKind {
    Company,
    Agency,
    Nonprofit,
    Person,
    Group,
}

impl EntityKind {
    pub const ALL: [EntityKind; 5] = [
        EntityKind::Company,
        EntityKind::Agency,
        EntityKind::Nonprofit,
        EntityKind::Person,
        EntityKind::Group,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Company => "COMPANY",
            EntityKind::Agency => "AGENCY",
            EntityKind::Nonprofit => "NONPROFIT",
            EntityKind::Person => "PERSON",
            EntityKind::Group => "GROUP",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// An organisation of any form: what a relation like `PART_OF` or `OWNS` may point at.
    pub fn is_organisation(self) -> bool {
        !matches!(self, EntityKind::Person | EntityKind::Group)
    }
}

/// What sort of tie a relation is. Relations are directed; see each kind for which end is which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RelationKind {
    VendorTo,
    PartOf,
    OfficerOf,
    EmployeeOf,
    MemberOf,
    Owns,
    Donation,
    Lobbied,
    Pressured,
    AssociatedWith,
}

impl RelationKind {
    pub const ALL: [RelationKind; 10] = [
        RelationKind::VendorTo,
        RelationKind::PartOf,
        RelationKind::OfficerOf,
        RelationKind::EmployeeOf,
        RelationKind::MemberOf,
        RelationKind::Owns,
        RelationKind::Donation,
        RelationKind::Lobbied,
        RelationKind::Pressured,
        RelationKind::AssociatedWith,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::VendorTo => "VENDOR_TO",
            RelationKind::PartOf => "PART_OF",
            RelationKind::OfficerOf => "OFFICER_OF",
            RelationKind::EmployeeOf => "EMPLOYEE_OF",
            RelationKind::MemberOf => "MEMBER_OF",
            RelationKind::Owns => "OWNS",
            RelationKind::Donation => "DONATION",
            RelationKind::Lobbied => "LOBBIED",
            RelationKind::Pressured => "PRESSURED",
            RelationKind::AssociatedWith => "ASSOCIATED_WITH",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// A small dense number for bitsets in the graph index.
    pub fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// The statuses that make sense for this kind of tie.
    pub fn allowed_statuses(self) -> &'static [Status] {
        use Status::*;
        match self {
            RelationKind::VendorTo => &[Active, Ended, Threatened, Cancelled],
            RelationKind::Donation => &[Offered, Accepted, Declined, Returned],
            RelationKind::PartOf
            | RelationKind::OfficerOf
            | RelationKind::EmployeeOf
            | RelationKind::MemberOf
            | RelationKind::Owns
            | RelationKind::Lobbied
            | RelationKind::Pressured
            | RelationKind::AssociatedWith => &[Active, Ended],
        }
    }
}

/// Where a tie stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Active,
    Ended,
    Threatened,
    Cancelled,
    Offered,
    Accepted,
    Declined,
    Returned,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Active,
        Status::Ended,
        Status::Threatened,
        Status::Cancelled,
        Status::Offered,
        Status::Accepted,
        Status::Declined,
        Status::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::Ended => "ENDED",
            Status::Threatened => "THREATENED",
            Status::Cancelled => "CANCELLED",
            Status::Offered => "OFFERED",
            Status::Accepted => "ACCEPTED",
            Status::Declined => "DECLINED",
            Status::Returned => "RETURNED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// Whether a claim says a tie exists or says it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Stance {
    #[default]
    Asserts,
    Denies,
}

impl Stance {
    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Asserts => "ASSERTS",
            Stance::Denies => "DENIES",
        }
    }
}

/// How well a relation is supported, derived from its claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Standing {
    Confirmed,
    Reported,
    Disputed,
    Denied,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Confirmed => "CONFIRMED",
            Standing::Reported => "REPORTED",
            Standing::Disputed => "DISPUTED",
            Standing::Denied => "DENIED",
        }
    }
}

/// Which way a traversal may follow a relation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    /// From the relation's `from` end to its `to` end.
    Out,
    /// From the relation's `to` end back to its `from` end.
    In,
    /// Either way.
    #[default]
    Any,
}
