//! The record encoding of layout 2: postcard (compact, varint-based binary serde) over private
//! "stored" shapes that leave out what the key already says.
//!
//! A relation is stored with its claims in one value, so that one read (and one write) is the
//! whole relation as one commit left it. A claim's id and relation are not stored: the key
//! names the relation and the claim keeps only its number. postcard is not self-describing,
//! so any change to a stored shape or to a model type it holds changes the layout: bump
//! `SCHEMA_VERSION` and add an upgrade step.

use serde::{Deserialize, Serialize};

use crate::model::{
    Amount, Claim, Entity, Period, Relation, RelationKind, RelationWithClaims, Source, Stance,
    Status, Timestamp,
};

use super::keys::{claim_id, claim_sequence};
use super::StoreError;

#[derive(Serialize, Deserialize)]
struct StoredClaim {
    n: u32,
    source: String,
    stance: Stance,
    claimant: Option<String>,
    quote: String,
    recorded_at: Timestamp,
}

#[derive(Serialize, Deserialize)]
struct StoredRelation {
    kind: RelationKind,
    from: String,
    to: String,
    status: Option<Status>,
    role: Option<String>,
    description: Option<String>,
    amount: Option<Amount>,
    period: Period,
    created_at: Timestamp,
    updated_at: Timestamp,
    /// The number the relation's next claim gets: claim numbers are never reused.
    next_claim: u32,
    claims: Vec<StoredClaim>,
}

/// A relation as read back: the record and the number its next claim gets.
pub(super) struct DecodedRelation {
    pub relation: RelationWithClaims,
    pub next_claim: u32,
}

fn corrupt(tree: &'static str, key: &[u8], message: impl ToString) -> StoreError {
    StoreError::Corrupt {
        tree,
        key: String::from_utf8_lossy(key).into_owned(),
        message: message.to_string(),
    }
}

// Our stored shapes hold only strings, numbers, options and enums, which postcard cannot fail
// to write into a Vec.
fn to_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).unwrap_or_default()
}

fn from_bytes<'a, T: Deserialize<'a>>(
    tree: &'static str,
    key: &[u8],
    bytes: &'a [u8],
) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| corrupt(tree, key, e))
}

pub(super) fn encode_merge(merge: &super::Merge) -> Vec<u8> {
    to_bytes(merge)
}

pub(super) fn decode_merge(key: &[u8], bytes: &[u8]) -> Result<super::Merge, StoreError> {
    from_bytes(super::trees::MERGES, key, bytes)
}

pub(super) fn encode_entity(entity: &Entity) -> Vec<u8> {
    to_bytes(entity)
}

pub(super) fn decode_entity(key: &[u8], bytes: &[u8]) -> Result<Entity, StoreError> {
    from_bytes(super::trees::ENTITIES, key, bytes)
}

pub(super) fn encode_source(source: &Source) -> Vec<u8> {
    to_bytes(source)
}

pub(super) fn decode_source(key: &[u8], bytes: &[u8]) -> Result<Source, StoreError> {
    from_bytes(super::trees::SOURCES, key, bytes)
}

pub(super) fn encode_relation(record: &RelationWithClaims, next_claim: u32) -> Vec<u8> {
    let r = &record.relation;
    to_bytes(&StoredRelation {
        kind: r.kind,
        from: r.from.clone(),
        to: r.to.clone(),
        status: r.status,
        role: r.role.clone(),
        description: r.description.clone(),
        amount: r.amount.clone(),
        period: r.period,
        created_at: r.created_at,
        updated_at: r.updated_at,
        next_claim,
        claims: record
            .claims
            .iter()
            .map(|c| StoredClaim {
                n: claim_sequence(&c.id),
                source: c.source.clone(),
                stance: c.stance,
                claimant: c.claimant.clone(),
                quote: c.quote.clone(),
                recorded_at: c.recorded_at,
            })
            .collect(),
    })
}

pub(super) fn decode_relation(key: &[u8], bytes: &[u8]) -> Result<DecodedRelation, StoreError> {
    let stored: StoredRelation = from_bytes(super::trees::RELATIONS, key, bytes)?;
    let id = std::str::from_utf8(key)
        .map_err(|_| corrupt(super::trees::RELATIONS, key, "the key is not UTF-8"))?;
    let claims = stored
        .claims
        .into_iter()
        .map(|c| Claim {
            id: claim_id(id, c.n),
            relation: id.to_owned(),
            source: c.source,
            stance: c.stance,
            claimant: c.claimant,
            quote: c.quote,
            recorded_at: c.recorded_at,
        })
        .collect();
    Ok(DecodedRelation {
        relation: RelationWithClaims {
            relation: Relation {
                id: id.to_owned(),
                kind: stored.kind,
                from: stored.from,
                to: stored.to,
                status: stored.status,
                role: stored.role,
                description: stored.description,
                amount: stored.amount,
                period: stored.period,
                created_at: stored.created_at,
                updated_at: stored.updated_at,
            },
            claims,
        },
        next_claim: stored.next_claim,
    })
}

/// What an interrupted load must undo for one key: put the old bytes back, or remove the key.
#[derive(Serialize, Deserialize)]
pub(super) struct Undo {
    pub tree: u8,
    pub key: Vec<u8>,
    pub previous: Option<Vec<u8>>,
}

pub(super) fn encode_undo(entries: &[Undo]) -> Vec<u8> {
    to_bytes(&entries)
}

pub(super) fn decode_undo(key: &[u8], bytes: &[u8]) -> Result<Vec<Undo>, StoreError> {
    from_bytes(super::trees::UNDO, key, bytes)
}
