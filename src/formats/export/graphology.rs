//! graphology's serialized graph, what `Graph.from(data)` and `graph.import(data)` read:
//! `{attributes, options: {type: "directed", multi: true, allowSelfLoops: false},
//! nodes: [{key, attributes}], edges: [{key, source, target, attributes}]}`. Multi because
//! several relations may join the same two entities; relation ids are the edge keys.

use std::io::Write;

use serde_json::{json, Value};

use super::{edge_json, graph_json, node_json, ExportError, ExportGraph};

pub(super) fn write(graph: &ExportGraph, mut out: impl Write) -> Result<(), ExportError> {
    let nodes: Vec<Value> = graph
        .nodes
        .iter()
        .map(|entity| json!({ "key": entity.id, "attributes": node_json(entity) }))
        .collect();
    let edges: Vec<Value> = graph
        .edges
        .iter()
        .map(|edge| {
            json!({
                "key": edge.relation.id,
                "source": edge.relation.from,
                "target": edge.relation.to,
                "attributes": edge_json(edge),
            })
        })
        .collect();
    let document = json!({
        "attributes": graph_json(graph),
        // A relation never joins an entity to itself (the model refuses it).
        "options": { "type": "directed", "multi": true, "allowSelfLoops": false },
        "nodes": nodes,
        "edges": edges,
    });
    serde_json::to_writer(&mut out, &document)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
