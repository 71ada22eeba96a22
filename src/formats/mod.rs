//! Reading and writing graph data from and to the outside world.
//!
//! Owns file formats: tiegraph's own JSON lines (the seed and import format, see
//! [`jsonl`]), the seed directory, FollowTheMoney entity JSON lines ([`ftm`]), CSV nodes and
//! edges ([`csv_import`], the columns [`export`] writes), LittleSis's bulk entity and
//! relationship JSON ([`littlesis`]), USAspending.gov contract award CSVs ([`usaspending`]) and
//! the exports ([`export`]).
//! Readers turn bytes into the service's import items, reporting bad records by file and
//! line; writers turn what the service reads into bytes. It knows the model and the service's
//! API, and nothing of sled, petgraph's internals, GraphQL or HTTP.

pub mod batch;
pub mod csv_import;
pub mod export;
pub mod ftm;
pub mod generate;
pub mod jsonl;
pub mod littlesis;
pub mod seed;
pub mod usaspending;

use std::io::BufRead;

use thiserror::Error;

pub use batch::{ImportBatch, Origin};

#[derive(Debug, Error)]
pub enum FormatError {
    #[error("{file}:{line}: {message}")]
    BadLine {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: {source}")]
    Service {
        file: String,
        source: crate::service::ServiceError,
    },
}

/// The lines of `input` numbered from 1, without their `\n` or `\r\n`: `BufRead::lines`, but a
/// line that is not UTF-8 is a [`FormatError::BadLine`] naming `file`, the line and the byte.
/// The first error ends them.
pub(crate) fn numbered_lines(
    input: impl BufRead,
    file: String,
) -> impl Iterator<Item = Result<(usize, String), FormatError>> {
    let mut input = input;
    let mut line = 0usize;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut bytes = Vec::new();
        match input.read_until(b'\n', &mut bytes) {
            Ok(0) => {
                done = true;
                None
            }
            Ok(_) => {
                line += 1;
                if bytes.last() == Some(&b'\n') {
                    bytes.pop();
                    if bytes.last() == Some(&b'\r') {
                        bytes.pop();
                    }
                }
                match String::from_utf8(bytes) {
                    Ok(text) => Some(Ok((line, text))),
                    Err(e) => {
                        done = true;
                        Some(Err(FormatError::BadLine {
                            file: file.clone(),
                            line,
                            message: format!(
                                "the line is not valid UTF-8 (byte {})",
                                e.utf8_error().valid_up_to() + 1
                            ),
                        }))
                    }
                }
            }
            Err(source) => {
                done = true;
                Some(Err(FormatError::Io {
                    file: file.clone(),
                    source,
                }))
            }
        }
    })
}

/// A relation that passes every rule of the model but those a caller sets up to test: readers
/// ask the model what it accepts instead of repeating its rules.
pub(crate) fn probe_relation(kind: crate::model::RelationKind) -> crate::model::Relation {
    crate::model::Relation {
        id: "probe".into(),
        kind,
        from: "a".into(),
        to: "b".into(),
        status: None,
        role: None,
        description: None,
        amount: None,
        period: crate::model::Period::default(),
        created_at: crate::model::Timestamp(0),
        updated_at: crate::model::Timestamp(0),
    }
}

/// Whether the model accepts a relation of `kind` between ends of these kinds.
pub(crate) fn fits(
    kind: crate::model::RelationKind,
    from: crate::model::EntityKind,
    to: crate::model::EntityKind,
) -> bool {
    crate::model::validate_relation(&probe_relation(kind), from, to).is_ok()
}
