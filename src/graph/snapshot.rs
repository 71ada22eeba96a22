//! A saved copy of the index, so that opening a big store does not rebuild the index from
//! millions of records. The service writes it on shutdown and after bulk loads, tagged with the
//! store's commit sequence, and uses it on open only when the sequence still matches.
//!
//! ```text
//! "TIEGRAPH-INDEX 2\n", sequence u64, entity count u64, relation count u64
//! per entity: kind u8, id (u16 length + bytes), search text (u32 length + bytes)
//! per relation: id (u16 length + bytes), kind u8, denied u8,
//!     from u32, to u32 (entity positions above), the validity span (two u32 day numbers)
//! ```
//! All integers are little-endian.

use std::io::{self, Read, Write};

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::NodeIndexable;

use crate::model::{DaySpan, EntityKind, RelationKind};

use super::{EdgeData, GraphIndex, NodeData};

const MAGIC: &[u8] = b"TIEGRAPH-INDEX 2\n";

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("index snapshot: {what}"),
    )
}

fn read_array<const N: usize>(input: &mut impl Read) -> io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// A string preceded by its length, `N` bytes little-endian.
fn read_string<const N: usize>(input: &mut impl Read) -> io::Result<String> {
    let mut length = [0u8; 8];
    input.read_exact(&mut length[..N])?;
    let mut bytes = vec![0u8; u64::from_le_bytes(length) as usize];
    input.read_exact(&mut bytes)?;
    String::from_utf8(bytes).map_err(|_| bad("an id is not UTF-8"))
}

impl GraphIndex {
    /// Writes the index, tagged with the store's commit `sequence`.
    pub fn write_snapshot(&self, out: &mut impl Write, sequence: u64) -> io::Result<()> {
        out.write_all(MAGIC)?;
        out.write_all(&sequence.to_le_bytes())?;
        // Entities are written in id order; a relation names its ends by position in that order.
        let mut position = vec![u32::MAX; self.graph.node_bound()];
        out.write_all(&(self.entities.len() as u64).to_le_bytes())?;
        out.write_all(&(self.relation_count() as u64).to_le_bytes())?;
        for (i, &node) in self.entities.values().enumerate() {
            position[node.index()] = i as u32;
            let data = &self.graph[node];
            let id = data.id.as_bytes();
            out.write_all(&[data.kind as u8])?;
            out.write_all(
                &(u16::try_from(id.len()).map_err(|_| bad("id too long"))?).to_le_bytes(),
            )?;
            out.write_all(id)?;
            let text = data.search_text.as_bytes();
            out.write_all(&(text.len() as u32).to_le_bytes())?;
            out.write_all(text)?;
        }
        for edge in self.graph.edge_indices() {
            let (from, to) = self
                .graph
                .edge_endpoints(edge)
                .ok_or_else(|| bad("edge without ends"))?;
            let data = &self.graph[edge];
            let id = self.relation_id(edge).as_bytes();
            out.write_all(
                &(u16::try_from(id.len()).map_err(|_| bad("id too long"))?).to_le_bytes(),
            )?;
            out.write_all(id)?;
            out.write_all(&[data.kind as u8, u8::from(data.denied)])?;
            out.write_all(&position[from.index()].to_le_bytes())?;
            out.write_all(&position[to.index()].to_le_bytes())?;
            out.write_all(&data.span.from.to_le_bytes())?;
            out.write_all(&data.span.until.to_le_bytes())?;
        }
        out.flush()
    }

    /// Reads an index written by [`GraphIndex::write_snapshot`] and the sequence it was tagged with.
    pub fn read_snapshot(input: &mut impl Read) -> io::Result<(GraphIndex, u64)> {
        if read_array::<{ MAGIC.len() }>(input)? != *MAGIC {
            return Err(bad("wrong header"));
        }
        let sequence = u64::from_le_bytes(read_array(input)?);
        let entities = u64::from_le_bytes(read_array(input)?) as usize;
        let relations = u64::from_le_bytes(read_array(input)?) as usize;
        // The counts size the index exactly; a corrupt count fails at the first missing record.
        let mut index = GraphIndex::with_capacity(entities.min(1 << 28), relations.min(1 << 30));
        let mut nodes: Vec<NodeIndex> = Vec::with_capacity(entities);
        for _ in 0..entities {
            let [kind] = read_array::<1>(input)?;
            let kind = *EntityKind::ALL
                .get(kind as usize)
                .ok_or_else(|| bad("unknown entity kind"))?;
            let id = read_string::<2>(input)?;
            let text = read_string::<4>(input)?;
            let node = index.graph.add_node(NodeData {
                id: id.as_str().into(),
                kind,
                search_text: text.into_boxed_str(),
            });
            index.entities.insert(id.into_boxed_str(), node);
            nodes.push(node);
        }
        for _ in 0..relations {
            let id = read_string::<2>(input)?;
            let [kind, denied] = read_array::<2>(input)?;
            let kind = *RelationKind::ALL
                .get(kind as usize)
                .ok_or_else(|| bad("unknown relation kind"))?;
            let end = |input: &mut _| -> io::Result<NodeIndex> {
                let position = u32::from_le_bytes(read_array(input)?) as usize;
                nodes
                    .get(position)
                    .copied()
                    .ok_or_else(|| bad("relation end out of range"))
            };
            let from = end(input)?;
            let to = end(input)?;
            let span = DaySpan {
                from: u32::from_le_bytes(read_array(input)?),
                until: u32::from_le_bytes(read_array(input)?),
            };
            index.insert_edge(
                &id,
                from,
                to,
                EdgeData {
                    kind,
                    denied: denied != 0,
                    span,
                },
            );
        }
        index.shrink_to_fit();
        Ok((index, sequence))
    }
}
