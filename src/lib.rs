//! tiegraph: a knowledge graph of ties between companies, government bodies, nonprofits and
//! people, answering "who is connected to whom, through what, and who says so" over GraphQL,
//! with the claims that support (or deny) every tie on every hop of every answer.
//!
//! # Layout
//!
//! ```text
//! model  <-  store (sled)      \
//!        <-  graph (petgraph)  -  service  <-  formats (seed, import, export)  <-  cli/main
//!                                          <-  api (async-graphql)  <-  http (axum)
//!                                          <-  replication (postgres)  <-  cli/main
//! ```
//!
//! - [`model`]: plain domain types, validation, standing derived from claims. serde only.
//! - `store` (private to [`service`]): sled trees, key and record encoding, schema version and
//!   upgrades, the store's identity, all-or-nothing commits and loads, backups.
//! - [`graph`]: the in-memory petgraph index of the topology, a compact copy of its adjacency
//!   for searches, and the traversal algorithms, one file per algorithm, each with a budget.
//! - [`service`]: the one place that writes (store first, then index) and the questions the
//!   API asks; resolves entity records by identifier and merges entities; rebuilds the index on
//!   open; keeps answers for paging and bounds how many searches run at once.
//! - [`formats`]: the seed and import format (JSON lines), the FollowTheMoney, LittleSis,
//!   USAspending and CSV readers, and exports.
//! - [`api`]: the GraphQL schema; the only user of async-graphql; errors to `extensions.code`.
//! - [`http`]: the axum server; the only user of axum; `serve(listener, state, shutdown)`.
//! - [`replication`]: one writer and read replicas following a change log in PostgreSQL;
//!   the only user of postgres. The service sees the log only as a `ChangeLog`.
//! - `cli` (in the binary): clap subcommands and the only user of anyhow.
//!
//! Arrows point at what a layer may use; nothing points back up. See ARCHITECTURE.md for the
//! invariants each layer keeps.

pub mod api;
pub mod formats;
pub mod graph;
pub mod http;
pub mod model;
pub mod replication;
pub mod service;
mod store;
