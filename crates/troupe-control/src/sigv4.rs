//! AWS Signature Version 4 verification of control-plane requests.
//!
//! Owns checking the `Authorization: AWS4-HMAC-SHA256 …` header that AWS
//! SDKs and the CLI attach to every IVS API call, and the AWS-style errors
//! for each way it can be wrong. It does not own key storage (the caller
//! passes `secret_for`) nor the HTTP plumbing (the caller builds a
//! [`SignedRequest`] from the request it received).
//!
//! What is checked, in order:
//! 1. an `Authorization` header is present
//!    (else `MissingAuthenticationTokenException`);
//! 2. it parses: algorithm `AWS4-HMAC-SHA256`, `Credential=AKID/yyyymmdd/region/service/aws4_request`,
//!    `SignedHeaders=…` (lowercase, including `host` and `x-amz-date`),
//!    `Signature=<64 hex>`; `X-Amz-Date` is present and well-formed
//!    (else `IncompleteSignatureException`);
//! 3. the scope's date equals the `X-Amz-Date` day, the service is `ivs`,
//!    and `X-Amz-Date` is within `max_skew` of now
//!    (else `InvalidSignatureException`);
//! 4. the access key exists (else `UnrecognizedClientException`);
//! 5. every signed header is present, an `x-amz-content-sha256` header (if
//!    any) matches the body, and the signature matches, compared in
//!    constant time (else `InvalidSignatureException`).
//!
//! The canonical request follows SigV4 for services other than S3, as the
//! AWS JS SDK v3 and botocore build it: the path is normalized (empty and
//! `.` segments dropped, `..` applied) and each segment is URI-encoded once
//! more *as received*, so `/tags/arn%3Aaws…` is canonicalized as
//! `/tags/arn%253Aaws…`; query parameters are decoded, re-encoded per
//! RFC 3986 and sorted; header values are trimmed with inner whitespace
//! runs collapsed; the payload hash is always computed from the body.
//!
//! Over HTTP/2 the authority arrives as `:authority`, not a `host` header:
//! the caller must put it into the [`SignedRequest::headers`] map as `host`.
//! Presigned URLs (query-string authentication) and session tokens are not
//! supported: an `X-Amz-Security-Token` header is treated like any other
//! header.

use std::fmt::Write as _;

use ::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};
use sha2::{Digest, Sha256};
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// The signing name every IVS request must be scoped to.
pub const SERVICE: &str = "ivs";

/// The only signing algorithm accepted.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The scope terminator.
const TERMINATOR: &str = "aws4_request";

/// Characters left alone by SigV4 URI encoding: RFC 3986 unreserved.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

type HmacSha256 = Hmac<Sha256>;

/// The parts of a received request that SigV4 covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The path as received, still percent-encoded, without the query.
    pub raw_path: &'a str,
    /// The query string as received (without `?`), if any.
    pub raw_query: Option<&'a str>,
    /// The request headers. Must contain `host` (see the module docs for HTTP/2).
    pub headers: &'a HeaderMap,
    /// The complete request body.
    pub body: &'a [u8],
}

/// Who signed a request that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key id from the credential scope.
    pub access_key_id: String,
    /// The region from the credential scope (not checked against anything).
    pub region: String,
}

/// Why a request's signature was rejected. Every variant is an HTTP 403;
/// [`SigV4Error::error_type`] gives the AWS error type name and `Display`
/// the AWS-style message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// The `Authorization` header, credential scope or `X-Amz-Date` cannot
    /// be parsed, or `host` / `x-amz-date` are not signed. The message
    /// names the problem.
    #[error("{0}")]
    IncompleteSignature(String),
    /// The access key id is not known.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    /// The signature does not match.
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method."
    )]
    SignatureMismatch,
    /// `X-Amz-Date` is more than the allowed skew in the past.
    #[error(
        "Signature expired: {signed_at} is now earlier than {earliest} ({now} - {skew_minutes} min.)"
    )]
    SignatureExpired {
        /// `X-Amz-Date` as sent.
        signed_at: String,
        /// The earliest acceptable time.
        earliest: String,
        /// The server's time.
        now: String,
        /// The allowed skew, in whole minutes.
        skew_minutes: i64,
    },
    /// `X-Amz-Date` is more than the allowed skew in the future.
    #[error(
        "Signature not yet current: {signed_at} is still later than {latest} ({now} + {skew_minutes} min.)"
    )]
    SignatureNotYetCurrent {
        /// `X-Amz-Date` as sent.
        signed_at: String,
        /// The latest acceptable time.
        latest: String,
        /// The server's time.
        now: String,
        /// The allowed skew, in whole minutes.
        skew_minutes: i64,
    },
    /// The credential scope names another service.
    #[error("Credential should be scoped to correct service: '{expected}'. ")]
    WrongService {
        /// The service this endpoint verifies for (`ivs`).
        expected: String,
        /// The service in the credential scope.
        found: String,
    },
    /// The credential scope's date is not the day of `X-Amz-Date`.
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
         '{scope_date}' != '{header_date}', from '{amz_date}'."
    )]
    ScopeDateMismatch {
        /// The date in the credential scope.
        scope_date: String,
        /// The date part of `X-Amz-Date`.
        header_date: String,
        /// `X-Amz-Date` as sent.
        amz_date: String,
    },
    /// A header listed in `SignedHeaders` is absent from the request.
    #[error("Signed header '{0}' is missing from the request.")]
    MissingSignedHeader(String),
    /// `x-amz-content-sha256` is present and is not the SHA-256 of the body.
    #[error("The request body does not match x-amz-content-sha256.")]
    BodyHashMismatch,
}

