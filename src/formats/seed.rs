//! The seed: the data set an empty store starts with, kept as JSON lines in `seed/`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::service::{ImportSummary, Service};

use super::{jsonl, FormatError};

/// Imports every `*.jsonl` file of `dir`, in name order, one import (all or nothing) per file.
pub fn load_dir(
    service: &Service,
    dir: &Path,
) -> Result<Vec<(String, ImportSummary)>, FormatError> {
    let listing = std::fs::read_dir(dir).map_err(|source| FormatError::Io {
        file: dir.display().to_string(),
        source,
    })?;
    let mut files: Vec<_> = listing
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort();
    let mut summaries = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let file = File::open(&path).map_err(|source| FormatError::Io {
            file: name.clone(),
            source,
        })?;
        let items = jsonl::read(BufReader::new(file), &name)?;
        let summary = service
            .import(items, &|_, _| {})
            .map_err(|source| FormatError::Service {
                file: name.clone(),
                source,
            })?;
        summaries.push((name, summary));
    }
    Ok(summaries)
}
