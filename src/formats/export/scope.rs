//! What an export covers: the whole graph, a neighbourhood, or the union of a path query's
//! paths; parsed once from the parameters the HTTP endpoint and the CLI share.

use serde::Deserialize;

use crate::graph::{EntityKindSet, HopSpec, KindSet};
use crate::model::{Direction, EntityKind, RelationKind};
use crate::service::{PathRequest, Service};

use super::ExportError;

/// The part of the graph to export.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every entity and every relation, denied ones included (standing says which they are).
    All,
    /// The entities within `depth` relations of `id` and the relations among them.
    Neighborhood {
        id: String,
        depth: u32,
        relation_kinds: Vec<RelationKind>,
        include_denied: bool,
    },
    /// Every entity and relation on a path matching the pattern.
    Paths {
        from: String,
        hops: Vec<HopSpec>,
        to: Option<String>,
        include_denied: bool,
    },
}

/// One hop of a pattern given as JSON (`pattern=[{"relationKinds":["VENDOR_TO"],"direction":"IN"}]`):
/// the same shape as GraphQL's `HopInput`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatternHop {
    #[serde(default)]
    pub relation_kinds: Vec<RelationKind>,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub entity_kinds: Vec<EntityKind>,
    #[serde(default = "one")]
    pub min_repeat: u32,
    #[serde(default = "one")]
    pub max_repeat: u32,
}

fn one() -> u32 {
    1
}

impl PatternHop {
    /// Parses a JSON list of hops.
    pub fn parse_pattern(json: &str) -> Result<Vec<HopSpec>, ExportError> {
        let hops: Vec<PatternHop> = serde_json::from_str(json).map_err(|e| {
            ExportError::BadRequest(format!("`pattern` is not a JSON list of hops: {e}"))
        })?;
        Ok(hops.into_iter().map(PatternHop::spec).collect())
    }

    pub fn spec(self) -> HopSpec {
        HopSpec {
            kinds: KindSet::of(&self.relation_kinds),
            direction: self.direction,
            entity_kinds: EntityKindSet::of(&self.entity_kinds),
            min_repeat: self.min_repeat,
            max_repeat: self.max_repeat,
        }
    }
}

/// What a searched scope holds: entity ids, relation ids, and whether the search stopped short.
pub(super) type Selected = (Vec<String>, Vec<String>, bool);

fn bad(message: impl Into<String>) -> ExportError {
    ExportError::BadRequest(message.into())
}

impl Scope {
    /// Reads a scope from named parameters: `scope` (`all`, `neighborhood` or `paths`), then
    /// `id`, `depth`, `relationKinds` (comma-separated) for a neighbourhood, `from` (or `id`),
    /// `pattern` (JSON) and `to` for paths, and `includeDenied` for both.
    pub fn from_params(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ExportError> {
        let include_denied = match get("includeDenied").as_deref() {
            None | Some("false") | Some("") => false,
            Some("true") => true,
            Some(other) => {
                return Err(bad(format!(
                    "includeDenied must be true or false, not `{other}`"
                )))
            }
        };
        match get("scope").as_deref().unwrap_or("all") {
            "all" => Ok(Scope::All),
            "neighborhood" | "neighbourhood" => {
                let id = get("id").ok_or_else(|| bad("scope=neighborhood needs an `id`"))?;
                let depth = match get("depth") {
                    None => 1,
                    Some(d) => d
                        .parse()
                        .map_err(|_| bad(format!("depth must be a whole number, not `{d}`")))?,
                };
                let relation_kinds = match get("relationKinds") {
                    None => Vec::new(),
                    Some(list) => list
                        .split(',')
                        .filter(|k| !k.trim().is_empty())
                        .map(|k| {
                            RelationKind::parse(k.trim())
                                .ok_or_else(|| bad(format!("`{k}` is not a relation kind")))
                        })
                        .collect::<Result<_, _>>()?,
                };
                Ok(Scope::Neighborhood {
                    id,
                    depth,
                    relation_kinds,
                    include_denied,
                })
            }
            "paths" => {
                let from = get("from")
                    .or_else(|| get("id"))
                    .ok_or_else(|| bad("scope=paths needs `from`"))?;
                let pattern = get("pattern")
                    .ok_or_else(|| bad("scope=paths needs a `pattern` (a JSON list of hops)"))?;
                let hops = PatternHop::parse_pattern(&pattern)?;
                Ok(Scope::Paths {
                    from,
                    hops,
                    to: get("to"),
                    include_denied,
                })
            }
            other => Err(bad(format!(
                "unknown scope `{other}`; use all, neighborhood or paths"
            ))),
        }
    }

    /// What the scope covers, in words, for the export's title.
    pub fn describe(&self) -> String {
        match self {
            Scope::All => "tiegraph: the whole graph".to_owned(),
            Scope::Neighborhood { id, depth, .. } => {
                format!("tiegraph: the neighbourhood of {id}, depth {depth}")
            }
            Scope::Paths {
                from, to: Some(to), ..
            } => format!("tiegraph: paths from {from} to {to}"),
            Scope::Paths { from, .. } => format!("tiegraph: paths from {from}"),
        }
    }

    /// Entity ids, relation ids, and whether a search stopped short; `None` for the whole
    /// graph, which is read as it goes rather than listed.
    pub(super) fn select(&self, service: &Service) -> Result<Option<Selected>, ExportError> {
        match self {
            Scope::All => Ok(None),
            Scope::Neighborhood {
                id,
                depth,
                relation_kinds,
                include_denied,
            } => {
                let view =
                    service.neighborhood(id, *depth, relation_kinds, *include_denied, None)?;
                Ok(Some((view.nodes, view.edges, view.partial)))
            }
            Scope::Paths {
                from,
                hops,
                to,
                include_denied,
            } => {
                let request = PathRequest {
                    from: from.clone(),
                    hops: hops.clone(),
                    to: to.clone(),
                    include_denied: *include_denied,
                    as_of: None,
                    first: service.limits().max_paths,
                    after: None,
                    budget: None,
                    count: false,
                };
                let page = service.paths(&request)?;
                let mut nodes = vec![from.clone()];
                let mut edges: Vec<String> = Vec::new();
                let mut seen_nodes = std::collections::HashSet::from([from.clone()]);
                let mut seen_edges = std::collections::HashSet::new();
                for path in &page.paths {
                    for hop in &path.hops {
                        if seen_nodes.insert(hop.to.clone()) {
                            nodes.push(hop.to.clone());
                        }
                        if seen_edges.insert(hop.relation.clone()) {
                            edges.push(hop.relation.clone());
                        }
                    }
                }
                Ok(Some((nodes, edges, page.partial || page.has_next)))
            }
        }
    }
}
