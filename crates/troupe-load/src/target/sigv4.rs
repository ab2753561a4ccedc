//! AWS Signature Version 4 for the IVS control plane (signing name `ivs`), as the AWS SDKs
//! sign a JSON POST: `content-type`, `host` and `x-amz-date` signed, the body hashed.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, macros::format_description};

pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

/// The `x-amz-date` and `authorization` headers for a POST of `body` to `path`.
pub fn sign(
    creds: &Credentials,
    host: &str,
    path: &str,
    body: &[u8],
    now: OffsetDateTime,
) -> (String, String) {
    let amz_date = now
        .format(format_description!("[year][month][day]T[hour][minute][second]Z"))
        .unwrap_or_default();
    let date = &amz_date[..8.min(amz_date.len())];
    let signed_headers = "content-type;host;x-amz-date";
    let canonical = format!(
        "POST\n{}\n\ncontent-type:application/json\nhost:{host}\nx-amz-date:{amz_date}\n\n{signed_headers}\n{}",
        canonical_path(path),
        hex::encode(Sha256::digest(body))
    );
    let scope = format!("{date}/{}/ivs/aws4_request", creds.region);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{}", creds.secret_access_key).as_bytes(), date.as_bytes());
    for part in [creds.region.as_str(), "ivs", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id
    );
    (amz_date, authorization)
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return Vec::new() };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Each segment URI-encoded (RFC 3986 unreserved left alone), as SigV4 wants for non-S3.
fn canonical_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            segment
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}
