//! GEXF 1.3, Gephi's native format: declared node and edge attributes (`<attributes>`),
//! a static directed graph, nodes labelled by name, edges labelled by relation kind with the
//! relation id as edge id. Values sit in `<attvalue value="…">`; `claims` is a JSON string.
//!
//! NetworkX 3.4 knows the GEXF 1.1 and 1.2 namespaces only; the test suite registers 1.3's
//! (`http://gexf.net/1.3`) with its reader, which is otherwise unchanged between the versions
//! for what this writer uses.

use std::io::Write;

use quick_xml::events::{BytesDecl, Event};
use quick_xml::Writer;

use super::{
    edge_values, node_values, xml_attr, AttrType, ExportError, ExportGraph, EDGE_ATTRS, NODE_ATTRS,
};

fn type_name(ty: AttrType) -> &'static str {
    match ty {
        AttrType::Text => "string",
        AttrType::Double => "double",
        AttrType::Int => "integer",
    }
}

fn write_declarations<W: Write>(
    w: &mut Writer<W>,
    class: &str,
    attrs: &[(&str, AttrType)],
) -> std::io::Result<()> {
    w.create_element("attributes")
        .with_attribute(xml_attr("class", class))
        .with_attribute(xml_attr("mode", "static"))
        .write_inner_content(|w| {
            for (i, (name, ty)) in attrs
                .iter()
                .enumerate()
                .filter(|(_, (name, _))| *name != "label")
            {
                w.create_element("attribute")
                    .with_attribute(xml_attr("id", &i.to_string()))
                    .with_attribute(xml_attr("title", name))
                    .with_attribute(xml_attr("type", type_name(*ty)))
                    .write_empty()?;
            }
            Ok(())
        })?;
    Ok(())
}

/// Writes the values aligned with `attrs`, but `label`, which GEXF carries as the element's own
/// attribute (Gephi treats a declared `label` column as a clash).
fn write_values<W: Write>(
    w: &mut Writer<W>,
    attrs: &[(&str, AttrType)],
    values: &[Option<super::AttrValue>],
) -> std::io::Result<()> {
    w.create_element("attvalues").write_inner_content(|w| {
        for (i, ((name, _), value)) in attrs.iter().zip(values).enumerate() {
            if *name == "label" {
                continue;
            }
            if let Some(value) = value {
                w.create_element("attvalue")
                    .with_attribute(xml_attr("for", &i.to_string()))
                    .with_attribute(xml_attr("value", &value.render()))
                    .write_empty()?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

pub(super) fn write(graph: &ExportGraph, out: impl Write) -> Result<(), ExportError> {
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer
        .create_element("gexf")
        .with_attribute(xml_attr("xmlns", "http://gexf.net/1.3"))
        .with_attribute(xml_attr(
            "xmlns:xsi",
            "http://www.w3.org/2001/XMLSchema-instance",
        ))
        .with_attribute(xml_attr(
            "xsi:schemaLocation",
            "http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd",
        ))
        .with_attribute(xml_attr("version", "1.3"))
        .write_inner_content(|w| {
            w.create_element("meta").write_inner_content(|w| {
                w.create_element("creator").write_text_content(
                    quick_xml::events::BytesText::new(concat!(
                        "tiegraph ",
                        env!("CARGO_PKG_VERSION")
                    )),
                )?;
                w.create_element("description")
                    .write_text_content(quick_xml::events::BytesText::new(&graph.title))?;
                Ok(())
            })?;
            w.create_element("graph")
                .with_attribute(xml_attr("mode", "static"))
                .with_attribute(xml_attr("defaultedgetype", "directed"))
                .write_inner_content(|w| {
                    write_declarations(w, "node", &NODE_ATTRS)?;
                    write_declarations(w, "edge", &EDGE_ATTRS)?;
                    w.create_element("nodes").write_inner_content(|w| {
                        for entity in &graph.nodes {
                            w.create_element("node")
                                .with_attribute(xml_attr("id", &entity.id))
                                .with_attribute(xml_attr("label", &entity.name))
                                .write_inner_content(|w| {
                                    write_values(w, &NODE_ATTRS, &node_values(entity))
                                })?;
                        }
                        Ok(())
                    })?;
                    w.create_element("edges").write_inner_content(|w| {
                        for edge in &graph.edges {
                            let r = &edge.relation;
                            w.create_element("edge")
                                .with_attribute(xml_attr("id", &r.id))
                                .with_attribute(xml_attr("source", &r.from))
                                .with_attribute(xml_attr("target", &r.to))
                                .with_attribute(xml_attr("label", r.kind.as_str()))
                                .write_inner_content(|w| {
                                    write_values(w, &EDGE_ATTRS, &edge_values(edge))
                                })?;
                        }
                        Ok(())
                    })?;
                    Ok(())
                })?;
            Ok(())
        })?;
    let mut out = writer.into_inner();
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
