//! Backups: every tree's raw keys and values, in a small framed binary format, so a restore
//! gives back exactly the bytes that were stored (schema version included), in exactly the
//! trees that were there. The trees are whatever sled holds, not a list kept here, so a change
//! of layout needs no change of format.
//!
//! A backup is only worth restoring if it is the one that was written: a flipped byte inside a
//! claim's quote would otherwise come back as a quote nobody said. So every frame carries a
//! CRC32 of its own bytes, which names the damaged frame, and the end frame a CRC32 of the whole
//! file, which also catches damage between frames, in the header or in the count. A backup cut
//! short has no end frame, and is refused.
//!
//! ```text
//! "TIEGRAPH-BACKUP 2\n"
//! per tree:   0x02, name length (u8), name, CRC32 (u32 BE) of the frame's bytes before it
//!             -- declared even when empty, so a restore recreates every tree
//! per record: 0x01, name length (u8), tree name, key length (u32 BE), key,
//!             value length (u32 BE), value, CRC32 (u32 BE) of the frame's bytes before it
//!             -- each record follows its tree's frame
//! the end:    0x00, record count (u64 BE), CRC32 (u32 BE) of every byte of the file before it
//! ```
//!
//! CRC32 is the IEEE one (`crc32fast`). The frame checksums cover the tag and the lengths as
//! well as the tree name, key and value, so a damaged length is told apart from a damaged
//! value.
//!
//! Restores still read format 1, which users hold: the same frames without checksums and
//! without tree frames, over a fixed set of six trees.
//!
//! ```text
//! "TIEGRAPH-BACKUP 1\n"
//! repeated: 0x01, tree-name length (u8), tree name, key length (u32 BE), key, value length (u32 BE), value
//! 0x00, record count (u64 BE)
//! ```
//!
//! A restore reads the whole file once before it writes anything, because a damaged backup
//! must leave no store behind that looks like a good one. It then writes into a sibling
//! directory and renames that into place only once the store is flushed, closed and opens,
//! so the data directory is either the whole backup or as it was.
//!
//! A backup is written from a [`Snapshot`], so it shows the store at one moment while writers
//! go on.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crc32fast::Hasher;

use super::{Snapshot, Store, StoreError};

const MAGIC: &[u8] = b"TIEGRAPH-BACKUP 2\n";
const MAGIC_V1: &[u8] = b"TIEGRAPH-BACKUP 1\n";
/// What every version's header starts with, to tell an unknown version from a stranger's file.
const MAGIC_PREFIX: &[u8] = b"TIEGRAPH-BACKUP ";
const END: u8 = 0;
const RECORD: u8 = 1;
const TREE: u8 = 2;

/// The trees a format 1 backup could hold: the layout of the builds that wrote them, whatever
/// the store's layout is now.
const V1_TREES: [&str; 6] = [
    "meta",
    "entities",
    "relations",
    "sources",
    "claims",
    "citations",
];

/// The largest key or value we ever write; a larger length means a corrupt backup, not a
/// reason to allocate gigabytes.
const MAX_CHUNK: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read or write the backup: {0}")]
    Io(#[from] io::Error),
    /// Not a backup, or one whose structure is wrong; the message says where and how.
    #[error("{0}")]
    Malformed(String),
    #[error("frame {frame} fails its checksum: the backup is damaged")]
    FrameChecksum { frame: u64 },
    #[error("the backup fails its whole-file checksum: it is damaged")]
    FileChecksum,
    #[error("the backup is cut short after {records} records")]
    CutShort { records: u64 },
    #[error("refusing to restore into {0}: it already holds a store")]
    NotEmpty(String),
}

impl From<sled::Error> for BackupError {
    fn from(e: sled::Error) -> Self {
        BackupError::Store(StoreError::Engine(e))
    }
}

