//! Domain errors to GraphQL errors, in one place: every error a client sees carries an
//! `extensions.code` from [`ErrorCode`], and `extensions.field` when one input field is at fault.

use async_graphql::ErrorExtensions;

use crate::service::ServiceError;

/// The values of `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The input breaks a rule; `extensions.field` names the field.
    BadUserInput,
    /// An id the input refers to does not exist.
    NotFound,
    /// The id is taken.
    AlreadyExists,
    /// The record is still needed by others (an entity's relations, a source's claims, a relation's last claim).
    InUse,
    /// A write without the right credentials.
    Unauthorized,
    /// The server could not do it; nothing was written.
    Internal,
    /// The server is shutting down or overloaded.
    Unavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::AlreadyExists => "ALREADY_EXISTS",
            ErrorCode::InUse => "IN_USE",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Internal => "INTERNAL_SERVER_ERROR",
            ErrorCode::Unavailable => "UNAVAILABLE",
        }
    }
}

pub fn coded(code: ErrorCode, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code.as_str()))
}

pub fn bad_input(field: &str, message: impl Into<String>) -> async_graphql::Error {
    let field = field.to_owned();
    coded(ErrorCode::BadUserInput, message).extend_with(|_, e| e.set("field", field.as_str()))
}

pub fn to_graphql(error: ServiceError) -> async_graphql::Error {
    let message = error.to_string();
    let (code, field): (ErrorCode, Option<String>) = match &error {
        ServiceError::Invalid(e) => (ErrorCode::BadUserInput, Some(e.field().to_owned())),
        ServiceError::NotFound { field, .. } => (ErrorCode::NotFound, Some((*field).to_owned())),
        ServiceError::AlreadyExists { .. } => (ErrorCode::AlreadyExists, Some("id".to_owned())),
        ServiceError::DuplicateClaim { .. } => (ErrorCode::AlreadyExists, Some("claim".to_owned())),
        ServiceError::HasRelations { .. }
        | ServiceError::SourceInUse { .. }
        | ServiceError::LastClaim { .. } => (ErrorCode::InUse, None),
        ServiceError::BadQuery(_) | ServiceError::BadRecord { .. } => {
            (ErrorCode::BadUserInput, None)
        }
        ServiceError::Store(_) | ServiceError::Backup(_) => {
            // The details are for the operator's log, not for the client.
            tracing::error!(error = %error, "storage failure");
            return coded(ErrorCode::Internal, "the store failed; nothing was written");
        }
        ServiceError::Unavailable => (ErrorCode::Unavailable, None),
    };
    let error = coded(code, message);
    match field {
        Some(field) => error.extend_with(|_, e| e.set("field", field.as_str())),
        None => error,
    }
}

/// Gives every error of `response` an `extensions.code`. Errors raised by our resolvers have
/// one already; those without come from async-graphql's parser and validator (or argument
/// coercion), before anything ran. Returns whether the request failed before running: no data
/// and such an error, which graphql-over-http answers with a 4xx.
pub fn ensure_codes(response: &mut async_graphql::Response) -> bool {
    let no_data = response.data == async_graphql::Value::Null;
    let mut uncoded = false;
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if !has_code {
            uncoded = true;
            let code = if no_data {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                ErrorCode::BadUserInput.as_str()
            };
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", code);
        }
    }
    no_data && uncoded
}
