//! CSV: a nodes file (`id` then the node attributes) and an edges file (`id`, `source`,
//! `target`, then the edge attributes), with a header row, as pandas' `read_csv`, spreadsheets
//! and Gephi's importer read them. List-valued columns (`aliases`, `identifiers`, `claims`)
//! hold JSON so that the CSV import (`tiegraph import --format csv`) reads them back whole;
//! an empty cell means no value.

use std::io::Write;

use super::{edge_values, node_values, ExportError, ExportGraph, EDGE_ATTRS, NODE_ATTRS};

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

pub(super) fn write_nodes(graph: &ExportGraph, out: impl Write) -> Result<(), ExportError> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(node_columns())?;
    for entity in &graph.nodes {
        let mut row = vec![entity.id.clone()];
        row.extend(
            node_values(entity)
                .iter()
                .map(|v| v.as_ref().map(|v| v.render()).unwrap_or_default()),
        );
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}

pub(super) fn write_edges(graph: &ExportGraph, out: impl Write) -> Result<(), ExportError> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(edge_columns())?;
    for edge in &graph.edges {
        let r = &edge.relation;
        let mut row = vec![r.id.clone(), r.from.clone(), r.to.clone()];
        row.extend(
            edge_values(edge)
                .iter()
                .map(|v| v.as_ref().map(|v| v.render()).unwrap_or_default()),
        );
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}
