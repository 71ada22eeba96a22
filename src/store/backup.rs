//! Backups: every tree's raw keys and values, in a small framed binary format, so a restore
//! gives back exactly the bytes that were stored (schema version included).
//!
//! ```text
//! "TIEGRAPH-BACKUP 1\n"
//! repeated: 0x01, tree-name length (u8), tree name, key length (u32 BE), key, value length (u32 BE), value
//! 0x00, record count (u64 BE)      -- the end: a backup cut short has none, and is refused
//! ```

use std::io::{self, Read, Write};
use std::path::Path;

use super::{trees, Store, StoreError};

const MAGIC: &[u8] = b"TIEGRAPH-BACKUP 1\n";
const RECORD: u8 = 1;
const END: u8 = 0;

/// Every tree a backup holds: all of them.
const TREES: [&str; 6] = [
    trees::META,
    trees::ENTITIES,
    trees::RELATIONS,
    trees::SOURCES,
    trees::CLAIMS,
    trees::CITATIONS,
];

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read or write the backup: {0}")]
    Io(#[from] io::Error),
    #[error("not a tiegraph backup, or one cut short: {0}")]
    Malformed(&'static str),
    #[error("refusing to restore into {0}: it already holds a store")]
    NotEmpty(String),
}

impl From<sled::Error> for BackupError {
    fn from(e: sled::Error) -> Self {
        BackupError::Store(StoreError::Engine(e))
    }
}

impl Store {
    /// Writes every record. The caller must keep writers out for the backup to be consistent
    /// (the service does, see `Service::backup`).
    pub fn backup(&self, out: &mut impl Write) -> Result<u64, BackupError> {
        out.write_all(MAGIC)?;
        let mut count = 0u64;
        for name in TREES {
            let tree = self.db.open_tree(name)?;
            for item in tree.iter() {
                let (key, value) = item.map_err(StoreError::Engine)?;
                out.write_all(&[RECORD, name.len() as u8])?;
                out.write_all(name.as_bytes())?;
                write_chunk(out, &key)?;
                write_chunk(out, &value)?;
                count += 1;
            }
        }
        out.write_all(&[END])?;
        out.write_all(&count.to_be_bytes())?;
        out.flush()?;
        Ok(count)
    }

    /// Restores a backup into `dir`, which must hold no store yet. Nothing is left behind
    /// when the backup is malformed or cut short: the records are checked before the store
    /// is flushed, and a failed restore removes what it wrote.
    pub fn restore(dir: &Path, input: &mut impl Read) -> Result<u64, BackupError> {
        if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
            return Err(BackupError::NotEmpty(dir.display().to_string()));
        }
        let result = Self::restore_into(dir, input);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(dir);
        }
        result
    }

    fn restore_into(dir: &Path, input: &mut impl Read) -> Result<u64, BackupError> {
        let db = sled::Config::new().path(dir).open()?;
        let count = read_backup(input, |tree, key, value| {
            db.open_tree(tree)?.insert(key, value)?;
            Ok(())
        })?;
        db.flush()?;
        drop(db);
        // Opening checks the schema version the backup carried.
        Store::open(dir)?;
        Ok(count)
    }

    /// Reads a backup through without restoring it: whether it is whole, and how many records
    /// it holds.
    pub fn verify_backup(input: &mut impl Read) -> Result<u64, BackupError> {
        read_backup(input, |_, _, _| Ok(()))
    }
}

/// Parses a backup, handing each record to `record`, and checks its end.
fn read_backup(
    input: &mut impl Read,
    mut record: impl FnMut(&str, Vec<u8>, Vec<u8>) -> Result<(), BackupError>,
) -> Result<u64, BackupError> {
    let mut magic = [0u8; MAGIC.len()];
    input
        .read_exact(&mut magic)
        .map_err(|_| BackupError::Malformed("no header"))?;
    if magic != MAGIC {
        return Err(BackupError::Malformed("wrong header"));
    }
    let mut count = 0u64;
    loop {
        let mut tag = [0u8; 1];
        input
            .read_exact(&mut tag)
            .map_err(|_| BackupError::Malformed("no end marker"))?;
        match tag[0] {
            RECORD => {
                let mut length = [0u8; 1];
                input
                    .read_exact(&mut length)
                    .map_err(|_| BackupError::Malformed("truncated record"))?;
                let name = read_exact_vec(input, length[0] as usize)?;
                let name = std::str::from_utf8(&name)
                    .map_err(|_| BackupError::Malformed("bad tree name"))?;
                let Some(tree) = TREES.iter().find(|t| **t == name) else {
                    return Err(BackupError::Malformed("unknown tree"));
                };
                let key = read_chunk(input)?;
                let value = read_chunk(input)?;
                record(tree, key, value)?;
                count += 1;
            }
            END => {
                let mut expected = [0u8; 8];
                input
                    .read_exact(&mut expected)
                    .map_err(|_| BackupError::Malformed("truncated end"))?;
                if u64::from_be_bytes(expected) != count {
                    return Err(BackupError::Malformed("record count does not match"));
                }
                return Ok(count);
            }
            _ => return Err(BackupError::Malformed("unknown record tag")),
        }
    }
}

fn write_chunk(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let length = u32::try_from(bytes.len()).map_err(|_| io::Error::other("record too large"))?;
    out.write_all(&length.to_be_bytes())?;
    out.write_all(bytes)
}

/// The largest key or value we ever write; a larger length means a corrupt backup, not a
/// reason to allocate gigabytes.
const MAX_CHUNK: usize = 64 << 20;

fn read_chunk(input: &mut impl Read) -> Result<Vec<u8>, BackupError> {
    let mut length = [0u8; 4];
    input
        .read_exact(&mut length)
        .map_err(|_| BackupError::Malformed("truncated record"))?;
    read_exact_vec(input, u32::from_be_bytes(length) as usize)
}

fn read_exact_vec(input: &mut impl Read, length: usize) -> Result<Vec<u8>, BackupError> {
    if length > MAX_CHUNK {
        return Err(BackupError::Malformed("record too large"));
    }
    let mut bytes = vec![0u8; length];
    input
        .read_exact(&mut bytes)
        .map_err(|_| BackupError::Malformed("truncated record"))?;
    Ok(bytes)
}
