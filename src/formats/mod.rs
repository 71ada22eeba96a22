//! Reading and writing graph data from and to the outside world.
//!
//! Owns file formats: tiegraph's own JSON lines (the seed and import format, see
//! [`jsonl`]) and the seed directory. Readers turn bytes into the service's import items,
//! reporting bad records by line; writers turn what the service reads into bytes. It knows
//! the model and the service's API, and nothing of sled, petgraph, GraphQL or HTTP.

pub mod generate;
pub mod jsonl;
pub mod seed;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum FormatError {
    #[error("{file}:{line}: {message}")]
    BadLine { file: String, line: usize, message: String },
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}: {source}")]
    Service { file: String, source: crate::service::ServiceError },
}
