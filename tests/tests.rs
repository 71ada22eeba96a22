//! tiegraph's integration tests: one binary, a module per area.

// Shared helpers: a seeded service in a temp dir, a real server on port 0, GraphQL calls.
mod util;

// Model validation rules and standing, data-driven.
mod model;
// The sled store: round trips, reopening, schema version.
mod store;
// The index never disagrees with the store, after random sequences of writes.
mod consistency;
// GraphQL over real HTTP: the mission query, lookups, searches, the HTTP contract.
mod http;
// Every mutation: its successes, and each bad input refused with a code and nothing written.
mod mutations;
// An online backup taken under writes, restored.
mod durability;
// SIGKILL during every write path, seeded, with counts of acknowledged and lost writes.
mod crash;
// Backups: checksums, damaged and cut-short files refused, failed restores leave nothing.
mod backup;
// Property tests on the importers, the seed loader and search patterns.
mod fuzz;
// Layout 2 and the v1 upgrade, damaged snapshots and stores, ids and claim numbers, the
// change log replayed into an index.
mod integrity;
// The changes subscription over both websocket protocols, with a real client.
mod live;
// Limits, load shedding, slow clients, tokens, metrics.
mod hardening;
// Finding entities, claims and sources by the words people type.
mod finding;
// Lists with filters, orders and counts, as other GraphQL APIs have them.
mod lists;
// One entity per real thing: resolution by identifier, mergeEntities and unmerge.
mod resolution;
// Hub-proof searches: frontiers, pages from one search, cursors across versions, admission.
mod searches;
// The attacks of issue 10, each while /health and an ordinary query keep being answered.
mod attacks;
// schema.graphql is the served schema, and every part of it is described.
mod schema;
// Exports read back with real readers, and the FtM and CSV imports on real stores.
mod formats;
// LittleSis's bulk JSON imported through the service and the binary: kinds, claims, notes,
// re-imports, entities and relationships in two files, bad records by FILE:LINE.
mod littlesis;
// USAspending contract award CSVs: summaries and transactions, overlapping downloads, refusals.
mod usaspending;
// The command line: misplaced flags refused, a locked store explained, --server addresses.
mod cli;
// The synthetic graph generator: deterministic, and its output imports cleanly.
mod generate;
// A real PostgreSQL, installed and started by the suite, for the replication tests.
mod postgres;
// One writer and read replicas following a change log in PostgreSQL.
mod replication;
