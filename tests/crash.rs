//! Crash tests: the real binary killed with SIGKILL during each write path (mutations, a small
//! import, a large import into a store that holds data, a bulk load into an empty store,
//! `POST /admin/import`, an online backup, the index snapshot saved at shutdown), then the
//! store opened and checked: every acknowledged write is there, every batch is wholly there or
//! wholly absent, nothing dangles, and the index (loaded from a snapshot or rebuilt) equals one
//! rebuilt from the records alone.
//!
//! Each test is seeded (TIEGRAPH_CRASH_SEED repeats a run), first lets its path run to the end
//! to learn how long it takes on this machine, then kills at random moments within that, and
//! prints what it saw: kills, acknowledged writes, batches found whole, absent (and of those,
//! how many the open rolled back) or partial, and how long it took. The tests take turns (the
//! harness's "running for over 60 seconds" counts the wait), so that their timings are their
//! own. A failing test keeps its directories and names them.
//!
//! One more test kills the server while a reader polls for an import's records: a reader is
//! never shown a record before the import commits (the bug these tests first found).

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

use tiegraph::service::{rebuild_index, Limits, Service, Topology};

use crate::util::{
    check_store, crash_seed, records, seed_dir, start_binary, writer, Acknowledged, Rng, TOKEN,
};

/// Entities (and as many relations) in a large import: 25,000 changes, more than one of the
/// chunks a load journals and writes at a time, small enough for a debug build.
const LARGE: usize = 12_500;

/// The seed's source, which imported relations cite, and its agency, which they tie to.
const SEED_SOURCE: &str = "raices-declines-salesforce-donation";
const SEED_AGENCY: &str = "cbp";

/// How much a process's timings vary from one run to the next, about.
const JITTER: Duration = Duration::from_millis(4);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Crash tests time their kills against how long a path takes: they run one at a time.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts a crash test: waits for its turn, then says its seed; the clock starts with its turn.
fn begin(what: &str) -> (MutexGuard<'static, ()>, u64, Rng, Instant) {
    let turn = one_at_a_time();
    let (seed, rng) = crash_seed(what);
    (turn, seed, rng, Instant::now())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn tiegraph() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tiegraph"))
}

/// `tiegraph import --data-dir DIR FILE`, started, its output going to `log`.
fn spawn_import(dir: &Path, file: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    tiegraph()
        .arg("import")
        .arg("--data-dir")
        .arg(dir)
        .arg(file)
        .env("RUST_LOG", "warn")
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("start tiegraph import")
}

/// How a process under test ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    /// SIGKILLed before it finished.
    Killed,
    /// It finished on its own, with this status.
    Exited(ExitStatus),
}

/// SIGKILLs `child` and reaps it; tells whether it had already finished on its own.
fn kill(child: &mut Child) -> Ended {
    let _ = child.kill();
    let status = child.wait().expect("reap the child");
    match status.signal() {
        Some(9) => Ended::Killed,
        _ => Ended::Exited(status),
    }
}

/// Waits `delay` (or until `child` exits), then SIGKILLs it.
fn kill_after(child: &mut Child, delay: Duration) -> Ended {
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if child.try_wait().expect("poll the child").is_some() {
            break;
        }
        std::thread::sleep((deadline - Instant::now()).min(Duration::from_millis(2)));
    }
    kill(child)
}

/// Sends SIGTERM: a clean shutdown begins.
fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed");
}

