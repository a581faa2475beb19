//! AIP-158 paging and an AIP-160 filter subset shared by every List method.
//!
//! Page tokens are opaque to callers: they carry the last row's key and a fingerprint of the
//! filter, so a token cannot be replayed against a different filter.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use duban_proto::{ApiError, quote};
use sha2::{Digest, Sha256};

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 1000;

/// The page size to use: 0 means the default, larger than the maximum is clamped.
pub fn page_size(requested: i32) -> Result<i64, ApiError> {
    match requested {
        n if n < 0 => Err(ApiError::invalid("page_size", "must not be negative")),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok(i64::from(n).min(MAX_PAGE_SIZE)),
    }
}

fn fingerprint(filter: &str) -> String {
    let digest = Sha256::digest(filter.as_bytes());
    hex::encode(&digest[..6])
}

/// Token for the page after the row whose key is `last_key`.
pub fn next_page_token(last_key: i64, filter: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{last_key}:{}", fingerprint(filter)))
}

/// The key after which the requested page starts; `None` for the first page.
pub fn page_start(token: &str, filter: &str) -> Result<Option<i64>, ApiError> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || {
        ApiError::invalid(
            "page_token",
            "not a page token returned by this List method",
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = raw.splitn(3, ':');
    let (Some("v1"), Some(key), Some(print)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if print != fingerprint(filter) {
        return Err(ApiError::invalid(
            "page_token",
            "was issued for a different filter; repeat the filter of the first page",
        ));
    }
    key.parse().map(Some).map_err(|_| bad())
}

/// The token for the page after `items`: empty when `items` is a short (hence last) page.
pub fn next_token<T>(items: &[T], limit: i64, filter: &str, key: impl Fn(&T) -> i64) -> String {
    match items.last() {
        Some(last) if i64::try_from(items.len()).is_ok_and(|n| n == limit) => {
            next_page_token(key(last), filter)
        }
        _ => String::new(),
    }
}

/// A boolean filter value: `true` or `false`.
pub fn parse_bool(value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ApiError::invalid(
            "filter",
            format!("expected true or false, not {}", quote(other)),
        )),
    }
}

/// `value` as one of `allowed`, compared ignoring ASCII case (the API writes its enums in upper
/// case, the database in lower): an unknown value is INVALID_ARGUMENT on `field` naming every
/// allowed one, never a query that quietly matches nothing.
pub fn one_of<'a>(
    field: &str,
    label: &str,
    value: &str,
    allowed: &[&'a str],
) -> Result<&'a str, ApiError> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value))
        .copied()
        .ok_or_else(|| {
            ApiError::invalid(
                field,
                format!(
                    "{label} must be one of {}, not {}",
                    allowed.join(", "),
                    quote(value)
                ),
            )
        })
}

/// The comparison in a filter term: `field = value` or `field : value` (has / contains).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Has,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub field: String,
    pub op: Op,
    pub value: String,
}

/// Longest filter accepted, in characters: every term travels to SQL.
pub const MAX_FILTER_CHARS: usize = 2000;
/// Most terms one filter may join with AND.
pub const MAX_FILTER_TERMS: usize = 16;
/// Longest value of one term, in characters.
pub const MAX_FILTER_VALUE_CHARS: usize = 200;

/// Parses `a = 1 AND b = "two words" AND c : x` into terms, accepting only `allowed` fields.
pub fn parse_filter(filter: &str, allowed: &[&str]) -> Result<Vec<Term>, ApiError> {
    let length = filter.chars().count();
    if length > MAX_FILTER_CHARS {
        return Err(ApiError::invalid(
            "filter",
            format!("is {length} characters long; at most {MAX_FILTER_CHARS} are accepted"),
        ));
    }
    let mut terms = Vec::new();
    let mut rest = filter.trim();
    while !rest.is_empty() {
        if terms.len() == MAX_FILTER_TERMS {
            return Err(ApiError::invalid(
                "filter",
                format!("has more than {MAX_FILTER_TERMS} terms"),
            ));
        }
        let (term, after) = parse_term(rest)?;
        let value_length = term.value.chars().count();
        if value_length > MAX_FILTER_VALUE_CHARS {
            return Err(ApiError::invalid(
                "filter",
                format!(
                    "the value of {} is {value_length} characters long; at most {MAX_FILTER_VALUE_CHARS} are accepted",
                    quote(&term.field)
                ),
            ));
        }
        if !allowed.contains(&term.field.as_str()) {
            return Err(ApiError::invalid(
                "filter",
                format!(
                    "unknown field {}; filterable fields are: {}",
                    quote(&term.field),
                    allowed.join(", ")
                ),
            ));
        }
        terms.push(term);
        rest = after.trim_start();
        if rest.is_empty() {
            break;
        }
        rest = rest
            .strip_prefix("AND")
            .filter(|r| r.starts_with(char::is_whitespace))
            .ok_or_else(|| ApiError::invalid("filter", "terms must be joined with AND"))?
            .trim_start();
        if rest.is_empty() {
            return Err(ApiError::invalid("filter", "a term must follow AND"));
        }
    }
    Ok(terms)
}

