//! Who may do what, as the schema sees it.
//!
//! The transport (HTTP or the websocket) decides who the caller is and puts a [`Caller`] in the
//! request's data; the schema only asks it. A request with no `Caller` may not write: an
//! unidentified caller is never trusted.

use async_graphql::{Context, Guard, Result};

use super::error::{coded, ErrorCode};

/// What the caller's `Authorization` showed, so a refusal can say what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Credential {
    /// No `Authorization` at all.
    #[default]
    Missing,
    /// An `Authorization` that is not `Bearer <token>`.
    Malformed,
    /// A bearer token, not this server's.
    Wrong,
    /// This server's token.
    Valid,
}

/// What the transport established about the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Caller {
    pub can_write: bool,
    pub credential: Credential,
}

/// The message refusing a caller: `need` says what needs a token, and the rest says what was
/// wrong with what the caller sent, so a wrong token does not read like a missing one.
pub fn unauthorized_message(credential: Credential, need: &str) -> String {
    match credential {
        Credential::Missing | Credential::Valid => {
            format!("{need}: send `Authorization: Bearer <token>`")
        }
        Credential::Malformed => {
            format!("{need}, and the Authorization sent is not of the form `Bearer <token>`")
        }
        Credential::Wrong => format!("{need}, and the bearer token sent is not this server's"),
    }
}

/// Lets a mutation run only for a caller allowed to write.
pub struct WriteGuard;

impl Guard for WriteGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        match ctx.data_opt::<Caller>() {
            Some(caller) if caller.can_write => Ok(()),
            caller => Err(coded(
                ErrorCode::Unauthorized,
                unauthorized_message(
                    caller.map(|c| c.credential).unwrap_or_default(),
                    "writes need a bearer token",
                ),
            )),
        }
    }
}
