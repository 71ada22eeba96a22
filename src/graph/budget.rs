use std::time::{Duration, Instant};

/// How much work one search may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetLimits {
    /// Edges a search may examine.
    pub max_visits: u64,
    /// Wall-clock time a search may take.
    pub max_time: Duration,
}

impl Default for BudgetLimits {
    fn default() -> Self {
        BudgetLimits {
            max_visits: 2_000_000,
            max_time: Duration::from_secs(5),
        }
    }
}

/// The work left to a running search. Once spent it stays spent, and the search's answer
/// must say it is partial.
#[derive(Debug, Clone)]
pub struct Budget {
    visits_left: u64,
    deadline: Instant,
    exhausted: bool,
}

/// Reading the clock on every edge would cost more than the edge; every this-many visits is enough.
const CLOCK_EVERY: u64 = 1024;

impl Budget {
    pub fn new(limits: BudgetLimits) -> Self {
        Budget {
            visits_left: limits.max_visits,
            deadline: Instant::now() + limits.max_time,
            exhausted: false,
        }
    }

    /// Spends one visit; false once the budget is gone.
    #[inline]
    pub fn spend(&mut self) -> bool {
        if self.exhausted {
            return false;
        }
        if self.visits_left == 0
            || (self.visits_left.is_multiple_of(CLOCK_EVERY) && Instant::now() >= self.deadline)
        {
            self.exhausted = true;
            return false;
        }
        self.visits_left -= 1;
        true
    }

    /// Marks the search as cut short for a reason of its own (a result cap).
    pub fn exhaust(&mut self) {
        self.exhausted = true;
    }

    pub fn exhausted(&self) -> bool {
        self.exhausted
    }
}
