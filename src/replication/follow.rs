//! Applying the log: catching a store up to the log's head (every role, at start), a
//! replica's following of the log as it grows (a notification wakes it; it catches up by
//! sequence, so a missed notification costs only latency), and the writer's tending of its
//! lease, of appends whose answer was lost, and of checkpoints.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::service::{ChangeRecord, Service, ServiceError};

use super::pg::{Appender, Lease, Location, Reader};
use super::ReplicationError;

/// Rows read at a time while catching up; a commit of many parts is streamed on its own.
const BATCH: i64 = 64;
/// Parts of a large commit read at a time (each holds up to a load's chunk of records).
const PART_PAGE: i64 = 2;
/// How long a follower sleeps when no notification comes, before looking anyway.
const IDLE: Duration = Duration::from_secs(1);

/// Applies every commit the log holds after the store's sequence, in order; returns how many.
pub fn catch_up(service: &Service, reader: &mut Reader) -> Result<u64, ReplicationError> {
    let mut applied = 0;
    loop {
        let head = reader.cluster()?.map_or(0, |c| c.head);
        let local = service.sequence()?;
        let rows = reader.rows_after(local, i64::from(i32::MAX), BATCH)?;
        let lag = rows.first().map_or(0.0, |row| row.age.max(0.0));
        service.observe_log(head, Duration::from_secs_f64(lag), true);
        if rows.is_empty() {
            if head > local {
                return Err(missing(local, head));
            }
            return Ok(applied);
        }
        if rows[0].part != 0 {
            return Err(ReplicationError::Log(format!(
                "the log holds part {} of commit {} without its first part",
                rows[0].part, rows[0].sequence
            )));
        }
        for row in rows {
            if row.part != 0 {
                // The rest of a large commit, applied with it below.
                break;
            }
            let sequence = row.sequence;
            if row.last {
                let record = row.record;
                service.apply_commit(sequence, || Ok(std::iter::once(Ok(record.clone()))))?;
            } else {
                let reader = RefCell::new(&mut *reader);
                service.apply_commit(sequence, || Ok(Parts::new(&reader, sequence)))?;
                applied += 1;
                break;
            }
            applied += 1;
        }
    }
}

fn missing(local: u64, head: u64) -> ReplicationError {
    ReplicationError::Log(format!(
        "the log no longer holds the commits after {local} (its head is {head}): a checkpoint has dropped them; restart this process to start again from the checkpoint"
    ))
}

/// The parts of one commit, read from the log a page at a time.
struct Parts<'a, 'r> {
    reader: &'a RefCell<&'r mut Reader>,
    sequence: u64,
    /// The last part read, or -1.
    after: i64,
    page: std::vec::IntoIter<ChangeRecord>,
    ended: bool,
}

impl<'a, 'r> Parts<'a, 'r> {
    fn new(reader: &'a RefCell<&'r mut Reader>, sequence: u64) -> Self {
        Parts {
            reader,
            sequence,
            after: -1,
            page: Vec::new().into_iter(),
            ended: false,
        }
    }
}

impl Iterator for Parts<'_, '_> {
    type Item = Result<ChangeRecord, ServiceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(part) = self.page.next() {
            return Some(Ok(part));
        }
        if self.ended {
            return None;
        }
        let rows = self
            .reader
            .borrow_mut()
            .rows_after(self.sequence, self.after, PART_PAGE);
        let rows = match rows {
            Ok(rows) => rows,
            Err(error) => {
                self.ended = true;
                return Some(Err(ServiceError::LogUnavailable(error.to_string())));
            }
        };
        let mut page = Vec::with_capacity(rows.len());
        for row in rows {
            if row.sequence != self.sequence {
                self.ended = true;
                break;
            }
            self.after = i64::from(row.part);
            self.ended |= row.last;
            page.push(row.record);
        }
        if page.is_empty() {
            self.ended = true;
        }
        self.page = page.into_iter();
        self.page.next().map(Ok)
    }
}

/// A replica's life: follow the log until told to stop, reconnecting when the connection
/// fails. A notification wakes it; without one it looks every second anyway.
pub fn follow(service: &Service, location: &Location, stop: &AtomicBool) {
    let mut reader: Option<Reader> = None;
    let mut failing = false;
    while !stop.load(Ordering::SeqCst) {
        if reader.as_ref().is_none_or(|r| r.is_closed()) {
            match Reader::open(location).and_then(|mut r| r.listen().map(|()| r)) {
                Ok(r) => reader = Some(r),
                Err(error) => {
                    if !failing {
                        tracing::warn!(%error, "the replica cannot reach the log; retrying");
                    }
                    failing = true;
                    service.log_unreachable();
                    std::thread::sleep(Duration::from_millis(500));
                    continue;
                }
            }
        }
        let Some(r) = reader.as_mut() else { continue };
        let stepped = catch_up(service, r).and_then(|_| {
            if let Some(cluster) = r.cluster()? {
                service.set_writer_address(cluster.writer_url);
            }
            r.wait(IDLE)
        });
        match stepped {
            Ok(_) => {
                if failing {
                    tracing::info!(
                        applied = service.sequence().unwrap_or(0),
                        "the replica follows the log again"
                    );
                }
                failing = false;
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, "the replica stopped following the log; retrying");
                }
                failing = true;
                service.log_unreachable();
                reader = None;
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

/// The writer's background work: keeps its lease, settles an append whose answer was lost
/// (ends the connection that sent it, applies the commit if the log took it) and lets writes
/// in again, and writes a checkpoint every `every` commits.
pub fn tend_writer(
    service: &Service,
    location: Location,
    appender: Arc<Appender>,
    mut lease: Lease,
    every: u64,
    stop: &AtomicBool,
) {
    let mut reader: Option<Reader> = None;
    let mut lease_held = true;
    let mut last_checkpoint: Option<u64> = None;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
        if !lease_held || !lease.held() {
            match Lease::take(&location) {
                Ok(taken) => {
                    lease = taken;
                    lease_held = true;
                }
                Err(error) => {
                    lease_held = false;
                    if service.halted().is_none() {
                        service
                            .halt_writes(format!("the writer lost its lease on the log: {error}"));
                    }
                    continue;
                }
            }
        }
        if reader.as_ref().is_none_or(|r| r.is_closed()) {
            match Reader::open(&location) {
                Ok(r) => reader = Some(r),
                Err(_) => {
                    service.log_unreachable();
                    continue;
                }
            }
        }
        let Some(r) = reader.as_mut() else { continue };
        let tended = (|| -> Result<(), ReplicationError> {
            if service.halted().is_some() {
                appender.settle(r)?;
                catch_up(service, r)?;
                service.resume_writes();
            }
            let head = r.cluster()?.map_or(0, |c| c.head);
            service.observe_log(head, Duration::ZERO, true);
            if every > 0 {
                let at = match last_checkpoint {
                    Some(at) => at,
                    None => r.latest_checkpoint()?.map_or(0, |c| c.sequence),
                };
                last_checkpoint = Some(at);
                if head >= at + every {
                    let summary = service.checkpoint()?;
                    tracing::info!(
                        sequence = summary.sequence,
                        dropped = summary.dropped,
                        "wrote a checkpoint"
                    );
                    last_checkpoint = Some(summary.sequence);
                }
            }
            Ok(())
        })();
        if let Err(error) = tended {
            tracing::warn!(%error, "the writer could not tend the log; retrying");
            service.log_unreachable();
            reader = None;
        }
    }
}
