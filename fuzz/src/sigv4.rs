//! The `sigv4_verify` harness: a control-plane request as received over HTTP.
//!
//! Input format, `\n`-separated: the method, the raw path, the raw query (an empty line means
//! none), then header lines `name:value` up to the first empty line; everything after that
//! is the body. Header lines whose name or value `http` rejects are skipped (a server never
//! sees them), so a mutation that breaks one header does not waste the whole input.
//!
//! The verifier's clock is fixed at [`NOW`] and [`ACCESS_KEY_ID`] is the only known key,
//! so mutated copies of the [`seeds`] (signed by [`sign`]) get past the date and key checks
//! into header canonicalization and the signature comparison.
//!
//! Self-contained on purpose: the smoke tests include this file with `#[path]`.

use hmac::{Hmac, Mac as _};
use http::{HeaderMap, HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime, macros::datetime};
use troupe_control::sigv4::{SigV4Error, SignedRequest, Verified, verify};

/// The one access key the verifier knows.
pub const ACCESS_KEY_ID: &str = "AKIATROUPEFUZZ000001";
/// Its secret.
pub const SECRET_ACCESS_KEY: &str = "troupe/fuzz/secret+key0123456789abcdefgh";
/// The verifier's clock, and when the seeds were signed.
pub const NOW: OffsetDateTime = datetime!(2026-11-21 11:00:00 UTC);
/// [`NOW`] as `X-Amz-Date`.
pub const AMZ_DATE: &str = "20261121T110000Z";
/// The allowed clock skew, as AWS.
pub const MAX_SKEW: Duration = Duration::minutes(15);

/// An owned request in the shape [`verify`] takes.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The next `\n`-terminated line of `rest` (or all of it), advancing `rest` past it.
fn take_line<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    match rest.iter().position(|&b| b == b'\n') {
        Some(end) => {
            let line = &rest[..end];
            *rest = &rest[end + 1..];
            line
        }
        None => std::mem::take(rest),
    }
}

impl Request {
    /// Reads the input format described in the module docs. Never fails.
    pub fn parse(data: &[u8]) -> Request {
        let mut rest = data;
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let method = text(take_line(&mut rest));
        let path = text(take_line(&mut rest));
        let query = Some(text(take_line(&mut rest))).filter(|q| !q.is_empty());
        let mut headers = HeaderMap::new();
        while !rest.is_empty() {
            let line = take_line(&mut rest);
            if line.is_empty() {
                break;
            }
            let (name, value) = match line.iter().position(|&b| b == b':') {
                Some(colon) => (&line[..colon], &line[colon + 1..]),
                None => (line, &b""[..]),
            };
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
            {
                headers.append(name, value);
            }
        }
        Request { method, path, query, headers, body: rest.to_vec() }
    }

    /// Writes the input format; `Request::parse(&r.encode())` gives back `r`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for line in [&self.method, &self.path, self.query.as_deref().unwrap_or("")] {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out
    }

    /// The borrowed view [`verify`] takes.
    pub fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: &self.method,
            raw_path: &self.path,
            raw_query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }
}

fn secret_for(access_key_id: &str) -> Option<String> {
    (access_key_id == ACCESS_KEY_ID).then(|| SECRET_ACCESS_KEY.to_owned())
}

/// Verifies the request `data` encodes, and renders any error as the server would.
pub fn run(data: &[u8]) -> Result<Verified, SigV4Error> {
    let request = Request::parse(data);
    let result = verify(&request.signed(), secret_for, NOW, MAX_SKEW);
    if let Err(error) = &result {
        let _ = (error.error_type(), error.to_string(), error.http_status());
    }
    result
}

// --- signing the seeds ------------------------------------------------------------------------

const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The canonical URI as the AWS SDKs build it for non-S3 services: the path normalized,
/// each segment encoded once more.
fn canonical_uri(path: &str) -> String {
    let mut segments = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(percent_encode(other.as_bytes(), UNRESERVED).to_string()),
        }
    }
    let mut uri = format!("/{}", segments.join("/"));
    if !segments.is_empty() && path.ends_with('/') {
        uri.push('/');
    }
    uri
}

