//! What keeps graph searches affordable for everyone: a bounded store of answers, so that the
//! pages of one answer cost one search, and a bounded number of searches running at once, with
//! a bounded queue behind them, so that memory stays under a ceiling whatever clients send.
//!
//! An answer is kept under the index [`Version`] it was computed on, so a change to the graph
//! makes every kept answer unreachable: a later page is computed afresh, and continues after
//! its cursor in the new answer (cursors are positions in an order, not offsets).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::graph::{self, Budget, BudgetLimits, GraphIndex, PathQuery, Reached, Version};

use super::{Result, ServiceError};

/// How many searches may run, and wait, at once.
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    /// Searches running at once; more wait their turn.
    pub running: usize,
    /// Searches waiting at once; more are refused straight away.
    pub waiting: usize,
    /// How long a search waits for its turn before it is refused.
    pub wait: Duration,
    /// The most entities the kept answers may hold in all (about 16 bytes each).
    pub kept_entities: usize,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            running: std::thread::available_parallelism().map_or(2, |n| n.get()),
            waiting: 256,
            wait: Duration::from_secs(10),
            kept_entities: 4_000_000,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
enum Question {
    Reached,
    PathCount,
}

#[derive(Clone, PartialEq, Eq)]
struct Key {
    version: Version,
    question: Question,
    query: PathQuery,
    visits: u64,
}

#[derive(Clone)]
enum Answer {
    Reached(Arc<Reached>, bool),
    PathCount(u64, bool),
}

impl Answer {
    fn weight(&self) -> usize {
        match self {
            Answer::Reached(reached, _) => reached.weight(),
            Answer::PathCount(..) => 1,
        }
    }
}

/// What the searches have done since the service opened, for monitoring.
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchStats {
    /// Answers computed by a search.
    pub searched: u64,
    /// Answers served from one kept for an earlier page.
    pub kept_served: u64,
    /// Searches refused because too many were running and waiting.
    pub refused: u64,
    /// Searches running now.
    pub running: u64,
    /// Searches waiting for their turn now.
    pub waiting: u64,
}

pub(super) struct Searches {
    limits: SearchLimits,
    kept: Mutex<VecDeque<(Key, Answer)>>,
    turns: Mutex<Turns>,
    freed: Condvar,
    searched: AtomicU64,
    kept_served: AtomicU64,
    refused: AtomicU64,
}

#[derive(Default)]
struct Turns {
    running: usize,
    waiting: usize,
}

/// A search's turn; the next waiting search goes when it is dropped.
pub(super) struct Turn<'a>(&'a Searches);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut turns = self.0.turns.lock().unwrap_or_else(|e| e.into_inner());
        turns.running -= 1;
        self.0.freed.notify_one();
    }
}

impl Searches {
    pub(super) fn new(limits: SearchLimits) -> Self {
        Searches {
            limits,
            kept: Mutex::new(VecDeque::new()),
            turns: Mutex::new(Turns::default()),
            freed: Condvar::new(),
            searched: AtomicU64::new(0),
            kept_served: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    pub(super) fn stats(&self) -> SearchStats {
        let turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
        SearchStats {
            searched: self.searched.load(Ordering::Relaxed),
            kept_served: self.kept_served.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            running: turns.running as u64,
            waiting: turns.waiting as u64,
        }
    }

    fn refuse(&self) -> ServiceError {
        self.refused.fetch_add(1, Ordering::Relaxed);
        ServiceError::Busy
    }

    /// Waits for a turn to search, or refuses when too many are already waiting or the wait
    /// is too long. Runs on a blocking thread.
    pub(super) fn turn(&self) -> Result<Turn<'_>> {
        let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
        if turns.running < self.limits.running {
            turns.running += 1;
            return Ok(Turn(self));
        }
        if turns.waiting >= self.limits.waiting {
            return Err(self.refuse());
        }
        turns.waiting += 1;
        let deadline = Instant::now() + self.limits.wait;
        while turns.running >= self.limits.running {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                turns.waiting -= 1;
                return Err(self.refuse());
            }
            turns = match self.freed.wait_timeout(turns, left) {
                Ok((turns, _)) => turns,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        turns.waiting -= 1;
        turns.running += 1;
        Ok(Turn(self))
    }

    /// The entities `query` reaches, and whether the search was cut short: kept, so the
    /// answer's later pages are served from it.
    pub(super) fn reached(
        &self,
        index: &GraphIndex,
        query: &PathQuery,
        limits: BudgetLimits,
    ) -> (Arc<Reached>, bool) {
        let key = Key {
            version: index.version(),
            question: Question::Reached,
            query: query.clone(),
            visits: limits.max_visits,
        };
        if let Some(Answer::Reached(reached, partial)) = self.kept(&key) {
            return (reached, partial);
        }
        self.searched.fetch_add(1, Ordering::Relaxed);
        let mut budget = Budget::new(limits);
        let reached = Arc::new(graph::connected(index, query, &mut budget));
        let partial = budget.exhausted();
        self.keep(key, Answer::Reached(Arc::clone(&reached), partial));
        (reached, partial)
    }

    /// How many paths match `query`, and whether the count was cut short (a lower bound).
    pub(super) fn path_count(
        &self,
        index: &GraphIndex,
        query: &PathQuery,
        limits: BudgetLimits,
    ) -> (u64, bool) {
        let key = Key {
            version: index.version(),
            question: Question::PathCount,
            query: query.clone(),
            visits: limits.max_visits,
        };
        if let Some(Answer::PathCount(count, partial)) = self.kept(&key) {
            return (count, partial);
        }
        self.searched.fetch_add(1, Ordering::Relaxed);
        let mut budget = Budget::new(limits);
        let mut count = 0u64;
        graph::find_paths(index, query, None, &mut budget, |_| {
            count += 1;
            true
        });
        let partial = budget.exhausted();
        self.keep(key, Answer::PathCount(count, partial));
        (count, partial)
    }

    fn kept(&self, key: &Key) -> Option<Answer> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let answer = kept.iter().find(|(k, _)| k == key).map(|(_, a)| a.clone());
        if answer.is_some() {
            self.kept_served.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    /// Keeps an answer, forgetting the oldest ones beyond the ceiling, and every one computed
    /// on an older version of the index (no request can reach those again).
    fn keep(&self, key: Key, answer: Answer) {
        if answer.weight() > self.limits.kept_entities {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(k, _)| k.version == key.version);
        kept.push_back((key, answer));
        let mut weight: usize = kept.iter().map(|(_, a)| a.weight()).sum();
        while weight > self.limits.kept_entities {
            match kept.pop_front() {
                Some((_, answer)) => weight -= answer.weight(),
                None => break,
            }
        }
    }
}