impl SigV4Error {
    /// The AWS error type, for the `__type` field / `x-amzn-ErrorType` header.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::IncompleteSignature(_) => "IncompleteSignatureException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
            Self::SignatureMismatch
            | Self::SignatureExpired { .. }
            | Self::SignatureNotYetCurrent { .. }
            | Self::WrongService { .. }
            | Self::ScopeDateMismatch { .. }
            | Self::MissingSignedHeader(_)
            | Self::BodyHashMismatch => "InvalidSignatureException",
        }
    }

    /// The HTTP status: 403 Forbidden for every variant.
    pub fn http_status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }
}

fn incomplete(message: impl Into<String>) -> SigV4Error {
    SigV4Error::IncompleteSignature(message.into())
}

/// Verifies a request signed for the `ivs` service in any region.
///
/// `secret_for` maps an access key id to its secret access key. `now` is
/// the server's time; `max_skew` (AWS uses 15 minutes) bounds how far
/// `X-Amz-Date` may be from it in either direction.
pub fn verify(
    req: &SignedRequest<'_>,
    secret_for: impl Fn(&str) -> Option<String>,
    now: OffsetDateTime,
    max_skew: Duration,
) -> Result<Verified, SigV4Error> {
    verify_for_service(req, secret_for, now, max_skew, SERVICE)
}

/// [`verify`] for an arbitrary signing name, so that AWS's published test
/// vectors (signed for `service`) can exercise the same code.
pub(crate) fn verify_for_service(
    req: &SignedRequest<'_>,
    secret_for: impl Fn(&str) -> Option<String>,
    now: OffsetDateTime,
    max_skew: Duration,
    service: &str,
) -> Result<Verified, SigV4Error> {
    let authorization = single_header(req.headers, "authorization")?
        .ok_or(SigV4Error::MissingAuthenticationToken)?;
    let auth = parse_authorization(authorization)?;

    let amz_date = single_header(req.headers, "x-amz-date")?.ok_or_else(|| {
        incomplete("Authorization header requires existence of a 'X-Amz-Date' header.")
    })?;
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        incomplete(format!(
            "X-Amz-Date must be in the ISO-8601 basic format yyyyMMdd'T'HHmmss'Z', got '{amz_date}'."
        ))
    })?;

    if auth.date != &amz_date[..8] {
        return Err(SigV4Error::ScopeDateMismatch {
            scope_date: auth.date.to_owned(),
            header_date: amz_date[..8].to_owned(),
            amz_date: amz_date.to_owned(),
        });
    }
    if auth.service != service {
        return Err(SigV4Error::WrongService {
            expected: service.to_owned(),
            found: auth.service.to_owned(),
        });
    }
    check_skew(amz_date, signed_at, now, max_skew)?;

    let secret = secret_for(auth.access_key_id).ok_or(SigV4Error::UnrecognizedClient)?;

    let body_hash = hex::encode(Sha256::digest(req.body));
    if let Some(claimed) = single_header(req.headers, "x-amz-content-sha256")?
        && !claimed.eq_ignore_ascii_case(&body_hash)
    {
        return Err(SigV4Error::BodyHashMismatch);
    }
    let canonical = canonical_request(req, &auth.signed_headers, &body_hash)?;
    let scope = format!("{}/{}/{}/{TERMINATOR}", auth.date, auth.region, auth.service);
    let string_to_sign =
        format!("{ALGORITHM}\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(&canonical)));
    let key = signing_key(&secret, auth.date, auth.region, auth.service);
    let mut mac = hmac(&key);
    mac.update(string_to_sign.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&auth.signature).map_err(|_| SigV4Error::SignatureMismatch)?;

    Ok(Verified { access_key_id: auth.access_key_id.to_owned(), region: auth.region.to_owned() })
}

/// The parsed `Authorization` header.
#[derive(Debug)]
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    /// As listed (the order the client signed them in).
    signed_headers: Vec<&'a str>,
    /// The raw 32-byte signature.
    signature: Vec<u8>,
}

