//! CSV nodes and edges, in the columns the CSV export writes (`tiegraph export --format
//! csv-nodes` / `csv-edges`), so that an export imports back as it was.
//!
//! Owns the reading side of those columns. Nodes: `id`, `kind`, `name` required; `aliases`
//! and `identifiers` as JSON lists (`["CBP"]`, `["wikidata:Q…"]`); `description`, `country`,
//! `category` text; `label` ignored. Edges: `id`, `source`, `target`, `kind`, `claims`
//! required; `claims` a JSON list of `{stance, claimant?, quote, source: {id, title?,
//! publisher?, url?, published?}}` (a source given with a title is created or updated; one
//! given by id alone must exist); `status`, `role`, `description`, `amount` + `currency`,
//! `start`, `end` optional; `standing` and the `claim_count`, `sources`, `source_titles`,
//! `source_urls`, `label` columns are derived, so they are ignored. Other columns are errors:
//! in a hand-made file they are typos. An empty cell means no value.

use std::collections::HashMap;
use std::io::Read;

use serde::Deserialize;

use crate::model::{
    Amount, ClaimDraft, EntityDraft, EntityKind, Identifier, RelationDraft, RelationKind,
    SourceDraft, Stance, Status,
};
use crate::service::ImportItem;

use super::{FormatError, ImportBatch, Origin};

const NODE_COLUMNS: [&str; 9] = [
    "id",
    "kind",
    "name",
    "aliases",
    "description",
    "country",
    "category",
    "identifiers",
    "label",
];
const EDGE_COLUMNS: [&str; 18] = [
    "id",
    "source",
    "target",
    "kind",
    "status",
    "standing",
    "role",
    "description",
    "amount",
    "currency",
    "start",
    "end",
    "claim_count",
    "sources",
    "source_titles",
    "source_urls",
    "claims",
    "label",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimCell {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    stance: Stance,
    #[serde(default)]
    claimant: Option<String>,
    quote: String,
    source: SourceCell,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceCell {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    publisher: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    published: Option<String>,
}

/// A row by column name, with the file and line for errors.
struct Row<'a> {
    cells: HashMap<&'a str, String>,
    file: &'a str,
    line: usize,
}

impl Row<'_> {
    fn bad(&self, message: impl Into<String>) -> FormatError {
        FormatError::BadLine {
            file: self.file.to_owned(),
            line: self.line,
            message: message.into(),
        }
    }

    fn get(&self, column: &str) -> Option<String> {
        self.cells
            .get(column)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    fn required(&self, column: &str) -> Result<String, FormatError> {
        self.get(column)
            .ok_or_else(|| self.bad(format!("`{column}` is empty")))
    }

    fn json_list<T: for<'de> Deserialize<'de>>(&self, column: &str) -> Result<Vec<T>, FormatError> {
        match self.get(column) {
            None => Ok(Vec::new()),
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                self.bad(format!(
                    "`{column}` is not a JSON list as the export writes it: {e}"
                ))
            }),
        }
    }

    fn origin(&self) -> Origin {
        Origin {
            file: self.file.to_owned(),
            line: self.line,
        }
    }
}

