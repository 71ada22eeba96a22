//! tiegraph's integration tests: one binary, a module per area.

// Exports read back with real readers, and the FtM and CSV imports on real stores.
mod formats;
