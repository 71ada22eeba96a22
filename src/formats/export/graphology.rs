//! graphology's serialized graph, what `Graph.from(data)` and `graph.import(data)` read:
//! `{attributes, options: {type: "directed", multi: true, allowSelfLoops: false},
//! nodes: [{key, attributes}], edges: [{key, source, target, attributes}]}`. Multi because
//! several relations may join the same two entities; relation ids are the edge keys.

use serde_json::{json, Value};

use super::{edge_json, graph_json, node_json, ExportEdge, Head, JsonLayout};
use crate::model::Entity;

fn node(entity: &Entity) -> Value {
    json!({ "key": entity.id, "attributes": node_json(entity) })
}

fn edge(edge: &ExportEdge) -> Value {
    json!({
        "key": edge.relation.id,
        "source": edge.relation.from,
        "target": edge.relation.to,
        "attributes": edge_json(edge),
    })
}

pub(super) fn layout(head: &Head) -> JsonLayout {
    // A relation never joins an entity to itself (the model refuses it).
    let options = json!({ "type": "directed", "multi": true, "allowSelfLoops": false });
    JsonLayout {
        head: format!(
            r#"{{"attributes":{},"options":{options},"nodes":["#,
            graph_json(head)
        ),
        between: r#"],"edges":["#,
        close: "]}",
        node,
        edge,
    }
}
