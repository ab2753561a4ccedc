//! Reading request bodies and the checks shared by many operations. Every message names the
//! request member at fault, because that is what a developer needs to fix their call.

use serde::{Deserialize, de::DeserializeOwned};
use troupe_store::StringMap;

use crate::error::{ApiError, ApiResult};

/// Parses a JSON body into an operation's request type. An empty body reads as `{}` (the SDKs
/// send no body for operations without members). Type errors name the member's path.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    // serde would also read a struct from a JSON array; the API takes objects only.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::validation("request body must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::validation(format!("request body is not valid JSON: {inner}"))
        } else if path == "." {
            ApiError::validation(format!("request body: {inner}"))
        } else {
            ApiError::validation(format!("{path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|err| ApiError::validation(format!("request body is not valid JSON: {err}")))?;
    Ok(value)
}

/// The request of operations that name one resource by `arn` (Get*, Delete*).
#[derive(Deserialize)]
pub struct ArnRequest {
    pub arn: Option<String>,
}

/// The request of listings without filters (ListStages, ListPublicKeys).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRequest {
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

/// Requires a member to be present.
pub fn required<'a, T>(value: &'a Option<T>, field: &str) -> ApiResult<&'a T> {
    value.as_ref().ok_or_else(|| ApiError::validation(format!("{field} is required")))
}

/// Resource names (stages, public keys): up to 128 of `[a-zA-Z0-9-_]`, as in the IVS model.
pub fn check_name(name: &str, field: &str) -> ApiResult<()> {
    if name.chars().count() > 128 {
        return Err(ApiError::validation(format!("{field} must be at most 128 characters")));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(ApiError::validation(format!(
            "{field} may contain only letters, digits, '-' and '_' (found {bad:?})"
        )));
    }
    Ok(())
}

/// S3 bucket names (storage and recording configurations): 3 to 63 of `[a-z0-9.-]` as in the
/// IVS model, plus S3's own rules (a letter or digit at each end, no `..`, not an IPv4
/// address), which also keep the name safe as a directory name.
pub fn check_bucket_name(name: &str, field: &str) -> ApiResult<()> {
    let bad = |why: &str| ApiError::validation(format!("{field}: {name:?} {why}"));
    if !(3..=63).contains(&name.len()) {
        return Err(bad("must be 3 to 63 characters"));
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err(bad("may contain only lowercase letters, digits, '.' and '-'"));
    }
    let alnum = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    if !alnum(name.as_bytes().first()) || !alnum(name.as_bytes().last()) {
        return Err(bad("must begin and end with a letter or digit"));
    }
    if name.contains("..") {
        return Err(bad("must not contain two periods in a row"));
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(bad("must not look like an IP address"));
    }
    Ok(())
}

/// Free text with a length limit (user ids, reasons).
pub fn check_len(value: &str, max: usize, field: &str) -> ApiResult<()> {
    if value.chars().count() > max {
        return Err(ApiError::validation(format!("{field} must be at most {max} characters")));
    }
    Ok(())
}

/// Participant ids: 1 to 64 of `[a-zA-Z0-9-]`.
pub fn check_participant_id(id: &str, field: &str) -> ApiResult<()> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiError::validation(format!(
            "{field} must be 1 to 64 characters of letters, digits and '-'"
        )));
    }
    Ok(())
}

/// Session ids: `st-` and alphanumerics, 16 characters in all.
pub fn check_session_id(id: &str, field: &str) -> ApiResult<()> {
    let ok = id.len() == 16
        && id.starts_with("st-")
        && id.bytes().skip(3).all(|b| b.is_ascii_alphanumeric());
    if !ok {
        return Err(ApiError::validation(format!(
            "{field}: {id:?} is not a stage session id (st- and 13 letters or digits)"
        )));
    }
    Ok(())
}

/// Tags as AWS accepts them: at most `max` (50), keys 1–128 characters not starting with
/// `aws:`, values up to 256 characters.
pub fn check_tags(tags: &StringMap, max: usize, field: &str) -> ApiResult<()> {
    if tags.len() > max {
        return Err(ApiError::validation(format!("{field} may hold at most {max} tags")));
    }
    for (key, value) in tags {
        check_tag_key(key, field)?;
        if value.chars().count() > 256 {
            return Err(ApiError::validation(format!(
                "{field}: the value of tag {key:?} must be at most 256 characters"
            )));
        }
    }
    Ok(())
}

pub fn check_tag_key(key: &str, field: &str) -> ApiResult<()> {
    let len = key.chars().count();
    if len == 0 || len > 128 {
        return Err(ApiError::validation(format!(
            "{field}: tag keys must be 1 to 128 characters (got {key:?})"
        )));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(ApiError::validation(format!(
            "{field}: tag keys starting with \"aws:\" are reserved (got {key:?})"
        )));
    }
    Ok(())
}

/// The size IVS limits attributes by: keys and values together, in bytes.
pub fn attributes_size(attributes: &StringMap) -> usize {
    attributes.iter().map(|(k, v)| k.len() + v.len()).sum()
}

/// Participant attributes: the keys and values together must fit in `max_bytes` (1 KB).
pub fn check_attributes(attributes: &StringMap, max_bytes: usize, field: &str) -> ApiResult<()> {
    let size = attributes_size(attributes);
    if size > max_bytes {
        return Err(ApiError::validation(format!(
            "{field} total {size} bytes; keys and values together must be at most {max_bytes} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Req {
        name: Option<String>,
        max_results: Option<i64>,
        inner: Option<Vec<Inner>>,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        duration: Option<i64>,
    }

    #[test]
    fn errors_name_the_member() {
        let err = parse_body::<Req>(br#"{"name": 5}"#).unwrap_err();
        assert!(err.message.starts_with("name:"), "{}", err.message);
        let err = parse_body::<Req>(br#"{"inner": [{"duration": "x"}]}"#).unwrap_err();
        assert!(err.message.starts_with("inner[0].duration:"), "{}", err.message);
        let err = parse_body::<Req>(br#"{"name": "a""#).unwrap_err();
        assert!(err.message.contains("not valid JSON"), "{}", err.message);
        let err = parse_body::<Req>(br#"[1]"#).unwrap_err();
        assert!(err.message.starts_with("request body"), "{}", err.message);
        let err = parse_body::<Req>(br#"{} {}"#).unwrap_err();
        assert!(err.message.contains("not valid JSON"), "{}", err.message);
        assert!(parse_body::<Req>(b"").is_ok());
        assert!(parse_body::<Req>(br#"{"unknownMember": true}"#).is_ok());
    }

    #[test]
    fn names_and_tags() {
        assert!(check_name("my-stage_1", "name").is_ok());
        assert!(check_name("has space", "name").is_err());
        assert!(check_name(&"a".repeat(129), "name").is_err());
        let mut tags = StringMap::new();
        tags.insert("aws:x".into(), "v".into());
        assert!(check_tags(&tags, 50, "tags").is_err());
        let many: StringMap = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(check_tags(&many, 50, "tags").is_err());
        assert!(check_session_id("st-abcdefghijklm", "sessionId").is_ok());
        assert!(check_session_id("st-abc", "sessionId").is_err());
    }

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-recordings.2024", &"a".repeat(63)] {
            assert!(check_bucket_name(ok, "s3.bucketName").is_ok(), "{ok}");
        }
        for bad in ["ab", "Upper", "a_b", "-abc", "abc.", "a..b", "192.168.1.1", "../etc", "a/b"] {
            let err = check_bucket_name(bad, "s3.bucketName").unwrap_err();
            assert!(err.message.starts_with("s3.bucketName"), "{bad}: {}", err.message);
        }
    }
}
