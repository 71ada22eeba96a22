//! GraphML, as NetworkX (`nx.read_graphml`), Gephi, yEd and igraph read it: one `<key>` per
//! attribute (typed `string`, `double` or `int`), a directed `<graph>`, nodes with their
//! entity id, edges with their relation id (NetworkX uses it as the multigraph edge key).
//! `claims` is a JSON string holding each claim with its source.

use std::io::Write;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::{
    edge_values, node_values, xml_attr, xml_escape, AttrType, AttrValue, ExportError, ExportGraph,
    EDGE_ATTRS, NODE_ATTRS,
};

fn type_name(ty: AttrType) -> &'static str {
    match ty {
        AttrType::Text => "string",
        AttrType::Double => "double",
        AttrType::Int => "int",
    }
}

fn write_data<W: Write>(
    writer: &mut Writer<W>,
    key: &str,
    value: &AttrValue,
) -> std::io::Result<()> {
    writer
        .create_element("data")
        .with_attribute(xml_attr("key", key))
        .write_text_content(BytesText::from_escaped(xml_escape(&value.render())))?;
    Ok(())
}

pub(super) fn write(graph: &ExportGraph, out: impl Write) -> Result<(), ExportError> {
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer
        .create_element("graphml")
        .with_attribute(xml_attr("xmlns", "http://graphml.graphdrawing.org/xmlns"))
        .with_attribute(xml_attr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"))
        .with_attribute(xml_attr(
            "xsi:schemaLocation",
            "http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd",
        ))
        .write_inner_content(|w| {
            // Keys are prefixed by what they describe: a node and an edge may both have a
            // `kind`, and GraphML key ids share one namespace.
            for (name, ty) in NODE_ATTRS {
                w.create_element("key")
                    .with_attribute(xml_attr("id", &format!("n_{name}")))
                    .with_attribute(xml_attr("for", "node"))
                    .with_attribute(xml_attr("attr.name", name))
                    .with_attribute(xml_attr("attr.type", type_name(ty)))
                    .write_empty()?;
            }
            for (name, ty) in EDGE_ATTRS {
                w.create_element("key")
                    .with_attribute(xml_attr("id", &format!("e_{name}")))
                    .with_attribute(xml_attr("for", "edge"))
                    .with_attribute(xml_attr("attr.name", name))
                    .with_attribute(xml_attr("attr.type", type_name(ty)))
                    .write_empty()?;
            }
            w.create_element("key")
                .with_attribute(xml_attr("id", "g_name"))
                .with_attribute(xml_attr("for", "graph"))
                .with_attribute(xml_attr("attr.name", "name"))
                .with_attribute(xml_attr("attr.type", "string"))
                .write_empty()?;
            w.create_element("graph")
                .with_attribute(xml_attr("id", "tiegraph"))
                .with_attribute(xml_attr("edgedefault", "directed"))
                .write_inner_content(|w| {
                    write_data(w, "g_name", &AttrValue::Text(graph.title.clone()))?;
                    for entity in &graph.nodes {
                        w.create_element("node").with_attribute(xml_attr("id", &entity.id)).write_inner_content(|w| {
                            for ((name, _), value) in NODE_ATTRS.iter().zip(node_values(entity)) {
                                if let Some(value) = value {
                                    write_data(w, &format!("n_{name}"), &value)?;
                                }
                            }
                            Ok(())
                        })?;
                    }
                    for edge in &graph.edges {
                        let r = &edge.relation;
                        w.create_element("edge")
                            .with_attribute(xml_attr("id", &r.id))
                            .with_attribute(xml_attr("source", &r.from))
                            .with_attribute(xml_attr("target", &r.to))
                            .write_inner_content(|w| {
                                for ((name, _), value) in EDGE_ATTRS.iter().zip(edge_values(edge)) {
                                    if let Some(value) = value {
                                        write_data(w, &format!("e_{name}"), &value)?;
                                    }
                                }
                                Ok(())
                            })?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    let mut out = writer.into_inner();
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
