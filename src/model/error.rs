use thiserror::Error;

/// Why a record was refused. Every variant names the field at fault so that a
/// client can point its user at it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    /// The value of `field` breaks a rule of the model.
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
}

impl ModelError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ModelError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The field this error is about.
    pub fn field(&self) -> &str {
        match self {
            ModelError::Invalid { field, .. } => field,
        }
    }
}
