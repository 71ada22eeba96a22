//! Prometheus metrics, written out by hand: a few counters and one histogram do not need a
//! metrics framework. Exposed at `/metrics` in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::service::{ReplicationStatus, Role, SearchStats};

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

#[derive(Default)]
pub struct Metrics {
    // Keyed by (route, status); a mutex is fine: one short critical section per request.
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    in_flight: AtomicU64,
    shed: AtomicU64,
    connections_refused: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub fn finished(&self, route: &'static str, status: u16, elapsed: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        *lock(&self.requests).entry((route, status)).or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn graphql_error(&self, code: &str) {
        *lock(&self.errors).entry(code.to_owned()).or_default() += 1;
    }

    pub fn shed(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text, with the graph's and the store's sizes read at scrape time.
    pub fn render(
        &self,
        entities: usize,
        relations: usize,
        store_bytes: Option<u64>,
        searches: SearchStats,
        replication: &ReplicationStatus,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP tiegraph_http_requests_total HTTP requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE tiegraph_http_requests_total counter");
        for ((route, status), count) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "tiegraph_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP tiegraph_http_request_duration_seconds Time to answer an HTTP request."
        );
        let _ = writeln!(
            out,
            "# TYPE tiegraph_http_request_duration_seconds histogram"
        );
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "tiegraph_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "tiegraph_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "tiegraph_http_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "tiegraph_http_request_duration_seconds_count {count}");
        let _ = writeln!(
            out,
            "# HELP tiegraph_graphql_errors_total GraphQL errors returned, by extensions.code."
        );
        let _ = writeln!(out, "# TYPE tiegraph_graphql_errors_total counter");
        for (code, count) in lock(&self.errors).iter() {
            let _ = writeln!(
                out,
                "tiegraph_graphql_errors_total{{code=\"{code}\"}} {count}"
            );
        }
        let gauges = [
            (
                "tiegraph_http_requests_in_flight",
                "HTTP requests being answered.",
                self.in_flight.load(Ordering::Relaxed),
            ),
            (
                "tiegraph_http_requests_shed_total",
                "Requests refused with 503 because the server was at its concurrency limit.",
                self.shed.load(Ordering::Relaxed),
            ),
            (
                "tiegraph_http_connections_refused_total",
                "Connections answered 503 and closed because the server was at its connection cap.",
                self.connections_refused.load(Ordering::Relaxed),
            ),
            (
                "tiegraph_searches_total",
                "Graph search answers computed.",
                searches.searched,
            ),
            (
                "tiegraph_search_answers_kept_served_total",
                "Search answers served from one kept for an earlier page of the same answer.",
                searches.kept_served,
            ),
            (
                "tiegraph_searches_refused_total",
                "Searches refused because too many were running and waiting.",
                searches.refused,
            ),
            (
                "tiegraph_searches_running",
                "Searches running now.",
                searches.running,
            ),
            (
                "tiegraph_searches_waiting",
                "Searches waiting for their turn now.",
                searches.waiting,
            ),
            (
                "tiegraph_graph_entities",
                "Entities in the graph.",
                entities as u64,
            ),
            (
                "tiegraph_graph_relations",
                "Relations in the graph.",
                relations as u64,
            ),
        ];
        for (name, help, value) in gauges {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        if let Some(bytes) = store_bytes {
            let _ = writeln!(
                out,
                "# HELP tiegraph_store_bytes Bytes the store takes on disk.\n# TYPE tiegraph_store_bytes gauge\ntiegraph_store_bytes {bytes}"
            );
        }
        render_replication(&mut out, replication);
        out
    }
}

/// The change log as this server sees it: its role, the commits it has applied, the log's
/// head, and how far behind it is, in commits and in seconds.
fn render_replication(out: &mut String, status: &ReplicationStatus) {
    let role = status.role.as_str();
    let _ = writeln!(
        out,
        "# HELP tiegraph_replication_role The part this server plays (single, writer or replica).\n# TYPE tiegraph_replication_role gauge\ntiegraph_replication_role{{role=\"{role}\"}} 1"
    );
    let halted = u8::from(status.halted.is_some());
    let connected = u8::from(status.connected);
    let gauges: [(&str, &str, String); 6] = [
        (
            "tiegraph_replication_applied_sequence",
            "Commits this server has applied (its store's sequence).",
            status.applied.to_string(),
        ),
        (
            "tiegraph_replication_head_sequence",
            "The change log's head as this server last saw it.",
            status.head.to_string(),
        ),
        (
            "tiegraph_replication_lag_commits",
            "Commits in the log not applied here yet.",
            status.lag_commits().to_string(),
        ),
        (
            "tiegraph_replication_lag_seconds",
            "Age of the oldest commit not applied here yet (0 when none).",
            status.lag_seconds.to_string(),
        ),
        (
            "tiegraph_replication_log_connected",
            "Whether the last attempt to reach the change log succeeded (1) or not (0).",
            connected.to_string(),
        ),
        (
            "tiegraph_replication_writes_halted",
            "On a writer: whether writes are stopped until the log is settled (1) or not (0).",
            halted.to_string(),
        ),
    ];
    if status.role == Role::Single {
        return;
    }
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
}
