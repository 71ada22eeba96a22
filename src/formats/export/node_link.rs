//! NetworkX node-link JSON as `nx.node_link_data(G, edges="edges")` writes it for a directed
//! multigraph: `{directed: true, multigraph: true, graph, nodes: [{id, ...}],
//! edges: [{source, target, key, ...}]}`. Read it with `nx.node_link_graph(d, edges="edges")`;
//! the relation id is the multigraph edge key.

use serde_json::{json, Value};

use super::{edge_json, graph_json, node_json, ExportEdge, Head, JsonLayout};
use crate::model::Entity;

fn node(entity: &Entity) -> Value {
    let mut data = node_json(entity);
    data.insert("id".into(), json!(entity.id));
    Value::Object(data)
}

fn edge(edge: &ExportEdge) -> Value {
    let mut data = edge_json(edge);
    data.insert("source".into(), json!(edge.relation.from));
    data.insert("target".into(), json!(edge.relation.to));
    data.insert("key".into(), json!(edge.relation.id));
    Value::Object(data)
}

pub(super) fn layout(head: &Head) -> JsonLayout {
    JsonLayout {
        head: format!(
            r#"{{"directed":true,"multigraph":true,"graph":{},"nodes":["#,
            graph_json(head)
        ),
        between: r#"],"edges":["#,
        close: "]}",
        node,
        edge,
    }
}
