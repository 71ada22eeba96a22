//! GraphML, as NetworkX (`nx.read_graphml`), Gephi, yEd and igraph read it: one `<key>` per
//! attribute (typed `string`, `double` or `int`), a directed `<graph>`, nodes with their
//! entity id, edges with their relation id (NetworkX uses it as the multigraph edge key), which
//! is also written as the data key `relation_id`: python-igraph's reader replaces edge ids with
//! its own, and keeps data keys.
//! `claims` is a JSON string holding each claim with its source.

use std::io::Write;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{
    edge_values, node_values, xml_attr, xml_escape, AttrType, AttrValue, ExportEdge, ExportError,
    Head, Sink, EDGE_ATTRS, NODE_ATTRS,
};
use crate::model::Entity;

/// The key of the relation id as edge data.
const RELATION_ID_KEY: &str = "e_relation_id";

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

fn write_key<W: Write>(
    w: &mut Writer<W>,
    id: &str,
    of: &str,
    name: &str,
    ty: AttrType,
) -> std::io::Result<()> {
    w.create_element("key")
        .with_attribute(xml_attr("id", id))
        .with_attribute(xml_attr("for", of))
        .with_attribute(xml_attr("attr.name", name))
        .with_attribute(xml_attr("attr.type", type_name(ty)))
        .write_empty()?;
    Ok(())
}

pub(super) struct GraphmlSink<W: Write>(Writer<W>);

impl<W: Write> GraphmlSink<W> {
    pub(super) fn new(out: W, head: &Head) -> Result<Self, ExportError> {
        let mut w = Writer::new_with_indent(out, b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut root = BytesStart::new("graphml");
        root.push_attribute(xml_attr("xmlns", "http://graphml.graphdrawing.org/xmlns"));
        root.push_attribute(xml_attr(
            "xmlns:xsi",
            "http://www.w3.org/2001/XMLSchema-instance",
        ));
        root.push_attribute(xml_attr(
            "xsi:schemaLocation",
            "http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd",
        ));
        w.write_event(Event::Start(root))?;
        // Keys are prefixed by what they describe: a node and an edge may both have a `kind`,
        // and GraphML key ids share one namespace.
        for (name, ty) in NODE_ATTRS {
            write_key(&mut w, &format!("n_{name}"), "node", name, ty)?;
        }
        write_key(
            &mut w,
            RELATION_ID_KEY,
            "edge",
            "relation_id",
            AttrType::Text,
        )?;
        for (name, ty) in EDGE_ATTRS {
            write_key(&mut w, &format!("e_{name}"), "edge", name, ty)?;
        }
        write_key(&mut w, "g_name", "graph", "name", AttrType::Text)?;
        let mut graph = BytesStart::new("graph");
        graph.push_attribute(xml_attr("id", "tiegraph"));
        graph.push_attribute(xml_attr("edgedefault", "directed"));
        w.write_event(Event::Start(graph))?;
        write_data(&mut w, "g_name", &AttrValue::Text(head.title.clone()))?;
        Ok(GraphmlSink(w))
    }
}

impl<W: Write> Sink for GraphmlSink<W> {
    fn node(&mut self, entity: &Entity) -> Result<(), ExportError> {
        self.0
            .create_element("node")
            .with_attribute(xml_attr("id", &entity.id))
            .write_inner_content(|w| {
                for ((name, _), value) in NODE_ATTRS.iter().zip(node_values(entity)) {
                    if let Some(value) = value {
                        write_data(w, &format!("n_{name}"), &value)?;
                    }
                }
                Ok(())
            })?;
        Ok(())
    }

    fn edge(&mut self, edge: &ExportEdge) -> Result<(), ExportError> {
        let r = &edge.relation;
        self.0
            .create_element("edge")
            .with_attribute(xml_attr("id", &r.id))
            .with_attribute(xml_attr("source", &r.from))
            .with_attribute(xml_attr("target", &r.to))
            .write_inner_content(|w| {
                write_data(w, RELATION_ID_KEY, &AttrValue::Text(r.id.clone()))?;
                for ((name, _), value) in EDGE_ATTRS.iter().zip(edge_values(edge)) {
                    if let Some(value) = value {
                        write_data(w, &format!("e_{name}"), &value)?;
                    }
                }
                Ok(())
            })?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        self.0.write_event(Event::End(BytesEnd::new("graph")))?;
        self.0.write_event(Event::End(BytesEnd::new("graphml")))?;
        let out = self.0.get_mut();
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }
}
