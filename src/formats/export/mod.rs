//! Exports of a subgraph (the whole graph, a neighbourhood, the union of a path query's paths)
//! for the tools analysts draw and compute with: Cytoscape.js, graphology (Sigma), NetworkX
//! node-link JSON, GraphML, GEXF 1.3 (Gephi) and CSV.
//!
//! Owns the format-neutral [`ExportGraph`] (entities, and relations with their standing and
//! claims, each claim with its source) built once from the service for a [`Scope`], the
//! attribute vocabulary every format shares (so `kind`, `standing`, `claims` mean the same in
//! all of them), and the choice of writer by [`ExportFormat`]. One file per format writes it.
//!
//! List-valued attributes (aliases, identifiers, claims) are JSON in the flat formats (XML and
//! CSV), so that nothing is lost: the CSV import reads them back. The `sources`,
//! `source_titles` and `source_urls` columns are "; "-joined conveniences for tools that filter
//! on text (Gephi, spreadsheets) and are not read back.

mod csv;
mod cytoscape;
mod gexf;
mod graphml;
mod graphology;
mod node_link;
mod scope;

use std::collections::HashMap;
use std::io::Write;

use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::model::{Claim, Entity, Relation, RelationWithClaims, Source, Standing};
use crate::service::{Service, ServiceError};

pub use scope::{PatternHop, Scope};

/// A document an export can be written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// Cytoscape.js elements JSON: `{elements: {nodes: [{data}], edges: [{data}]}}`.
    Cytoscape,
    /// graphology's serialized graph: `{attributes, options, nodes: [{key, attributes}], edges}`.
    Graphology,
    /// NetworkX node-link JSON with an `edges` key, directed multigraph.
    NodeLink,
    /// GraphML with every attribute declared as a `<key>`.
    Graphml,
    /// GEXF 1.3 with every attribute declared.
    Gexf,
    /// CSV, one row per entity.
    CsvNodes,
    /// CSV, one row per relation.
    CsvEdges,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 7] = [
        ExportFormat::Cytoscape,
        ExportFormat::Graphology,
        ExportFormat::NodeLink,
        ExportFormat::Graphml,
        ExportFormat::Gexf,
        ExportFormat::CsvNodes,
        ExportFormat::CsvEdges,
    ];

    /// The name used on the command line and in `GET /export?format=`.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Cytoscape => "cytoscape",
            ExportFormat::Graphology => "graphology",
            ExportFormat::NodeLink => "node-link",
            ExportFormat::Graphml => "graphml",
            ExportFormat::Gexf => "gexf",
            ExportFormat::CsvNodes => "csv-nodes",
            ExportFormat::CsvEdges => "csv-edges",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ExportError> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|f| f.name()).collect();
                ExportError::BadRequest(format!(
                    "unknown export format `{text}`; use one of {}",
                    names.join(", ")
                ))
            })
    }

    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Cytoscape | ExportFormat::Graphology | ExportFormat::NodeLink => {
                "application/json"
            }
            ExportFormat::Graphml => "application/graphml+xml",
            ExportFormat::Gexf => "application/gexf+xml",
            ExportFormat::CsvNodes | ExportFormat::CsvEdges => "text/csv; charset=utf-8",
        }
    }

    /// A file name for the download, e.g. `tiegraph-nodes.csv`.
    pub fn file_name(self) -> &'static str {
        match self {
            ExportFormat::Cytoscape => "tiegraph.cyjs.json",
            ExportFormat::Graphology => "tiegraph.graphology.json",
            ExportFormat::NodeLink => "tiegraph.node-link.json",
            ExportFormat::Graphml => "tiegraph.graphml",
            ExportFormat::Gexf => "tiegraph.gexf",
            ExportFormat::CsvNodes => "tiegraph-nodes.csv",
            ExportFormat::CsvEdges => "tiegraph-edges.csv",
        }
    }
}

/// Why an export failed.
#[derive(Debug, Error)]
pub enum ExportError {
    /// The request names an unknown format or scope, or its parameters do not fit together.
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl ExportError {
    /// The client asked for something that cannot be answered (as opposed to a failure here).
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            ExportError::BadRequest(_)
                | ExportError::Service(
                    ServiceError::BadQuery(_)
                        | ServiceError::NotFound { .. }
                        | ServiceError::Invalid(_)
                )
        )
    }
}

