//! Automatic persisted queries, Apollo's protocol: a client sends only the SHA-256 of its
//! document (`extensions.persistedQuery = {version: 1, sha256Hash}`); a server that knows the
//! hash runs the document it stands for, one that does not answers `PERSISTED_QUERY_NOT_FOUND`,
//! and the client sends the document with its hash once, to be remembered.
//!
//! Owns the cache of documents by hash, bounded in documents and in bytes (least recently used
//! go first), so that anonymous clients cannot grow it; a document is remembered only once its
//! hash has been checked and it has passed the size limits. Knows nothing of transports.

use std::sync::Mutex;

use async_graphql::Request;
use lru::LruCache;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::ErrorCode;
use super::limits::{check_text, Refusal};
use super::SchemaLimits;

/// Documents remembered at most.
const MAX_DOCUMENTS: usize = 4096;
/// Bytes of documents remembered at most.
const MAX_BYTES: usize = 16 << 20;

type Hash = [u8; 32];

pub(super) struct PersistedQueries {
    cache: Mutex<Cache>,
}

struct Cache {
    documents: LruCache<Hash, String>,
    bytes: usize,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        PersistedQueries {
            cache: Mutex::new(Cache {
                documents: LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }
}

fn bad(message: &str) -> Refusal {
    Refusal::new(ErrorCode::BadRequest, message)
}

/// The hash a request names, if it uses the protocol.
fn named_hash(request: &Request) -> Result<Option<Hash>, Refusal> {
    let Some(extension) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let extension = extension.clone().into_json().unwrap_or(Value::Null);
    if extension["version"] != 1 {
        return Err(bad(
            "only version 1 of automatic persisted queries is supported (`extensions.persistedQuery.version`)",
        ));
    }
    let hex = extension["sha256Hash"].as_str().unwrap_or_default();
    let mut hash = [0u8; 32];
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(
            "`extensions.persistedQuery.sha256Hash` must be the document's SHA-256 as 64 hex digits",
        ));
    }
    for (byte, pair) in hash.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let text = std::str::from_utf8(pair).map_err(|_| bad("invalid hex"))?;
        *byte = u8::from_str_radix(text, 16).map_err(|_| bad("invalid hex"))?;
    }
    Ok(Some(hash))
}

impl PersistedQueries {
    /// Fills in the document of a hash-only request, or remembers the document a request sends
    /// with its hash. Requests that do not use the protocol pass unchanged.
    pub(super) fn resolve(
        &self,
        limits: &SchemaLimits,
        request: &mut Request,
    ) -> Result<(), Refusal> {
        let Some(hash) = named_hash(request)? else {
            return Ok(());
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if request.query.trim().is_empty() {
            return match cache.documents.get(&hash) {
                Some(document) => {
                    request.query = document.clone();
                    Ok(())
                }
                // Apollo's clients look for this message as well as for the code.
                None => Err(Refusal::new(
                    ErrorCode::PersistedQueryNotFound,
                    "PersistedQueryNotFound: this server does not know that hash yet; send the query with it once",
                )),
            };
        }
        if <[u8; 32]>::from(Sha256::digest(request.query.as_bytes())) != hash {
            return Err(bad(
                "provided sha does not match query: `extensions.persistedQuery.sha256Hash` must be the SHA-256 of `query`",
            ));
        }
        check_text(&request.query, limits)?;
        if cache.documents.contains(&hash) {
            cache.documents.promote(&hash);
            return Ok(());
        }
        cache.bytes += request.query.len();
        cache.documents.put(hash, request.query.clone());
        while cache.documents.len() > MAX_DOCUMENTS || cache.bytes > MAX_BYTES {
            match cache.documents.pop_lru() {
                Some((_, evicted)) => cache.bytes -= evicted.len(),
                None => break,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn request(query: &str, hash: &str) -> Request {
        let extensions = serde_json::json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
        let mut request = Request::new(query);
        request.extensions = serde_json::from_value(extensions).unwrap();
        request
    }

    fn sha(text: &str) -> String {
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn a_hash_is_unknown_until_its_document_is_sent_with_it() {
        let cache = PersistedQueries::default();
        let limits = SchemaLimits::default();
        let query = "{ stats { entities } }";
        let mut hash_only = request("", &sha(query));
        let refusal = cache.resolve(&limits, &mut hash_only).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::PersistedQueryNotFound);
        cache
            .resolve(&limits, &mut request(query, &sha(query)))
            .unwrap();
        let mut hash_only = request("", &sha(query));
        cache.resolve(&limits, &mut hash_only).unwrap();
        assert_eq!(hash_only.query, query);
    }

    #[test]
    fn a_wrong_hash_or_version_is_refused_and_nothing_is_remembered() {
        let cache = PersistedQueries::default();
        let limits = SchemaLimits::default();
        let query = "{ stats { entities } }";
        let wrong = sha("{ other }");
        let refusal = cache
            .resolve(&limits, &mut request(query, &wrong))
            .unwrap_err();
        assert!(
            refusal.message.contains("does not match"),
            "{}",
            refusal.message
        );
        let refusal = cache
            .resolve(&limits, &mut request("", &wrong))
            .unwrap_err();
        assert_eq!(refusal.code, ErrorCode::PersistedQueryNotFound);
        let refusal = cache.resolve(&limits, &mut request("", "abc")).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::BadRequest);
        let mut v2 = Request::new(query);
        v2.extensions = serde_json::from_value(
            serde_json::json!({"persistedQuery": {"version": 2, "sha256Hash": sha(query)}}),
        )
        .unwrap();
        assert!(cache.resolve(&limits, &mut v2).is_err());
    }

    #[test]
    fn the_cache_stays_within_its_bounds() {
        let cache = PersistedQueries::default();
        let limits = SchemaLimits::default();
        for i in 0..MAX_DOCUMENTS + 10 {
            let query = format!("{{ entity(id: \"e{i}\") {{ id }} }}");
            cache
                .resolve(&limits, &mut request(&query, &sha(&query)))
                .unwrap();
        }
        let inner = cache.cache.lock().unwrap();
        assert_eq!(inner.documents.len(), MAX_DOCUMENTS);
        assert!(inner.bytes <= MAX_BYTES);
        // The oldest went first.
        let first = "{ entity(id: \"e0\") { id } }";
        assert!(!inner
            .documents
            .contains(&<[u8; 32]>::from(Sha256::digest(first.as_bytes()))));
    }
}
