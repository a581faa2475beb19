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
    /// A limit was exceeded. `reason` (UPPER_SNAKE_CASE) and `metadata` go to the caller as
    /// an ErrorInfo, so a program can act on which limit and which resource without reading
    /// the message.
    ResourceExhausted {
        reason: &'static str,
        message: String,
        metadata: Vec<(&'static str, String)>,
    },
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
            | ApiError::ResourceExhausted { message, .. }
            | ApiError::Internal { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for ApiError {}

/// Longest value an error quotes back (a resource name, a field's description); longer ones are
/// cut and marked. Errors echo what the caller sent, and gRPC clients refuse response headers
/// over 16 KiB by default: an unbounded echo turns a clear error into RESOURCE_EXHAUSTED.
pub const MAX_QUOTED_CHARS: usize = 200;

/// Longest message an error carries, in UTF-8 bytes. grpc-message is percent-encoded (a CJK
/// character takes 9 bytes on the wire), so with the details below an error's metadata stays
/// under the 8 KiB that grpcio accepts without complaint.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// Budget of the field violations one INVALID_ARGUMENT lists, in UTF-8 bytes of field and
/// description; the message counts the ones left out.
pub const MAX_VIOLATION_BYTES: usize = 2048;

/// Longest description of one violation, in UTF-8 bytes.
const MAX_DESCRIPTION_BYTES: usize = 512;

/// What the caller is told about an INTERNAL error; the details go to the log only.
pub const INTERNAL_MESSAGE: &str =
    "internal error: the request was not completed; the operators' log has the details";

/// How long a caller should wait before retrying an UNAVAILABLE call.
pub const RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// `text` cut to at most `max` UTF-8 bytes (at a character boundary, the mark included), marked
/// with how long it was.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mark = format!("…[cut: {} characters in all]", text.chars().count());
    let mut end = max.saturating_sub(mark.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{mark}", &text[..end])
}

/// A resource name for ResourceInfo, cut like a quoted value.
fn quote_name(name: &str) -> String {
    match name.char_indices().nth(MAX_QUOTED_CHARS) {
        None => name.to_string(),
        Some((end, _)) => format!(
            "{}…[cut: {} characters in all]",
            &name[..end],
            name.chars().count()
        ),
    }
}

/// A value the caller sent, quoted for an error message (`{:?}`) and cut to
/// [`MAX_QUOTED_CHARS`].
pub fn quote(value: &str) -> String {
    match value.char_indices().nth(MAX_QUOTED_CHARS) {
        None => format!("{value:?}"),
        Some((end, _)) => format!(
            "{:?}…[cut: {} characters in all]",
            &value[..end],
            value.chars().count()
        ),
    }
}

impl From<ApiError> for Status {
    fn from(err: ApiError) -> Status {
        let message = cut(&err.to_string(), MAX_MESSAGE_BYTES);
        match err {
            ApiError::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                let total = violations.len();
                let mut listed = 0;
                let mut budget = MAX_VIOLATION_BYTES;
                for v in violations {
                    let field = cut(&v.field, MAX_QUOTED_CHARS);
                    let description = cut(&v.description, MAX_DESCRIPTION_BYTES);
                    let size = field.len() + description.len();
                    if size > budget {
                        break;
                    }
                    budget -= size;
                    listed += 1;
                    details.add_bad_request_violation(field, description);
                }
                let message = if listed < total {
                    format!("{total} violations, the details list {listed}: {message}")
                } else {
                    message
                };
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ApiError::NotFound { resource } => Status::with_error_details(
                Code::NotFound,
                message,
                ErrorDetails::with_resource_info(
                    "",
                    quote_name(&resource),
                    "",
                    "no resource has this name",
                ),
            ),
            ApiError::AlreadyExists { resource, .. } => Status::with_error_details(
                Code::AlreadyExists,
                message,
                ErrorDetails::with_resource_info("", quote_name(&resource), "", "already exists"),
            ),
            ApiError::FailedPrecondition { reason, .. } => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []),
            ),
            ApiError::Unavailable { .. } => Status::with_error_details(
                Code::Unavailable,
                message,
                ErrorDetails::with_retry_info(Some(RETRY_DELAY)),
            ),
            ApiError::ResourceExhausted {
                reason, metadata, ..
            } => Status::with_error_details(
                Code::ResourceExhausted,
                message,
                ErrorDetails::with_error_info(
                    reason,
                    ERROR_DOMAIN,
                    metadata
                        .into_iter()
                        .map(|(key, value)| (key.to_string(), cut(&value, MAX_QUOTED_CHARS)))
                        .collect::<std::collections::HashMap<_, _>>(),
                ),
            ),
            ApiError::Internal { message } => {
                tracing::error!(error = %message, "internal error answered as INTERNAL");
                Status::new(Code::Internal, INTERNAL_MESSAGE)
            }
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
    fn long_values_are_cut_and_marked() {
        let long = "区".repeat(10_000);
        let status: Status =
            ApiError::invalid("unit", format!("unknown unit {}", quote(&long))).into();
        assert!(status.message().len() <= MAX_MESSAGE_BYTES);
        assert!(status.message().contains("[cut: 10000 characters in all]"));
        let details = status.get_error_details();
        let bad = details.bad_request().expect("BadRequest detail");
        assert!(bad.field_violations[0].description.len() <= MAX_DESCRIPTION_BYTES);
        let status: Status = ApiError::not_found(long.clone()).into();
        let details = status.get_error_details();
        let info = details.resource_info().expect("ResourceInfo detail");
        assert!(info.resource_name.chars().count() < 250);
        assert!(status.message().len() <= MAX_MESSAGE_BYTES);
    }

    #[test]
    fn internal_hides_its_details_and_unavailable_says_when_to_retry() {
        let status: Status = ApiError::internal("relation \"x\" does not exist").into();
        assert_eq!(status.message(), INTERNAL_MESSAGE);
        let status: Status = ApiError::unavailable("the database is unreachable").into();
        let details = status.get_error_details();
        assert_eq!(
            details.retry_info().and_then(|r| r.retry_delay),
            Some(RETRY_DELAY)
        );
    }

    #[test]
    fn many_violations_are_listed_up_to_the_limit() {
        let status: Status = ApiError::InvalidArgument(
            (0..100)
                .map(|i| FieldViolation::new(format!("f{i}"), "x".repeat(100)))
                .collect(),
        )
        .into();
        let details = status.get_error_details();
        let listed = details
            .bad_request()
            .expect("BadRequest")
            .field_violations
            .len();
        assert!(listed > 0 && listed < 100, "{listed}");
        assert!(
            status
                .message()
                .starts_with(&format!("100 violations, the details list {listed}"))
        );
    }

    #[test]
    fn resource_exhausted_says_which_limit_in_error_info() {
        let status: Status = ApiError::ResourceExhausted {
            reason: "EXTRACTION_BUDGET_EXCEEDED",
            message: "over".into(),
            metadata: vec![("document", "documents/1".into())],
        }
        .into();
        assert_eq!(status.code(), Code::ResourceExhausted);
        let details = status.get_error_details();
        let info = details.error_info().expect("ErrorInfo detail");
        assert_eq!(info.reason, "EXTRACTION_BUDGET_EXCEEDED");
        assert_eq!(info.domain, ERROR_DOMAIN);
        assert_eq!(
            info.metadata.get("document").map(String::as_str),
            Some("documents/1")
        );
    }

    #[test]
    fn not_found_names_the_resource() {
        let status: Status = ApiError::not_found("plans/9").into();
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "plans/9 not found");
    }
}
