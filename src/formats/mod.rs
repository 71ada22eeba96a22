//! Reading and writing graph data from and to the outside world.
//!
//! Owns file formats: tiegraph's own JSON lines (the seed and import format, see
//! [`jsonl`]), the seed directory, FollowTheMoney entity JSON lines ([`ftm`]), CSV nodes and
//! edges ([`csv_import`], the columns [`export`] writes) and the exports ([`export`]).
//! Readers turn bytes into the service's import items, reporting bad records by file and
//! line; writers turn what the service reads into bytes. It knows the model and the service's
//! API, and nothing of sled, petgraph's internals, GraphQL or HTTP.

pub mod batch;
pub mod csv_import;
pub mod export;
pub mod ftm;
pub mod generate;
pub mod jsonl;
pub mod seed;

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
