//! NetworkX node-link JSON as `nx.node_link_data(G, edges="edges")` writes it for a directed
//! multigraph: `{directed: true, multigraph: true, graph, nodes: [{id, ...}],
//! edges: [{source, target, key, ...}]}`. Read it with `nx.node_link_graph(d, edges="edges")`;
//! the relation id is the multigraph edge key.

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
            Value::Object(data)
        })
        .collect();
    let edges: Vec<Value> = graph
        .edges
        .iter()
        .map(|edge| {
            let mut data = edge_json(edge);
            data.insert("source".into(), json!(edge.relation.from));
            data.insert("target".into(), json!(edge.relation.to));
            data.insert("key".into(), json!(edge.relation.id));
            Value::Object(data)
        })
        .collect();
    let document = json!({
        "directed": true,
        "multigraph": true,
        "graph": graph_json(graph),
        "nodes": nodes,
        "edges": edges,
    });
    serde_json::to_writer(&mut out, &document)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