/// The one value of header `name` as text; `None` if absent. Several
/// values, or a value that is not visible ASCII, cannot be parsed.
fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, SigV4Error> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(incomplete(format!("Multiple '{name}' headers are not allowed.")));
    }
    value
        .to_str()
        .map(|v| Some(v.trim()))
        .map_err(|_| incomplete(format!("The '{name}' header is not valid ASCII.")))
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, SigV4Error> {
    let (algorithm, rest) =
        header.split_once(|c: char| c.is_ascii_whitespace()).unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported Authorization algorithm; only '{ALGORITHM}' is accepted."
        )));
    }

    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for component in rest.split(',') {
        let component = component.trim();
        if component.is_empty() {
            continue;
        }
        let Some((key, value)) = component.split_once('=') else {
            return Err(incomplete(format!(
                "Authorization header component '{component}' is not a key=value pair."
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => {
                return Err(incomplete(format!(
                    "Unknown Authorization header component '{other}'."
                )));
            }
        };
        if slot.replace(value.trim()).is_some() {
            return Err(incomplete(format!(
                "Authorization header component '{}' appears more than once.",
                key.trim()
            )));
        }
    }
    let missing: Vec<&str> = [
        ("Credential", credential.is_none()),
        ("SignedHeaders", signed_headers.is_none()),
        ("Signature", signature.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    if !missing.is_empty() {
        let message: Vec<String> = missing
            .iter()
            .map(|name| format!("Authorization header requires '{name}' parameter."))
            .collect();
        return Err(incomplete(message.join(" ")));
    }
    let (credential, signed_headers, signature) = (
        credential.unwrap_or_default(),
        signed_headers.unwrap_or_default(),
        signature.unwrap_or_default(),
    );

    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(format!(
            "Credential must have the form <access key id>/<yyyyMMdd>/<region>/<service>/{TERMINATOR}, \
             got '{credential}'."
        )));
    };
    if access_key_id.is_empty() {
        return Err(incomplete("Credential has an empty access key id."));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete(format!("Credential scope date must be yyyyMMdd, got '{date}'.")));
    }
    if region.is_empty()
        || !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(incomplete(format!("Credential scope region is not valid: '{region}'.")));
    }
    if service.is_empty() {
        return Err(incomplete("Credential scope has an empty service."));
    }
    if terminator != TERMINATOR {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        )));
    }

    let signed_headers: Vec<&str> = signed_headers.split(';').collect();
    if let Some(bad) = signed_headers.iter().find(|name| !is_lowercase_token(name)) {
        return Err(incomplete(format!(
            "SignedHeaders must be lowercase header names separated by ';', got '{bad}'."
        )));
    }
    for required in ["host", "x-amz-date"] {
        if !signed_headers.contains(&required) {
            let shown = if required == "host" { "'Host' or ':authority'" } else { "'X-Amz-Date'" };
            return Err(incomplete(format!(
                "{shown} must be a 'SignedHeader' in the AWS Authorization."
            )));
        }
    }

    let signature = match hex::decode(signature) {
        Ok(bytes) if bytes.len() == 32 => bytes,
        _ => {
            return Err(incomplete("Signature must be 64 hexadecimal characters."));
        }
    };

    Ok(Authorization { access_key_id, date, region, service, signed_headers, signature })
}

/// An HTTP token (RFC 9110 `tchar`) without uppercase letters.
fn is_lowercase_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

/// Parses `yyyyMMddTHHmmssZ`.
fn parse_amz_date(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &bytes[range];
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(number(4..6)?).ok()?).ok()?;
    let day = u8::try_from(number(6..8)?).ok()?;
    let hour = u8::try_from(number(9..11)?).ok()?;
    let minute = u8::try_from(number(11..13)?).ok()?;
    let second = u8::try_from(number(13..15)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Formats as `yyyyMMddTHHmmssZ` (UTC).
fn format_amz_date(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn check_skew(
    amz_date: &str,
    signed_at: OffsetDateTime,
    now: OffsetDateTime,
    max_skew: Duration,
) -> Result<(), SigV4Error> {
    let offset = signed_at - now;
    if offset < -max_skew {
        return Err(SigV4Error::SignatureExpired {
            signed_at: amz_date.to_owned(),
            earliest: format_amz_date(now.checked_sub(max_skew).unwrap_or(now)),
            now: format_amz_date(now),
            skew_minutes: max_skew.whole_minutes(),
        });
    }
    if offset > max_skew {
        return Err(SigV4Error::SignatureNotYetCurrent {
            signed_at: amz_date.to_owned(),
            latest: format_amz_date(now.checked_add(max_skew).unwrap_or(now)),
            now: format_amz_date(now),
            skew_minutes: max_skew.whole_minutes(),
        });
    }
    Ok(())
}

/// The SigV4 canonical request, as bytes (header values may be non-UTF-8).
fn canonical_request(
    req: &SignedRequest<'_>,
    signed_headers: &[&str],
    payload_hash: &str,
) -> Result<Vec<u8>, SigV4Error> {
    let mut out = Vec::with_capacity(256 + req.raw_path.len());
    out.extend_from_slice(req.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(req.raw_path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(req.raw_query.unwrap_or("")).as_bytes());
    out.push(b'\n');
    for name in signed_headers {
        let mut values = req.headers.get_all(*name).iter().peekable();
        if values.peek().is_none() {
            return Err(SigV4Error::MissingSignedHeader((*name).to_owned()));
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_collapsed(&mut out, value.as_bytes());
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    Ok(out)
}

/// Appends `value` trimmed, with each run of spaces/tabs collapsed to one space.
fn push_collapsed(out: &mut Vec<u8>, value: &[u8]) {
    let mut first = true;
    for word in value.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
        if !first {
            out.push(b' ');
        }
        out.extend_from_slice(word);
        first = false;
    }
}

/// The canonical URI: the raw path normalized (empty and `.` segments
/// removed, `..` applied) with each segment URI-encoded again.
fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_owned();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in raw_path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let mut out = String::with_capacity(raw_path.len() * 2);
    if raw_path.starts_with('/') {
        out.push('/');
    }
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.extend(percent_encode(segment.as_bytes(), UNRESERVED));
    }
    if !segments.is_empty() && raw_path.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query string: each parameter decoded, re-encoded per
/// RFC 3986, sorted by key then value, joined with `&`.
fn canonical_query(raw_query: &str) -> String {
    let encode = |text: &str| -> String {
        let decoded: Vec<u8> = percent_decode(text.as_bytes()).collect();
        percent_encode(&decoded, UNRESERVED).to_string()
    };
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(key), encode(value))
        })
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(raw_query.len() * 2);
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        let _ = write!(out, "{key}={value}");
    }
    out
}