fn canonical_query(query: &str) -> String {
    let encode = |s: &str| {
        let raw: Vec<u8> = percent_decode(s.as_bytes()).collect();
        percent_encode(&raw, UNRESERVED).to_string()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (encode(k), encode(v))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Signs `request` for `ivs` in `us-west-2` with [`ACCESS_KEY_ID`] at its `x-amz-date`,
/// covering `signed_headers` (lowercase, sorted), and sets `authorization`.
pub fn sign(request: &mut Request, signed_headers: &[&str]) {
    let amz_date = request.headers["x-amz-date"].to_str().unwrap().to_owned();
    let date = &amz_date[..8];
    let mut canonical = format!(
        "{}\n{}\n{}\n",
        request.method,
        canonical_uri(&request.path),
        canonical_query(request.query.as_deref().unwrap_or(""))
    );
    for name in signed_headers {
        let values: Vec<String> = request
            .headers
            .get_all(*name)
            .iter()
            .map(|v| {
                let v = v.to_str().expect("seed headers are ASCII");
                v.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
            })
            .collect();
        canonical.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    canonical.push_str(&format!(
        "\n{}\n{}",
        signed_headers.join(";"),
        hex::encode(Sha256::digest(&request.body))
    ));
    let scope = format!("{date}/us-west-2/ivs/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = format!("AWS4{SECRET_ACCESS_KEY}").into_bytes();
    for part in [date, "us-west-2", "ivs", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/{scope}, SignedHeaders={}, Signature={signature}",
        signed_headers.join(";")
    );
    // First, so that it comes first in the encoded seed and mutations of the other
    // headers and the body leave it intact.
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_str(&authorization).unwrap());
    for (name, value) in &request.headers {
        headers.append(name, value.clone());
    }
    request.headers = headers;
}

fn request(
    method: &str,
    path: &str,
    query: Option<&str>,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Request {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("host", "ivsrealtime.us-west-2.amazonaws.com"),
        ("x-amz-date", AMZ_DATE),
        ("content-type", "application/json"),
    ]
    .iter()
    .chain(extra)
    {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    Request {
        method: method.into(),
        path: path.into(),
        query: query.map(str::to_owned),
        headers,
        body: body.to_vec(),
    }
}

/// Encoded requests: all but the last are correctly signed and verify.
pub fn seeds() -> Vec<Vec<u8>> {
    const TAGS: &str = "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Astage%2FAbCdEf012345";
    let body = br#"{"arn":"arn:aws:ivs:us-west-2:123456789012:stage/AbCdEf012345"}"#;
    let body_hash = hex::encode(Sha256::digest(body));
    let mut seeds = Vec::new();
    let mut add = |mut request: Request, signed: &[&str]| {
        sign(&mut request, signed);
        seeds.push(request.encode());
    };
    add(request("POST", "/GetStage", None, &[], body), &["host", "x-amz-date"]);
    add(
        request(
            "POST",
            "/CreateParticipantToken",
            None,
            &[
                ("x-amz-content-sha256", body_hash.as_str()),
                ("x-amz-user-agent", "  aws-sdk-js/3.0   ua/2.1 \t os/linux "),
            ],
            body,
        ),
        &["content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-user-agent"],
    );
    add(request("GET", TAGS, None, &[], b""), &["host", "x-amz-date"]);
    add(
        request("DELETE", TAGS, Some("tagKeys=b&tagKeys=a%20b&tagKeys=%7E&tagKeys=c+d"), &[], b""),
        &["content-type", "host", "x-amz-date"],
    );
    add(
        request("POST", "/a/./b/../ListStages//", Some("z=&a=1&b=%zz&&=x"), &[], b"{}"),
        &["host", "x-amz-date"],
    );
    add(
        request(
            "POST",
            "/ListStages",
            None,
            &[("x-custom", "one"), ("x-custom", " two  three ")],
            b"",
        ),
        &["host", "x-amz-date", "x-custom"],
    );
    // Unsigned.
    seeds.push(request("POST", "/GetStage", None, &[], body).encode());
    seeds
}

/// Pieces of signed requests worth splicing in.
pub const DICTIONARY: &[&[u8]] = &[
    b"\n",
    b"\n\n",
    b"authorization:",
    b"x-amz-date:",
    b"x-amz-content-sha256:",
    b"host:",
    b"AWS4-HMAC-SHA256 ",
    b"Credential=",
    b"SignedHeaders=",
    b"Signature=",
    b", ",
    b";",
    b"/",
    b"aws4_request",
    b"us-west-2",
    b"ivs",
    b"AKIATROUPEFUZZ000001",
    b"20261121",
    b"20261121T110000Z",
    b"99991231T235959Z",
    b"0000",
    b"%",
    b"%2F",
    b"%25",
    b"%zz",
    b"..",
    b"./",
    b"&",
    b"=",
    b"\t",
    b"\xff",
];