impl Snapshot {
    /// Writes every record of every tree as it was when the snapshot was taken; returns how
    /// many.
    pub fn write_backup(&self, out: &mut impl Write) -> Result<u64, BackupError> {
        let mut out = Summing {
            out,
            crc: Hasher::new(),
        };
        out.put(MAGIC)?;
        let mut count = 0u64;
        for name in self.trees() {
            let name_length = u8::try_from(name.len())
                .map_err(|_| io::Error::other("a tree name longer than 255 bytes"))?;
            out.frame(&[&[TREE, name_length], &name])?;
            for record in self.records(&self.store.db.open_tree(&name)?) {
                let (key, value) = record?;
                out.frame(&[
                    &[RECORD, name_length],
                    &name,
                    &chunk_length(&key)?,
                    &key,
                    &chunk_length(&value)?,
                    &value,
                ])?;
                count += 1;
            }
        }
        out.put(&[END])?;
        out.put(&count.to_be_bytes())?;
        let crc = out.crc.clone().finalize();
        out.out.write_all(&crc.to_be_bytes())?;
        out.out.flush()?;
        Ok(count)
    }
}

impl Store {
    /// Restores the backup in the file `backup` into `dir`, which must hold no store yet, and
    /// returns how many records it held. The whole file is checked before anything is written;
    /// a restore that fails later removes what it wrote, leaving `dir` as it was.
    pub fn restore(dir: &Path, backup: &Path) -> Result<u64, BackupError> {
        if dir.exists() && fs::read_dir(dir)?.next().is_some() {
            return Err(BackupError::NotEmpty(dir.display().to_string()));
        }
        let count = Self::verify_backup(backup)?;
        let (parent, staging) = staging_dir(dir)?;
        if !parent.as_os_str().is_empty() {
            fs::create_dir_all(parent)?;
        }
        // Only this restore may write there, and only what it created may it remove.
        fs::create_dir(&staging).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot create {} to restore into (if a restore was interrupted, remove it): {e}",
                    staging.display()
                ),
            )
        })?;
        let result = Self::restore_staged(&staging, backup, count).and_then(|()| {
            fs::rename(&staging, dir)?;
            Ok(count)
        });
        match result {
            Ok(count) => {
                // Makes the rename itself durable; the store inside already is.
                if let Ok(parent) = File::open(if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                }) {
                    let _ = parent.sync_all();
                }
                Ok(count)
            }
            Err(error) => {
                // Once sled is done with them, or a late write could recreate a file in it.
                let _ = wait_for_release(&staging);
                let _ = fs::remove_dir_all(&staging);
                Err(error)
            }
        }
    }

    /// Writes the records into `staging`, then checks that the result opens as a store and
    /// that sled has let go of its files, so that they can be moved.
    fn restore_staged(staging: &Path, backup: &Path, expected: u64) -> Result<(), BackupError> {
        let db = sled::Config::new().path(staging).open()?;
        let mut current: Option<(Vec<u8>, sled::Tree)> = None;
        let count = read_backup(open_backup(backup)?, |item| {
            let name = match &item {
                Item::Tree(name) | Item::Record(name, _, _) => *name,
            };
            let tree = match &current {
                Some((open, tree)) if open.as_slice() == name => tree.clone(),
                _ => {
                    let tree = db.open_tree(name)?;
                    current = Some((name.to_vec(), tree.clone()));
                    tree
                }
            };
            if let Item::Record(_, key, value) = item {
                tree.insert(key, value)?;
            }
            Ok(())
        })?;
        if count != expected {
            return Err(BackupError::Malformed(format!(
                "the backup changed while it was restored: {expected} records when checked, {count} when read again"
            )));
        }
        db.flush()?;
        drop(current);
        drop(db);
        // Opening checks the schema version the backup carried.
        drop(Store::open(staging)?);
        wait_for_release(staging)
    }

    /// Reads the backup in the file `backup` through without restoring it: whether it is whole
    /// and undamaged, and how many records it holds.
    pub fn verify_backup(backup: &Path) -> Result<u64, BackupError> {
        read_backup(open_backup(backup)?, |_| Ok(()))
    }
}

/// Where a restore into `dir` writes before the rename: a sibling, so the rename stays on one
/// file system. Returns the parent as well (empty for a bare relative name).
fn staging_dir(dir: &Path) -> Result<(&Path, PathBuf), BackupError> {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a directory to create", dir.display()),
        )
        .into());
    };
    let mut staging = name.to_os_string();
    staging.push(format!(".restoring-{}", std::process::id()));
    Ok((parent, parent.join(staging)))
}

