//! CSV: a nodes file (`id` then the node attributes) and an edges file (`id`, `source`,
//! `target`, then the edge attributes), with a header row, as pandas' `read_csv`, spreadsheets
//! and Gephi's importer read them. List-valued columns (`aliases`, `identifiers`, `claims`)
//! hold JSON so that the CSV import (`tiegraph import --format csv`) reads them back whole;
//! an empty cell means no value.

use std::io::Write;

use super::{
    edge_values, node_values, AttrValue, ExportEdge, ExportError, Sink, EDGE_ATTRS, NODE_ATTRS,
};
use crate::model::Entity;

/// The nodes file's columns, in order.
pub fn node_columns() -> Vec<&'static str> {
    std::iter::once("id")
        .chain(NODE_ATTRS.iter().map(|(name, _)| *name))
        .collect()
}

/// The edges file's columns, in order.
pub fn edge_columns() -> Vec<&'static str> {
    ["id", "source", "target"]
        .into_iter()
        .chain(EDGE_ATTRS.iter().map(|(name, _)| *name))
        .collect()
}

fn cells(values: &[Option<AttrValue>]) -> impl Iterator<Item = String> + '_ {
    values
        .iter()
        .map(|v| v.as_ref().map(|v| v.render()).unwrap_or_default())
}

/// The nodes file: takes no edges.
pub(super) struct NodeSink<W: Write>(::csv::Writer<W>);

impl<W: Write> NodeSink<W> {
    pub(super) fn new(out: W) -> Result<Self, ExportError> {
        let mut writer = ::csv::Writer::from_writer(out);
        writer.write_record(node_columns())?;
        Ok(NodeSink(writer))
    }
}

impl<W: Write> Sink for NodeSink<W> {
    fn node(&mut self, entity: &Entity) -> Result<(), ExportError> {
        let values = node_values(entity);
        let row = std::iter::once(entity.id.clone()).chain(cells(&values));
        self.0.write_record(row.collect::<Vec<_>>())?;
        Ok(())
    }

    fn edge(&mut self, _: &ExportEdge) -> Result<(), ExportError> {
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        self.0.flush()?;
        Ok(())
    }
}

/// The edges file: takes no nodes.
pub(super) struct EdgeSink<W: Write>(::csv::Writer<W>);

impl<W: Write> EdgeSink<W> {
    pub(super) fn new(out: W) -> Result<Self, ExportError> {
        let mut writer = ::csv::Writer::from_writer(out);
        writer.write_record(edge_columns())?;
        Ok(EdgeSink(writer))
    }
}

impl<W: Write> Sink for EdgeSink<W> {
    fn node(&mut self, _: &Entity) -> Result<(), ExportError> {
        Ok(())
    }

    fn edge(&mut self, edge: &ExportEdge) -> Result<(), ExportError> {
        let r = &edge.relation;
        let values = edge_values(edge);
        let row = [r.id.clone(), r.from.clone(), r.to.clone()]
            .into_iter()
            .chain(cells(&values));
        self.0.write_record(row.collect::<Vec<_>>())?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        self.0.flush()?;
        Ok(())
    }
}
