//! A saved copy of the index, so that opening a big store does not rebuild the index from
//! millions of records. The service writes it on shutdown and after loads, tagged with bytes
//! that name the store and its commit sequence (the graph does not know what they mean), and
//! uses it on open only when the tag matches and the checksum holds: a stale or damaged
//! snapshot costs a rebuild, never a wrong index.
//!
//! ```text
//! "TIEGRAPH-INDEX 6\n", tag length u8, tag, entity count u64, relation count u64, source count u64
//! per source: id (u16 length + bytes)
//! per entity: kind u8, last update i64 (ms since the epoch), id (u16 length + bytes),
//!     search text (u32 length + bytes)
//! per relation: id (u16 length + bytes), kind u8, what its claims say u8 (bits: 1 asserted,
//!     2 denied, 4 asserted by an end, 8 asserted by an outside claimant), status u8 (0 none,
//!     else 1 + its place in `Status::ALL`),
//!     from u32, to u32 (entity positions above), the validity span (two u32 day numbers),
//!     source count u16 + source positions u32, outside claimant count u16 + entity positions u32,
//!     count u16 + entity positions u32 of the outside claimants who assert it
//! CRC32 of every byte before it, u32
//! ```
//! All integers are little-endian. A snapshot of another format (format 5 kept no last update
//! and no status, which lists filter and order by) is refused as stale, so the index is
//! rebuilt from the store.

use std::io::{self, Read, Seek, SeekFrom, Write};

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::NodeIndexable;

use crate::model::{DaySpan, EntityKind, RelationKind, Status, Timestamp};

use super::index::{Says, NO_SOURCE};
use super::{EdgeData, GraphIndex, NodeData};

const MAGIC: &[u8] = b"TIEGRAPH-INDEX 6\n";

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Also a snapshot of another format.
    #[error("the snapshot belongs to another store, another commit or another format")]
    Stale,
    #[error("the snapshot is damaged: {0}")]
    Damaged(String),
    #[error("cannot read the snapshot: {0}")]
    Io(#[from] io::Error),
}

fn damaged(what: impl Into<String>) -> SnapshotError {
    SnapshotError::Damaged(what.into())
}

/// A writer that keeps a running CRC of what passes through.
struct Checksummed<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(bytes)?;
        self.crc.update(&bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn too_long() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "a string is too long for the snapshot",
    )
}

fn write_str<const N: usize>(out: &mut impl Write, text: &str) -> io::Result<()> {
    let length = text.len() as u64;
    if N < 8 && length >> (8 * N) != 0 {
        return Err(too_long());
    }
    out.write_all(&length.to_le_bytes()[..N])?;
    out.write_all(text.as_bytes())
}

fn write_count(out: &mut impl Write, count: usize) -> io::Result<()> {
    out.write_all(&u16::try_from(count).map_err(|_| too_long())?.to_le_bytes())
}

/// Reads fields from a snapshot whose checksum already held, still refusing any length that
/// runs past the end, so that no field can make it allocate more than the file holds.
struct Fields<R> {
    input: R,
    left: u64,
}

impl<R: Read> Fields<R> {
    fn bytes(&mut self, length: u64) -> Result<Vec<u8>, SnapshotError> {
        if length > self.left {
            return Err(damaged("a field runs past the end"));
        }
        self.left -= length;
        let mut bytes = vec![0u8; length as usize];
        self.input.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        if N as u64 > self.left {
            return Err(damaged("a field runs past the end"));
        }
        self.left -= N as u64;
        let mut array = [0u8; N];
        self.input.read_exact(&mut array)?;
        Ok(array)
    }

    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, SnapshotError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    fn string<const N: usize>(&mut self) -> Result<String, SnapshotError> {
        let mut length = [0u8; 8];
        length[..N].copy_from_slice(&self.array::<N>()?);
        let bytes = self.bytes(u64::from_le_bytes(length))?;
        String::from_utf8(bytes).map_err(|_| damaged("a string is not UTF-8"))
    }

    /// A count of records that each take at least `min_size` bytes, checked against what is left.
    fn count(&mut self, min_size: u64) -> Result<usize, SnapshotError> {
        let count = self.u64()?;
        if count.saturating_mul(min_size) > self.left {
            return Err(damaged("a count is larger than the file"));
        }
        Ok(count as usize)
    }
}

