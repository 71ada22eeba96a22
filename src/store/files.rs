//! A store's files, copied as they are, and a directory of files in one checked stream: what
//! a replication checkpoint is made of. Copying sled's files is many times faster than
//! writing its records one by one into a new store (a million entities and five million
//! relations: seconds against minutes), which is what lets a replica start from a checkpoint
//! quickly.
//!
//! The copy is taken with everything flushed and, the caller guarantees, no write under way:
//! the files are then what a crash at that moment would leave, which sled opens to exactly the
//! flushed state.
//!
//! ```text
//! "TIEGRAPH-FILES 1\n"
//! per file: name (u16 length + bytes, `/`-separated, relative), size u64, bytes, CRC32 u32
//! end: a name of length 0, the file count u32
//! ```
//! Integers are little-endian. A stream whose checksum, count or end is wrong is refused, and
//! an unpack that fails leaves nothing behind.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Component, Path};

use super::{BackupError, Identity, Store, StoreError, IDENTITY_FILE};

const MAGIC: &[u8] = b"TIEGRAPH-FILES 1\n";

impl Store {
    /// Copies the store's files into the empty directory `to`, after flushing everything. The
    /// caller must hold off every write until it returns. The identity file copied says the
    /// store's sequence now.
    pub fn copy_files_to(&self, to: &Path) -> Result<(), StoreError> {
        self.db.flush()?;
        fs::create_dir_all(to).map_err(super::io_error(to))?;
        for entry in fs::read_dir(&self.dir).map_err(super::io_error(&self.dir))? {
            let entry = entry.map_err(super::io_error(&self.dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            // sled's own files; the index snapshot, markers and staging directories of the
            // layers above are theirs to copy or not.
            let sled_file = matches!(name, "conf" | "db" | "blobs") || name.starts_with("snap.");
            if !sled_file {
                continue;
            }
            copy_tree(&entry.path(), &to.join(name))?;
        }
        let identity = Identity {
            store: super::hex(&self.id),
            sequence: self.sequence()?,
        };
        let path = to.join(IDENTITY_FILE);
        let text = serde_json::to_vec_pretty(&identity).unwrap_or_default();
        fs::write(&path, text).map_err(super::io_error(&path))?;
        Ok(())
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), StoreError> {
    if from.is_dir() {
        fs::create_dir_all(to).map_err(super::io_error(to))?;
        for entry in fs::read_dir(from).map_err(super::io_error(from))? {
            let entry = entry.map_err(super::io_error(from))?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        fs::copy(from, to).map_err(super::io_error(from))?;
    }
    Ok(())
}

/// Copies exactly `size` bytes from `from` to `to`; returns their CRC32. A source that ends
/// sooner fails with `UnexpectedEof`.
fn copy_summed(from: &mut impl Read, to: &mut impl Write, size: u64) -> io::Result<u32> {
    let mut crc = crc32fast::Hasher::new();
    let mut left = size;
    let mut buffer = vec![0u8; 1 << 20];
    while left > 0 {
        let want = buffer
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        from.read_exact(&mut buffer[..want])?;
        crc.update(&buffer[..want]);
        to.write_all(&buffer[..want])?;
        left -= want as u64;
    }
    Ok(crc.finalize())
}

/// Writes every file under `dir` into `out`; returns the bytes written.
pub fn write_files(dir: &Path, out: &mut dyn Write) -> io::Result<u64> {
    let mut out = Counted { out, bytes: 0 };
    out.write_all(MAGIC)?;
    let mut names = Vec::new();
    list(dir, "", &mut names)?;
    names.sort();
    for name in &names {
        let length = u16::try_from(name.len())
            .map_err(|_| io::Error::other(format!("the file name {name} is too long")))?;
        out.write_all(&length.to_le_bytes())?;
        out.write_all(name.as_bytes())?;
        let mut file = File::open(dir.join(name))?;
        let size = file.metadata()?.len();
        out.write_all(&size.to_le_bytes())?;
        let crc = copy_summed(&mut file, &mut out, size)?;
        out.write_all(&crc.to_le_bytes())?;
    }
    out.write_all(&0u16.to_le_bytes())?;
    let count = u32::try_from(names.len()).map_err(|_| io::Error::other("too many files"))?;
    out.write_all(&count.to_le_bytes())?;
    Ok(out.bytes)
}

fn list(dir: &Path, prefix: &str, names: &mut Vec<String>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = format!("{prefix}{name}");
        if entry.file_type()?.is_dir() {
            list(&entry.path(), &format!("{relative}/"), names)?;
        } else {
            names.push(relative);
        }
    }
    Ok(())
}

/// Unpacks a stream [`write_files`] wrote into `dir`, which must not exist: into a staging
/// directory beside it, renamed into place only once every file has passed its checksum and
/// the stream has ended as it should. Returns how many files it held.
pub fn unpack_files(input: impl Read, dir: &Path) -> Result<u64, BackupError> {
    if dir.exists() {
        return Err(BackupError::NotEmpty(dir.display().to_string()));
    }
    let mut staging = dir.as_os_str().to_owned();
    staging.push(".unpacking");
    let staging = Path::new(&staging).to_owned();
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging)?;
    let unpacked =
        unpack_into(BufReader::with_capacity(1 << 20, input), &staging).and_then(|count| {
            fs::rename(&staging, dir)?;
            Ok(count)
        });
    if unpacked.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    unpacked
}

fn unpack_into(mut input: impl Read, dir: &Path) -> Result<u64, BackupError> {
    let malformed = |what: &str| BackupError::Malformed(format!("the checkpoint's files: {what}"));
    let cut = |e: io::Error| match e.kind() {
        io::ErrorKind::UnexpectedEof => malformed("the stream is cut short"),
        _ => BackupError::Io(e),
    };
    let mut magic = vec![0u8; MAGIC.len()];
    input.read_exact(&mut magic).map_err(cut)?;
    if magic != MAGIC {
        return Err(malformed("not a stream of a store's files"));
    }
    let mut count = 0u64;
    loop {
        let mut length = [0u8; 2];
        input.read_exact(&mut length).map_err(cut)?;
        let length = u16::from_le_bytes(length) as usize;
        if length == 0 {
            break;
        }
        let mut name = vec![0u8; length];
        input.read_exact(&mut name).map_err(cut)?;
        let name = String::from_utf8(name).map_err(|_| malformed("a file name is not UTF-8"))?;
        let relative = Path::new(&name);
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(malformed(&format!(
                "the file name `{name}` leaves the directory"
            )));
        }
        let mut size = [0u8; 8];
        input.read_exact(&mut size).map_err(cut)?;
        let size = u64::from_le_bytes(size);
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        let crc = copy_summed(&mut input, &mut out, size).map_err(cut)?;
        let mut expected = [0u8; 4];
        input.read_exact(&mut expected).map_err(cut)?;
        if crc != u32::from_le_bytes(expected) {
            return Err(malformed(&format!(
                "{name} fails its checksum: it is damaged"
            )));
        }
        out.into_inner()
            .map_err(|e| BackupError::Io(e.into_error()))?
            .sync_all()?;
        count += 1;
    }
    let mut listed = [0u8; 4];
    input.read_exact(&mut listed).map_err(cut)?;
    if u64::from(u32::from_le_bytes(listed)) != count {
        return Err(malformed("it ends with a count that is not its files'"));
    }
    if input.read(&mut [0u8; 1])? != 0 {
        return Err(malformed("there are bytes after its end"));
    }
    Ok(count)
}

struct Counted<'a> {
    out: &'a mut dyn Write,
    bytes: u64,
}

