//! An import gathered from one or more files, remembering where each record came from, so
//! that whatever the service refuses is reported as `file:line`, and ids a file gives twice are
//! caught with both places named before the service sees them.

use std::collections::HashMap;

use crate::model::SourceDraft;
use crate::service::{ImportItem, ImportSummary, LoadPhase, Service, ServiceError};

use super::FormatError;

/// A file and a line in it (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Import items with their origins, plus notes on what the reader left out and why.
#[derive(Debug, Default)]
pub struct ImportBatch {
    items: Vec<ImportItem>,
    origins: Vec<Origin>,
    ids: HashMap<(&'static str, String), usize>,
    /// What was read but not imported (schemata tiegraph has no kind for, …), for the user.
    pub notes: Vec<String>,
}

impl ImportBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn items(&self) -> &[ImportItem] {
        &self.items
    }

    /// Adds an item; an id given twice is an error naming both places.
    pub fn push(&mut self, origin: Origin, item: ImportItem) -> Result<(), FormatError> {
        let key = match &item {
            ImportItem::Entity(e) => e.id.clone().map(|id| ("entity", id)),
            ImportItem::Source(s) => s.id.clone().map(|id| ("source", id)),
            ImportItem::Relation(r) => r.id.clone().map(|id| ("relation", id)),
        };
        if let Some(key) = key {
            if let Some(&first) = self.ids.get(&key) {
                return Err(FormatError::BadLine {
                    file: origin.file,
                    line: origin.line,
                    message: format!(
                        "duplicate {} id `{}` (first at {})",
                        key.0, key.1, self.origins[first]
                    ),
                });
            }
            self.ids.insert(key, self.items.len());
        }
        self.items.push(item);
        self.origins.push(origin);
        Ok(())
    }

    /// Adds a source several records cite: the same source again is skipped, a different one
    /// under the same id is an error.
    pub fn push_source_once(
        &mut self,
        origin: Origin,
        source: SourceDraft,
    ) -> Result<(), FormatError> {
        if let Some(id) = &source.id {
            if let Some(&first) = self.ids.get(&("source", id.clone())) {
                if matches!(&self.items[first], ImportItem::Source(s) if *s == source) {
                    return Ok(());
                }
                return Err(FormatError::BadLine {
                    file: origin.file,
                    line: origin.line,
                    message: format!(
                        "source `{id}` differs from the one first given at {}",
                        self.origins[first]
                    ),
                });
            }
        }
        self.push(origin, ImportItem::Source(source))
    }

    /// Validates everything, then writes it all or nothing; a refused record is reported by
    /// the file and line it came from.
    pub fn import(
        self,
        service: &Service,
        progress: &dyn Fn(LoadPhase, u64),
    ) -> Result<ImportSummary, FormatError> {
        let ImportBatch { items, origins, .. } = self;
        // The service numbers records by what it is given: hand it positions, map them back.
        let numbered = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| (i + 1, item))
            .collect();
        service
            .import(numbered, progress)
            .map_err(|error| match error {
                ServiceError::BadRecord {
                    line: Some(n),
                    message,
                    ..
                } => match origins.get(n.wrapping_sub(1)) {
                    Some(origin) => FormatError::BadLine {
                        file: origin.file.clone(),
                        line: origin.line,
                        message,
                    },
                    None => FormatError::Service {
                        file: files(&origins),
                        source: ServiceError::BadRecord {
                            file: None,
                            line: Some(n),
                            message,
                        },
                    },
                },
                other => FormatError::Service {
                    file: files(&origins),
                    source: other,
                },
            })
    }
}

fn files(origins: &[Origin]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for origin in origins {
        if !names.contains(&origin.file.as_str()) {
            names.push(&origin.file);
        }
    }
    if names.is_empty() {
        "(no input)".to_owned()
    } else {
        names.join(", ")
    }
}