/// A random moment within `1.1 × span`: mostly while the path runs, sometimes just after.
fn moment(rng: &mut Rng, span: Duration) -> Duration {
    Duration::from_micros(rng.below(span.as_micros() as u64 * 11 / 10 + 1))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Imports `file` into `dir` with the binary, to the end.
fn import_to_the_end(dir: &Path, file: &Path, log: &Path) -> Duration {
    let started = Instant::now();
    let status = spawn_import(dir, file, log).wait().expect("wait");
    assert!(
        status.success(),
        "tiegraph import {} failed: {}",
        file.display(),
        std::fs::read_to_string(log).unwrap_or_default()
    );
    started.elapsed()
}

/// A seeded store, closed, made as `serve` makes one: each seed file imported into it.
fn seeded_store(dir: &Path, work: &Path) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(seed_dir())
        .expect("seed dir")
        .map(|e| e.expect("seed entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    for file in files {
        import_to_the_end(dir, &file, &work.join("seed.log"));
    }
}

/// A store of `n` entities and as many relations, closed, with its index snapshot.
fn large_store(dir: &Path, work: &Path, n: usize) {
    let file = work.join("large-store.jsonl");
    Batch::for_empty_store("large", n).write_to(&file);
    import_to_the_end(dir, &file, &work.join("large-store.log"));
    std::fs::remove_file(file).expect("remove file");
}

/// A file to import, and how to tell that it is in a store.
struct Batch {
    lines: Vec<String>,
    /// Each source the batch creates.
    sources: Vec<String>,
    /// Each entity the batch writes, with the name it gives it, and whether it exists before.
    entities: Vec<(String, String, bool)>,
    /// Each relation the batch writes, with a quote it adds, and whether it exists before.
    relations: Vec<(String, String, bool)>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            lines: Vec::new(),
            sources: Vec::new(),
            entities: Vec::new(),
            relations: Vec::new(),
        }
    }

    fn source(&mut self, id: &str) {
        self.lines.push(
            json!({ "type": "source", "id": id, "title": format!("Source {id}") }).to_string(),
        );
        self.sources.push(id.to_owned());
    }

    fn entity(&mut self, id: &str, kind: &str, name: &str, exists: bool) {
        self.lines.push(
            json!({ "type": "entity", "id": id, "kind": kind, "name": name, "description": "written by a crash test" })
                .to_string(),
        );
        self.entities.push((id.to_owned(), name.to_owned(), exists));
    }

    fn relation(
        &mut self,
        id: &str,
        from: &str,
        to: &str,
        source: &str,
        quote: &str,
        exists: bool,
    ) {
        self.lines.push(
            json!({
                "type": "relation", "id": id, "kind": "VENDOR_TO", "from": from, "to": to,
                "claims": [{ "source": source, "stance": "ASSERTS", "quote": quote }]
            })
            .to_string(),
        );
        self.relations
            .push((id.to_owned(), quote.to_owned(), exists));
    }

    /// `n` companies, each a vendor to the seed's agency on the seed's source's word; with
    /// `updates`, it also renames a seed entity (first line) and adds a claim to a seed relation
    /// (last line), so that a rollback must restore records, not only remove them.
    fn for_seeded_store(prefix: &str, n: usize, updates: bool) -> Batch {
        let mut batch = Batch::new();
        if updates {
            batch.entity(
                "salesforce",
                "COMPANY",
                &format!("Salesforce ({prefix})"),
                true,
            );
        }
        for i in 0..n {
            let name = format!("{prefix} company {i}");
            batch.entity(&format!("{prefix}-e{i}"), "COMPANY", &name, false);
        }
        for i in 0..n {
            batch.relation(
                &format!("{prefix}-r{i}"),
                &format!("{prefix}-e{i}"),
                SEED_AGENCY,
                SEED_SOURCE,
                &format!("{prefix}: company {i} sells to CBP"),
                false,
            );
        }
        if updates {
            batch.relation(
                "salesforce-vendor-to-ice",
                "salesforce",
                "ice",
                SEED_SOURCE,
                &format!("{prefix}: a further report"),
                true,
            );
        }
        batch
    }

    /// A graph of its own: a source, an agency, and `n` companies, each a vendor to it.
    fn for_empty_store(prefix: &str, n: usize) -> Batch {
        let mut batch = Batch::new();
        let (source, hub) = (format!("{prefix}-source"), format!("{prefix}-agency"));
        batch.source(&source);
        batch.entity(&hub, "AGENCY", &format!("{prefix} agency"), false);
        for i in 0..n {
            let name = format!("{prefix} company {i}");
            batch.entity(&format!("{prefix}-e{i}"), "COMPANY", &name, false);
        }
        for i in 0..n {
            batch.relation(
                &format!("{prefix}-r{i}"),
                &format!("{prefix}-e{i}"),
                &hub,
                &source,
                &format!("{prefix}: company {i} sells to the agency"),
                false,
            );
        }
        batch
    }

    fn body(&self) -> String {
        let mut body = self.lines.join("\n");
        body.push('\n');
        body
    }

    fn write_to(&self, path: &Path) {
        std::fs::write(path, self.body()).expect("write the file");
    }

    fn new_entities(&self) -> usize {
        self.entities.iter().filter(|e| !e.2).count()
    }

    fn new_relations(&self) -> usize {
        self.relations.iter().filter(|r| !r.2).count()
    }

    /// How many of the batch's records `service` holds as the batch writes them, of how many;
    /// with `new_only`, only the records it creates (a later batch may update the others).
    fn found(&self, service: &Service, new_only: bool) -> (usize, usize) {
        let mut found = 0;
        let mut total = 0;
        for id in &self.sources {
            total += 1;
            found += usize::from(service.source(id).unwrap().is_some());
        }
        for (id, name, exists) in &self.entities {
            if new_only && *exists {
                continue;
            }
            total += 1;
            found += usize::from(service.entity(id).unwrap().is_some_and(|e| e.name == *name));
        }
        for (id, quote, exists) in &self.relations {
            if new_only && *exists {
                continue;
            }
            total += 1;
            let held = service.relation(id).unwrap();
            found += usize::from(held.is_some_and(|r| r.claims.iter().any(|c| c.quote == *quote)));
        }
        (found, total)
    }
}

/// What a store held before a batch: every record in full, and the counts.
#[derive(Clone, Default)]
struct Baseline {
    records: String,
    entities: usize,
    relations: usize,
}

fn baseline(dir: &Path) -> Baseline {
    let service = Service::open(dir, Limits::default()).expect("open the store");
    Baseline {
        records: records(&service),
        entities: service.entity_count(),
        relations: service.relation_count(),
    }
}

/// What a store is found holding after a crash.
struct Found {
    entities: usize,
    relations: usize,
    /// Whatever is unsound: a relation without claims, an end, source or claimant that is not
    /// there, an index that differs from the records.
    problems: Vec<String>,
}

/// Opens the store in `dir` as the service does after a crash (rolling back an interrupted
/// load), checks it is sound, and runs `probe` on it.
fn inspect<T>(dir: &Path, context: &str, probe: impl FnOnce(&Service) -> T) -> (Found, T) {
    let service = Service::open(dir, Limits::default())
        .unwrap_or_else(|e| panic!("{context}: the store does not open after the kill: {e}"));
    let mut problems = Vec::new();
    let entities: std::collections::HashSet<String> =
        service.all_entities().map(|e| e.unwrap().id).collect();
    let sources: std::collections::HashSet<String> =
        service.all_sources().map(|s| s.unwrap().id).collect();
    let mut relations = 0;
    for record in service.all_relations() {
        let record = record.unwrap();
        let r = &record.relation;
        relations += 1;
        if record.claims.is_empty() {
            problems.push(format!("relation {} has no claim", r.id));
        }
        for end in [&r.from, &r.to] {
            if !entities.contains(end) {
                problems.push(format!("relation {} names a missing entity {end}", r.id));
            }
        }
        for claim in &record.claims {
            if !sources.contains(&claim.source) {
                problems.push(format!("claim {} cites a missing source", claim.id));
            }
            if claim
                .claimant
                .as_ref()
                .is_some_and(|c| !entities.contains(c))
            {
                problems.push(format!("claim {} has a missing claimant", claim.id));
            }
        }
    }
    if (service.entity_count(), service.relation_count()) != (entities.len(), relations) {
        problems.push(format!(
            "the index counts {} entities and {} relations, the store holds {} and {relations}",
            service.entity_count(),
            service.relation_count(),
            entities.len()
        ));
    }
    let probed = probe(&service);
    let topology = service.topology();
    drop(service);
    match rebuild_index(dir) {
        Ok(index) => {
            let rebuilt = Topology::of(&index);
            if rebuilt != topology {
                problems.push(format!(
                    "the index the service opened with differs from one rebuilt from the records ({} entities / {} relations against {} / {})",
                    topology.entities.len(),
                    topology.relations.len(),
                    rebuilt.entities.len(),
                    rebuilt.relations.len()
                ));
            }
        }
        Err(e) => problems.push(format!("the index cannot be rebuilt: {e}")),
    }
    let found = Found {
        entities: entities.len(),
        relations,
        problems,
    };
    (found, probed)
}

