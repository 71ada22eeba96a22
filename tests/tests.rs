// One integration test binary (ripgrep's layout): a module per area.

// The synthetic graph generator: deterministic, and its output imports cleanly.
mod generate;
