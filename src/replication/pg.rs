//! The change log's tables in PostgreSQL and every statement run on them.
//!
//! ```text
//! tiegraph_cluster      one row: the store id the log belongs to, its head (the last
//!                       commit's sequence) and when it moved, the writer's address
//! tiegraph_log          (sequence, part) -> one part of a commit's change record (JSON);
//!                       `last` marks a commit's final part; a trigger notifies
//!                       `tiegraph_log` when a commit's last part is inserted
//! tiegraph_checkpoints  sequence -> a whole backup of the store at that commit, in chunks
//! ```
//!
//! No gap and no duplicate: a commit is appended only by moving the head from `sequence - 1`
//! to `sequence` in the same transaction (compare and set), and `(sequence, part)` is the
//! primary key. A writer that finds the head elsewhere has been replaced and stops.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Statement};

use crate::service::{
    ChangeLog, ChangeRecord, CheckpointSummary, LogBatch, LogError, Result as ServiceResult,
    ServiceError,
};

use super::ReplicationError;

/// The version of the tables and of the records' encoding; a log of another is refused.
const FORMAT: i32 = 1;

/// Checkpoints are stored in chunks of this many bytes.
const CHUNK_BYTES: usize = 1 << 20;

/// The advisory lock the writer holds for as long as it writes (its lease on the log).
const WRITER_LEASE: i64 = 0x7469_6567_7261_7068; // "tiegraph"

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tiegraph_cluster (
    id integer PRIMARY KEY CHECK (id = 1),
    format integer NOT NULL,
    store_id text NOT NULL,
    head bigint NOT NULL,
    head_at timestamptz NOT NULL DEFAULT now(),
    writer_url text
);
CREATE TABLE IF NOT EXISTS tiegraph_log (
    sequence bigint NOT NULL,
    part integer NOT NULL,
    last boolean NOT NULL,
    record bytea NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sequence, part)
);
CREATE TABLE IF NOT EXISTS tiegraph_checkpoints (
    sequence bigint PRIMARY KEY,
    records bigint NOT NULL DEFAULT 0,
    bytes bigint NOT NULL DEFAULT 0,
    complete boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS tiegraph_checkpoint_chunks (
    sequence bigint NOT NULL REFERENCES tiegraph_checkpoints ON DELETE CASCADE,
    chunk integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (sequence, chunk)
);
-- Chunks are sent as they are: compressing them would cost more than it saves.
ALTER TABLE tiegraph_checkpoint_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE OR REPLACE FUNCTION tiegraph_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tiegraph_log', NEW.sequence::text);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS tiegraph_log_notify ON tiegraph_log;
CREATE TRIGGER tiegraph_log_notify AFTER INSERT ON tiegraph_log
    FOR EACH ROW WHEN (NEW.last) EXECUTE FUNCTION tiegraph_notify();
";

/// Moves the head from `$1 - 1` to `$1` and inserts the commit's first part, in one
/// statement: it inserts nothing when the head is elsewhere.
const APPEND_FIRST: &str = "
WITH moved AS (
    UPDATE tiegraph_cluster SET head = $1::bigint, head_at = now()
    WHERE id = 1 AND head = $1::bigint - 1
    RETURNING head
)
INSERT INTO tiegraph_log (sequence, part, last, record)
SELECT $1::bigint, 0, $2::boolean, $3::bytea FROM moved";

const APPEND_PART: &str =
    "INSERT INTO tiegraph_log (sequence, part, last, record) VALUES ($1, $2, $3, $4)";

/// Where to reach the log, and how it is named in messages (without its password).
#[derive(Clone)]
pub struct Location {
    config: postgres::Config,
    shown: String,
}

impl Location {
    pub fn parse(url: &str) -> Result<Self, ReplicationError> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            ReplicationError::Config(format!(
                "the log's address `{}` is not a PostgreSQL connection string: {e}",
                redact(url)
            ))
        })?;
        config
            .connect_timeout(Duration::from_secs(5))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .application_name("tiegraph");
        Ok(Location {
            config,
            shown: redact(url),
        })
    }

    pub fn connect(&self) -> Result<Client, ReplicationError> {
        self.config.connect(NoTls).map_err(|e| {
            ReplicationError::Log(format!("cannot reach the log at {}: {e}", self.shown))
        })
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// The URL with any password replaced, for logs and messages.
fn redact(url: &str) -> String {
    if !url.contains("://") {
        return url
            .split(' ')
            .map(|pair| match pair.split_once('=') {
                Some(("password", _)) => "password=***".to_owned(),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn failed(context: &str) -> impl FnOnce(postgres::Error) -> ReplicationError + '_ {
    move |e| ReplicationError::Log(format!("{context}: {e}"))
}

/// What the cluster row says.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub store_id: String,
    pub head: u64,
    /// Seconds since the head moved, by the database's clock.
    pub head_age: f64,
    pub writer_url: Option<String>,
}

/// A checkpoint that is whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub sequence: u64,
    pub records: u64,
    pub bytes: u64,
}

/// One row of the log as read back.
pub struct Row {
    pub sequence: u64,
    pub part: u32,
    pub last: bool,
    pub record: ChangeRecord,
    /// Seconds since it was committed, by the database's clock.
    pub age: f64,
}

fn decode(bytes: &[u8], sequence: i64, part: i32) -> Result<ChangeRecord, ReplicationError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ReplicationError::Log(format!(
            "part {part} of commit {sequence} in the log cannot be read: {e}"
        ))
    })
}

