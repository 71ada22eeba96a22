//! Bearer tokens: who may write, and whether reading needs a token too.

use std::fmt;
use std::net::SocketAddr;

use axum::http::{header, HeaderMap};

use crate::api::{Caller, Credential};

/// A secret that never shows itself in logs or debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// `None` for an empty or blank token: a blank token would let anyone write.
    pub fn new(secret: impl Into<String>) -> Option<Token> {
        let secret = secret.into().trim().to_owned();
        (!secret.is_empty()).then_some(Token(secret))
    }

    /// Compares in time independent of where the first difference is, so the answer's timing
    /// says nothing about the secret.
    fn matches(&self, offered: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), offered.as_bytes());
        let mut difference = a.len() ^ b.len();
        for (i, byte) in a.iter().enumerate() {
            difference |= usize::from(byte ^ b.get(i).copied().unwrap_or(0));
        }
        difference == 0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Who may read and write.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// The token writes need; `None` leaves writes open, allowed only on loopback.
    pub write_token: Option<Token>,
    /// Reads need the token too: every route that shows data, `/metrics` and the counts in
    /// `/health` included.
    pub reads_need_token: bool,
    /// A token that may read `/metrics` (and nothing else), for a scraper that should not hold
    /// the write token. When set, `/metrics` needs it or the write token.
    pub metrics_token: Option<Token>,
}

/// The token of an `Authorization` value: the scheme is case-insensitive (RFC 9110), and
/// `Err` means the value is not of the form `Bearer <token>`.
fn bearer(authorization: &str) -> Result<&str, ()> {
    let value = authorization.trim();
    let (scheme, token) = value.split_once([' ', '\t']).ok_or(())?;
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
        Ok(token)
    } else {
        Err(())
    }
}

impl Access {
    /// What the `Authorization` header shows. A value that is not UTF-8 is malformed.
    pub(crate) fn credential(&self, headers: &HeaderMap) -> Credential {
        self.credential_of(
            headers
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap_or("")),
        )
    }

    /// What an `Authorization` value shows (the websocket's `connection_init` payload carries one).
    pub(crate) fn credential_of(&self, authorization: Option<&str>) -> Credential {
        let Some(authorization) = authorization else {
            return Credential::Missing;
        };
        match (bearer(authorization), &self.write_token) {
            (Err(()), _) => Credential::Malformed,
            (Ok(offered), Some(token)) if token.matches(offered) => Credential::Valid,
            (Ok(_), _) => Credential::Wrong,
        }
    }

    pub(crate) fn may_write(&self, credential: Credential) -> bool {
        self.write_token.is_none() || credential == Credential::Valid
    }

    pub(crate) fn may_read(&self, credential: Credential) -> bool {
        !self.reads_need_token || self.may_write(credential)
    }

    /// Whether `/metrics` answers: with the metrics token or whatever reading needs.
    pub(crate) fn may_scrape(&self, headers: &HeaderMap) -> bool {
        let credential = self.credential(headers);
        match &self.metrics_token {
            Some(metrics) => {
                let offered = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| bearer(v).ok());
                offered.is_some_and(|t| metrics.matches(t)) || credential == Credential::Valid
            }
            None => self.may_read(credential),
        }
    }

    /// The caller as the schema sees it.
    pub(crate) fn caller(&self, credential: Credential) -> Caller {
        Caller {
            can_write: self.may_write(credential),
            credential,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExposureError {
    #[error("refusing to listen on {0} with no write token: set TIEGRAPH_TOKEN or --token-file, or listen on loopback")]
    OpenWritesOffLoopback(SocketAddr),
    #[error("reads need a token (--read-token-required) but no token is configured")]
    ReadTokenWithoutToken,
}

/// Refuses configurations that would expose open writes: without a token the server may only
/// listen on loopback.
pub fn check_exposure(listen: SocketAddr, access: &Access) -> Result<(), ExposureError> {
    if access.write_token.is_none() {
        if access.reads_need_token {
            return Err(ExposureError::ReadTokenWithoutToken);
        }
        if !listen.ip().is_loopback() {
            return Err(ExposureError::OpenWritesOffLoopback(listen));
        }
    }
    Ok(())
}
