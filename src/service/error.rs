use thiserror::Error;

use crate::model::ModelError;
use crate::store::StoreError;

/// Why the service refused or failed a request. Each variant maps to one GraphQL error code
/// (see the api layer); the messages are written for the client's user.
#[derive(Debug, Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] ModelError),
    #[error("no {what} has the id `{id}`")]
    NotFound {
        what: &'static str,
        id: String,
        field: &'static str,
    },
    #[error("the id `{id}` is already taken by a {what}")]
    AlreadyExists { what: &'static str, id: String },
    #[error(
        "entity `{id}` still has {count} relation(s); delete them first or pass cascade: true"
    )]
    HasRelations { id: String, count: usize },
    #[error("source `{id}` is cited by {count} claim(s); delete those claims first")]
    SourceInUse { id: String, count: usize },
    #[error("claim `{id}` is the last claim of relation `{relation}`: a relation needs a claim; delete the relation instead")]
    LastClaim { id: String, relation: String },
    #[error("invalid pattern: {0}")]
    BadQuery(String),
    #[error("{line_prefix}{message}", line_prefix = line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    BadRecord {
        line: Option<usize>,
        message: String,
    },
    #[error("storage failure: {0}")]
    Store(#[from] StoreError),
    #[error("backup failed: {0}")]
    Backup(#[from] crate::store::BackupError),
    #[error("the service is shutting down or a background task failed")]
    Unavailable,
}

impl ServiceError {
    pub(crate) fn not_found(what: &'static str, id: &str, field: &'static str) -> Self {
        ServiceError::NotFound {
            what,
            id: id.to_owned(),
            field,
        }
    }
}