/// A claim with the source it cites, resolved, so every format can carry the citation.
#[derive(Debug, Clone)]
pub struct ExportClaim {
    pub claim: Claim,
    /// `None` only if the source vanished while the export was being built.
    pub source: Option<Source>,
}

/// A relation with its derived standing and its claims.
#[derive(Debug, Clone)]
pub struct ExportEdge {
    pub relation: Relation,
    pub standing: Standing,
    pub claims: Vec<ExportClaim>,
}

/// A subgraph ready to be written in any format: what it covers, its entities and relations.
#[derive(Debug, Clone, Default)]
pub struct ExportGraph {
    /// What the export covers, in words ("the whole graph", "the neighbourhood of cbp, depth 2").
    pub title: String,
    pub nodes: Vec<Entity>,
    pub edges: Vec<ExportEdge>,
    /// The search behind the scope stopped at a budget or cap: there is more than this.
    pub partial: bool,
}

impl ExportGraph {
    /// Reads what `scope` covers from the service.
    pub fn build(service: &Service, scope: &Scope) -> Result<Self, ExportError> {
        let (node_ids, edge_ids, partial) = scope.select(service)?;
        Self::from_ids(service, scope.describe(), node_ids, edge_ids, partial)
    }

    /// Reads these entities and relations (a subgraph another query found) from the service.
    pub fn from_ids(
        service: &Service,
        title: String,
        node_ids: Vec<String>,
        edge_ids: Vec<String>,
        partial: bool,
    ) -> Result<Self, ExportError> {
        let mut sources: HashMap<String, Option<Source>> = HashMap::new();
        let mut nodes = Vec::with_capacity(node_ids.len());
        for id in node_ids {
            // Deleted between the search and now: leave it out rather than fail the export.
            if let Some(entity) = service.entity(&id)? {
                nodes.push(entity);
            }
        }
        let mut edges = Vec::with_capacity(edge_ids.len());
        for id in edge_ids {
            let Some(RelationWithClaims { relation, claims }) = service.relation(&id)? else {
                continue;
            };
            let standing = service.standing(&relation, &claims);
            let mut cited = Vec::with_capacity(claims.len());
            for claim in claims {
                let source = match sources.get(&claim.source) {
                    Some(source) => source.clone(),
                    None => {
                        let source = service.source(&claim.source)?;
                        sources.insert(claim.source.clone(), source.clone());
                        source
                    }
                };
                cited.push(ExportClaim { claim, source });
            }
            edges.push(ExportEdge {
                relation,
                standing,
                claims: cited,
            });
        }
        Ok(ExportGraph {
            title,
            nodes,
            edges,
            partial,
        })
    }

    /// Writes the graph as `format`.
    pub fn write(&self, format: ExportFormat, out: impl Write) -> Result<(), ExportError> {
        match format {
            ExportFormat::Cytoscape => cytoscape::write(self, out),
            ExportFormat::Graphology => graphology::write(self, out),
            ExportFormat::NodeLink => node_link::write(self, out),
            ExportFormat::Graphml => graphml::write(self, out),
            ExportFormat::Gexf => gexf::write(self, out),
            ExportFormat::CsvNodes => csv::write_nodes(self, out),
            ExportFormat::CsvEdges => csv::write_edges(self, out),
        }
    }

    /// The graph as `format`, in memory (for GraphQL, which answers with a string).
    pub fn to_string(&self, format: ExportFormat) -> Result<String, ExportError> {
        let mut buffer = Vec::new();
        self.write(format, &mut buffer)?;
        String::from_utf8(buffer)
            .map_err(|e| ExportError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
    }
}

/// How a flat format types an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrType {
    Text,
    Double,
    Int,
}

/// An attribute's value in a flat format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttrValue {
    Text(String),
    Double(f64),
    Int(i64),
}

impl AttrValue {
    pub(crate) fn render(&self) -> String {
        match self {
            AttrValue::Text(text) => text.clone(),
            AttrValue::Double(value) => value.to_string(),
            AttrValue::Int(value) => value.to_string(),
        }
    }
}