fn u64_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn i64_of(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A connection for reading the log and for the one-off statements of starting up.
pub struct Reader {
    client: Client,
}

impl Reader {
    pub fn open(location: &Location) -> Result<Self, ReplicationError> {
        Ok(Reader {
            client: location.connect()?,
        })
    }

    /// Creates the tables if they are missing. Processes starting together take turns.
    pub fn ensure_schema(&mut self) -> Result<(), ReplicationError> {
        let mut tx = self.client.transaction().map_err(failed("cannot begin"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&(WRITER_LEASE + 1)])
            .map_err(failed("cannot lock the log's tables"))?;
        tx.batch_execute(SCHEMA)
            .map_err(failed("cannot create the log's tables"))?;
        tx.commit()
            .map_err(failed("cannot create the log's tables"))
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    pub fn cluster(&mut self) -> Result<Option<Cluster>, ReplicationError> {
        let rows = self
            .client
            .query(
                "SELECT format, store_id, head, extract(epoch FROM now() - head_at)::float8, writer_url FROM tiegraph_cluster WHERE id = 1",
                &[],
            )
            .map_err(failed("cannot read the log's head"))?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let format: i32 = row.get(0);
        if format != FORMAT {
            return Err(ReplicationError::Log(format!(
                "the log is of format {format}; this build reads format {FORMAT}"
            )));
        }
        Ok(Some(Cluster {
            store_id: row.get(1),
            head: u64_of(row.get(2)),
            head_age: row.get(3),
            writer_url: row.get(4),
        }))
    }

    /// Makes the log the log of `store_id` from commit `head` on. False when a log exists.
    pub fn found_cluster(&mut self, store_id: &str, head: u64) -> Result<bool, ReplicationError> {
        let made = self
            .client
            .execute(
                "INSERT INTO tiegraph_cluster (id, format, store_id, head) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
                &[&FORMAT, &store_id, &i64_of(head)],
            )
            .map_err(failed("cannot start the log"))?;
        Ok(made == 1)
    }

    pub fn set_writer_url(&mut self, url: Option<&str>) -> Result<(), ReplicationError> {
        self.client
            .execute(
                "UPDATE tiegraph_cluster SET writer_url = $1 WHERE id = 1",
                &[&url],
            )
            .map_err(failed("cannot record the writer's address"))?;
        Ok(())
    }

    /// The first commit the log still holds, if it holds any.
    pub fn oldest(&mut self) -> Result<Option<u64>, ReplicationError> {
        let row = self
            .client
            .query_one("SELECT min(sequence) FROM tiegraph_log", &[])
            .map_err(failed("cannot read the log"))?;
        Ok(row.get::<_, Option<i64>>(0).map(u64_of))
    }

    /// Up to `limit` rows after part `part` of commit `sequence` (commit order).
    pub fn rows_after(
        &mut self,
        sequence: u64,
        part: i64,
        limit: i64,
    ) -> Result<Vec<Row>, ReplicationError> {
        let rows = self
            .client
            .query(
                "SELECT sequence, part, last, record, extract(epoch FROM now() - committed_at)::float8
                 FROM tiegraph_log WHERE (sequence, part) > ($1, $2) ORDER BY sequence, part LIMIT $3",
                &[&i64_of(sequence), &(part as i32), &limit],
            )
            .map_err(failed("cannot read the log"))?;
        rows.iter()
            .map(|row| {
                let sequence: i64 = row.get(0);
                let part: i32 = row.get(1);
                Ok(Row {
                    sequence: u64_of(sequence),
                    part: u32::try_from(part).unwrap_or(0),
                    last: row.get(2),
                    record: decode(row.get(3), sequence, part)?,
                    age: row.get(4),
                })
            })
            .collect()
    }

    /// Waits up to `wait` for a commit's notification; true when one came.
    pub fn wait(&mut self, wait: Duration) -> Result<bool, ReplicationError> {
        let mut notifications = self.client.notifications();
        let came = notifications
            .timeout_iter(wait)
            .next()
            .map_err(failed("the log's connection failed"))?
            .is_some();
        // Whatever else has come already is served by the same catch-up.
        let mut pending = notifications.iter();
        while pending
            .next()
            .map_err(failed("the log's connection failed"))?
            .is_some()
        {}
        Ok(came)
    }

    pub fn listen(&mut self) -> Result<(), ReplicationError> {
        self.client
            .batch_execute("LISTEN tiegraph_log")
            .map_err(failed("cannot listen for commits"))
    }

    pub fn latest_checkpoint(&mut self) -> Result<Option<Checkpoint>, ReplicationError> {
        let rows = self
            .client
            .query(
                "SELECT sequence, records, bytes FROM tiegraph_checkpoints WHERE complete ORDER BY sequence DESC LIMIT 1",
                &[],
            )
            .map_err(failed("cannot read the checkpoints"))?;
        Ok(rows.first().map(|row| Checkpoint {
            sequence: u64_of(row.get(0)),
            records: u64_of(row.get(1)),
            bytes: u64_of(row.get(2)),
        }))
    }

    /// Streams a checkpoint's bytes into `out`, in one statement (so it reads one consistent
    /// state even if a newer checkpoint replaces it meanwhile).
    pub fn read_checkpoint(
        &mut self,
        sequence: u64,
        out: &mut impl Write,
        progress: &dyn Fn(u64),
    ) -> Result<u64, ReplicationError> {
        let seq = i64_of(sequence);
        let mut rows = self
            .client
            .query_raw(
                "SELECT data FROM tiegraph_checkpoint_chunks WHERE sequence = $1 ORDER BY chunk",
                [&seq as &(dyn postgres::types::ToSql + Sync)],
            )
            .map_err(failed("cannot read the checkpoint"))?;
        let mut bytes = 0u64;
        while let Some(row) = rows.next().map_err(failed("cannot read the checkpoint"))? {
            let data: &[u8] = row.get(0);
            out.write_all(data).map_err(|e| {
                ReplicationError::Local(format!("cannot write the checkpoint down: {e}"))
            })?;
            bytes += data.len() as u64;
            progress(bytes);
        }
        Ok(bytes)
    }
}

/// The writer's lease: an advisory lock held by a connection of its own for as long as the
/// writer runs. A second writer cannot take it; if the connection is lost, the lease is too
/// (the head's compare and set still fences a writer that lost it).
pub struct Lease {
    client: Client,
}

impl Lease {
    pub fn take(location: &Location) -> Result<Self, ReplicationError> {
        let mut client = location.connect()?;
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&WRITER_LEASE])
            .map_err(failed("cannot take the writer's lease"))?
            .get(0);
        if !taken {
            return Err(ReplicationError::Log(format!(
                "another writer holds the log at {}: one writer at a time (stop it, or start this one as --role replica)",
                location.shown()
            )));
        }
        Ok(Lease { client })
    }

    /// Whether the lease's connection still holds it.
    pub fn held(&mut self) -> bool {
        !self.client.is_closed() && self.client.simple_query("SELECT 1").is_ok()
    }
}

