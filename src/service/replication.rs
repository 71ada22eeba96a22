//! What the service knows of replication: a change log outside the store ([`ChangeLog`]),
//! which the writer appends every commit to before committing it locally; the replica's
//! refusal of writes; commits read back from the log and applied ([`Service::apply_commit`]);
//! and the state `/ready`, `/metrics` and `minSequence` read.
//!
//! The order on the writer is log first, then store: a commit is acknowledged only once both
//! hold it, and a crash between the two leaves the log one commit ahead of the store, which
//! the writer applies from the log when it next starts (as a replica would). A log append
//! whose outcome is unknown (the connection broke during it) halts writes until the
//! replication layer has settled it and applied what the log holds.
//!
//! The log itself (PostgreSQL) is in `crate::replication`; this module knows only the trait.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::watch;

use super::changes::ChangeRecord;
use super::{Result, Service, ServiceError};

/// Why a log append failed, which decides what the writer does next.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The commit is not in the log (the append never reached it, or was rolled back).
    #[error("the change log did not take the commit: {0}")]
    Refused(String),
    /// The connection failed while the commit was on its way: it may or may not be there.
    #[error("the change log's answer was lost: {0}")]
    InDoubt(String),
    /// The log's head is not where this writer left it: another writer has appended.
    #[error("{0}")]
    Fenced(String),
}

/// One commit on its way into the log, part by part, then committed whole.
pub trait LogBatch {
    fn push(&mut self, part: &ChangeRecord) -> Result<(), LogError>;
    /// Makes every part pushed durable in the log at once.
    fn commit(self: Box<Self>) -> Result<(), LogError>;
}

/// An append-only log of change records, in commit order, with no gap and no duplicate.
pub trait ChangeLog: Send + Sync {
    /// Starts appending commit `sequence`, which must directly follow the log's head.
    fn begin(&self, sequence: u64) -> Result<Box<dyn LogBatch + '_>, LogError>;
    /// Writes a checkpoint: the store's files and index at `sequence` (streamed by `write`,
    /// which returns how many records they hold), so that replicas can start from it and the
    /// log rows it covers can be dropped.
    fn checkpoint(
        &self,
        sequence: u64,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> Result<u64>,
    ) -> Result<CheckpointSummary>;
}

/// Where, in the data directory, a checkpoint's copy of the store is made before it is sent
/// (the store copies only its own files, so never this one).
const CHECKPOINT_STAGING: &str = "checkpoint.partial";

/// What a checkpoint wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointSummary {
    pub sequence: u64,
    pub records: u64,
    pub bytes: u64,
    /// Log rows dropped because the checkpoint covers them.
    pub dropped: u64,
}

/// The part a process plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Today's single node: no log.
    Single,
    Writer,
    Replica,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Single => "single",
            Role::Writer => "writer",
            Role::Replica => "replica",
        }
    }
}

/// What the service holds of replication. Set once when the role is taken, then updated by
/// the replication layer's background work.
pub(super) struct Replication {
    log: OnceLock<Arc<dyn ChangeLog>>,
    role: OnceLock<Role>,
    /// Where writes go, as the writer advertises it: named in a replica's refusals.
    writer: Mutex<Option<String>>,
    /// Why writes are stopped on the writer (an append in doubt, another writer), if they are.
    halted: Mutex<Option<String>>,
    /// The log's head as last seen, and how many seconds old the oldest commit not yet applied
    /// was, in milliseconds.
    head: AtomicU64,
    lag_millis: AtomicU64,
    /// Whether the last attempt to reach the log succeeded.
    connected: AtomicBool,
    /// The commits applied locally, for readers who wait for one (read-your-writes).
    applied: watch::Sender<u64>,
}

impl Replication {
    pub(super) fn new(sequence: u64) -> Self {
        Replication {
            log: OnceLock::new(),
            role: OnceLock::new(),
            writer: Mutex::new(None),
            halted: Mutex::new(None),
            head: AtomicU64::new(sequence),
            lag_millis: AtomicU64::new(0),
            connected: AtomicBool::new(true),
            applied: watch::channel(sequence).0,
        }
    }

    pub(super) fn applied(&self, sequence: u64) {
        self.applied.send_if_modified(|current| {
            let newer = sequence > *current;
            if newer {
                *current = sequence;
            }
            newer
        });
        self.head.fetch_max(sequence, Ordering::SeqCst);
    }

    fn halt(&self, why: String) {
        tracing::error!("writes stopped: {why}");
        *self.halted.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    }
}

