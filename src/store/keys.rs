//! The id rules the key layout relies on, in one place.
//!
//! Entities, relations and sources are keyed by their slug's bytes. A claim is stored inside
//! its relation's record, and its id is `<relation id>.c<n>`: slugs never hold a dot, so the
//! relation (and so the key to read) is recoverable from the claim's id alone.

/// The id of the claim numbered `n` of `relation`.
pub fn claim_id(relation: &str, n: u32) -> String {
    format!("{relation}.c{n}")
}

/// The relation a claim id names, if the id has a claim's form.
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
