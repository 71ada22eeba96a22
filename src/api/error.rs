//! Domain errors to GraphQL errors, in one place: every error a client sees carries an
//! `extensions.code` from [`ErrorCode`], and `extensions.field` when one input field is at fault.
//! The transport's own refusals (a bad body, a missing token, a limit, an overloaded server) use
//! the same codes and the same shape, built by [`error_document`], so a client reads one shape
//! on every route.

use async_graphql::ErrorExtensions;
use serde_json::json;

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
    /// The write contradicts the graph in a way a person must settle (identifiers naming two
    /// entities, an unmerge of records changed since the merge); nothing was written.
    Conflict,
    /// A write without the right credentials.
    Unauthorized,
    /// The server could not do it; nothing was written.
    Internal,
    /// The server is shutting down or overloaded.
    Unavailable,
    /// The HTTP request itself is wrong (method, media type, parameters), before any GraphQL.
    BadRequest,
    /// The body or the document is not a GraphQL request that parses.
    GraphqlParseFailed,
    /// The document does not fit the schema, or is too deep or too complex.
    GraphqlValidationFailed,
    /// The document is too big: too many bytes, or too many fields once fragments are expanded.
    QueryTooLarge,
    /// The request body is over the size limit.
    PayloadTooLarge,
    /// A persisted-query hash this server does not know (yet): send the query with it.
    PersistedQueryNotFound,
    /// A read took longer than the request time limit and was stopped.
    RequestTimeout,
    /// A whole-graph export over the configured size.
    ExportTooLarge,
    /// A write sent to a read replica; `extensions.writer` is where writes go.
    ReadOnly,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::AlreadyExists => "ALREADY_EXISTS",
            ErrorCode::InUse => "IN_USE",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Internal => "INTERNAL_SERVER_ERROR",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            ErrorCode::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            ErrorCode::QueryTooLarge => "QUERY_TOO_LARGE",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ErrorCode::RequestTimeout => "REQUEST_TIMEOUT",
            ErrorCode::ExportTooLarge => "EXPORT_TOO_LARGE",
            ErrorCode::ReadOnly => "READ_ONLY",
        }
    }
}

/// A limit that was hit, named as the configuration names it, with its value: put in
/// `extensions.limit` and `extensions.max`, so a client can tell which one without parsing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitHit {
    pub name: &'static str,
    pub max: u64,
}

/// The body of a refusal on any route: `{"errors": [{"message", "extensions": {"code"}}]}`, the
/// shape GraphQL answers have, with the limit when one was hit.
pub fn error_document(
    code: ErrorCode,
    message: &str,
    limit: Option<LimitHit>,
) -> serde_json::Value {
    let mut extensions = json!({ "code": code.as_str() });
    if let Some(limit) = limit {
        extensions["limit"] = json!(limit.name);
        extensions["max"] = json!(limit.max);
    }
    json!({ "errors": [{ "message": message, "extensions": extensions }] })
}

/// A number with thousands separators, as limits are written in messages and the README.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "a" or "an" before a word, for messages that name a kind of record.
pub fn coded(code: ErrorCode, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code.as_str()))
}

pub fn bad_input(field: &str, message: impl Into<String>) -> async_graphql::Error {
    let field = field.to_owned();
    coded(ErrorCode::BadUserInput, message).extend_with(|_, e| e.set("field", field.as_str()))
}

/// The message a client sees for a service error: the service's own words, except that a
/// storage failure's details stay in the operator's log.
pub fn client_message(error: &ServiceError) -> String {
    match error {
        ServiceError::Store(_) | ServiceError::Backup(_) => {
            "the store failed; nothing was written".to_owned()
        }
        _ => error.to_string(),
    }
}

/// The code of a service error, for transports that report one outside GraphQL.
pub fn code_of(error: &ServiceError) -> ErrorCode {
    match error {
        ServiceError::Invalid(_) | ServiceError::BadQuery(_) | ServiceError::BadRecord { .. } => {
            ErrorCode::BadUserInput
        }
        ServiceError::NotFound { .. } => ErrorCode::NotFound,
        ServiceError::AlreadyExists { .. }
        | ServiceError::DuplicateClaim { .. }
        | ServiceError::SameTie { .. } => ErrorCode::AlreadyExists,
        ServiceError::HasRelations { .. }
        | ServiceError::SourceInUse { .. }
        | ServiceError::LastClaim { .. } => ErrorCode::InUse,
        ServiceError::Conflict { .. } => ErrorCode::Conflict,
        ServiceError::Store(_) | ServiceError::Backup(_) => ErrorCode::Internal,
        ServiceError::Unavailable | ServiceError::Busy | ServiceError::LogUnavailable(_) => {
            ErrorCode::Unavailable
        }
        ServiceError::ReadOnly { .. } => ErrorCode::ReadOnly,
    }
}

pub fn to_graphql(error: ServiceError) -> async_graphql::Error {
    let message = client_message(&error);
    let code = code_of(&error);
    if code == ErrorCode::Internal {
        // The details are for the operator's log, not for the client.
        tracing::error!(error = %error, "storage failure");
    }
    let field: Option<String> = match &error {
        ServiceError::Invalid(e) => Some(e.field().to_owned()),
        ServiceError::NotFound { field, .. } => Some((*field).to_owned()),
        ServiceError::AlreadyExists { .. } => Some("id".to_owned()),
        ServiceError::DuplicateClaim { .. } => Some("claim".to_owned()),
        ServiceError::SameTie { .. } => Some("id".to_owned()),
        _ => None,
    };
    let writer = match &error {
        ServiceError::ReadOnly { writer } => writer.clone(),
        _ => None,
    };
    let error = coded(code, message);
    let error = match writer {
        Some(writer) => error.extend_with(|_, e| e.set("writer", writer.as_str())),
        None => error,
    };
    match field {
        Some(field) => error.extend_with(|_, e| e.set("field", field.as_str())),
        None => error,
    }
}

/// Gives every error of `response` an `extensions.code`. Errors raised by our resolvers and by
/// the limits have one already; those without come from async-graphql (argument coercion, or a
/// parser or validator error that reached the response another way). Returns whether the
/// request failed before running: no data, and an error of the kind that stops a request from
/// starting, which graphql-over-http answers with a 4xx.
pub fn ensure_codes(response: &mut async_graphql::Response) -> bool {
    let no_data = response.data == async_graphql::Value::Null;
    let mut before_running = false;
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        let code = match extensions.get("code") {
            Some(async_graphql::Value::String(code)) => code.clone(),
            _ => {
                let code = if no_data {
                    ErrorCode::GraphqlValidationFailed
                } else {
                    ErrorCode::BadUserInput
                };
                extensions.set("code", code.as_str());
                code.as_str().to_owned()
            }
        };
        before_running |= no_data && stops_a_request(&code);
    }
    before_running
}

/// Codes given to a request that could not start: the document is wrong, not the data.
fn stops_a_request(code: &str) -> bool {
    [
        ErrorCode::GraphqlParseFailed,
        ErrorCode::GraphqlValidationFailed,
        ErrorCode::QueryTooLarge,
        ErrorCode::PersistedQueryNotFound,
    ]
    .iter()
    .any(|c| c.as_str() == code)
}