impl GraphIndex {
    /// Writes the index, tagged with `tag` (at most 255 bytes).
    pub fn write_snapshot(&self, out: &mut impl Write, tag: &[u8]) -> io::Result<()> {
        let mut out = Checksummed {
            inner: out,
            crc: crc32fast::Hasher::new(),
        };
        out.write_all(MAGIC)?;
        out.write_all(&[u8::try_from(tag.len()).map_err(|_| too_long())?])?;
        out.write_all(tag)?;
        let p = &self.provenance;
        // Sources and entities are written in id order; relations name them by position.
        let mut source_position = vec![u32::MAX; p.sources.len()];
        let mut live_sources: Vec<(&str, u32)> =
            p.slots.iter().map(|(id, &slot)| (&**id, slot)).collect();
        live_sources.sort_unstable();
        let mut position = vec![u32::MAX; self.graph.node_bound()];
        out.write_all(&(self.entities.len() as u64).to_le_bytes())?;
        out.write_all(&(self.relation_count() as u64).to_le_bytes())?;
        out.write_all(&(live_sources.len() as u64).to_le_bytes())?;
        for (i, (id, slot)) in live_sources.iter().enumerate() {
            source_position[*slot as usize] = i as u32;
            write_str::<2>(&mut out, id)?;
        }
        for (i, &node) in self.entities.values().enumerate() {
            position[node.index()] = i as u32;
            let data = &self.graph[node];
            out.write_all(&[data.kind as u8])?;
            out.write_all(&data.updated_at.0.to_le_bytes())?;
            write_str::<2>(&mut out, &data.id)?;
            write_str::<4>(&mut out, &data.search_text)?;
        }
        let sources_of = |edge: EdgeIndex, first: u32| -> Vec<u32> {
            let mut slots: Vec<u32> = Vec::new();
            if first != NO_SOURCE {
                slots.push(first);
            }
            if let Some(more) = p.more_sources.get(&(edge.index() as u32)) {
                slots.extend(more.iter());
            }
            slots
                .into_iter()
                .map(|slot| source_position[slot as usize])
                .collect()
        };
        for edge in self.graph.edge_indices() {
            let Some((from, to)) = self.graph.edge_endpoints(edge) else {
                continue;
            };
            let data = &self.graph[edge];
            write_str::<2>(&mut out, self.relation_id(edge))?;
            let status = data.status.map_or(0, |s| s as u8 + 1);
            out.write_all(&[data.kind as u8, data.says.bits(), status])?;
            out.write_all(&position[from.index()].to_le_bytes())?;
            out.write_all(&position[to.index()].to_le_bytes())?;
            out.write_all(&data.span.from.to_le_bytes())?;
            out.write_all(&data.span.until.to_le_bytes())?;
            let sources = sources_of(edge, data.source);
            write_count(&mut out, sources.len())?;
            for s in sources {
                out.write_all(&s.to_le_bytes())?;
            }
            for map in [&p.outside_claimants, &p.outside_asserters] {
                let claimants = map
                    .get(&(edge.index() as u32))
                    .map(|c| &c[..])
                    .unwrap_or_default();
                write_count(&mut out, claimants.len())?;
                for node in claimants {
                    out.write_all(&position[node.index()].to_le_bytes())?;
                }
            }
        }
        let crc = out.crc.clone().finalize();
        out.inner.write_all(&crc.to_le_bytes())?;
        out.flush()
    }

