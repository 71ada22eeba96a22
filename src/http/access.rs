//! Bearer tokens: who may write, and whether reading needs a token too.

use std::fmt;
use std::net::SocketAddr;

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
    /// Reads need the token too.
    pub reads_need_token: bool,
}

impl Access {
    fn presents_token(&self, authorization: Option<&str>) -> bool {
        let offered = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        match (&self.write_token, offered) {
            (Some(token), Some(offered)) => token.matches(offered),
            _ => false,
        }
    }

    pub fn may_write(&self, authorization: Option<&str>) -> bool {
        self.write_token.is_none() || self.presents_token(authorization)
    }

    pub fn may_read(&self, authorization: Option<&str>) -> bool {
        !self.reads_need_token || self.may_write(authorization)
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