impl Write for Counted<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let written = self.out.write(data)?;
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn packed(dir: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        write_files(dir, &mut out).unwrap();
        out
    }

    #[test]
    fn files_come_back_as_they_were_and_a_damaged_stream_leaves_nothing() {
        let from = tempfile::TempDir::new().unwrap();
        fs::write(from.path().join("db"), vec![7u8; 3 << 20]).unwrap();
        fs::create_dir(from.path().join("blobs")).unwrap();
        fs::write(from.path().join("blobs/1"), b"blob").unwrap();
        let stream = packed(from.path());
        let to = tempfile::TempDir::new().unwrap();
        let target = to.path().join("store");
        assert_eq!(unpack_files(&stream[..], &target).unwrap(), 2);
        assert_eq!(fs::read(target.join("db")).unwrap(), vec![7u8; 3 << 20]);
        assert_eq!(fs::read(target.join("blobs/1")).unwrap(), b"blob");

        let refused = |stream: &[u8]| {
            let target = to.path().join("again");
            let error = unpack_files(stream, &target).unwrap_err();
            assert!(!target.exists(), "{error}");
            assert!(!to.path().join("again.unpacking").exists());
            error.to_string()
        };
        let mut flipped = stream.clone();
        flipped[MAGIC.len() + 40] ^= 1;
        assert!(refused(&flipped).contains("checksum"));
        assert!(refused(&stream[..stream.len() - 3]).contains("cut short"));
        let mut longer = stream.clone();
        longer.push(0);
        assert!(refused(&longer).contains("after its end"));
        assert!(refused(b"this is not a stream of files").contains("not a stream"));
    }
}
