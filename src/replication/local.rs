//! A data directory joining a log: started from the log's checkpoint when it holds no store
//! or has fallen behind what the log still holds, checked to be of the log's store and not
//! ahead of it, and marked, so that nothing writes to it except through the log (`tiegraph
//! import --data-dir` and `serve` without `--log` refuse a marked directory: a commit made
//! there would be one the log never had).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::service::{unpack_checkpoint, Service, ServiceError};

use super::pg::{Cluster, Reader};
use super::ReplicationError;

/// The marker's file name in the data directory.
const MARKER: &str = "log.json";

#[derive(Serialize, Deserialize)]
struct Marker {
    store: String,
    log: String,
}

/// The log a data directory has joined, as its marker names it, if it has joined one.
pub fn joined_log(dir: &Path) -> Option<String> {
    let text = std::fs::read(dir.join(MARKER)).ok()?;
    match serde_json::from_slice::<Marker>(&text) {
        Ok(marker) => Some(marker.log),
        // A damaged marker still says the directory joined a log.
        Err(_) => Some("(unreadable marker)".into()),
    }
}

pub fn mark(dir: &Path, store: &str, log: &str) -> Result<(), ReplicationError> {
    let marker = Marker {
        store: store.to_owned(),
        log: log.to_owned(),
    };
    let path = dir.join(MARKER);
    let text = serde_json::to_vec_pretty(&marker).unwrap_or_default();
    std::fs::write(&path, text)
        .map_err(|e| ReplicationError::Local(format!("cannot write {}: {e}", path.display())))
}

fn holds_nothing(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none())
}

/// Opens the store a writer starts a new log from: its own, not one that joined another log.
pub fn open_own(
    dir: &Path,
    open: &dyn Fn(&Path) -> Result<Service, ServiceError>,
) -> Result<Service, ReplicationError> {
    if let Some(log) = joined_log(dir) {
        return Err(ReplicationError::Local(format!(
            "{} followed the log at {log}, which is now empty: it cannot start a new log (it may hold commits another log has); give the writer an empty --data-dir, or remove {MARKER} if it should",
            dir.display()
        )));
    }
    Ok(open(dir)?)
}

/// Opens `dir` as a copy of the log's store, starting it from the latest checkpoint when it
/// holds no store, or holds one the log can no longer bring up to date.
pub fn prepare(
    dir: &Path,
    cluster: &Cluster,
    reader: &mut Reader,
    open: &dyn Fn(&Path) -> Result<Service, ServiceError>,
) -> Result<Service, ReplicationError> {
    let restored = match holds_nothing(dir) {
        true => Some(restore_checkpoint(dir, reader)?),
        false => None,
    };
    let service = opened_as_restored(dir, open, restored)?;
    let id = service.store_id();
    if id != cluster.store_id {
        return Err(ReplicationError::Local(format!(
            "{} holds store {id}, but the log is of store {}: give this process an empty --data-dir, and it starts from the log's checkpoint",
            dir.display(),
            cluster.store_id
        )));
    }
    let sequence = service.sequence()?;
    if sequence > cluster.head {
        return Err(ReplicationError::Local(format!(
            "the store in {} is at commit {sequence}, ahead of the log's head {}: it holds commits the log never took. Give this process an empty --data-dir",
            dir.display(),
            cluster.head
        )));
    }
    let oldest = reader.oldest()?;
    let reachable = sequence == cluster.head || oldest.is_some_and(|o| o <= sequence + 1);
    if reachable {
        return Ok(service);
    }
    // What it holds is all in the checkpoint too: start again from that.
    tracing::info!(
        sequence,
        head = cluster.head,
        "the store is behind what the log still holds; starting again from the checkpoint"
    );
    drop(service);
    let behind = sibling(dir, "behind");
    std::fs::rename(dir, &behind).map_err(|e| {
        ReplicationError::Local(format!("cannot move {} aside: {e}", dir.display()))
    })?;
    let restored = restore_checkpoint(dir, reader)?;
    let _ = std::fs::remove_dir_all(&behind);
    opened_as_restored(dir, open, Some(restored))
}

/// Opens `dir`; one just started from the checkpoint at `restored` must open at that commit.
fn opened_as_restored(
    dir: &Path,
    open: &dyn Fn(&Path) -> Result<Service, ServiceError>,
    restored: Option<u64>,
) -> Result<Service, ReplicationError> {
    let service = open(dir)?;
    match restored {
        Some(sequence) if service.sequence()? != sequence => Err(ReplicationError::Local(format!(
            "the checkpoint of commit {sequence} opened as a store at commit {}: it is refused",
            service.sequence()?
        ))),
        _ => Ok(service),
    }
}

/// `dir` with a suffix, beside it.
fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}

/// Downloads the latest checkpoint beside `dir` and unpacks it into `dir` (which holds
/// nothing): every file's checksum is checked before the directory takes its place. Returns the
/// checkpoint's commit.
fn restore_checkpoint(dir: &Path, reader: &mut Reader) -> Result<u64, ReplicationError> {
    let Some(checkpoint) = reader.latest_checkpoint()? else {
        return Err(ReplicationError::Log(
            "the log has no checkpoint to start from yet: start the writer first".into(),
        ));
    };
    let file = sibling(dir, "checkpoint");
    tracing::info!(
        sequence = checkpoint.sequence,
        records = checkpoint.records,
        bytes = checkpoint.bytes,
        "starting from the log's checkpoint"
    );
    let local = |what: &str, e: std::io::Error| {
        ReplicationError::Local(format!("cannot {what} {}: {e}", file.display()))
    };
    let written = std::fs::File::create(&file).map_err(|e| local("create", e));
    let result = written.and_then(|out| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
        let total = checkpoint.bytes.max(1);
        let shown = std::cell::Cell::new(0u64);
        let progress = |bytes: u64| {
            let tenth = bytes * 10 / total;
            if tenth > shown.get() {
                shown.set(tenth);
                tracing::info!("checkpoint: {}% read", tenth * 10);
            }
        };
        let read = reader.read_checkpoint(checkpoint.sequence, &mut out, &progress)?;
        std::io::Write::flush(&mut out).map_err(|e| local("write", e))?;
        if read != checkpoint.bytes {
            return Err(ReplicationError::Log(format!(
                "the checkpoint at commit {} holds {read} bytes where {} were written",
                checkpoint.sequence, checkpoint.bytes
            )));
        }
        // The directory exists, empty, when it was given: it is made again whole.
        let _ = std::fs::remove_dir(dir);
        let input = std::fs::File::open(&file).map_err(|e| local("read", e))?;
        let files = unpack_checkpoint(input, dir).map_err(|e| {
            ReplicationError::Local(format!("cannot start from the checkpoint: {e}"))
        })?;
        tracing::info!(
            files,
            sequence = checkpoint.sequence,
            "unpacked the checkpoint"
        );
        Ok(checkpoint.sequence)
    });
    let _ = std::fs::remove_file(&file);
    result
}
