use serde::Serialize;

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

/// Which sort of record changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordType {
    Entity,
    Relation,
    Source,
    Claim,
}

/// One committed change, announced after it is durable and indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub record: RecordType,
    pub id: String,
    /// The entities the change touches (the entity itself, or a relation's two ends), so a
    /// subscriber can follow just the entities on its screen.
    pub entities: Vec<String>,
}