/// sled releases a closed store's file lock from a background thread, a moment after the last
/// handle is dropped, and writes nothing after: waits for that, as [`Store::open`] does.
fn wait_for_release(dir: &Path) -> Result<(), BackupError> {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("db"))?;
    for _ in 0..100 {
        match file.try_lock() {
            // Dropping the file releases our lock.
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(20)),
            Err(fs::TryLockError::Error(e)) => return Err(e.into()),
        }
    }
    Err(io::Error::other(format!(
        "the restored store in {} was still in use after two seconds",
        dir.display()
    ))
    .into())
}

fn open_backup(backup: &Path) -> Result<BufReader<File>, BackupError> {
    let file = File::open(backup)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", backup.display())))?;
    Ok(BufReader::with_capacity(1 << 16, file))
}

/// A writer that keeps the CRC32 of everything written through it.
struct Summing<'a, W> {
    out: &'a mut W,
    crc: Hasher,
}

impl<W: Write> Summing<'_, W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.crc.update(bytes);
        self.out.write_all(bytes)
    }

    /// Writes the parts of one frame, then the frame's checksum.
    fn frame(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        let mut crc = Hasher::new();
        for part in parts {
            crc.update(part);
            self.put(part)?;
        }
        self.put(&crc.finalize().to_be_bytes())
    }
}

fn chunk_length(bytes: &[u8]) -> io::Result<[u8; 4]> {
    if bytes.len() > MAX_CHUNK {
        // It could be written, but never restored.
        return Err(io::Error::other(format!(
            "a record of {} bytes, more than a backup can hold",
            bytes.len()
        )));
    }
    Ok((bytes.len() as u32).to_be_bytes())
}