/// The node attributes every flat format declares, in column order (after `id`).
pub(crate) const NODE_ATTRS: [(&str, AttrType); 8] = [
    ("label", AttrType::Text),
    ("kind", AttrType::Text),
    ("name", AttrType::Text),
    ("aliases", AttrType::Text),
    ("description", AttrType::Text),
    ("country", AttrType::Text),
    ("category", AttrType::Text),
    ("identifiers", AttrType::Text),
];

/// The edge attributes every flat format declares, in column order (after id, source, target).
pub(crate) const EDGE_ATTRS: [(&str, AttrType); 15] = [
    ("kind", AttrType::Text),
    ("status", AttrType::Text),
    ("standing", AttrType::Text),
    ("role", AttrType::Text),
    ("description", AttrType::Text),
    ("amount", AttrType::Double),
    ("currency", AttrType::Text),
    ("start", AttrType::Text),
    ("end", AttrType::Text),
    ("claim_count", AttrType::Int),
    ("sources", AttrType::Text),
    ("source_titles", AttrType::Text),
    ("source_urls", AttrType::Text),
    ("claims", AttrType::Text),
    ("label", AttrType::Text),
];

fn text(value: &str) -> Option<AttrValue> {
    Some(AttrValue::Text(value.to_owned()))
}

fn json_list<T: serde::Serialize>(items: &[T]) -> Option<AttrValue> {
    if items.is_empty() {
        return None;
    }
    serde_json::to_string(items).ok().map(AttrValue::Text)
}

/// `scheme:value`, the way identifiers are written everywhere in tiegraph.
fn identifier_strings(entity: &Entity) -> Vec<String> {
    entity
        .identifiers
        .iter()
        .map(|i| format!("{}:{}", i.scheme, i.value))
        .collect()
}

/// A node's flat attributes, aligned with [`NODE_ATTRS`]; `None` where it has no value.
pub(crate) fn node_values(entity: &Entity) -> [Option<AttrValue>; 8] {
    [
        text(&entity.name),
        text(entity.kind.as_str()),
        text(&entity.name),
        json_list(&entity.aliases),
        entity.description.as_deref().and_then(text),
        entity.country.as_deref().and_then(text),
        entity.category.as_deref().and_then(text),
        json_list(&identifier_strings(entity)),
    ]
}

fn joined(values: impl Iterator<Item = Option<String>>) -> Option<AttrValue> {
    let mut seen: Vec<String> = Vec::new();
    for value in values.flatten() {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    if seen.is_empty() {
        None
    } else {
        Some(AttrValue::Text(seen.join("; ")))
    }
}

/// An edge's flat attributes, aligned with [`EDGE_ATTRS`]; `None` where it has no value.
pub(crate) fn edge_values(edge: &ExportEdge) -> [Option<AttrValue>; 15] {
    let r = &edge.relation;
    let claims: Vec<Value> = edge.claims.iter().map(claim_json).collect();
    [
        text(r.kind.as_str()),
        r.status.map(|s| s.as_str()).and_then(text),
        text(edge.standing.as_str()),
        r.role.as_deref().and_then(text),
        r.description.as_deref().and_then(text),
        r.amount.as_ref().map(|a| AttrValue::Double(a.value)),
        r.amount.as_ref().and_then(|a| text(&a.currency)),
        r.period.start.map(|d| AttrValue::Text(d.to_string())),
        r.period.end.map(|d| AttrValue::Text(d.to_string())),
        Some(AttrValue::Int(edge.claims.len() as i64)),
        joined(edge.claims.iter().map(|c| Some(c.claim.source.clone()))),
        joined(
            edge.claims
                .iter()
                .map(|c| c.source.as_ref().map(|s| s.title.clone())),
        ),
        joined(
            edge.claims
                .iter()
                .map(|c| c.source.as_ref().and_then(|s| s.url.clone())),
        ),
        serde_json::to_string(&claims).ok().map(AttrValue::Text),
        text(r.kind.as_str()),
    ]
}

/// A claim and its source as JSON; the same object in every format (as a string in flat ones).
pub(crate) fn claim_json(cited: &ExportClaim) -> Value {
    let c = &cited.claim;
    let mut claim = Map::new();
    claim.insert("id".into(), json!(c.id));
    claim.insert("stance".into(), json!(c.stance.as_str()));
    if let Some(claimant) = &c.claimant {
        claim.insert("claimant".into(), json!(claimant));
    }
    claim.insert("quote".into(), json!(c.quote));
    let mut source = Map::new();
    source.insert("id".into(), json!(c.source));
    if let Some(s) = &cited.source {
        source.insert("title".into(), json!(s.title));
        if let Some(publisher) = &s.publisher {
            source.insert("publisher".into(), json!(publisher));
        }
        if let Some(url) = &s.url {
            source.insert("url".into(), json!(url));
        }
        if let Some(published) = &s.published {
            source.insert("published".into(), json!(published.to_string()));
        }
    }
    claim.insert("source".into(), Value::Object(source));
    Value::Object(claim)
}

/// A node's attributes for the JSON formats: lists stay lists.
pub(crate) fn node_json(entity: &Entity) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("label".into(), json!(entity.name));
    data.insert("kind".into(), json!(entity.kind.as_str()));
    data.insert("name".into(), json!(entity.name));
    data.insert("aliases".into(), json!(entity.aliases));
    if let Some(description) = &entity.description {
        data.insert("description".into(), json!(description));
    }
    if let Some(country) = &entity.country {
        data.insert("country".into(), json!(country));
    }
    if let Some(category) = &entity.category {
        data.insert("category".into(), json!(category));
    }
    data.insert("identifiers".into(), json!(identifier_strings(entity)));
    data
}

