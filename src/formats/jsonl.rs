//! tiegraph's JSON lines: one record per line, `type` saying which.
//!
//! ```text
//! {"type":"source","id":"…","title":"…","publisher":"…","url":"https://…","published":"2019-07"}
//! {"type":"entity","id":"cbp","kind":"AGENCY","name":"U.S. Customs and Border Protection","aliases":["CBP"]}
//! {"type":"relation","id":"…","kind":"VENDOR_TO","from":"salesforce","to":"cbp","status":"ACTIVE",
//!  "claims":[{"source":"…","stance":"ASSERTS","claimant":"marc-benioff","quote":"CBP is a customer …"}]}
//! ```
//! Blank lines and lines starting with `#` are skipped, so a file can explain itself.
//! Unknown fields are errors: in a hand-edited file they are typos.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::model::{
    Amount, ClaimDraft, EntityDraft, EntityKind, Identifier, RelationDraft, RelationKind,
    RelationWithClaims, SourceDraft, Stance, Status,
};
use crate::service::{ImportItem, Service, ServiceError};

use super::FormatError;

/// One line of the format.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Record {
    Source(SourceRecord),
    Entity(EntityRecord),
    Relation(RelationRecord),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub kind: EntityKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<IdentifierRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifierRecord {
    pub scheme: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountRecord {
    pub value: f64,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRecord {
    pub source: String,
    #[serde(default)]
    pub stance: Stance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimant: Option<String>,
    pub quote: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub kind: RelationKind,
    pub from: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<AmountRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    pub claims: Vec<ClaimRecord>,
}

impl From<Record> for ImportItem {
    fn from(record: Record) -> Self {
        match record {
            Record::Source(s) => ImportItem::Source(SourceDraft {
                id: s.id,
                title: s.title,
                publisher: s.publisher,
                url: s.url,
                published: s.published,
            }),
            Record::Entity(e) => ImportItem::Entity(EntityDraft {
                id: e.id,
                kind: e.kind,
                name: e.name,
                aliases: e.aliases,
                description: e.description,
                country: e.country,
                category: e.category,
                identifiers: e
                    .identifiers
                    .into_iter()
                    .map(|i| Identifier {
                        scheme: i.scheme,
                        value: i.value,
                    })
                    .collect(),
            }),
            Record::Relation(r) => ImportItem::Relation(RelationDraft {
                id: r.id,
                kind: r.kind,
                from: r.from,
                to: r.to,
                status: r.status,
                role: r.role,
                description: r.description,
                amount: r.amount.map(|a| Amount {
                    value: a.value,
                    currency: a.currency,
                }),
                start: r.start,
                end: r.end,
                claims: r
                    .claims
                    .into_iter()
                    .map(|c| ClaimDraft {
                        source: c.source,
                        stance: c.stance,
                        claimant: c.claimant,
                        quote: c.quote,
                    })
                    .collect(),
            }),
        }
    }
}

/// Reads every record of `input`, numbering lines from 1. `file` names the input in errors.
pub fn read(input: impl BufRead, file: &str) -> Result<Vec<(usize, ImportItem)>, FormatError> {
    stream(input, file.to_owned()).collect()
}

/// The records of `input` one at a time, for inputs too big to hold: the first bad line ends
/// the stream with its error (a line that is not UTF-8 included, by file and line).
pub fn stream(
    input: impl BufRead,
    file: String,
) -> impl Iterator<Item = Result<(usize, ImportItem), FormatError>> {
    super::numbered_lines(input, file.clone()).filter_map(move |line| {
        let (line_number, line) = match line {
            Ok(numbered) => numbered,
            Err(e) => return Some(Err(e)),
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return None;
        }
        Some(
            serde_json::from_str::<Record>(trimmed)
                .map(|record| (line_number, record.into()))
                .map_err(|e| FormatError::BadLine {
                    file: file.clone(),
                    line: line_number,
                    message: e.to_string(),
                }),
        )
    })
}

/// [`stream`] as an import takes it: read errors become the service's record errors, still
/// naming the file and line.
pub fn import_items(
    input: impl BufRead,
    file: String,
) -> impl Iterator<Item = Result<(usize, ImportItem), ServiceError>> {
    let name = file.clone();
    stream(input, file).map(move |record| {
        record.map_err(|e| match e {
            FormatError::BadLine {
                file,
                line,
                message,
            } => ServiceError::BadRecord {
                file: Some(file),
                line: Some(line),
                message,
            },
            other => ServiceError::BadRecord {
                file: Some(name.clone()),
                line: None,
                message: other.to_string(),
            },
        })
    })
}

/// Writes the whole graph as it is now, from a snapshot (writes that land meanwhile are left
/// out): sources, then entities, then relations with their claims, each in id order (but for
/// records changed while the snapshot was read, which end their part), so that reading the
/// output into an empty store gives back the same graph.
pub fn write_all(service: &Service, mut out: impl Write) -> Result<(), WriteError> {
    let snapshot = service.snapshot();
    for source in snapshot.sources() {
        let s = source.map_err(ServiceError::from)?;
        let record = Record::Source(SourceRecord {
            id: Some(s.id),
            title: s.title,
            publisher: s.publisher,
            url: s.url,
            published: s.published.map(|d| d.to_string()),
        });
        write_line(&mut out, &record)?;
    }
    for entity in snapshot.entities() {
        let e = entity.map_err(ServiceError::from)?;
        let record = Record::Entity(EntityRecord {
            id: Some(e.id),
            kind: e.kind,
            name: e.name,
            aliases: e.aliases,
            description: e.description,
            country: e.country,
            category: e.category,
            identifiers: e
                .identifiers
                .into_iter()
                .map(|i| IdentifierRecord {
                    scheme: i.scheme,
                    value: i.value,
                })
                .collect(),
        });
        write_line(&mut out, &record)?;
    }
    for relation in snapshot.relations() {
        let RelationWithClaims {
            relation: r,
            claims,
        } = relation.map_err(ServiceError::from)?;
        let claims = claims
            .into_iter()
            .map(|c| ClaimRecord {
                source: c.source,
                stance: c.stance,
                claimant: c.claimant,
                quote: c.quote,
            })
            .collect();
        let record = Record::Relation(RelationRecord {
            id: Some(r.id),
            kind: r.kind,
            from: r.from,
            to: r.to,
            status: r.status,
            role: r.role,
            description: r.description,
            amount: r.amount.map(|a| AmountRecord {
                value: a.value,
                currency: a.currency,
            }),
            start: r.period.start.map(|d| d.to_string()),
            end: r.period.end.map(|d| d.to_string()),
            claims,
        });
        write_line(&mut out, &record)?;
    }
    out.flush()?;
    Ok(())
}

/// Why writing failed: reading the store, or the output.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("cannot write the output: {0}")]
    Io(#[from] std::io::Error),
}

pub fn write_line(out: &mut impl Write, record: &Record) -> Result<(), std::io::Error> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")
}