/// Whether the store in `dir` holds the marker of a load that was under way when the process
/// died (the store's `meta` tree, key `load_in_progress`): opening it will roll the load back.
/// Only counted, so a renamed marker makes the counts say "0 rolled back", nothing worse.
fn interrupted_load(dir: &Path) -> bool {
    if !dir.join("conf").exists() {
        return false;
    }
    for _ in 0..100 {
        match sled::Config::new().path(dir).open() {
            Ok(db) => {
                return db
                    .open_tree("meta")
                    .and_then(|meta| meta.contains_key("load_in_progress"))
                    .unwrap_or(false)
            }
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(Duration::from_millis(20))
            }
            // Whatever is wrong, opening the store will say.
            Err(_) => return false,
        }
    }
    false
}

/// Where a batch was found after a kill.
#[derive(Debug)]
enum Verdict {
    Whole,
    /// Absent; `rolled_back` when the kill had interrupted its load, which the open undid.
    Absent {
        rolled_back: bool,
    },
    /// Part of it, or a store that is not sound: a bug, described.
    Broken(String),
}

/// Whether `batch` is wholly in the store in `dir` or wholly absent from it (the store then
/// holding exactly `before`), and whether every batch of `earlier` is still there.
fn judge(
    dir: &Path,
    batch: &Batch,
    before: &Baseline,
    earlier: &[Batch],
    context: &str,
) -> (Verdict, usize) {
    let rolled_back = interrupted_load(dir);
    let (found, (present, total, records, lost)) = inspect(dir, context, |service| {
        let (present, total) = batch.found(service, false);
        let records = (present == 0).then(|| records(service));
        let lost = earlier
            .iter()
            .filter(|b| {
                let (found, total) = b.found(service, true);
                found != total
            })
            .count();
        (present, total, records, lost)
    });
    let verdict = if !found.problems.is_empty() {
        let mut problems = found.problems;
        problems.truncate(5);
        Verdict::Broken(problems.join("; "))
    } else if present == total
        && found.entities == before.entities + batch.new_entities()
        && found.relations == before.relations + batch.new_relations()
    {
        match rolled_back {
            false => Verdict::Whole,
            true => Verdict::Broken("the load was interrupted, yet is found whole".into()),
        }
    } else if present == 0 && records.as_deref() == Some(before.records.as_str()) {
        Verdict::Absent { rolled_back }
    } else if present == 0 {
        let records = records.unwrap_or_default();
        let differs = records
            .lines()
            .zip(before.records.lines())
            .find(|(a, b)| a != b)
            .map_or_else(|| "a record more or less".to_owned(), |(a, _)| a.to_owned());
        Verdict::Broken(format!(
            "none of the batch is there, but the store is not as before: {} entities and {} relations (before: {} and {}); first difference: {differs}",
            found.entities, found.relations, before.entities, before.relations
        ))
    } else {
        Verdict::Broken(format!(
            "{present} of the batch's {total} records are there; the store holds {} entities and {} relations (before: {} and {}; the batch adds {} and {})",
            found.entities,
            found.relations,
            before.entities,
            before.relations,
            batch.new_entities(),
            batch.new_relations()
        ))
    };
    (verdict, lost)
}

/// What a test saw, for its report.
#[derive(Default)]
struct Tally {
    kills: usize,
    /// Runs that finished and acknowledged their write (exit 0, or 200).
    acknowledged: usize,
    whole: usize,
    absent: usize,
    /// Absent ones whose load had begun: the kill interrupted it, the open rolled it back.
    rolled_back: usize,
    broken: usize,
    /// Acknowledged writes not found afterwards.
    lost: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(
        &mut self,
        acknowledged: bool,
        killed: bool,
        verdict: Verdict,
        lost: usize,
        context: String,
    ) {
        self.kills += usize::from(killed);
        self.acknowledged += usize::from(acknowledged);
        self.lost += lost;
        if lost > 0 {
            self.failures.push(format!(
                "{context}: {lost} acknowledged batches from earlier runs are gone"
            ));
        }
        match verdict {
            Verdict::Whole => self.whole += 1,
            Verdict::Absent { rolled_back } => {
                self.absent += 1;
                self.rolled_back += usize::from(rolled_back);
                if acknowledged {
                    self.lost += 1;
                    self.failures
                        .push(format!("{context}: acknowledged, then found absent"));
                }
            }
            Verdict::Broken(why) => {
                self.broken += 1;
                self.lost += usize::from(acknowledged);
                self.failures.push(format!("{context}: {why}"));
            }
        }
    }

    fn summary(&self, what: &str) -> String {
        format!(
            "{what}: {} kills, {} imports acknowledged; found {} whole, {} absent ({} of them rolled back on open), {} partial or unsound; {} acknowledged lost",
            self.kills,
            self.acknowledged,
            self.whole,
            self.absent,
            self.rolled_back,
            self.broken,
            self.lost
        )
    }
}

