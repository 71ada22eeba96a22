//! Exports of a subgraph (the whole graph, a neighbourhood, the union of a path query's paths)
//! for the tools analysts draw and compute with: Cytoscape.js, graphology (Sigma), NetworkX
//! node-link JSON, GraphML, GEXF 1.2 (Gephi, NetworkX) and CSV.
//!
//! Owns the [`ExportPlan`] (a [`Scope`] searched once, then written record by record: entities,
//! and relations with their standing and claims, each claim with its source), the attribute
//! vocabulary every format shares (so `kind`, `standing`, `claims` mean the same in all of
//! them), and the choice of writer by [`ExportFormat`]. One file per format writes it as a
//! stream: a header, each node, each edge, a closing, so memory stays flat.
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
use crate::service::{Service, ServiceError, Snapshot};

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
    /// GEXF 1.2 with every attribute declared.
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
    /// `None` only if the source was deleted while the export was being written.
    pub source: Option<Source>,
}

/// A relation with its derived standing and its claims.
#[derive(Debug, Clone)]
pub struct ExportEdge {
    pub relation: Relation,
    pub standing: Standing,
    pub claims: Vec<ExportClaim>,
}

/// What every format says of the export as a whole.
pub(crate) struct Head {
    /// What the export covers, in words ("the whole graph", "the neighbourhood of cbp, depth 2").
    pub(crate) title: String,
    /// The search behind the scope stopped at a budget or cap: there is more than this.
    pub(crate) partial: bool,
}

/// The entities and relations an export holds.
enum Members {
    /// The whole graph as it was when the export began, read while writes go on.
    Whole(Snapshot),
    /// These (what a search found); one deleted since is left out.
    Listed {
        nodes: Vec<String>,
        edges: Vec<String>,
    },
}

/// An export whose scope has been searched, ready to be written in any format. Writing reads
/// one entity or relation at a time and hands it to the format's writer, so memory stays flat
/// however large the graph (a scope's search holds only the ids it found).
pub struct ExportPlan {
    head: Head,
    members: Members,
}

/// A format's writer: it writes its header when made, then takes every node, then every edge.
trait Sink {
    fn node(&mut self, entity: &Entity) -> Result<(), ExportError>;
    fn edge(&mut self, edge: &ExportEdge) -> Result<(), ExportError>;
    fn finish(&mut self) -> Result<(), ExportError>;
}

/// Sources by id, read once each; bounded, so a graph with millions of sources stays flat.
struct SourceCache<'s> {
    service: &'s Service,
    sources: HashMap<String, Option<Source>>,
}

impl SourceCache<'_> {
    const MAX: usize = 4096;

    fn get(&mut self, id: &str) -> Result<Option<Source>, ExportError> {
        if let Some(source) = self.sources.get(id) {
            return Ok(source.clone());
        }
        if self.sources.len() >= Self::MAX {
            self.sources.clear();
        }
        let source = self.service.source(id)?;
        self.sources.insert(id.to_owned(), source.clone());
        Ok(source)
    }

    fn edge(&mut self, record: RelationWithClaims) -> Result<ExportEdge, ExportError> {
        let RelationWithClaims { relation, claims } = record;
        let standing = self.service.standing(&relation, &claims);
        let claims = claims
            .into_iter()
            .map(|claim| {
                let source = self.get(&claim.source)?;
                Ok(ExportClaim { claim, source })
            })
            .collect::<Result<_, ExportError>>()?;
        Ok(ExportEdge {
            relation,
            standing,
            claims,
        })
    }
}

impl ExportPlan {
    /// Searches what `scope` covers (for the whole graph: takes a snapshot).
    pub fn select(service: &Service, scope: &Scope) -> Result<Self, ExportError> {
        let title = scope.describe();
        let (members, partial) = match scope.select(service)? {
            None => (Members::Whole(service.snapshot()), false),
            Some((nodes, edges, partial)) => (Members::Listed { nodes, edges }, partial),
        };
        Ok(ExportPlan {
            head: Head { title, partial },
            members,
        })
    }

    /// These entities and relations (a subgraph another query found).
    pub fn listed(title: String, nodes: Vec<String>, edges: Vec<String>, partial: bool) -> Self {
        ExportPlan {
            head: Head { title, partial },
            members: Members::Listed { nodes, edges },
        }
    }

    /// Whether the search behind the scope stopped at a limit (there is more than this).
    pub fn partial(&self) -> bool {
        self.head.partial
    }