/// Reads every row of a CSV file with a header, checking the header against `known`.
fn rows<'a>(
    input: impl Read,
    file: &'a str,
    known: &[&'static str],
    required: &[&str],
) -> Result<Vec<Row<'a>>, FormatError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let bad = |line: usize, message: String| FormatError::BadLine {
        file: file.to_owned(),
        line,
        message,
    };
    let headers = reader
        .byte_headers()
        .map_err(|e| bad(1, e.to_string()))?
        .clone();
    let header_line = headers.position().map_or(1, |p| p.line() as usize);
    let headers = text_record(headers, header_line, file, &[])?;
    let columns: Vec<&'static str> = headers
        .iter()
        .map(|h| {
            known
                .iter()
                .find(|k| **k == h.trim())
                .copied()
                .ok_or_else(|| {
                    bad(
                        1,
                        format!("unknown column `{h}`; the columns are {}", known.join(", ")),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    for column in required {
        if !columns.contains(column) {
            return Err(bad(1, format!("the header has no `{column}` column")));
        }
    }
    let mut rows = Vec::new();
    for record in reader.byte_records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            bad(line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let record = text_record(record, line, file, &columns)?;
        let cells = columns
            .iter()
            .copied()
            .zip(record.iter().map(str::to_owned))
            .collect();
        rows.push(Row { cells, file, line });
    }
    Ok(rows)
}

/// A record as text. One that is not UTF-8 is a bad line: the line its first bad byte is on
/// (`line` is where the record starts; a quoted cell may hold line breaks), and its column.
fn text_record(
    record: ::csv::ByteRecord,
    line: usize,
    file: &str,
    columns: &[&str],
) -> Result<::csv::StringRecord, FormatError> {
    ::csv::StringRecord::from_byte_record(record).map_err(|e| {
        let (field, valid_up_to) = (e.utf8_error().field(), e.utf8_error().valid_up_to());
        let record = e.into_byte_record();
        let before = record.iter().take(field);
        let bad_cell = record
            .get(field)
            .map(|cell| &cell[..valid_up_to.min(cell.len())]);
        let breaks: usize = before
            .chain(bad_cell)
            .map(|cell| cell.iter().filter(|&&b| b == b'\n').count())
            .sum();
        let column = match columns.get(field) {
            Some(name) => format!("column `{name}`"),
            None => format!("field {}", field + 1),
        };
        FormatError::BadLine {
            file: file.to_owned(),
            line: line + breaks,
            message: format!("the line is not valid UTF-8 (in {column})"),
        }
    })
}

/// Reads a nodes file and an edges file into one batch (imported all or nothing).
pub fn read(
    nodes: impl Read,
    nodes_file: &str,
    edges: impl Read,
    edges_file: &str,
) -> Result<ImportBatch, FormatError> {
    let mut batch = ImportBatch::new();
    for row in rows(nodes, nodes_file, &NODE_COLUMNS, &["id", "kind", "name"])? {
        let kind = row.required("kind")?;
        let kind = EntityKind::parse(&kind)
            .ok_or_else(|| row.bad(format!("`{kind}` is not an entity kind")))?;
        let identifiers: Vec<String> = row.json_list("identifiers")?;
        let identifiers = identifiers
            .into_iter()
            .map(|text| match text.split_once(':') {
                Some((scheme, value)) => Ok(Identifier {
                    scheme: scheme.to_owned(),
                    value: value.to_owned(),
                }),
                None => Err(row.bad(format!("identifier `{text}` is not scheme:value"))),
            })
            .collect::<Result<_, _>>()?;
        let draft = EntityDraft {
            id: Some(row.required("id")?),
            kind,
            name: row.required("name")?,
            aliases: row.json_list("aliases")?,
            description: row.get("description"),
            country: row.get("country"),
            category: row.get("category"),
            identifiers,
        };
        batch.push(row.origin(), ImportItem::Entity(draft))?;
    }
    for row in rows(
        edges,
        edges_file,
        &EDGE_COLUMNS,
        &["id", "source", "target", "kind", "claims"],
    )? {
        let kind = row.required("kind")?;
        let kind = RelationKind::parse(&kind)
            .ok_or_else(|| row.bad(format!("`{kind}` is not a relation kind")))?;
        let status = match row.get("status") {
            None => None,
            Some(s) => {
                Some(Status::parse(&s).ok_or_else(|| row.bad(format!("`{s}` is not a status")))?)
            }
        };
        let amount = match (row.get("amount"), row.get("currency")) {
            (None, None) => None,
            (Some(value), Some(currency)) => Some(Amount {
                value: value
                    .parse()
                    .map_err(|_| row.bad(format!("amount `{value}` is not a number")))?,
                currency,
            }),
            _ => return Err(row.bad("`amount` and `currency` go together")),
        };
        let cells: Vec<ClaimCell> = row.json_list("claims")?;
        if cells.is_empty() {
            return Err(
                row.bad("`claims` is empty: a relation needs at least one claim citing a source")
            );
        }
        let mut claims = Vec::with_capacity(cells.len());
        for cell in cells {
            // The claim id is the store's (relation id and sequence); claims match by content.
            let _ = cell.id;
            if let Some(title) = cell.source.title {
                let source = SourceDraft {
                    id: Some(cell.source.id.clone()),
                    title,
                    publisher: cell.source.publisher,
                    url: cell.source.url,
                    published: cell.source.published,
                };
                batch.push_source_once(row.origin(), source)?;
            }
            claims.push(ClaimDraft {
                source: cell.source.id,
                stance: cell.stance,
                claimant: cell.claimant,
                quote: cell.quote,
            });
        }
        let draft = RelationDraft {
            id: Some(row.required("id")?),
            kind,
            from: row.required("source")?,
            to: row.required("target")?,
            status,
            role: row.get("role"),
            description: row.get("description"),
            amount,
            start: row.get("start"),
            end: row.get("end"),
            claims,
        };
        batch.push(row.origin(), ImportItem::Relation(draft))?;
    }
    Ok(batch)
}