    /// Reads an index written by [`GraphIndex::write_snapshot`] if its tag is `tag`, after
    /// checking its checksum over the whole file.
    pub fn read_snapshot(
        input: &mut (impl Read + Seek),
        tag: &[u8],
    ) -> Result<GraphIndex, SnapshotError> {
        let length = input.seek(SeekFrom::End(0))?;
        input.seek(SeekFrom::Start(0))?;
        let header = MAGIC.len() as u64 + 1 + tag.len() as u64;
        if length < header + 4 {
            return Err(SnapshotError::Stale);
        }
        let mut head = vec![0u8; header as usize];
        input.read_exact(&mut head)?;
        if &head[..MAGIC.len()] != MAGIC
            || head[MAGIC.len()] as usize != tag.len()
            || &head[MAGIC.len() + 1..] != tag
        {
            return Err(SnapshotError::Stale);
        }
        // The whole file's checksum first: nothing is built from bytes that may be damaged.
        input.seek(SeekFrom::Start(0))?;
        let mut crc = crc32fast::Hasher::new();
        let mut body = (&mut *input).take(length - 4);
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = body.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            crc.update(&buffer[..n]);
        }
        let mut stored = [0u8; 4];
        input.read_exact(&mut stored)?;
        if crc.finalize() != u32::from_le_bytes(stored) {
            return Err(damaged("its checksum does not match"));
        }
        input.seek(SeekFrom::Start(header))?;
        let mut fields = Fields {
            input,
            left: length - 4 - header,
        };
        Self::read_fields(&mut fields)
    }

    fn read_fields(fields: &mut Fields<impl Read>) -> Result<GraphIndex, SnapshotError> {
        let entities = fields.count(15)?;
        let relations = fields.count(27)?;
        let sources = fields.count(2)?;
        let mut index = GraphIndex::with_capacity(entities, relations);
        let mut source_slots: Vec<u32> = Vec::with_capacity(sources);
        for _ in 0..sources {
            let id = fields.string::<2>()?;
            index.upsert_source(&id);
            let slot = index
                .provenance
                .slots
                .get(id.as_str())
                .copied()
                .ok_or_else(|| damaged("a source is listed twice"))?;
            source_slots.push(slot);
        }
        if index.provenance.slots.len() != sources {
            return Err(damaged("a source is listed twice"));
        }
        let mut nodes: Vec<NodeIndex> = Vec::with_capacity(entities);
        for _ in 0..entities {
            let kind = *EntityKind::ALL
                .get(fields.u8()? as usize)
                .ok_or_else(|| damaged("unknown entity kind"))?;
            let updated_at = Timestamp(fields.i64()?);
            let id = fields.string::<2>()?;
            let text = fields.string::<4>()?;
            let node = index.graph.add_node(NodeData {
                id: id.as_str().into(),
                kind,
                updated_at,
                search_text: text.into_boxed_str(),
            });
            if index.entities.insert(id.into_boxed_str(), node).is_some() {
                return Err(damaged("an entity is listed twice"));
            }
            index.learn_identifiers(node);
            nodes.push(node);
        }
        let node_at = |position: u32| -> Result<NodeIndex, SnapshotError> {
            nodes
                .get(position as usize)
                .copied()
                .ok_or_else(|| damaged("a relation names an entity out of range"))
        };
        // Reused for every relation: most have one source and no outside claimant.
        let (mut sources, mut claimants, mut asserters) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..relations {
            let id = fields.string::<2>()?;
            let kind = *RelationKind::ALL
                .get(fields.u8()? as usize)
                .ok_or_else(|| damaged("unknown relation kind"))?;
            let says =
                Says::from_bits(fields.u8()?).ok_or_else(|| damaged("unknown claim bits"))?;
            let status = match fields.u8()? {
                0 => None,
                n => Some(
                    *Status::ALL
                        .get(usize::from(n) - 1)
                        .ok_or_else(|| damaged("unknown relation status"))?,
                ),
            };
            let from = node_at(fields.u32()?)?;
            let to = node_at(fields.u32()?)?;
            let span = DaySpan {
                from: fields.u32()?,
                until: fields.u32()?,
            };
            sources.clear();
            claimants.clear();
            asserters.clear();
            for _ in 0..fields.u16()? {
                let slot = source_slots
                    .get(fields.u32()? as usize)
                    .copied()
                    .ok_or_else(|| damaged("a relation names a source out of range"))?;
                sources.push(slot);
            }
            for _ in 0..fields.u16()? {
                claimants.push(node_at(fields.u32()?)?);
            }
            for _ in 0..fields.u16()? {
                let node = node_at(fields.u32()?)?;
                if !claimants.contains(&node) {
                    return Err(damaged("an asserter is not among the relation's claimants"));
                }
                asserters.push(node);
            }
            if index.edge(&id).is_some() {
                return Err(damaged("a relation is listed twice"));
            }
            let edge = index.insert_edge(
                &id,
                from,
                to,
                EdgeData {
                    kind,
                    denied: says.denied_by_every_claim(),
                    says,
                    span,
                    status,
                    source: sources.first().copied().unwrap_or(NO_SOURCE),
                },
            );
            index.record_provenance(edge, &sources, &claimants, &asserters);
        }
        if fields.left != 0 {
            return Err(damaged("it has bytes after its last record"));
        }
        index.shrink_to_fit();
        Ok(index)
    }
}