fn parse_term(input: &str) -> Result<(Term, &str), ApiError> {
    let field_end = input
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(input.len());
    let field = &input[..field_end];
    if field.is_empty() {
        return Err(ApiError::invalid(
            "filter",
            format!("expected a field name at {:?}", truncate(input)),
        ));
    }
    let rest = input[field_end..].trim_start();
    let (op, rest) = if let Some(r) = rest.strip_prefix('=') {
        (Op::Eq, r)
    } else if let Some(r) = rest.strip_prefix(':') {
        (Op::Has, r)
    } else {
        return Err(ApiError::invalid(
            "filter",
            format!("expected = or : after {}", quote(field)),
        ));
    };
    let rest = rest.trim_start();
    let (value, rest) = if let Some(quoted) = rest.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => break,
                },
                '"' => {
                    end = Some(i + 1);
                    break;
                }
                c => value.push(c),
            }
        }
        let end = end.ok_or_else(|| ApiError::invalid("filter", "unterminated quoted value"))?;
        (value, &quoted[end..])
    } else {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        (rest[..end].to_string(), &rest[end..])
    };
    if value.is_empty() {
        return Err(ApiError::invalid(
            "filter",
            format!("{} needs a value", quote(field)),
        ));
    }
    Ok((
        Term {
            field: field.to_string(),
            op,
            value,
        },
        rest,
    ))
}

fn truncate(s: &str) -> String {
    s.chars().take(20).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_bounded_in_length_terms_and_values() {
        let long = format!("text:{}", "x".repeat(1_000_000));
        let err = parse_filter(&long, &["text"]).expect_err("a megabyte filter");
        assert!(err.to_string().contains("at most 2000"), "{err}");
        let many = vec!["year=2025"; MAX_FILTER_TERMS + 1].join(" AND ");
        let err = parse_filter(&many, &["year"]).expect_err("too many terms");
        assert!(err.to_string().contains("more than 16 terms"), "{err}");
        let value = format!("text:{}", "x".repeat(MAX_FILTER_VALUE_CHARS + 1));
        let err = parse_filter(&value, &["text"]).expect_err("a long value");
        assert!(err.to_string().contains("at most 200"), "{err}");
        let ok = vec!["year=2025"; MAX_FILTER_TERMS].join(" AND ");
        assert_eq!(
            parse_filter(&ok, &["year"]).expect("at the limit").len(),
            MAX_FILTER_TERMS
        );
    }

    #[test]
    fn parses_conjunctions_with_quotes() {
        let terms = parse_filter(
            r#"year = 2025 AND text:"营商 环境" AND level=区"#,
            &["year", "text", "level"],
        )
        .unwrap();
        assert_eq!(terms.len(), 3);
        assert_eq!(terms[1].op, Op::Has);
        assert_eq!(terms[1].value, "营商 环境");
        assert_eq!(terms[2].value, "区");
    }

    #[test]
    fn rejects_unknown_fields_and_bad_syntax() {
        assert!(parse_filter("owner=x", &["year"]).is_err());
        assert!(parse_filter("year=2025 OR year=2024", &["year"]).is_err());
        assert!(parse_filter("year=", &["year"]).is_err());
        assert!(parse_filter(r#"year="2025"#, &["year"]).is_err());
        assert!(parse_filter("year=1 AND", &["year"]).is_err());
        assert!(parse_filter("", &["year"]).unwrap().is_empty());
    }

    #[test]
    fn page_tokens_round_trip_and_bind_the_filter() {
        let token = next_page_token(42, "year=2025");
        assert_eq!(page_start(&token, "year=2025").unwrap(), Some(42));
        assert!(page_start(&token, "year=2024").is_err());
        assert!(page_start("garbage!", "").is_err());
        assert_eq!(page_start("", "").unwrap(), None);
    }

    #[test]
    fn page_size_defaults_and_clamps() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(5000).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(-1).is_err());
    }
}