/// An edge's attributes for the JSON formats: `claims` is a list of objects, each with its source.
pub(crate) fn edge_json(edge: &ExportEdge) -> Map<String, Value> {
    let r = &edge.relation;
    let mut data = Map::new();
    data.insert("label".into(), json!(r.kind.as_str()));
    data.insert("kind".into(), json!(r.kind.as_str()));
    if let Some(status) = r.status {
        data.insert("status".into(), json!(status.as_str()));
    }
    data.insert("standing".into(), json!(edge.standing.as_str()));
    if let Some(role) = &r.role {
        data.insert("role".into(), json!(role));
    }
    if let Some(description) = &r.description {
        data.insert("description".into(), json!(description));
    }
    if let Some(amount) = &r.amount {
        data.insert("amount".into(), json!(amount.value));
        data.insert("currency".into(), json!(amount.currency));
    }
    if let Some(start) = r.period.start {
        data.insert("start".into(), json!(start.to_string()));
    }
    if let Some(end) = r.period.end {
        data.insert("end".into(), json!(end.to_string()));
    }
    let mut sources: Vec<&str> = Vec::new();
    for claim in &edge.claims {
        if !sources.contains(&claim.claim.source.as_str()) {
            sources.push(&claim.claim.source);
        }
    }
    data.insert("sources".into(), json!(sources));
    data.insert(
        "claims".into(),
        Value::Array(edge.claims.iter().map(claim_json).collect()),
    );
    data
}

/// What the JSON formats put at graph level.
pub(crate) fn graph_json(graph: &ExportGraph) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("name".into(), json!(graph.title));
    data.insert(
        "generator".into(),
        json!(concat!("tiegraph ", env!("CARGO_PKG_VERSION"))),
    );
    data.insert("partial".into(), json!(graph.partial));
    data
}

/// Escapes text for XML content or a double-quoted attribute. Line breaks and tabs become
/// character references because parsers turn literal ones inside attributes into spaces, and
/// characters XML 1.0 cannot hold at all (most C0 controls) are dropped.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// An attribute whose value is escaped by [`xml_escape`] (quick-xml's own escaping keeps line
/// breaks literal, which attribute normalisation would turn into spaces).
pub(crate) fn xml_attr<'a>(
    key: &'a str,
    value: &str,
) -> quick_xml::events::attributes::Attribute<'a> {
    quick_xml::events::attributes::Attribute {
        key: quick_xml::name::QName(key),
        value: std::borrow::Cow::Owned(xml_escape(value)),
    }
}
