//! Cytoscape.js elements JSON: `{data, elements: {nodes: [{data}], edges: [{data}]}}`, what
//! `cytoscape({elements})` and `cy.json()` read. Each element's `data` holds its `id` (edges
//! also `source` and `target`) and the shared attributes, with `claims` as a list of objects.

use std::io::Write;

use serde_json::{json, Value};

use super::{edge_json, graph_json, node_json, ExportError, ExportGraph};

pub(super) fn write(graph: &ExportGraph, mut out: impl Write) -> Result<(), ExportError> {
    let nodes: Vec<Value> = graph
        .nodes
        .iter()
        .map(|entity| {
            let mut data = node_json(entity);
            data.insert("id".into(), json!(entity.id));
            json!({ "data": data })
        })
        .collect();
    let edges: Vec<Value> = graph
        .edges
        .iter()
        .map(|edge| {
            let mut data = edge_json(edge);
            data.insert("id".into(), json!(edge.relation.id));
            data.insert("source".into(), json!(edge.relation.from));
            data.insert("target".into(), json!(edge.relation.to));
            json!({ "data": data })
        })
        .collect();
    let document = json!({
        "data": graph_json(graph),
        "elements": { "nodes": nodes, "edges": edges },
    });
    serde_json::to_writer(&mut out, &document)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
