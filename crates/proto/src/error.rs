use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One bad field of a request: `field` is the proto path ("report.period"), `description` says
/// what a valid value looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Every failure a duban service reports. Each variant is mapped to its gRPC code below without a
/// wildcard arm, so a new variant cannot ship without deciding what the caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The request itself is wrong; the caller must change it.
    InvalidArgument(Vec<FieldViolation>),
    /// No such resource: carries the resource name asked for.
    NotFound { resource: String },
    /// The resource already exists in a way the request contradicts.
    AlreadyExists { resource: String, message: String },
    /// The system is not in a state to perform the request (e.g. request_id reused for a
    /// different request).
    FailedPrecondition {
        reason: &'static str,
        message: String,
    },
    /// A dependency (the database, a peer service) is unreachable; retrying later may work.
    Unavailable { message: String },
    /// The request or a limit was exceeded.
    ResourceExhausted { message: String },
    /// A bug or an unexpected state on our side; the message is for operators.
    Internal { message: String },
}

pub const ERROR_DOMAIN: &str = "duban.gov";

impl ApiError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    pub fn not_found(resource: impl Into<String>) -> Self {
        Self::NotFound {
            resource: resource.into(),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable {
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::InvalidArgument(violations) => {
                write!(f, "invalid request: ")?;
                for (i, v) in violations.iter().enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    write!(f, "{}: {}", v.field, v.description)?;
                }
                Ok(())
            }
            ApiError::NotFound { resource } => write!(f, "{resource} not found"),
            ApiError::AlreadyExists { message, .. }
            | ApiError::FailedPrecondition { message, .. }
            | ApiError::Unavailable { message }
            | ApiError::ResourceExhausted { message }
            | ApiError::Internal { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for Status {
    fn from(err: ApiError) -> Status {
        let message = err.to_string();
        match err {
            ApiError::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                for v in violations {
                    details.add_bad_request_violation(v.field, v.description);
                }
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ApiError::NotFound { resource } => Status::with_error_details(
                Code::NotFound,
                message,
                ErrorDetails::with_resource_info("", resource, "", "no resource has this name"),
            ),
            ApiError::AlreadyExists { resource, .. } => Status::with_error_details(
                Code::AlreadyExists,
                message,
                ErrorDetails::with_resource_info("", resource, "", "already exists"),
            ),
            ApiError::FailedPrecondition { reason, .. } => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []),
            ),
            ApiError::Unavailable { .. } => Status::new(Code::Unavailable, message),
            ApiError::ResourceExhausted { .. } => Status::new(Code::ResourceExhausted, message),
            ApiError::Internal { .. } => Status::new(Code::Internal, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_field_violations() {
        let status: Status = ApiError::invalid("page_size", "must not be negative").into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let bad = details.bad_request().expect("BadRequest detail");
        assert_eq!(bad.field_violations[0].field, "page_size");
        assert!(status.message().contains("page_size"));
    }

    #[test]
    fn not_found_names_the_resource() {
        let status: Status = ApiError::not_found("plans/9").into();
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "plans/9 not found");
    }
}