/// The writer's side of the log: appends commits, writes checkpoints.
pub struct Appender {
    location: Location,
    connection: Mutex<Option<Connection>>,
    /// The server process of a connection that failed during an append, whose transaction
    /// may still be in flight: ended before the log's head is trusted again.
    in_doubt: Mutex<Option<i32>>,
}

struct Connection {
    client: Client,
    pid: i32,
    /// The appends, prepared once per connection: an append is then one round trip.
    append_first: Statement,
    append_part: Statement,
}

/// Which append a statement of a batch is.
#[derive(Clone, Copy)]
enum Append {
    First,
    Part,
}

impl Appender {
    pub fn new(location: Location) -> Self {
        Appender {
            location,
            connection: Mutex::new(None),
            in_doubt: Mutex::new(None),
        }
    }

    fn connect(&self) -> Result<Connection, LogError> {
        let mut client = self
            .location
            .connect()
            .map_err(|e| LogError::Refused(e.to_string()))?;
        let refused = |e: postgres::Error| LogError::Refused(e.to_string());
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .map_err(refused)?
            .get(0);
        let append_first = client.prepare(APPEND_FIRST).map_err(refused)?;
        let append_part = client.prepare(APPEND_PART).map_err(refused)?;
        Ok(Connection {
            client,
            pid,
            append_first,
            append_part,
        })
    }

