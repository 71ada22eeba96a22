use thiserror::Error;

use crate::model::ModelError;
use crate::store::StoreError;

/// Why the service refused or failed a request. Each variant maps to one GraphQL error code
/// (see the api layer); the messages are written for the client's user.
#[derive(Debug, Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] ModelError),
    #[error("no {what} has the id `{id}`{}", did_you_mean(suggestions))]
    NotFound {
        what: &'static str,
        id: String,
        field: &'static str,
        /// Ids the caller may have meant.
        suggestions: Vec<String>,
    },
    #[error("the id `{id}` is already taken by {}", article(what))]
    AlreadyExists { what: &'static str, id: String },
    #[error("entity `{id}` {}; delete those first or pass cascade: true", in_use(*relations, *claims))]
    HasRelations {
        id: String,
        relations: usize,
        claims: usize,
    },
    #[error("relation `{id}` already ties `{from}` to `{to}` as {kind}: add this claim to it with addClaim(relation: \"{id}\", ...), or give the new relation an id of its own if it is a separate tie")]
    SameTie {
        id: String,
        from: String,
        to: String,
        kind: &'static str,
    },
    #[error("relation `{relation}` already has this claim (`{id}`): same source, stance, claimant and quote")]
    DuplicateClaim { id: String, relation: String },
    #[error("source `{id}` is cited by {count} claim(s); delete those claims first")]
    SourceInUse { id: String, count: usize },
    #[error("claim `{id}` is the last claim of relation `{relation}`: a relation needs a claim; delete the relation instead")]
    LastClaim { id: String, relation: String },
    /// The request contradicts what the graph holds in a way only a person can settle: a
    /// record whose identifiers name two entities, an unmerge after the merged records changed.
    #[error("{message}")]
    Conflict { message: String },
    /// A query's arguments that cannot be answered as asked (a pattern, a cursor, a bound);
    /// the message names which.
    #[error("{0}")]
    BadQuery(String),
    #[error("{}{message}", place(file.as_deref(), *line))]
    BadRecord {
        /// The input's name, once the caller has said it.
        file: Option<String>,
        line: Option<usize>,
        message: String,
    },
    // Transparent: the store's own message says what failed, and a wrapper that repeated it
    // would show it twice in a chain of causes.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Backup(#[from] crate::store::BackupError),
    #[error("the service is shutting down or a background task failed")]
    Unavailable,
    /// A write sent to a read replica.
    #[error("this server is a read replica: send writes to the writer{}", writer.as_deref().map(|w| format!(" at {w}")).unwrap_or_default())]
    ReadOnly { writer: Option<String> },
    /// The writer could not put a commit into the change log, or writes are halted until it
    /// has settled one; nothing was acknowledged.
    #[error("the write was not acknowledged: {0}")]
    LogUnavailable(String),
    #[error("too many searches are running or waiting; try again shortly")]
    Busy,
}

fn article(what: &str) -> String {
    match what.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {what}"),
        _ => format!("a {what}"),
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!(
            "; did you mean one of {}?",
            many.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn in_use(relations: usize, claims: usize) -> String {
    let mut parts = Vec::new();
    if relations > 0 {
        parts.push(format!("is an end of {relations} relation(s)"));
    }
    if claims > 0 {
        parts.push(format!("made claims about {claims} other relation(s)"));
    }
    parts.join(" and ")
}

fn place(file: Option<&str>, line: Option<usize>) -> String {
    match (file, line) {
        (Some(file), Some(line)) => format!("{file}:{line}: "),
        (Some(file), None) => format!("{file}: "),
        (None, Some(line)) => format!("line {line}: "),
        (None, None) => String::new(),
    }
}

impl ServiceError {
    /// Names the input a record error came from, so it reads `FILE:LINE: …`.
    pub fn in_file(self, name: &str) -> Self {
        match self {
            ServiceError::BadRecord {
                file: None,
                line,
                message,
            } => ServiceError::BadRecord {
                file: Some(name.to_owned()),
                line,
                message,
            },
            other => other,
        }
    }

    pub(crate) fn not_found(what: &'static str, id: &str, field: &'static str) -> Self {
        ServiceError::NotFound {
            what,
            id: id.to_owned(),
            field,
            suggestions: Vec::new(),
        }
    }
}