/// What a backup hands a restore, in order.
enum Item<'a> {
    /// A tree the store had, with or without records.
    Tree(&'a [u8]),
    /// A record of a tree: tree name, key, value.
    Record(&'a [u8], Vec<u8>, Vec<u8>),
}

/// Parses a backup of either format, checking every checksum, handing each item to `item`,
/// and returns its record count.
fn read_backup(
    input: impl Read,
    item: impl FnMut(Item) -> Result<(), BackupError>,
) -> Result<u64, BackupError> {
    let mut input = Input {
        input,
        file: Hasher::new(),
        frame: Hasher::new(),
        records: 0,
    };
    let header = input.up_to(MAGIC.len())?;
    if header == MAGIC {
        read_v2(input, item)
    } else if header == MAGIC_V1 {
        read_v1(input, item)
    } else if header.len() < MAGIC.len() && MAGIC.starts_with(&header) {
        Err(BackupError::CutShort { records: 0 })
    } else if header.starts_with(MAGIC_PREFIX) {
        Err(BackupError::Malformed(format!(
            "the backup's header is {:?}: a format this build cannot read, or a damaged header",
            String::from_utf8_lossy(&header)
        )))
    } else {
        Err(BackupError::Malformed(
            "not a tiegraph backup: it does not start with the header".into(),
        ))
    }
}

fn read_v2(
    mut input: Input<impl Read>,
    mut item: impl FnMut(Item) -> Result<(), BackupError>,
) -> Result<u64, BackupError> {
    let mut trees: HashSet<Vec<u8>> = HashSet::new();
    let mut current: Option<Vec<u8>> = None;
    let mut frame = 0u64;
    loop {
        frame += 1;
        input.frame = Hasher::new();
        let [tag] = input.array()?;
        match tag {
            TREE => {
                let name = input.name()?;
                input.check_frame(frame)?;
                if !trees.insert(name.clone()) {
                    return Err(BackupError::Malformed(format!(
                        "frame {frame} declares tree {} a second time: the backup is damaged",
                        show(&name)
                    )));
                }
                item(Item::Tree(&name))?;
                current = Some(name);
            }
            RECORD => {
                let name = input.name()?;
                let key = input.chunk(frame, "key")?;
                let value = input.chunk(frame, "value")?;
                input.check_frame(frame)?;
                if current.as_deref() != Some(name.as_slice()) {
                    return Err(BackupError::Malformed(format!(
                        "frame {frame} holds a record of tree {} outside that tree's frames: the backup is damaged",
                        show(&name)
                    )));
                }
                item(Item::Record(&name, key, value))?;
                input.records += 1;
            }
            END => {
                let count = u64::from_be_bytes(input.array()?);
                let computed = input.file.clone().finalize();
                let stored = u32::from_be_bytes(input.array()?);
                if computed != stored {
                    return Err(BackupError::FileChecksum);
                }
                if count != input.records {
                    return Err(BackupError::Malformed(format!(
                        "the end frame counts {count} records but the backup holds {}: it is damaged",
                        input.records
                    )));
                }
                input.expect_end()?;
                return Ok(count);
            }
            _ => return Err(unknown_tag(frame, tag)),
        }
    }
}

fn read_v1(
    mut input: Input<impl Read>,
    mut item: impl FnMut(Item) -> Result<(), BackupError>,
) -> Result<u64, BackupError> {
    let mut frame = 0u64;
    loop {
        frame += 1;
        let [tag] = input.array()?;
        match tag {
            RECORD => {
                let name = input.name()?;
                if !V1_TREES.iter().any(|t| t.as_bytes() == name.as_slice()) {
                    return Err(BackupError::Malformed(format!(
                        "frame {frame} holds a record of tree {}, which no format 1 backup has",
                        show(&name)
                    )));
                }
                let key = input.chunk(frame, "key")?;
                let value = input.chunk(frame, "value")?;
                item(Item::Record(&name, key, value))?;
                input.records += 1;
            }
            END => {
                let count = u64::from_be_bytes(input.array()?);
                if count != input.records {
                    return Err(BackupError::Malformed(format!(
                        "the end frame counts {count} records but the backup holds {}",
                        input.records
                    )));
                }
                return Ok(count);
            }
            _ => return Err(unknown_tag(frame, tag)),
        }
    }
}

fn unknown_tag(frame: u64, tag: u8) -> BackupError {
    BackupError::Malformed(format!(
        "frame {frame} starts with the unknown tag {tag:#04x}: the backup is damaged"
    ))
}

/// A tree name for a message: as text when it is text.
fn show(name: &[u8]) -> String {
    format!("`{}`", String::from_utf8_lossy(name))
}

/// A backup being read: keeps the checksums of the whole file and of the current frame.
struct Input<R> {
    input: R,
    file: Hasher,
    frame: Hasher,
    /// Whole records read so far, to say where a backup was cut short.
    records: u64,
}

impl<R: Read> Input<R> {
    /// At most `length` bytes: fewer only at the end of the file.
    fn up_to(&mut self, length: usize) -> Result<Vec<u8>, BackupError> {
        let mut bytes = Vec::new();
        // Read in pieces, so a damaged length in a short file allocates no more than the file.
        (&mut self.input)
            .take(length as u64)
            .read_to_end(&mut bytes)?;
        self.file.update(&bytes);
        self.frame.update(&bytes);
        Ok(bytes)
    }

    fn bytes(&mut self, length: usize) -> Result<Vec<u8>, BackupError> {
        let bytes = self.up_to(length)?;
        if bytes.len() < length {
            return Err(BackupError::CutShort {
                records: self.records,
            });
        }
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BackupError> {
        let bytes = self.bytes(N)?;
        <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| BackupError::CutShort {
            records: self.records,
        })
    }

    fn name(&mut self) -> Result<Vec<u8>, BackupError> {
        let [length] = self.array()?;
        self.bytes(length as usize)
    }

    fn chunk(&mut self, frame: u64, what: &str) -> Result<Vec<u8>, BackupError> {
        let length = u32::from_be_bytes(self.array()?) as usize;
        if length > MAX_CHUNK {
            return Err(BackupError::Malformed(format!(
                "frame {frame} claims a {what} of {length} bytes, more than any backup holds: the backup is damaged"
            )));
        }
        self.bytes(length)
    }

    /// Reads the frame's stored checksum and compares it with the bytes read since its tag.
    fn check_frame(&mut self, frame: u64) -> Result<(), BackupError> {
        let computed = self.frame.clone().finalize();
        if u32::from_be_bytes(self.array()?) != computed {
            return Err(BackupError::FrameChecksum { frame });
        }
        Ok(())
    }

    fn expect_end(&mut self) -> Result<(), BackupError> {
        let mut rest = Vec::new();
        (&mut self.input).take(1).read_to_end(&mut rest)?;
        if !rest.is_empty() {
            return Err(BackupError::Malformed(
                "bytes follow the end frame: the backup is damaged, or joined to another file"
                    .into(),
            ));
        }
        Ok(())
    }
}