    /// Makes sure no append of a failed connection can still land: its server process is
    /// ended and gone. After this, the log's head is final.
    pub fn settle(&self, reader: &mut Reader) -> Result<(), ReplicationError> {
        let pid = *self.in_doubt.lock().unwrap_or_else(|e| e.into_inner());
        let Some(pid) = pid else {
            return Ok(());
        };
        reader
            .client
            .execute("SELECT pg_terminate_backend($1)", &[&pid])
            .map_err(failed("cannot end the failed connection"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let alive: i64 = reader
                .client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                    &[&pid],
                )
                .map_err(failed("cannot read the log's connections"))?
                .get(0);
            if alive == 0 {
                break;
            }
            if Instant::now() > deadline {
                return Err(ReplicationError::Log(format!(
                    "the log's server process {pid} of a failed append has not ended"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        *self.in_doubt.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }
}

/// What an error of a statement means for the commit on its way.
fn classify(error: postgres::Error, committing: bool) -> LogError {
    match error.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => LogError::Fenced(
            "another writer appended to the log: this one stopped taking writes".into(),
        ),
        // The server answered: the statement, and the transaction with it, failed.
        Some(_) => LogError::Refused(error.to_string()),
        // No answer: before the commit was sent the transaction is lost, after it, unknown.
        None if committing => LogError::InDoubt(error.to_string()),
        None => LogError::Refused(error.to_string()),
    }
}

fn fenced(sequence: u64) -> LogError {
    LogError::Fenced(format!(
        "the log's head is not at commit {}: another writer has appended since; this writer stopped taking writes (restart it to follow the log)",
        sequence.saturating_sub(1)
    ))
}

struct Batch<'a> {
    appender: &'a Appender,
    connection: std::sync::MutexGuard<'a, Option<Connection>>,
    sequence: u64,
    /// The first part, held back: a commit of one part is appended in one statement.
    first: Option<(bool, Vec<u8>)>,
    /// Parts pushed so far; those after the first go into an open transaction.
    parts: u32,
    in_transaction: bool,
}

impl Batch<'_> {
    fn client(&mut self) -> &mut Client {
        match self.connection.as_mut() {
            Some(connection) => &mut connection.client,
            None => unreachable!("a batch is made with a connection"),
        }
    }

    /// Drops the connection after a failure, remembering its process when the failure left
    /// a commit in doubt.
    fn lose(&mut self, error: &LogError) {
        if let Some(connection) = self.connection.take() {
            if matches!(error, LogError::InDoubt(_)) {
                *self
                    .appender
                    .in_doubt
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(connection.pid);
            }
        }
    }

    fn run(
        &mut self,
        append: Append,
        params: &[&(dyn postgres::types::ToSql + Sync)],
        committing: bool,
    ) -> Result<u64, LogError> {
        let result = match self.connection.as_mut() {
            Some(connection) => {
                let statement = match append {
                    Append::First => &connection.append_first,
                    Append::Part => &connection.append_part,
                };
                connection.client.execute(statement, params)
            }
            None => unreachable!("a batch is made with a connection"),
        };
        result.map_err(|e| {
            let error = classify(e, committing);
            if !matches!(error, LogError::Refused(_))
                || self
                    .connection
                    .as_ref()
                    .is_some_and(|c| c.client.is_closed())
            {
                self.lose(&error);
            }
            error
        })
    }

    fn open_transaction(&mut self) -> Result<(), LogError> {
        let Some((last, first)) = self.first.take() else {
            return Ok(());
        };
        let begun = self.client().batch_execute("BEGIN");
        begun.map_err(|e| {
            let error = classify(e, false);
            self.lose(&error);
            error
        })?;
        self.in_transaction = true;
        let sequence = i64_of(self.sequence);
        let moved = self.run(Append::First, &[&sequence, &last, &first], false)?;
        if moved != 1 {
            self.rollback();
            return Err(fenced(self.sequence));
        }
        Ok(())
    }

    fn rollback(&mut self) {
        if std::mem::take(&mut self.in_transaction) {
            if let Some(connection) = self.connection.as_mut() {
                if !connection.client.is_closed() {
                    let _ = connection.client.batch_execute("ROLLBACK");
                }
            }
        }
    }
}

impl LogBatch for Batch<'_> {
    fn push(&mut self, part: &ChangeRecord) -> Result<(), LogError> {
        let bytes = serde_json::to_vec(part)
            .map_err(|e| LogError::Refused(format!("cannot encode the change record: {e}")))?;
        if self.parts == 0 {
            self.first = Some((part.last, bytes));
        } else {
            self.open_transaction()?;
            let sequence = i64_of(self.sequence);
            let number = self.parts as i32;
            let inserted = self.run(
                Append::Part,
                &[&sequence, &number, &part.last, &bytes],
                false,
            );
            if let Err(error) = inserted {
                self.rollback();
                return Err(error);
            }
        }
        self.parts += 1;
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<(), LogError> {
        match self.first.take() {
            // One part: the statement is its own transaction.
            Some((last, first)) => {
                let sequence = i64_of(self.sequence);
                match self.run(Append::First, &[&sequence, &last, &first], true)? {
                    1 => Ok(()),
                    _ => Err(fenced(self.sequence)),
                }
            }
            None => {
                self.in_transaction = false;
                let committed = self.client().batch_execute("COMMIT");
                committed.map_err(|e| {
                    let error = classify(e, true);
                    self.lose(&error);
                    error
                })
            }
        }
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        // A batch dropped with its transaction open (an import that failed) takes it back.
        self.rollback();
    }
}

impl ChangeLog for Appender {
    fn begin(&self, sequence: u64) -> Result<Box<dyn LogBatch + '_>, LogError> {
        if self
            .in_doubt
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            return Err(LogError::InDoubt(
                "an earlier append is not settled yet".into(),
            ));
        }
        let mut connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        if connection.as_ref().is_none_or(|c| c.client.is_closed()) {
            *connection = Some(self.connect()?);
        }
        Ok(Box::new(Batch {
            appender: self,
            connection,
            sequence,
            first: None,
            parts: 0,
            in_transaction: false,
        }))
    }

