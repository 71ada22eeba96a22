//! GEXF 1.2 (`http://www.gexf.net/1.2draft`), Gephi's native format: declared node and edge
//! attributes (`<attributes>`), a static directed graph, nodes labelled by name, edges labelled
//! by relation kind with the relation id as edge id. Values sit in `<attvalue value="…">`;
//! `claims` is a JSON string.
//!
//! 1.2 rather than 1.3: NetworkX 3.4 reads the 1.1 and 1.2 namespaces only (a 1.3 file is
//! "No <graph> element"), 3.6 and Gephi read 1.2 too, and nothing this writer uses differs.

use std::io::Write;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{
    edge_values, node_values, xml_attr, AttrType, AttrValue, ExportEdge, ExportError, Head, Sink,
    EDGE_ATTRS, NODE_ATTRS,
};
use crate::model::Entity;

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
    values: &[Option<AttrValue>],
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

pub(super) struct GexfSink<W: Write> {
    writer: Writer<W>,
    in_edges: bool,
}

impl<W: Write> GexfSink<W> {
    pub(super) fn new(out: W, head: &Head) -> Result<Self, ExportError> {
        let mut w = Writer::new_with_indent(out, b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut root = BytesStart::new("gexf");
        root.push_attribute(xml_attr("xmlns", "http://www.gexf.net/1.2draft"));
        root.push_attribute(xml_attr(
            "xmlns:xsi",
            "http://www.w3.org/2001/XMLSchema-instance",
        ));
        root.push_attribute(xml_attr(
            "xsi:schemaLocation",
            "http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd",
        ));
        root.push_attribute(xml_attr("version", "1.2"));
        w.write_event(Event::Start(root))?;
        w.create_element("meta").write_inner_content(|w| {
            w.create_element("creator")
                .write_text_content(BytesText::new(concat!(
                    "tiegraph ",
                    env!("CARGO_PKG_VERSION")
                )))?;
            w.create_element("description")
                .write_text_content(BytesText::new(&head.title))?;
            Ok(())
        })?;
        let mut graph = BytesStart::new("graph");
        graph.push_attribute(xml_attr("mode", "static"));
        graph.push_attribute(xml_attr("defaultedgetype", "directed"));
        w.write_event(Event::Start(graph))?;
        write_declarations(&mut w, "node", &NODE_ATTRS)?;
        write_declarations(&mut w, "edge", &EDGE_ATTRS)?;
        w.write_event(Event::Start(BytesStart::new("nodes")))?;
        Ok(GexfSink {
            writer: w,
            in_edges: false,
        })
    }

    fn begin_edges(&mut self) -> Result<(), ExportError> {
        if !self.in_edges {
            self.writer
                .write_event(Event::End(BytesEnd::new("nodes")))?;
            self.writer
                .write_event(Event::Start(BytesStart::new("edges")))?;
            self.in_edges = true;
        }
        Ok(())
    }
}

impl<W: Write> Sink for GexfSink<W> {
    fn node(&mut self, entity: &Entity) -> Result<(), ExportError> {
        self.writer
            .create_element("node")
            .with_attribute(xml_attr("id", &entity.id))
            .with_attribute(xml_attr("label", &entity.name))
            .write_inner_content(|w| write_values(w, &NODE_ATTRS, &node_values(entity)))?;
        Ok(())
    }

    fn edge(&mut self, edge: &ExportEdge) -> Result<(), ExportError> {
        self.begin_edges()?;
        let r = &edge.relation;
        self.writer
            .create_element("edge")
            .with_attribute(xml_attr("id", &r.id))
            .with_attribute(xml_attr("source", &r.from))
            .with_attribute(xml_attr("target", &r.to))
            .with_attribute(xml_attr("label", r.kind.as_str()))
            .write_inner_content(|w| write_values(w, &EDGE_ATTRS, &edge_values(edge)))?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        self.begin_edges()?;
        for name in ["edges", "graph", "gexf"] {
            self.writer.write_event(Event::End(BytesEnd::new(name)))?;
        }
        let out = self.writer.get_mut();
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }
}