    /// Writes the export as `format`, one record at a time.
    pub fn write(
        self,
        service: &Service,
        format: ExportFormat,
        out: impl Write,
    ) -> Result<(), ExportError> {
        let mut sink = format.sink(&self.head, out)?;
        let mut sources = SourceCache {
            service,
            sources: HashMap::new(),
        };
        let (nodes, edges) = (
            format != ExportFormat::CsvEdges,
            format != ExportFormat::CsvNodes,
        );
        match self.members {
            Members::Whole(snapshot) => {
                if nodes {
                    for entity in snapshot.entities() {
                        sink.node(&entity.map_err(ServiceError::from)?)?;
                    }
                }
                if edges {
                    for record in snapshot.relations() {
                        sink.edge(&sources.edge(record.map_err(ServiceError::from)?)?)?;
                    }
                }
            }
            Members::Listed {
                nodes: node_ids,
                edges: edge_ids,
            } => {
                if nodes {
                    for id in node_ids {
                        if let Some(entity) = service.entity(&id)? {
                            sink.node(&entity)?;
                        }
                    }
                }
                if edges {
                    for id in edge_ids {
                        if let Some(record) = service.relation(&id)? {
                            sink.edge(&sources.edge(record)?)?;
                        }
                    }
                }
            }
        }
        sink.finish()
    }

    /// The export as `format`, in memory (for GraphQL, which answers with a string).
    pub fn to_string(self, service: &Service, format: ExportFormat) -> Result<String, ExportError> {
        let mut buffer = Vec::new();
        self.write(service, format, &mut buffer)?;
        String::from_utf8(buffer)
            .map_err(|e| ExportError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
    }
}

impl ExportFormat {
    fn sink<'w>(
        self,
        head: &Head,
        out: impl Write + 'w,
    ) -> Result<Box<dyn Sink + 'w>, ExportError> {
        Ok(match self {
            ExportFormat::Cytoscape => Box::new(JsonSink::new(out, cytoscape::layout(head))?),
            ExportFormat::Graphology => Box::new(JsonSink::new(out, graphology::layout(head))?),
            ExportFormat::NodeLink => Box::new(JsonSink::new(out, node_link::layout(head))?),
            ExportFormat::Graphml => Box::new(graphml::GraphmlSink::new(out, head)?),
            ExportFormat::Gexf => Box::new(gexf::GexfSink::new(out, head)?),
            ExportFormat::CsvNodes => Box::new(csv::NodeSink::new(out)?),
            ExportFormat::CsvEdges => Box::new(csv::EdgeSink::new(out)?),
        })
    }
}

/// How a JSON format lays out its document: what comes before the nodes, between the nodes
/// and the edges, and after them, and each element.
pub(crate) struct JsonLayout {
    /// Ends with the opening `[` of the node list.
    pub(crate) head: String,
    /// Closes the node list and opens the edge list.
    pub(crate) between: &'static str,
    /// Closes the edge list and the document.
    pub(crate) close: &'static str,
    pub(crate) node: fn(&Entity) -> Value,
    pub(crate) edge: fn(&ExportEdge) -> Value,
}

/// The JSON formats' writer, element by element.
struct JsonSink<W: Write> {
    out: W,
    layout: JsonLayout,
    in_edges: bool,
    first: bool,
}

impl<W: Write> JsonSink<W> {
    fn new(mut out: W, layout: JsonLayout) -> Result<Self, ExportError> {
        out.write_all(layout.head.as_bytes())?;
        Ok(JsonSink {
            out,
            layout,
            in_edges: false,
            first: true,
        })
    }

    fn element(&mut self, value: &Value) -> Result<(), ExportError> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, value)?;
        Ok(())
    }

    fn begin_edges(&mut self) -> Result<(), ExportError> {
        if !self.in_edges {
            self.out.write_all(self.layout.between.as_bytes())?;
            self.in_edges = true;
            self.first = true;
        }
        Ok(())
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn node(&mut self, entity: &Entity) -> Result<(), ExportError> {
        self.element(&(self.layout.node)(entity))
    }

    fn edge(&mut self, edge: &ExportEdge) -> Result<(), ExportError> {
        self.begin_edges()?;
        self.element(&(self.layout.edge)(edge))
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        self.begin_edges()?;
        self.out.write_all(self.layout.close.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        Ok(())
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
pub(crate) fn graph_json(head: &Head) -> Value {
    let mut data = Map::new();
    data.insert("name".into(), json!(head.title));
    data.insert(
        "generator".into(),
        json!(concat!("tiegraph ", env!("CARGO_PKG_VERSION"))),
    );
    data.insert("partial".into(), json!(head.partial));
    Value::Object(data)
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