    fn checkpoint(
        &self,
        sequence: u64,
        write: &mut dyn FnMut(&mut dyn Write) -> ServiceResult<u64>,
    ) -> ServiceResult<CheckpointSummary> {
        let log_error = |e: ReplicationError| ServiceError::LogUnavailable(e.to_string());
        let mut client = self.location.connect().map_err(log_error)?;
        let written = write_checkpoint(&mut client, sequence, write);
        match written {
            Ok(Ok(summary)) => Ok(summary),
            Ok(Err(error)) => Err(error),
            Err(error) => Err(log_error(failed("cannot write the checkpoint")(error))),
        }
    }
}

/// Writes the checkpoint and drops what it covers, in one transaction: a checkpoint is whole
/// or absent, and the log rows it covers go only with it.
fn write_checkpoint(
    client: &mut Client,
    sequence: u64,
    write: &mut dyn FnMut(&mut dyn Write) -> ServiceResult<u64>,
) -> Result<ServiceResult<CheckpointSummary>, postgres::Error> {
    let seq = i64_of(sequence);
    let mut tx = client.transaction()?;
    tx.execute(
        "DELETE FROM tiegraph_checkpoints WHERE sequence = $1",
        &[&seq],
    )?;
    tx.execute(
        "INSERT INTO tiegraph_checkpoints (sequence) VALUES ($1)",
        &[&seq],
    )?;
    let mut chunks = Chunks {
        tx: &mut tx,
        sequence: seq,
        buffer: Vec::with_capacity(CHUNK_BYTES),
        chunk: 0,
        bytes: 0,
        failed: None,
    };
    let records = match write(&mut chunks) {
        Ok(records) => records,
        Err(error) => {
            return Ok(Err(chunks.failed.take().map_or(error, |e| {
                ServiceError::LogUnavailable(format!("cannot write the checkpoint: {e}"))
            })))
        }
    };
    chunks.send()?;
    let bytes = chunks.bytes;
    tx.execute(
        "UPDATE tiegraph_checkpoints SET records = $2, bytes = $3, complete = true WHERE sequence = $1",
        &[&seq, &i64_of(records), &i64_of(bytes)],
    )?;
    let dropped = tx.execute("DELETE FROM tiegraph_log WHERE sequence <= $1", &[&seq])?;
    tx.execute(
        "DELETE FROM tiegraph_checkpoints WHERE sequence <> $1",
        &[&seq],
    )?;
    tx.commit()?;
    Ok(Ok(CheckpointSummary {
        sequence,
        records,
        bytes,
        dropped,
    }))
}