/// What a replica's or writer's state looks like from outside: for `/ready` and `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationStatus {
    pub role: Role,
    /// Commits applied locally (the store's sequence).
    pub applied: u64,
    /// The log's head as last seen.
    pub head: u64,
    /// How old the oldest commit not yet applied is; zero when none is waiting.
    pub lag_seconds: f64,
    pub connected: bool,
    /// Why writes are stopped, on a writer.
    pub halted: Option<String>,
    pub writer: Option<String>,
}

impl ReplicationStatus {
    pub fn lag_commits(&self) -> u64 {
        self.head.saturating_sub(self.applied)
    }
}

impl Service {
    /// Makes this service the writer of `log`: every commit from now on is appended to the
    /// log before it is committed locally. The caller has applied the log up to its head.
    pub fn attach_log(&self, log: Arc<dyn ChangeLog>, advertised: Option<String>) {
        let _writer = self.lock_writer();
        let _ = self.replication.role.set(Role::Writer);
        let _ = self.replication.log.set(log);
        self.set_writer_address(advertised);
    }

    /// Makes this service a replica: writes are refused, naming the writer.
    pub fn become_replica(&self, writer: Option<String>) {
        let _ = self.replication.role.set(Role::Replica);
        self.set_writer_address(writer);
    }

    pub fn set_writer_address(&self, writer: Option<String>) {
        *self
            .replication
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = writer;
    }

    pub fn role(&self) -> Role {
        self.replication.role.get().copied().unwrap_or(Role::Single)
    }

