//! Cytoscape.js elements JSON: `{data, elements: {nodes: [{data}], edges: [{data}]}}`, what
//! `cytoscape({elements})` and `cy.json()` read. Each element's `data` holds its `id` (edges
//! also `source` and `target`) and the shared attributes, with `claims` as a list of objects.

use serde_json::{json, Value};

use super::{edge_json, graph_json, node_json, ExportEdge, Head, JsonLayout};
use crate::model::Entity;

fn node(entity: &Entity) -> Value {
    let mut data = node_json(entity);
    data.insert("id".into(), json!(entity.id));
    json!({ "data": data })
}

fn edge(edge: &ExportEdge) -> Value {
    let mut data = edge_json(edge);
    data.insert("id".into(), json!(edge.relation.id));
    data.insert("source".into(), json!(edge.relation.from));
    data.insert("target".into(), json!(edge.relation.to));
    json!({ "data": data })
}

pub(super) fn layout(head: &Head) -> JsonLayout {
    JsonLayout {
        head: format!(r#"{{"data":{},"elements":{{"nodes":["#, graph_json(head)),
        between: r#"],"edges":["#,
        close: "]}}",
        node,
        edge,
    }
}