/// A writer of a checkpoint's bytes into its chunk rows.
struct Chunks<'a, 'b> {
    tx: &'a mut postgres::Transaction<'b>,
    sequence: i64,
    buffer: Vec<u8>,
    chunk: i32,
    bytes: u64,
    failed: Option<postgres::Error>,
}

impl Chunks<'_, '_> {
    fn send(&mut self) -> Result<(), postgres::Error> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.tx.execute(
            "INSERT INTO tiegraph_checkpoint_chunks (sequence, chunk, data) VALUES ($1, $2, $3)",
            &[&self.sequence, &self.chunk, &self.buffer],
        )?;
        self.bytes += self.buffer.len() as u64;
        self.chunk += 1;
        self.buffer.clear();
        Ok(())
    }
}

impl Write for Chunks<'_, '_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK_BYTES {
            if let Err(error) = self.send() {
                let message = error.to_string();
                self.failed = Some(error);
                return Err(std::io::Error::other(message));
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::redact;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://tiegraph:secret@db:5432/log"),
            "postgres://tiegraph:***@db:5432/log"
        );
        assert_eq!(redact("postgres://db/log"), "postgres://db/log");
        assert_eq!(redact("host=db user=x"), "host=db user=x");
        assert_eq!(redact("host=db password=x"), "host=db password=***");
    }
}