    /// Why the writer takes no writes now, if it does not.
    pub fn halted(&self) -> Option<String> {
        self.replication
            .halted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Lets writes in again, once the replication layer has applied what the log holds.
    pub fn resume_writes(&self) {
        *self
            .replication
            .halted
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        tracing::info!("writes resumed: the store holds every commit of the log");
    }

    /// Stops writes with a reason (another writer took the log over).
    pub fn halt_writes(&self, why: String) {
        self.replication.halt(why);
    }

    /// What the replication layer last saw of the log.
    pub fn observe_log(&self, head: u64, lag: Duration, connected: bool) {
        let r = &self.replication;
        r.head.store(head, Ordering::SeqCst);
        r.lag_millis.store(
            lag.as_millis().min(u64::MAX as u128) as u64,
            Ordering::SeqCst,
        );
        r.connected.store(connected, Ordering::SeqCst);
    }

    pub fn log_unreachable(&self) {
        self.replication.connected.store(false, Ordering::SeqCst);
    }

    pub fn replication_status(&self) -> ReplicationStatus {
        let r = &self.replication;
        let applied = *r.applied.borrow();
        let head = r.head.load(Ordering::SeqCst).max(applied);
        ReplicationStatus {
            role: self.role(),
            applied,
            head,
            lag_seconds: match head > applied {
                true => r.lag_millis.load(Ordering::SeqCst) as f64 / 1000.0,
                false => 0.0,
            },
            connected: r.connected.load(Ordering::SeqCst),
            halted: self.halted(),
            writer: r.writer.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }

    /// The last commit applied here: every read after this call sees at least it.
    pub fn applied_sequence(&self) -> u64 {
        *self.replication.applied.borrow()
    }

    /// Waits until this service has applied commit `sequence`, for at most `wait`; returns the
    /// sequence applied then (which is below `sequence` when the wait ran out).
    pub async fn wait_for_sequence(&self, sequence: u64, wait: Duration) -> u64 {
        let mut applied = self.replication.applied.subscribe();
        // Whether the wait ran out or not, the answer is what has been applied now.
        let _ = tokio::time::timeout(wait, applied.wait_for(|now| *now >= sequence)).await;
        let now = *applied.borrow();
        now
    }

    /// The refusal a write gets before it starts, if it gets one: a replica names the writer,
    /// a halted writer says why.
    pub(super) fn refuse_writes(&self) -> Result<()> {
        if self.role() == Role::Replica {
            return Err(ServiceError::ReadOnly {
                writer: self
                    .replication
                    .writer
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone(),
            });
        }
        match self.halted() {
            Some(why) => Err(ServiceError::LogUnavailable(why)),
            None => Ok(()),
        }
    }

    /// The log the writer appends to, if this service is one.
    pub(super) fn log(&self) -> Option<&Arc<dyn ChangeLog>> {
        self.replication.log.get()
    }

    /// Turns an append's failure into the client's error, halting writes when the commit's
    /// fate is unknown or another writer appended.
    pub(super) fn append_failed(&self, sequence: u64, error: LogError) -> ServiceError {
        match &error {
            LogError::Refused(_) => {}
            LogError::InDoubt(why) => self.replication.halt(format!(
                "the change log's answer for commit {sequence} was lost ({why}); writes resume once the log says whether it holds it"
            )),
            LogError::Fenced(why) => self.replication.halt(why.clone()),
        }
        ServiceError::LogUnavailable(error.to_string())
    }

    /// The local commit failed after the log took the commit: the store is now behind the
    /// log, so writes stop until the commit is applied from the log.
    pub(super) fn store_behind_log(&self, sequence: u64, error: &ServiceError) {
        self.replication.halt(format!(
            "the log holds commit {sequence} but the local store could not write it ({error}); it is applied from the log before writes resume"
        ));
    }

    /// Writes a checkpoint of the store into the log (see [`ChangeLog::checkpoint`]): its
    /// files and the index snapshot, copied with writes held off (seconds at a million
    /// entities: a file copy, not a pass over the records), then sent with writes going on.
    pub fn checkpoint(&self) -> Result<CheckpointSummary> {
        let Some(log) = self.log() else {
            return Err(ServiceError::BadQuery(
                "this server keeps no change log: checkpoints are for a writer started with --log"
                    .into(),
            ));
        };
        let staging = self.snapshot.with_file_name(CHECKPOINT_STAGING);
        let _ = std::fs::remove_dir_all(&staging);
        let copied = (|| {
            let _writer = self.lock_writer();
            let started = std::time::Instant::now();
            self.store.copy_files_to(&staging)?;
            self.write_snapshot(&staging.join(super::SNAPSHOT_FILE))?;
            let records = self.entity_count() + self.relation_count();
            tracing::info!(writes_held = ?started.elapsed(), "checkpoint: the store's files copied");
            Ok::<_, ServiceError>((self.store.sequence()?, records as u64))
        })();
        let written = copied.and_then(|(sequence, records)| {
            log.checkpoint(sequence, &mut |out| {
                crate::store::write_files(&staging, out).map_err(|e| {
                    ServiceError::LogUnavailable(format!("cannot send the checkpoint: {e}"))
                })?;
                Ok(records)
            })
        });
        let _ = std::fs::remove_dir_all(&staging);
        written
    }

    /// Applies one commit read from the log: `parts` yields its records in order (it is called
    /// once per pass: a commit of many parts is written as a load, then fed to the index, so no
    /// two parts need be held at once). A commit already applied is skipped, so a commit is
    /// never applied twice; one that does not follow the store's sequence is refused.
    pub fn apply_commit<I>(&self, sequence: u64, mut parts: impl FnMut() -> Result<I>) -> Result<()>
    where
        I: Iterator<Item = Result<ChangeRecord>>,
    {
        let _writer = self.lock_writer();
        let local = self.store.sequence()?;
        if sequence <= local {
            return Ok(());
        }
        if sequence != local + 1 {
            return Err(ServiceError::LogUnavailable(format!(
                "the log's next commit is {sequence} but the store is at {local}: commits {}..{} are missing",
                local + 1,
                sequence - 1
            )));
        }
        let mut first = parts()?;
        let Some(head) = first.next().transpose()? else {
            return Err(ServiceError::LogUnavailable(format!(
                "commit {sequence} has no records in the log"
            )));
        };
        check_part(&head, sequence, 0)?;
        if head.last {
            // The log holds it: a replica a crash left behind reads it again.
            let committed = self.store.commit_unflushed(&head.ops)?;
            same_sequence(committed, sequence)?;
            self.publish(head, true);
            return Ok(());
        }
        // Readers are kept out while the load writes records it has not committed yet.
        {
            let _readers = self.hold_readers();
            let mut load = self.store.begin_load()?;
            load.write(&head.ops)?;
            let mut ended = false;
            for (expected, part) in (1..).zip(first) {
                let part = part?;
                check_part(&part, sequence, expected)?;
                load.write(&part.ops)?;
                if part.last {
                    ended = true;
                    break;
                }
            }
            if !ended {
                return Err(ServiceError::LogUnavailable(format!(
                    "commit {sequence} ends before its last part in the log"
                )));
            }
            let committed = load.finish()?;
            same_sequence(committed, sequence)?;
        }
        for part in parts()? {
            let part = part?;
            let last = part.last;
            self.publish(part, true);
            if last {
                break;
            }
        }
        Ok(())
    }
}

/// A commit counts as applied only once the index holds it too (`publish` of its last part):
/// a reader waiting for it must find it in every answer.
fn same_sequence(committed: u64, sequence: u64) -> Result<()> {
    if committed != sequence {
        return Err(ServiceError::LogUnavailable(format!(
            "commit {sequence} from the log became commit {committed} in the store"
        )));
    }
    Ok(())
}

fn check_part(part: &ChangeRecord, sequence: u64, number: u32) -> Result<()> {
    if part.sequence != sequence || part.part != number {
        return Err(ServiceError::LogUnavailable(format!(
            "the log holds part {} of commit {} where part {number} of commit {sequence} belongs",
            part.part, part.sequence
        )));
    }
    Ok(())
}