fn hmac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    HmacSha256::new_from_slice(key).expect("HMAC takes any key length")
}

fn hmac_bytes(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = hmac(key);
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac_bytes(format!("AWS4{secret}").as_bytes(), date);
    let k_region = hmac_bytes(&k_date, region);
    let k_service = hmac_bytes(&k_region, service);
    hmac_bytes(&k_service, TERMINATOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::http::HeaderValue;
    use time::macros::datetime;

    const SUITE_KEY: &str = "AKIDEXAMPLE";
    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_DATE: &str = "20150830T123600Z";
    const SUITE_NOW: OffsetDateTime = datetime!(2015-08-30 12:36:00 UTC);

    const KEY: &str = "AKIATROUPETEST000001";
    const SECRET: &str = "troupe/test/secret+key0123456789abcdefgh";
    const NOW: OffsetDateTime = datetime!(2026-11-21 11:00:00 UTC);
    const AMZ_NOW: &str = "20261121T110000Z";
    const SKEW: Duration = Duration::minutes(15);

    fn suite_secrets(key: &str) -> Option<String> {
        (key == SUITE_KEY).then(|| SUITE_SECRET.to_owned())
    }

    fn secrets(key: &str) -> Option<String> {
        (key == KEY).then(|| SECRET.to_owned())
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                ::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    /// An owned request, so tests can sign and then tamper.
    struct TestRequest {
        method: &'static str,
        path: String,
        query: Option<String>,
        headers: HeaderMap,
        body: Vec<u8>,
    }

    impl TestRequest {
        fn new(method: &'static str, path: &str, query: Option<&str>, body: &[u8]) -> Self {
            let headers = headers(&[
                ("host", "ivsrealtime.us-west-2.amazonaws.com"),
                ("x-amz-date", AMZ_NOW),
                ("content-type", "application/json"),
            ]);
            TestRequest {
                method,
                path: path.to_owned(),
                query: query.map(str::to_owned),
                headers,
                body: body.to_vec(),
            }
        }

        fn as_signed(&self) -> SignedRequest<'_> {
            SignedRequest {
                method: self.method,
                raw_path: &self.path,
                raw_query: self.query.as_deref(),
                headers: &self.headers,
                body: &self.body,
            }
        }

        /// Test-only signer: signs the listed headers (sorted) with `secret`
        /// for `service`, scoped to the date of the `x-amz-date` header.
        fn sign_with(&mut self, key: &str, secret: &str, service: &str, signed: &[&str]) {
            let mut signed: Vec<&str> = signed.to_vec();
            signed.sort_unstable();
            let amz_date = self.headers["x-amz-date"].to_str().unwrap().to_owned();
            let date = &amz_date[..8];
            let region = "us-west-2";
            let body_hash = hex::encode(Sha256::digest(&self.body));
            let canonical = canonical_request(&self.as_signed(), &signed, &body_hash).unwrap();
            let scope = format!("{date}/{region}/{service}/aws4_request");
            let sts = format!(
                "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
                hex::encode(Sha256::digest(&canonical))
            );
            let signature =
                hex::encode(hmac_bytes(&signing_key(secret, date, region, service), &sts));
            let value = format!(
                "AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={}, Signature={signature}",
                signed.join(";")
            );
            self.headers.insert("authorization", HeaderValue::from_str(&value).unwrap());
        }

        fn sign(&mut self) {
            self.sign_with(KEY, SECRET, "ivs", &["content-type", "host", "x-amz-date"]);
        }

        fn verify(&self) -> Result<Verified, SigV4Error> {
            verify(&self.as_signed(), secrets, NOW, SKEW)
        }
    }

    // ---- AWS SigV4 test suite vectors (service "service", us-east-1) ----

    /// Verifies a vector from AWS's published test suite, given the
    /// request as sent and the expected `SignedHeaders` and signature.
    fn suite_vector(
        method: &str,
        path: &str,
        query: Option<&str>,
        extra_headers: &[(&str, &str)],
        signed_headers: &str,
        signature: &str,
    ) -> Result<Verified, SigV4Error> {
        let mut map = headers(&[("host", "example.amazonaws.com"), ("x-amz-date", SUITE_DATE)]);
        for (name, value) in extra_headers {
            map.append(
                ::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders={signed_headers}, Signature={signature}"
        );
        map.insert("authorization", HeaderValue::from_str(&authorization).unwrap());
        let req =
            SignedRequest { method, raw_path: path, raw_query: query, headers: &map, body: b"" };
        verify_for_service(&req, suite_secrets, SUITE_NOW, SKEW, "service")
    }

    #[test]
    fn aws_suite_get_vanilla() {
        let verified = suite_vector(
            "GET",
            "/",
            None,
            &[],
            "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        )
        .expect("get-vanilla verifies");
        assert_eq!(
            verified,
            Verified { access_key_id: "AKIDEXAMPLE".into(), region: "us-east-1".into() }
        );
        // One bit off in the signature fails.
        assert_eq!(
            suite_vector(
                "GET",
                "/",
                None,
                &[],
                "host;x-amz-date",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30",
            ),
            Err(SigV4Error::SignatureMismatch)
        );
    }

    #[test]
    fn aws_suite_get_vanilla_canonical_request() {
        let map = headers(&[("host", "example.amazonaws.com"), ("x-amz-date", SUITE_DATE)]);
        let req = SignedRequest {
            method: "GET",
            raw_path: "/",
            raw_query: None,
            headers: &map,
            body: b"",
        };
        let canonical =
            canonical_request(&req, &["host", "x-amz-date"], &hex::encode(Sha256::digest(b"")))
                .unwrap();
        assert_eq!(
            String::from_utf8(canonical.clone()).unwrap(),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(Sha256::digest(&canonical)),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
    }

    /// A suite vector: name, path, query, extra headers, SignedHeaders, signature.
    type SuiteCase = (
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static [(&'static str, &'static str)],
        &'static str,
        &'static str,
    );

    #[test]
    fn aws_suite_more_vectors() {
        let cases: [SuiteCase; 6] = [
            (
                "post-vanilla",
                "/",
                None,
                &[],
                "host;x-amz-date",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
            (
                "get-vanilla-query-order-key-case",
                "/",
                Some("Param2=value2&Param1=value1"),
                &[],
                "host;x-amz-date",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
            (
                "get-header-value-trim",
                "/",
                None,
                &[("my-header1", " value1"), ("my-header2", "\"a   b   c\"")],
                "host;my-header1;my-header2;x-amz-date",
                "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
            ),
            (
                "get-unreserved",
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                None,
                &[],
                "host;x-amz-date",
                "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
            ),
            (
                "normalize-path/get-special-character",
                "/example/$delete",
                None,
                &[],
                "host;x-amz-date",
                "a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27",
            ),
            (
                // Normalizes to "/", so it carries get-vanilla's signature.
                "normalize-path/get-relative",
                "/example/..",
                None,
                &[],
                "host;x-amz-date",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ];
        for (name, path, query, extra, signed, signature) in cases {
            let method = if name.starts_with("post") { "POST" } else { "GET" };
            assert!(suite_vector(method, path, query, extra, signed, signature).is_ok(), "{name}");
        }
        assert_eq!(
            suite_vector(
                "POST",
                "/",
                None,
                &[("my-header1", "VALUE1")],
                "host;my-header1;x-amz-date",
                "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
            )
            .map(|v| v.access_key_id),
            Ok("AKIDEXAMPLE".to_owned()),
            "post-header-value-case"
        );
    }

    // ---- canonicalization ----

    #[test]
    fn canonical_uri_double_encodes_segments() {
        assert_eq!(
            canonical_uri("/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Astage%2FAbCd"),
            "/tags/arn%253Aaws%253Aivs%253Aus-west-2%253A123456789012%253Astage%252FAbCd"
        );
        assert_eq!(canonical_uri("/CreateStage"), "/CreateStage");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("//a//b/"), "/a/b/");
        assert_eq!(canonical_uri("/a/./b/../c"), "/a/c");
        assert_eq!(canonical_uri("/../.."), "/");
        assert_eq!(canonical_uri("/a b/ሴ"), "/a%20b/%E1%88%B4");
    }

    #[test]
    fn canonical_query_sorts_and_reencodes() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("tagKeys=b&tagKeys=a"), "tagKeys=a&tagKeys=b");
        assert_eq!(canonical_query("b=2&a=1&a"), "a=&a=1&b=2");
        assert_eq!(canonical_query("k=a%20b&k2=x+y&&"), "k=a%20b&k2=x%2By");
        assert_eq!(
            canonical_query("k=%7e%41&u=-_.~"),
            "k=~A&u=-_.~",
            "unreserved characters are decoded"
        );
        assert_eq!(canonical_query("arn=arn:aws:ivs"), "arn=arn%3Aaws%3Aivs");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        let mut out = Vec::new();
        push_collapsed(&mut out, b"  a \t  b   c  ");
        assert_eq!(out, b"a b c");
    }

    #[test]
    fn amz_dates_parse_and_format() {
        assert_eq!(parse_amz_date(AMZ_NOW), Some(NOW));
        assert_eq!(format_amz_date(NOW), AMZ_NOW);
        for bad in [
            "",
            "20261121",
            "20261121T110000",
            "20261121t110000Z",
            "2026-11-21T11:00:00Z",
            "20261321T110000Z",
            "20260230T110000Z",
            "20261121T250000Z",
            "2026112+T110000Z",
            "20261121T11000ሴ",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad:?}");
        }
    }

    // ---- full verification with the test signer ----

    #[test]
    fn valid_post_with_json_body() {
        let mut req = TestRequest::new("POST", "/CreateStage", None, br#"{"name":"demo"}"#);
        req.sign();
        assert_eq!(
            req.verify(),
            Ok(Verified { access_key_id: KEY.into(), region: "us-west-2".into() })
        );
        // A correct x-amz-content-sha256 is fine too, when signed.
        let mut req = TestRequest::new("POST", "/CreateStage", None, br#"{"name":"demo"}"#);
        let hash = hex::encode(Sha256::digest(&req.body));
        req.headers.insert("x-amz-content-sha256", HeaderValue::from_str(&hash).unwrap());
        req.sign_with(KEY, SECRET, "ivs", &["host", "x-amz-content-sha256", "x-amz-date"]);
        assert!(req.verify().is_ok());
    }

    #[test]
    fn wrong_secret_fails() {
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign_with(KEY, "not-the-secret", "ivs", &["host", "x-amz-date"]);
        let error = req.verify().unwrap_err();
        assert_eq!(error, SigV4Error::SignatureMismatch);
        assert_eq!(error.error_type(), "InvalidSignatureException");
        assert_eq!(error.http_status(), StatusCode::FORBIDDEN);
        assert!(error.to_string().starts_with(
            "The request signature we calculated does not match the signature you provided."
        ));
    }

    #[test]
    fn unknown_access_key() {
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign_with("AKIAUNKNOWN", SECRET, "ivs", &["host", "x-amz-date"]);
        let error = req.verify().unwrap_err();
        assert_eq!(error, SigV4Error::UnrecognizedClient);
        assert_eq!(error.error_type(), "UnrecognizedClientException");
        assert_eq!(error.to_string(), "The security token included in the request is invalid.");
    }

    #[test]
    fn tampered_body_fails() {
        let mut req = TestRequest::new("POST", "/DeleteStage", None, br#"{"arn":"a"}"#);
        req.sign();
        req.body = br#"{"arn":"b"}"#.to_vec();
        assert_eq!(req.verify(), Err(SigV4Error::SignatureMismatch));
    }

    #[test]
    fn content_sha256_header_cannot_vouch_for_a_tampered_body() {
        let mut req = TestRequest::new("POST", "/DeleteStage", None, br#"{"arn":"a"}"#);
        let hash = hex::encode(Sha256::digest(&req.body));
        req.headers.insert("x-amz-content-sha256", HeaderValue::from_str(&hash).unwrap());
        req.sign_with(KEY, SECRET, "ivs", &["host", "x-amz-content-sha256", "x-amz-date"]);
        req.body = br#"{"arn":"b"}"#.to_vec();
        let error = req.verify().unwrap_err();
        assert_eq!(error, SigV4Error::BodyHashMismatch);
        assert_eq!(error.error_type(), "InvalidSignatureException");
        assert!(error.to_string().contains("body does not match x-amz-content-sha256"));

        // UNSIGNED-PAYLOAD is not accepted either: the body is always hashed.
        let mut req = TestRequest::new("POST", "/DeleteStage", None, b"{}");
        req.headers.insert("x-amz-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
        req.sign();
        assert_eq!(req.verify(), Err(SigV4Error::BodyHashMismatch));
    }

    #[test]
    fn tampered_signed_header_fails() {
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        req.headers.insert("content-type", HeaderValue::from_static("text/plain"));
        assert_eq!(req.verify(), Err(SigV4Error::SignatureMismatch));

        // Whitespace differences in a signed header value do not matter.
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        req.headers.insert("content-type", HeaderValue::from_static("  application/json  "));
        assert!(req.verify().is_ok());

        // Unsigned headers may change freely.
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        req.headers.insert("user-agent", HeaderValue::from_static("changed"));
        assert!(req.verify().is_ok());

        // A second value for a signed header changes its canonical form.
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        req.headers.append("content-type", HeaderValue::from_static("text/plain"));
        assert_eq!(req.verify(), Err(SigV4Error::SignatureMismatch));
    }

    #[test]
    fn missing_signed_header_is_named() {
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        req.headers.remove("content-type");
        let error = req.verify().unwrap_err();
        assert_eq!(error, SigV4Error::MissingSignedHeader("content-type".into()));
        assert_eq!(error.error_type(), "InvalidSignatureException");
        assert!(error.to_string().contains("content-type"));
    }

    #[test]
    fn host_and_date_must_be_signed() {
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign_with(KEY, SECRET, "ivs", &["content-type", "x-amz-date"]);
        let error = req.verify().unwrap_err();
        assert_eq!(error.error_type(), "IncompleteSignatureException");
        assert!(error.to_string().contains("'Host'"), "{error}");

        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign_with(KEY, SECRET, "ivs", &["content-type", "host"]);
        let error = req.verify().unwrap_err();
        assert_eq!(error.error_type(), "IncompleteSignatureException");
        assert!(error.to_string().contains("'X-Amz-Date'"), "{error}");

        // Signed but absent host.
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        req.headers.remove("host");
        assert_eq!(req.verify(), Err(SigV4Error::MissingSignedHeader("host".into())));

        // Absent x-amz-date.
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        req.headers.remove("x-amz-date");
        assert_eq!(req.verify().unwrap_err().error_type(), "IncompleteSignatureException");
    }

    #[test]
    fn expired_and_future_dates() {
        for (amz_date, expected_prefix) in [
            (
                "20261121T104459Z",
                "Signature expired: 20261121T104459Z is now earlier than 20261121T104500Z (20261121T110000Z - 15 min.)",
            ),
            (
                "20261121T111501Z",
                "Signature not yet current: 20261121T111501Z is still later than 20261121T111500Z (20261121T110000Z + 15 min.)",
            ),
        ] {
            let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
            req.headers.insert("x-amz-date", HeaderValue::from_str(amz_date).unwrap());
            req.sign();
            let error = req.verify().unwrap_err();
            assert_eq!(error.error_type(), "InvalidSignatureException");
            assert_eq!(error.to_string(), expected_prefix);
        }
        // Exactly at the edges is accepted.
        for amz_date in ["20261121T104500Z", "20261121T111500Z"] {
            let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
            req.headers.insert("x-amz-date", HeaderValue::from_str(amz_date).unwrap());
            req.sign();
            assert!(req.verify().is_ok(), "{amz_date}");
        }
    }

    #[test]
    fn scope_date_must_match_amz_date() {
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        let auth =
            req.headers["authorization"].to_str().unwrap().replace("/20261121/", "/20261120/");
        req.headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        let error = req.verify().unwrap_err();
        assert!(matches!(error, SigV4Error::ScopeDateMismatch { .. }));
        assert_eq!(error.error_type(), "InvalidSignatureException");
    }

    #[test]
    fn wrong_service() {
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign_with(KEY, SECRET, "s3", &["host", "x-amz-date"]);
        let error = req.verify().unwrap_err();
        assert_eq!(error, SigV4Error::WrongService { expected: "ivs".into(), found: "s3".into() });
        assert_eq!(error.error_type(), "InvalidSignatureException");
        assert!(error.to_string().contains("'ivs'"));
    }

    #[test]
    fn any_region_is_accepted_and_reported() {
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        let auth = req.headers["authorization"].to_str().unwrap().to_owned();
        assert!(auth.contains("/us-west-2/ivs/"));
        assert_eq!(req.verify().unwrap().region, "us-west-2");
    }

    #[test]
    fn double_encoded_tag_path() {
        let path = "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Astage%2FAbCdEf012345";
        let mut req = TestRequest::new("GET", path, None, b"");
        req.sign();
        assert!(req.verify().is_ok());

        // The same ARN sent undecoded is a different canonical URI.
        let mut other = TestRequest::new(
            "GET",
            "/tags/arn:aws:ivs:us-west-2:123456789012:stage%2FAbCdEf012345",
            None,
            b"",
        );
        other.headers = req.headers.clone();
        assert_eq!(other.verify(), Err(SigV4Error::SignatureMismatch));

        // Proof by hand: a client that single-encodes the path (S3 style)
        // produces a signature we reject.
        let canonical_single = format!(
            "GET\n{path}\n\ncontent-type:application/json\nhost:ivsrealtime.us-west-2.amazonaws.com\n\
             x-amz-date:{AMZ_NOW}\n\ncontent-type;host;x-amz-date\n{}",
            hex::encode(Sha256::digest(b""))
        );
        let sts = format!(
            "AWS4-HMAC-SHA256\n{AMZ_NOW}\n20261121/us-west-2/ivs/aws4_request\n{}",
            hex::encode(Sha256::digest(canonical_single.as_bytes()))
        );
        let signature =
            hex::encode(hmac_bytes(&signing_key(SECRET, "20261121", "us-west-2", "ivs"), &sts));
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, Signature={signature}"
        );
        let mut single = TestRequest::new("GET", path, None, b"");
        single.headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        assert_eq!(single.verify(), Err(SigV4Error::SignatureMismatch));

        // ...while the same by-hand computation with the double-encoded
        // path verifies: the test signer is not hiding a shared bug.
        let canonical_double = canonical_single.replace(
            path,
            "/tags/arn%253Aaws%253Aivs%253Aus-west-2%253A123456789012%253Astage%252FAbCdEf012345",
        );
        let sts = format!(
            "AWS4-HMAC-SHA256\n{AMZ_NOW}\n20261121/us-west-2/ivs/aws4_request\n{}",
            hex::encode(Sha256::digest(canonical_double.as_bytes()))
        );
        let signature =
            hex::encode(hmac_bytes(&signing_key(SECRET, "20261121", "us-west-2", "ivs"), &sts));
        let auth = auth.replace(&auth[auth.len() - 64..], &signature);
        single.headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        assert!(single.verify().is_ok());
    }

    #[test]
    fn repeated_query_keys() {
        let mut req = TestRequest::new(
            "DELETE",
            "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Astage%2FAbCd",
            Some("tagKeys=b&tagKeys=a"),
            b"",
        );
        req.sign();
        assert!(req.verify().is_ok());
        // Reordering the parameters does not change the canonical form...
        req.query = Some("tagKeys=a&tagKeys=b".into());
        assert!(req.verify().is_ok());
        // ...but changing a value does.
        req.query = Some("tagKeys=a&tagKeys=c".into());
        assert_eq!(req.verify(), Err(SigV4Error::SignatureMismatch));
        // Dropping one too.
        req.query = Some("tagKeys=a".into());
        assert_eq!(req.verify(), Err(SigV4Error::SignatureMismatch));
    }

    #[test]
    fn tampered_method_or_path_fails() {
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        req.method = "PUT";
        assert_eq!(req.verify(), Err(SigV4Error::SignatureMismatch));
        req.method = "POST";
        req.path = "/DeleteStage".into();
        assert_eq!(req.verify(), Err(SigV4Error::SignatureMismatch));
    }

    #[test]
    fn missing_authorization() {
        let req = TestRequest::new("POST", "/GetStage", None, b"{}");
        let error = req.verify().unwrap_err();
        assert_eq!(error, SigV4Error::MissingAuthenticationToken);
        assert_eq!(error.error_type(), "MissingAuthenticationTokenException");
        assert_eq!(error.to_string(), "Missing Authentication Token");
        assert_eq!(error.http_status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn garbage_authorization_headers_are_incomplete() {
        let good_sig = "0".repeat(64);
        let cases = [
            String::new(),
            "Bearer abc".into(),
            "AWS4-HMAC-SHA256".into(),
            "AWS4-HMAC-SHA256 ".into(),
            "AWS4-HMAC-SHA256 Credential".into(),
            "AWS4-HMAC-SHA256 Credential=a/b".into(),
            format!("AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws4_request"),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws4_request, SignedHeaders=host;x-amz-date"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature=xyz"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
                "0".repeat(62)
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/2026112/us-west-2/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature={good_sig}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws5_request, SignedHeaders=host;x-amz-date, Signature={good_sig}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential=/20261121/us-west-2/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature={good_sig}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/20261121/US_WEST/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature={good_sig}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws4_request/extra, SignedHeaders=host;x-amz-date, Signature={good_sig}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws4_request, SignedHeaders=Host;X-Amz-Date, Signature={good_sig}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws4_request, SignedHeaders=host;;x-amz-date, Signature={good_sig}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws4_request, Credential={KEY}/20261121/us-west-2/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature={good_sig}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/20261121/us-west-2/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature={good_sig}, Extra=1"
            ),
            format!(
                "AWS4-HMAC-SHA1 Credential={KEY}/20261121/us-west-2/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature={good_sig}"
            ),
        ];
        for authorization in cases {
            let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
            req.headers.insert("authorization", HeaderValue::from_str(&authorization).unwrap());
            match req.verify() {
                Err(SigV4Error::IncompleteSignature(message)) => {
                    assert!(!message.is_empty(), "{authorization:?}")
                }
                other => panic!("{authorization:?}: {other:?}"),
            }
        }

        // A well-formed header over a malformed X-Amz-Date.
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        req.headers.insert("x-amz-date", HeaderValue::from_static("2026-11-21T11:00:00Z"));
        assert_eq!(req.verify().unwrap_err().error_type(), "IncompleteSignatureException");

        // Two Authorization headers.
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.sign();
        let auth = req.headers["authorization"].clone();
        req.headers.append("authorization", auth);
        assert_eq!(req.verify().unwrap_err().error_type(), "IncompleteSignatureException");
    }

    #[test]
    fn random_authorization_headers_never_panic() {
        // A small deterministic generator: no extra dependencies.
        let mut state: u64 = 0x5157_0a11_c0ff_ee00;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut good = TestRequest::new("POST", "/GetStage", Some("a=1&b=%zz&&=x"), b"{}");
        good.sign();
        let template = good.headers["authorization"].to_str().unwrap().to_owned();
        let alphabet =
            b"AWS4-HMAC-SHA256 Credential=/,;SignedHeaders=Signature=0123456789abcdef \t%=x";
        for round in 0..5000 {
            let mut bytes = if round % 2 == 0 { template.clone().into_bytes() } else { Vec::new() };
            for _ in 0..(next() % 12) {
                let choice = next();
                let byte = alphabet[(choice >> 8) as usize % alphabet.len()];
                if bytes.is_empty() || choice % 3 == 0 {
                    bytes.push(byte);
                } else {
                    let at = (choice >> 16) as usize % bytes.len();
                    if choice % 3 == 1 {
                        bytes[at] = byte;
                    } else {
                        bytes.truncate(at);
                    }
                }
            }
            let Ok(value) = HeaderValue::from_bytes(&bytes) else {
                continue;
            };
            let mut req = TestRequest::new("POST", "/GetStage", Some("a=1&b=%zz&&=x"), b"{}");
            req.headers.insert("authorization", value);
            let _ = req.verify();
        }
        // Non-ASCII (obs-text) bytes in the header are rejected, not a panic.
        let mut req = TestRequest::new("POST", "/GetStage", None, b"{}");
        req.headers.insert(
            "authorization",
            HeaderValue::from_bytes(b"AWS4-HMAC-SHA256 Credential=\xff").unwrap(),
        );
        assert_eq!(req.verify().unwrap_err().error_type(), "IncompleteSignatureException");
    }

    #[test]
    fn error_types_and_status() {
        let cases = [
            (SigV4Error::MissingAuthenticationToken, "MissingAuthenticationTokenException"),
            (SigV4Error::IncompleteSignature("x".into()), "IncompleteSignatureException"),
            (SigV4Error::UnrecognizedClient, "UnrecognizedClientException"),
            (SigV4Error::SignatureMismatch, "InvalidSignatureException"),
            (SigV4Error::BodyHashMismatch, "InvalidSignatureException"),
            (SigV4Error::MissingSignedHeader("a".into()), "InvalidSignatureException"),
        ];
        for (error, error_type) in cases {
            assert_eq!(error.error_type(), error_type);
            assert_eq!(error.http_status(), StatusCode::FORBIDDEN);
        }
    }
}
