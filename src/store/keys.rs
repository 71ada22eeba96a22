//! Every key layout of the store, in one place.
//!
//! Entities, relations and sources are keyed by their slug's bytes. A claim's id is
//! `<relation id>.c<n>`: slugs never hold a dot, so the relation is recoverable from the id,
//! and claims are keyed `<relation id> 0x00 <claim id>` so that one prefix scan yields a
//! relation's claims. Citations are keyed `<source id> 0x00 <claim id>` likewise.

/// The separator between a relation id and a claim id in a claim key; never in a slug.
const SEPARATOR: u8 = 0;

pub fn claim(relation: &str, claim_id: &str) -> Vec<u8> {
    let mut key = claims_prefix(relation);
    key.extend_from_slice(claim_id.as_bytes());
    key
}

pub fn claims_prefix(relation: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(relation.len() + 1);
    key.extend_from_slice(relation.as_bytes());
    key.push(SEPARATOR);
    key
}

pub fn citation(source: &str, claim_id: &str) -> Vec<u8> {
    let mut key = citations_prefix(source);
    key.extend_from_slice(claim_id.as_bytes());
    key
}

pub fn citations_prefix(source: &str) -> Vec<u8> {
    claims_prefix(source)
}

/// The id of the `n`th claim (1-based) recorded for `relation`.
pub fn claim_id(relation: &str, n: u32) -> String {
    format!("{relation}.c{n}")
}

pub fn relation_of_claim(claim_id: &str) -> Option<&str> {
    claim_id.rsplit_once(".c").map(|(relation, _)| relation)
}

/// The `n` of a claim id, for ordering a relation's claims as they were recorded.
pub fn claim_sequence(claim_id: &str) -> u32 {
    claim_id
        .rsplit_once(".c")
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(u32::MAX)
}