/// Prints each tally's counts; fails, keeping `work` for inspection, if anything went wrong.
fn report(what: &str, seed: u64, work: TempDir, started: Instant, tallies: &[(&str, &Tally)]) {
    for (part, tally) in tallies {
        println!("{}", tally.summary(part));
    }
    println!("{what}: done in {:.1} s", started.elapsed().as_secs_f64());
    let failures: Vec<&String> = tallies.iter().flat_map(|(_, t)| &t.failures).collect();
    if !failures.is_empty() {
        let kept = work.keep();
        let summaries: Vec<String> = tallies.iter().map(|(w, t)| t.summary(w)).collect();
        panic!(
            "{}\nseed {seed} (TIEGRAPH_CRASH_SEED={seed}); directories kept in {}:\n{}",
            summaries.join("\n"),
            kept.display(),
            failures
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// `tiegraph import` of `batch` into copies of `template` (empty directories without one),
/// `runs` times: the first run left to finish, the others SIGKILLed at random moments, half of
/// them while the import writes (after its check, as the first run's timings say).
fn kill_imports(
    rng: &mut Rng,
    work: &Path,
    template: Option<&Path>,
    batch: &Batch,
    runs: usize,
) -> (Tally, Duration) {
    let before = match template {
        Some(template) => {
            let copy = work.join("before");
            copy_dir(template, &copy);
            let before = baseline(&copy);
            std::fs::remove_dir_all(copy).expect("remove the copy");
            before
        }
        None => Baseline::default(),
    };
    let file = work.join("batch.jsonl");
    batch.write_to(&file);
    let mut tally = Tally::default();
    let (mut span, mut writing) = (Duration::ZERO, Duration::ZERO);
    for run in 0..runs {
        let dir = work.join(format!("run-{run}"));
        if let Some(template) = template {
            copy_dir(template, &dir);
        }
        let log = work.join(format!("run-{run}.log"));
        let (ended, when) = if run == 0 {
            span = import_to_the_end(&dir, &file, &log);
            writing = written_in(&log).min(span);
            (
                Ended::Exited(ExitStatus::from_raw(0)),
                "left to finish".to_owned(),
            )
        } else {
            let delay = match run % 2 {
                0 => span.saturating_sub(writing) + moment(rng, writing * 10 / 11),
                _ => moment(rng, span),
            };
            let started = Instant::now();
            let ended = kill_after(&mut spawn_import(&dir, &file, &log), delay);
            if ended != Ended::Killed {
                span = span.min(started.elapsed());
            }
            (
                ended,
                format!("SIGKILL {} ms after the start", delay.as_millis()),
            )
        };
        let context = format!("run {run} ({when}, in {})", dir.display());
        if let Ended::Exited(status) = ended {
            assert!(
                status.success(),
                "{context}: the import failed: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        let (verdict, lost) = judge(&dir, batch, &before, &[], &context);
        let sound = !matches!(verdict, Verdict::Broken(_));
        tally.record(
            ended != Ended::Killed,
            ended == Ended::Killed,
            verdict,
            lost,
            context,
        );
        if sound {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    (tally, span)
}

/// How long an import spent after its check, from its summary ("written in 3.92 s").
fn written_in(log: &Path) -> Duration {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.split("written in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|seconds| seconds.parse::<f64>().ok())
        .map_or(Duration::ZERO, Duration::from_secs_f64)
}

/// A large import into a store that holds data is a journaled load: killed at any moment, the
/// store holds all of it or none of it, exactly as before (the seed records it updates
/// included); an import that finished is all there.
#[test]
fn a_large_import_into_a_full_store_is_whole_or_absent() {
    let what = "large import into a full store";
    let (_turn, seed, mut rng, started) = begin(what);
    let work = tempfile::tempdir().unwrap();
    let template = work.path().join("seeded");
    seeded_store(&template, work.path());
    let batch = Batch::for_seeded_store("big", LARGE, true);
    let (tally, span) = kill_imports(&mut rng, work.path(), Some(&template), &batch, 6);
    println!("{what}: a whole import took {} ms", span.as_millis());
    report(what, seed, work, started, &[(what, &tally)]);
}

/// A bulk load into an empty store keeps no journal: killed at any moment, the store is
/// emptied again on open, or holds the whole file.
#[test]
fn a_bulk_load_into_an_empty_store_is_whole_or_absent() {
    let what = "bulk load into an empty store";
    let (_turn, seed, mut rng, started) = begin(what);
    let work = tempfile::tempdir().unwrap();
    let batch = Batch::for_empty_store("bulk", LARGE);
    let (tally, span) = kill_imports(&mut rng, work.path(), None, &batch, 6);
    println!("{what}: a whole load took {} ms", span.as_millis());
    report(what, seed, work, started, &[(what, &tally)]);
}

/// Small imports into one seeded store, one after another, each killed at a random moment:
/// each is whole or absent, and those that finished stay. A small import's load lasts a few
/// milliseconds of the process's hundred, so the moments narrow in on it: between the latest
/// kill that found the load not begun and the earliest that found it done.
#[test]
fn small_imports_killed_at_random_moments_are_whole_or_absent() {
    let what = "small import into a seeded store";
    let (_turn, seed, mut rng, started) = begin(what);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("store");
    seeded_store(&dir, work.path());
    let mut before = baseline(&dir);
    let mut landed: Vec<Batch> = Vec::new();
    let mut tally = Tally::default();
    let mut span = Duration::ZERO;
    // Kills before `early` find no load begun; kills after `late` find it finished.
    let (mut early, mut late) = (Duration::ZERO, Duration::ZERO);
    for run in 0..30 {
        let batch = Batch::for_seeded_store(&format!("small{run}"), 3, true);
        let file = work.path().join(format!("small-{run}.jsonl"));
        batch.write_to(&file);
        let log = work.path().join(format!("small-{run}.log"));
        let (ended, when, delay) = if run == 0 {
            span = import_to_the_end(&dir, &file, &log);
            late = span;
            let ended = Ended::Exited(ExitStatus::from_raw(0));
            (ended, "left to finish".to_owned(), span)
        } else {
            let delay = match run % 3 {
                0 => moment(&mut rng, span),
                // Timings vary by milliseconds from run to run: aim a little beyond the window.
                _ => {
                    let from = early.min(late).saturating_sub(JITTER);
                    let to = early.max(late) + JITTER;
                    from + Duration::from_micros(rng.below((to - from).as_micros() as u64))
                }
            };
            let started = Instant::now();
            let ended = kill_after(&mut spawn_import(&dir, &file, &log), delay);
            if ended != Ended::Killed {
                span = span.min(started.elapsed());
            }
            let when = format!("SIGKILL {} µs after the start", delay.as_micros());
            (ended, when, delay)
        };
        let context = format!("run {run} ({when}, in {})", dir.display());
        if let Ended::Exited(status) = ended {
            assert!(
                status.success(),
                "{context}: the import failed: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        let (verdict, lost) = judge(&dir, &batch, &before, &landed, &context);
        // Halfway towards each new bound, so that one run's odd timing does not close the window.
        match verdict {
            Verdict::Absent { rolled_back: false } if delay > early => early = (early + delay) / 2,
            Verdict::Whole if delay < late => late = (late + delay) / 2,
            _ => {}
        }
        let whole = matches!(verdict, Verdict::Whole);
        let broken = matches!(verdict, Verdict::Broken(_));
        tally.record(
            ended != Ended::Killed,
            ended == Ended::Killed,
            verdict,
            lost,
            context,
        );
        if broken {
            // Later runs would only compare against a store already wrong.
            break;
        }
        if whole {
            before = baseline(&dir);
            landed.push(batch);
        }
    }
    println!(
        "{what}: a whole import took {} ms; its load lies around {} to {} ms",
        span.as_millis(),
        early.min(late).as_millis(),
        early.max(late).as_millis()
    );
    report(what, seed, work, started, &[(what, &tally)]);
}

/// Mutations over GraphQL from three writers, the server SIGKILLed at a random moment, eight
/// times over one store: every acknowledged write is there after each restart.
#[test]
fn acknowledged_mutations_survive_sigkill_at_any_moment() {
    let what = "mutations";
    let (_turn, _seed, mut rng, started) = begin(what);
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let cycles = 8;
    let mut total = Acknowledged::default();
    let mut lost = Vec::new();
    let runtime = runtime();
    for cycle in 0..cycles {
        let (mut child, address) = start_binary(dir.path(), Arc::clone(&log));
        let url = format!("http://{address}/graphql");
        let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
        runtime.block_on(async {
            let writers: Vec<_> = (0..3)
                .map(|w| {
                    tokio::spawn(writer(
                        url.clone(),
                        format!("c{cycle}-w{w}"),
                        Arc::clone(&acknowledged),
                    ))
                })
                .collect();
            tokio::time::sleep(Duration::from_millis(100 + rng.below(500))).await;
            assert_eq!(kill(&mut child), Ended::Killed);
            for writer in writers {
                writer.await.unwrap();
            }
        });
        let mut acknowledged = Arc::try_unwrap(acknowledged)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap();
        total.entities.append(&mut acknowledged.entities);
        total.relations.append(&mut acknowledged.relations);
        // Every write acknowledged in any cycle so far must still be there.
        lost = check_store(dir.path(), &total).lost;
        if !lost.is_empty() {
            break;
        }
    }
    let check = check_store(dir.path(), &total);
    println!(
        "{what}: {cycles} kills, {} writes acknowledged ({} entities, {} relations), {} lost; the store holds {} entities, {} relations",
        total.entities.len() + total.relations.len(),
        total.entities.len(),
        total.relations.len(),
        lost.len(),
        check.entities,
        check.relations
    );
    println!("{what}: done in {:.1} s", started.elapsed().as_secs_f64());
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert!(
        total.entities.len() > cycles,
        "too few writes to prove anything"
    );
    let log = log.lock().unwrap();
    assert!(log.contains("request_id"), "requests are logged");
    assert!(!log.contains(TOKEN), "the token appeared in the log");
}

/// POSTs `body` to `/admin/import` with the token; the status and answer, or the error.
async fn post_import(
    client: &reqwest::Client,
    address: &str,
    body: String,
) -> Result<(u16, Value), String> {
    let response = client
        .post(format!("http://{address}/admin/import"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let answer = response.json::<Value>().await.map_err(|e| e.to_string())?;
    Ok((status, answer))
}

/// `POST /admin/import`: a small import answered 200 and the server SIGKILLed at once is there
/// after the restart, each time; a larger one killed while it runs is whole or absent.
#[test]
fn admin_imports_are_durable_when_answered_and_whole_or_absent_when_killed() {
    let what = "POST /admin/import";
    let (_turn, seed, mut rng, started) = begin(what);
    let work = tempfile::tempdir().unwrap();
    let runtime = runtime();
    let client = reqwest::Client::new();
    let log = Arc::new(Mutex::new(String::new()));

    // Small imports, each SIGKILLed right after its answer, one seeded store throughout.
    let store = work.path().join("store");
    seeded_store(&store, work.path());
    let mut landed: Vec<Batch> = Vec::new();
    let mut small = Tally::default();
    for run in 0..5 {
        let before = baseline(&store);
        let (mut child, address) = start_binary(&store, Arc::clone(&log));
        let batch = Batch::for_seeded_store(&format!("ack{run}"), 3, true);
        let answer = runtime.block_on(post_import(&client, &address, batch.body()));
        let ended = kill(&mut child);
        let context = format!("small run {run} (answered {answer:?})");
        assert_eq!(
            ended,
            Ended::Killed,
            "{context}: the server exited on its own"
        );
        assert!(
            matches!(answer, Ok((200, _))),
            "{context}: the import was refused"
        );
        let (verdict, lost) = judge(&store, &batch, &before, &landed, &context);
        let whole = matches!(verdict, Verdict::Whole);
        small.record(true, true, verdict, lost, context);
        if whole {
            landed.push(batch);
        }
    }

    // A larger import, SIGKILLed at a random moment while the server runs it; each run on a
    // fresh copy of the store above.
    let before = baseline(&store);
    let batch = Batch::for_seeded_store("adm", LARGE * 4 / 5, true);
    let body = batch.body();
    let mut large = Tally::default();
    let mut span = Duration::ZERO;
    for run in 0..5 {
        let dir = work.path().join(format!("large-{run}"));
        copy_dir(&store, &dir);
        let (mut child, address) = start_binary(&dir, Arc::clone(&log));
        let started = Instant::now();
        let (answer, ended, delay) = runtime.block_on(async {
            let request = tokio::spawn({
                let (client, address, body) = (client.clone(), address.clone(), body.clone());
                async move { post_import(&client, &address, body).await }
            });
            if run == 0 {
                // Left to answer, once: then killed at once, it must all be there.
                let answer = request.await.unwrap();
                span = started.elapsed();
                (answer, kill(&mut child), span)
            } else {
                let delay = moment(&mut rng, span);
                tokio::time::sleep(delay).await;
                let ended = kill(&mut child);
                (request.await.unwrap(), ended, delay)
            }
        });
        let acknowledged = matches!(answer, Ok((200, _)));
        let context = format!(
            "large run {run} (killed {} ms after the request, in {}; answered {})",
            delay.as_millis(),
            dir.display(),
            match &answer {
                Ok((status, _)) => status.to_string(),
                Err(e) => format!("nothing: {e}"),
            }
        );
        assert_eq!(
            ended,
            Ended::Killed,
            "{context}: the server exited on its own"
        );
        if let Ok((status, answer)) = &answer {
            assert_eq!(*status, 200, "{context}: refused: {answer}");
        }
        if run == 0 {
            assert!(acknowledged, "{context}: the whole import was not answered");
        }
        let (verdict, lost) = judge(&dir, &batch, &before, &[], &context);
        let ok = !matches!(verdict, Verdict::Broken(_));
        large.record(acknowledged, true, verdict, lost, context);
        if ok {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    println!("{what}: a whole large import took {} ms", span.as_millis());
    report(
        what,
        seed,
        work,
        started,
        &[
            (
                "POST /admin/import, small, SIGKILL right after the 200",
                &small,
            ),
            ("POST /admin/import, large, SIGKILL while it runs", &large),
        ],
    );
}

/// Creates the entity `id` through GraphQL; whether the server acknowledged it.
async fn create_entity(client: &reqwest::Client, address: &str, id: &str) -> bool {
    let create = json!({
        "query": "mutation($id: ID!) { createEntity(input: {id: $id, kind: COMPANY, name: $id}) { id } }",
        "variables": { "id": id }
    });
    let answer = client
        .post(format!("http://{address}/graphql"))
        .bearer_auth(TOKEN)
        .json(&create)
        .timeout(Duration::from_secs(20))
        .send()
        .await;
    match answer {
        Ok(response) => response
            .json::<Value>()
            .await
            .is_ok_and(|body| body["data"]["createEntity"]["id"] == id),
        Err(_) => false,
    }
}

/// `tiegraph backup --server ADDRESS --out FILE`, started.
fn spawn_backup(address: &str, out: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    tiegraph()
        .args(["backup", "--server", address, "--out"])
        .arg(out)
        .env("TIEGRAPH_TOKEN", TOKEN)
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("start tiegraph backup")
}

/// `tiegraph restore --data-dir TARGET FILE`: whether it succeeded. A refused restore must
/// leave no directory behind.
fn restore(file: &Path, target: &Path) -> bool {
    let output = tiegraph()
        .arg("restore")
        .arg("--data-dir")
        .arg(target)
        .arg(file)
        .output()
        .expect("run tiegraph restore");
    if !output.status.success() {
        assert!(
            !target.exists(),
            "a refused restore of {} left {} behind",
            file.display(),
            target.display()
        );
    }
    output.status.success()
}

/// Whether the store in `dir` is sound and holds exactly `before` plus the entities `added`.
fn unchanged(dir: &Path, before: &Baseline, added: &[String], context: &str) -> Result<(), String> {
    let (found, (records, missing)) = inspect(dir, context, |service| {
        let missing = added
            .iter()
            .filter(|id| service.entity(id).unwrap().is_none())
            .count();
        (records(service), missing)
    });
    if !found.problems.is_empty() {
        return Err(format!("{context}: {}", found.problems.join("; ")));
    }
    if missing > 0 {
        return Err(format!(
            "{context}: {missing} acknowledged entities are gone"
        ));
    }
    let expected = (before.entities + added.len(), before.relations);
    if (found.entities, found.relations) != expected {
        return Err(format!(
            "{context}: the store holds {} entities and {} relations, not {} and {}",
            found.entities, found.relations, expected.0, expected.1
        ));
    }
    if added.is_empty() && records != before.records {
        return Err(format!("{context}: the store's records changed"));
    }
    Ok(())
}

/// `GET /admin/backup` over HTTP/1.0, read until `at` bytes of the body are in: the body's
/// first `at` bytes (or fewer, if it ends first), and the connection, still open.
fn slow_download(address: &str, at: u64) -> (Vec<u8>, std::net::TcpStream) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "GET /admin/backup HTTP/1.0\r\nHost: {address}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    )
    .expect("send the request");
    let mut received = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    let body = loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            assert!(received.starts_with(b"HTTP/1.1 200") || received.starts_with(b"HTTP/1.0 200"));
            break end + 4;
        }
        let n = stream.read(&mut buffer).expect("read");
        assert!(n > 0, "the server closed before answering");
        received.extend_from_slice(&buffer[..n]);
    };
    while ((received.len() - body) as u64) < at {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
    (received.split_off(body), stream)
}

/// How a backup run was cut short.
#[derive(Clone, Copy, Debug)]
enum Cut {
    /// Not at all: `tiegraph backup --server` runs to the end.
    Not,
    /// The server SIGKILLed while `GET /admin/backup` streams, after a random number of bytes.
    ServerMidStream,
    /// The server SIGKILLed at a random moment under `tiegraph backup --server`.
    ServerUnderBackup,
    /// `tiegraph backup --server` itself SIGKILLed at a random moment.
    Client,
}

/// An online backup, its server or its client SIGKILLed while it streams: the store opens
/// with everything, a backup cut short is refused by `tiegraph restore`, one reported written
/// restores, and a killed client lets writers in again.
#[test]
fn a_backup_killed_midway_leaves_the_store_whole_and_is_refused_by_restore() {
    let what = "backup";
    let (_turn, seed, mut rng, started) = begin(what);
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    // Big enough that its backup (1.5 MB) takes a while to write and to stream.
    large_store(&store, work.path(), LARGE / 2);
    let mut before = baseline(&store);
    let runtime = runtime();
    let log = Arc::new(Mutex::new(String::new()));
    let mut failures = Vec::new();
    let (mut span, mut size) = (Duration::ZERO, 0u64);
    // Backups cut short (all refused by restore), whole ones left as FILE.partial by a client
    // killed while it checked them, whole ones reported written, and those restored.
    let (mut cut_short, mut whole_partial, mut written, mut restored) = (0, 0, 0, 0);
    let mut store_whole = 0;
    let mut kills = [0usize; 3];
    let runs = 7;
    for run in 0..runs {
        let cut = match run {
            0 => Cut::Not,
            _ => [Cut::ServerMidStream, Cut::ServerUnderBackup, Cut::Client][(run - 1) % 3],
        };
        let (mut server, address) = start_binary(&store, Arc::clone(&log));
        let out = work.path().join(format!("backup-{run}.tgb"));
        let partial = out.with_extension("partial");
        let backup_log = work.path().join(format!("backup-{run}.log"));
        let mut added = Vec::new();
        // What the store held when the backup began: what a backup that restores must hold.
        let backed_up = before.clone();
        let when;
        // The backup file, if the run says it was written whole.
        let mut whole: Option<PathBuf> = None;
        match cut {
            Cut::Not => {
                let started = Instant::now();
                let status = spawn_backup(&address, &out, &backup_log).wait().unwrap();
                span = started.elapsed();
                assert!(
                    status.success(),
                    "backup failed: {}",
                    std::fs::read_to_string(&backup_log).unwrap_or_default()
                );
                size = std::fs::metadata(&out).unwrap().len();
                assert_eq!(kill(&mut server), Ended::Killed);
                whole = Some(out.clone());
                when = "left to finish".to_owned();
            }
            Cut::ServerMidStream => {
                let at = 1 + rng.below(size - 1);
                // The reader stops at `at` bytes, its connection open until the server is dead.
                let (mut bytes, _connection) = slow_download(&address, at);
                assert_eq!(kill(&mut server), Ended::Killed);
                // What the client had when the server died, cut to the random length.
                bytes.truncate(at as usize);
                std::fs::write(&partial, &bytes).unwrap();
                when = format!(
                    "server SIGKILLed with {} of {size} bytes received",
                    bytes.len()
                );
            }
            Cut::ServerUnderBackup | Cut::Client => {
                let mut backup = spawn_backup(&address, &out, &backup_log);
                let delay = moment(&mut rng, span);
                when = format!(
                    "{} SIGKILLed {} ms after the start",
                    if matches!(cut, Cut::Client) {
                        "client"
                    } else {
                        "server"
                    },
                    delay.as_millis()
                );
                let (killed, survivor) = match cut {
                    Cut::Client => (&mut backup, &mut server),
                    _ => (&mut server, &mut backup),
                };
                let ended = kill_after(killed, delay);
                if matches!(cut, Cut::Client) {
                    // The backup holds writers off while it streams: with its client gone, a
                    // write gets through again.
                    let id = format!("after-backup-{run}");
                    let acknowledged =
                        runtime.block_on(create_entity(&reqwest::Client::new(), &address, &id));
                    if acknowledged {
                        added.push(id);
                    } else {
                        failures.push(format!(
                            "run {run}: no write got through after the backup's client was killed"
                        ));
                    }
                    assert_eq!(kill(survivor), Ended::Killed);
                } else {
                    let status = survivor.wait().unwrap();
                    assert!(
                        status.success() || !out.exists(),
                        "a failed backup left {}",
                        out.display()
                    );
                }
                if ended == Ended::Killed {
                    kills[if matches!(cut, Cut::Client) { 2 } else { 1 }] += 1;
                }
                if out.exists() {
                    whole = Some(out.clone());
                }
            }
        }
        if matches!(cut, Cut::ServerMidStream) {
            kills[0] += 1;
        }
        let context = format!("run {run} ({when}; in {})", work.path().display());
        // The store: everything it held, and the writes acknowledged since.
        match unchanged(&store, &before, &added, &context) {
            Ok(()) => store_whole += 1,
            Err(failure) => failures.push(failure),
        }
        if !added.is_empty() {
            before = baseline(&store);
        }
        let restores = |file: &Path, target: &Path| -> Result<bool, String> {
            if !restore(file, target) {
                return Ok(false);
            }
            let restored = baseline(target).records;
            let _ = std::fs::remove_dir_all(target);
            match restored == backed_up.records {
                true => Ok(true),
                false => Err(format!(
                    "{context}: {} restores to a store other than the one backed up",
                    file.display()
                )),
            }
        };
        match &whole {
            Some(file) => {
                written += 1;
                match restores(file, &work.path().join(format!("restored-{run}"))) {
                    Ok(true) => restored += 1,
                    Ok(false) => failures.push(format!(
                        "{context}: a backup reported written does not restore"
                    )),
                    Err(failure) => failures.push(failure),
                }
            }
            None if partial.exists() => {
                // Left by a download that broke off, or by a client killed while it checked
                // a whole one: refused, or restored exactly.
                match restores(&partial, &work.path().join(format!("partial-{run}"))) {
                    Ok(false) => cut_short += 1,
                    Ok(true) => whole_partial += 1,
                    Err(failure) => failures.push(failure),
                }
            }
            None => {}
        }
    }
    let summary = format!(
        "{what}: {runs} runs, {} kills ({} servers mid-stream, {} servers under `tiegraph backup`, {} `tiegraph backup` clients); the store found whole {store_whole} of {runs} times; {cut_short} backups cut short, all refused by restore; {whole_partial} whole but not yet renamed, restored; {written} reported written, {restored} restored",
        kills.iter().sum::<usize>(),
        kills[0],
        kills[1],
        kills[2],
    );
    println!("{summary}");
    println!("{what}: done in {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "{what}: a whole backup ({size} bytes) took {} ms",
        span.as_millis()
    );
    if !failures.is_empty() {
        let kept = work.keep();
        panic!(
            "{summary}\nseed {seed} (TIEGRAPH_CRASH_SEED={seed}); kept in {}:\n{}",
            kept.display(),
            failures.join("\n")
        );
    }
}

/// The modification time and length of a file, if it is there.
fn stamp(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// SIGTERM, then SIGKILL a few milliseconds later, while the server saves its index snapshot
/// at shutdown: the store reopens with the same graph, and the index it opens with (the new
/// snapshot, or a rebuild) equals one rebuilt from the records.
#[test]
fn a_kill_during_the_snapshot_save_at_shutdown_never_gives_a_wrong_index() {
    let what = "snapshot save at shutdown";
    let (_turn, seed, mut rng, started) = begin(what);
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    // Big enough that saving its index takes a while (tens of milliseconds).
    large_store(&store, work.path(), LARGE);
    let snapshot = store.join("index.snapshot");
    let partial = store.join("index.partial");
    let runtime = runtime();
    let log = Arc::new(Mutex::new(String::new()));
    let mut acknowledged: Vec<String> = Vec::new();
    let mut failures = Vec::new();
    let mut span = Duration::ZERO;
    // Clean exits; kills before the save began, while it wrote, after it was in place.
    let (mut clean, mut before_save, mut during, mut after) = (0, 0, 0, 0);
    let runs = 8;
    for run in 0..runs {
        let (mut server, address) = start_binary(&store, Arc::clone(&log));
        // One acknowledged write, so the snapshot on disk is stale and the shutdown saves one.
        let id = format!("snapshot-run-{run}");
        let (written, counts) = runtime.block_on(async {
            let client = reqwest::Client::new();
            let written = create_entity(&client, &address, &id).await;
            let health: Value = client
                .get(format!("http://{address}/health"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let count = |field: &str| health[field].as_u64().unwrap_or_default() as usize;
            (written, (count("entities"), count("relations")))
        });
        assert!(written, "run {run}: the write was refused");
        acknowledged.push(id);
        let (old, old_partial) = (stamp(&snapshot), stamp(&partial));
        terminate(&server);
        let started = Instant::now();
        let (ended, delay) = if run == 0 {
            let status = server.wait().unwrap();
            span = started.elapsed();
            (Ended::Exited(status), span)
        } else {
            let delay = moment(&mut rng, span);
            (kill_after(&mut server, delay), delay)
        };
        let saved = stamp(&snapshot) != old;
        match ended {
            Ended::Exited(status) => {
                assert!(status.success(), "run {run}: the server failed to stop");
                assert!(saved, "run {run}: a clean shutdown saved no snapshot");
                clean += 1;
            }
            Ended::Killed if saved => after += 1,
            Ended::Killed if stamp(&partial).is_some() && stamp(&partial) != old_partial => {
                during += 1
            }
            Ended::Killed => before_save += 1,
        }
        let context = format!(
            "run {run} (SIGKILL {} µs after SIGTERM, {ended:?})",
            delay.as_micros()
        );
        let (found, missing) = inspect(&store, &context, |service| {
            acknowledged
                .iter()
                .filter(|id| service.entity(id).unwrap().is_none())
                .count()
        });
        if !found.problems.is_empty() {
            failures.push(format!("{context}: {}", found.problems.join("; ")));
        }
        if missing > 0 {
            failures.push(format!("{context}: {missing} acknowledged writes are gone"));
        }
        if (found.entities, found.relations) != counts {
            failures.push(format!(
                "{context}: the store reopens with {} entities and {} relations; the server held {} and {}",
                found.entities, found.relations, counts.0, counts.1
            ));
        }
    }
    let summary = format!(
        "{what}: {runs} SIGTERMs, {} followed by SIGKILL ({before_save} before the save began, {during} while the snapshot was written, {after} after it was in place), {clean} clean exits; {} writes acknowledged, {} lost; {} wrong graphs or indexes",
        runs - clean,
        acknowledged.len(),
        failures.iter().filter(|f| f.contains("gone")).count(),
        failures.iter().filter(|f| !f.contains("gone")).count(),
    );
    println!("{summary}");
    println!("{what}: done in {:.1} s", started.elapsed().as_secs_f64());
    println!("{what}: a clean shutdown took {} ms", span.as_millis());
    if !failures.is_empty() {
        let kept = work.keep();
        panic!(
            "{summary}\nseed {seed} (TIEGRAPH_CRASH_SEED={seed}); kept in {}:\n{}",
            kept.display(),
            failures.join("\n")
        );
    }
}

/// A reader is never shown a record of an import that has not committed: else a kill during
/// the import takes back what the reader was shown. (An import writes its records into the
/// live trees before its commit; readers wait for it, see `Service::committed`.)
#[test]
fn a_reader_is_never_shown_an_import_that_a_kill_takes_back() {
    let _turn = one_at_a_time();
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    seeded_store(&store, work.path());
    let batch = Batch::for_seeded_store("unseen", LARGE * 4 / 5, true);
    let log = Arc::new(Mutex::new(String::new()));
    let (mut server, address) = start_binary(&store, Arc::clone(&log));
    let seen = runtime().block_on(async {
        let client = reqwest::Client::new();
        let started = Instant::now();
        let mut request = tokio::spawn({
            let (client, address, body) = (client.clone(), address.clone(), batch.body());
            async move { post_import(&client, &address, body).await }
        });
        let query = json!({ "query": "{ entity(id: \"unseen-e0\") { id } }" });
        while started.elapsed() < Duration::from_secs(50) {
            tokio::select! {
                answer = &mut request => {
                    assert!(matches!(answer.unwrap(), Ok((200, _))), "the import failed");
                    return None;
                }
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
            let answer: Value = client
                .post(format!("http://{address}/graphql"))
                .json(&query)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if answer["data"]["entity"]["id"] == "unseen-e0" {
                return Some(started.elapsed());
            }
        }
        None
    });
    assert_eq!(kill(&mut server), Ended::Killed);
    let Some(seen) = seen else {
        println!("the import was answered before any reader saw its records");
        return;
    };
    let service = Service::open(&store, Limits::default()).unwrap();
    assert!(
        service.entity("unseen-e0").unwrap().is_some(),
        "a reader was shown the entity unseen-e0 {} ms into a POST /admin/import, before it was answered; SIGKILLed then, the store no longer holds it",
        seen.as_millis()
    );
}
